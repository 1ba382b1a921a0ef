"""A sampling-plan recommendation from the runs a reproduction already made (`paperlib advise`).

For one high- and one low-resource pair, the Order Matters fronts hold final validation
losses of static sampling and of pre-train + joint fine-tuning at each LRL rate r. Per
method and task we fit a *mixture law*: the task's loss as a function of its own share of
the batches, p (r for the LRL, 1 - r for the HRL), and recommend the method and rate with
the lowest predicted LRL loss whose predicted HRL loss stays within `tolerance` nats of the
best HRL loss the runs reached. The same law serves Upsample or Upweight?'s τ grid (`--over
tau`): a temperature τ gives the LRL a share p(τ) of the batches (temperature sampling) or of
the loss weights (scalarization), so each run is a point at that share, and the recommended
share is said as the τ that gives it.

The functional form. Data Mixing Laws (Ye et al., 2024) fit L(r) = c + k·exp(t·r) per domain;
RegMix fits a regression over many small-run mixtures. Both need more mixtures than our grids
have (2-3 rates, 3 parameters). We use the law in the task's log-share,

    L(p) = a + b·log p                  (fewer than 4 rates: monotone, 2 parameters)
    L(p) = a + b·log p + c·(log p)²     (4 rates or more: can bend up where a high rate overfits)

-- power-law-like in p, the form multilingual scaling work finds for a language's loss
against its sampling share -- and never recommend a rate outside the grid's range.

Honest validation. Every run is predicted from a fit of the same law to the others: leaving
out a whole rate when the other rates still determine the law (3 rates or more: the law is
then tested between and beyond the rates it was fit on), else one run at a time (the law is
then checked at the grid's own rates only, and the output says so). The held-out RMSE
of the LRL loss is the recommendation's uncertainty band; the recommendation is marked
unreliable when that error is as large as the gap between the recommended plan and the best
plan of the other method.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .labels import PRETRAIN, SAMPLING, STATIC, TAU1, TAU5, WEIGHTING

COOLDOWN = "COOLDOWN (τ = 5, then 1)"  # the advice's name for the switch axis' points, not a run label

# The axes a plan is placed on. SHARE: the LRL's share of the batches (the HRL's is 1 - it);
# STEPS: a step count that applies to both tasks (Order Matters' pre-training length);
# SWITCH: when COOLDOWN drops τ, as a fraction of the run -- 0 is τ = 1 throughout, 1 is
# τ = 5 throughout, so Upsample or Upweight? Fig. 1's three runs are three points on it.
SHARE, STEPS, SWITCH = "share", "steps", "switch"


def _feature(x, axis: str) -> np.ndarray:
    """What the law is polynomial in: the log of a share or a step count (power-law-like),
    the switch fraction itself (which may be 0 or 1)."""
    x = np.asarray(x, dtype=float)
    return x if axis == SWITCH else np.log(x)


def design(p, rates: int, axis: str = SHARE) -> np.ndarray:
    """Columns of the law: [1, f, f²] at 4 distinct points or more (3 on the switch axis,
    whose ends bend it: τ = 1 underfits the LRL, τ = 5 overfits it), else [1, f], with f
    the `_feature` of p."""
    x = _feature(p, axis)
    cols = [np.ones_like(x), x] + ([x ** 2] if rates >= (3 if axis == SWITCH else 4) else [])
    return np.stack(cols, axis=-1)


def fit(p, loss, rates: int | None = None, axis: str = SHARE) -> np.ndarray:
    """Least-squares coefficients of the law for losses observed at points p of the axis."""
    p = np.asarray(p, dtype=float)
    rates = len(np.unique(p)) if rates is None else rates
    coef, *_ = np.linalg.lstsq(design(p, rates, axis), np.asarray(loss, dtype=float), rcond=None)
    return coef


def predict(coef: np.ndarray, p, axis: str = SHARE) -> np.ndarray:
    return design(p, 4 if len(coef) == 3 else 2, axis) @ coef


@dataclass(frozen=True)
class Points:
    """Final validation losses of one method's runs: each run's place on the plan's axis
    (`rate`: the LRL share, a pre-training length or a switch fraction), HRL and LRL loss."""

    rate: np.ndarray
    hrl: np.ndarray
    lrl: np.ndarray
    axis: str = SHARE

    @property
    def rates(self) -> int:
        return len(np.unique(self.rate))


def _shares(rate, task: str, axis: str = SHARE):
    """Where a task's law is evaluated: its own share on the share axis, else the plan's point."""
    rate = np.asarray(rate, dtype=float)
    return 1 - rate if axis == SHARE and task == "hrl" else rate


def held_out_errors(pts: Points, task: str) -> tuple[np.ndarray, str]:
    """(prediction error of every run from a fit to the others, how they were held out)."""
    y = getattr(pts, task)
    params = design([0.5], pts.rates, pts.axis).shape[-1]
    by_rate = pts.rates > params  # with one point left out, the others still determine the law
    errors = []
    for i in range(len(y)):
        keep = pts.rate != pts.rate[i] if by_rate else np.arange(len(y)) != i
        if len(np.unique(pts.rate[keep])) < params:
            continue  # the rest cannot determine the law: this run is not predicted
        coef = fit(_shares(pts.rate[keep], task, pts.axis), y[keep], rates=pts.rates, axis=pts.axis)
        errors.append(float(predict(coef, _shares(pts.rate[i:i + 1], task, pts.axis), pts.axis)[0] - y[i]))
    where = {SHARE: "LRL share", STEPS: "pre-training length", SWITCH: "switch point"}[pts.axis]
    return np.asarray(errors), f"one {where} at a time (the law tested at {where}s it was not fit on)" if by_rate else \
        f"one run at a time (the law is checked at the grid's own {where}s only)"


@dataclass(frozen=True)
class Advice:
    method: str
    rate: float
    lrl: float            # predicted LRL loss there
    hrl: float            # predicted HRL loss there
    band: float           # held-out RMSE of the LRL loss (nats): the recommendation's uncertainty
    runner_up: tuple      # (method, rate, predicted LRL loss) of the other method's best plan
    held_out: str         # how runs were held out
    n_held_out: int
    reliable: bool
    why: str
    axis: str = SHARE     # what `rate` is (see `Points`)
    at_edge: bool = False  # at an end of the runs' range, the LRL law still falling outward


def laws(points: dict[str, Points], grid: int = 401) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per method with ≥ 2 rates: (LRL rates across its grid's range, the fitted law's HRL
    loss there, its LRL loss there) -- what `recommend` chooses from, and what the advice
    notebook draws."""
    out = {}
    for method, pts in points.items():
        if pts.rates < 2:
            continue
        r = np.linspace(pts.rate.min(), pts.rate.max(), grid)
        out[method] = (r, *(predict(fit(_shares(pts.rate, task, pts.axis), getattr(pts, task), pts.rates, pts.axis),
                                    _shares(r, task, pts.axis), pts.axis) for task in ("hrl", "lrl")))
    return out


