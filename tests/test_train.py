"""The trainer on a tiny model and the synthetic corpus: seconds per run."""

import json
import math

import numpy as np
import pytest
import torch

from paperlib import runs, store
from paperlib.batches import TaskData, collate, model_inputs, per_example_loss
from paperlib.lr import learning_rate
from paperlib.mixing import proportional, temperature
from paperlib.models import ModelConfig, build_model
from paperlib.train import train

STATIC = {"method": "static", "steps": 12, "rates": [0.5, 0.5]}


def _rows(run_dir):
    out = []
    for r in store.read_metrics(run_dir):
        r = dict(r)
        r.pop("wall_time", None)
        out.append(r)
    return out


def test_recipe_losses_fall_and_are_reproducible(tiny_cfg, tmp_path):
    cfg = tiny_cfg(STATIC)
    a = runs.get_or_train(cfg, runs.Settings(tmp_path / "a", progress=False))
    b = runs.get_or_train(cfg, runs.Settings(tmp_path / "b", progress=False))
    ra, rb = _rows(a.dir), _rows(b.dir)
    assert ra == rb  # same seed, same machine: identical metrics
    evals = [r for r in ra if "valid_loss" in r]
    assert [r["step"] for r in evals] == [0, 4, 8, 12]
    v0 = evals[0]["valid_loss"]
    vocab = 400
    assert all(abs(v - math.log(vocab)) < 1.0 for v in v0.values())  # random init ≈ uniform over the vocabulary
    assert all(evals[-1]["valid_loss"][t] < v0[t] - 0.5 for t in v0)  # it learns
    assert evals[-1]["examples_seen"]["en-it"] + evals[-1]["examples_seen"]["en-fi"] == 12 * 8
    c = runs.get_or_train(tiny_cfg(STATIC, seed=1), runs.Settings(tmp_path / "c", progress=False))
    assert _rows(c.dir)[-2]["valid_loss"] != ra[-2]["valid_loss"]  # the seed matters


@pytest.mark.parametrize(
    "plan, kill_at",
    [
        ({"method": "order_matters", "pretrain_steps": 10, "finetune_steps": 10, "pretrain_on": "en-it", "tau": 5}, 13),
        ({"method": "cooldown", "steps": 20, "switch": 10, "tau_high": 5}, 7),
    ],
)
def test_kill_and_resume_gives_identical_metrics(tiny_cfg, tmp_path, plan, kill_at):
    cfg = tiny_cfg(plan)
    full = runs.get_or_train(cfg, runs.Settings(tmp_path / "full", progress=False))
    killed_dir = tmp_path / "killed" / "test" / full.dir.name
    train(cfg, killed_dir, progress=False, stop_after=kill_at)
    assert not (killed_dir / "DONE").exists()
    assert json.loads((killed_dir / "config.json").read_text())["hash"] == full.dir.name
    train(cfg, killed_dir, progress=False)  # resume from the last checkpoint
    assert _rows(killed_dir) == _rows(full.dir)


def test_reset_at_phase_boundary(tiny_cfg, tmp_path):
    plan = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 6, "pretrain_on": "en-it", "rates": [0.5, 0.5]}
    cfg = tiny_cfg(plan)
    run_dir = tmp_path / "r"
    train(cfg, run_dir, progress=False, stop_after=9)  # one step into fine-tuning, no checkpoint yet
    state = torch.load(run_dir / "ckpt" / "last.pt", weights_only=False)
    assert state["step"] == 8
    # continue to the checkpoint at step 12: the optimizer has made 4 steps since its reset
    train(cfg, run_dir, progress=False, stop_after=13)
    state = torch.load(run_dir / "ckpt" / "last.pt", weights_only=False)
    assert state["step"] == 12
    assert {int(s["step"]) for s in state["optimizer"]["state"].values()} == {4}
    # the LR restarted its warmup at step 8
    rows = {r["step"]: r for r in store.read_metrics(run_dir)}
    assert rows[12]["lr"] == pytest.approx(learning_rate("inverse_sqrt", 3, 6, 3e-3, 3))
    assert rows[8]["lr"] == pytest.approx(learning_rate("inverse_sqrt", 7, 8, 3e-3, 3))


def test_no_reset_keeps_optimizer_moments(tiny_cfg, tmp_path):
    cfg = tiny_cfg({"method": "temperature", "steps": 12, "tau": 1})
    run = runs.get_or_train(cfg, runs.Settings(tmp_path, progress=False))
    state = torch.load(run.dir / "ckpt" / "last.pt", weights_only=False)
    assert {int(s["step"]) for s in state["optimizer"]["state"].values()} == {12}


