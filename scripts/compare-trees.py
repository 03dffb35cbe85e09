"""Compares two folders file by file: the same relative paths of regular files, with the same bytes.
Symbolic links are counted, not compared (Windows grants them only to administrators). Exit code 1 on a difference.
  compare-trees.py A B [--except-generated-at]
With --except-generated-at, the one value that differs between any two runs by design, a catalog's
"generated_at_utc" (when it was written), is blanked in .json files before they are compared; nothing else is."""
import hashlib
import os
import re
import sys

GENERATED_AT = re.compile(rb'"generated_at_utc": "[^"]*"')
except_generated_at = "--except-generated-at" in sys.argv[3:]


def tree(root):
    files, links = {}, 0
    for folder, dirs, names in os.walk(root):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                links += 1
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
                if except_generated_at and rel.endswith(".json"):
                    data = GENERATED_AT.sub(b'"generated_at_utc": ""', data)
                files[rel] = hashlib.sha256(data).hexdigest()
    return files, links


a, a_links = tree(sys.argv[1])
b, b_links = tree(sys.argv[2])
problems = [f"only in {sys.argv[1]}: {p}" for p in sorted(a.keys() - b.keys())]
problems += [f"only in {sys.argv[2]}: {p}" for p in sorted(b.keys() - a.keys())]
problems += [f"different bytes: {p}" for p in sorted(a.keys() & b.keys()) if a[p] != b[p]]
if problems or not a:
    print("\n".join(problems) or "no files")
    sys.exit(1)
print(f"{len(a)} files identical (symbolic links: {a_links} and {b_links})")
