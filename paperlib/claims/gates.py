"""Regime gates: is a run in the regime a paper's argument needs? Each returns a `Gate`
saying whether it passed and what it measured, with the numbers.

learned      the model has learned its task: its validation loss is at least `margin`
             (1 nat) below the source-blind bigram baseline (`paperlib.baselines`) fit on
             the same training tokens, or its BLEU is at least 10
overfits     the low-resource task overfits: its validation loss reaches its minimum before
             80% of training and then rises by at least 3 standard errors (a paired
             bootstrap over the validation sentences at the two evaluations)
pretrained   the pre-trained model has learned the high-resource task (`learned` at the
             end of pre-training)
falling      the loss is still falling where a comparison is made (pre-training length)
settled      the loss has stopped moving by the end of training: it changed by less than a
             tolerance over the last quarter (claims about where runs end up "given enough
             training iterations")
cooldown     temperature sampling at τ = 5 has its low-resource minimum before the end of
             training and rises after it by at least 3 standard errors (as `overfits`; a
             rise of one is within the noise): there is overfitting for COOLDOWN's switch to
             prevent
exposed      a run saw at least as many examples of a task as another run had seen where that
             one began to overfit: only then can "it does not overfit" mean anything
             (pre-training's fine-tuning at the highest rate; COOLDOWN against τ = 5)
scored       every compared method's corpus BLEU is at least 10: nearer its floor, BLEU moves
             by whole points on a few segments, and a verdict on it would say nothing
headroom     a rate grid can order two methods' best rates: a best rate at the top of its grid
             is a lower bound only (Order Matters Fig. 16)
fewer        a run saw fewer examples of a task than another by their ends: "better with fewer
             examples" (Order Matters Fig. 22) needs it
overshoot    a rate grid reaches past a task's best rate: some rate above it exists, which
             overfitting could push off a trade-off front (Order Matters Fig. 2's caption)
"""

from __future__ import annotations

import numpy as np

from .core import Gate
from .stats import loss_gain

LEARNED_MARGIN = 1.0     # nats per token below the bigram baseline
LM_LEARNED_MARGIN = 0.5
"""nats/token an LM must be below the LM bigram (fit on the same training blocks) to count as
having learned: a language model has no source sentence, so the translation margin (1 nat, what
the source must add) does not carry over; 0.5 nats is a 40% lower perplexity than the
previous-token model, i.e. context beyond the previous token is being used."""
LEARNED_BLEU = 10.0
OVERFIT_BEFORE = 0.8     # fraction of training by which the minimum must come
OVERFIT_RISE_SE = 3.0


def learned(task: str, loss: float, bigram: float, bleu: float | None = None, margin: float = LEARNED_MARGIN,
            name: str = "learned") -> Gate:
    gap = bigram - loss
    ok = gap >= margin or (bleu is not None and bleu >= LEARNED_BLEU)
    bleu_text = f", BLEU {bleu:.1f}" if bleu is not None else ""
    return Gate(name, bool(ok),
                f"{task}: validation loss {loss:.3f}, bigram baseline {bigram:.3f}: {abs(gap):.2f} nats "
                f"{'below' if gap >= 0 else 'above'} it (needs ≥ {margin:g} below"
                f"{' or BLEU ≥ 10' if bleu is not None else ''}){bleu_text}",
                {"task": task, "loss": loss, "bigram": bigram, "below_bigram": gap, "bleu": bleu})


def scored(label: str, bleus: dict, floor: float = LEARNED_BLEU, name: str = "scored") -> Gate:
    """Every compared method's BLEU (bleus: method -> BLEU) is at least `floor`: near its
    floor, corpus BLEU moves by whole points on a few segments, and equal scores across seeds
    would give an interval of zero width."""
    ok = all(np.isfinite(b) and b >= floor for b in bleus.values())  # an unscored method (NaN) fails
    return Gate(name, bool(ok),
                f"{label}: BLEU " + ", ".join(f"{b:.1f} ({m})" for m, b in bleus.items()) + f" (needs ≥ {floor:g} each)",
                {"bleu": dict(bleus), "floor": floor})