def test_scalarization_and_sampling_have_equal_expected_gradient(data_dir, monkeypatch):
    """Theorem 1 with our loss normalisation: over the full (tiny) data, the gradient of
    sum_i p_tau,i * mean_{x in i} loss(x) equals that of mean_x w_f(x) loss(x) with
    proportional sampling and w = p_tau / p_1."""
    from paperlib.data import load_prepared

    monkeypatch.setenv("PAPERLIB_DATA", str(data_dir))
    prepared = [p for p in data_dir.glob("prepared/*/dir_translation-mini")][0]
    from paperlib.data.pipeline import PreparedData

    data = PreparedData(prepared, json.loads((prepared / "manifest.json").read_text()))
    td = TaskData.load(data, "train", 16)
    sub = td.subset({"en-it": np.arange(60), "en-fi": np.arange(15)})
    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16, dropout=0.0, attention_dropout=0.0),
                        "translation", data.tokenizer.vocab_size, 0, 2, 3)
    sizes = [60, 15]
    p_tau, p_1 = temperature(sizes, 5.0), proportional(sizes)

    def grad(weight_fn):
        model.zero_grad()
        total = 0
        for k, t in enumerate(sub.tasks):
            b = collate(sub, [(t, i) for i in range(sub.size(t))])
            ex, _, _ = per_example_loss(model(**model_inputs(b)).logits, b["labels"], 0.1)
            total = total + weight_fn(k, ex)
        total.backward()
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]).clone()

    g_sampling = grad(lambda k, ex: p_tau[k] * ex.mean())
    g_weighting = grad(lambda k, ex: (p_tau[k] / p_1[k]) * ex.sum() / sum(sizes))
    torch.testing.assert_close(g_sampling, g_weighting, rtol=1e-5, atol=1e-7)
    g_unweighted = grad(lambda k, ex: ex.sum() / sum(sizes))
    assert not torch.allclose(g_sampling, g_unweighted, rtol=1e-3)  # the weights matter


def test_fork_shares_the_prefix_run_and_matches_training_from_scratch(tiny_cfg, tmp_path):
    base = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 8, "pretrain_on": "en-it"}
    a = runs.get_or_train(tiny_cfg({**base, "rates": [0.5, 0.5]}, fork_at=8), runs.Settings(tmp_path, progress=False))
    b = runs.get_or_train(tiny_cfg({**base, "rates": [0.2, 0.8]}, fork_at=8), runs.Settings(tmp_path, progress=False))
    prefixes = [d for d in (tmp_path / "test").iterdir() if d not in (a.dir, b.dir)]
    assert len(prefixes) == 1  # one shared pre-training run
    scratch = runs.get_or_train(tiny_cfg({**base, "rates": [0.5, 0.5]}), runs.Settings(tmp_path / "s", progress=False))
    assert _rows(a.dir) == _rows(scratch.dir)


def test_a_chain_of_prefixes_trains_what_one_fork_does_and_serves_cooldown_and_restart(tiny_cfg, tmp_path):
    """Static τ=5 forked at 12 whose prefix forks at 8 (`prefix_forks`): three runs (0-8, 8-12,
    12-16) that together train exactly what one fork at 12 does (pools of 4 steps: the cuts
    change nothing); COOLDOWN continues the 8-step prefix and the restart baseline the 12-step
    one, so neither trains a step of the shared part again."""
    settings = runs.Settings(tmp_path / "chain", progress=False)
    static = {"method": "temperature", "steps": 16, "tau": 5}
    chained = runs.get_or_train(tiny_cfg(static, fork_at=12, prefix_forks=(8,), pool_batches=4), settings)
    made = {d.name for d in (tmp_path / "chain" / "test").iterdir()}
    assert len(made) == 3  # the run and its two prefixes
    one_fork = runs.get_or_train(tiny_cfg(static, fork_at=12, pool_batches=4),
                                 runs.Settings(tmp_path / "one", progress=False))
    assert _rows(chained.dir) == _rows(one_fork.dir)
    cooldown = runs.get_or_train(tiny_cfg({"method": "cooldown", "steps": 16, "switch": 8, "tau_high": 5},
                                          fork_at=8, pool_batches=4), settings)
    restart = runs.get_or_train(tiny_cfg({"method": "restart", "first_steps": 12, "second_steps": 4, "tau": 5},
                                         fork_at=12, prefix_forks=(8,), pool_batches=4), settings)
    assert {d.name for d in (tmp_path / "chain" / "test").iterdir()} == made | {cooldown.dir.name, restart.dir.name}
    shared = [r for r in _rows(chained.dir) if r["step"] <= 8 and "valid_loss" in r]
    assert [r for r in _rows(cooldown.dir) if r["step"] <= 8 and "valid_loss" in r] == shared
    after = [r for r in _rows(cooldown.dir) if r["step"] > 8 and "valid_loss" in r]
    assert after and after[-1]["examples_seen"] != _rows(chained.dir)[-2]["examples_seen"]  # τ=1 after the switch


