#!/usr/bin/env bash
# Mutation testing of the core folders with dotnet-stryker (a local dotnet tool, .config/dotnet-tools.json).
# Stryker breaks the product on purpose, one change at a time (a flipped comparison, a removed call, an emptied string),
# and runs the tests of that folder against each broken build: a mutant no test notices is a test missing.
# Too slow for CI: run it by hand, one folder at a time, and put the score in README ("Mutation testing").
#
# Usage: bench/mutation.sh [FOLDER…]       (no folder: all of them, smallest first)
#   FOLDER is one of the names in the table below. Reports go to .build/mutation/<folder>/ (html, json, markdown).
#   A+B runs A's and B's files under A's and B's tests in one Stryker run (one compile of the mutants, which is most
#   of a run's time); the json report holds each file's mutants, so each part's score is still its own.
# Stryker overwrites the test project's copy of RdBridge.Core.dll while it runs, so it works on a copy of the tree in
# a temporary folder: the working tree's build stays usable, and two runs never share one output folder.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# folder name -> "files to mutate (relative to src/RdBridge.Core)|test-case filter (the SQLite-side unit tests)"
t=FullyQualifiedName~RdBridge.Tests
v=$t.Verify.VerifyReportMutantTests
declare -A plan=(
  [PathMap]="Configuration/PathMap.cs|$t.Configuration.PathMap|$t.Configuration.AmbiguousPathMapTests"
  [SafeExtractor]="Assets/SafeExtractor.cs|$t.Assets.SafeExtractor|$t.Assets.WindowsNamesTests"
  [Backtests]="Backtests/*.cs|$t.Pickles.BacktestReport|$t.Compare.BacktestCurveTests"
  [Metadata]="Metadata/*.cs|$t.Metadata.MetadataFieldTests|$t.Metadata.PythonNamesTests"
  [Verify]="Verify/*.cs|($t.Verify.ChecklistTests&FullyQualifiedName!~A_check_counts_every)"
  # Parts of Catalogs and Store whose tests are fast enough to score on a loaded machine (the whole folders' tests run
  # `init` or wait out lock timeouts for every mutant). Files are separated by commas.
  [CatalogsRead]="Catalogs/CatalogReader.cs,Catalogs/OversizedRecord.cs|$t.Catalogs.CatalogReaderTests"
  [StoreImport]="Store/CatalogImport.cs,Store/LoopEntries.cs|$t.Store.CatalogImportTests"
  # The part of Verify that holds no sample: the report, its coverage, the problem list and the kept last run. The
  # checklist's own tests (ChecklistTests, GuideMessagesTests, …) run init on a synced sample for every mutant.
  [VerifyReport]="Verify/Checklist.cs,Verify/Check.cs,Verify/ProblemList.cs,Verify/LastChecklistRun.cs|$v"
  # Metadata's JSON helpers and the five-file reader, under the pure C# MetadataFieldTests alone.
  [MetadataJson]="Metadata/MetadataJson.cs,Metadata/WorkspaceMetadata.cs|$t.Metadata.MetadataFieldTests"
)
plan[PathMap]+="|$t.Safety.ContainmentTests"
plan[SafeExtractor]+="|$t.Safety.AnnouncedSizeTests.A_gzip_bomb|$t.Safety.AnnouncedSizeTests.Verifying"
# The refusals of repeated, out-of-order and too many dates are tested where backfill meets them. BacktestReport
# matches BacktestReportExactTests too (numpy's sums, every json column). BacktestCurveBackfillTests is left out: each
# of its tests builds a sample, and every mutant of BacktestReport.cs would run them.
plan[Backtests]+="|$t.Backfill.CurveDatesTests|$t.Pickles.BacktestMutantTests"
plan[Backtests]+="|$t.Backfill.CurveRowBoundsTests.Curve_rows_one_row_over_the_limit"
# Verify's checks on a copy of the synced sample (kept between test hosts, see RDBRIDGE_TEST_SAMPLE_CACHE below) and
# its report; left out: the tests that run init on a sample of their own (LastChecklistRunTests,
# HostileTaskRunIdTests, ChecklistTests.A_check_counts_every_broken_loop…) and GuideMessagesTests' import cases.
plan[Verify]+="|$t.Verify.GuideMessagesTests.Verify_|$t.Verify.IncrementalSyncCheckTests|$v|$t.Verify.VerifyDetailTests"
# Metadata's own tests (MetadataFieldTests, PythonNamesTests) read and write every field of its records directly.
# Backfill's and the stage tests also cover them, but each builds a sample: with them in the filter (54 tests) a run on
# 2026-12-06 tested about 8 tests a minute against 277 mutants, hours on this machine, so they are left out.
# MetadataMutantTests and the two MetadataFileTests cases below build no sample (a folder of hand-written files).
plan[Metadata]+="|$t.Metadata.MetadataMutantTests|$t.Metadata.MetadataFileTests.A_metadata_file_that_is_not"
plan[Metadata]+="|$t.Metadata.MetadataFileTests.A_field_of_the_wrong_type"
plan[CatalogsRead]+="|$t.Store.ImportContractTests"
# Discovery's log reading (values out of pickles, the folder tree, the bounded walk, the listings) under the tests that
# build a log folder by hand; DiscoverStage, LoopReader and LoopTexts are left to the end-to-end tests, which run
# CPython and `discover` for every mutant.
plan[DiscoveryLog]="Discovery/LogValues.cs,Discovery/LogTree.cs,Discovery/LogWalk.cs,Discovery/LogListings.cs"
plan[DiscoveryLog]+=",Discovery/LogPickle.cs|$t.Discovery.LogValuesTests|$t.Discovery.LogTreeTests"
plan[DiscoveryLog]+="|$t.Discovery.LogWalkTests|$t.Discovery.LogListingsTests|$t.Discovery.FutureDatedPickleTests"
plan[DiscoveryLog]+="|$t.Discovery.DiscoveryMutantTests"
# The answers of the catalog pages and the task-run index (the API's and the UI's queries), on SQLite;
# SampledCountMutantTests reads the plans of the count and the page (three mutants of the page's filter choice).
plan[StoreQuery]="Store/CatalogQuery.cs,Store/MatchCounts.cs,Store/TaskRunQuery.cs|(($t.Store.QueryPlanChoiceTests"
plan[StoreQuery]+="|$t.Store.SearchIndexTests|$t.Store.ResearchTextColumnsTests|$t.Store.SqliteBulkImportTests"
plan[StoreQuery]+="|$t.Store.StoreQueryMutantTests|$t.Store.SampledCountMutantTests)&DisplayName!~postgres)"
# Which loops found each factor: the provenance file, its import and the table's migration, on SQLite. The two
# FactorProvenanceTests that run `init` on a sample (3.5 minutes for the four under load) are left out.
plan[Provenance]="Catalogs/ProvenanceFile.cs,Store/ProvenanceImport.cs,Store/ProvenanceTable.cs"
plan[Provenance]+="|(($t.Store.FactorProvenanceTests.An_old_catalog|$t.Store.FactorProvenanceTests.Migrating"
plan[Provenance]+="|$t.Store.ProvenanceMutantTests)&DisplayName!~postgres)"
plan[StoreImport]+="|$t.Store.ImportContractTests|($t.Store.LoopWorkspacesImportTests&DisplayName!~postgres)"
# Every file of Catalogs under the tests that build their catalogs by hand and run in-process (no sample, no `init`):
# the reader, the import contract, the provenance file, and CatalogMutantTests, which call the exporter, the factor
# aggregation and the strategy library writer directly on workspaces written by the test.
c=$t.Catalogs
plan[Catalogs]="Catalogs/*.cs|(($c.CatalogReaderTests|$c.JsonContextTests|$c.StrategyLibraryTests|$c.CatalogMutantTests"
plan[Catalogs]+="|$c.CatalogFieldReachTests.Every_name_of_the_fields|$t.Store.ImportContractTests"
plan[Catalogs]+="|$t.Store.CatalogImportTests|$t.Store.ProvenanceMutantTests)&DisplayName!~postgres)"
# Every file of Discovery under the tests that build a log folder by hand (DiscoveryLog's) and LoopReaderTests, which
# read loops of a log written by the test straight through LoopReader, LoopTexts and DiscoverStage: no CPython, no
# `discover` process. The end-to-end tests (DiscoveryTests, LoggedTextsTests, …) run CPython for every mutant.
plan[Discovery]="Discovery/*.cs|${plan[DiscoveryLog]#*|}|$t.Discovery.LoopReaderTests"
plan[Discovery]+="|$t.Discovery.LoopTextsMutantTests|$t.Discovery.DiscoverStageMutantTests"
# Every file of Store under its SQLite-side tests that take seconds, not minutes, on a loaded machine: each survivor
# runs every test that covers it, and a Store mutant is covered by nearly every test. Left out: the tests that run
# `init` on a sample (BadCatalogRecordTests, BundlePathViewTests, CatalogShapeTests, QueryPlanTests, two
# FactorProvenanceTests), wait out a lock timeout (DatabaseLockedTests, the second sync's wait), or take 10 to 40 s
# each (QueryPlanChoiceTests, PayloadColumnsTests, SqliteBulkImportTests, the 10,100-loop count, the inline-provenance
# import), and every PostgreSQL case (no server in the run): the PostgreSQL-only code (PostgresAistockStore.cs, the
# PostgreSQL branches of the queries) counts as no coverage.
s=RdBridge.Tests.Store
plan[Store]="Store/*.cs|(FullyQualifiedName~$s&DisplayName!~postgres&FullyQualifiedName!~$s.DatabaseLockedTests"
plan[Store]+="&FullyQualifiedName!~$s.BadCatalogRecordTests&FullyQualifiedName!~$s.BundlePathViewTests"
plan[Store]+="&FullyQualifiedName!~$s.CatalogShapeTests&FullyQualifiedName!~$s.QueryPlanTests."
plan[Store]+="&FullyQualifiedName!~$s.FactorProvenanceTests.The_&FullyQualifiedName!~$s.FactorProvenanceTests.A_"
plan[Store]+="&FullyQualifiedName!~$s.FactorProvenanceTests.An_old&FullyQualifiedName!~$s.QueryPlanChoiceTests"
plan[Store]+="&FullyQualifiedName!~$s.PayloadColumnsTests&FullyQualifiedName!~$s.SqliteBulkImportTests"
plan[Store]+="&FullyQualifiedName!~Past_ten_thousand&FullyQualifiedName!~A_second_sync_waits_a_bounded_time"
plan[Store]+="&FullyQualifiedName!~A_bulk_first_import_builds_the_indexes_after_the_copy)"
# Store in three parts under the Store plan's tests, for a machine that cannot give the whole folder its hours in
# one go (Stryker writes its report only at the end: a whole-folder run stopped unfinished leaves nothing). Together
# with StoreQuery's files and StorePostgres they are every file of the folder.
plan[StoreDb]="Store/DbAistockStore.cs,Store/DbAistockStore.Imports.cs,Store/DbAistockStore.Provenance.cs"
plan[StoreDb]+=",Store/DbAistockStore.RegistryViews.cs,Store/DbAistockStore.SyncHistory.cs"
plan[StoreDb]+=",Store/SqliteAistockStore.cs,Store/IdSpool.cs|${plan[Store]#*|}"
plan[StoreSchema]="Store/StoreSchema.cs,Store/StoreSchema.Trigrams.cs,Store/CatalogTables.cs,Store/IAistockStore.cs"
plan[StoreSchema]+=",Store/ImportStage.cs"
plan[StoreSchema]+="|${plan[Store]#*|}"
plan[StoreRows]="Store/CatalogImport.cs,Store/LoopEntries.cs,Store/ProvenanceImport.cs,Store/ProvenanceTable.cs"
plan[StoreRows]+=",Store/CatalogQuery.Counts.cs|${plan[Store]#*|}"
# The PostgreSQL store's own file under the PostgreSQL cases of the same tests, on a throwaway server this script
# starts as ./test.sh does (scripts/postgres.sh): the Store plan above has no server, so every mutant of
# PostgresAistockStore.cs counts there as no coverage. The PostgreSQL branches of the shared files (the queries, the
# schema) stay with the Store plan, where the SQLite cases cover most of the lines they sit in.
plan[StorePostgres]="Store/PostgresAistockStore.cs|${plan[Store]#*|}"
plan[StorePostgres]="${plan[StorePostgres]/DisplayName!~postgres/DisplayName~postgres}"
# The PostgreSQL-only branches of three shared files (the sampled count's estimates, the provenance table's types and
# migration, an import meeting another's rows): the StoreRows plan runs them under SQLite cases, which never reach them.
plan[StoreRowsPostgres]="Store/CatalogQuery.Counts.cs,Store/ProvenanceTable.cs,Store/CatalogImport.cs"
plan[StoreRowsPostgres]+="|${plan[StorePostgres]#*|}"
# StoreSchema.cs's PostgreSQL branches (the column types, the trigram indexes, the table-version trigger, the migrations
# of old rows) under the PostgreSQL cases: the StoreSchema plan runs SQLite cases only, which never reach them.
plan[StoreSchemaPostgres]="Store/StoreSchema.cs,Store/StoreSchema.Trigrams.cs|${plan[StorePostgres]#*|}"
# The PostgreSQL side of the catalog pages: the same three files under the same tests' PostgreSQL cases (the plans a
# page runs there, its ILIKE and trigram choices, the count's own settings), which the StoreQuery plan never reaches.
plan[StoreQueryPostgres]="${plan[StoreQuery]/DisplayName!~postgres/DisplayName~postgres}"
order=(PathMap SafeExtractor Backtests Metadata Verify Discovery Catalogs Store StorePostgres)
[ $# -gt 0 ] && order=("$@")

cd "$here"
dotnet tool restore >/dev/null
work="$(mktemp -d /tmp/rdbridge-mutation.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# The tree as it is now (uncommitted tests included), without build output; ../shared beside it as beside this one.
mkdir "$work/tree"
tar -C "$here" --exclude=./.git --exclude='*/bin' --exclude='*/obj' --exclude=./.build --exclude=TestResults \
  -cf - . | tar -C "$work/tree" -xf -
[ -d "$here/../shared" ] && ln -s "$(cd "$here/../shared" && pwd -P)" "$work/shared"
# Each mutant runs its tests again, and a test that has CPython + pandas write its pickles takes a second or more for
# that alone: the tests' RealPandas keeps what each script printed and wrote, keyed by the script and its input files.
export RDBRIDGE_TEST_PANDAS_CACHE="$work/pandas-cache"
mkdir "$RDBRIDGE_TEST_PANDAS_CACHE"
# Likewise the Verify tests' synced sample (init on a generated sample), kept after the first test host built it.
export RDBRIDGE_TEST_SAMPLE_CACHE="$work/sample-cache"
mkdir "$RDBRIDGE_TEST_SAMPLE_CACHE"

# A part whose tests are the PostgreSQL cases gets a server of its own for the run, stopped on exit.
for folder in "${order[@]}"; do
  case "$folder" in *Postgres*)
    if [ -z "${PGTEST_SERVER:-}" ]; then
      source "$here/scripts/postgres.sh"
      pg_temp_start >/dev/null
      trap 'pg_temp_stop; rm -rf "$work"' EXIT
    fi ;;
  esac
