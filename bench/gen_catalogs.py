#!/usr/bin/env python3
"""Writes the four RdBridge catalogs for a large synthetic corpus, for the benches in bench/ and the plan tests.

usage: gen_catalogs.py [--v1] OUT_DIR FACTORS LOOPS [SEED]
Factors are spread over the loops (each loop found FACTORS/LOOPS of them, some also one other loop); every loop also
has one model and one strategy. Records carry the same fields, nesting and sizes as the catalogs `rdbridge export`
writes, in today's format: the factor catalog is v2 (each factor names its first loop and counts its `occurrences`),
and every factor-and-loop entry is in `factor_provenance.json` beside it. With --v1, the format before it (each
factor record lists its loops inline as `provenance`; no provenance file), which import still reads.
"""
import json, os, random, sys

v1 = "--v1" in sys.argv[1:]
argv = [a for a in sys.argv[1:] if a != "--v1"]
out, n_factors, n_loops = argv[0], int(argv[1]), int(argv[2])
rng = random.Random(int(argv[3]) if len(argv) > 3 else 7)
os.makedirs(out, exist_ok=True)
ROOT = "F:/Dev/RD-Agent-main/git_ignore_folder/RD-Agent_workspace/"
FIELDS = ["$open", "$close", "$high", "$low", "$volume", "$vwap"]
OPS = ["Mean", "Std", "Ref", "Max", "Min", "Corr", "Rank", "Slope", "Rsquare", "Resi"]
BASE = ["RESI5", "WVMA5", "RSQR5", "KLEN", "RSQR10", "CORR5", "CORD5", "CORR10", "ROC60", "RESI10", "VSTD5", "RSQR60"]

def hexid(i, salt):
    return "%032x" % ((i * 2654435761 + salt * 40503) % (1 << 128) ^ 0x5bd1e995 << 64)

def metrics():
    return {"ic": rng.uniform(-0.02, 0.08), "icir": rng.uniform(-0.2, 0.7), "rank_ic": rng.uniform(-0.02, 0.08),
            "rank_icir": rng.uniform(-0.2, 0.7), "annualized_return": rng.uniform(-0.1, 0.3),
            "information_ratio": rng.uniform(-1, 2.5), "max_drawdown": -rng.uniform(0.02, 0.3),
            "annualized_return_without_cost": rng.uniform(-0.05, 0.4),
            "information_ratio_without_cost": rng.uniform(-1, 3),
            "max_drawdown_without_cost": -rng.uniform(0.02, 0.3)}

