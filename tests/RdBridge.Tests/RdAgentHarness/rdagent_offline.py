"""What RD-Agent's own loops need to run offline: fixed answers in place of the LLM, and Qlib without Qlib.

RD-Agent's settings name the class of each LLM-facing step (hypothesis generation, hypothesis → experiment, the coder,
the summarizer) and of each runner; the classes here take their place. They build their objects with RD-Agent's own
classes and parsers (`convert_response`, `FactorTask`, `ModelTask`, `FactorFBWorkspace`, `HypothesisFeedback`), so
the logged objects are what a real run logs. The runners keep RD-Agent's own experiment workspace
(`QlibFBWorkspace.execute`, which logs `Qlib_execute_log` and `Quantitative Backtesting Chart` and reads the results
back); only the environment it runs `qrun` and `read_exp_res.py` in is replaced, by `OfflineQlibEnv`, which writes
what they write: an MLflow file store with params and metrics, `qlib_res.csv`, and `ret.pkl` (a pandas DataFrame).

Which answer: the task run is named by HARNESS_RUN (answers.RUNS); the loop by how many loops the trace already holds
(one loop at a time, as RD-Agent runs by default), or by the hypothesis text once the loop has one.
"""

import json
import os
import pickle
import time
import uuid
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

import answers
import rdagent.scenarios.qlib.experiment.factor_experiment as factor_experiment
import rdagent.scenarios.qlib.experiment.model_experiment as model_experiment
import rdagent.scenarios.qlib.experiment.quant_experiment as quant_experiment
import rdagent.scenarios.qlib.experiment.workspace as qlib_workspace
from rdagent.app.qlib_rd_loop.conf import FactorBasePropSetting, ModelBasePropSetting
from rdagent.components.coder.CoSTEER import CoSTEER
from rdagent.components.coder.CoSTEER.evaluators import CoSTEERMultiFeedback
from rdagent.components.coder.factor_coder.config import FACTOR_COSTEER_SETTINGS
from rdagent.components.coder.factor_coder.evaluators import FactorSingleFeedback
from rdagent.components.coder.factor_coder.factor import FactorFBWorkspace
from rdagent.components.coder.model_coder.conf import MODEL_COSTEER_SETTINGS
from rdagent.components.coder.model_coder.evaluators import ModelSingleFeedback
from rdagent.components.coder.model_coder.model import ModelFBWorkspace
from rdagent.core.developer import Developer
from rdagent.core.evaluation import Feedback
from rdagent.core.evolving_agent import RAGEvaluator
from rdagent.core.evolving_framework import EvolvingStrategy
from rdagent.core.exception import FactorEmptyError, ModelEmptyError
from rdagent.core.proposal import Experiment2Feedback, HypothesisFeedback
from rdagent.log import rdagent_logger as logger
from rdagent.scenarios.qlib.experiment.factor_experiment import QlibFactorExperiment
from rdagent.scenarios.qlib.experiment.model_experiment import QlibModelExperiment
from rdagent.scenarios.qlib.proposal.factor_proposal import QlibFactorHypothesis2Experiment, QlibFactorHypothesisGen
from rdagent.scenarios.qlib.proposal.model_proposal import QlibModelHypothesis2Experiment, QlibModelHypothesisGen
from rdagent.scenarios.qlib.proposal.quant_proposal import QlibQuantHypothesisGen
from rdagent.utils import convert2bool

HERE = __name__


def run_answers():
    return answers.RUNS[os.environ["HARNESS_RUN"]]["loops"]


def loop_answer(trace):
    return run_answers()[len(trace.hist)]


def answer_for(hypothesis):
    for loop in run_answers():
        if loop["hypothesis"]["hypothesis"] == hypothesis.hypothesis:
            return loop
    raise KeyError(f"no fixed answer for the hypothesis {hypothesis.hypothesis!r}")


def as_llm_json(value):
    return json.dumps(value, ensure_ascii=False)


# --- the LLM-facing steps -------------------------------------------------------------------------------------------

