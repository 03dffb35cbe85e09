#!/usr/bin/python3
"""Writes an RD-Agent directory (log tree + workspaces) the way RD-Agent does, for RdBridge's discovery tests.

Classes are defined at RD-Agent's real module paths with RD-Agent's real attribute names and pickled with CPython's
own pickle at protocol 4, so the files are byte-for-byte what RD-Agent would write for the same objects; exp.result is
a real pandas Series. Runs with Debian's /usr/bin/python3 (python3-pandas).

Usage: write_log.py ROOT RUN [RUN ...] [--stored-root PATH] [--noise N] [--running] [--fail]
  RUN is GENERATION:SCENARIO:LOOPS:FOLDER, GENERATION one of v03 (flat: no Loop_N or step folders, every loop's
  pickles in the run's r/, d/ and ef/ folders, init/ for setup objects; no feedback for a skipped loop), v04
  (direct_exp_gen with the old r./d./ef. tag segments and init.), v08 (no segments, time_info), head (plus the
  record step);
  SCENARIO one of fin_factor, fin_model, fin_quant.
Prints a JSON manifest of what it wrote (per loop: status, action, hypothesis, decision, workspaces by role).
"""
import datetime
import json
import os
import pathlib
import pickle
import sys
import types
import uuid

import pandas as pd

UTC = datetime.timezone.utc


def module(path):
    """Creates (or returns) a module at PATH in sys.modules, with its parents, so pickle names it there."""
    parts = path.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            if i > 1:
                setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], sys.modules[name])
    return sys.modules[path]


def at(path):
    """Class decorator: puts the class at RD-Agent's module PATH."""

    def place(cls):
        cls.__module__ = path
        setattr(module(path), cls.__name__, cls)
        return cls

    return place


@at("rdagent.core.proposal")
class Hypothesis:
    def __init__(self, hypothesis, reason, li=0):
        self.hypothesis = hypothesis
        self.reason = reason
        self.concise_reason = f"短期动量在第 {li} 轮仍然有效"
        self.concise_observation = f"Loop {li}: IC of the SOTA factors is 0.03"
        self.concise_justification = "investors under-react to news for about two weeks"
        self.concise_knowledge = "If momentum persists, then a 10-day return factor ranks stocks well."


@at("rdagent.scenarios.qlib.proposal.quant_proposal")
class QlibQuantHypothesis(Hypothesis):
    def __init__(self, hypothesis, reason, action, li=0):
        super().__init__(hypothesis, reason, li)
        self.action = action


@at("rdagent.core.proposal")
class HypothesisFeedback:
    def __init__(self, decision, reason, exception=None, li=0):
        self.decision = decision
        self.eda_improvement = None
        self.reason = reason
        self.exception = exception
        self.code_change_summary = f"loop {li}: window 10 → 20"
        self.observations = f"回测完成：第 {li} 轮 IC 为 {0.03 + 0.001 * li:.3f}" if exception is None else None
        self.hypothesis_evaluation = (f"Loop {li}: the hypothesis is supported" if decision
                                      else f"Loop {li}: the hypothesis is not supported")
        self.new_hypothesis = f"Loop {li + 1} should try a liquidity factor (换手率)"
        self.acceptable = decision


@at("rdagent.core.exception")
class CoderError(Exception):
    pass


@at("rdagent.components.coder.CoSTEER.evaluators")
class CoSTEERSingleFeedbackDeprecated:
    """FactorSingleFeedback / ModelSingleFeedback (aliases of this class in RD-Agent)."""

    def __init__(self, name, step, decision):
        self.execution_feedback = f"{name} 第 {step} 步执行{'成功' if decision else '失败'} (step {step})"
        self.code_feedback = f"{name}: code review of step {step} (代码审查)"
        self.value_feedback = f"{name}: value check {'passed' if decision else 'failed'}" if step else None
        self.final_decision = decision
        self.final_feedback = f"{name} 最终{'接受' if decision else '拒绝'}"
        self.value_generated_flag = step > 0
        self.final_decision_based_on_gt = False
        self.source_feedback = {}
        self.shape_feedback = "shape (datetime, instrument) ✓" if step else None


