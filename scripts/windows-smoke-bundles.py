"""Writes the bundles scripts/windows-check.sh extracts with the Windows build (`rdbridge.exe bundle verify`), each
with its .sha256 sidecar, into the folder given:
  bundle_winsmoke_names  an entry named aux.py, which Windows opens as a device  -> refused by name
  bundle_winsmoke_case   Data.csv and data.csv, one file on Windows              -> refused, both named
  bundle_winsmoke_long   a file whose extracted path is longer than 260 characters -> extracted and verified
"""
import hashlib
import io
import json
import os
import sys
import tarfile

out = sys.argv[1]
deep = "/".join(["a_rather_long_folder_name_for_depth_%02d" % i for i in range(8)]) + "/factor.py"
bundles = {
    "bundle_winsmoke_names": ["workspaces/w1/factor.py", "workspaces/w1/aux.py"],
    "bundle_winsmoke_case": ["workspaces/w1/Data.csv", "workspaces/w1/data.csv"],
    "bundle_winsmoke_long": ["workspaces/w1/" + deep],
}
for bundle_id, names in bundles.items():
    files = [(n, ("content of %s\n" % n).encode()) for n in names]
    manifest = json.dumps({"files": [{"path": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                                     for n, b in files]}).encode()
    archive = os.path.join(out, bundle_id + ".tar.gz")
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in [("manifest.json", manifest)] + files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with open(archive, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(archive + ".sha256", "w") as f:
        f.write("%s  %s.tar.gz\n" % (digest, bundle_id))
print(len(deep) + len("workspaces/w1/"))
