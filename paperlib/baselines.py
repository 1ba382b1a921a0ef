"""Reference models a trained model must beat before its results mean anything.

`bigram_losses`: a source-blind, target-side bigram model per task, fit on that task's
training targets -- it ignores the source sentence entirely. A translation model whose
validation loss is not well below it has not learned to translate (the regime gate
*learned* in `paperlib.claims`). It scores exactly the tokens our models are scored on
(`batches.collate`'s labels, cut at the same max_len): translation targets given the
previous target token (BOS first), language-modelling blocks token by token.

Smoothing: Jelinek-Mercer interpolation of the maximum-likelihood bigram with an
add-one unigram, the weight λ chosen from a grid on the evaluated examples themselves --
the strongest bigram of the grid, so the gate that compares against it is conservative.
"""

from __future__ import annotations

import numpy as np

from .batches import TaskData

LAMBDAS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def _pairs(data: TaskData, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(previous token, token, example index) of every scored target position."""
    prev, cur, owner = [], [], []
    for i, tgt in enumerate(data.tgt[task]):
        if data.kind == "translation":
            p = np.concatenate(([data.bos_id], tgt[:-1]))  # decoder input: BOS, then the target shifted
            c = tgt
        else:
            p, c = tgt[:-1], tgt[1:]
        prev.append(p)
        cur.append(c)
        owner.append(np.full(len(c), i))
    cat = lambda xs: np.concatenate(xs).astype(np.int64) if xs else np.zeros(0, np.int64)  # noqa: E731
    return cat(prev), cat(cur), cat(owner)


def bigram_example_nll(train: TaskData, evaluate: TaskData, task: str, vocab_size: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(summed nll per evaluated example in nats, target tokens per example, λ chosen)."""
    prev, cur, _ = _pairs(train, task)
    keys, counts = np.unique(prev * vocab_size + cur, return_counts=True)
    context = np.bincount(prev, minlength=vocab_size).astype(np.float64)
    unigram = (np.bincount(cur, minlength=vocab_size) + 1.0) / (len(cur) + vocab_size)

    eprev, ecur, owner = _pairs(evaluate, task)
    at = np.searchsorted(keys, eprev * vocab_size + ecur)
    found = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == eprev * vocab_size + ecur)
    pair = np.where(found, counts[np.minimum(at, len(keys) - 1)], 0).astype(np.float64)
    ml = np.divide(pair, context[eprev], out=np.zeros_like(pair), where=context[eprev] > 0)
    seen = context[eprev] > 0
    n_examples = evaluate.size(task)
    best = None
    for lam in LAMBDAS:
        p = np.where(seen, lam * ml + (1 - lam) * unigram[ecur], unigram[ecur])
        nll = np.bincount(owner, weights=-np.log(p), minlength=n_examples)
        if best is None or nll.sum() < best[0].sum():
            best = (nll, lam)
    tokens = np.bincount(owner, minlength=n_examples)
    return best[0], tokens, best[1]


def bigram_losses(train: TaskData, evaluate: TaskData, vocab_size: int) -> dict[str, float]:
    """Mean nll per target token (nats) of the bigram baseline on each task of `evaluate`."""
    out = {}
    for task in evaluate.tasks:
        nll, tokens, _ = bigram_example_nll(train, evaluate, task, vocab_size)
        out[task] = float(nll.sum() / max(1, tokens.sum()))
    return out
