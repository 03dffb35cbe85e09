"""Runs Microsoft RD-Agent's own loops offline and records what they were fed and what they logged.

Run inside the trixie chroot (scripts/rdagent-chroot.sh) with RD-Agent's source and this folder on PYTHONPATH:

    drive_rdagent.py produce ROOT   every task run of answers.RUNS into ROOT (RD-Agent's cwd): ROOT/log/<stamp>/ and
                                    ROOT/git_ignore_folder/RD-Agent_workspace/; the "resumed" run stops after `coding`
                                    of loop 0; writes ROOT/../record.json
    drive_rdagent.py resume ROOT    resumes that run from its session with RD-Agent's LoopBase.load and finishes it;
                                    rewrites the record

Each task run is its own process (RD-Agent reads LOG_TRACE_PATH once, at import), through RD-Agent's LoopBase, logger
and FileStorage. The record is read back from the log with RD-Agent's own FileStorage, and from each experiment
workspace's qlib_res.csv with pandas, as RD-Agent reads it.
"""

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS_BEFORE_STOP = 1  # LoopBase stops when step_n runs out after the next step: `direct_exp_gen`, then `coding`
STEPS_AFTER_CODING = 3  # running, feedback, record


def loop_module(loop_class):
    return {"FactorRDLoop": "rdagent.app.qlib_rd_loop.factor", "ModelRDLoop": "rdagent.app.qlib_rd_loop.model",
            "QuantRDLoop": "rdagent.app.qlib_rd_loop.quant"}[loop_class]


def child(command, run, root, trace):
    env = dict(os.environ, HARNESS_RUN=run, LOG_TRACE_PATH=str(trace), PYTHONDONTWRITEBYTECODE="1")
    out = root.parent / f"{run}.{command}.out"
    with open(out, "ab") as f:
        args = [sys.executable, str(Path(__file__).resolve()), command, str(root), run, str(trace)]
        code = subprocess.run(args, cwd=root, env=env, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL).returncode
    if code != 0:
        sys.stderr.write(out.read_text(errors="replace")[-4000:])
        raise SystemExit(f"RD-Agent's {run} run exited {code}; its output is in {out}")


def produce(root):
    import answers
    root.mkdir(parents=True, exist_ok=True)
    for run in answers.RUNS:
        trace = root / "log" / datetime.now(timezone.utc).strftime("%Y-%m-%d_%H-%M-%S-%f")
        child("run", run, root, trace)
    write_record(root)


def resume(root):
    record = json.loads((root.parent / "record.json").read_text())
    run = next(r for r in record["runs"] if r["name"] == "resumed")
    child("continue", "resumed", root, Path(run["stored_folder"]))
    write_record(root)


def run_loop(run, trace, resume_session):
    """In the child: one task run through RD-Agent's LoopBase."""
    import importlib

    import answers
    import rdagent_offline
    rdagent_offline.install()
    loop_class = answers.RUNS[run]["loop"]
    module = importlib.import_module(loop_module(loop_class))
    cls = getattr(module, loop_class)
    n_loops = len(answers.RUNS[run]["loops"])
    if resume_session:
        # RD-Agent's own resume, as its command line does it (`factor.py $LOG_PATH/__session__ --step_n N`):
        # LoopBase.load of the latest session dump, the log truncated after it (checkout=True). The stopped run's
        # step budget is in that dump (spent), so the remaining steps are given again, as the command line would.
        module.main(path=str(Path(trace) / "__session__"), step_n=STEPS_AFTER_CODING, loop_n=n_loops)
        return
    conf = importlib.import_module("rdagent.app.qlib_rd_loop.conf")
    setting_class = {"FactorRDLoop": conf.FactorBasePropSetting, "ModelRDLoop": conf.ModelBasePropSetting,
                     "QuantRDLoop": conf.QuantBasePropSetting}[loop_class]
    loop = cls(setting_class(**rdagent_offline.settings_for(loop_class)))
    if run == "resumed":
        asyncio.run(loop.run(step_n=STEPS_BEFORE_STOP, loop_n=n_loops))
    else:
        asyncio.run(loop.run(loop_n=n_loops))


# --- the record ------------------------------------------------------------------------------------------------------

def text_or_none(value):
    return None if value is None else str(value)


