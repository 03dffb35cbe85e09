"""The fixed answers the harness gives RD-Agent in place of the LLM, per task run and loop.

Each loop's entry holds what an LLM would have answered at each LLM-facing step, in the JSON shapes RD-Agent's own
prompts ask for (RD-Agent's `convert_response` methods parse them): the hypothesis, the tasks (factors or models), the
code the coder would have written, and the feedback. Texts mix Chinese and English, as real runs do. `qrun_error` makes
the offline qrun fail for that loop (the run ends in FactorEmptyError and RD-Agent skips to its feedback).
"""

FACTOR_CODE = '''import numpy as np
import pandas as pd


def calculate_{name}():
    # {comment}
    df = pd.read_hdf("daily_pv.h5", key="data")
    close = df["$close"].groupby(level="instrument")
    volume = df["$volume"].groupby(level="instrument")
    value = {expression}
    value.name = "{name}"
    value.to_frame().to_hdf("result.h5", key="data")


if __name__ == "__main__":
    calculate_{name}()
'''


def factor_code(name, comment, expression):
    return FACTOR_CODE.format(name=name, comment=comment, expression=expression)


MODEL_CODE = '''import torch
from torch import nn


class {cls}(nn.Module):
    """{doc}"""

    def __init__(self, num_features, num_timesteps=None, hidden_size={hidden}):
        super().__init__()
        self.{layer} = {layer_ctor}
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        {forward}
        return self.head(h).squeeze(-1)


model_cls = {cls}
'''


def model_code(cls, doc, hidden, layer, layer_ctor, forward):
    return MODEL_CODE.format(cls=cls, doc=doc, hidden=hidden, layer=layer, layer_ctor=layer_ctor, forward=forward)


def coder_steps(name, kind):
    """What CoSTEER's evaluator says of each evolving step of one task: a first draft it rejects, then the answer's
    code it accepts (RD-Agent's FactorSingleFeedback/ModelSingleFeedback fields). Texts mix Chinese and English."""
    what = "因子" if kind == "factor" else "模型"
    return [
        {
            "draft": True,
            "execution_feedback": f"{name}: 执行失败 (execution failed): NameError: name 'volume_ma' is not defined",
            "value_feedback": f"没有生成{what}值，跳过数值检查 (no {kind} value generated, value evaluation skipped).",
            "shape_feedback": "No output generated from the function. 没有输出。",
            "code_feedback": f"{name} 使用了未定义的变量 volume_ma; define it before use (先定义再使用).",
            "final_feedback": f"{name} 的第一版实现未通过 (the first draft fails).",
            "final_decision": False,
        },
        {
            "draft": False,
            "execution_feedback": f"{name}: 执行成功，输出形状正确 (ran without error).",
            "value_feedback": f"{what}值无缺失，范围合理 (no NaN, values in a plausible range).",
            "shape_feedback": "输出为 (datetime, instrument) 的单列 (one column over datetime × instrument).",
            "code_feedback": "代码清晰；rolling 窗口与公式一致 (the rolling windows match the formulation).",
            "final_feedback": f"{name} 的实现正确，接受 (the implementation is accepted).",
            "final_decision": True,
        },
    ]


def hypothesis(text, reason, concise_reason, observation, justification, knowledge, action=None):
    h = {
        "hypothesis": text,
        "reason": reason,
        "concise_reason": concise_reason,
        "concise_observation": observation,
        "concise_justification": justification,
        "concise_knowledge": knowledge,
    }
    if action is not None:
        h["action"] = action
    return h


def feedback(observations, evaluation, new_hypothesis, reasoning, replace):
    # The keys RD-Agent's feedback prompts ask the LLM for.
    return {
        "Observations": observations,
        "Feedback for Hypothesis": evaluation,
        "New Hypothesis": new_hypothesis,
        "Reasoning": reasoning,
        "Replace Best Result": replace,
    }