@at("rdagent.components.coder.CoSTEER.evaluators")
class CoSTEERSingleFeedback:
    """The newer dataclass: execution, return_checking, code."""

    def __init__(self, name, step, decision):
        self.execution = f"{name}: ran in step {step} (执行)"
        self.return_checking = f"{name}: return value {'ok' if decision else 'has NaN'}"
        self.code = f"{name}: 代码第 {step} 版"
        self.final_decision = decision
        self.raw_execution = "stdout " * 3
        self.source_feedback = {}


@at("rdagent.components.coder.CoSTEER.evaluators")
class CoSTEERMultiFeedback:
    def __init__(self, feedback_list):
        self.feedback_list = feedback_list


def coder_feedback_json(fb, steps):
    """What RdBridge's coder_feedback must hold for one logged entry (null fields where the class has none)."""
    if fb is None:
        return None
    v = vars(fb)
    return {"evolving_steps": steps, "final_decision": v.get("final_decision"),
            "execution": v.get("execution_feedback", v.get("execution")), "return_checking": v.get("return_checking"),
            "value_feedback": v.get("value_feedback"), "shape_feedback": v.get("shape_feedback"),
            "code": v.get("code_feedback", v.get("code")), "final_feedback": v.get("final_feedback")}


@at("rdagent.core.experiment")
class RunningInfo:
    def __init__(self):
        self.result = None
        self.running_time = None


class FBWorkspaceBase:
    def __init__(self, path, files):
        self.target_task = None
        self.feedback = None
        self.running_info = RunningInfo()
        self.file_dict = dict(files)
        self.workspace_path = path
        self.ws_ckp = None
        self.change_summary = None


@at("rdagent.scenarios.qlib.experiment.workspace")
class QlibFBWorkspace(FBWorkspaceBase):
    pass


@at("rdagent.components.coder.factor_coder.factor")
class FactorFBWorkspace(FBWorkspaceBase):
    pass


@at("rdagent.components.coder.model_coder.model")
class ModelFBWorkspace(FBWorkspaceBase):
    pass


@at("rdagent.components.coder.factor_coder.factor")
class FactorTask:
    """RD-Agent's FactorTask keeps factor_description in Task.description."""

    def __init__(self, name):
        self.version = 1
        self.name = name
        n = name.rsplit("_", 1)[-1].rstrip("D")
        self.description = f"[动量因子] {name}: 过去 {n} 日收益率，衡量短期价格动量"
        self.user_instructions = None
        self.factor_name = name
        self.factor_formulation = f"\\frac{{close_t}}{{close_{{t-{n}}}}} - 1"
        self.variables = {"close_t": "第 t 日收盘价", f"close_{{t-{n}}}": f"{n} 个交易日前的收盘价"}
        self.factor_resources = None
        self.factor_implementation = False


@at("rdagent.components.coder.model_coder.model")
class ModelTask:
    def __init__(self, name):
        self.version = 1
        self.name = name
        self.description = f"{name}: a two-layer GRU over the last 20 days of features"
        self.user_instructions = None
        self.formulation = "h_t = \\mathrm{GRU}(x_t, h_{t-1}), \\hat{y} = W h_T + b"
        self.architecture = "2-layer GRU (hidden 64, dropout 0.1) + linear head"
        self.variables = {"x_t": "features on day t", "h_t": "hidden state"}
        self.hyperparameters = {"hidden_size": "64", "num_layers": "2", "dropout": "0.1"}
        self.training_hyperparameters = {"n_epochs": "100", "lr": "5e-4", "early_stop": "10", "batch_size": "256"}
        self.model_type = "TimeSeries"


class ExperimentBase:
    def __init__(self, hypothesis, tasks, subs, based, workspace):
        self.hypothesis = hypothesis
        self.sub_tasks = tasks
        self.sub_workspace_list = subs
        self.based_experiments = based
        self.experiment_workspace = workspace
        self.prop_dev_feedback = None
        self.running_info = RunningInfo()
        self.sub_results = {}
        self.local_selection = None
        self.plan = None
        self.user_instructions = None
        self.base_features = {"RESI5": "Resi($close, 5)/$close"}
        self.base_feature_codes = {}
        self.stdout = ""


