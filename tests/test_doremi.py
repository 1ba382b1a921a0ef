import json
import random

import numpy as np
import pytest
import torch

from paperlib import doremi


def test_update_moves_weight_towards_the_domain_with_excess_loss():
    alpha = np.array([0.5, 0.5])
    for _ in range(20):
        alpha = doremi.doremi_update(alpha, [0.0, 0.3], eta=1.0, smoothing=1e-3)
    assert alpha[1] > 0.99 - 1e-3 and alpha.sum() == pytest.approx(1.0)
    # smoothing keeps every domain alive
    assert alpha[0] >= 1e-3 / 2
    np.testing.assert_allclose(doremi.doremi_update([0.25] * 4, [0.1] * 4), [0.25] * 4)


def test_proxy_upweights_the_learnable_hard_domain(tmp_path, monkeypatch):
    """Toy: 'noise' maps sentences to random choices of two words -- nothing to learn past
    that coin flip, which the proxy reaches as fast as the reference, so its excess loss
    soon vanishes; 'hard' is a copy task (through a renamed vocabulary) that the reference
    has learned and the proxy has not yet. DoReMi must put more weight on 'hard'.
    (Measured with three data seeds: hard gets 0.58-0.73.)"""
    from paperlib.config import DataConfig, EvalConfig, OptimConfig, TrainConfig
    from paperlib.models import ModelConfig

    rng = random.Random(0)
    words = [f"w{i}" for i in range(60)]
    corpus = tmp_path / "corpus"
    for task in ("en-noise", "en-hard"):
        d = corpus / task
        d.mkdir(parents=True)
        for split, n in (("train", 300), ("valid", 20), ("test", 20)):
            lines = []
            for i in range(n):
                src = [rng.choice(words[:30]) for _ in range(6)]
                tgt = [rng.choice(words[:2]) for _ in range(6)] if task == "en-noise" else [w.replace("w", "v") for w in src]
                lines.append(" ".join(src) + "\t" + " ".join(tgt))
            (d / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("PAPERLIB_DATA", str(tmp_path / "data"))
    cfg = TrainConfig(
        experiment="doremi",
        data=DataConfig(taskset="dir_translation", source="dir", source_path=str(corpus), vocab_size=300),
        plan={"method": "temperature", "steps": 1, "tau": 1},
        model=ModelConfig(d_model=48, layers=1, heads=2, ffn=96, max_len=12, dropout=0.0, attention_dropout=0.0),
        optim=OptimConfig(lr=5e-3, warmup=5),
        eval=EvalConfig(every=100, train_subset=0),
        batch_size=16, device="cpu",
    )
    from paperlib import runs

    settings = runs.Settings(tmp_path / "runs", progress=False)
    weights = doremi.learn_weights(cfg, steps=100, settings=settings)
    assert set(weights) == {"en-noise", "en-hard"} and sum(weights.values()) == pytest.approx(1.0)
    assert weights["en-hard"] > weights["en-noise"] + 0.05
    # cached: a second call trains nothing
    monkeypatch.setattr(doremi, "new_model", lambda *a, **k: pytest.fail("retrained"))
    assert doremi.learn_weights(cfg, steps=100, settings=settings) == weights


def test_update_is_one_exponentiated_gradient_step_then_smoothing():
    """alpha' = (1 - c) normalise(alpha * exp(eta * lambda)) + c / K, by hand."""
    alpha, excess, eta, c = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.0, 0.1]), 2.0, 0.06
    raw = alpha * np.exp(eta * excess)
    want = (1 - c) * raw / raw.sum() + c / 3
    np.testing.assert_allclose(doremi.doremi_update(alpha, excess, eta=eta, smoothing=c), want, rtol=1e-12)
    # the prior weights matter (a multiplicative update, not a softmax of this step's excess)
    np.testing.assert_allclose(doremi.doremi_update([0.9, 0.1], [0.0, 0.0], smoothing=0.0), [0.9, 0.1])
    # a huge excess loss (a diverged proxy) neither overflows nor starves the other domain
    np.testing.assert_allclose(doremi.doremi_update([0.5, 0.5], [0.0, 1e4], smoothing=0.1), [0.05, 0.95])


V = 4
P_REF = np.array([0.7, 0.1, 0.1, 0.1])  # the reference predicts token 0 well, the others badly


class _Logits(torch.nn.Module):
    """A model that predicts softmax(theta) at every position, whatever the input: its token
    losses are -log softmax(theta)[y], known by hand."""

    def __init__(self):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.zeros(V))  # a fresh proxy: uniform, nll = log 4

    def forward(self, input_ids, attention_mask=None, **_):
        from types import SimpleNamespace

        return SimpleNamespace(logits=self.theta.expand(*input_ids.shape, V).contiguous())


