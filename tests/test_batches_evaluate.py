"""Padded batches (pad ids, label shift, masks), the per-example loss and its hand backward
on hand-computed cases, and the per-task evaluation (token-level losses, BLEU/chrF)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from paperlib.batches import TaskData, collate, model_inputs, per_example_loss, token_nll
from paperlib.evaluate import example_nll, fixed_subset, mean_losses, task_losses
from paperlib.scores import bleu_chrf

PAD, BOS = 1, 0


def _data(kind, src, tgt, max_len=16):
    arr = lambda seqs: [np.asarray(s, dtype=np.int64) for s in seqs]  # noqa: E731
    return TaskData(kind, ["a"], {"a": arr(src)}, {"a": arr(tgt)}, PAD, BOS, max_len)


def test_translation_batch_shifts_the_decoder_input_and_pads_labels_with_minus_100():
    data = _data("translation", [[5, 6, 7], [8]], [[9, 10], [11, 12, 13]])
    b = collate(data, [("a", 0), ("a", 1)])
    assert b["input_ids"].tolist() == [[5, 6, 7], [8, PAD, PAD]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert b["decoder_input_ids"].tolist() == [[BOS, 9, PAD], [BOS, 11, 12]]
    assert b["labels"].tolist() == [[9, 10, -100], [11, 12, 13]]
    assert int(b["real_tokens"]) == 3 + 1 + 2 + 3 and int(b["padded_tokens"]) == 6 + 6
    assert sorted(model_inputs(b)) == ["attention_mask", "decoder_input_ids", "input_ids"]
    assert collate(data, [("a", 1)])["labels"].tolist() == [[11, 12, 13]]  # the pairs' order, the pairs' rows


def test_lm_batch_predicts_the_next_token_and_pads_an_empty_input_to_width_one():
    data = _data("lm", [[2, 5, 6, 7], [2, 8], [2]], [[2, 5, 6, 7], [2, 8], [2]])
    b = collate(data, [("a", 0), ("a", 1)])
    assert b["input_ids"].tolist() == [[2, 5, 6], [2, PAD, PAD]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert b["labels"].tolist() == [[5, 6, 7], [8, -100, -100]]
    assert int(b["real_tokens"]) == 4 and int(b["padded_tokens"]) == 6
    assert sorted(model_inputs(b)) == ["attention_mask", "input_ids"]
    one = collate(data, [("a", 2)])  # a single token: nothing to predict
    assert one["input_ids"].tolist() == [[PAD]] and one["labels"].tolist() == [[-100]]
    assert int(one["real_tokens"]) == 0 and int(one["padded_tokens"]) == 1


def test_task_data_lengths_and_subset():
    data = _data("translation", [[5, 6, 7], [8], [9, 9]], [[9, 10], [11, 12, 13], [4]])
    assert data.lengths()["a"].tolist() == [5, 4, 3]
    sub = data.subset({"a": np.array([2, 0])})
    assert sub.tasks == ["a"] and sub.size("a") == 2 and sub.lengths()["a"].tolist() == [3, 5]
    assert (sub.kind, sub.pad_id, sub.bos_id, sub.max_len) == ("translation", PAD, BOS, 16)


# one position's distribution p = (0.1, 0.2, 0.3, 0.4): logits log p
P = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)


def _smoothed_ce(p, y, eps):
    """(1 - eps) (-log p_y) - eps/V sum_k log p_k, by hand."""
    return (1 - eps) * -math.log(p[y]) - eps / len(p) * sum(math.log(q) for q in p)


@pytest.mark.parametrize("hand", [True, False])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_per_example_loss_is_the_token_mean_of_the_smoothed_ce_and_its_gradient_is_p_minus_q(eps, hand):
    """Example 0 has two target tokens, example 1 one, example 2 none (all padding): its loss
    is 0, not NaN. d/dz of the smoothed CE is p - ((1 - eps) onehot(y) + eps/V), divided by
    the example's token count, and 0 at padding."""
    probs = [P.tolist(), P.flip(0).tolist()]
    logits = torch.log(torch.tensor([[probs[0], probs[1]], [probs[1], probs[0]], [probs[0], probs[1]]])).float()
    labels = torch.tensor([[3, 0], [1, -100], [-100, -100]])
    z = logits.clone().requires_grad_()
    loss, nll, n = per_example_loss(z, labels, eps, hand_backward=hand)
    assert n.tolist() == [2, 1, 0]
    want = [(_smoothed_ce(probs[0], 3, eps) + _smoothed_ce(probs[1], 0, eps)) / 2, _smoothed_ce(probs[1], 1, eps), 0.0]
    want_nll = [(-math.log(0.4) - math.log(0.4)) / 2, -math.log(0.3), 0.0]
    assert loss.tolist() == pytest.approx(want, rel=1e-6) and nll.tolist() == pytest.approx(want_nll, rel=1e-6)
    loss.sum().backward()
    grad = torch.zeros(3, 2, 4, dtype=torch.float64)
    for i in range(3):
        for t in range(2):
            if labels[i, t] != -100:
                q = torch.full((4,), eps / 4, dtype=torch.float64)
                q[labels[i, t]] += 1 - eps
                grad[i, t] = (torch.tensor(probs[(i + t) % 2], dtype=torch.float64) - q) / int(n[i])
    assert torch.allclose(z.grad.double(), grad, atol=1e-6)