@at("rdagent.scenarios.qlib.experiment.factor_experiment")
class QlibFactorExperiment(ExperimentBase):
    pass


@at("rdagent.scenarios.qlib.experiment.model_experiment")
class QlibModelExperiment(ExperimentBase):
    pass


@at("rdagent.scenarios.qlib.experiment.factor_experiment")
class QlibFactorScenario:
    def __init__(self):
        self._background = "Qlib factor research on CSI300"


@at("rdagent.scenarios.qlib.experiment.model_experiment")
class QlibModelScenario:
    def __init__(self):
        self._background = "Qlib model research on CSI300"


@at("rdagent.scenarios.qlib.experiment.quant_experiment")
class QlibQuantScenario:
    def __init__(self):
        self._background = "Qlib factor and model research on CSI300"


SCENARIOS = {
    "fin_factor": (QlibFactorScenario, "rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorScenario"),
    "fin_model": (QlibModelScenario, "rdagent.scenarios.qlib.experiment.model_experiment.QlibModelScenario"),
    "fin_quant": (QlibQuantScenario, "rdagent.scenarios.qlib.experiment.quant_experiment.QlibQuantScenario"),
}

CONF = """qlib_init:
  provider_uri: "~/.qlib/qlib_data/cn_data"
  region: cn
market: &market csi300
benchmark: &benchmark SH000300
data_handler_config: &data_handler_config
  start_time: 2008-01-01
  end_time: 2020-08-01
  instruments: *market
port_analysis_config: &port_analysis_config
  strategy:
    class: TopkDropoutStrategy
    module_path: qlib.contrib.strategy
    kwargs:
      signal: <PRED>
      topk: 50
      n_drop: 5
  backtest:
    start_time: 2017-01-01
    end_time: 2020-08-01
    account: 100000000
    benchmark: *benchmark
task:
  model:
    class: {model_class}
    module_path: {model_module}
  dataset:
    class: DatasetH
    module_path: qlib.data.dataset
    kwargs:
      handler:
        class: DataHandlerLP
        module_path: qlib.contrib.data.handler
        kwargs: *data_handler_config
      segments:
        train: [2008-01-01, 2014-12-31]
        valid: [2015-01-01, 2016-12-31]
        test: [2017-01-01, 2020-08-01]
"""

# A model experiment's template as RD-Agent leaves it in the workspace: the training settings are Jinja placeholders
# its model runner fills from environment variables while qrun runs; only the MLflow params keep what was used.
MODEL_TASK = """task:
  model:
    class: GeneralPTNN
    module_path: qlib.contrib.model.pytorch_general_nn
    kwargs:
      n_epochs: {{ n_epochs }}
      lr: {{ lr }}
      early_stop: {{ early_stop }}
      batch_size: {{ batch_size }}
      weight_decay: {{ weight_decay }}
      metric: loss
      loss: mse
      GPU: 0
      pt_model_uri: "model.model_cls"
      pt_model_kwargs: {
        "num_features": 20,
        {% if num_timesteps %}num_timesteps: {{ num_timesteps }}{% endif %}
      }
  dataset:
    class: {{ dataset_cls | default("DatasetH") }}
    module_path: qlib.data.dataset
    kwargs:
      handler:
        class: DataHandlerLP
        module_path: qlib.contrib.data.handler
        kwargs: *data_handler_config
      segments:
        train: [2008-01-01, 2014-12-31]
        valid: [2015-01-01, 2016-12-31]
        test: [2017-01-01, 2020-08-01]
      {% if step_len %}step_len: {{ step_len }}{% endif %}
"""