loops = []
for i in range(n_loops):
    tr = hexid(i // 100, 1)
    ws = hexid(i, 2)
    loops.append({"task_run_id": tr, "loop_id": i % 100, "workspace_id": ws, "workspace_path": ROOT + ws,
                  "asset_bundle_id": f"bundle_{tr}_{i % 100}"})

def write(name, key, records, version="v1"):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(('{\n  "generated_at_utc": "2026-11-25T00:00:00.000Z",\n  "version": "%s",\n'
                 '  "source": "rdbridge",\n  "%s": [\n') % (version, key))
        for j, r in enumerate(records):
            f.write(("    " if j == 0 else ",\n    ") + json.dumps(r, ensure_ascii=False))
        f.write("\n  ]\n}\n")

def factors():
    per = max(1, n_factors // n_loops)
    for k in range(n_factors):
        l = loops[min(k // per, n_loops - 1)]
        window = rng.choice([5, 10, 20, 30, 60])
        f1, f2 = rng.sample(FIELDS, 2)
        expr = f"{rng.choice(OPS)}({f1}/{f2}, {window})-{rng.choice(OPS)}({f2}, {window * 2})"
        name = f"Factor_{k:06d}_{rng.choice(OPS)}{window}D"
        prov = [l] + [rng.choice(loops) for _ in range(rng.randint(0, 1))]
        factor_id = "factor_%016x" % (k * 11400714819323198485 % (1 << 64))
        provenance.extend({"factor_id": factor_id, **p} for p in prov)
        yield {"factor_id": factor_id, "name": name, "source": "rdagent_generated",
               "expression": expr, "description_cn": f"{window}日价量关系因子 #{k}",
               "fingerprint": "%064x" % (k * 0x9E3779B97F4A7C15),
               **l, "formula_hint": f"\\frac{{{f1[1:]}}}{{{f2[1:]}}}", "variables": {f1[1:]: "price field"},
               "input_schema": {"required_fields": sorted({f1[1:], f2[1:]}), "lookback_days": window * 2,
                                "lookback_source": "expression windows",
                                "index_type": "MultiIndex(datetime, instrument)", "freq": "1d"},
               "tags": ["rdagent", "generated"], "code_path": f"{l['workspace_path']}/factor.py",
               "performance_metrics": metrics(),
               "aliases": [], "occurrences": len(prov), **({"provenance": prov} if v1 else {})}

def models():
    for l in loops:
        yield {"model_id": f"model_{l['task_run_id']}_{l['loop_id']}", **l,
               "log_dir": "F:/Dev/RD-Agent-main/log/2025-07-01_15-10-12-000000",
               "model_type": "LGBModel", "model_module": "qlib.contrib.model.gbdt", "network_class": None,
               "model_config": {"loss": "mse", "colsample_bytree": 0.8879, "learning_rate": 0.2, "subsample": 0.8789,
                                "lambda_l1": 205.6999,
                                "lambda_l2": 580.9768, "max_depth": 8, "num_leaves": 210, "num_threads": 20},
               "dataset_config": {"class": "DatasetH", "module_path": "qlib.data.dataset", "handler": "DataHandlerLP",
                                  "segments": {"train": ["2008-01-01", "2014-12-31"],
                                               "valid": ["2015-01-01", "2016-12-31"],
                                               "test": ["2017-01-01", "2020-08-01"]}},
               "preprocess_config": {"infer_processors": [{"class": "RobustZScoreNorm",
                                                           "kwargs": {"fields_group": "feature", "clip_outlier": True}},
                                                          {"class": "Fillna", "kwargs": {"fields_group": "feature"}}],
                                     "learn_processors": [{"class": "DropnaLabel"},
                                                          {"class": "CSZScoreNorm",
                                                           "kwargs": {"fields_group": "label"}}]},
               "feature_schema": {"base_features": BASE},
               "model_artifacts": {"params": "mlruns/1/abc/artifacts/params.pkl"}, "metrics": metrics()}

def strategies():
    for l in loops:
        yield {"strategy_id": f"strategy_{l['task_run_id']}_{l['loop_id']}", **l,
               "config_fingerprint": "0ed7e17b782c2499", "action": "factor",
               "portfolio_config": {"class": "TopkDropoutStrategy", "module_path": "qlib.contrib.strategy",
                                    "kwargs": {"signal": "<PRED>", "topk": 50, "n_drop": 5}},
               "backtest_config": {"start_time": "2017-01-01", "end_time": "2020-08-01", "account": 100000000,
                                   "benchmark": "SH000300",
                                   "exchange_kwargs": {"limit_threshold": 0.095, "deal_price": "close",
                                                       "open_cost": 0.0005, "close_cost": 0.0015, "min_cost": 5}},
               "model_type": "LGBModel", "feature_list": BASE,
               "python_implementation": {"module": "rd_strategies_lib.generated",
                                         "func": f"get_strategy_{l['task_run_id']}_{l['loop_id']}_config"},
               "metrics": metrics()}

def loop_records():
    for l in loops:
        m = metrics()
        yield {**l, "log_dir": "F:/Dev/RD-Agent-main/log/2025-07-01_15-10-12-000000", "scenario": "QuantRDLoop",
               "action": "factor",
               "status": "success", "has_result": True, "is_solidified": True, "started_at_utc": "2025-07-01T15:10:12Z",
               "ended_at_utc": "2025-07-01T16:02:12Z", "strategy_id": f"strategy_{l['task_run_id']}_{l['loop_id']}",
               "config_fingerprint": "0ed7e17b782c2499", "model_type": "LGBModel", "factor_names": BASE,
               "annualized_return": m["annualized_return"], "max_drawdown": m["max_drawdown"],
               "information_ratio": m["information_ratio"],
               "ic": m["ic"], "ic_ir": m["icir"], "rank_ic": m["rank_ic"], "decision": rng.random() < 0.3, "metrics": m,
               "summary_texts": {"hypothesis": "动量与成交量背离", "observations": "IC 提升", "reason": "更稳定的信号"},
               "hypothesis": "Momentum diverging from volume: 动量与成交量背离",
               "hypothesis_reason": "成交量领先价格", "observations": "IC 提升",
               "paths": {"qlib_res": f"{l['workspace_path']}/qlib_res.csv"}}

provenance = []  # filled while the factors are written, in their order
write("factor_catalog.json", "factors", factors(), "v1" if v1 else "v2")
if not v1:
    write("factor_provenance.json", "provenance", provenance, "v2")
write("model_catalog.json", "models", models())
write("strategy_catalog.json", "strategies", strategies())
write("loop_catalog.json", "loops", loop_records())
