"""The runs behind the figures: one place that maps a preset to run settings.

Notebooks ask for configs here and hand them to `paperlib.runs`; they never build models
or loops. Runs shared by several figures have equal configs and are therefore trained
once (the run store is keyed by what determines a run's results). Every size comes from
the preset (`paperlib.presets`, where the sizing arithmetic is written down).
"""

from __future__ import annotations

import dataclasses

from . import labels as L
from . import methods as M
from .config import DataConfig, EvalConfig, OptimConfig, TrainConfig
from .data import get_taskset
from .presets import get as scale


def wants_bleu(paper: str, taskset: str) -> bool:
    """Whether a run's end-of-run BLEU/chrF is read by some figure: Order Matters' BLEU
    fronts (Figs. 26-28: A1's HRL+HRL pair, A8's HRL+LRL pairs) and Upsample or Upweight?'s
    Table 3 (one-to-many).
    Beam search costs 2-7 s per mini run, so the other runs skip it (a mini-budget choice;
    runs shared between figures come from the same builder, hence agree on it)."""
    ts = get_taskset(taskset)
    if ts.kind == "lm":
        return False
    if ts.corpus:  # a researcher's own pairs: their BLEU is what they will want to read
        return True
    # the papers' own pairs on the hub (`HUB_TASKSETS`) as their DDTP stand-ins
    return taskset.startswith(("hrl_lrl", "hrl_hrl", "wmt_fr")) if paper == "A" else \
        taskset.startswith(("one_to_many", "opus100"))


def base(preset: str, taskset: str, experiment: str, plan: M.Method, bleu: bool = True, lr: float | None = None,
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
        # where the task set's text comes from: a researcher's corpus (a task set qualified by
        # its folder), DDTP, or the papers' corpora through the hub loaders (needs internet)
        data=DataConfig(taskset=ts.name, preset=preset, source=ts.data_source, source_path=ts.corpus),
        plan=plan,
        model=model,
        optim=OptimConfig(lr=lr or s.lr, warmup=s.warmup),
        eval=EvalConfig(every=s.eval_every, max_valid=s.max_valid, train_subset=s.train_subset,
                        bleu=bleu and not lm, bleu_max_examples=s.bleu_max_examples),
        batch_size=s.batch_size,
        precision=s.precision,
    )
    fields.update(changes)
    # the preset trains a configuration's seeds as one (unless the caller says otherwise)
    if s.stack_seeds and fields.get("seed", 0) in s.seeds and "stack_seeds" not in changes:
        fields["stack_seeds"] = tuple(sorted(s.seeds))
    return TrainConfig(**fields)


def pairs(preset: str, tasksets=None) -> list[str]:
    """The HRL+LRL task sets a figure draws: `tasksets` when given (a notebook parameter),
    else the preset's (`Preset.hrl_lrl_sets`)."""
    chosen = list(tasksets) if tasksets else list(scale(preset).hrl_lrl_sets)
    for name in chosen:
        hrl_lrl(name)  # a known two-task set, or a one-line error
    return chosen


def pair(preset: str, taskset: str | None = None) -> str:
    """The one HRL+LRL task set of a single-pair figure: `taskset`, else the preset's first."""
    return pairs(preset, [taskset] if taskset else None)[0]


def hrl_lrl(taskset: str) -> tuple[str, str]:
    """(high-resource task, low-resource task) of a two-task set (high-resource first)."""
    ts = get_taskset(taskset)
    if len(ts.tasks) != 2:
        raise ValueError(f"task set {taskset!r} has {len(ts.tasks)} tasks; a two-task set is needed")
    return ts.tasks[0], ts.tasks[1]


def pair_name(taskset: str) -> str:
    """A two-task set as the papers name it, for figure titles: its pairs, high-resource
    first, with the low-resource pair's size where the task set subsamples it."""
    hrl, lrl = hrl_lrl(taskset)
    kept = dict(get_taskset(taskset).keep_train).get(lrl)
    return f"{hrl} (high) + {lrl} (low{f', {kept / 1000:g}k pairs' if kept else ''})"


# ------------------------------------------------------------------ two-task NMT (paper A)

def _front_point(rate: float | None, tau: float | None) -> dict:
    """A front point of Order Matters' grids as a plan's sampling argument: an LRL rate, or a
    temperature (`Preset.front_taus`)."""
    if (rate is None) == (tau is None):
        raise ValueError("a front point is an LRL rate or a temperature: give exactly one")
    return {"rates": (1 - rate, rate)} if tau is None else {"tau": tau}