# What Qlib logs as the run's params for that template rendered with a time-series model's settings: the task
# flattened with "." and every value as str(value).
MODEL_PARAMS = {
    "cmd-sys.argv": "/opt/conda/bin/qrun conf_baseline_factors_model.yaml",
    "model.class": "GeneralPTNN",
    "model.module_path": "qlib.contrib.model.pytorch_general_nn",
    "model.kwargs.n_epochs": "100",
    "model.kwargs.lr": "0.0005",
    "model.kwargs.early_stop": "10",
    "model.kwargs.batch_size": "256",
    "model.kwargs.weight_decay": "0.0001",
    "model.kwargs.metric": "loss",
    "model.kwargs.loss": "mse",
    "model.kwargs.GPU": "0",
    "model.kwargs.pt_model_uri": "model.model_cls",
    "model.kwargs.pt_model_kwargs.num_features": "23",
    "model.kwargs.pt_model_kwargs.num_timesteps": "20",
    "dataset.class": "TSDatasetH",
    "dataset.module_path": "qlib.data.dataset",
    "dataset.kwargs.step_len": "20",
    "dataset.kwargs.segments.train": "[datetime.date(2008, 1, 1), datetime.date(2014, 12, 31)]",
    "dataset.kwargs.segments.valid": "[datetime.date(2015, 1, 1), datetime.date(2016, 12, 31)]",
    "dataset.kwargs.segments.test": "[datetime.date(2017, 1, 1), datetime.date(2020, 8, 1)]",
}

FACTOR_PY = '''"""[Momentum Factor] {name}"""
import pandas as pd


def calculate_{name}():
    df = pd.read_hdf("daily_pv.h5", key="data")
    result = df["$close"].groupby(level="instrument").pct_change({window}).to_frame("{name}")
    result.to_hdf("result.h5", key="data")


if __name__ == "__main__":
    calculate_{name}()
'''

MODEL_PY = """import torch
from torch import nn


class GRUModel(nn.Module):
    def __init__(self, num_features, num_timesteps=20):
        super().__init__()
        self.gru = nn.GRU(num_features, 64, batch_first=True)
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1, :]).squeeze(-1)


model_cls = GRUModel
"""


def tasks_of(li, model):
    if model:
        return [ModelTask(f"GRU_{li}")]
    return [FactorTask(f"MOM_{li}_10D"), FactorTask(f"VOL_{li}_20D")]


