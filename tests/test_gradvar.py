import numpy as np
import pytest
import torch

from paperlib import gradvar
from paperlib.batches import TaskData
from paperlib.models import ModelConfig, build_model


def test_measured_gap_matches_theory_on_a_tiny_model(data_dir, monkeypatch):
    import json

    from paperlib.data.pipeline import PreparedData

    prepared = next(data_dir.glob("prepared/*/dir_translation-mini"))
    data = PreparedData(prepared, json.loads((prepared / "manifest.json").read_text()))
    td = TaskData.load(data, "train", 16)
    td = td.subset({"en-it": np.arange(200), "en-fi": np.arange(10)})  # 20x imbalance
    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=16, layers=1, heads=2, ffn=32, max_len=16), "translation", data.tokenizer.vocab_size, 0, 2, 3)
    out = gradvar.measure(model, td, tau=5.0, batch_size=4, n_batches=400, per_task=10, seed=0)
    assert out["S"]["trace_cov"] > out["TS"]["trace_cov"]  # Theorem 2 on real gradients
    assert len(out["TS"]["norms"]) == 400 and set(out["second_moments"]) == {"en-it", "en-fi"}
    # the measured mini-batch gap agrees with the per-task-moment prediction within sampling error
    assert 0.5 < out["gap_measured"] / out["gap_predicted"] < 2.0


def test_fig3_statistics_are_kept_with_the_run_and_read_back_without_checkpoints(tiny_cfg, tmp_path):
    """Measured once at each checkpoint and kept in the run's directory: after the checkpoints
    are gone (a shipped run has none) the same numbers come back; other parameters need them."""
    import shutil

    import pytest

    from paperlib import runs
    from paperlib.config import prefix_at

    cfg = tiny_cfg({"method": "temperature", "steps": 12, "tau": 5}, fork_at=6)
    settings = runs.Settings(tmp_path, progress=False)
    final = runs.get_or_train(cfg, settings)
    half = runs.get_or_train(prefix_at(cfg, 6), settings)
    points = {"init": None, "step 6": half, "step 12": final}
    first = gradvar.at_checkpoints(points, 5.0, n_batches=4, per_task=2)
    assert list(first) == list(points) and len(first["init"]["TS"]["norms"]) == 4
    assert first["init"]["TS"]["norms"] != first["step 12"]["TS"]["norms"]  # three different models
    for run in (final, half):
        shutil.rmtree(run.dir / "ckpt")  # what `paperlib runs ship` leaves out
    assert gradvar.at_checkpoints(points, 5.0, n_batches=4, per_task=2) == first
    assert (final.dir / "analyses" / "gradient_variance.json").exists()
    with pytest.raises(FileNotFoundError, match="no checkpoint to measure at"):
        gradvar.at_checkpoints({"step 12": final}, 5.0, n_batches=5, per_task=2)  # not kept: needs the checkpoint
    # figures only: what is kept is read; what is not is a missing run (the report's "no shipped
    # runs", naming it), and nothing is measured or written
    assert gradvar.at_checkpoints(points, 5.0, n_batches=4, per_task=2, compute=False) == first
    kept_file = final.dir / "analyses" / "gradient_variance.json"
    before = kept_file.read_text()
    with pytest.raises(runs.MissingRun, match=rf"run test/{final.dir.name} \(temperature, seed 0\) has no kept"):
        gradvar.at_checkpoints({"init": None, "step 12": final}, 5.0, n_batches=3, per_task=2, compute=False)
    assert kept_file.read_text() == before


# ---------------------------------------------------------------------------------------
# A model whose gradients are known in closed form: its logits are one learned vector theta
# at every position, so an example with one target token y has the label-smoothed
# cross-entropy gradient  softmax(theta) - (1 - eps) e_y - eps / V  (wrt theta), whatever its
# input. Every statistic `measure` reports can then be derived by hand.

V, EPS = 4, 0.1
P_MODEL = np.array([0.5, 0.25, 0.125, 0.125])  # softmax(theta)