def test_front_points_read_a_temperature_runs_rate_from_its_plan(tiny_cfg, tmp_path):
    """A front sampled at a temperature is labelled by τ; `front_points` gives each row the
    LRL's share of batches that τ gave on the run's own data (rates given as labels stay)."""
    from paperlib import experiments as E

    settings = runs.Settings(tmp_path, progress=False)
    run = runs.get_or_train(tiny_cfg({"method": "temperature", "steps": 4, "tau": 5}), settings)
    fixed = runs.get_or_train(tiny_cfg({"method": "static", "steps": 4, "rates": [0.7, 0.3]}), settings)
    df = store.summarize([(run, {"method": "static sampling", "tau": 5.0, "seed": 0}),
                          (fixed, {"method": "static sampling", "rate": 0.3, "seed": 0})])
    rates = E.front_points(df)["rate"].tolist()
    sizes = store.resolve(run.config)[0].sizes("train")  # the task set's order: high-resource first
    assert rates == [round(float(temperature(list(sizes.values()), 5.0)[1]), 4), 0.3]


def test_lm_run_logs_per_language_losses(tiny_cfg, tmp_path):
    cfg = tiny_cfg({"method": "temperature", "steps": 8, "tau": 1}, taskset="dir_lm")
    run = runs.get_or_train(cfg, runs.Settings(tmp_path, progress=False))
    df = run.metrics()
    assert "valid_loss.fi" in df.columns and df["valid_loss.fi"].dropna().iloc[-1] < df["valid_loss.fi"].iloc[0]


def test_bleu_at_the_end(tiny_cfg, tmp_path):
    from paperlib.config import EvalConfig

    cfg = tiny_cfg(STATIC, eval=EvalConfig(every=6, train_subset=8, bleu=True, beam=2, bleu_max_examples=5, max_new_tokens=8))
    run = runs.get_or_train(cfg, runs.Settings(tmp_path, progress=False))
    final = store.read_metrics(run.dir)[-1]
    assert final["final"] and set(final["bleu"]) == {"en-it", "en-fi"}
    assert all(0 <= v <= 100 for v in final["chrf"].values())
    # the test segments' statistics are kept, and their sums give the reported scores
    from paperlib import scores

    for task in ("en-it", "en-fi"):
        for metric in ("bleu", "chrf"):
            stats = store.read_test_segments(run.dir, task, metric)
            assert stats.shape[0] == 5
            assert scores.corpus_score(metric, stats.sum(axis=0), task.split("-")[1]) == pytest.approx(final[metric][task])
    assert store.read_test_segments(run.dir, "en-xx", "bleu") is None


def test_nonfinite_loss_stops_with_a_clear_message(tiny_cfg, tmp_path, monkeypatch):
    import paperlib.train as tr

    real = tr.per_example_loss
    calls = {"n": 0}

    def poisoned(*a, **k):
        calls["n"] += 1
        out = real(*a, **k)
        return (out[0] * float("nan"),) + out[1:] if calls["n"] > 5 else out

    monkeypatch.setattr(tr, "per_example_loss", poisoned)
    with pytest.raises(tr.TrainingDiverged, match="non-finite loss at step 5 .* last good checkpoint"):
        train(tiny_cfg(STATIC), tmp_path / "r", progress=False)
    assert torch.load(tmp_path / "r" / "ckpt" / "last.pt", weights_only=False)["step"] == 4


def test_per_sentence_validation_losses_follow_the_metrics(tiny_cfg, tmp_path):
    """Every evaluation stores each validation sentence's loss (what the claims resample);
    they add up to the logged validation loss, survive a kill and resume unchanged, and a
    fork starts with its parent's."""
    from paperlib.evaluate import mean_losses

    base = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 8, "pretrain_on": "en-it", "rates": [0.5, 0.5]}
    cfg = tiny_cfg(base, fork_at=8)
    run = runs.get_or_train(cfg, runs.Settings(tmp_path / "a", progress=False))
    rows = [r for r in store.read_metrics(run.dir) if "valid_loss" in r]
    assert store.example_loss_steps(run.dir) == [r["step"] for r in rows] == [0, 4, 8, 12, 16]
    for r in rows:
        per = store.read_example_losses(run.dir, r["step"])
        assert mean_losses(per) == pytest.approx(r["valid_loss"], rel=1e-12)
        assert all(len(nll) == len(tok) == 20 for nll, tok in per.values())  # every validation sentence
    killed = tmp_path / "b" / "test" / run.dir.name
    train(tiny_cfg(base), tmp_path / "scratch" / "x", progress=False)  # no fork: the same numbers from step 0
    train(tiny_cfg(base), killed, progress=False, stop_after=14)
    train(tiny_cfg(base), killed, progress=False)
    for step in store.example_loss_steps(run.dir):
        a, b = store.read_example_losses(run.dir, step), store.read_example_losses(killed, step)
        assert all(np.array_equal(a[t][0], b[t][0]) for t in a), step