def read_metrics(workspace):
    import pandas as pd
    csv = Path(workspace) / "qlib_res.csv"
    if not csv.exists():
        return None
    # round_trip: the numbers exactly as the file spells them. pandas' default parser (what RD-Agent's
    # QlibFBWorkspace uses for exp.result) can be a unit in the last place off, so the two are recorded apart.
    series = pd.read_csv(csv, index_col=0, float_precision="round_trip").iloc[:, 0]
    return {str(k): float(v) for k, v in series.items()}


def run_config(workspace):
    """The model and dataset of the workflow the chosen run executed: the rendered YAML Qlib kept as the `config`
    artifact of the latest finished MLflow run (the run RdBridge reads too)."""
    import pickle

    import yaml
    finished = []
    for meta_path in (Path(workspace) / "mlruns").glob("*/*/meta.yaml"):
        meta = yaml.safe_load(meta_path.read_text())
        if meta.get("status") == 3:
            finished.append((meta["end_time"], meta_path.parent))
    if not finished:
        return None
    with open(max(finished)[1] / "artifacts" / "config", "rb") as f:
        task = pickle.load(f)["task"]
    dataset = task["dataset"]
    return json.loads(json.dumps({
        "model": task["model"], "dataset_class": dataset["class"], "dataset_module": dataset["module_path"],
        "step_len": dataset["kwargs"].get("step_len")}, default=str))


def hypothesis_record(h):
    fields = ["hypothesis", "reason", "concise_reason", "concise_observation", "concise_justification",
              "concise_knowledge"]
    out = {f: text_or_none(getattr(h, f, None)) for f in fields}
    if hasattr(h, "action"):
        out["action"] = h.action
    return out


def factor_record(task, ws):
    return {"name": task.factor_name, "description": task.factor_description,
            "formulation": task.factor_formulation, "variables": task.variables,
            "workspace_path": None if ws is None else str(ws.workspace_path),
            "code": None if ws is None else ws.file_dict.get("factor.py")}


def model_record(task, ws):
    return {"name": task.name, "description": task.description, "formulation": task.formulation,
            "architecture": task.architecture, "hyperparameters": task.hyperparameters,
            "training_hyperparameters": task.training_hyperparameters, "variables": task.variables,
            "model_type": task.model_type,
            "workspace_path": None if ws is None else str(ws.workspace_path),
            "code": None if ws is None else ws.file_dict.get("model.py")}


def coder_feedback(evolving, index):
    """CoSTEER's feedback on task `index` in the last evolving step logged, as its pickled attributes (the texts and
    the decision, exactly as logged), with the number of evolving steps."""
    if not evolving:
        return None
    last = evolving[max(evolving)]
    if index >= len(last.feedback_list) or last.feedback_list[index] is None:
        return None
    fb = last.feedback_list[index]
    out = {k: v for k, v in vars(fb).items() if v is None or isinstance(v, (str, bool))}
    out["evolving_steps"] = len(evolving)
    return out