def recommend(points: dict[str, Points], tolerance: float = 0.05, grid: int = 401,
              reference: tuple[str, float] | None = None) -> Advice:
    """The plan with the lowest predicted LRL loss whose predicted HRL loss is within
    `tolerance` nats of the best HRL loss observed, over each method's rate range.
    reference: (method, point) of the paper's own choice, the runner-up to rank against
    when one method alone is fit (e.g. COOLDOWN's switch at half the run)."""
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"--tolerance must be a finite number of nats >= 0, got {tolerance!r}")
    if not points:
        raise ValueError("no runs of either method to fit a law to")
    if not any(p.rates >= 2 for p in points.values()):
        axis = next(iter(points.values())).axis
        raise ValueError("no method's runs sit at 2 or more distinct " + {
            SHARE: "LRL shares, so no law can be fit (a τ grid on tasks of equal size gives every τ the same share)",
            STEPS: "pre-training lengths, so no law can be fit (Fig. 9's runs: half, 1x and 1.5x the preset's)",
            SWITCH: "switch points, so no law can be fit (τ = 1, COOLDOWN and τ = 5 are three)"}[axis])
    best_hrl = min(float(p.hrl.min()) for p in points.values())
    candidates, errors, hrl_errors, excess, how = [], [], [], {}, ""
    fitted = laws(points, grid)  # every method's law along its range, fitted once
    for method, (r, hrl, lrl) in fitted.items():
        pts = points[method]
        ok = hrl <= best_hrl + tolerance
        if ok.any():
            i = int(np.flatnonzero(ok)[np.argmin(lrl[ok])])
            candidates.append((float(lrl[i]), method, float(r[i]), float(hrl[i])))
        else:  # how far its best HRL loss is from meeting the tolerance
            excess[method] = float(hrl.min() - best_hrl - tolerance)
        e, how = held_out_errors(pts, "lrl")
        errors.extend(e.tolist())
        hrl_errors.extend(held_out_errors(pts, "hrl")[0].tolist())
    if not candidates:
        raise ValueError(f"no method has a rate whose HRL loss stays within {tolerance:g} nats of the best "
                         f"({best_hrl:.3f}); raise --tolerance")
    candidates.sort()
    lrl, method, rate, hrl = candidates[0]
    band = float(np.sqrt(np.mean(np.square(errors)))) if errors else float("nan")
    runner = candidates[1] if len(candidates) > 1 else None
    if runner is None and reference is not None:  # the paper's choice, on the same law
        r, hrl_law, lrl_law = fitted[reference[0]]
        i = int(np.argmin(np.abs(r - reference[1])))
        runner = (float(lrl_law[i]), f"{reference[0]}, the paper's choice,", float(r[i]), float(hrl_law[i]))
    gap = runner[0] - lrl if runner else float("nan")
    hrl_band = float(np.sqrt(np.mean(np.square(hrl_errors)))) if hrl_errors else float("nan")
    if not errors:
        reliable, why = False, "no run could be held out (too few rates and seeds): the law is unchecked"
    elif runner is None:
        closest = min(excess.values()) if excess else float("nan")
        reliable = bool(excess) and closest > hrl_band
        why = (f"the other method's HRL loss misses the tolerance by {closest:.3f} nats, "
               f"{'more' if reliable else 'no more'} than the law's held-out HRL error ({hrl_band:.3f})"
               if excess else "only one method was run: nothing to rank it against")
    elif gap < 0:  # only the paper's choice can be lower: outside the HRL tolerance (else it were the pick)
        miss = runner[3] - best_hrl - tolerance
        reliable = miss > hrl_band
        why = (f"the paper's choice predicts a lower LRL loss (by {-gap:.3f} nats) but misses the HRL tolerance by "
               f"{miss:.3f} nats, {'more' if reliable else 'no more'} than the law's held-out HRL error ({hrl_band:.3f})")
    elif band >= gap:
        reliable, why = False, (f"the held-out error ({band:.3f} nats) is as large as the gap to the runner-up "
                                f"({gap:.3f}): the ranking is within the law's error")
    else:
        reliable, why = True, f"the held-out error ({band:.3f} nats) is below the gap it ranks ({gap:.3f})"
    axis = next(iter(points.values())).axis
    # at an end of the runs' range with the LRL law still falling outward there (not where the
    # HRL tolerance stopped it): runs further out might do better still
    r, _, lrl_law = fitted[method]
    at_edge = bool((np.isclose(rate, r[-1]) and lrl_law[-1] < lrl_law[-2]) or
                   (np.isclose(rate, r[0]) and lrl_law[0] < lrl_law[1]))
    return Advice(method, rate, lrl, hrl, band, (runner[1], runner[2], runner[0]) if runner else (),
                  how, len(errors), reliable, why, axis, at_edge)


