"""The runs behind the figures: one place that maps a preset to run settings.

Notebooks ask for configs here (`base`, `two_task`, `lm`) and hand them to the run store;
they never build models or loops. Runs shared by several figures have equal configs and
are therefore trained once (the run store is keyed by what determines a run's results).

Sizing of `mini` (DESIGN.md's arithmetic, measured here): the mini model (pre-LN
encoder-decoder or decoder-only, d=128, 2+2 layers, FFN 512, 4 heads, vocab 4k, 1.5M
parameters) trains at ≈6 steps/s on 2 cores with batches of 32 examples cut at 64 tokens
(≈1.1 GFLOP per step), and an evaluation of ≈500 examples takes ≈1 s. A two-task NMT run
of 300 steps (9,600 examples; the LRL at rate 0.5 seen ≈17 times) is ≈55 s; sharing prefixes (restart and COOLDOWN continue
the static run, Order Matters' pre-training serves every fine-tuning rate) keeps the whole
`paperlib reproduce` within its 90-minute budget.

Deviations from the papers in `mini`, all stated in the report: one learning rate
(3e-3, the DESIGN.md pilot's, no sweep); warmup + inverse-sqrt LR everywhere (paper A's
NMT uses cosine decay, which would stop the restart baseline from sharing the static run's
prefix); causal LM instead of span corruption; DDTP instead of WMT/OPUS-100/mC4.
The `paper` preset carries the papers' own settings (model, batch 1024, steps, cosine).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .config import DataConfig, EvalConfig, OptimConfig, TrainConfig
from .data import get_taskset
from .models import ModelConfig
from .presets import check_preset


@dataclass(frozen=True)
class Scale:
    model: ModelConfig
    batch_size: int
    lr: float
    warmup: int
    steps: int             # a two-task NMT run (paper A: N; paper B §3.2 runs)
    pretrain: int          # Order Matters' N1; the restart baseline's reset point
    lm_steps: int
    lm_pretrain: int
    eval_every: int
    max_valid: int | None
    train_subset: int
    bleu_max_examples: int
    lr_schedule: str = "inverse_sqrt"
    lm_lr_schedule: str = "constant_then_inverse_sqrt"
    seeds: tuple = (0,)    # seeds for comparisons that depend on the seed
    lr_grid: tuple = ()    # learning rates swept for paper A's NMT grids (empty: just `lr`)
    doremi_fraction: float = 1.0  # DoReMi's reference and proxy length, as a fraction of a run

    @property
    def finetune(self) -> int:
        return self.steps - self.pretrain

    @property
    def switch(self) -> int:
        """COOLDOWN's switch: half the run (paper B: 30k of 60k MT, 50k of 100k LM steps)."""
        return self.steps // 2


SCALES = {
    "smoke": Scale(
        model=ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=32),
        batch_size=8, lr=3e-3, warmup=2, steps=12, pretrain=8, lm_steps=12, lm_pretrain=8,
        eval_every=4, max_valid=16, train_subset=8, bleu_max_examples=4, seeds=(0, 1),
    ),
    "mini": Scale(
        model=ModelConfig(d_model=128, layers=2, heads=4, ffn=512, max_len=64),
        # validation on 100 examples per task and BLEU on 50, DoReMi's proxy at half length:
        # the 90-minute budget (session 3 measured evaluation at 12% of a two-task run and
        # 40% of a one-to-many run); the curves keep their 50-step resolution
        batch_size=32, lr=3e-3, warmup=30, steps=300, pretrain=200, lm_steps=300, lm_pretrain=200,
        eval_every=50, max_valid=100, train_subset=64, bleu_max_examples=50, seeds=(0, 1),
        doremi_fraction=0.5,
    ),
    "paper": Scale(
        # Order Matters Table 3 (3+3 layers, d 512, FFN 2048, 8 heads) and Table 4 (En→{Ro, Fr}:
        # 400k base + 50k fine-tune), batch 1024, warmup 40k, cosine decay
        model=ModelConfig(d_model=512, layers=3, heads=8, ffn=2048, max_len=256),
        batch_size=1024, lr=2.5e-3, warmup=40_000, steps=450_000, pretrain=400_000,
        lm_steps=500_000, lm_pretrain=250_000, eval_every=5_000, max_valid=None, train_subset=2048,
        bleu_max_examples=2000, lr_schedule="cosine", seeds=(0, 1),
        lr_grid=(2.5e-4, 5e-4, 2.5e-3, 5e-3, 7.5e-3),  # Order Matters §4: best LR per point
    ),
}