def test_gpu_kernel_choices_avoid_per_shape_cudnn_attention_plans():
    # measured on an H200: cuDNN attention made the step 9x slower on varying batch shapes
    from paperlib.train import use_gpu_kernels_for_varying_shapes

    before = torch.backends.cuda.cudnn_sdp_enabled(), torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.enable_cudnn_sdp(True)
    try:
        use_gpu_kernels_for_varying_shapes()
        assert not torch.backends.cuda.cudnn_sdp_enabled()
        assert torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.enable_cudnn_sdp(before[0])
        torch.backends.cuda.matmul.allow_tf32 = before[1]


# A training process that SIGKILLs itself at one chosen write: halfway through appending a
# metrics row, or with a new checkpoint written and synced but not yet renamed into place.
_DIE_WHILE_WRITING = r"""
import json, os, signal, sys
from pathlib import Path
from paperlib import config, store
from paperlib.train import train

cfg, run_dir, where, nth = config.from_dict(json.loads(sys.argv[1])), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
seen = [0]
if where == "metrics":
    append = store.append_metrics
    def dying_append(folder, row):
        seen[0] += 1
        if seen[0] == nth:
            with open(Path(folder) / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row)[:40])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        append(folder, row)
    store.append_metrics = dying_append
else:
    replace = os.replace
    def dying_replace(src, dst):
        if str(dst).endswith("last.pt"):
            seen[0] += 1
            if seen[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        replace(src, dst)
    os.replace = dying_replace
train(cfg, run_dir, progress=False)
"""


@pytest.mark.parametrize("where, nth", [("metrics", 3), ("checkpoint", 2)])
def test_kill_9_while_writing_then_resume_gives_identical_metrics(tiny_cfg, tmp_path, where, nth):
    import subprocess
    import sys

    cfg = tiny_cfg(STATIC)
    full = runs.get_or_train(cfg, runs.Settings(tmp_path / "full", progress=False))
    killed = tmp_path / "killed" / "test" / full.dir.name
    proc = subprocess.run([sys.executable, "-c", _DIE_WHILE_WRITING, json.dumps(cfg.to_dict()), str(killed), where,
                           str(nth)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]  # it really died at that write
    assert not (killed / "DONE").exists()
    if where == "metrics":
        assert not (killed / "metrics.jsonl").read_text().endswith("\n")  # a torn last row
    else:
        assert list((killed / "ckpt").glob(".tmp-*"))  # the new checkpoint, never renamed into place
    train(cfg, killed, progress=False)
    assert _rows(killed) == _rows(full.dir)
    assert not list(killed.rglob(".tmp-*"))  # the dead process's temporary file is swept on resume


def test_every_metrics_row_also_goes_to_the_users_tracker(tiny_cfg, tmp_path):
    from accelerate.tracking import GeneralTracker

    class Recorder(GeneralTracker):
        name, requires_logging_directory = "recorder", False

        def __init__(self):
            super().__init__()
            self.config, self.logged, self.finished = None, [], False

        @property
        def tracker(self):
            return self

        def store_init_configuration(self, values):
            self.config = values

        def log(self, values, step=None, **kwargs):
            self.logged.append((step, values))

        def finish(self):
            self.finished = True

    recorder = Recorder()
    cfg = tiny_cfg(STATIC)
    train(cfg, tmp_path / "tracked", progress=False, log_with=[recorder])
    rows = store.read_metrics(tmp_path / "tracked")
    assert [step for step, _ in recorder.logged] == [r["step"] for r in rows]  # every row, at its step
    last_eval = [r for r in rows if "valid_loss" in r][-1]
    assert recorder.logged[-2][1]["valid_loss.en-it"] == last_eval["valid_loss"]["en-it"]
    assert recorder.config["optim.lr"] == cfg.optim.lr and recorder.config["plan.method"] == "static"
    assert recorder.finished
    # tracking is how a run reports, not what it is: the same run directory, the same metrics
    plain = runs.get_or_train(cfg, runs.Settings(tmp_path / "plain", progress=False))
    assert _rows(plain.dir) == _rows(tmp_path / "tracked")
    with pytest.raises(ValueError, match="tracker 'no-such-tracker'"):
        train(cfg, tmp_path / "x", progress=False, log_with="no-such-tracker")
    assert not (tmp_path / "x").exists()  # refused before anything was written


@pytest.mark.filterwarnings("ignore:`log_with=tensorboard` was passed")  # accelerate's warning, turned into our error
def test_a_tracker_whose_package_is_missing_is_an_error_not_silence(tiny_cfg, tmp_path, monkeypatch):
    import accelerate.tracking

    monkeypatch.setattr(accelerate.tracking, "_available_trackers", [])  # as without the tensorboard package
    with pytest.raises(ValueError, match="tracker 'tensorboard' is not installed here"):
        train(tiny_cfg(STATIC), tmp_path / "r", progress=False, log_with="tensorboard")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("eps", [0.1, 0.0])
def test_the_label_smoothed_loss_is_bit_for_bit_the_textbook_one(eps):
    """per_example_loss takes the vocabulary mean as a sum and one division per position, and
    builds its backward by hand (cheaper); its loss and gradient must stay *equal*, not close,
    to autograd's through the textbook (1 - ε) nll - ε mean(log p)."""
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 13, 500, generator=g) * 3
    labels = torch.randint(0, 500, (8, 13), generator=g)
    labels[:, 9:] = -100
    w = torch.rand(8, generator=g)
    ours, ref = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    loss = per_example_loss(ours, labels, eps)[0]
    (w * loss).mean().backward()
    logp = torch.log_softmax(ref, -1)
    mask = labels != -100
    nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
    textbook = ((1 - eps) * nll - eps * logp.mean(-1) * mask if eps else nll).sum(1) / mask.sum(1)
    (w * textbook).mean().backward()
    assert torch.equal(loss, textbook) and torch.equal(ours.grad, ref.grad)