def in_regime(advice: Advice, learned) -> Advice:
    """The advice, marked UNRELIABLE when the runs it was fitted to have not learned their HRL.
    learned: the claims' `learned` gate on those runs (anything with `passed` and `measured`,
    e.g. `claims.order_matters.learned_gate(frame, hrl)`): a law fitted to models no better
    than a bigram ranks noise, however small its held-out error (every run sits near the same
    loss). An earlier reason to distrust the advice is kept after this one."""
    if learned.passed:
        return advice
    return replace(advice, reliable=False,
                   why=f"out of regime: the runs have not learned their HRL ({learned.measured}); a law fitted to them "
                       "ranks nothing" + ("" if advice.reliable else f"; besides, {advice.why}"))


def points_from(df, hrl: str, lrl: str) -> dict[str, Points]:
    """The runs of an Order Matters front frame (one row per run: method, rate, final
    valid_loss.<task> columns) as Points per recommendable method."""
    out = {}
    for method in (STATIC, PRETRAIN):
        rows = df[df.method == method]
        if len(rows):
            out[method] = Points(rows["rate"].to_numpy(float), rows[f"valid_loss.{hrl}"].to_numpy(float),
                                 rows[f"valid_loss.{lrl}"].to_numpy(float))
    return out


def points_from_switch(df, hrl: str, lrl: str) -> dict[str, Points]:
    """The runs of Upsample or Upweight? Fig. 1 (one row per run: method τ=1, τ=5 or a
    COOLDOWN run (`run_obj`, whose plan holds its switch), final valid_loss.<task> columns)
    as one method's Points on the switch axis: τ = 1 throughout is a switch at 0, τ = 5
    throughout a switch at 1."""
    at = {TAU1: 0.0, TAU5: 1.0}
    x = np.array([at[m] if m in at else run.config.plan.switch / run.config.plan.steps
                  for m, run in zip(df["method"], df["run_obj"])], dtype=float)
    return {COOLDOWN: Points(x, df[f"valid_loss.{hrl}"].to_numpy(float), df[f"valid_loss.{lrl}"].to_numpy(float),
                             SWITCH)}