def front_grid(preset) -> tuple[list[float], bool]:
    """(the points of Order Matters' fronts, whether they are temperatures): the preset's
    `front_taus` where it has them, else its `rate_grid`."""
    s = scale(preset)
    return (list(s.front_taus), True) if s.front_taus else (rate_grid(preset), False)


def _at_point(point: float, by_tau: bool) -> tuple[dict, dict]:
    """(the run builders' argument, the row's label) for one front point."""
    return ({"tau": point}, {"tau": point}) if by_tau else ({"lrl_rate": point}, {"rate": point})


def _static_forks(preset) -> dict:
    """Where a front's static run (and the restart baseline that continues it) forks: at the
    pre-training length, and -- on a preset whose fronts are Upsample or Upweight? Fig. 1's
    temperatures -- first at COOLDOWN's switch, which continues τ=5's run there."""
    s = scale(preset)
    early = (s.switch,) if s.front_taus and s.switch < s.pretrain else ()
    return dict(fork_at=s.pretrain, prefix_forks=early)


def static_rate(preset, taskset, lrl_rate=None, experiment="order_matters_nmt", seed=0, lr=None, tau=None,
                **changes) -> TrainConfig:
    """Static sampling at a fixed LRL rate, or temperature `tau` (paper A's baseline, which it
    calls scalarization). Forked at the pre-training length so the restart baseline can
    continue it."""
    s = scale(preset)
    point = _front_point(lrl_rate, tau)
    plan = M.Static(s.steps, **point, lr_schedule=s.lr_schedule) if tau is None else \
        M.Temperature(s.steps, tau, lr_schedule=s.lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), lr=lr, seed=seed,
                **_static_forks(preset), **changes)


def restart_rate(preset, taskset, lrl_rate=None, experiment="order_matters_nmt", seed=0, lr=None, tau=None) -> TrainConfig:
    s = scale(preset)
    plan = M.Restart(s.pretrain, s.finetune, **_front_point(lrl_rate, tau), lr_schedule=s.lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), lr=lr, seed=seed, **_static_forks(preset))


def order_matters_rate(preset, taskset, lrl_rate=None, experiment="order_matters_nmt", seed=0, pretrain=None,
                       finetune=None, lr=None, tau=None) -> TrainConfig:
    """Pre-train on the HRL, reset, jointly fine-tune at the LRL rate or temperature (pre-training shared)."""
    s = scale(preset)
    hrl, _ = hrl_lrl(taskset)
    pretrain = pretrain or s.pretrain
    plan = M.OrderMatters(pretrain, finetune or s.finetune, pretrain_on=hrl, **_front_point(lrl_rate, tau),
                          lr_schedule=s.lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("A", taskset), lr=lr, seed=seed, fork_at=pretrain)


def finetune_only(preset, taskset, experiment, seed=0) -> TrainConfig:
    s = scale(preset)
    hrl, lrl = hrl_lrl(taskset)
    plan = M.FinetuneOnly(s.pretrain, s.finetune, pretrain_on=hrl, finetune_on=lrl, lr_schedule=s.lr_schedule)
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
    plan = M.Temperature(steps, tau, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, fork_at=fork, **changes)


def restart_tau(preset, taskset, tau, experiment, seed=0) -> TrainConfig:
    """Paper A's LM restart baseline: temperature sampling, reset at the pre-training length."""
    steps, pre, lr_schedule = run_length(preset, taskset)
    plan = M.Restart(pre, steps - pre, tau=tau, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, fork_at=pre)


