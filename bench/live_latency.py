#!/usr/bin/env python3
"""Latency of `rdbridge serve`'s live sync: from RD-Agent's last write of a finished loop to the loop in AIstock's API.

usage: live_latency.py RDBRIDGE WORK LOOPS ROUNDS
Two set-ups, each on a fresh sample of LOOPS loops with ROUNDS of them held back (their log folders moved aside, their
registry rows removed, as if RD-Agent had not finished them):
  one machine: `serve --role consumer` on the sample (it watches the log and registry itself);
  publisher -> consumer over HTTP: `serve --role publisher` on the sample, and a consumer `serve` with only an AIstock
  root and the publisher as its source.
Each round finishes one held loop the way RD-Agent's fork does (its log folder appears, its registry rows are
written), notes the time of that last write, and asks the consumer's API every 20 ms until the loop is listed.
"""
import json, os, shutil, socket, sqlite3, statistics, subprocess, sys, time, urllib.request

rdbridge, work, n_loops, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
TARGET = 10.0


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def sample(out):
    subprocess.run([rdbridge, "sample", "--out", out, "--task-runs", "1", "--loops", str(n_loops)], check=True,
                   stdout=subprocess.DEVNULL)
    config = os.path.join(out, "rdbridge.json")
    c = json.load(open(config))
    c["server"] = {"publishInterval": 0}
    json.dump(c, open(config, "w"))
    return config, c


def paths(out, c):
    root = os.path.join(out, c["rdagent"]["root"]) if not os.path.isabs(c["rdagent"]["root"]) else c["rdagent"]["root"]
    registry = os.path.join(root, "RDagentDB", "registry.sqlite")
    return root, os.path.join(root, "log"), registry


def with_results(registry):
    """The loops the fork marked as having results (a loop without any is never listed, so never waited for)."""
    db = sqlite3.connect(registry)
    ids = [r[0] for r in db.execute("SELECT loop_id FROM loops WHERE has_result = 1 GROUP BY loop_id "
                                    "ORDER BY loop_id DESC LIMIT ?", (rounds,))]
    db.close()
    return ids


def hold(root, log, registry, loop_ids):
    db = sqlite3.connect(registry)
    keys = []
    for k in loop_ids:
        rows = db.execute("SELECT task_run_id FROM loops WHERE loop_id = ?", (k,)).fetchall()
        keys += [(r[0], k) for r in rows]
    db.execute("CREATE TABLE held_loops AS SELECT * FROM loops WHERE 0")
    for k in loop_ids:
        db.execute("INSERT INTO held_loops SELECT * FROM loops WHERE loop_id = ?", (k,))
        db.execute("DELETE FROM loops WHERE loop_id = ?", (k,))
    db.commit(); db.close()
    moved = {}
    for run in os.listdir(log):
        for k in loop_ids:
            src = os.path.join(log, run, f"Loop_{k}")
            if os.path.isdir(src):
                dst = os.path.join(root, "held-log", run, f"Loop_{k}")
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.move(src, dst)
                moved.setdefault(k, []).append((dst, src))
    return keys, moved


def finish(registry, moved, k):
    """RD-Agent's fork finishing loop k: its log folder, then its registry rows (the record step's write)."""
    for dst, src in moved[k]:
        shutil.move(dst, src)
    db = sqlite3.connect(registry)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 1))
    db.execute("INSERT INTO loops SELECT * FROM held_loops WHERE loop_id = ?", (k,))
    db.execute("UPDATE loops SET updated_at_utc = ? WHERE loop_id = ?", (now, k))
    db.commit(); db.close()
    return time.perf_counter()


def listed(api):
    with urllib.request.urlopen(api + "/api/rdagent/loops?page_size=500", timeout=30) as r:
        return {(i["task_run_id"], i["loop_id"]) for i in json.load(r)["items"]}


def serve(config, role, port, log_path):
    out = open(log_path, "w")
    p = subprocess.Popen([rdbridge, "serve", "--role", role, "--urls", f"http://127.0.0.1:{port}", "--config", config],
                         stdout=out, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2).read(); return p
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"serve {role} did not start; see {log_path}")


def wait_until(pred, limit=300):
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        if pred(): return True
        time.sleep(0.02)
    return False


def measure(api, registry, keys, moved):
    lat = []
    for k in sorted(moved):
        key = next(x for x in keys if x[1] == k)
        t0 = finish(registry, moved, k)
        if not wait_until(lambda: key in listed(api), limit=120):
            raise SystemExit(f"loop {key} not in the API after 120 s")
        lat.append(time.perf_counter() - t0)
    return lat


def report(name, lat):
    print(f"| {name} | {len(lat)} | {statistics.median(lat):.2f} | {max(lat):.2f} | "
          f"{'yes' if max(lat) <= TARGET else '**no**'} |")


procs = []
try:
    results = {}
    # One machine.
    out = os.path.join(work, "one")
    config, c = sample(out)
    root, log, registry = paths(out, c)
    keys, moved = hold(root, log, registry, with_results(registry))
    port = free_port()
    procs.append(serve(config, "consumer", port, os.path.join(work, "one.log")))
    api = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: "Live run 1: sync" in open(os.path.join(work, "one.log")).read()):
        raise SystemExit("the first live run did not finish")
    time.sleep(3)  # the start-up run's own follow-up settles; not part of what is measured
    results["one machine (serve --role consumer)"] = measure(api, registry, keys, moved)

    # Publisher -> consumer over HTTP.
    out = os.path.join(work, "pub")
    config, c = sample(out)
    root, log, registry = paths(out, c)
    keys, moved = hold(root, log, registry, with_results(registry))
    pport = free_port()
    procs.append(serve(config, "publisher", pport, os.path.join(work, "pub.log")))
    cdir = os.path.join(work, "consumer"); os.makedirs(cdir)
    cconfig = os.path.join(cdir, "rdbridge.json")
    json.dump({"aistock": {"root": "AIstock", "database": os.path.join(cdir, "AIstock", "aistock.db")},
               "sources": [{"name": "gpu1", "url": f"http://127.0.0.1:{pport}/"}]}, open(cconfig, "w"))
    cport = free_port()
    procs.append(serve(cconfig, "consumer", cport, os.path.join(work, "consumer.log")))
    capi = f"http://127.0.0.1:{cport}"
    if not wait_until(lambda: "Live run 1: sync" in open(os.path.join(work, "consumer.log")).read()):
        raise SystemExit("the consumer's first live run did not finish")
    time.sleep(3)
    results["publisher -> consumer over HTTP"] = measure(capi, registry, keys, moved)

    print(f"{n_loops} loops a sample, {rounds} finished one after another; seconds from RD-Agent's last write "
          f"to the loop in the consumer's API (target <= {TARGET:.0f} s)")
    print()
    print("| set-up | loops | median s | max s | within |")
    print("|---|---:|---:|---:|---|")
    for name, lat in results.items():
        report(name, lat)
finally:
    for p in procs:
        p.terminate()
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill()