class FixedFactorHypothesisGen(QlibFactorHypothesisGen):
    def gen(self, trace, plan=None):
        return self.convert_response(as_llm_json(loop_answer(trace)["hypothesis"]))


class FixedModelHypothesisGen(QlibModelHypothesisGen):
    def gen(self, trace, plan=None):
        return self.convert_response(as_llm_json(loop_answer(trace)["hypothesis"]))


class FixedQuantHypothesisGen(QlibQuantHypothesisGen):
    def gen(self, trace, plan=None):
        return self.convert_response(as_llm_json(loop_answer(trace)["hypothesis"]))


class FixedFactorHypothesis2Experiment(QlibFactorHypothesis2Experiment):
    def convert(self, hypothesis, trace):
        return self.convert_response(as_llm_json(answer_for(hypothesis)["tasks"]), hypothesis, trace)


class FixedModelHypothesis2Experiment(QlibModelHypothesis2Experiment):
    def convert(self, hypothesis, trace):
        return self.convert_response(as_llm_json(answer_for(hypothesis)["tasks"]), hypothesis, trace)


def task_name(task):
    return getattr(task, "factor_name", None) or task.name


def code_for(task):
    """The answer's code for a task, found by the task's name among the run's loops (CoSTEER's evolving item carries
    the tasks, not the hypothesis)."""
    for loop in run_answers():
        if task_name(task) in loop["code"]:
            return loop["code"][task_name(task)]
    raise KeyError(f"no fixed code for the task {task_name(task)!r}")


def coder_step(task, step):
    kind = "factor" if hasattr(task, "factor_name") else "model"
    steps = answers.coder_steps(task_name(task), kind)
    return steps[min(step, len(steps) - 1)]


class FixedEvolvingStrategy(EvolvingStrategy):
    """CoSTEER's evolving strategy without the LLM: in step k each task's workspace gets the answer's draft or its
    final code (in place, as RD-Agent's MultiProcessEvolvingStrategy injects into the same workspace)."""

    def __init__(self, scen, workspace_class, file_name):
        super().__init__(scen)
        self.workspace_class = workspace_class
        self.file_name = file_name

    def evolve_iter(self, evo, queried_knowledge=None, evolving_trace=None):
        step = len(evolving_trace or [])
        for i, task in enumerate(evo.sub_tasks):
            code = code_for(task)
            if coder_step(task, step)["draft"]:
                code = code.replace("import numpy as np", "import numpy as np  # draft").replace(
                    "import torch", "import torch  # draft") + "\n_unused = volume_ma\n"
            if evo.sub_workspace_list[i] is None:
                evo.sub_workspace_list[i] = self.workspace_class(target_task=task)
            evo.sub_workspace_list[i].inject_files(**{self.file_name: code})
        yield evo


class FixedCoderEvaluator(RAGEvaluator):
    """CoSTEER's evaluator without the LLM: each task's feedback of the step is the answer's, in RD-Agent's own
    FactorSingleFeedback / ModelSingleFeedback, the list in its CoSTEERMultiFeedback."""

    def __init__(self, scen, feedback_class):
        self.scen = scen
        self.feedback_class = feedback_class

    def evaluate_iter(self, queried_knowledge=None, evolving_trace=None):
        step = len(evolving_trace or [])
        evo = yield Feedback()
        feedback = CoSTEERMultiFeedback([
            self.feedback_class(**{k: v for k, v in coder_step(task, step).items() if k != "draft"},
                                value_generated_flag=not coder_step(task, step)["draft"])
            for task in evo.sub_tasks])
        yield feedback
        return feedback


class FixedFactorCoder(CoSTEER):
    """RD-Agent's CoSTEER (its evolving agent logs `evolving code` and `evolving feedback` per step) with the LLM's
    parts fixed; no knowledge base."""

    def __init__(self, scen, *args, **kwargs):
        super().__init__(settings=FACTOR_COSTEER_SETTINGS, eva=FixedCoderEvaluator(scen, FactorSingleFeedback),
                         es=FixedEvolvingStrategy(scen, FactorFBWorkspace, "factor.py"), scen=scen,
                         with_knowledge=False, knowledge_self_gen=False, max_loop=5)


