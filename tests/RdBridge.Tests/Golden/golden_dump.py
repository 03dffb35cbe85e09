"""Writes what one RdBridge run produced as golden text: every bundle, catalog and strategy-library file, and every
row of the AIstock SQLite database, with only the times that differ between any two runs taken out.
  golden_dump.py RUN_FOLDER OUT_FOLDER
RUN_FOLDER is where `rdbridge sample` wrote its tree and `init` or `import` then ran (the layout of
scripts/compare-builds.sh). OUT_FOLDER receives:
  files.txt     one line a file: its path (always with '/'), size and SHA-256; a .json file's hash is of its bytes with
                "generated_at_utc" blanked, every other file's (bundles included: they are deterministic) of its bytes
  text/PATH.golden  the normalised text of each catalog and strategy-library file up to TEXT_LIMIT bytes (a copy
                of the same bytes once), so a failure can name the first differing line (".golden" added: the
                style checks read no such file)
  database.txt  the schema (sqlite_master), then each table's rows sorted, one line a row with the table's name;
                the bookkeeping times (updated_at, imported_at, applied_at, started_at, finished_at) and a catalog
                copy's file_sha256 (the copy holds generated_at_utc) are left out, as compare-builds.sh leaves them
The run folder's own absolute path is written as <run> wherever it appears (the test and a by-hand run use different
temporary folders), and a record's content_hash, when it is its payload's SHA-256, as such; nothing else is changed,
so a path written with '\\' on Windows still differs. Python's own
sqlite3, hashlib and json do the reading: the golden files are not made by RdBridge's readers."""
import hashlib
import json
import os
import re
import sqlite3
import sys

FOLDERS = ["RD-Agent-main/production_bundles", "RD-Agent-main/rdagent_data", "AIstock/rdagent_data",
           "rd-strategies-lib"]
TEXT_ENDINGS = (".json", ".py", ".yaml", ".yml", ".md", ".txt", ".csv")
TEXT_LIMIT = 256 * 1024
GENERATED_AT = re.compile(rb'"generated_at_utc": "[^"]*"')
BOOKKEEPING = {"updated_at", "imported_at", "applied_at", "started_at", "finished_at", "file_sha256"}
# Longer values (a stored record's payload) are written by their hash: the catalog's text above holds them in full.
VALUE_LIMIT = 200

run, out = os.path.abspath(sys.argv[1]), sys.argv[2]
run_bytes = run.encode("utf-8")


def normalised(rel, data):
    if rel.endswith(".json"):
        data = GENERATED_AT.sub(b'"generated_at_utc": ""', data)
    return data.replace(run_bytes, b"<run>")


def files():
    lines, texts = [], set()
    for top in FOLDERS:
        root = os.path.join(run, top)
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, run).replace(os.sep, "/")
                if os.path.islink(path) or not os.path.isfile(path):
                    lines.append(f"{rel} link")
                    continue
                with open(path, "rb") as f:
                    data = normalised(rel, f.read())
                digest = hashlib.sha256(data).hexdigest()
                lines.append(f"{rel} {len(data)} bytes sha256 {digest}")
                # AIstock's copy of a catalog is the exported file again: its text is kept once.
                if rel.endswith(TEXT_ENDINGS) and len(data) <= TEXT_LIMIT and digest not in texts:
                    texts.add(digest)
                    target = os.path.join(out, "text", rel + ".golden")
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(data)
    return lines


def value(v):
    if v is None:
        return "null"
    if isinstance(v, bytes):
        return f"blob({len(v)} bytes sha256 {hashlib.sha256(v).hexdigest()})"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    text = v.replace(run, "<run>")
    if len(text) > VALUE_LIMIT:
        data = text.encode("utf-8")
        return f"text({len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()})"
    return json.dumps(text, ensure_ascii=False)


def fingerprinted(cols, row):
    """A stored record's content_hash is the SHA-256 of its payload (and origin): said as such when it is, because the
    payload may hold the run folder's path (the upstream-log sample's log_dir) and its hash cannot be normalised."""
    if "content_hash" in cols and "payload" in cols:
        payload = row[cols.index("payload")].encode("utf-8")
        origin = row[cols.index("origin")] if "origin" in cols else None
        if origin is not None:
            payload += b"\n@" + origin.encode("utf-8")
        at = cols.index("content_hash")
        if row[at] == hashlib.sha256(payload).hexdigest():
            row[at] = "(sha256 of the payload)"
    return row


def database():
    path = os.path.join(run, "AIstock", "aistock.db")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    lines = []
    for kind, name, sql in db.execute(
            "select type, name, sql from sqlite_master where sql is not null order by type, name"):
        lines.append(f"schema {kind} {name}: {' '.join(sql.split())}")
    tables = [t for (t,) in db.execute("select name from sqlite_master where type = 'table' order by name")]
    for t in tables:
        # table_xinfo also lists generated columns (schema version 9 computes the JSON columns from the payload), which
        # every reader sees; hidden = 1 marks a virtual table's own hidden columns (FTS5's), which are not data.
        cols = [r[1] for r in db.execute(f"pragma table_xinfo('{t}')") if r[1] not in BOOKKEEPING and r[6] != 1]
        names = ", ".join(f'"{c}"' for c in cols)
        lines.append(f"table {t}: {', '.join(cols)}")
        rows = sorted(" | ".join(value(v) for v in fingerprinted(cols, list(r)))
                      for r in db.execute(f'select {names} from "{t}"'))
        lines.extend(f"{t}: {r}" for r in rows)
    db.close()
    return lines


os.makedirs(out, exist_ok=True)
for name, lines in (("files.txt", files()), ("database.txt", database())):
    with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))