def points_from_pretrain(df, hrl: str, lrl: str) -> dict[str, Points]:
    """The NMT runs of Order Matters Fig. 9 (one row per run: `pretrain` steps, LRL `rate`,
    final valid_loss.<task> columns; fine-tuning length fixed) as Points on the
    pre-training-length axis, one method per fine-tuning rate."""
    return {f"{PRETRAIN} at LRL rate {r:g}": Points(rows["pretrain"].to_numpy(float),
                                                    rows[f"valid_loss.{hrl}"].to_numpy(float),
                                                    rows[f"valid_loss.{lrl}"].to_numpy(float), STEPS)
            for r, rows in df.groupby("rate")}


def tau_of_share(share: float, n_high: int, n_low: int) -> float:
    """The temperature τ at which the low-resource task's share of a two-task mixture is
    `share` (inverting p(low; τ) = n_low^(1/τ) / (n_high^(1/τ) + n_low^(1/τ))); inf at 1/2."""
    odds = share / (1 - share)
    return float("inf") if np.isclose(odds, 1.0) else float(np.log(n_low / n_high) / np.log(odds))


def points_from_taus(df, hrl: str, lrl: str, sizes: dict[str, int]) -> dict[str, Points]:
    """The runs of a τ grid (one row per run: method, tau, final valid_loss.<task> columns) as
    Points per method, each at the LRL share its τ gives (`mixing.temperature` of the
    training sizes): temperature sampling draws the LRL at that share, scalarization weights
    it by the same share -- one law in the share serves both."""
    from .mixing import temperature

    out = {}
    for method in (SAMPLING, WEIGHTING):
        rows = df[df.method == method]
        if len(rows):
            share = np.array([temperature([sizes[hrl], sizes[lrl]], float(t))[1] for t in rows["tau"]])
            out[method] = Points(share, rows[f"valid_loss.{hrl}"].to_numpy(float), rows[f"valid_loss.{lrl}"].to_numpy(float))
    return out


def describe(advice: Advice, hrl: str, lrl: str, tolerance: float, sizes: dict[str, int] | None = None) -> str:
    """The recommendation in words; with the tasks' training `sizes`, its LRL share as the
    temperature τ that gives it (a τ grid's advice)."""
    a = advice

    def plan(rate):
        if a.axis == STEPS:
            return f"{rate:,.0f} pre-training steps"
        if a.axis == SWITCH:
            return "τ = 1 throughout" if rate <= 0 else "τ = 5 throughout" if rate >= 1 else \
                f"a switch at {rate:.0%} of the run"
        if sizes is None:
            return f"LRL rate {rate:.2f}"
        return f"τ = {tau_of_share(rate, sizes[hrl], sizes[lrl]):.2f} (LRL share {rate:.3f})"

    # the band is the law's held-out error over the runs (their seed spread included), not a
    # confidence interval at the recommended rate: say so where the number is
    lines = [f"recommended: {a.method} at {plan(a.rate)} -> predicted {lrl} loss {a.lrl:.3f} "
             f"(held-out RMSE {a.band:.3f}, not an interval at this rate), "
             f"{hrl} loss {a.hrl:.3f} (within {tolerance:g} nats of the best {hrl} loss the runs reached)"]
    if a.runner_up:
        m, r, loss = a.runner_up
        lines.append(f"runner-up:   {m} at {plan(r)} -> predicted {lrl} loss {loss:.3f}")
    if a.at_edge:
        lines.append("(at the edge of the runs' range: the law may well keep improving beyond it, but it is not "
                     "extrapolated; runs further out would say)")
    lines.append(f"held-out prediction error (RMSE of the {lrl} loss over {a.n_held_out} runs, held out "
                 f"{a.held_out}): {a.band:.3f} nats")
    lines.append(("reliable: " if a.reliable else "UNRELIABLE: ") + a.why)
    return "\n".join(lines)


def record(notebook: str, text: str, out_dir, advice: Advice | None = None) -> Path:
    """Save a notebook's recommendation (`describe`'s text, or why there is none) beside its
    figures' records, for the report."""
    from .files import atomic_write

    path = Path(out_dir) / f"{notebook}.advice.json"
    atomic_write(path, json.dumps({"notebook": notebook, "text": text, "advice": asdict(advice) if advice else None},
                                  indent=2))
    return path