class FixedModelCoder(CoSTEER):
    def __init__(self, scen, *args, **kwargs):
        super().__init__(settings=MODEL_COSTEER_SETTINGS, eva=FixedCoderEvaluator(scen, ModelSingleFeedback),
                         es=FixedEvolvingStrategy(scen, ModelFBWorkspace, "model.py"), scen=scen,
                         with_knowledge=False, knowledge_self_gen=False, max_loop=5)


class FixedFeedback(Experiment2Feedback):
    """The summarizer's answer, turned into a HypothesisFeedback the way RD-Agent's Qlib summarizers do."""

    def generate_feedback(self, exp, trace):
        logger.info("Generating feedback...")
        answer = answer_for(exp.hypothesis)["feedback"]
        return HypothesisFeedback(
            observations=answer.get("Observations", "No observations provided"),
            hypothesis_evaluation=answer.get("Feedback for Hypothesis", "No feedback provided"),
            new_hypothesis=answer.get("New Hypothesis", "No new hypothesis provided"),
            reason=answer.get("Reasoning", "No reasoning provided"),
            decision=convert2bool(answer.get("Replace Best Result", "no")),
        )


# --- the runners: RD-Agent's experiment workspace, Qlib replaced ----------------------------------------------------

def base_env(settings, exp):
    env = {
        "PYTHONPATH": "./",
        "train_start": settings.train_start,
        "train_end": settings.train_end,
        "valid_start": settings.valid_start,
        "valid_end": settings.valid_end,
        "test_start": settings.test_start,
        "feature_names": str(list(exp.base_features.keys())),
        "feature_expressions": str(list(exp.base_features.values())),
    }
    if settings.test_end is not None:
        env["test_end"] = settings.test_end
    if exp.hypothesis is not None and (error := answer_for(exp.hypothesis).get("qrun_error")):
        env["HARNESS_QRUN_ERROR"] = error
    return env


def training_env(task):
    hp = task.training_hyperparameters or {}
    if not hp:
        return {}
    return {
        "n_epochs": str(hp.get("n_epochs", "100")),
        "lr": str(hp.get("lr", "2e-4")),
        "early_stop": str(hp.get("early_stop", 10)),
        "batch_size": str(hp.get("batch_size", 256)),
        "weight_decay": str(hp.get("weight_decay", 0.0001)),
    }


class OfflineFactorRunner(Developer):
    """QlibFactorRunner's choices (baseline first, then the combined factors, with the SOTA model when there is one)
    without computing the factors: Debian has no pyarrow, so no combined_factors_df.parquet is written."""

    def develop(self, exp):
        if exp.based_experiments and exp.based_experiments[-1].result is None:
            logger.info("Baseline experiment execution ...")
            exp.based_experiments[-1] = self.develop(exp.based_experiments[-1])
        env = base_env(FactorBasePropSetting(), exp)
        if exp.based_experiments:
            sota_factors = [t.factor_name for e in exp.based_experiments if isinstance(e, QlibFactorExperiment)
                            for t in e.sub_tasks]
            num_features = len(exp.base_features) + len(sota_factors) + len(exp.sub_tasks)
            sota_model = next((e for e in reversed(exp.based_experiments) if isinstance(e, QlibModelExperiment)), None)
            logger.info("Experiment execution ...")
            if sota_model is not None:
                model_py = sota_model.sub_workspace_list[0].file_dict["model.py"]
                exp.experiment_workspace.inject_files(**{"model.py": model_py})
                env.update(training_env(sota_model.sub_tasks[0]))
                if sota_model.sub_tasks[0].model_type == "TimeSeries":
                    env.update({"dataset_cls": "TSDatasetH", "num_features": num_features, "step_len": 20,
                                "num_timesteps": 20})
                else:
                    env.update({"dataset_cls": "DatasetH", "num_features": num_features})
                conf = "conf_combined_factors_sota_model.yaml"
            else:
                conf = "conf_combined_factors.yaml"
        else:
            conf = "conf_baseline.yaml"
        result, stdout = exp.experiment_workspace.execute(qlib_config_name=conf, run_env=env)
        if result is None:
            logger.error(f"Failed to run this experiment, because {stdout}")
            raise FactorEmptyError(f"Failed to run this experiment, because {stdout}")
        exp.result = result
        exp.stdout = stdout
        return exp