def test_bleu_tokenizes_chinese_and_japanese_by_character():
    """13a leaves an unspaced Chinese sentence one token, so one wrong character scores 0
    BLEU: the target language picks sacreBLEU's zh (or character) tokenizer instead."""
    from paperlib.scores import bleu_chrf, bleu_tokenizer

    hyps, refs = ["我喜欢狗和猫", "今天天气不好"], ["我喜欢猫和狗", "今天天气很好"]
    assert bleu_chrf(hyps, refs)["bleu"] == 0.0  # the 13a tokenizer: whole sentences as tokens
    assert 10 < bleu_chrf(hyps, refs, target="zh_CN")["bleu"] < 100
    assert [bleu_tokenizer(t) for t in ("zh", "zh_CN", "ja", "ko", "it", "pt_BR")] == ["zh", "zh", "char", "char",
                                                                                     "13a", "13a"]


def test_step_sums_add_per_task_on_the_device_and_remember_the_first_nonfinite_step():
    from paperlib.train import _Interval, _StepSums

    sums, interval = _StepSums(2, "cpu"), _Interval(["a", "b"])
    sums.add(0, torch.tensor([0, 1, 0]), torch.tensor([2.0, 3.0, 4.0]), torch.tensor([5, 1, 2]),
             torch.tensor(1.5), torch.tensor(0.7))
    sums.add(1, torch.tensor([1, 1, 1]), torch.tensor([1.0, 1.0, 1.0]), torch.tensor([1, 1, 1]),
             torch.tensor(0.5), torch.tensor(0.2))
    assert sums.move_into(interval) is None
    assert interval.nll.tolist() == [2 * 5 + 4 * 2, 3 + 3] and interval.tokens.tolist() == [7, 4]
    assert interval.objective == 2.0 and interval.grad_norm == pytest.approx(0.2)
    for step, loss in ((2, 1.0), (3, float("nan")), (4, float("inf")), (5, 1.0)):
        sums.add(step, torch.tensor([0]), torch.tensor([1.0]), torch.tensor([1]), torch.tensor(loss), torch.tensor(1.0))
    assert sums.move_into(interval) == 3
    assert sums.move_into(interval) is None  # moved: the sums start again from zero
    assert interval.tokens.tolist() == [11, 4]


def test_masks_built_on_the_host_train_the_same_run(tiny_cfg, tmp_path, monkeypatch):
    """The GPU's path (scaled-dot-product attention with host-built padding masks), run on the
    CPU: the same metrics as handing transformers the 2-D mask."""
    import paperlib.train as tr

    monkeypatch.setattr(tr.kernels, "prefer_eager_attention", lambda model, device: None)  # keep sdpa
    cfg = tiny_cfg(STATIC)
    ours = _rows(train(cfg, tmp_path / "host", progress=False))
    monkeypatch.setattr(tr.kernels, "host_attention_masks", lambda inputs, kind: inputs)
    theirs = _rows(train(cfg, tmp_path / "2d", progress=False))
    assert ours == theirs and len(ours) > 3