class Writer:
    def __init__(self, root, stored_root, noise):
        self.root = pathlib.Path(root)
        self.stored_root = stored_root
        self.noise = noise
        self.ws_root = self.root / "git_ignore_folder" / "RD-Agent_workspace"
        self.clock = datetime.datetime(2025, 7, 1, 8, 30, 12, 123456, tzinfo=UTC)
        self.counter = 0

    def tick(self, minutes=1):
        self.clock += datetime.timedelta(minutes=minutes, microseconds=137)
        return self.clock

    def stored(self, local):
        """The workspace path as RD-Agent's machine saw it (a pathlib path object, as FBWorkspace holds it)."""
        rel = pathlib.Path(local).relative_to(self.root).as_posix()
        if self.stored_root is None:
            return pathlib.PosixPath(local)
        text = self.stored_root.rstrip("/") + "/" + rel
        return pathlib.PosixPath(text)

    def log(self, trace, tag_path, obj, pid="12345"):
        folder = trace.joinpath(*tag_path) / pid
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.tick(0).strftime("%Y-%m-%d_%H-%M-%S-%f")
        self.counter += 1
        path = folder / f"{stamp}.pkl"
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=4)
        self.tick()
        return path

    def workspace(self, kind, files):
        wid = uuid.uuid4().hex
        folder = self.ws_root / wid
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                (folder / name).write_text(content)
        cls = {"experiment": QlibFBWorkspace, "factor": FactorFBWorkspace, "model": ModelFBWorkspace}[kind]
        code = {k: v for k, v in files.items() if (k.endswith(".py") or k.endswith(".yaml")) and "/" not in k}
        return wid, cls(self.stored(folder), code)

    def result_files(self, ic, model):
        metrics = pd.Series({
            "IC": ic, "ICIR": ic * 8, "Rank IC": ic * 1.05, "Rank ICIR": ic * 8.4,
            "1day.excess_return_with_cost.annualized_return": ic * 2,
            "1day.excess_return_with_cost.information_ratio": ic * 20,
            "1day.excess_return_with_cost.max_drawdown": -0.08,
            "1day.excess_return_without_cost.annualized_return": ic * 2.5,
        }, name="0")
        dates = pd.date_range("2017-01-03", periods=30, freq="B")
        ret = pd.DataFrame({"return": [0.001 * i for i in range(30)], "bench": [0.0005] * 30,
                            "cost": [0.0001] * 30, "turnover": [0.1] * 30}, index=dates)
        import io
        buf = io.BytesIO()
        ret.to_pickle(buf, protocol=5)
        files = {
            "README.md": "# Qlib experiment workspace\n",
            "read_exp_res.py": "# writes qlib_res.csv and ret.pkl\n",
            "qlib_res.csv": metrics.to_csv(),
            "ret.pkl": buf.getvalue(),
        }
        if model:
            files["conf_baseline_factors_model.yaml"] = CONF[:CONF.index("task:")] + MODEL_TASK
            files["model.py"] = MODEL_PY
            run_id = uuid.uuid4().hex
            run = f"mlruns/402845839201358417/{run_id}"
            files["mlruns/402845839201358417/meta.yaml"] = "experiment_id: '402845839201358417'\nname: workflow\n"
            files[run + "/meta.yaml"] = ("end_time: 1751360000000\nexperiment_id: '402845839201358417'\n"
                                         f"run_id: {run_id}\nrun_name: mlflow_recorder\n"
                                         "start_time: 1751350000000\nstatus: 3\n")
            for name, value in MODEL_PARAMS.items():
                files[f"{run}/params/{name}"] = value
        else:
            files["conf_combined_factors.yaml"] = CONF.format(model_class="LGBModel",
                                                              model_module="qlib.contrib.model.gbdt")
        return metrics, ret, files

    def noise_files(self, trace, loop_path, count):
        for i in range(count):
            self.log(trace, loop_path + ["debug_llm"], {"system": "s", "user": f"u{i}", "resp": "r" * 64,
                                                         "start": self.clock, "end": self.clock})
        if count:
            self.log(trace, loop_path + ["debug_tpl"], {"uri": "x", "template": "t", "context": {}, "rendered": "r"})
            self.log(trace, loop_path + ["token_cost"], {"model": "gpt", "prompt_tokens": 1, "completion_tokens": 1,
                                                          "cost": 0.1, "accumulated_cost": 0.1})

    def run(self, generation, scenario, loops, folder, running, fail):
        trace = self.root / "log" / folder
        old = generation in ("v03", "v04")
        if generation == "v03":
            steps = ["propose", "exp_gen", "coding", "running", "feedback"]
        else:
            steps = ["direct_exp_gen", "coding", "running", "feedback"] + (["record"] if generation == "head" else [])
        seg = {"gen": ["r"] if old else [], "code": ["d"] if old else [], "run": ["ef"] if old else [],
               "fb": ["ef"] if old else []}
        scen_cls, scen_path = SCENARIOS[scenario]
        init = ["init"] if old else []
        self.log(trace, init + ["scenario"], scen_cls())
        if not old:
            self.log(trace, ["RDLOOP_SETTINGS"], {"scen": scen_path, "evolving_n": 10, "train_start": "2008-01-01",
                                                  "test_end": "2020-08-01", "coder": "rdagent.x.Coder"})
            self.log(trace, ["RD_AGENT_SETTINGS"], {"workspace_path": str(self.ws_root), "multi_proc_n": 1})
        manifest = {"folder": folder, "generation": generation, "scenario": scenario, "loops": []}
        baseline = None
        for li in range(loops):
            action = ({"fin_factor": "factor", "fin_model": "model"}.get(scenario)
                      or ("factor" if li % 2 == 0 else "model"))
            model = action == "model"
            is_running = running and li == loops - 1
            failed = fail and loops >= 3 and li == loops - 2
            loop = {"loop_id": li, "action": action, "workspaces": {}}
            lp = [f"Loop_{li}"]

            def where(step, *rest):
                """Where a tag of a step goes: v0.3 wrote no Loop_N or step folders, only the r/d/ef segments."""
                return list(rest) if generation == "v03" else lp + [step] + list(rest)

            def timed(step, body):
                start = self.tick(0)
                body()
                end = self.tick()
                if generation != "v03" and generation != "v04":
                    self.log(trace, lp + [step, "time_info"], {"start_time": start, "end_time": end})
                return start, end

            text = f"Loop {li}: {'a GRU over 20 days' if model else 'momentum over 10 days predicts returns'}"
            if scenario == "fin_quant":
                hyp = QlibQuantHypothesis(text, f"because of loop {li} (原因)", action, li)
            else:
                hyp = Hypothesis(text, f"because of loop {li} (原因)", li)
            loop["hypothesis"] = text
            loop["texts"] = {"hypothesis": vars(hyp), "tasks": [vars(t) for t in tasks_of(li, action == "model")]}
            first = steps[0]
            tasks = tasks_of(li, model)
            self.noise_files(trace, where(first, *seg["gen"]), self.noise // 2)
            if generation == "v03":
                gen = seg["gen"]
                s1, _ = timed("propose",
                              lambda: self.log(trace, where("propose", *gen, "hypothesis generation"), hyp))
                timed("exp_gen", lambda: self.log(trace, where("exp_gen", *gen, "experiment generation"), tasks))
            else:
                def gen():
                    self.log(trace, where("direct_exp_gen", *seg["gen"], "hypothesis generation"), hyp)
                    self.log(trace, where("direct_exp_gen", *seg["gen"], "experiment generation"), tasks)
                s1, _ = timed("direct_exp_gen", gen)
            loop["started"] = s1.isoformat()
            subs = []
            for t in tasks:
                if model:
                    wid, ws = self.workspace("model", {"model.py": MODEL_PY})
                else:
                    wid, ws = self.workspace("factor", {"factor.py": FACTOR_PY.format(name=t.name, window=10)})
                loop["workspaces"].setdefault("sub_workspace", []).append(wid)
                subs.append(ws)
            exp_cls = QlibModelExperiment if model else QlibFactorExperiment
            metrics, _, files = self.result_files(0.03 + 0.001 * li, model)
            based = []
            if scenario == "fin_factor" and li == 0:
                bid, bws = self.workspace("experiment", self.result_files(0.02, False)[2])
                baseline = exp_cls(None, [], [], [], bws)
                baseline.running_info.result = self.result_files(0.02, False)[0]
                loop["workspaces"]["baseline_workspace"] = [bid]
            if baseline is not None:
                based = [baseline]
            eid, ews = self.workspace("experiment", files if not failed else
                                      {k: v for k, v in files.items() if k not in ("qlib_res.csv", "ret.pkl")})
            exp = exp_cls(hyp, tasks, subs, based, ews)
            if generation in ("v03", "v04"):
                exp.result = metrics
            else:
                exp.running_info.result = metrics
            coder_payload = exp if scenario == "fin_quant" else subs
            end = {}

            # CoSTEER's two evolving steps: the first rejected, the second accepted (head: the last task skipped in
            # it, None in the list). v08 logs the newer feedback class; v0.3 the bare list.
            cls = CoSTEERSingleFeedback if generation == "v08" else CoSTEERSingleFeedbackDeprecated
            names = [t.name for t in tasks]
            evolving = [[cls(n, k, k == 1) for n in names] for k in range(2)]
            if generation == "head" and len(names) > 1:
                evolving[1][-1] = None
            loop["texts"]["coder"] = [coder_feedback_json(fb, 2) for fb in evolving[1]]

            def code():
                for k, fbs in enumerate(evolving):
                    place = (lambda tag: where("coding", "d", tag)) if generation == "v03" else \
                        (lambda tag, k=k: lp + ["coding", f"evo_loop_{k}", tag])
                    self.log(trace, place("evolving code"), subs)
                    self.log(trace, place("evolving feedback"), fbs if generation == "v03"
                             else CoSTEERMultiFeedback(fbs))
                self.log(trace, where("coding", *seg["code"], "coder result"), coder_payload)
            timed("coding", code)
            self.noise_files(trace, where("coding", *seg["code"]), self.noise - self.noise // 2)
            # A loop RD-Agent is in the running step of right now: qrun is going, nothing logged for it yet. What it
            # will log once done goes to <root>/later/<folder>, for a test to move into the log.
            log_trace = trace
            if is_running:
                if generation != "v03":
                    (trace / lp[0] / "running").mkdir(parents=True, exist_ok=True)
                trace = self.root / "later" / folder
            if failed:
                err = CoderError("factor.py raised KeyError: '$vwap'")
                timed("running", lambda: None)
                fb = HypothesisFeedback(False, str(err), exception=err, li=li)
                if generation == "v03":
                    # v0.3 skipped such a loop straight to the next one: no feedback was logged.
                    e = self.tick(0)
                else:
                    _, e = timed("feedback", lambda: self.log(trace, where("feedback", *seg["fb"], "feedback"), fb))
                loop.update(status="failed", decision=False, error=str(err))
                loop["workspaces"].pop("experiment_workspace", None)
                if scenario == "fin_quant":
                    loop["workspaces"]["experiment_workspace"] = [eid]
            else:
                def run():
                    if scenario == "fin_factor" and li == 0:
                        self.log(trace, where("running", *seg["run"], "Qlib_execute_log"), "baseline qrun output")
                        self.log(trace, where("running", *seg["run"], "Quantitative Backtesting Chart"),
                                 self.result_files(0.02, False)[1])
                    self.log(trace, where("running", *seg["run"], "Qlib_execute_log"), "qrun output")
                    self.log(trace, where("running", *seg["run"], "Quantitative Backtesting Chart"),
                             self.result_files(0.03, model)[1])
                    self.log(trace, where("running", *seg["run"], "runner result"), exp)
                timed("running", run)
                decision = li % 2 == 0
                fb = HypothesisFeedback(decision, f"IC {'improved' if decision else 'fell'} in loop {li}", li=li)
                _, e = timed("feedback", lambda: self.log(trace, where("feedback", *seg["fb"], "feedback"), fb))
                loop.update(status="success", decision=decision)
                loop["workspaces"]["experiment_workspace"] = [eid]
            if "record" in steps:
                _, e = timed("record", lambda: None)
            loop["ended"] = e.isoformat()
            if generation != "v03" or not failed:
                loop["texts"]["feedback"] = {k: v for k, v in vars(fb).items() if k != "exception"}
            if is_running:
                trace = log_trace
                # The coder's result is logged: its workspaces are the loop's already (fin_quant's is the experiment).
                coded = {"sub_workspace": loop["workspaces"].get("sub_workspace", [])}
                if scenario == "fin_quant":
                    coded["experiment_workspace"] = [eid]
                loop = {"loop_id": li, "action": action, "hypothesis": text, "started": loop["started"],
                        "status": "running", "workspaces": coded, "when_done": loop,
                        "texts": {k: v for k, v in loop["texts"].items() if k != "feedback"}}
                manifest["loops"].append(loop)
                continue
            manifest["loops"].append(loop)
            # The loop object snapshot RD-Agent keeps to resume: not a log message.
            sess = trace / "__session__" / str(li)
            sess.mkdir(parents=True, exist_ok=True)
            for si, name in enumerate(steps):
                (sess / f"{si}_{name}").write_bytes(pickle.dumps({"step_idx": si, "loop": li}, protocol=4))
        return manifest


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = {}
    it = iter(argv)
    for a in it:
        if a in ("--stored-root", "--noise"):
            opts[a] = next(it)
            args.remove(opts[a])
        elif a.startswith("--"):
            opts[a] = True
    root, runs = args[0], args[1:]
    w = Writer(root, opts.get("--stored-root"), int(opts.get("--noise", 3)))
    manifest = []
    for spec in runs:
        generation, scenario, loops, folder = spec.split(":", 3)
        manifest.append(w.run(generation, scenario, int(loops), folder, "--running" in opts, "--fail" in opts))
    json.dump(manifest, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
