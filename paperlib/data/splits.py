"""Deterministic, leak-free splits and subsamples, by stable hashes of the text.

Parallel data: the English side is shared across target languages, so held-out English
segments are chosen globally. Each task holds out the English segments with the smallest
hashes among its own (valid = the first k, test = the next k); the union of every task's
held-out English segments is then removed from *every* task's training data. An English
segment is therefore in valid/test for the pairs that hold it out and in no training set.
Splits depend only on the corpus, not on which tasks a user asks for (the DDTP source
always splits all its languages).
"""

from __future__ import annotations

import hashlib

MIN_EVAL = 20      # smallest valid/test size for a tiny task
EVAL_FRACTION = 10  # a task gives at most 1/EVAL_FRACTION of its segments to each of valid and test


def stable_hash(text: str, salt: str = "split") -> int:
    """64-bit hash that is the same on every machine and Python run (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(f"{salt}\x00{text}".encode(), digest_size=8).digest(), "big")


def eval_size(n: int, n_eval: int) -> int:
    """Valid (and test) size for a task with n items: n_eval, smaller for tiny tasks."""
    return min(n_eval, max(MIN_EVAL, n // EVAL_FRACTION))


def split_parallel(parallel: dict[str, list[tuple[str, str]]], n_eval: int) -> dict[str, dict[str, list]]:
    """task -> {"train", "valid", "test"} -> pairs, with no English segment shared between
    any task's training data and any task's valid/test data."""
    held: dict[str, tuple[set, set]] = {}
    for task, pairs in parallel.items():
        english = sorted({en for en, _ in pairs}, key=stable_hash)
        k = eval_size(len(english), n_eval)
        held[task] = (set(english[:k]), set(english[k:2 * k]))
    reserved = set().union(*(v | t for v, t in held.values())) if held else set()
    out = {}
    for task, pairs in parallel.items():
        valid_en, test_en = held[task]
        out[task] = {
            "train": [p for p in pairs if p[0] not in reserved],
            "valid": [p for p in pairs if p[0] in valid_en],
            "test": [p for p in pairs if p[0] in test_en],
        }
    return out


def split_documents(docs: list[str], n_eval: int) -> dict[str, list[str]]:
    """Monolingual documents -> train/valid/test by document hash."""
    ordered = sorted(docs, key=stable_hash)
    k = eval_size(len(ordered), n_eval)
    valid, test = set(ordered[:k]), set(ordered[k:2 * k])
    return {
        "train": [d for d in docs if d not in valid and d not in test],
        "valid": [d for d in docs if d in valid],
        "test": [d for d in docs if d in test],
    }


def subsample(items: list, fraction: float, key=lambda x: x if isinstance(x, str) else x[0] + "\t" + x[1]) -> list:
    """A deterministic `fraction` of items (at least one), in their original order."""
    if not 0 < fraction <= 1:
        raise ValueError(f"subsample fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return list(items)
    n = max(1, round(len(items) * fraction))
    keep = set(sorted(range(len(items)), key=lambda i: stable_hash(key(items[i]), "subsample"))[:n])
    return [x for i, x in enumerate(items) if i in keep]