done

for folder in "${order[@]}"; do
  mutate=""; filter=""
  IFS=+ read -ra parts <<< "$folder"
  for part in "${parts[@]}"; do
    entry="${plan[$part]:-}"
    [ -n "$entry" ] || { echo "unknown folder '$part'; one of: ${!plan[*]}" >&2; exit 2; }
    mutate+="${mutate:+,}${entry%%|*}"
    filter+="${filter:+|}(${entry#*|})"
  done
  mutates=()
  IFS=, read -ra files <<< "$mutate"
  for f in "${files[@]}"; do mutates+=(--mutate "**/$f"); done
  out="$here/.build/mutation/$folder"
  rm -rf "$out"; mkdir -p "$out"
  echo "== $folder: mutating src/RdBridge.Core/$mutate, tests: $filter" >&2
  ( cd "$work/tree/tests/RdBridge.Tests" &&
    dotnet tool run dotnet-stryker --project RdBridge.Core.csproj --configuration Release --concurrency 1 \
      "${mutates[@]}" --test-case-filter "$filter" --reporter Html --reporter Json --reporter Markdown \
      --reporter ClearText --output "$out" --skip-version-check ) | tee "$out/stryker.log"
  grep -h "The final mutation score is" "$out/stryker.log" | sed "s/^/$folder: /" || true
done