def rise_after_minimum(steps, losses, at_min: tuple, at_end: tuple) -> tuple[int, int, float, float]:
    """(step of the minimum, last step, rise from the minimum to the end, its standard
    error). steps/losses: the (seed-mean) curve; at_min / at_end: (nll per sentence, one
    row per seed; tokens) at those two evaluations of the same runs."""
    steps, losses = np.asarray(steps), np.asarray(losses, dtype=float)
    rise = loss_gain(at_min[0], at_end[0], at_min[1], n_boot=1000, same_runs=True)  # loss(end) - loss(min)
    return int(steps[np.argmin(losses)]), int(steps[-1]), rise.estimate, rise.se


def overfits(task: str, steps, losses, at_min: tuple, at_end: tuple, before: float = OVERFIT_BEFORE,
             rise_se: float = OVERFIT_RISE_SE, name: str = "overfits") -> Gate:
    """steps/losses: the validation curve; at_min/at_end: per-sentence (nll, tokens) at the
    curve's minimum and at its last evaluation."""
    best, last, rise, se = rise_after_minimum(steps, losses, at_min, at_end)
    ok = best <= before * last and se > 0 and rise >= rise_se * se  # no spread measured: no rise shown
    return Gate(name, bool(ok),
                f"{task}: minimum {min(losses):.3f} at step {best} of {last} ({best / last:.0%}; needs ≤ {before:.0%}), "
                f"then +{rise:.3f} by the end ({rise / se if se > 0 else float('nan'):.1f} SE; needs ≥ {rise_se:g})",
                {"task": task, "min_step": best, "last_step": last, "rise": rise, "rise_se": se})


def cooldown(task: str, steps, losses, at_min: tuple, at_end: tuple, rise_se: float = OVERFIT_RISE_SE) -> Gate:
    """τ=5 overfits `task`: "COOLDOWN prevents overfitting" needs overfitting to prevent. The
    rise after the minimum needs as many standard errors as `overfits` asks (one SE is a rise
    a flat curve often shows by chance); the minimum need only come before the end, not
    before 80% of training: a late rise is still overfitting that lowering τ should prevent."""
    best, last, rise, se = rise_after_minimum(steps, losses, at_min, at_end)
    ok = best < last and se > 0 and rise >= rise_se * se  # no spread measured: no rise shown
    return Gate("cooldown", bool(ok),
                f"{task} at τ=5: minimum at step {best} of {last}, then +{rise:.3f} ({rise / se if se > 0 else 0:.1f} SE; "
                f"needs a minimum before the end and a rise ≥ {rise_se:g} SE)",
                {"task": task, "min_step": best, "last_step": last, "rise": rise, "rise_se": se})


SETTLED_FROM = 0.75      # the last quarter of training


def settled(task: str, steps, losses, tolerance: float, since: float = SETTLED_FROM, name: str = "settled") -> Gate:
    """The (seed-mean) loss moved by less than `tolerance` from the first evaluation at or
    after `since` of the last step to the last evaluation."""
    steps, losses = list(steps), [float(x) for x in losses]
    i = next(k for k, s in enumerate(steps) if s >= since * steps[-1])
    moved = losses[-1] - losses[i]
    ok = i < len(steps) - 1 and abs(moved) < tolerance
    return Gate(name, bool(ok),
                f"{task}: loss {losses[i]:.3f} at step {steps[i]}, {losses[-1]:.3f} at the end (step {steps[-1]}): "
                f"moved {moved:+.3f} over the last {1 - since:.0%} of training (needs |change| < {tolerance:g})",
                {"task": task, "from_step": steps[i], "last_step": steps[-1], "moved": moved})


def falling(task: str, steps, losses, at: int) -> Gate:
    """The loss at step `at` is below the previous evaluation's."""
    steps, losses = list(steps), list(losses)
    i = steps.index(at)
    ok = i > 0 and losses[i] < losses[i - 1]
    before = losses[i - 1] if i > 0 else float("nan")
    return Gate("falling", bool(ok), f"{task}: loss {losses[i]:.3f} at step {at} vs {before:.3f} one evaluation earlier",
                {"task": task, "step": at, "loss": losses[i], "previous": before})