# ---------------------------------------------------------------- mutation audit: what a row holds and when

def _spy_on_steps(monkeypatch):
    """Record what every training step of a run alone computed: its LR, the tasks of its
    examples, their nll and target tokens, its loss, gradient norm and batch padding."""
    import paperlib.train as tr

    real, trace = tr._OneRun.step, []

    def step(self, batches, task_ids, weights, global_size):
        out = real(self, batches, task_ids, weights, global_size)
        ids, nll, tokens, loss, norm = out[0]
        trace.append({"lr": self.optimizer.param_groups[0]["lr"], "ids": ids.tolist(), "nll": nll.detach().double(),
                      "tokens": tokens.double(), "loss": float(loss.detach()), "norm": float(norm),
                      "real": int(batches[0]["real_tokens"]), "padded": int(batches[0]["padded_tokens"])})
        return out

    monkeypatch.setattr(tr._OneRun, "step", step)
    return trace


def test_each_row_holds_the_training_statistics_of_the_steps_since_the_last_one(tiny_cfg, tmp_path, monkeypatch):
    """Rows at 0, 4, 8 and at the end (10, not a multiple of eval.every); each row's training
    numbers are those of its own interval's steps: per-task token-weighted nll and tokens, the
    mean objective, the last step's gradient norm and padding, the LR and phase of the last
    step trained (row 8 is still pre-training), and every example drawn so far."""
    plan = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 2, "pretrain_on": "en-it",
            "rates": [0.5, 0.5]}
    cfg = tiny_cfg(plan)
    trace = _spy_on_steps(monkeypatch)
    train(cfg, tmp_path / "r", progress=False)
    tasks = store.resolve(cfg)[1].tasks
    rows = [r for r in store.read_metrics(tmp_path / "r") if not r.get("final")]
    assert [r["step"] for r in rows] == [0, 4, 8, 10] and len(trace) == 10
    assert not {"train_loss", "train_tokens", "objective", "grad_norm", "padding_fraction"} & set(rows[0])
    assert rows[0]["examples_seen"] == {t: 0 for t in tasks}
    assert [r["phase"] for r in rows[1:]] == ["pretrain", "pretrain", "finetune"]
    for begin, row in zip([0, 4, 8], rows[1:]):
        steps = trace[begin:row["step"]]
        for j, t in enumerate(tasks):
            nll = sum(float((s["nll"] * s["tokens"])[torch.tensor(s["ids"]) == j].sum()) for s in steps)
            tokens = sum(float(s["tokens"][torch.tensor(s["ids"]) == j].sum()) for s in steps)
            assert row["train_tokens"][t] == tokens
            if tokens:
                assert row["train_loss"][t] == pytest.approx(nll / tokens, rel=1e-6)
            else:  # en-fi is not trained on in pre-training: no loss, not 0 or nan
                assert row["train_loss"][t] is None and row["step"] <= 8
            seen = sum(s["ids"].count(j) for s in trace[:row["step"]])
            assert row["examples_seen"][t] == seen
        assert row["objective"] == pytest.approx(np.mean([s["loss"] for s in steps]), rel=1e-6)
        assert row["grad_norm"] == pytest.approx(steps[-1]["norm"], rel=1e-6)
        assert row["padding_fraction"] == pytest.approx(
            1 - sum(s["real"] for s in steps) / sum(s["padded"] for s in steps))
        assert row["lr"] == steps[-1]["lr"]
    assert torch.load(tmp_path / "r" / "ckpt" / "last.pt", weights_only=False)["step"] == 10


def test_the_final_row_and_done_marker_describe_the_finished_run(tiny_cfg, tmp_path):
    """DONE holds the run's length, last validation loss and wall time; the final row says
    how it ran (one CPU thread, whatever the caller had, which is given back)."""
    from paperlib.train import CPU_THREADS, new_model

    cfg = tiny_cfg(STATIC)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(cfg, tmp_path / "r", progress=False)
        assert torch.get_num_threads() == 2  # the caller's threads are given back
    finally:
        torch.set_num_threads(before)
    rows = store.read_metrics(tmp_path / "r")
    final, last_eval = rows[-1], rows[-2]
    assert final["final"] and final["step"] == 12 == last_eval["step"]
    assert final["threads"] == CPU_THREADS == 1 and final["processes"] == 1
    model = new_model(cfg, store.resolve(cfg)[0])
    assert final["parameters"] == sum(p.numel() for p in model.parameters())
    assert "bleu" not in final  # eval.bleu is off
    done = json.loads((tmp_path / "r" / "DONE").read_text())
    assert done["steps"] == 12 and done["valid_loss"] == last_eval["valid_loss"] and done["bleu"] is None
    assert done["wall_time"] == final["wall_time"] >= last_eval["wall_time"]