def test_proxy_steps_follow_the_doremi_definition(tmp_path, monkeypatch):
    """DoReMi's loop on a model whose losses are known: every step the same batch --
    domain "a": targets [0, 0, 0] and [1] (4 tokens), domain "b": [1, 2] (2 tokens). The proxy
    (uniform, nll log 4) is worse than the reference on token 0 (excess log4 + log0.7 > 0) and
    better on tokens 1-3 (clipped to 0), so lambda_a = 3/4 (log 4 + log 0.7) per token,
    lambda_b = 0. The optimizer is recorded and never moves the proxy, so every step's alpha
    follows from the last by `doremi_update`; the weights are their average over the steps;
    the proxy's gradient is that of sum_i alpha_i (mean token loss of domain i) with this
    step's alpha."""
    from types import SimpleNamespace

    from paperlib import runs
    from paperlib.batches import TaskData
    from paperlib.config import DataConfig, OptimConfig, TrainConfig
    from paperlib.models import ModelConfig

    seqs = {"a": [np.array([3, 0, 0, 0]), np.array([3, 1])], "b": [np.array([3, 1, 2])]}
    td = TaskData("lm", ["a", "b"], seqs, seqs, pad_id=3, bos_id=3, max_len=8)
    data = SimpleNamespace(tasks=["a", "b"], sizes=lambda split: {"a": 2, "b": 1})
    ref_model = _Logits()
    with torch.no_grad():
        ref_model.theta.copy_(torch.log(torch.tensor(P_REF, dtype=torch.float32)))
    (tmp_path / "ref").mkdir()
    torch.save({"model": ref_model.state_dict()}, tmp_path / "ref" / "ckpt.pt")
    ref = SimpleNamespace(dir=tmp_path / "ref", checkpoint=tmp_path / "ref" / "ckpt.pt")
    grads = []

    class Recorder:
        def __init__(self, params):
            self.params, self.param_groups = list(params), [{"lr": 0.0}]

        def step(self):
            grads.append(self.params[0].grad.detach().clone().numpy())

        def zero_grad(self, set_to_none=True):
            for p in self.params:
                p.grad = None

    class Sampler:
        def __init__(self, *a, **k):
            pass

        def batch(self, step):
            return np.array([[0, 0], [0, 1], [1, 0]])

    monkeypatch.setattr(doremi.store, "resolve", lambda cfg: (data, None, None))
    monkeypatch.setattr(doremi.runs, "get_or_train", lambda cfg, settings: ref)
    monkeypatch.setattr(doremi, "new_model", lambda cfg, data: _Logits())
    monkeypatch.setattr(doremi, "new_optimizer", lambda model, cfg: Recorder(model.parameters()))
    monkeypatch.setattr(doremi.TaskData, "load", lambda *a, **k: td)
    monkeypatch.setattr(doremi, "MixtureSampler", Sampler)
    cfg = TrainConfig(data=DataConfig(taskset="dir_translation", source="dir", source_path=str(tmp_path)),
                      plan={"method": "temperature", "steps": 1, "tau": 1}, model=ModelConfig(max_len=8),
                      optim=OptimConfig(clip_norm=None), batch_size=3, device="cpu")
    eta, c, steps = 2.0, 0.01, 3
    weights = doremi.learn_weights(cfg, steps=steps, eta=eta, smoothing=c, settings=runs.Settings(tmp_path, progress=False))

    lam = np.array([0.75 * (np.log(4) + np.log(0.7)), 0.0])
    alphas, alpha = [], np.array([0.5, 0.5])
    for _ in range(steps):
        raw = alpha * np.exp(eta * lam)
        alpha = (1 - c) * raw / raw.sum() + c / 2
        alphas.append(alpha)
    history = json.loads(next((tmp_path / "ref").glob("doremi-*.json")).read_text())["history"]
    np.testing.assert_allclose(history, alphas, rtol=1e-5)
    mean = np.mean(alphas, axis=0)
    assert weights == pytest.approx({"a": mean[0], "b": mean[1]}, rel=1e-5)
    assert abs(mean[0] - alphas[-1][0]) > 0.01  # the average over steps, not the last weights
    # d nll(y)/d theta = softmax(theta) - e_y = 1/4 - e_y; a domain's mean over its tokens
    def d(ys):
        return np.mean([np.full(V, 0.25) - np.eye(V)[y] for y in ys], axis=0)

    for alpha, g in zip(alphas, grads, strict=True):
        np.testing.assert_allclose(g, alpha[0] * d([0, 0, 0, 1]) + alpha[1] * d([1, 2]), atol=1e-6)
