#!/usr/bin/python3
"""Reads every pickle of an RD-Agent log tree with CPython's own pickle and pandas, the way RD-Agent's UI would.

RD-Agent's classes come from write_log.py (same module paths and attributes). A Windows-stored workspace path
(pathlib.WindowsPath) cannot be made on Linux, so it is read as the PureWindowsPath it spells.

Usage: read_sample_log.py WRITE_LOG_DIR RDAGENT_ROOT STORED_ROOT
Prints JSON: the number of pickles read, and every experiment result that is a Series with the path of the
workspace it belongs to, its values and whether they equal that workspace's qlib_res.csv (read with pandas).
"""
import glob
import json
import os
import pathlib
import pickle
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import write_log  # noqa: E402,F401  (defines RD-Agent's classes)
import pandas as pd  # noqa: E402

pathlib.WindowsPath = pathlib.PureWindowsPath
root, stored_root = sys.argv[2], sys.argv[3]


def local(path):
    """The workspace folder on this machine for a path as RD-Agent's machine stored it (any spelling)."""
    text = str(path).replace("\\", "/")
    for prefix in (stored_root, "/mnt/f/" + stored_root[3:]):
        if text.startswith(prefix):
            return root + text[len(prefix):]
    raise SystemExit(f"unmapped workspace path {text}")


def result_of(exp):
    info = getattr(exp, "running_info", None)
    return info.result if info is not None else getattr(exp, "result", None)


checked = []
count = 0
for f in sorted(glob.glob(os.path.join(root, "log", "**", "*.pkl"), recursive=True)):
    with open(f, "rb") as fh:
        obj = pickle.load(fh)
    count += 1
    if "Quantitative Backtesting Chart" in f:
        assert isinstance(obj, pd.DataFrame) and "return" in obj.columns, f
    if "runner result" not in f:
        continue
    for exp in [obj] + list(obj.based_experiments):
        result = result_of(exp)
        if result is None:
            continue
        assert isinstance(result, pd.Series) and result.dtype == "float64" and result.name == "0", f
        # The exact numbers the file prints (pandas' default parser may be an ulp off in the 16th digit).
        csv = pd.read_csv(os.path.join(local(exp.experiment_workspace.workspace_path), "qlib_res.csv"),
                          index_col=0, float_precision="round_trip").iloc[:, 0]
        checked.append({
            "pickle": f,
            "workspace": str(exp.experiment_workspace.workspace_path),
            "index": list(result.index),
            "equal": list(result.index) == list(csv.index) and bool((result.values == csv.values).all()),
        })
json.dump({"pickles": count, "results": checked}, sys.stdout)