def exposed(task: str, seen: float, needed: float, context: str) -> Gate:
    """The run saw at least `needed` examples of `task` (where the reference run's loss on it
    was lowest, i.e. began to rise): a run that stops earlier cannot show that it avoids the
    overfitting the reference run met (Order Matters' higher rate without overfitting)."""
    ok = needed > 0 and seen >= needed  # no examples needed: the reference never overfit, nothing to show
    return Gate("exposed", bool(ok),
                f"{task}: {seen:,.0f} examples seen, {needed:,.0f} where {context} was lowest "
                f"({seen / needed:.2f}x; needs ≥ 1)" if needed else f"{task}: {seen:,.0f} examples seen",
                {"task": task, "seen": float(seen), "needed": float(needed)})


def headroom(a: str, best_a: float, top_a: float, b: str, best_b: float, top_b: float) -> Gate:
    """Whether the grids can decide "a's best rate is higher than b's" (Order Matters Fig. 16).
    A best rate at the top of its grid is only a lower bound: that method's optimum may lie
    beyond. "Higher" is decided when b's best is inside its grid (a higher best of a can only
    be higher still); "not higher" when a's best is inside its grid (b's optimum can only be
    higher still). Neither when, say, both are best at the grid's top (mini's two temperatures)."""
    a_open, b_open = best_a >= top_a, best_b >= top_b
    finite = bool(np.all(np.isfinite([best_a, top_a, best_b, top_b])))
    ok = finite and ((not b_open) if best_a > best_b else (not a_open))
    if not finite:
        text = f"a best rate or a grid's top is missing ({a} {best_a:g} of {top_a:g}, {b} {best_b:g} of {top_b:g})"
    elif ok:
        text = f"best rates: {a} {best_a:g}, {b} {best_b:g}, the grids' highest {top_a:g} and {top_b:g}: decided on the grid"
    elif a_open and b_open and best_a == best_b:
        text = f"both best rates are the grid's highest ({best_a:g}): either optimum may lie beyond it, in either order"
    elif b_open:
        text = (f"{b}'s best rate {best_b:g} is its grid's highest: its optimum may lie beyond, above {a}'s "
                f"{best_a:g} or not")
    else:
        text = f"{a}'s best rate {best_a:g} is its grid's highest and not above {b}'s {best_b:g}: its optimum may lie beyond"
    return Gate("headroom", bool(ok), text, {"best_a": float(best_a), "top_a": float(top_a),
                                             "best_b": float(best_b), "top_b": float(top_b)})


def overshoot(task: str, best_rate: float, rates) -> Gate:
    """Some rate of the grid lies above `task`'s best rate (lowest final loss). Overfitting
    can push only rates above the best off a front: on a grid whose highest rate is still the
    best (the loss still falling with the rate), no rate is there to be pushed off, and
    "the front is every rate" would say nothing about overfitting."""
    above = sorted(r for r in rates if r > best_rate)
    return Gate("overshoot", bool(above),
                f"{task}: best rate {best_rate:g} of {', '.join(f'{r:g}' for r in sorted(rates))}: "
                + (f"{len(above)} rate(s) above it" if above else "the grid's highest, no rate above it to overfit"),
                {"task": task, "best_rate": float(best_rate), "rates_above": [float(r) for r in above]})


def fewer(task: str, seen: float, other_seen: float, context: str) -> Gate:
    """The run saw fewer examples of `task` (`seen`) than the other (`other_seen`, `context`
    names it) by their ends: the premise of "even with fewer examples seen, better"."""
    return Gate("fewer", bool(seen < other_seen),
                f"{task}: {seen:,.0f} examples seen, {other_seen:,.0f} by {context} "
                f"({seen / other_seen if other_seen else float('nan'):.2f}x; needs < 1)",
                {"task": task, "seen": float(seen), "other_seen": float(other_seen)})
