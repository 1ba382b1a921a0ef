"""The numbers claims are judged on, read from finished runs.

A notebook trains its grid with `runs.train_labelled`, which returns one row per run (its
labels -- method, rate, seed, ... -- its final metrics and the `Run` in `run_obj`). The
helpers here turn such rows into what `stats` and `gates` need: per-sentence validation
losses stacked over seeds, learning curves, and the bigram baseline of a run's data.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import store
from ..config import TrainConfig
from .stats import Effect, loss_gain


def step_of(run, task: str, at) -> int:
    """The evaluation step `at` names: "final" (the last), "best" (lowest validation loss
    of `task`), or a step number."""
    steps = store.example_loss_steps(run.dir)
    if not steps:
        raise ValueError(f"run {run.dir} stored no per-sentence validation losses (trained before they were kept?)")
    if at == "final":
        return steps[-1]
    if at == "best":
        rows = {r["step"]: r["valid_loss"][task] for r in store.read_metrics(run.dir) if "valid_loss" in r}
        return min((s for s in steps if s in rows), key=lambda s: rows[s])
    if int(at) not in steps:
        raise ValueError(f"run {run.dir} has no evaluation at step {at}; it has {steps}")
    return int(at)


def sentences(runs, task: str, at="final") -> tuple[np.ndarray, np.ndarray]:
    """(nll per sentence stacked over runs (one per seed): (len(runs), sentences), tokens
    per sentence) of `task` at `at` (see step_of) -- one arm of a comparison."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs to compare")
    per = [store.read_example_losses(r.dir, step_of(r, task, at))[task] for r in runs]
    tokens = per[0][1]
    if any(len(t) != len(tokens) or not np.array_equal(t, tokens) for _, t in per):
        raise ValueError(f"the runs were evaluated on different {task} sentences; they cannot be compared pairwise")
    return np.stack([nll for nll, _ in per]), tokens


def arm(rows, task: str, at="final"):
    """`sentences` for the runs of DataFrame rows (one per seed)."""
    return sentences(list(rows["run_obj"]), task, at)


def configs(groups, task: str, at="final") -> tuple[np.ndarray, np.ndarray]:
    """(configs, seeds, sentences) for several configurations of one arm (e.g. every rate
    of a front, each with its seeds): `stats.loss_gain` then compares the arm's best
    configuration. groups: an iterable of DataFrames (one per configuration) with equal
    numbers of seeds."""
    stacked = [arm(g, task, at) for g in groups]
    if len({nll.shape for nll, _ in stacked}) != 1:
        raise ValueError(f"every configuration needs the same seeds and sentences, got shapes {[s[0].shape for s in stacked]}")
    return np.stack([nll for nll, _ in stacked]), stacked[0][1]


def test_segments(a_groups, b_groups, task: str, metric: str):
    """One task's term of `stats.score_gain`'s segments, (A's statistics, B's, score): the test
    segments' `metric` statistics of `task`, (configs, seeds, segments, statistics), from two
    arms' groups of rows (one group per configuration, its seeds in the order of the scores
    compared), and the corpus score of summed statistics. None -- the seeds alone are then
    resampled -- when a run kept none (no `examples/test-segments.npz`: trained before runs
    kept them), the runs scored test sets of different sizes (e.g. another
    eval.bleu_max_examples), or the statistics do not give the scores the rows report."""
    from .. import scores

    score = functools.partial(scores.corpus_score, metric, target=task.split("-", 1)[1])
    arms = []
    for groups in (a_groups, b_groups):
        if any("run_obj" not in g or f"{metric}.{task}" not in g for g in groups):
            return None
        arrays = [[store.read_test_segments(run.dir, task, metric) for run in g["run_obj"]] for g in groups]
        arms.append((arrays, [g[f"{metric}.{task}"].to_numpy(dtype=float) for g in groups]))
    flat = [x for arrays, _ in arms for config in arrays for x in config]
    if any(x is None for x in flat) or len({x.shape for x in flat}) != 1:
        return None
    for arrays, reported in arms:
        for config, values in zip(arrays, reported):
            if not np.allclose([score(x.sum(axis=0)) for x in config], values, atol=1e-6):
                return None  # a stale or foreign file
    return np.array(arms[0][0]), np.array(arms[1][0]), score


def curve(run, task: str) -> tuple[list[int], list[float]]:
    """(steps, validation losses) of `task` over the run."""
    rows = [r for r in store.read_metrics(run.dir) if "valid_loss" in r]
    return [r["step"] for r in rows], [r["valid_loss"][task] for r in rows]