def scale(preset: str) -> Scale:
    return SCALES[check_preset(preset)]


def wants_bleu(paper: str, taskset: str) -> bool:
    """Whether a run's end-of-run BLEU/chrF is read by some figure: Order Matters' BLEU
    fronts (Fig. 26-28, the HRL+LRL pairs) and Upsample or Upweight?'s Table 3 (one-to-many).
    Beam search costs 2-7 s per mini run, so the other runs skip it (a mini-budget choice;
    runs shared between figures come from the same builder, hence agree on it)."""
    if get_taskset(taskset).kind == "lm":
        return False
    return taskset.startswith("hrl_lrl") if paper == "A" else taskset.startswith("one_to_many")


def base(preset: str, taskset: str, experiment: str, plan: dict, bleu: bool = True, lr: float | None = None,
         **changes) -> TrainConfig:
    """A config on `taskset` at the preset's scale. `changes` override TrainConfig fields;
    `dropout=` overrides the model's dropout (Order Matters Fig. 5); `bleu` asks for
    end-of-run BLEU/chrF (translation only); `lr` replaces the preset's learning rate."""
    s = scale(preset)
    ts = get_taskset(taskset)
    model = s.model
    if "dropout" in changes:
        model = dataclasses.replace(model, dropout=changes.pop("dropout"))
    lm = ts.kind == "lm"
    fields = dict(
        experiment=f"{experiment}-{preset}",  # runs/<experiment>-<preset>/<hash>
        # paper: the papers' corpora through the hub loaders (WMT / OPUS-100 / mC4; needs internet)
        data=DataConfig(taskset=taskset, preset=preset, source="hub" if preset == "paper" else "ddtp"),
        plan=plan,
        model=model,
        optim=OptimConfig(lr=lr or s.lr, warmup=s.warmup),
        eval=EvalConfig(every=s.eval_every, max_valid=s.max_valid, train_subset=s.train_subset,
                        bleu=bleu and not lm, bleu_max_examples=s.bleu_max_examples),
        batch_size=s.batch_size,
    )
    fields.update(changes)
    return TrainConfig(**fields)


def hrl_lrl(taskset: str) -> tuple[str, str]:
    """(high-resource task, low-resource task) of a two-task set (high-resource first)."""
    ts = get_taskset(taskset)
    if len(ts.tasks) != 2:
        raise ValueError(f"task set {taskset!r} has {len(ts.tasks)} tasks; a two-task set is needed")
    return ts.tasks[0], ts.tasks[1]


# ------------------------------------------------------------------ two-task NMT (paper A)

def static_rate(preset, taskset, lrl_rate, experiment, seed=0, lr=None, **changes) -> TrainConfig:
    """Scalarization via proportional sampling at a static LRL rate (paper A's baseline).
    Forked at the pre-training length so the restart baseline can continue it."""
    s = scale(preset)
    plan = {"method": "static", "steps": s.steps, "rates": [1 - lrl_rate, lrl_rate], "lr_schedule": s.lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), lr=lr, seed=seed, fork_at=s.pretrain, **changes)


def restart_rate(preset, taskset, lrl_rate, experiment, seed=0, lr=None) -> TrainConfig:
    s = scale(preset)
    plan = {"method": "restart", "first_steps": s.pretrain, "second_steps": s.finetune,
            "rates": [1 - lrl_rate, lrl_rate], "lr_schedule": s.lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), lr=lr, seed=seed, fork_at=s.pretrain)


def order_matters_rate(preset, taskset, lrl_rate, experiment, seed=0, pretrain=None, finetune=None, lr=None) -> TrainConfig:
    """Pre-train on the HRL, reset, jointly fine-tune at the LRL rate (pre-training shared)."""
    s = scale(preset)
    hrl, _ = hrl_lrl(taskset)
    pretrain = pretrain or s.pretrain
    plan = {"method": "order_matters", "pretrain_steps": pretrain, "finetune_steps": finetune or s.finetune,
            "pretrain_on": hrl, "rates": [1 - lrl_rate, lrl_rate], "lr_schedule": s.lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), lr=lr, seed=seed, fork_at=pretrain)