def test_the_hand_backward_follows_any_upstream_gradient_and_the_logits_dtype():
    """Per-position upstream gradients (not just a per-example weight), an all-padding row,
    and float64 logits: the same gradient as autograd's graph."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 11, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 11, (3, 5), generator=g)
    labels[0, 3:] = -100
    labels[2] = -100
    w = torch.rand(3, generator=g, dtype=torch.float64)
    grads = []
    for hand in (True, False):
        z = logits.clone().requires_grad_()
        loss, _, _ = per_example_loss(z, labels, 0.2, hand_backward=hand)
        (w * loss).sum().backward()
        assert z.grad.dtype == torch.float64 and torch.isfinite(z.grad).all()
        grads.append(z.grad)
    assert torch.allclose(grads[0], grads[1], atol=1e-6)

    def nodes(fn):
        return {type(fn).__name__} | set().union(*(nodes(f) for f, _ in fn.next_functions if f is not None))
    graphs = [nodes(per_example_loss(logits.clone().requires_grad_(), labels, 0.2, hand_backward=h)[0].grad_fn)
              for h in (True, False)]
    assert "_SmoothedNLLBackward" in graphs[0] and "_SmoothedNLLBackward" not in graphs[1]  # False: autograd's (vmap)
    assert torch.equal(grads[0][2], torch.zeros(5, 11)) and torch.equal(grads[0][0, 3:], torch.zeros(2, 11))


def test_token_nll_is_zero_at_padding():
    logits = torch.log(P.float()).expand(2, 2, 4)
    nll, mask, logp = token_nll(logits, torch.tensor([[2, -100], [-100, 0]]))
    assert mask.tolist() == [[True, False], [False, True]]
    assert nll.flatten().tolist() == pytest.approx([-math.log(0.3), 0.0, 0.0, -math.log(0.1)], rel=1e-6)
    assert logp.shape == (2, 2, 4)


class _Bigram(torch.nn.Module):
    """A model whose logits at a position are a fixed row chosen by the input token there."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, input_ids, attention_mask=None, decoder_input_ids=None):
        return SimpleNamespace(logits=self.table[decoder_input_ids if decoder_input_ids is not None else input_ids])


def test_example_nll_sums_each_examples_token_nll_in_the_datas_order_and_task_losses_count_tokens():
    """Lengths out of order and batches of 2 (the evaluation sorts by length): each example's
    summed nll, by hand from the bigram table, lands at its own index."""
    V = 6
    table = torch.randn(V, V, generator=torch.Generator().manual_seed(0))
    logp = torch.log_softmax(table.double(), -1)
    tgt = [[2, 3, 4, 5, 2], [3], [4, 2, 5], [5, 5]]
    src = [[2], [3, 3, 3, 3, 3, 3], [4, 4], [5]]
    data = TaskData("translation", ["a", "b"], {"a": [np.asarray(s) for s in src], "b": [np.asarray(s) for s in src[:2]]},
                    {"a": [np.asarray(t) for t in tgt], "b": [np.asarray(t) for t in tgt[:2]]}, PAD, BOS, 16)
    model = _Bigram(table).train()
    per = example_nll(model, data, "cpu", batch_size=2)
    assert model.training  # put back as found
    want = [sum(float(-logp[p, y]) for p, y in zip([BOS] + t[:-1], t)) for t in tgt]
    nll, tokens = per["a"]
    assert tokens.tolist() == [5, 1, 3, 2]
    assert nll.tolist() == pytest.approx(want, rel=1e-5)
    assert per["b"][1].tolist() == [5, 1] and per["b"][0].tolist() == pytest.approx(want[:2], rel=1e-5)
    losses = task_losses(model.eval(), data, "cpu", batch_size=3)
    assert not model.training
    assert losses["a"] == pytest.approx(sum(want) / 11, rel=1e-5)  # per token, not per sentence


