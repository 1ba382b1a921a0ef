"""MixtureSampler draws/s vs datasets.interleave_datasets with probabilities, same sizes.

Both produce (task, example) streams following a temperature mixture; interleave_datasets
materialises examples from Arrow tables, our sampler hands out indices (collation reads the
examples from memory later), so the comparison is of what each needs to decide a batch."""

from __future__ import annotations

import time

import numpy as np

from paperlib import mixing
from paperlib.sampler import MixtureSampler


def run(sizes=None, draws: int = 200_000, batch_size: int = 32) -> dict:
    from datasets import Dataset, interleave_datasets

    sizes = sizes or {"en-it": 32_590, "en-de": 9_292, "en-fi": 277, "en-sv": 104}
    probs = mixing.temperature(list(sizes.values()), 5.0)
    plan = mixing.static(sizes, draws // batch_size, tau=5.0)
    lengths = {t: np.random.default_rng(0).integers(5, 64, n) for t, n in sizes.items()}

    sampler = MixtureSampler(plan, lengths, batch_size, seed=0)
    start = time.perf_counter()
    for step in range(draws // batch_size):
        sampler.batch(step)
    ours = draws / (time.perf_counter() - start)

    parts = [Dataset.from_dict({"task": [k] * n, "idx": list(range(n))}) for k, n in enumerate(sizes.values())]
    mixed = interleave_datasets(parts, probabilities=list(probs), seed=0, stopping_strategy="all_exhausted")
    n = min(draws, len(mixed))
    start = time.perf_counter()
    for i in range(0, n, batch_size):
        mixed[i:i + batch_size]
    theirs = n / (time.perf_counter() - start)
    return {"sampler_draws_per_s": ours, "interleave_datasets_draws_per_s": theirs, "sampler_vs_interleave": ours / theirs,
            "note": "interleave_datasets' index is built before timing; its reads are batched slices",
            "token_batching": token_batching(sizes, lengths, plan, batch_size)}


def token_batching(sizes, lengths, plan, batch_size: int, steps: int = 400) -> dict:
    """Padded tokens per step (what a step costs in compute and activation memory) with
    token-based vs example batching on the same draws: the largest step bounds the memory a
    GPU must hold, the spread is the imbalance between steps. Ratios < 1 favour tokens."""
    def costs(batching):
        s = MixtureSampler(plan, lengths, batch_size, seed=0, batching=batching, min_batch=max(1, batch_size // 4))
        out = []
        for step in range(steps):
            b = s.batch(step)
            out.append(len(b) * max(lengths[list(sizes)[k]][i] for k, i in b))
        return np.array(out)

    start = time.perf_counter()
    tok = costs("tokens")
    tok_s = time.perf_counter() - start
    start = time.perf_counter()
    ex = costs("examples")
    ex_s = time.perf_counter() - start
    return {"max_padded_tokens_tokens_vs_examples": float(tok.max() / ex.max()),
            "std_padded_tokens_tokens_vs_examples": float(tok.std() / ex.std()),
            "sampler_time_tokens_vs_examples": tok_s / ex_s,
            "target_max_padded_tokens_ratio": 0.9}
