import random

import numpy as np
import pytest

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