def test_a_fork_needs_its_prefix_run_and_one_that_ended_at_the_fork(tiny_cfg, tmp_path):
    base = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 4, "pretrain_on": "en-it",
            "rates": [0.5, 0.5]}
    cfg = tiny_cfg(base, fork_at=8)
    with pytest.raises(ValueError, match=r"fork_at=8\): pass init_from"):
        train(cfg, tmp_path / "orphan", progress=False)
    wrong = train(tiny_cfg({"method": "static", "steps": 4, "rates": [0.5, 0.5]}), tmp_path / "short", progress=False)
    with pytest.raises(RuntimeError, match="ended at step 4, expected 8"):
        train(cfg, tmp_path / "fork", init_from=wrong, progress=False)


def test_train_stack_refuses_configs_that_are_not_one_stack_in_order(tiny_cfg, tmp_path):
    from paperlib import config
    from paperlib.train import train_stack

    stack = config.stack_configs(tiny_cfg(STATIC, stack_seeds=(0, 1)))
    dirs = [tmp_path / "a", tmp_path / "b"]
    with pytest.raises(ValueError, match="one per seed of its stack_seeds in order"):
        train_stack(stack[::-1], dirs, progress=False)
    with pytest.raises(ValueError, match="one per seed of its stack_seeds in order"):
        train_stack(stack[:1], dirs[:1], progress=False)
    with pytest.raises(ValueError, match="2 configs but 3 run directories"):
        train_stack(stack, dirs + [tmp_path / "c"], progress=False)
    assert not any(d.exists() for d in dirs)


class _FakeRanks:
    """An accelerator of `world` ranks that all hold the same numbers: a sum over ranks is
    `world` times the local value."""

    def __init__(self, world):
        self.num_processes, self.device = world, torch.device("cpu")

    def reduce(self, tensor, reduction):
        assert reduction == "sum"
        return tensor * self.num_processes


def test_interval_statistics_add_up_over_ranks_but_the_objective_is_averaged():
    from paperlib.train import _any_rank, _Interval, _sum_over_ranks

    interval = _Interval(["a", "b"])
    interval.nll[:], interval.tokens[:] = [3.0, 5.0], [7.0, 11.0]
    interval.objective, interval.real, interval.padded, interval.steps = 2.5, 13, 17, 4
    _sum_over_ranks(interval, _FakeRanks(3))
    assert interval.nll.tolist() == [9.0, 15.0] and interval.tokens.tolist() == [21.0, 33.0]
    assert interval.objective == pytest.approx(2.5)  # each rank's mean over its share: averaged
    assert (interval.real, interval.padded, interval.steps) == (39, 51, 4)
    assert isinstance(interval.real, int) and isinstance(interval.padded, int)
    _sum_over_ranks(interval, _FakeRanks(1))  # one process: nothing to add
    assert interval.nll.tolist() == [9.0, 15.0] and interval.real == 39
    assert _any_rank(True, _FakeRanks(2)) and not _any_rank(False, _FakeRanks(2))
    assert _any_rank(True, _FakeRanks(1)) and not _any_rank(False, _FakeRanks(1))


def test_an_intervals_reset_starts_every_statistic_again():
    from paperlib.train import _Interval

    interval = _Interval(["a", "b"])
    interval.nll += 1
    interval.tokens += 2
    interval.objective, interval.steps, interval.real, interval.padded, interval.grad_norm = 1.0, 3, 4, 5, 0.5
    interval.reset()
    assert interval.nll.tolist() == interval.tokens.tolist() == [0, 0]
    assert (interval.objective, interval.steps, interval.real, interval.padded) == (0.0, 0, 0, 0)
    assert math.isnan(interval.grad_norm)  # no step, no norm: not a norm of 0


def test_trackers_get_flat_scalars():
    from paperlib.train import _scalars

    got = _scalars({"lr": 0.1, "step": 3, "final": True, "phase": "main", "bleu": None,
                    "valid_loss": {"en-it": 2.0}, "optim": {"betas": [0.9, 0.98]}})
    assert got == {"lr": 0.1, "step": 3, "final": True, "phase": "main", "bleu": "none",
                   "valid_loss.en-it": 2.0, "optim.betas": "[0.9, 0.98]"}