def finetune_only(preset, taskset, experiment, seed=0) -> TrainConfig:
    s = scale(preset)
    hrl, lrl = hrl_lrl(taskset)
    plan = {"method": "finetune_only", "pretrain_steps": s.pretrain, "finetune_steps": s.finetune,
            "pretrain_on": hrl, "finetune_on": lrl, "lr_schedule": s.lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), seed=seed, fork_at=s.pretrain)


# ------------------------------------------------------------------ temperature methods (paper B)

def run_length(preset, taskset) -> tuple[int, int, str]:
    """(steps, pre-training length, LR schedule) of a run on `taskset` at the preset:
    language modelling and translation have their own."""
    s = scale(preset)
    if get_taskset(taskset).kind == "lm":
        return s.lm_steps, s.lm_pretrain, s.lm_lr_schedule
    return s.steps, s.pretrain, s.lr_schedule


def temperature_run(preset, taskset, tau, experiment, seed=0, fork_at="switch", **changes) -> TrainConfig:
    """Static temperature sampling. Forked by default at COOLDOWN's switch so COOLDOWN
    continues it; fork_at="pretrain" lets paper A's restart baseline continue it instead."""
    steps, pre, lr_schedule = run_length(preset, taskset)
    fork = {"switch": steps // 2, "pretrain": pre, None: None}[fork_at]
    plan = {"method": "static", "steps": steps, "tau": tau, "lr_schedule": lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, fork_at=fork, **changes)


def restart_tau(preset, taskset, tau, experiment, seed=0) -> TrainConfig:
    """Paper A's LM restart baseline: temperature sampling, reset at the pre-training length."""
    steps, pre, lr_schedule = run_length(preset, taskset)
    plan = {"method": "restart", "first_steps": pre, "second_steps": steps - pre, "tau": tau, "lr_schedule": lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, fork_at=pre)


def scalarized_run(preset, taskset, tau, experiment, seed=0, **changes) -> TrainConfig:
    """Proportional sampling with loss weights p_tau / p_1 (paper B's S)."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = {"method": "scalarization", "steps": steps, "tau": tau, "lr_schedule": lr_schedule}
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, **changes)


def schedule_run(preset, taskset, method, experiment, seed=0, **params) -> TrainConfig:
    """cooldown / increasing / dense / unimax / order_matters over a many-task set."""
    steps, default_pretrain, lr_schedule = run_length(preset, taskset)
    fork_at = None
    if method in ("cooldown", "increasing"):
        plan = {"method": method, "steps": steps, "switch": steps // 2, **params}
        fork_at = steps // 2 if method == "cooldown" else None  # COOLDOWN continues tau=5 static
    elif method == "dense":
        plan = {"method": "dense", "steps": steps, **params}
    elif method == "unimax":
        plan = {"method": "unimax", "steps": steps, "max_epochs": params.pop("max_epochs", 5), **params}
    elif method == "order_matters":
        pretrain = params.pop("pretrain", default_pretrain)
        plan = {"method": "order_matters", "pretrain_steps": pretrain, "finetune_steps": steps - pretrain,
                "pretrain_on": params.pop("pretrain_on", get_taskset(taskset).tasks[0]), **params}
        fork_at = pretrain
    else:
        raise ValueError(f"unknown schedule method {method!r}; valid: cooldown, increasing, dense, unimax, order_matters")
    plan["lr_schedule"] = lr_schedule
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, fork_at=fork_at)


# ------------------------------------------------------------------ run grids shared by figures

def rate_grid(preset: str) -> list[float]:
    """LRL sampling rates of the trade-off fronts (paper: 0.1 ... 0.9)."""
    return {"smoke": [0.3, 0.7], "mini": [0.1, 0.3, 0.5, 0.7, 0.9], "paper": [i / 10 for i in range(1, 10)]}[check_preset(preset)]


def order_matters_nmt_grid(preset: str, tasksets, experiment: str = "order_matters_nmt", rates=None,
                           restart_rates=None, with_restart: bool = True, seeded=None) -> list[tuple[TrainConfig, dict]]:
    """Paper A's NMT runs for each two-task set: scalarization (static rates), pre-training
    -> joint fine-tuning at every rate (pre-training shared), and the restart baseline;
    the middle rate again with every further seed of the preset (seed spread) on the
    task sets in `seeded` (default: the first one only, which measures the spread); every
    run at each learning rate of the preset's `lr_grid` (see `best_learning_rate`)."""
    s = scale(preset)
    rates = list(rates or rate_grid(preset))
    restart_rates = list(restart_rates if restart_rates is not None else rates[::2])
    mid = rates[len(rates) // 2]
    out = []
    seeded = list(tasksets[:1] if seeded is None else seeded)
    for lr in s.lr_grid or (s.lr,):
        for ts in tasksets:
            for seed in (s.seeds if ts in seeded else s.seeds[:1]):
                for r in (rates if seed == s.seeds[0] else [mid]):
                    labels = dict(taskset=ts, rate=r, seed=seed, lr=lr)
                    out.append((static_rate(preset, ts, r, experiment, seed, lr=lr), dict(method="scalarization", **labels)))
                    out.append((order_matters_rate(preset, ts, r, experiment, seed, lr=lr), dict(method="pre-train + joint FT", **labels)))
            if with_restart:
                for r in restart_rates:
                    out.append((restart_rate(preset, ts, r, experiment, lr=lr), dict(taskset=ts, method="restart", rate=r, seed=s.seeds[0], lr=lr)))
    return out


def best_learning_rate(df):
    """Paper A reports each point of a front at its best learning rate: keep, for every
    (task set, method, rate, seed), the run with the lowest mean validation loss over the
    tasks. With one learning rate (mini) the table is returned unchanged."""
    if "lr" not in df or df["lr"].nunique(dropna=True) <= 1:
        return df
    keys = [k for k in ("taskset", "method", "rate", "seed") if k in df]
    score = df[[c for c in df.columns if c.startswith("valid_loss.")]].mean(axis=1)
    return df.loc[score.groupby([df[k].fillna(-1) for k in keys]).idxmin()].reset_index(drop=True)


# ------------------------------------------------------------------ each notebook's runs
# One function per notebook that trains: the notebook calls it with its parameters, and
# `paperlib.plan` (reproduce --dry-run) calls it with the defaults, so the plan printed
# for a preset is exactly what the notebooks would train. Labels become DataFrame columns.

def hrl_hrl_runs(preset, taskset="hrl_hrl", rates=None, experiment="order_matters_nmt"):
    """Order Matters Fig. 1: fronts with and without pre-training (mini: three rates)."""
    rates = rates or {"smoke": [0.3, 0.7], "mini": [0.2, 0.5, 0.8], "paper": [i / 10 for i in range(1, 10)]}[check_preset(preset)]
    return order_matters_nmt_grid(preset, [taskset], experiment, rates=rates, with_restart=False)


def regularisation_runs(preset, taskset="hrl_lrl_fi", dropout=0.3, experiment="order_matters_nmt"):
    """Order Matters Fig. 5: the fronts of Fig. 2 plus scalarization with more dropout."""
    s = scale(preset)
    rates = rate_grid(preset)
    grid = [g for g in order_matters_nmt_grid(preset, [taskset], experiment)
            if g[1]["seed"] == s.seeds[0] and g[1]["method"] != "restart"]
    mid_rates = rates[1:3] if len(rates) > 2 else rates
    grid += [(static_rate(preset, taskset, r, experiment, dropout=dropout),
              dict(taskset=taskset, method=f"scalarization, dropout {dropout}", rate=r, seed=s.seeds[0])) for r in mid_rates]
    return grid


def finetune_only_runs(preset, taskset="hrl_lrl_fi", experiment="order_matters_nmt"):
    """Order Matters Fig. 6: joint fine-tuning at every rate vs fine-tuning on the LRL only."""
    s = scale(preset)
    grid = [g for g in order_matters_nmt_grid(preset, [taskset], experiment)
            if g[1]["method"] == "pre-train + joint FT" and g[1]["seed"] == s.seeds[0]]
    grid.append((finetune_only(preset, taskset, experiment), dict(method="fine-tune on LRL only", rate=1.0, seed=s.seeds[0])))
    return grid


def multilingual_lm_runs(preset, taskset="lm_order_matters", tau=3.33, experiment="order_matters_lm"):
    """Order Matters Fig. 7-8: temperature sampling, restart, pre-train on English + joint FT."""
    return [
        (temperature_run(preset, taskset, tau, experiment, fork_at="pretrain"), {"method": f"temperature τ={tau:g}"}),
        (restart_tau(preset, taskset, tau, experiment), {"method": "restart"}),
        (schedule_run(preset, taskset, "order_matters", experiment, tau=tau), {"method": "pre-train en + joint FT"}),
    ]


def pretraining_length_runs(preset, lm_taskset="lm_order_matters", nmt_taskset="hrl_lrl_fi", tau=3.33,
                            lm_pretrain_lengths=None, nmt_pretrain_lengths=None,
                            experiment_lm="order_matters_lm", experiment_nmt="order_matters_nmt"):
    """Order Matters Fig. 9: (LM runs with a fixed total budget, NMT runs with a fixed
    fine-tuning length), over several pre-training lengths."""
    s = scale(preset)
    lm_pre = lm_pretrain_lengths or [s.lm_pretrain // 2, s.lm_pretrain]
    nmt_pre = nmt_pretrain_lengths or [s.pretrain // 2, s.pretrain, s.pretrain * 3 // 2]
    rates = rate_grid(preset)
    nmt_rates = rates[: max(2, len(rates) - 2)]
    lm = [(schedule_run(preset, lm_taskset, "order_matters", experiment_lm, tau=tau, pretrain=p), {"pretrain": p}) for p in lm_pre]
    nmt = [(order_matters_rate(preset, nmt_taskset, r, experiment_nmt, pretrain=p, finetune=s.finetune), {"pretrain": p, "rate": r})
           for p in nmt_pre for r in nmt_rates]
    return lm, nmt


def sampling_vs_weighting_runs(preset, tasksets=("hrl_lrl_fi", "hrl_lrl_sv"), taus=(2.0, 3.0, 5.0), experiment="upsample_mt"):
    """Upsample or Upweight? Fig. 4/8/9: temperature sampling vs scalarization at each τ on
    each pair (a second seed at the largest τ on the first pair), and both without clipping."""
    from .config import OptimConfig

    s = scale(preset)
    tasksets, taus = list(tasksets), list(taus)
    grid = []
    for ts in tasksets:
        for tau in taus:
            for seed in (s.seeds if (ts == tasksets[0] and tau == max(taus)) else s.seeds[:1]):
                grid.append((temperature_run(preset, ts, tau, experiment, seed), dict(taskset=ts, tau=tau, method="temperature sampling", clipping="1.0", seed=seed)))
                grid.append((scalarized_run(preset, ts, tau, experiment, seed), dict(taskset=ts, tau=tau, method="scalarization", clipping="1.0", seed=seed)))
    noclip = dict(optim=OptimConfig(lr=s.lr, warmup=s.warmup, clip_norm=None))
    top = dict(taskset=tasksets[0], tau=max(taus), clipping="off", seed=s.seeds[0])
    grid.append((temperature_run(preset, tasksets[0], max(taus), experiment, **noclip), dict(method="temperature sampling", **top)))
    grid.append((scalarized_run(preset, tasksets[0], max(taus), experiment, **noclip), dict(method="scalarization", **top)))
    return grid


def cooldown_runs(preset, taskset="hrl_lrl_fi", experiment="upsample_mt"):
    """Upsample or Upweight? Fig. 1: τ=1, τ=5 and COOLDOWN (5 then 1), every seed."""
    grid = []
    for seed in scale(preset).seeds:
        grid.append((temperature_run(preset, taskset, 1.0, experiment, seed), {"method": "τ=1 (proportional)", "seed": seed}))
        grid.append((temperature_run(preset, taskset, 5.0, experiment, seed), {"method": "τ=5", "seed": seed}))
        grid.append((schedule_run(preset, taskset, "cooldown", experiment, seed, tau_high=5.0, tau_low=1.0), {"method": "COOLDOWN (5→1)", "seed": seed}))
    return grid


def method_table_runs(preset, taskset, n_high, unimax_epochs=5, experiment="upsample"):
    """Upsample or Upweight? Tables 3 and 4: every method but DoReMi (whose weights are
    learned first: `doremi_run`)."""
    hrls = list(get_taskset(taskset).tasks)[:n_high]
    return [
        (temperature_run(preset, taskset, 1.0, experiment), {"method": "τ=1 (proportional)"}),
        (temperature_run(preset, taskset, 5.0, experiment), {"method": "τ=5"}),
        (temperature_run(preset, taskset, 100.0, experiment), {"method": "τ=100 (≈uniform)"}),
        (schedule_run(preset, taskset, "unimax", experiment, max_epochs=unimax_epochs), {"method": "UniMax"}),
        (schedule_run(preset, taskset, "order_matters", experiment, tau=5.0, pretrain_on=hrls), {"method": "Order Matters"}),
        (schedule_run(preset, taskset, "cooldown", experiment, tau_high=5.0, tau_low=1.0), {"method": "COOLDOWN"}),
    ]


def doremi_proxy_config(preset, taskset, experiment="upsample") -> TrainConfig:
    """The proportional run whose settings (and length, `plan["steps"]`) DoReMi's proxy and
    reference models use. No BLEU: only the reference's validation losses are read."""
    steps = round(run_length(preset, taskset)[0] * scale(preset).doremi_fraction)
    return base(preset, taskset, experiment, {"method": "static", "steps": steps, "tau": 1.0}, bleu=False)


def doremi_run(preset, taskset, weights: dict, experiment="upsample") -> tuple[TrainConfig, dict]:
    """Static sampling at DoReMi's learned weights."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = {"method": "static", "steps": steps, "rates": [weights[t] for t in get_taskset(taskset).tasks],
            "lr_schedule": lr_schedule}
    return base(preset, taskset, experiment, plan), {"method": "DoReMi"}


def schedule_comparison_runs(preset, mt_taskset="hrl_lrl_fi", lm_taskset="lm_upsample",
                             experiment_mt="upsample_mt", experiment_lm="upsample_lm"):
    """Upsample or Upweight? Fig. 5-7: (MT decreasing vs increasing τ, LM sparse vs dense)."""
    lm_steps = scale(preset).lm_steps
    mt = [
        (schedule_run(preset, mt_taskset, "cooldown", experiment_mt, tau_high=5.0, tau_low=1.0), {"schedule": "decreasing 5→1"}),
        (schedule_run(preset, mt_taskset, "increasing", experiment_mt, tau_low=1.0, tau_high=5.0), {"schedule": "increasing 1→5"}),
    ]
    lm = [
        (schedule_run(preset, lm_taskset, "cooldown", experiment_lm, tau_high=5.0, tau_low=1.0), {"schedule": "sparse (5, then 1)"}),
        (schedule_run(preset, lm_taskset, "dense", experiment_lm, tau_start=5.0, tau_end=1.0, every=1), {"schedule": "dense, every step"}),
        (schedule_run(preset, lm_taskset, "dense", experiment_lm, tau_start=5.0, tau_end=1.0, every=max(1, lm_steps // 10)), {"schedule": "dense, every 10%"}),
    ]
    return mt, lm


def notebook_runs(preset: str) -> dict[str, list[tuple[TrainConfig, dict]]]:
    """Every notebook's runs at the notebooks' default parameters (for the dry-run plan).
    DoReMi's final runs depend on learned weights; their proxy/reference training is
    counted by `paperlib.plan` from `doremi_proxy_config`."""
    nmt_pairs = ["hrl_lrl_fi", "hrl_lrl_sv"]
    lm, nmt = pretraining_length_runs(preset)
    mt_sched, lm_sched = schedule_comparison_runs(preset)
    b1 = temperature_run(preset, "hrl_lrl_fi", 5.0, "upsample_mt")
    return {
        "A1_fig01_hrl_hrl_fronts": hrl_hrl_runs(preset),
        "A2_fig02_hrl_lrl_fronts": order_matters_nmt_grid(preset, nmt_pairs, "order_matters_nmt"),
        "A3_fig03_efficiency": order_matters_nmt_grid(preset, nmt_pairs, "order_matters_nmt"),
        "A4_fig05_regularisation": regularisation_runs(preset),
        "A5_fig06_finetune_only": finetune_only_runs(preset),
        "A6_fig07_multilingual_lm": multilingual_lm_runs(preset),
        "A7_fig09_pretraining_length": lm + nmt,
        "A8_fig26_bleu_fronts": order_matters_nmt_grid(preset, nmt_pairs, "order_matters_nmt"),
        "B1_fig03_gradient_variance": [(b1, {"method": "τ=5"})],
        "B2_fig04_sampling_vs_weighting": sampling_vs_weighting_runs(preset),
        "B3_fig01_cooldown_lrl": cooldown_runs(preset),
        "B4_table3_one_to_many": method_table_runs(preset, "one_to_many", 2, experiment="upsample_one_to_many"),
        "B5_table4_multilingual_lm": method_table_runs(preset, "lm_upsample", 1, experiment="upsample_lm"),
        "B6_fig05_07_schedules": mt_sched + lm_sched,
    }


# the task sets whose DoReMi weights a notebook learns (proxy + reference model each)
DOREMI_NOTEBOOKS = {"B4_table3_one_to_many": ("one_to_many", "upsample_one_to_many"),
                    "B5_table4_multilingual_lm": ("lm_upsample", "upsample_lm")}
