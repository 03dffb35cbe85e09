using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The registry views (task_runs, loops, workspaces, production_bundles) as import keeps them: made once the schema
/// is the newest, left alone while as written, made again when their text changes, and never over AIstock's own table
/// of the same name. Bundle paths are read against the loop records this test writes.
/// </summary>
public sealed class RegistryViewKeepingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Three loops of one task run: two with a bundle, one without.</summary>
    private static readonly (string Run, long Loop, string? Bundle)[] Loops =
        [("20250107_001", 1, "bundle_20250107_001_1"), ("20250107_001", 2, null),
            ("20250107_001", 3, "bundle_20250107_001_3")];

    private string WriteLoopCatalog()
    {
        var loops = new JsonArray(Loops.Select(l => (JsonNode?)new JsonObject
        {
            ["task_run_id"] = l.Run, ["loop_id"] = l.Loop, ["workspace_id"] = $"ws_{l.Loop}",
            ["workspace_path"] = $"/log/{l.Run}/workspace_ws_{l.Loop}", ["log_dir"] = $"/log/{l.Run}",
            ["asset_bundle_id"] = l.Bundle,
        }).ToArray());
        File.WriteAllText(_dir["loop_catalog.json"], new JsonObject { ["loops"] = loops }.ToJsonString());
        return _dir["loop_catalog.json"];
    }

    private (TestStore Db, IAistockStore Store) Open(string kind, int? upTo = null)
    {
        var db = TestStore.Create(kind, _dir);
        var store = db.Open();
        store.Migrate(upTo);
        return (db, store);
    }

    private static void Import(IAistockStore store, string catalog, string prefix)
    {
        ((DbAistockStore)store).BundlePrefix = prefix;
        StoreTests.Import(store, CatalogKind.Loop, catalog);
    }

    /// <summary>Each view of the schema with what identifies it: made again, it is a new row (or object).</summary>
    private static List<string> ViewIdentities(TestStore db) =>
        db.Rows(db.IsPostgres
                ? "SELECT c.relname, c.oid FROM pg_class c WHERE c.relkind = 'v' "
                    + "AND c.relnamespace = current_schema()::regnamespace ORDER BY 1"
                : "SELECT name, rowid FROM sqlite_master WHERE type = 'view' ORDER BY name")
            .Select(r => $"{r[0]}|{r[1]}").ToList();

    private static List<string> ViewNames(TestStore db) => ViewIdentities(db).Select(v => v.Split('|')[0]).ToList();

    private static List<string> BundlePaths(TestStore db) =>
        db.Rows("SELECT task_run_id, loop_id, bundle_id, bundle_path FROM production_bundles ORDER BY loop_id")
            .Select(r => string.Join("|", r)).ToList();

    private static List<string> Expected(string prefix) => Loops.Where(l => l.Bundle is not null)
        .Select(l => $"{l.Run}|{l.Loop}|{l.Bundle}|{prefix}{l.Bundle}.tar.gz").ToList();

    [Fact]
    public void A_bundle_prefix_is_relative_to_the_root_empty_for_the_root_itself_and_absolute_outside_it()
    {
        var root = _dir["AIstock"];
        Assert.Equal("assets/bundles/", DbAistockStore.BundlePrefixOf(root, Path.Combine(root, "assets", "bundles")));
        Assert.Equal("assets/", DbAistockStore.BundlePrefixOf(root, Path.Combine(root, "assets") + "/"));
        Assert.Equal("", DbAistockStore.BundlePrefixOf(root, root));
        Assert.Equal(_dir["elsewhere/bundles"] + "/", DbAistockStore.BundlePrefixOf(root, _dir["elsewhere/bundles"]));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Production_bundles_put_the_prefix_quote_and_all_before_each_bundle_file(string kind)
    {
        var catalog = WriteLoopCatalog();
        var (db, store) = Open(kind);
        using (db) using (store)
        {
            Import(store, catalog, "o'neil/bundles/");
            Assert.Equal(["loops", "production_bundles", "task_runs", "workspaces"], ViewNames(db));
            Assert.Equal(Expected("o'neil/bundles/"), BundlePaths(db));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_view_as_written_is_left_alone_and_one_whose_text_changed_is_made_again(string kind)
    {
        var catalog = WriteLoopCatalog();
        var (db, store) = Open(kind);
        using (db) using (store)
        {
            Import(store, catalog, "first/");
            var made = ViewIdentities(db);
            Import(store, catalog, "first/");
            Assert.Equal(made, ViewIdentities(db));
            Assert.Equal(Expected("first/"), BundlePaths(db));

            Import(store, catalog, "second/");
            Assert.Equal(Expected("second/"), BundlePaths(db));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void AIstock_s_own_table_named_like_a_view_is_never_touched(string kind)
    {
        var catalog = WriteLoopCatalog();
        var (db, store) = Open(kind);
        using (db) using (store)
        {
            db.Exec("CREATE TABLE loops (note TEXT)");
            db.Exec("INSERT INTO loops (note) VALUES ('aistock''s own')");
            Import(store, catalog, "b/");
            Import(store, catalog, "c/");
            Assert.Equal(["production_bundles", "task_runs", "workspaces"], ViewNames(db));
            Assert.Equal("aistock's own", db.Rows("SELECT note FROM loops")[0][0]);
            Assert.Equal(1L, db.Scalar("SELECT count(*) FROM loops"));
            Assert.Equal(Expected("c/"), BundlePaths(db));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_store_short_of_the_newest_schema_gets_no_views_until_it_is_there(string kind)
    {
        var catalog = WriteLoopCatalog();
        var (db, store) = Open(kind, upTo: StoreSchema.Latest - 1);
        using (db) using (store)
        {
            Import(store, catalog, "b/");
            Assert.Empty(ViewNames(db));
            store.Migrate();
            Import(store, catalog, "b/");
            Assert.Equal(["loops", "production_bundles", "task_runs", "workspaces"], ViewNames(db));
        }
    }
}