class OfflineModelRunner(Developer):
    """QlibModelRunner's choices: the model's training hyperparameters and dataset class into the template."""

    def develop(self, exp):
        if exp.based_experiments and exp.based_experiments[-1].result is None:
            exp.based_experiments[-1] = self.develop(exp.based_experiments[-1])
        if exp.sub_workspace_list[0].file_dict.get("model.py") is None:
            raise ModelEmptyError("model.py is empty")
        exp.experiment_workspace.inject_files(**{"model.py": exp.sub_workspace_list[0].file_dict["model.py"]})
        env = base_env(ModelBasePropSetting(), exp)
        task = exp.sub_tasks[0]
        env.update(training_env(task))
        logger.info(f"start to run {task.name} model")
        if task.model_type == "TimeSeries":
            env.update({"dataset_cls": "TSDatasetH", "step_len": 20, "num_timesteps": 20})
        else:
            env.update({"dataset_cls": "DatasetH"})
        result, stdout = exp.experiment_workspace.execute(qlib_config_name="conf_baseline_factors_model.yaml",
                                                          run_env=env)
        exp.result = result
        exp.stdout = stdout
        if result is None:
            logger.error(f"Failed to run {task.name}, because {stdout}")
            raise ModelEmptyError(f"Failed to run {task.name} model, because {stdout}")
        return exp


# --- Qlib's qrun and read_exp_res.py, offline -----------------------------------------------------------------------

ANNUAL_DAYS = 238  # Qlib's risk_analysis scales daily returns by 238 trading days
LGB_METRICS = ("l2.train", "l2.valid")


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(value)


def risk(r):
    mean, std = r.mean(), r.std(ddof=1)
    cum = r.cumsum()
    return {
        "mean": float(mean),
        "std": float(std),
        "annualized_return": float(mean * ANNUAL_DAYS),
        "information_ratio": float(mean / std * np.sqrt(ANNUAL_DAYS)),
        "max_drawdown": float((cum - cum.cummax()).min()),
    }


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=True, default_flow_style=False))