class _Logits(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.log(torch.tensor(P_MODEL, dtype=torch.float32)))
        self.modes = []  # model.training at every forward (dropout must be off)

    def forward(self, input_ids, attention_mask=None, **_):
        from types import SimpleNamespace

        self.modes.append(self.training)
        return SimpleNamespace(logits=self.theta.expand(*input_ids.shape, V).contiguous())


def _grad(y, eps=EPS):
    return P_MODEL - (1 - eps) * np.eye(V)[y] - eps / V


# "big": 30 examples, labels 0 and 2 alternating (so its gradient norms differ within the task);
# "small": 3 examples, label 1. An lm example [bos, y] has the single target token y.
LABELS = {"big": [0, 2] * 15, "small": [1, 1, 1]}


def _data():
    from paperlib.batches import TaskData

    seqs = {t: [np.array([3, y]) for y in ys] for t, ys in LABELS.items()}
    return TaskData("lm", list(LABELS), seqs, seqs, pad_id=3, bos_id=3, max_len=4)


@pytest.fixture
def one_thread():
    """Batches of a few examples: torch's thread pool only costs time here (10x on 2 busy cores)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_a_batch_gradient_is_the_weighted_mean_of_its_examples_gradients():
    """The mini-batch objective is mean_j w_j l_j (per_example_loss's unit): its gradient is
    mean_j w_j grad l_j, with the label smoothing passed in."""
    model, data = _Logits(), _data()
    pairs, w = [("big", 0), ("big", 1), ("small", 0)], [0.5, 2.0, 4.0]
    g = gradvar._batch_gradient(model, data, pairs, w, EPS).numpy()
    want = (0.5 * _grad(0) + 2.0 * _grad(2) + 4.0 * _grad(1)) / 3
    np.testing.assert_allclose(g, want, atol=1e-6)
    np.testing.assert_allclose(gradvar._batch_gradient(model, data, [("big", 1)], [1.0], 0.0).numpy(), _grad(2, 0.0),
                               atol=1e-6)


def test_second_moments_are_mean_squared_norms_of_single_example_gradients():
    """m_i = E_{x in task i} ||grad l(x)||^2: the mean of squares, not the square of a mean
    norm nor the norm of the mean gradient (per_task >= the task's size: every example)."""
    model = _Logits()
    model.train()
    sq = {y: float(np.sum(_grad(y) ** 2)) for y in range(V)}
    for seed in (0, 1, 2):  # every example once, whatever the seed: the exact task mean
        m = gradvar.second_moments(model, _data(), per_task=50, label_smoothing=EPS, seed=seed)
        assert m["big"] == pytest.approx((sq[0] + sq[2]) / 2, rel=1e-5) and m["small"] == pytest.approx(sq[1], rel=1e-5)
    assert (sq[0] + sq[2]) / 2 != pytest.approx(((np.sqrt(sq[0]) + np.sqrt(sq[2])) / 2) ** 2, rel=1e-3)  # they differ here
    assert not any(model.modes)  # measured in eval mode


def test_measure_reports_the_statistics_of_the_batches_it_drew(monkeypatch, one_thread):
    """Every batch is recorded as `measure` computes it: TS draws tasks at p_tau with weight 1,
    S at p_1 with weight p_tau / p_1; the norms are the batches' gradient norms, trace_cov is
    E||g - E g||^2 over the drawn batches, norm_variance the sample variance of the norms."""
    import statistics

    from paperlib.mixing import temperature

    seen = []
    real = gradvar._batch_gradient

    def spy(model, data, pairs, weights, label_smoothing):
        g = real(model, data, pairs, weights, label_smoothing)
        seen.append((list(pairs), np.asarray(weights, dtype=float).copy(), g.double().numpy(), label_smoothing))
        return g

    monkeypatch.setattr(gradvar, "_batch_gradient", spy)
    model, data, n, b, tau = _Logits(), _data(), 300, 3, 5.0
    model.train()
    out = gradvar.measure(model, data, tau=tau, batch_size=b, n_batches=n, per_task=2, label_smoothing=EPS, seed=1)
    assert not any(model.modes)  # dropout off for the batches too
    p_tau = temperature([30, 3], tau)
    w = dict(zip(("big", "small"), p_tau / np.array([30 / 33, 3 / 33])))
    for name, batches, p_small in (("TS", seen[:n], p_tau[1]), ("S", seen[n:2 * n], 3 / 33)):
        assert all(len(pairs) == b and ls == EPS for pairs, _, _, ls in batches)
        tasks = [t for pairs, _, _, _ in batches for t, _ in pairs]
        weights = np.concatenate([wt for _, wt, _, _ in batches])
        want_w = np.ones(len(tasks)) if name == "TS" else np.array([w[t] for t in tasks])
        np.testing.assert_allclose(weights, want_w, rtol=1e-12)
        # the small task's frequency is its sampling rate (binomial: 5 standard errors)
        share = tasks.count("small") / len(tasks)
        assert abs(share - p_small) < 5 * np.sqrt(p_small * (1 - p_small) / len(tasks))
        # examples uniform within the task: both labels of "big" appear, at about half each
        big = [i for pairs, _, _, _ in batches for t, i in pairs if t == "big"]
        assert 0.35 < np.mean(np.array(big) % 2) < 0.65 and max(big) >= 25
        g = np.stack([gb for _, _, gb, _ in batches])
        np.testing.assert_allclose(out[name]["norms"], np.linalg.norm(g, axis=1), rtol=1e-6)
        trace = float(np.mean(np.sum((g - g.mean(0)) ** 2, axis=1)))
        assert out[name]["trace_cov"] == pytest.approx(trace, rel=1e-6, abs=1e-12)
        assert out[name]["norm_variance"] == pytest.approx(statistics.variance(np.linalg.norm(g, axis=1)), rel=1e-6)
    assert out["gap_measured"] == pytest.approx(out["S"]["trace_cov"] - out["TS"]["trace_cov"])


def test_measure_matches_the_closed_form_variances_and_gap(one_thread):
    """With every example's gradient known, the mini-batch covariance trace of each method is
    (1/B)(E||g_1||^2 - ||E g_1||^2) for one example g_1 drawn the method's way (S: w_i
    grad l); E g_1 is the same for both (Theorem 1), so the gap is (1/B) sum_i p_tau,i (w_i - 1) m_i."""
    from paperlib.mixing import temperature

    model, data, b, tau = _Logits(), _data(), 2, 5.0
    out = gradvar.measure(model, data, tau=tau, batch_size=b, n_batches=2000, per_task=50, label_smoothing=EPS)
    p_tau, p_1 = temperature([30, 3], tau), np.array([30, 3]) / 33
    w = p_tau / p_1
    gbar = [(_grad(0) + _grad(2)) / 2, _grad(1)]                              # E over a task's examples
    m = [float(np.sum(_grad(0) ** 2) + np.sum(_grad(2) ** 2)) / 2, float(np.sum(_grad(1) ** 2))]
    mean = p_tau[0] * gbar[0] + p_tau[1] * gbar[1]
    assert np.allclose(mean, p_1[0] * w[0] * gbar[0] + p_1[1] * w[1] * gbar[1])  # Theorem 1
    ts = (p_tau[0] * m[0] + p_tau[1] * m[1] - mean @ mean) / b
    s = (p_1[0] * w[0] ** 2 * m[0] + p_1[1] * w[1] ** 2 * m[1] - mean @ mean) / b
    assert out["TS"]["trace_cov"] == pytest.approx(ts, rel=0.15)
    assert out["S"]["trace_cov"] == pytest.approx(s, rel=0.15)  # Monte Carlo: 2000 batches
    gap = float(np.sum(p_tau * (w - 1) * m)) / b
    assert s - ts == pytest.approx(gap)
    assert out["gap_predicted"] == pytest.approx(gap, rel=1e-5)
    # the gap the equal-moments approximation predicts: (F - 1) times the TS-average moment, per example
    f = float(np.sum(p_tau ** 2 / p_1))
    assert out["gap_equal_moments"] == pytest.approx((f - 1) * float(p_tau @ m) / b, rel=1e-5)
    assert out["second_moments"] == pytest.approx({"big": m[0], "small": m[1]}, rel=1e-5)