def at_steps(run, task: str, *steps) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-sentence (nll, tokens) of `task` at each given step of one run."""
    return [store.read_example_losses(run.dir, s)[task] for s in steps]


@functools.lru_cache(maxsize=64)
def _bigram(data_cfg, max_len: int, max_valid: int | None) -> dict[str, float]:
    from ..baselines import bigram_losses
    from ..batches import TaskData
    from ..methods import Temperature

    data, _, _ = store.resolve(TrainConfig(data=data_cfg, plan=Temperature(1, 1.0)))
    train = TaskData.load(data, "train", max_len)
    valid = TaskData.load(data, "valid", max_len, max_valid)
    return bigram_losses(train, valid, data.tokenizer.vocab_size)


def bigram(cfg: TrainConfig) -> dict[str, float]:
    """The source-blind bigram baseline's validation loss per task on cfg's data and
    validation examples (`paperlib.baselines`): the reference line of every loss figure."""
    return _bigram(cfg.data, cfg.model.max_len, cfg.eval.max_valid)


def mean_curve(rows, task: str, after: int = 0) -> tuple[list[int], np.ndarray]:
    """(steps, seed-mean validation curve of `task`) of the runs of `rows` (one per seed), from
    step `after` on; the runs must have been evaluated at the same steps."""
    curves = [curve(r, task) for r in rows["run_obj"]]
    steps = curves[0][0]
    if any(c[0] != steps for c in curves):
        raise ValueError("the runs were evaluated at different steps")
    keep = [i for i, s in enumerate(steps) if s >= after]
    return [steps[i] for i in keep], np.mean([[c[1][i] for i in keep] for c in curves], axis=0)


def series(run, key: str, task: str) -> tuple[list[int], list[float]]:
    """(steps, values) of a per-task metric (examples_seen, train_subset_loss) at each evaluation."""
    rows = [r for r in store.read_metrics(run.dir) if "valid_loss" in r]
    return [r["step"] for r in rows], [float(r[key][task]) for r in rows]


def exposure(rows, task: str, step=None, least: bool = True) -> float:
    """Examples of `task` the runs of `rows` had seen at evaluation `step` (None: their last),
    the fewest of them (least) or the most: one number for every seed, the conservative end
    for an `exposed` gate (the fewest a run saw, the most a reference had seen)."""
    seen = [dict(zip(*series(r, "examples_seen", task))) for r in rows["run_obj"]]
    values = [s[max(s) if step is None else step] for s in seen]
    return float(min(values) if least else max(values))


def minimum_and_end(rows, task: str, after: int = 0, before_end: bool = False):
    """For the runs of `rows` (one per seed): (steps, seed-mean validation curve of `task`,
    per-sentence losses at the evaluations the minimum is chosen among, at the last
    evaluation) -- what the overfitting gates take. Only evaluations at or after step
    `after` count (a pre-trained run's fine-tuning part).

    The minimum's losses are (nll (evaluations, seeds, sentences), tokens): `stats.loss_gain`
    takes an arm's best configuration, so it finds the curve's minimum -- and finds it again
    in every resample. Taking the one evaluation that was lowest on these very sentences and
    seeds would make the rise after it look surer than it is (the lowest of several noisy
    points is lower than its true value).

    before_end: the minimum over the evaluations before the last one. For a rise-after-the-
    minimum effect: when the curve is lowest at its end, the rise from its own minimum is
    exactly zero with a zero-width interval, whereas the rise from the best earlier point is
    negative -- still falling -- with an interval the verdict can use."""
    steps, mean = mean_curve(rows, task, after)
    at = [arm(rows, task, s) for s in steps]  # each evaluation read once: the end is the last of them
    nll, tokens = np.stack([x for x, _ in at]), at[0][1]
    candidates = len(steps) - 1 if before_end and len(steps) > 1 else len(steps)
    return steps, mean, (nll[:candidates], tokens), (nll[-1], tokens)


def over_run(rows, task: str, after_fork: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(nll (evaluations, seeds, sentences), tokens) of `task` at every evaluation of the runs
    of `rows`: "the best over the run" for `stats.loss_gain(..., evaluations=True)`, which
    finds the curve's minimum again in every resample. after_fork: only the evaluations after
    the runs' fork -- a run pre-trained on one task and then fine-tuned on all is judged on
    its fine-tuning (its best English would otherwise be the English-only model's)."""
    fork = rows["run_obj"].iloc[0].config.fork_at
    return minimum_and_end(rows, task, after=fork + 1 if after_fork and fork is not None else 0)[2]


def rise_after_minimum(rows, task: str, after: int = 0) -> tuple[Effect, int, int]:
    """(rise, step of the minimum, last step): how much the runs' loss of `task` rose from the
    lowest evaluation before their end (at or after step `after`) to the end -- loss(end) -
    loss(minimum), the same runs at several evaluations, the minimum chosen again in every
    resample (`minimum_and_end`). Negative, with a real interval, while the loss still falls:
    the minimum is taken before the last evaluation, not at it (a rise of exactly 0 there)."""
    steps, curve, at_min, at_end = minimum_and_end(rows, task, after=after, before_end=True)
    rise = loss_gain(at_min[0], at_end[0], at_min[1], same_runs=True)
    candidates = curve[:-1] if len(curve) > 1 else curve
    return rise, steps[int(np.argmin(candidates))], steps[-1]


def fall_after(rows, task: str, step) -> Effect:
    """How much the runs' loss of `task` still fell from evaluation `step` to their end:
    loss(step) - loss(end), the same runs at two evaluations (paired over seeds and sentences)."""
    (end, tokens), (then, _) = arm(rows, task, "final"), arm(rows, task, step)
    return loss_gain(end, then, tokens, same_runs=True)


def mean_final(rows, column: str) -> float:
    """Mean over the rows (seeds) of a final-metrics column, e.g. 'valid_loss.en-it'."""
    return float(np.mean(rows[column]))
