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
