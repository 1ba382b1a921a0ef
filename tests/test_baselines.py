"""The source-blind bigram baseline scores the tokens the models are scored on."""

import math

import numpy as np
import pytest

from paperlib import baselines
from paperlib.batches import TaskData


def _data(kind, targets, bos=1):
    src = {"x": [np.array([3], dtype=np.int64)] * len(targets)}
    return TaskData(kind, ["x"], src, {"x": [np.asarray(t, dtype=np.int64) for t in targets]}, 0, bos, 16)


def test_a_deterministic_chain_costs_almost_nothing():
    chain = _data("translation", [[5, 6, 7, 2]] * 50)  # BOS -> 5 -> 6 -> 7 -> EOS(2), always
    assert baselines.bigram_losses(chain, chain, 10)["x"] < 0.02


def test_translation_targets_are_scored_after_bos_and_lm_blocks_from_their_second_token():
    train = _data("translation", [[5, 6], [5, 7]] * 20)
    nll, tokens, lam = baselines.bigram_example_nll(train, _data("translation", [[5, 6]]), "x", 10)
    assert tokens.tolist() == [2]  # both target tokens are scored, the first given BOS
    lm = _data("lm", [[4, 5, 6]] * 20)
    _, lm_tokens, _ = baselines.bigram_example_nll(lm, lm, "x", 10)
    assert lm_tokens.tolist() == [2] * 20  # an LM block's first token is its language tag, never predicted
    # 6 and 7 follow 5 equally often: about log(2) for that token, ~0 for the first
    assert nll[0] == pytest.approx(math.log(2), abs=0.15)


def test_unseen_pairs_fall_back_to_the_unigram():
    train = _data("translation", [[5, 6]] * 30)
    unseen = _data("translation", [[6, 5]])
    nll, tokens, _ = baselines.bigram_example_nll(train, unseen, "x", 10)
    assert np.isfinite(nll).all() and nll[0] > 2 * math.log(2)  # possible, but costly


def test_the_bigram_beats_a_unigram_on_structured_text():
    rng = np.random.default_rng(0)
    seqs = [[int(t) for t in (rng.integers(4, 8) + np.arange(6) % 2 * 10)] for _ in range(200)]  # alternating pairs
    data = _data("translation", seqs)
    unigram = -np.mean(np.log(np.bincount(np.concatenate(seqs), minlength=20)[np.concatenate(seqs)] / sum(map(len, seqs))))
    assert baselines.bigram_losses(data, data, 20)["x"] < unigram - 0.3


@pytest.mark.parametrize("x", [5, 6, 9])  # 5, 6: seen contexts; 9: a context never seen in training
def test_bigram_conditional_is_a_distribution_over_the_vocabulary(x):
    # evaluating [x] and [x, c] for every c in one call shares λ; the difference of their
    # nll is -log p(c | x), which must sum to 1 over the vocabulary
    V = 10
    train = _data("translation", [[5, 6, 7, 2], [5, 7, 2], [6, 6, 2]] * 10)
    evaluate = _data("translation", [[x]] + [[x, c] for c in range(V)])
    nll, _, _ = baselines.bigram_example_nll(train, evaluate, "x", V)
    p = np.exp(-(nll[1:] - nll[0]))
    assert p.sum() == pytest.approx(1.0, rel=1e-9)
    assert np.all(p > 0)  # add-one unigram: every token possible