class OfflineQlibEnv:
    """Stands in for RD-Agent's Qlib environments (conda or Docker): answers the two commands QlibFBWorkspace runs."""

    def __init__(self, *args, **kwargs):
        pass

    def prepare(self):
        pass

    def check_output(self, local_path, entry, env=None, **kwargs):
        ws = Path(local_path)
        if entry.startswith("qrun "):
            return self.qrun(ws, entry.split(" ", 1)[1], env or {})
        if entry == "python read_exp_res.py":
            return self.read_exp_res(ws)
        raise RuntimeError(f"the offline Qlib environment does not run {entry!r}")

    def qrun(self, ws, conf, env):
        rendered = jinja2.Template((ws / conf).read_text()).render(**env)
        config = yaml.safe_load(rendered)
        task = config["task"]
        mlruns = ws / "mlruns"
        (mlruns / ".trash").mkdir(parents=True, exist_ok=True)
        now = int(time.time() * 1000)
        if not (mlruns / "0").exists():
            (mlruns / "0").mkdir()
            write_yaml(mlruns / "0" / "meta.yaml", {
                "artifact_location": f"file://{mlruns}/0", "creation_time": now, "experiment_id": "0",
                "last_update_time": now, "lifecycle_stage": "active", "name": "Default"})
        rng = np.random.default_rng(int(ws.name[:8], 16))
        exp_id = str(rng.integers(10**17, 10**18))
        run_id = uuid.uuid4().hex
        exp_dir = mlruns / exp_id
        exp_dir.mkdir()
        write_yaml(exp_dir / "meta.yaml", {
            "artifact_location": f"file://{exp_dir}", "creation_time": now, "experiment_id": exp_id,
            "last_update_time": now, "lifecycle_stage": "active", "name": "workflow"})
        run = exp_dir / run_id
        for sub in ("metrics", "params", "tags", "artifacts/portfolio_analysis"):
            (run / sub).mkdir(parents=True)
        params = {"cmd-sys.argv": f"/opt/conda/bin/qrun {conf}"}
        flatten("", task, params)
        for k, v in params.items():
            (run / "params" / k).write_text(v)
        # Qlib keeps the rendered workflow as the run's `config` artifact (a pickle); it exists nowhere else.
        with open(run / "artifacts" / "config", "wb") as f:
            pickle.dump(config, f, protocol=4)
        for k, v in {"mlflow.runName": "mlflow_recorder", "mlflow.user": "root", "mlflow.source.type": "LOCAL",
                     "mlflow.source.name": "/opt/conda/bin/qrun", "hostname": "offline-qlib"}.items():
            (run / "tags" / k).write_text(v)
        error = env.get("HARNESS_QRUN_ERROR")
        model_class = task["model"]["class"]
        head = f"[{os.getpid()}:MainThread](qrun) INFO - "
        log = [head + "qlib.Initialization - data_path={'day': '~/.qlib/qlib_data/cn_data'}",
               head + f"qlib.workflow - Experiment workflow starts: {model_class}"]
        if error:
            log += ["Traceback (most recent call last):", '  File "qlib/data/dataset/handler.py", line 171, in fetch',
                    error]
            self.finish_run(run, exp_id, run_id, now, status=4)
            return "\n".join(log)
        # The backtest of the test segment: one row per trading day, Qlib's columns in Qlib's order.
        days = pd.bdate_range(env.get("test_start", "2017-01-01"), env.get("test_end", "2020-08-01"), name="datetime")
        n = len(days)
        bench = rng.normal(0.0003, 0.012, n)
        ret = bench + rng.normal(0.0004, 0.004, n)
        turnover = rng.uniform(0.05, 0.2, n)
        cost = turnover * 0.0008
        account = 1e8 * np.cumprod(1 + ret - cost)
        report = pd.DataFrame({
            "account": account, "return": ret, "total_turnover": np.cumsum(turnover) * 1e8, "turnover": turnover,
            "total_cost": np.cumsum(cost) * 1e8, "cost": cost, "value": account * 0.98, "cash": account * 0.02,
            "bench": bench}, index=days)
        report.to_pickle(run / "artifacts" / "portfolio_analysis" / "report_normal_1day.pkl", protocol=4)
        ic = float(rng.uniform(0.02, 0.06))
        rank_ic = float(ic + rng.uniform(0.0, 0.01))
        metrics = {"IC": ic, "ICIR": float(ic / 0.11), "Rank IC": rank_ic, "Rank ICIR": float(rank_ic / 0.12)}
        for label, r in (("without_cost", report["return"] - report["bench"]),
                         ("with_cost", report["return"] - report["bench"] - report["cost"])):
            for k, v in risk(r).items():
                metrics[f"1day.excess_return_{label}.{k}"] = v
        metrics.update({"1day.ffr": 1.0, "1day.pa": 0.0, "1day.pos": 0.0})
        for k, v in metrics.items():
            (run / "metrics" / k).write_text(f"{now} {float(v)!r} 0\n")
        if model_class == "LGBModel":
            for k in LGB_METRICS:
                values = np.sort(rng.uniform(0.97, 1.0, 30))[::-1]
                (run / "metrics" / k).write_text("".join(f"{now} {float(v)!r} {i}\n" for i, v in enumerate(values)))
        else:
            best = 0
            for epoch in range(5):
                log.append(f"Epoch{epoch}: train -{0.99 - epoch * 0.002:.6f}, valid -{0.995 - epoch * 0.001:.6f}")
                best = epoch
            log.append(f"best score: -{0.995 - best * 0.001:.6f} @ {best} epoch")
        self.finish_run(run, exp_id, run_id, now, status=3)
        log.append(head + f"qlib.workflow - Recorder {run_id} finished")
        return "\n".join(log)

    @staticmethod
    def finish_run(run, exp_id, run_id, start, status):
        write_yaml(run / "meta.yaml", {
            "artifact_uri": f"file://{run}/artifacts", "end_time": start + 1000, "entry_point_name": "",
            "experiment_id": exp_id, "lifecycle_stage": "active", "run_id": run_id, "run_name": "mlflow_recorder",
            "run_uuid": run_id, "source_name": "", "source_type": 4, "source_version": "", "start_time": start,
            "status": status, "tags": [], "user_id": "root"})

    def read_exp_res(self, ws):
        latest = None
        for meta_path in sorted((ws / "mlruns").glob("*/*/meta.yaml")):
            meta = yaml.safe_load(meta_path.read_text())
            if meta.get("status") != 3 or not any((meta_path.parent / "metrics").iterdir()):
                continue
            if latest is None or meta["end_time"] > latest[0]:
                latest = (meta["end_time"], meta_path.parent)
        if latest is None:
            return "No recorders found"
        run = latest[1]
        metrics = {}
        for f in sorted((run / "metrics").iterdir()):
            last = f.read_text().strip().splitlines()[-1].split(" ")
            metrics[f.name] = float(last[1])
        out = ws / "qlib_res.csv"
        pd.Series(metrics).to_csv(out)
        pd.read_pickle(run / "artifacts" / "portfolio_analysis" / "report_normal_1day.pkl").to_pickle(ws / "ret.pkl")
        return f"Latest recorder: {run.name}\nOutput has been saved to {out}"


