"""Helpers for claim tests: run directories built from given curves, with per-sentence
validation losses, so that every outcome of a predicate can be constructed."""

import numpy as np

from paperlib import store
from paperlib.store import Run


def fake_run(root, name, curve_lrl, curve_hrl, seed, tasks=("en-it", "en-fi"), n=120, noise=0.05):
    """A run directory with metrics rows and per-sentence losses following the given curves."""
    d = root / name
    d.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    steps = [100 * i for i in range(len(curve_lrl))]
    rows = []
    for s, lrl, hrl in zip(steps, curve_lrl, curve_hrl):
        per = {}
        for task, loss in zip(tasks, (hrl, lrl)):
            tokens = np.full(n, 10)
            per[task] = (tokens * (loss + rng.normal(0, noise, n)), tokens)
        store.write_example_losses(d, s, per)
        rows.append({"step": s, "valid_loss": {t: float(v[0].sum() / v[1].sum()) for t, v in per.items()}})
    store.write_metrics(d, rows)
    return Run(d, None)


def fake_staged_run(root, name, curves, seed, n=120, noise=0.05, every=100, fork_at=None, train=None, seen=None,
                    final=None):
    """A run directory with any number of tasks, each following its validation curve, with
    the extras Order Matters' claims read (pre-training end, training-subset losses, examples
    seen, end-of-run scores).

    curves: {task: validation loss per evaluation}, evaluated every `every` steps from 0;
    noise: per-sentence spread (nats/token), one value or {task: value}; train / seen:
    {task: value per evaluation} of training-subset loss / examples seen; final: the
    end-of-run row's metrics (e.g. {"bleu": {task: 12.0}}); fork_at: the step the run was
    forked at (read as run.config.fork_at, the end of its pre-training)."""
    from types import SimpleNamespace

    d = root / name
    d.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    length = len(next(iter(curves.values())))
    rows = []
    for i in range(length):
        step = every * i
        per = {}
        for task, curve in curves.items():
            sd = noise[task] if isinstance(noise, dict) else noise
            tokens = np.full(n, 10)
            per[task] = (tokens * (curve[i] + rng.normal(0, sd, n)), tokens)
        store.write_example_losses(d, step, per)
        row = {"step": step, "valid_loss": {t: float(v[0].sum() / v[1].sum()) for t, v in per.items()}}
        if train:
            row["train_subset_loss"] = {t: float(c[i]) for t, c in train.items()}
        if seen:
            row["examples_seen"] = {t: int(c[i]) for t, c in seen.items()}
        rows.append(row)
    if final:
        rows.append({"step": every * (length - 1), "final": True, **final})
    store.write_metrics(d, rows)
    return Run(d, SimpleNamespace(fork_at=fork_at))


def frame(labelled):
    """A notebook's DataFrame from [(run, labels)]: labels, `run_obj` and final metrics."""
    import pandas as pd

    return pd.DataFrame([{**labels, "run_obj": run, **store.final_metrics(run)} for run, labels in labelled])