MOMENTUM_LOOP = {
    "hypothesis": hypothesis(
        "短期动量在成交量放大时更可靠：10日收益率乘以量比能预测次日超额收益。"
        " Short-term momentum is more reliable when volume expands.",
        "放量上涨说明有新资金进入 (new money flows in), so the price trend tends to persist for a few days.",
        "Volume confirms momentum / 量价配合",
        "前期 Alpha20 基线的 IC 约 0.04，缺少量价交互项。",
        "Momentum factors are the easiest to test first; 先试最简单的量价因子。",
        "如果动量伴随放量，则趋势延续的概率更高 (if momentum comes with volume, then the trend persists).",
    ),
    "tasks": {
        "MOM_VOL_10D": {
            "description": "[Momentum Factor] 10日动量乘以量比 (10-day return times the volume ratio).",
            "formulation": "MOM\\_VOL_{10} = \\frac{P_t}{P_{t-10}} \\cdot \\frac{V_t}{\\bar{V}_{20}}",
            "variables": {
                "P_t": "第 t 日收盘价 (close price on day t)",
                "V_t": "第 t 日成交量 (volume on day t)",
                "\\bar{V}_{20}": "20日平均成交量 (20-day mean volume)",
            },
        },
        "Turnover_Zscore_20D": {
            "description": "[Liquidity Factor] 成交量相对20日均值的标准分 (z-score of volume over 20 days).",
            "formulation": "Z_t = \\frac{V_t - \\mu_{20}(V)}{\\sigma_{20}(V)}",
            "variables": {"V_t": "成交量 volume", "\\mu_{20}": "20日均值", "\\sigma_{20}": "20日标准差"},
        },
    },
    "code": {
        "MOM_VOL_10D": factor_code("MOM_VOL_10D", "10日动量 × 量比",
                                   "close.pct_change(10) * (df['$volume'] / volume.transform("
                                   "lambda v: v.rolling(20).mean()))"),
        "Turnover_Zscore_20D": factor_code("Turnover_Zscore_20D", "成交量标准分",
                                           "volume.transform(lambda v: (v - v.rolling(20).mean()) / "
                                           "v.rolling(20).std())"),
    },
    "feedback": feedback(
        "IC 从 0.0401 提高到 0.0467，年化超额收益 (annualized excess return) 也提高了。",
        "假设得到支持：放量确实增强了动量信号 (the hypothesis is supported).",
        "尝试用换手率代替成交量，并加入隔夜跳空 (try turnover instead of volume, add the overnight gap).",
        "两个新因子都提高了 IC，且最大回撤没有恶化，所以替换当前最优结果。",
        "yes",
    ),
}

GAP_LOOP = {
    "hypothesis": hypothesis(
        "隔夜跳空反转：开盘相对前收盘的跳空幅度越大，日内越容易回补。"
        " Overnight gaps tend to revert within the day.",
        "Overnight news is over-reacted to at the open; 隔夜信息在开盘时被过度反应。",
        "Gap reversal / 跳空回补",
        "上一轮量价因子有效，但没有用到开盘价。",
        "Opening prices carry information the close-only factors miss.",
        "若开盘跳空过大，则当日收益倾向于反向 (if the gap is large, the day's return tends to reverse).",
    ),
    "tasks": {
        "Overnight_Gap_5D": {
            "description": "[Reversal Factor] 5日平均隔夜跳空 (5-day mean overnight gap, open over previous close).",
            "formulation": "GAP_5 = \\frac{1}{5}\\sum_{i=0}^{4} \\left(\\frac{O_{t-i}}{C_{t-i-1}} - 1\\right)",
            "variables": {"O_t": "开盘价 open", "C_{t-1}": "前一日收盘价 previous close"},
        },
    },
    "code": {
        "Overnight_Gap_5D": factor_code("Overnight_Gap_5D", "隔夜跳空",
                                        "(df['$open'] / close.shift(1) - 1).groupby(level='instrument')"
                                        ".transform(lambda g: g.rolling(5).mean())"),
    },
    "qrun_error": "KeyError: '$vwap' — 数据中没有 $vwap 字段 (the handler asked for a field daily_pv.h5 lacks)",
    "feedback": None,  # the loop fails before feedback: RD-Agent writes the feedback from the exception
}

SKEW_LOOP = {
    "hypothesis": hypothesis(
        "收益偏度为负的股票未来表现更好 (stocks with negatively skewed returns outperform).",
        "投资者偏好彩票型股票，正偏度股票被高估。 Lottery-like stocks are overpriced.",
        "Skewness premium / 偏度溢价",
        "动量因子已入选，尚未覆盖高阶矩。",
        "Higher moments are cheap to compute and orthogonal to momentum.",
        "若20日收益偏度为负，则下月收益更高 (if 20-day skewness is negative, next-month return is higher).",
    ),
    "tasks": {
        "Skew_Ret_20D": {
            "description": "[Higher-moment Factor] 20日日收益率的偏度 (skewness of daily returns over 20 days).",
            "formulation": "SKEW_{20} = \\frac{E[(r-\\mu)^3]}{\\sigma^3}",
            "variables": {"r": "日收益率 daily return", "\\mu": "均值 mean", "\\sigma": "标准差 std"},
        },
    },
    "code": {
        "Skew_Ret_20D": factor_code("Skew_Ret_20D", "收益偏度",
                                    "close.pct_change().groupby(level='instrument')"
                                    ".transform(lambda r: r.rolling(20).skew())"),
    },
    "feedback": feedback(
        "偏度因子的 IC 只有 0.012，年化收益下降 (annualized return fell).",
        "假设没有得到支持 (not supported)：偏度信号太弱。",
        "回到量价方向，尝试换手率加权的动量 (turnover-weighted momentum).",
        "新结果劣于当前最优 SOTA，不替换。",
        "no",
    ),
}

