#!/usr/bin/env python3
"""Walks every filter x sort the consumer API offers on a running `rdbridge serve` and prints p99 per shape.

usage: query_shapes.py BASE_URL REQUESTS [LABEL]
BASE_URL is the server's root (http://127.0.0.1:PORT). Each shape is asked REQUESTS times by one client, then
REQUESTS times by each of four clients at once (separate processes, each with its own keep-alive connection, so the
client's interpreter is not the bottleneck). Prints a table with p50/p99 against the targets (< 20 ms with one client,
< 50 ms with four) and exits 1 when a shape misses one. The filter values are read from the catalog first (a task run
that exists, a range that matches a share of the rows), never guessed.
"""
import http.client, json, multiprocessing, sys, time, urllib.parse

base, requests = sys.argv[1], int(sys.argv[2])
label = sys.argv[3] if len(sys.argv) > 3 else ""
url = urllib.parse.urlparse(base)
TARGET_1, TARGET_4 = 20.0, 50.0


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: HTTP {r.status}: {body[:300]!r}")
    return body


def connect():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=60)


def timings(path, n):
    conn = connect()
    get(conn, path)  # warm: the first request of a shape compiles its statement and fills its match count
    out = []
    for _ in range(n):
        t = time.perf_counter()
        get(conn, path)
        out.append((time.perf_counter() - t) * 1000)
    conn.close()
    return out


def p(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


conn = connect()
first = json.loads(get(conn, "/api/rdagent/factors?page_size=1"))["items"][0]
loop = json.loads(get(conn, "/api/rdagent/loops?page_size=1"))["items"][0]
conn.close()

# Per catalog: the filters a user can set (one at a time, and the UI's usual pair), the sort columns.
FACTOR_METRICS = ["ic", "icir", "rank_ic", "rank_icir", "annualized_return", "information_ratio", "max_drawdown"]
RANGES = {"ic": (0.02, 0.05), "icir": (0.1, 0.4), "rank_ic": (0.02, 0.05), "rank_icir": (0.1, 0.4),
          "annualized_return": (0.05, 0.15), "information_ratio": (0.5, 1.5), "max_drawdown": (-0.2, -0.05)}
NARROW = {"ic": (0.0300, 0.0301)}
shapes = {
    "factors": {
        "filters": {
            "none": {},
            "search": {"q": first["name"][:12]},
            "task_run": {"task_run_id": first["task_run_id"]},
            "loop": {"task_run_id": first["task_run_id"], "loop_id": first["loop_id"]},
            "source": {"source": first["source"]},
            "origin": {"origin": "local"},
            "tag": {"tag": "generated"},
            **{f"range {m}": {f"min_{m}": lo, f"max_{m}": hi} for m, (lo, hi) in RANGES.items()},
            "narrow range ic": {"min_ic": NARROW["ic"][0], "max_ic": NARROW["ic"][1]},
            "min ic only": {"min_ic": 0.06},
            "source + range ic": {"source": first["source"], "min_ic": 0.02, "max_ic": 0.05},
        },
        "sorts": FACTOR_METRICS + ["name", "source", "task_run_id", "updated_at"],
    },
    "loops": {
        "filters": {
            "none": {},
            "search": {"q": loop["task_run_id"][:10]},
            "task_run": {"task_run_id": loop["task_run_id"]},
            "origin": {"origin": "local"},
            "range ic": {"min_ic": 0.02, "max_ic": 0.05},
            "range annualized_return": {"min_annualized_return": 0.05, "max_annualized_return": 0.15},
        },
        "sorts": ["annualized_return", "ic", "information_ratio", "max_drawdown", "task_run_id", "started_at_utc",
                  "ended_at_utc", "status", "updated_at"],
    },
    "models": {"filters": {"none": {}, "task_run": {"task_run_id": loop["task_run_id"]}, "search": {"q": "LGB"}},
               "sorts": ["model_id", "model_type", "task_run_id", "updated_at"]},
    "strategies": {"filters": {"none": {}, "task_run": {"task_run_id": loop["task_run_id"]}},
                   "sorts": ["strategy_id", "task_run_id", "updated_at"]},
}


def paths():
    for kind, spec in shapes.items():
        for fname, args in spec["filters"].items():
            for sort in spec["sorts"]:
                for order in ("desc", "asc"):
                    # Both directions for the unfiltered lists; the filtered ones as the UI opens them (desc).
                    if order == "asc" and fname != "none":
                        continue
                    q = {**args, "sort": sort, "order": order, "page_size": 50}
                    yield f"{kind}: {fname} / sort {sort} {order}", \
                        f"/api/rdagent/{kind}?{urllib.parse.urlencode(q)}"


def once(path):
    conn = connect()
    get(conn, path)
    t = time.perf_counter()
    get(conn, path)
    conn.close()
    return (time.perf_counter() - t) * 1000


rows, missed = [], 0
with multiprocessing.Pool(4) as pool:
    for name, path in paths():
        # A shape that takes a quarter of a second once is over budget however it is measured; it is reported with
        # that one figure rather than asked hundreds of times.
        single = once(path)
        if single > 250:
            missed += 1
            rows.append((name, single, single, float("nan"), float("nan"), False))
            print(f"{name}: {single:.0f} ms for one request  OVER", file=sys.stderr, flush=True)
            continue
        one = timings(path, requests)
        four = [t for ts in pool.starmap(timings, [(path, requests)] * 4) for t in ts]
        p99_1, p99_4 = p(one, 99), p(four, 99)
        ok = p99_1 < TARGET_1 and p99_4 < TARGET_4
        missed += not ok
        rows.append((name, p(one, 50), p99_1, p(four, 50), p99_4, ok))
        print(f"{name}: p99 {p99_1:.1f} ms / {p99_4:.1f} ms{'' if ok else '  OVER'}", file=sys.stderr, flush=True)

print(f"{label}: {len(rows)} shapes, {requests} requests each with 1 client and 4 x {requests} with 4 clients")
print()
print("| shape | 1 client p50 ms | p99 ms | 4 clients p50 ms | p99 ms | within |")
print("|---|---:|---:|---:|---:|---|")
for name, a, b, c, d, ok in rows:
    print(f"| {name} | {a:.1f} | {b:.1f} | {c:.1f} | {d:.1f} | {'yes' if ok else '**no**'} |")
print()
w1 = max(rows, key=lambda r: r[2])
w4 = max((r for r in rows if r[4] == r[4]), key=lambda r: r[4])
print(f"worst p99 with 1 client: {w1[2]:.1f} ms ({w1[0]}), target < {TARGET_1:.0f} ms")
print(f"worst p99 with 4 clients: {w4[4]:.1f} ms ({w4[0]}), target < {TARGET_4:.0f} ms")
print(f"shapes over budget: {missed} of {len(rows)}")
sys.exit(1 if missed else 0)