def read_run(trace, fed):
    """One task run as RD-Agent logged it, read with RD-Agent's FileStorage."""
    import re

    from rdagent.log.storage import FileStorage
    loops = {}
    for msg in FileStorage(trace).iter_msg():
        m = re.match(r"Loop_(\d+)\.([^.]+)\.(.*)", msg.tag)
        if not m:
            continue
        li, step, tag = int(m.group(1)), m.group(2), m.group(3)
        loop = loops.setdefault(li, {"steps": [], "tags": {}})
        if step not in loop["steps"]:
            loop["steps"].append(step)
        loop["tags"].setdefault(tag, []).append(msg.content)
        evo = re.match(r"evo_loop_(\d+)\.evolving feedback$", tag)
        if evo:
            loop.setdefault("evolving", {})[int(evo.group(1))] = msg.content
    out = []
    for li in sorted(loops):
        tags = loops[li]["tags"]
        last = lambda tag: tags[tag][-1] if tag in tags else None  # noqa: E731
        h = last("hypothesis generation")
        tasks = last("experiment generation") or []
        coder = last("coder result")
        runner = last("runner result")
        fb = last("feedback")
        # fin_factor/fin_model's coder logs the workspace list, fin_quant's the whole experiment.
        workspaces = coder.sub_workspace_list if hasattr(coder, "sub_workspace_list") else (coder or [])
        if runner is not None:
            workspaces = runner.sub_workspace_list
        # RD-Agent keeps sub_workspace_list[i] for sub_tasks[i], the tasks experiment generation logged; each pickle
        # holds its own copies, so they pair by position.
        sub_ws = list(workspaces) if len(workspaces) == len(tasks) else [None] * len(tasks)
        action = getattr(h, "action", None) or ("model" if any(hasattr(t, "architecture") for t in tasks)
                                                 else "factor")
        evolving = loops[li].get("evolving", {})
        factors = [dict(factor_record(t, w), coder_feedback=coder_feedback(evolving, i))
                   for i, (t, w) in enumerate(zip(tasks, sub_ws)) if hasattr(t, "factor_name")]
        models = [dict(model_record(t, w), coder_feedback=coder_feedback(evolving, i))
                  for i, (t, w) in enumerate(zip(tasks, sub_ws)) if hasattr(t, "architecture")]
        record = {
            "loop_id": li,
            "steps": loops[li]["steps"],
            "action": action,
            "hypothesis": hypothesis_record(h) if h is not None else None,
            "factors": factors,
            "models": models,
        }
        if fb is not None:
            record["feedback"] = {
                "decision": bool(fb.decision), "reason": text_or_none(fb.reason),
                "observations": text_or_none(fb.observations),
                "hypothesis_evaluation": text_or_none(fb.hypothesis_evaluation),
                "new_hypothesis": text_or_none(fb.new_hypothesis),
                "code_change_summary": text_or_none(getattr(fb, "code_change_summary", None)),
            }
        else:
            record["feedback"] = None
        if runner is not None:
            exp_ws = str(runner.experiment_workspace.workspace_path)
            record["experiment_workspace_path"] = exp_ws
            record["metrics"] = read_metrics(exp_ws)
            record["logged_result"] = {str(k): float(v) for k, v in runner.result.items()}
            record["run_config"] = run_config(exp_ws)
            based = [e for e in runner.based_experiments if not e.sub_tasks and e.result is not None]
            record["baseline_workspace_path"] = str(based[0].experiment_workspace.workspace_path) if based else None
        else:
            record["experiment_workspace_path"] = None
            record["metrics"] = None
        if fb is None:
            record["status"] = "running"
        elif runner is None:
            record["status"] = "failed"
            record["error"] = text_or_none(fb.reason)
            record["failed_step"] = "running" if "running" in loops[li]["steps"] else "coding"
        else:
            record["status"] = "finished"
        record["step_reached"] = loops[li]["steps"][-1]
        record["fed"] = fed[li] if li < len(fed) else None
        out.append(record)
    return out


def write_record(root):
    import re

    import numpy
    import pandas

    import answers
    runs = []
    traces = sorted(p for p in (root / "log").iterdir() if p.is_dir())
    for trace, name in zip(traces, answers.RUNS):
        runs.append({"name": name, "loop_class": answers.RUNS[name]["loop"], "folder": trace.name,
                     "stored_folder": str(trace), "loops": read_run(trace, answers.RUNS[name]["loops"])})
    commit = Path(list(sys.modules["rdagent"].__path__)[0]).parent / "SOURCE.md"
    record = {
        "stored_root": str(root),
        "python": sys.version.split()[0], "pandas": pandas.__version__, "numpy": numpy.__version__,
        "rdagent_commit": next(iter(re.findall(r"at commit `([0-9a-f]+)`", commit.read_text())), None)
        if commit.exists() else None,
        "runs": runs,
    }
    tmp = root.parent / "record.json.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1))
    tmp.replace(root.parent / "record.json")


def main(argv):
    sys.path.insert(0, str(HERE))
    command, root = argv[1], Path(argv[2])
    if command == "produce":
        import rdagent  # noqa: F401  (fails early, and names the missing module, when PYTHONPATH is wrong)
        produce(root)
    elif command == "resume":
        import rdagent  # noqa: F401
        resume(root)
    elif command in ("run", "continue"):
        run_loop(argv[3], argv[4], resume_session=command == "continue")
    else:
        raise SystemExit(f"unknown command {command}: produce ROOT | resume ROOT")


if __name__ == "__main__":
    main(sys.argv)
