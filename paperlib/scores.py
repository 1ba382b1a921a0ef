"""Corpus scores (BLEU, chrF) and the per-segment statistics they are sums of.

A corpus score is a function of sufficient statistics summed over the test segments
(n-gram matches and totals, lengths), so a bootstrap over test segments resamples the
segments' statistics and scores the resampled sums, as sacreBLEU's own paired bootstrap
does (`sacrebleu.significance`, through the same two metric methods used here). A run
keeps its segments' statistics (`store.write_test_segments`) so that claims can resample
the test set as well as the seeds."""

from __future__ import annotations

import functools

import numpy as np

METRICS = ("bleu", "chrf")


def bleu_tokenizer(target: str) -> str:
    """sacreBLEU's tokenizer for a target language: 13a splits on spaces and punctuation,
    which leaves unspaced Chinese one token per sentence (BLEU ≈ 0 for any output), so
    Chinese gets sacreBLEU's zh and Japanese or Korean its character tokenizer (ja-mecab
    and ko-mecab would need MeCab installed: results would depend on the machine)."""
    lang = target.split("_")[0].lower()
    return "zh" if lang == "zh" else "char" if lang in ("ja", "ko") else "13a"


@functools.lru_cache(maxsize=None)
def _metric(name: str, target: str):
    from sacrebleu.metrics import BLEU, CHRF

    if name not in METRICS:
        raise ValueError(f"unknown corpus score {name!r}: one of {METRICS}")
    return BLEU(tokenize=bleu_tokenizer(target)) if name == "bleu" else CHRF()


def segment_statistics(hypotheses: list[str], references: list[str], target: str = "") -> dict[str, np.ndarray]:
    """{metric: (segments, statistics) integer array} of every corpus score, one row per
    test segment (BLEU tokenized for the `target` language)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    return {name: np.asarray(_metric(name, target)._extract_corpus_statistics(hypotheses, [references]), dtype=np.int64)
            for name in METRICS}


def corpus_score(name: str, summed, target: str = "") -> float:
    """The corpus score from segment statistics summed over the test set (any resample of it)."""
    return float(_metric(name, target)._compute_score_from_stats(np.asarray(summed)).score)


def bleu_chrf(hypotheses: list[str], references: list[str], target: str = "") -> dict[str, float]:
    """Corpus BLEU (tokenized for the `target` language, `bleu_tokenizer`) and chrF."""
    return {name: corpus_score(name, s.sum(axis=0), target)
            for name, s in segment_statistics(hypotheses, references, target).items()}