def test_mean_losses_is_a_ratio_of_sums_and_zero_without_tokens():
    per = {"a": (np.array([6.0, 1.0]), np.array([3, 1])), "b": (np.zeros(0), np.zeros(0, dtype=np.int64))}
    assert mean_losses(per) == {"a": 7 / 4, "b": 0.0}


def test_fixed_subset_is_sorted_seeded_and_per_task():
    data = TaskData("lm", ["a", "b"], {"a": [np.arange(3)] * 50, "b": [np.arange(3)] * 4},
                    {"a": [np.arange(i + 2) for i in range(50)], "b": [np.arange(i + 2) for i in range(4)]}, PAD, BOS, 64)
    sub = fixed_subset(data, 10, seed=3)
    lens = sub.lengths()
    assert sub.size("a") == 10 and sub.size("b") == 4
    a = (lens["a"] - 3 - 2).tolist()  # the original indices
    assert a == sorted(a) and len(set(a)) == 10 and all(0 <= i < 50 for i in a)
    assert fixed_subset(data, 10, seed=3).lengths()["a"].tolist() == lens["a"].tolist()
    assert any(fixed_subset(data, 10, seed=s).lengths()["a"].tolist() != lens["a"].tolist() for s in (4, 5))


def test_bleu_is_corpus_bleu_on_13a_tokens_with_the_brevity_penalty():
    """All n-gram precisions 1, hypothesis 6 tokens against 7: BLEU = 100 exp(1 - 7/6); the
    other way round BP = 1 and the precisions are 6/7, 5/6, 4/5, 3/4. 13a splits punctuation,
    so a detokenized and a spaced hypothesis score alike."""
    short, long = "the cat sat on the mat", "the cat sat on the mat today"
    assert bleu_chrf([short], [long])["bleu"] == pytest.approx(100 * math.exp(1 - 7 / 6), rel=1e-9)
    assert bleu_chrf([long], [short])["bleu"] == pytest.approx(100 * (6 / 7 * 5 / 6 * 4 / 5 * 3 / 4) ** 0.25, rel=1e-9)
    assert bleu_chrf(["Hello , my world !"], ["Hello, my world!"])["bleu"] == pytest.approx(100)
    assert bleu_chrf([short, long], [short, long]) == {"bleu": pytest.approx(100), "chrf": pytest.approx(100)}
    # the corpus score of summed segment statistics is sacreBLEU's corpus score, for any target
    import sacrebleu

    from paperlib import scores
    hyps, refs = [short, "a cat sat", "日本語の文です"], [long, "the cat sat down", "日本語の文"]
    for target, tok in (("it", "13a"), ("zh_CN", "zh"), ("ja", "char")):
        got = scores.bleu_chrf(hyps, refs, target)
        assert got["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize=tok).score, abs=1e-12)
        assert got["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score, abs=1e-12)
        assert scores.segment_statistics(hyps, refs, target)["bleu"].shape[0] == 3


def test_chrf_is_character_6_gram_f_beta_2_recall_weighted():
    """'abcdefg' against 'abcdefgh': per order n = 1..6 precision 1 and recall (8-n)/(9-n);
    chrF = (1 + 4) P R / (4 P + R) of their averages (no word n-grams: chrF, not chrF++)."""
    recall = sum((8 - n) / (9 - n) for n in range(1, 7)) / 6
    f = lambda p, r: 100 * 5 * p * r / (4 * p + r)  # noqa: E731
    assert bleu_chrf(["abcdefg"], ["abcdefgh"])["chrf"] == pytest.approx(f(1.0, recall), rel=1e-9)
    assert bleu_chrf(["abcdefgh"], ["abcdefg"])["chrf"] == pytest.approx(f(recall, 1.0), rel=1e-9)