GRU_LOOP = {
    "hypothesis": hypothesis(
        "用 GRU 建模20日特征序列，比表格模型更能捕捉时间依赖。"
        " A GRU over 20-day feature windows captures temporal dependence.",
        "价格特征有自相关 (features are autocorrelated); 时间序列模型能利用这一点。",
        "Temporal model / 时序模型",
        "LightGBM 基线没有利用特征的时间顺序。",
        "GRU is light and stable on ~500k samples; 参数少，训练稳定。",
        "如果使用时序窗口，则 IC 会提高 (if time windows are used, IC improves).",
    ),
    "tasks": {
        "GRU_Alpha20": {
            "description": "两层 GRU，输入20日×20个 Alpha20 特征 (a two-layer GRU over 20 days of Alpha20).",
            "formulation": "h_t = \\mathrm{GRU}(x_t, h_{t-1}),\\ \\hat{y} = W h_T + b",
            "architecture": "GRU(20→64, 2 layers, dropout 0.1) → Linear(64→1)",
            "variables": {"x_t": "第 t 日的特征向量 feature vector", "h_t": "隐藏状态 hidden state"},
            "hyperparameters": {"hidden_size": "64", "num_layers": "2", "dropout": "0.1"},
            "training_hyperparameters": {"n_epochs": "100", "lr": "0.0005", "early_stop": "10",
                                         "batch_size": "2000", "weight_decay": "0.0001"},
            "model_type": "TimeSeries",
        },
    },
    "code": {
        "GRU_Alpha20": model_code("GRUAlpha", "两层 GRU / two-layer GRU", 64, "rnn",
                                  "nn.GRU(num_features, hidden_size, num_layers=2, batch_first=True, dropout=0.1)",
                                  "h = self.rnn(x)[0][:, -1, :]"),
    },
    "feedback": feedback(
        "GRU 的 IC 为 0.052，高于 LightGBM 基线 (above the LightGBM baseline).",
        "时序假设成立 (the temporal hypothesis holds).",
        "试试带注意力的 Transformer 编码器 (try a small Transformer encoder).",
        "IC 和年化收益都优于基线，接受为新的 SOTA 模型。",
        "yes",
    ),
}

MLP_LOOP = {
    "hypothesis": hypothesis(
        "带批归一化的三层 MLP 在截面特征上足够好 (a 3-layer MLP on cross-sectional features is enough).",
        "时间窗口带来过拟合风险; 截面模型更稳健 (cross-sectional models are more robust).",
        "Simpler tabular model / 更简单的表格模型",
        "GRU 训练时间长，验证集损失波动。",
        "MLPs train fast and are a fair tabular comparison.",
        "若去掉时间维度，则泛化更好 (if the time axis is dropped, generalisation improves).",
    ),
    "tasks": {
        "MLP_BN_3L": {
            "description": "三层全连接网络加批归一化 (three dense layers with batch normalisation).",
            "formulation": "\\hat{y} = W_3\\,\\sigma(BN(W_2\\,\\sigma(BN(W_1 x))))",
            "architecture": "Linear(20→128) → BN → ReLU → Linear(128→64) → BN → ReLU → Linear(64→1)",
            "variables": {"x": "当日特征 today's features", "W_i": "权重矩阵 weight matrices"},
            "hyperparameters": {"hidden_sizes": "[128, 64]", "activation": "ReLU"},
            "training_hyperparameters": {"n_epochs": "50", "lr": "0.001", "early_stop": "5",
                                         "batch_size": "4096", "weight_decay": "0.0"},
            "model_type": "Tabular",
        },
    },
    "code": {
        "MLP_BN_3L": model_code("MLPBN", "三层 MLP / three-layer MLP", 64, "body",
                                "nn.Sequential(nn.Linear(num_features, 128), nn.BatchNorm1d(128), nn.ReLU(), "
                                "nn.Linear(128, hidden_size), nn.BatchNorm1d(hidden_size), nn.ReLU())",
                                "h = self.body(x)"),
    },
    "feedback": feedback(
        "MLP 的 IC 为 0.043，低于 GRU 的 0.052 (below the GRU).",
        "假设不成立：时间维度是有用的 (the time axis matters).",
        "保留 GRU，调小学习率 (keep the GRU, lower the learning rate).",
        "结果不如 SOTA，不替换。",
        "no",
    ),
}


def quant(loop, action):
    q = dict(loop)
    q["hypothesis"] = dict(loop["hypothesis"], action=action)
    return q


RUNS = {
    # fin_factor: two loops that finish (one accepted, one not) around one that fails with an exception.
    "factor": {"loop": "FactorRDLoop", "loops": [MOMENTUM_LOOP, GAP_LOOP, SKEW_LOOP]},
    # fin_model: a TimeSeries model (accepted), then a Tabular one (rejected).
    "model": {"loop": "ModelRDLoop", "loops": [GRU_LOOP, MLP_LOOP]},
    # fin_quant: factor, model, factor (the last runs its factors with the SOTA model).
    "quant": {"loop": "QuantRDLoop", "loops": [quant(MOMENTUM_LOOP, "factor"), quant(GRU_LOOP, "model"),
                                                quant(SKEW_LOOP, "factor")]},
    # fin_factor stopped after `coding` of loop 0, then resumed with LoopBase.load.
    "resumed": {"loop": "FactorRDLoop", "loops": [MOMENTUM_LOOP]},
}