def scalarized_run(preset, taskset, tau, experiment, seed=0, **changes) -> TrainConfig:
    """Proportional sampling with loss weights p_tau / p_1 (paper B's S)."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = M.Scalarization(steps, tau, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, **changes)


def cooldown_run(preset, taskset, experiment, seed=0, tau_high=5.0, tau_low=1.0, bleu=None, **changes) -> TrainConfig:
    """COOLDOWN: τ = tau_high for the first half, tau_low after; it continues the
    temperature run at tau_high (with the same `changes` and `bleu`), which is forked at the switch."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = M.Cooldown(steps, steps // 2, tau_high=tau_high, tau_low=tau_low, lr_schedule=lr_schedule)
    bleu = wants_bleu("B", taskset) if bleu is None else bleu
    return base(preset, taskset, experiment, plan, bleu=bleu, seed=seed, fork_at=steps // 2, **changes)


def unclipped(preset) -> dict:
    """TrainConfig changes for training without gradient clipping, as Upsample or Upweight?'s
    fairseq runs do (the presets clip at 1.0 elsewhere)."""
    s = scale(preset)
    return dict(optim=OptimConfig(lr=s.lr, warmup=s.warmup, clip_norm=None))


def increasing_run(preset, taskset, experiment, seed=0, tau_low=1.0, tau_high=5.0) -> TrainConfig:
    """The increasing ablation: τ = tau_low for the first half, tau_high after."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = M.Increasing(steps, steps // 2, tau_low=tau_low, tau_high=tau_high, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed)


def dense_run(preset, taskset, experiment, every, seed=0, tau_start=5.0, tau_end=1.0) -> TrainConfig:
    """A dense schedule: τ moved from tau_start to tau_end every `every` steps over the run."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = M.Dense(steps, tau_start=tau_start, tau_end=tau_end, every=every, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed)


def unimax_run(preset, taskset, experiment, max_epochs=5, seed=0) -> TrainConfig:
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = M.UniMax(steps, max_epochs, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed)


def order_matters_tau_run(preset, taskset, experiment, tau, pretrain_on=None, pretrain=None, seed=0) -> TrainConfig:
    """Pre-train on `pretrain_on` (default: the task set's first task), reset, then
    temperature sampling at tau over all tasks; the pre-training is shared."""
    steps, default_pretrain, lr_schedule = run_length(preset, taskset)
    pretrain = pretrain or default_pretrain
    plan = M.OrderMatters(pretrain, steps - pretrain, pretrain_on=pretrain_on or get_taskset(taskset).tasks[0],
                          tau=tau, lr_schedule=lr_schedule)
    return base(preset, taskset, experiment, plan, bleu=wants_bleu("B", taskset), seed=seed, fork_at=pretrain)


# ------------------------------------------------------------------ run grids shared by figures

def arm_seeds(preset: str) -> tuple[int, ...]:
    """The seeds of an arm that the budget runs at one seed where it must (a table's methods,
    the curves of Order Matters Figs. 7-9, Upsample or Upweight? Figs. 5-7, the fronts' points
    off the seeded middle rate and pair, Fig. 4's smaller τ): every seed of the
    preset when it stacks them (`Preset.stack_seeds`: they train beside the first one anyway,
    so the verdicts get their seed spread for nothing), else the first."""
    s = scale(preset)
    return tuple(s.seeds) if s.stack_seeds else tuple(s.seeds[:1])


def rate_grid(preset: str) -> list[float]:
    """LRL sampling rates of the trade-off fronts (paper: 0.1 ... 0.9)."""
    return list(scale(preset).rate_grid)


def order_matters_nmt_grid(preset: str, tasksets, experiment: str = "order_matters_nmt", rates=None,
                           restart_rates=None, with_restart: bool = True, seeded=None,
                           every_rate: bool | None = None, taus=None) -> list[tuple[TrainConfig, dict]]:
    """Paper A's NMT runs for each two-task set: static sampling at each rate, pre-training
    -> joint fine-tuning at every rate (pre-training shared), and the restart baseline at
    every rate too (default `restart_rates`: the static grid -- the paper restarts static
    sampling "with the same sampling rate as in scalarization", and a front compared by its
    best rate must be traced on the same grid as the fronts it is compared with); the
    middle rate again with every further seed of the preset (seed spread; every rate when the
    preset says `seeds_at_every_rate`, unless `every_rate` says otherwise) on the task sets in
    `seeded` (default: the first one only, which measures the spread), restart included; every seed
    at every point of every task set where the preset stacks seeds (`arm_seeds`: they train
    beside the first anyway); every run at each learning rate of the preset's `lr_grid` (see
    `best_learning_rate`).

    The points are LRL rates (`rates`, default the preset's `rate_grid`) or temperatures
    (`taus`, default the preset's `front_taus` when it has them and no `rates` are given):
    those runs are labelled `tau`, and `front_points` reads each one's LRL rate from its plan."""
    s = scale(preset)
    every_rate = s.seeds_at_every_rate if every_rate is None else every_rate
    taus = list(taus or (s.front_taus if rates is None else ()))
    points = taus or list(rates or rate_grid(preset))
    if restart_rates is not None and taus:
        raise ValueError("restart_rates are LRL rates, but this front samples at temperatures (taus): give rates= "
                         "for a front of rates, or leave restart_rates out (the restart runs at the front's points)")
    restart_points = list(points if restart_rates is None else restart_rates)

    def at(point):
        return _at_point(point, bool(taus))

    mid = points[len(points) // 2]
    out = []
    seeded = list(tasksets[:1] if seeded is None else seeded)
    read = arm_seeds(preset)  # where the preset stacks seeds, every point reads them all
    for lr in s.lr_grid or (s.lr,):
        for ts in tasksets:
            for seed in (s.seeds if ts in seeded else read):
                seed_points = points if seed in read or every_rate else [mid]
                for p in seed_points:
                    arg, label = at(p)
                    labels = dict(taskset=ts, **label, seed=seed, lr=lr)
                    out.append((static_rate(preset, ts, experiment=experiment, seed=seed, lr=lr, **arg),
                                dict(method=L.STATIC, **labels)))
                    out.append((order_matters_rate(preset, ts, experiment=experiment, seed=seed, lr=lr, **arg),
                                dict(method=L.PRETRAIN, **labels)))
                # the restart control wherever static runs with that seed: it forks static's
                # run at the reset point, so each costs only the fine-tuning steps
                for p in (p for p in seed_points if with_restart and p in restart_points):
                    arg, label = at(p)
                    out.append((restart_rate(preset, ts, experiment=experiment, seed=seed, lr=lr, **arg),
                                dict(taskset=ts, method=L.RESTART, **label, seed=seed, lr=lr)))
            if with_restart:  # restart rates off the static grid (a notebook parameter)
                for p in restart_points:
                    if p not in points:
                        arg, label = at(p)
                        out += [(restart_rate(preset, ts, experiment=experiment, seed=seed, lr=lr, **arg),
                                 dict(taskset=ts, method=L.RESTART, **label, seed=seed, lr=lr)) for seed in read]
    return out


def lrl_share(run) -> float:
    """The low-resource task's share of batches in a two-task run's last phase, read from the
    plan it recorded (what its temperature gave on its data)."""
    import json

    plan = json.loads((run.dir / "config.json").read_text())["plan"]
    return float(plan["phases"][-1]["schedule"]["mixture"]["probs"][1])  # a two-task set names its HRL first


def rate_labels(rows, rates) -> list[str]:
    """A front's point labels, one per rate in `rates`: the LRL rate ("0.3"), or where the
    rows at it sampled at a temperature (a `tau` column: mini's fronts) that τ and the rate
    it gives ("τ=5 (0.32)"), the names the report and the claims use."""
    out = []
    for rate in rates:
        at = rows[rows["rate"] == rate]
        taus = at["tau"].dropna().unique() if "tau" in at else []
        out.append(f"τ={taus[0]:g} ({rate:.2g})" if len(taus) == 1 else f"{rate:g}")
    return out


def front_points(df):
    """The table of Order Matters' fronts, one row per point: rows sampled at a temperature
    (labelled `tau`, no `rate`) get their `rate` -- the LRL's share of batches -- from their
    run's plan, then each point keeps its best learning rate (`best_learning_rate`)."""
    if "tau" in df:
        df = df.copy()
        if "rate" not in df:
            df["rate"] = float("nan")
        todo = df["rate"].isna() & df["tau"].notna()
        df.loc[todo, "rate"] = [round(lrl_share(run), 4) for run in df.loc[todo, "run_obj"]]
    return best_learning_rate(df)


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
# `paperlib.costs` (reproduce --dry-run) calls it with the defaults, so the plan printed
# for a preset is exactly what the notebooks would train. Labels become DataFrame columns.

def hrl_hrl_runs(preset, taskset="hrl_hrl", rates=None, experiment="order_matters_nmt"):
    """Order Matters Fig. 1: fronts with and without pre-training (mini: three rates)."""
    rates = rates or list(scale(preset).hrl_hrl_rates)
    # further seeds at the middle rate only (unless the preset stacks seeds, `arm_seeds`):
    # Fig. 1's claim is judged there, and every seed at every rate would cost the gpu preset
    # a fifth of its hour
    return order_matters_nmt_grid(preset, [taskset], experiment, rates=rates, with_restart=False, every_rate=False)


def regularisation_runs(preset, taskset=None, dropout=0.3, experiment="order_matters_nmt"):
    """Order Matters Fig. 5: the fronts of Fig. 2 plus static sampling with more dropout."""
    s = scale(preset)
    taskset = pair(preset, taskset)
    grid = [g for g in order_matters_nmt_grid(preset, [taskset], experiment) if g[1]["method"] != L.RESTART]
    points, by_tau = front_grid(preset)  # the fronts' own points
    for p in (points[1:3] if len(points) > 2 else points):
        arg, label = _at_point(p, by_tau)
        grid += [(static_rate(preset, taskset, experiment=experiment, seed=seed, dropout=dropout, **arg),
                  dict(taskset=taskset, method=L.with_dropout(dropout), **label, seed=seed))
                 for seed in s.seeds]  # every seed: a verdict needs the seed spread
    return grid


def finetune_only_runs(preset, taskset=None, experiment="order_matters_nmt"):
    """Order Matters Fig. 6: joint fine-tuning at every rate vs fine-tuning on the LRL only."""
    s = scale(preset)
    taskset = pair(preset, taskset)
    grid = [g for g in order_matters_nmt_grid(preset, [taskset], experiment) if g[1]["method"] == L.PRETRAIN]
    # every seed: each forks its seed's pre-training, so it costs only the fine-tuning steps
    grid += [(finetune_only(preset, taskset, experiment, seed), dict(method=L.FT_ONLY, rate=1.0, seed=seed))
             for seed in s.seeds]
    return grid


def multilingual_lm_runs(preset, taskset="lm_order_matters", tau=3.33, experiment="order_matters_lm"):
    """Order Matters Fig. 7-8: temperature sampling, restart, pre-train on English + joint FT."""
    return [run for seed in arm_seeds(preset) for run in [
        (temperature_run(preset, taskset, tau, experiment, seed, fork_at="pretrain"),
         {"method": L.temperature(tau), "seed": seed}),
        (restart_tau(preset, taskset, tau, experiment, seed), {"method": L.RESTART, "seed": seed}),
        (order_matters_tau_run(preset, taskset, experiment, tau, seed=seed), {"method": L.LM_PRETRAIN, "seed": seed}),
    ]]


def pretraining_length_runs(preset, lm_taskset="lm_order_matters", nmt_taskset=None, tau=3.33,
                            lm_pretrain_lengths=None, nmt_pretrain_lengths=None,
                            experiment_lm="order_matters_lm", experiment_nmt="order_matters_nmt"):
    """Order Matters Fig. 9: (LM runs with a fixed total budget, NMT runs with a fixed
    fine-tuning length), over several pre-training lengths; lm_taskset None: the NMT half
    alone (a corpus without monolingual text)."""
    s = scale(preset)
    nmt_taskset = pair(preset, nmt_taskset)
    lm_pre = lm_pretrain_lengths or [s.lm_pretrain // 2, s.lm_pretrain]
    nmt_pre = nmt_pretrain_lengths or [s.pretrain // 2, s.pretrain, s.pretrain * 3 // 2]
    rates = rate_grid(preset)
    nmt_rates = rates[: max(2, len(rates) - 2)]
    seeds = arm_seeds(preset)
    lm = [(order_matters_tau_run(preset, lm_taskset, experiment_lm, tau, pretrain=p, seed=seed), {"pretrain": p, "seed": seed})
          for seed in seeds for p in lm_pre] if lm_taskset is not None else []
    nmt = [(order_matters_rate(preset, nmt_taskset, r, experiment_nmt, seed=seed, pretrain=p, finetune=s.finetune),
            {"pretrain": p, "rate": r, "seed": seed}) for seed in seeds for p in nmt_pre for r in nmt_rates]
    return lm, nmt


def sampling_vs_weighting_runs(preset, tasksets=None, taus=(2.0, 3.0, 5.0), experiment="upsample_mt"):
    """Upsample or Upweight? Fig. 4/8/9: temperature sampling vs scalarization at each τ on
    each pair (every seed at the largest τ on the first pair, where the paper's gap is
    largest: the other τ are single runs, drawn but not judged -- every seed where the preset
    stacks them, `arm_seeds`), and both without clipping there, every seed."""
    s = scale(preset)
    tasksets, taus = pairs(preset, tasksets), list(taus)
    grid = []
    for ts in tasksets:
        for tau in taus:
            for seed in (s.seeds if (ts == tasksets[0] and tau == max(taus)) else arm_seeds(preset)):
                grid.append((temperature_run(preset, ts, tau, experiment, seed), dict(taskset=ts, tau=tau, method=L.SAMPLING, clipping="1.0", seed=seed)))
                grid.append((scalarized_run(preset, ts, tau, experiment, seed), dict(taskset=ts, tau=tau, method=L.WEIGHTING, clipping="1.0", seed=seed)))
    noclip = unclipped(preset)
    for seed in s.seeds:
        top = dict(taskset=tasksets[0], tau=max(taus), clipping="off", seed=seed)
        grid.append((temperature_run(preset, tasksets[0], max(taus), experiment, seed, **noclip), dict(method=L.SAMPLING, **top)))
        grid.append((scalarized_run(preset, tasksets[0], max(taus), experiment, seed, **noclip), dict(method=L.WEIGHTING, **top)))
    return grid


def shares_fig1_with_fronts(preset, taskset=None) -> bool:
    """Whether Upsample or Upweight? Fig. 1 on `taskset` (default: the preset's first pair)
    reuses the Order Matters fronts' static runs: the fronts sample at τ = 1 and τ = 5
    (`Preset.front_taus`) and draw that pair (one of the preset's own pairs; a notebook given
    another, e.g. a hub pair, trains Fig. 1's own runs)."""
    s = scale(preset)
    return {1.0, 5.0} <= set(s.front_taus) and pair(preset, taskset) in s.hrl_lrl_sets


def cooldown_runs(preset, taskset=None, experiment="upsample_mt"):
    """Upsample or Upweight? Fig. 1: τ=1, τ=5 and COOLDOWN (5 then 1), every seed, without
    gradient clipping as in the paper (the τ=5 runs are Fig. 4's unclipped ones). On a preset
    whose fronts sample at τ = 1 and 5 (`shares_fig1_with_fronts`), τ=1 and τ=5 are the
    fronts' static runs -- clipped at 1.0 like every Order Matters run -- and COOLDOWN
    continues τ=5's at the switch: three forks of half a run each are all Fig. 1 adds."""
    taskset = pair(preset, taskset)
    shared = shares_fig1_with_fronts(preset, taskset)
    changes = dict(bleu=wants_bleu("A", taskset)) if shared else unclipped(preset)
    grid = []
    for seed in scale(preset).seeds:
        for tau, method in ((1.0, L.TAU1), (5.0, L.TAU5)):
            grid.append((fig1_static_run(preset, taskset, tau, experiment, seed), {"method": method, "seed": seed}))
        grid.append((cooldown_run(preset, taskset, experiment, seed, **changes), {"method": L.COOLDOWN_FIG1, "seed": seed}))
    return grid


def fig1_static_run(preset, taskset, tau, experiment="upsample_mt", seed=0) -> TrainConfig:
    """Upsample or Upweight? Fig. 1's static temperature-sampling run at `tau`, forked at
    COOLDOWN's switch: the Order Matters fronts' static run where the preset shares them
    (`shares_fig1_with_fronts`), else its own, unclipped as in the paper."""
    if shares_fig1_with_fronts(preset, taskset):
        return static_rate(preset, taskset, tau=tau, seed=seed)
    return temperature_run(preset, taskset, tau, experiment, seed, **unclipped(preset))


def gradient_variance_checkpoints(preset, taskset=None, tau=5.0, experiment="upsample_mt") -> dict:
    """Upsample or Upweight? Fig. 3's checkpoints, by name: the initialisation (None), COOLDOWN's
    switch (halfway) and the end of Fig. 1's τ run (`fig1_static_run`, seed 0): the
    prefix and run configs whose final checkpoints they are. No run of its own."""
    from .config import prefix_at, total_steps

    cfg = fig1_static_run(preset, pair(preset, taskset), tau, experiment)
    half = run_length(preset, pair(preset, taskset))[0] // 2
    return {"init": None, f"step {half}": prefix_at(cfg, half), f"step {total_steps(cfg)}": cfg}


def method_table_runs(preset, taskset, n_high, unimax_epochs=5, experiment="upsample"):
    """Upsample or Upweight? Tables 3 and 4: every method but DoReMi (whose weights are
    learned first: `doremi_runs`)."""
    hrls = list(get_taskset(taskset).tasks)[:n_high]
    return [(cfg, {**label, "seed": seed}) for seed in arm_seeds(preset) for cfg, label in [
        (temperature_run(preset, taskset, 1.0, experiment, seed), {"method": L.TAU1}),
        (temperature_run(preset, taskset, 5.0, experiment, seed), {"method": L.TAU5}),
        (temperature_run(preset, taskset, 100.0, experiment, seed), {"method": L.TAU100}),
        (unimax_run(preset, taskset, experiment, unimax_epochs, seed), {"method": L.UNIMAX}),
        (order_matters_tau_run(preset, taskset, experiment, 5.0, pretrain_on=hrls, seed=seed), {"method": L.ORDER_MATTERS}),
        (cooldown_run(preset, taskset, experiment, seed), {"method": L.COOLDOWN}),
    ]]


def doremi_proxy_config(preset, taskset, experiment="upsample") -> TrainConfig:
    """The proportional run whose settings (and length, `plan.steps`) DoReMi's proxy and
    reference models use, with the LR schedule of the runs they serve (language modelling's
    differs from translation's). No BLEU: only the reference's validation losses are read."""
    full, _, lr_schedule = run_length(preset, taskset)
    steps = round(full * scale(preset).doremi_fraction)
    return base(preset, taskset, experiment, M.Temperature(steps, 1.0, lr_schedule=lr_schedule), bleu=False)


def doremi_runs(preset, taskset, weights: dict, experiment="upsample") -> list[tuple[TrainConfig, dict]]:
    """Static sampling at DoReMi's learned weights (learned once, by seed 0's proxy), at
    each seed of the tables' other methods (`arm_seeds`)."""
    steps, _, lr_schedule = run_length(preset, taskset)
    plan = M.DoReMi(steps, tuple(weights[t] for t in get_taskset(taskset).tasks), lr_schedule=lr_schedule)
    return [(base(preset, taskset, experiment, plan, seed=seed), {"method": L.DOREMI, "seed": seed})
            for seed in arm_seeds(preset)]


def schedule_comparison_runs(preset, mt_taskset=None, lm_taskset="lm_upsample",
                             experiment_mt="upsample_mt", experiment_lm="upsample_lm"):
    """Upsample or Upweight? Fig. 5-7: (MT decreasing vs increasing τ, LM sparse vs dense)."""
    lm_steps = scale(preset).lm_steps
    mt_taskset = pair(preset, mt_taskset)
    seeds = arm_seeds(preset)
    mt = [(cfg, {**label, "seed": seed}) for seed in seeds for cfg, label in [
        (cooldown_run(preset, mt_taskset, experiment_mt, seed), {"schedule": L.DECREASING}),
        (increasing_run(preset, mt_taskset, experiment_mt, seed), {"schedule": L.INCREASING}),
    ]]
    lm = [(cfg, {**label, "seed": seed}) for seed in seeds for cfg, label in [
        (cooldown_run(preset, lm_taskset, experiment_lm, seed), {"schedule": L.SPARSE}),
        (dense_run(preset, lm_taskset, experiment_lm, every=1, seed=seed), {"schedule": L.DENSE_EVERY_STEP}),
        (dense_run(preset, lm_taskset, experiment_lm, every=max(1, lm_steps // 10), seed=seed), {"schedule": L.DENSE_EVERY_TENTH}),
    ]]
    return mt, lm


# `--source hub` (and the paper preset's default): each notebook's task-set parameters name
# the papers' own data (`paperlib.data.tasksets.HUB_TASKSETS`), figure by figure
HUB_PARAMETERS = {
    "A1_fig01_hrl_hrl_fronts": {"taskset": "wmt_fr_zh"},
    "A2_fig02_hrl_lrl_fronts": {"tasksets": ["wmt_fr_ro", "wmt_fr_hi"]},   # Figs. 2 and 12
    "A3_fig03_efficiency": {"tasksets": ["wmt_fr_ro", "wmt_fr_hi"]},  # Figs. 22 and 24
    "A4_fig05_regularisation": {"taskset": "wmt_fr_ro"},
    "A5_fig06_finetune_only": {"taskset": "wmt_fr_ro"},
    "A6_fig07_multilingual_lm": {"taskset": "mc4_order_matters"},
    "A7_fig09_pretraining_length": {"lm_taskset": "mc4_order_matters", "nmt_taskset": "wmt_fr_ro"},
    "A8_fig26_bleu_fronts": {"tasksets": ["wmt_fr_ro", "wmt_fr_hi"]},      # Figs. 27 and 28
    "B0_fig02_variance_theory": {},
    "B1_fig03_gradient_variance": {"taskset": "wmt_cs_ro"},
    "B2_fig04_sampling_vs_weighting": {"tasksets": ["wmt_cs_ro", "wmt_fr_ro"]},  # Fig. 4's two rows
    "B3_fig01_cooldown_lrl": {"taskset": "wmt_cs_ro"},
    # Table 3's high-resource average is over its three 1M pairs, the low-resource one over the four below 500k
    "B4_table3_one_to_many": {"taskset": "opus100_table3", "n_high": 3, "n_low": 4},
    "B5_table4_multilingual_lm": {"taskset": "mc4_table4"},
    "B6_fig05_07_schedules": {"mt_taskset": "wmt_zh_ro", "lm_taskset": "mc4_table4"},   # Figs. 7 and 5-6
    "C1_advise_sampling_plan": {"taskset": "wmt_fr_ro"},
}


def notebook_runs(preset: str, parameters: dict[str, dict] | None = None) -> dict[str, list[tuple[TrainConfig, dict]]]:
    """Every notebook's runs at its parameters (`parameters`: notebook -> the papermill
    parameters it is given, e.g. another corpus's task sets or other run folders; absent ones at
    their defaults),
    built by the calls the notebooks make: what `reproduce` trains first in one schedule and
    `--dry-run` costs. DoReMi's final runs depend on learned weights; their proxy/reference
    training is counted by `paperlib.costs` from `doremi_proxy_config`."""
    def given(notebook):
        return (parameters or {}).get(notebook, {})

    def folders(notebook, *keys):  # the run folders a notebook is given (absent: the functions' defaults, its own)
        return {key: given(notebook)[key] for key in (keys or ("experiment",)) if key in given(notebook)}

    a1, a4, a5, a6, a7 = (given(n) for n in ("A1_fig01_hrl_hrl_fronts", "A4_fig05_regularisation",
                                            "A5_fig06_finetune_only", "A6_fig07_multilingual_lm",
                                            "A7_fig09_pretraining_length"))
    b1, b2, b3, b6 = (given(n) for n in ("B1_fig03_gradient_variance", "B2_fig04_sampling_vs_weighting",
                                        "B3_fig01_cooldown_lrl", "B6_fig05_07_schedules"))
    lm, nmt = pretraining_length_runs(preset, a7.get("lm_taskset", "lm_order_matters"), a7.get("nmt_taskset"),
                                      **folders("A7_fig09_pretraining_length", "experiment_lm", "experiment_nmt"))
    mt_sched, lm_sched = schedule_comparison_runs(preset, b6.get("mt_taskset"), b6.get("lm_taskset", "lm_upsample"),
                                                  **folders("B6_fig05_07_schedules", "experiment_mt", "experiment_lm"))
    b4, b5 = given("B4_table3_one_to_many"), given("B5_table4_multilingual_lm")
    return {
        "A1_fig01_hrl_hrl_fronts": hrl_hrl_runs(preset, a1.get("taskset", "hrl_hrl"), **folders("A1_fig01_hrl_hrl_fronts")),
        **{nb: order_matters_nmt_grid(preset, pairs(preset, given(nb).get("tasksets")), **folders(nb))
           for nb in ("A2_fig02_hrl_lrl_fronts", "A3_fig03_efficiency", "A8_fig26_bleu_fronts")},
        "A4_fig05_regularisation": regularisation_runs(preset, a4.get("taskset"), **folders("A4_fig05_regularisation")),
        "A5_fig06_finetune_only": finetune_only_runs(preset, a5.get("taskset"), **folders("A5_fig06_finetune_only")),
        "A6_fig07_multilingual_lm": multilingual_lm_runs(preset, a6.get("taskset", "lm_order_matters"),
                                                         **folders("A6_fig07_multilingual_lm")),
        "A7_fig09_pretraining_length": lm + nmt,
        "B1_fig03_gradient_variance": [(c, {"method": L.TAU5, "checkpoint": name}) for name, c in
                                       gradient_variance_checkpoints(preset, b1.get("taskset"),
                                                                     **folders("B1_fig03_gradient_variance")).items()
                                       if c is not None],
        "B2_fig04_sampling_vs_weighting": sampling_vs_weighting_runs(preset, b2.get("tasksets"),
                                                                     **folders("B2_fig04_sampling_vs_weighting")),
        "B3_fig01_cooldown_lrl": cooldown_runs(preset, b3.get("taskset"), **folders("B3_fig01_cooldown_lrl")),
        "B4_table3_one_to_many": method_table_runs(preset, b4.get("taskset", "one_to_many"), b4.get("n_high", 2),
                                                   experiment=b4.get("experiment", "upsample_one_to_many")),
        "B5_table4_multilingual_lm": method_table_runs(preset, b5.get("taskset", "lm_upsample"), b5.get("n_high", 1),
                                                       experiment=b5.get("experiment", "upsample_lm")),
        "B6_fig05_07_schedules": mt_sched + lm_sched,
        "C1_advise_sampling_plan": order_matters_nmt_grid(preset, [pair(preset, given("C1_advise_sampling_plan").get("taskset"))],
                                                          with_restart=False, **folders("C1_advise_sampling_plan")),  # A2's
    }


def doremi_taskset(notebook: str, parameters: dict[str, dict] | None = None) -> tuple[str, str]:
    """(task set, experiment) of a notebook that learns DoReMi weights, at its parameters."""
    taskset, experiment = DOREMI_NOTEBOOKS[notebook]
    given = (parameters or {}).get(notebook, {})
    return given.get("taskset", taskset), given.get("experiment", experiment)


# the task sets whose DoReMi weights a notebook learns (proxy + reference model each)
DOREMI_NOTEBOOKS = {"B4_table3_one_to_many": ("one_to_many", "upsample_one_to_many"),
                    "B5_table4_multilingual_lm": ("lm_upsample", "upsample_lm")}