def test_the_optimizer_is_adamw_with_the_configs_settings(tiny_cfg):
    from paperlib.config import OptimConfig
    from paperlib.train import new_optimizer

    cfg = tiny_cfg(STATIC, optim=OptimConfig(lr=1e-3, betas=(0.8, 0.95), eps=1e-7, weight_decay=0.05, warmup=3))
    model = torch.nn.Linear(3, 2)
    opt = new_optimizer(model, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    assert {k: opt.defaults[k] for k in ("lr", "betas", "eps", "weight_decay")} == {
        "lr": 1e-3, "betas": (0.8, 0.95), "eps": 1e-7, "weight_decay": 0.05}
    assert opt.param_groups[0]["params"] == list(model.parameters())
    assert new_optimizer(list(model.parameters()), cfg).param_groups[0]["params"] == list(model.parameters())


@pytest.mark.skipif(torch.cuda.is_available(), reason="the error is for a machine without a GPU")
def test_asking_for_cuda_without_a_gpu_is_a_one_line_error(tiny_cfg, tmp_path):
    with pytest.raises(ValueError, match="device 'cuda' was asked for but torch sees no GPU"):
        train(tiny_cfg(STATIC, device="cuda"), tmp_path / "r", progress=False)


def test_stop_after_k_is_a_kill_right_after_step_k_before_its_evaluation(tiny_cfg, tmp_path):
    # stop_after=4 stops after the 4th update as a kill would: before step 4's row and checkpoint
    cfg = tiny_cfg(STATIC)
    train(cfg, tmp_path / "r", progress=False, stop_after=4)
    assert [r["step"] for r in store.read_metrics(tmp_path / "r")] == [0]
    assert not (tmp_path / "r" / "ckpt" / "last.pt").exists() and not (tmp_path / "r" / "DONE").exists()
    train(cfg, tmp_path / "r", progress=False, stop_after=5)
    assert [r["step"] for r in store.read_metrics(tmp_path / "r")] == [0, 4]
    assert torch.load(tmp_path / "r" / "ckpt" / "last.pt", weights_only=False)["step"] == 4


def test_a_resumed_runs_wall_time_continues_from_its_checkpoint(tiny_cfg, tmp_path, monkeypatch):
    # the killed part ran on a clock that jumps 10^6 s per reading: its time must carry over
    import paperlib.train as tr

    cfg, real = tiny_cfg(STATIC), tr.time
    ticks = iter(range(1, 10**6))
    monkeypatch.setattr(tr, "time", type("Clock", (), {"time": staticmethod(lambda: real.time() + 1e6 * next(ticks))}))
    train(cfg, tmp_path / "r", progress=False, stop_after=6)
    monkeypatch.setattr(tr, "time", real)
    elapsed = torch.load(tmp_path / "r" / "ckpt" / "last.pt", weights_only=False)["elapsed"]
    assert elapsed >= 1e6
    train(cfg, tmp_path / "r", progress=False)
    later = [r["wall_time"] for r in store.read_metrics(tmp_path / "r") if r["step"] > 4]
    assert later and all(w >= elapsed for w in later)


def test_train_stack_takes_one_prefix_directory_per_run(tiny_cfg, tmp_path):
    from paperlib import config
    from paperlib.train import train_stack

    stack = config.stack_configs(tiny_cfg(STATIC, stack_seeds=(0, 1)))
    with pytest.raises(ValueError, match="2 configs but 1 prefix directories"):
        train_stack(stack, [tmp_path / "a", tmp_path / "b"], init_froms=[tmp_path / "p"], progress=False)
    assert not (tmp_path / "a").exists()


def test_a_resume_sweeps_the_temporary_per_sentence_file_a_killed_process_left(tiny_cfg, tmp_path):
    """A kill while writing examples/valid-*.npz leaves its temporary file there; resuming
    removes it as it does the run's and the checkpoint's (else `ship` copies it into results/)."""
    cfg = tiny_cfg(STATIC)
    run_dir = tmp_path / "test" / "r"
    train(cfg, run_dir, progress=False, stop_after=6)
    assert store.example_loss_steps(run_dir)
    (run_dir / "examples" / ".tmp-dead").write_bytes(b"half of an npz")
    train(cfg, run_dir, progress=False)
    assert (run_dir / "DONE").exists() and not list(run_dir.rglob(".tmp-*"))


def test_init_from_for_a_run_that_continues_no_prefix_is_refused_before_anything_is_written(tiny_cfg, tmp_path):
    """It was silently ignored: the run trained from scratch while its caller meant a fork."""
    with pytest.raises(ValueError, match=r"init_from is for a config that continues a shared prefix \(fork_at=k\)"):
        train(tiny_cfg(STATIC), tmp_path / "r", init_from=tmp_path / "prefix", progress=False)
    assert not (tmp_path / "r").exists()