RUNTIME_ENVIRONMENT = json.dumps({"python": "offline harness (no Docker, no conda)", "qlib": "offline stand-in"})
DATA_FOLDER_INTRO = "daily_pv.h5: 日频量价数据 (daily price and volume), MultiIndex (datetime, instrument)."


def install():
    """Points RD-Agent's Qlib workspace at the offline environment, and its scenarios at fixed descriptions of the
    runtime and data (building them would run Docker and generate Qlib data)."""
    qlib_workspace.QlibCondaEnv = OfflineQlibEnv
    qlib_workspace.QlibCondaConf = lambda *a, **k: None
    qlib_workspace.QTDockerEnv = OfflineQlibEnv
    for module in (factor_experiment, quant_experiment):
        module.get_data_folder_intro = lambda *a, **k: DATA_FOLDER_INTRO
    for cls in (factor_experiment.QlibFactorScenario, model_experiment.QlibModelScenario,
                quant_experiment.QlibQuantScenario):
        cls.get_runtime_environment = lambda self, *a, **k: RUNTIME_ENVIRONMENT


def settings_for(loop_class):
    """The class paths RD-Agent's settings take for each step, pointed at the classes above."""
    me = HERE
    if loop_class == "FactorRDLoop":
        return dict(hypothesis_gen=f"{me}.FixedFactorHypothesisGen",
                    hypothesis2experiment=f"{me}.FixedFactorHypothesis2Experiment",
                    coder=f"{me}.FixedFactorCoder", runner=f"{me}.OfflineFactorRunner",
                    summarizer=f"{me}.FixedFeedback")
    if loop_class == "ModelRDLoop":
        return dict(hypothesis_gen=f"{me}.FixedModelHypothesisGen",
                    hypothesis2experiment=f"{me}.FixedModelHypothesis2Experiment",
                    coder=f"{me}.FixedModelCoder", runner=f"{me}.OfflineModelRunner",
                    summarizer=f"{me}.FixedFeedback")
    return dict(quant_hypothesis_gen=f"{me}.FixedQuantHypothesisGen",
                factor_hypothesis2experiment=f"{me}.FixedFactorHypothesis2Experiment",
                model_hypothesis2experiment=f"{me}.FixedModelHypothesis2Experiment",
                factor_coder=f"{me}.FixedFactorCoder", model_coder=f"{me}.FixedModelCoder",
                factor_runner=f"{me}.OfflineFactorRunner", model_runner=f"{me}.OfflineModelRunner",
                factor_summarizer=f"{me}.FixedFeedback", model_summarizer=f"{me}.FixedFeedback")
