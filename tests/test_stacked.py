"""Stacked training (paperlib.stacked): K runs in one vmapped step equal K separate steps."""

import copy
import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from paperlib import config, runs, stacked, store
from paperlib.batches import TaskData, collate, model_inputs, per_example_loss
from paperlib.config import EvalConfig, OptimConfig, TrainConfig
from paperlib.models import ModelConfig, build_model
from paperlib.train import new_optimizer, train, train_stack

PAD, BOS, EOS, VOCAB = 0, 1, 2, 60


def _task_data(kind, seed=0, n=40):
    rng = np.random.default_rng(seed)
    seqs = lambda: [rng.integers(3, VOCAB, rng.integers(3, 12)) for _ in range(n)]  # noqa: E731
    src, tgt = seqs(), seqs()
    return TaskData(kind, ["a", "b"], {"a": src[:20], "b": src[20:]}, {"a": tgt[:20], "b": tgt[20:]}, PAD, BOS, 16)


def _batches(data, k, steps, size=6):
    """Each run its own batches, of lengths that differ between runs (so stacking pads)."""
    rng = np.random.default_rng(100 + k)
    return [[(("a", "b")[i % 2], int(rng.integers(0, 20))) for i in range(size)] for _ in range(steps)]


@pytest.mark.parametrize("kind,fused", [("translation", False), ("lm", False), ("translation", True)])
def test_a_stack_of_runs_trains_what_the_runs_train_one_by_one(kind, fused):
    """Three runs (their own seeds, batches and task weights), five steps of AdamW with
    clipping, a changing LR and label smoothing: the stacked step gives every run's losses
    and parameters within 1e-5 of the loop's own step run for each model alone -- with the
    CPU's foreach AdamW over the stack, and with the fused AdamW a GPU uses (which needs
    every gradient in its parameter's memory layout)."""
    cfg = TrainConfig(plan={"method": "temperature", "steps": 1, "tau": 1},
                      optim=OptimConfig(lr=3e-3, clip_norm=0.5, weight_decay=0.01, label_smoothing=0.1))
    shape = ModelConfig(d_model=32, heads=2, ffn=64, layers=2, max_len=16, dropout=0.0, attention_dropout=0.0)
    data, runs, steps = _task_data(kind), 3, 5
    models = []
    for seed in range(runs):
        torch.manual_seed(seed)
        models.append(build_model(shape, kind, VOCAB, PAD, BOS, EOS))
    alone = [copy.deepcopy(m) for m in models]
    stack = stacked.Stack(models)
    stack_opt = new_optimizer(stack.parameters(), cfg)
    if fused:
        stack_opt = torch.optim.AdamW(stack.parameters(), lr=cfg.optim.lr, betas=cfg.optim.betas, eps=cfg.optim.eps,
                                      weight_decay=cfg.optim.weight_decay, fused=True)
    opts = [new_optimizer(m, cfg) for m in alone]
    weights = torch.tensor([[1.0, 0.5], [1.0, 1.0], [0.3, 2.0]])  # per run, per task
    plans = [_batches(data, k, steps) for k in range(runs)]
    for step in range(steps):
        lr = 1e-3 * (step + 1)
        for group in [*stack_opt.param_groups, *(g for o in opts for g in o.param_groups)]:
            group["lr"] = lr
        batches = [collate(data, plans[k][step]) for k in range(runs)]
        task = torch.tensor([[0 if t == "a" else 1 for t, _ in plans[k][step]] for k in range(runs)])
        ex_weights = torch.stack([weights[k][task[k]] for k in range(runs)])
        inputs, labels = stacked.stacked_inputs(batches, kind, PAD, shape.max_len)
        loss, ex_nll, tokens, norms = stacked.stacked_step(stack, stack_opt, inputs, labels, ex_weights,
                                                           cfg.optim.label_smoothing, cfg.optim.clip_norm)
        for k, (model, opt) in enumerate(zip(alone, opts)):
            ex_loss, nll, n = per_example_loss(model(**model_inputs(batches[k])).logits, batches[k]["labels"], 0.1)
            one = (ex_weights[k] * ex_loss).mean()
            one.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.clip_norm)
            opt.step()
            opt.zero_grad(set_to_none=True)
            assert float(loss[k]) == pytest.approx(one.item(), abs=1e-5), (step, k)
            assert float(norms[k]) == pytest.approx(float(norm), rel=1e-5)
            assert torch.allclose(ex_nll[k], nll, atol=1e-5) and torch.equal(tokens[k], n)
    assert min(norms) > cfg.optim.clip_norm  # clipping was exercised
    for k, model in enumerate(alone):
        state = stack.state_dict(k)
        for name, p in model.named_parameters():
            assert torch.allclose(state[name], p, atol=1e-5), (k, name)
    first = next(iter(dict(alone[0].named_parameters())))
    assert not torch.allclose(stack.state_dict(0)[first], stack.state_dict(1)[first])  # runs of their own


def test_stacked_inputs_pad_each_run_to_the_stack_and_keep_it_masked():
    """Every run is padded to the stack's longest, rounded up to a multiple of 8 (CUDA's
    memory-efficient attention under vmap needs it: `stacked.ALIGN`), all of it masked."""
    data = _task_data("translation")
    batches = [collate(data, [("a", 0), ("a", 1)]), collate(data, [("b", 3), ("b", 4)])]
    longest = max(b["input_ids"].shape[1] for b in batches)
    assert longest % stacked.ALIGN  # the rounding is exercised
    inputs, labels = stacked.stacked_inputs(batches, "translation", PAD, 16)
    src = -(-longest // 8) * 8
    assert {v.shape[-1] for v in (inputs["input_ids"], inputs["decoder_input_ids"], labels)} <= {8, 16}
    assert inputs["input_ids"].shape == (2, 2, src) and inputs["attention_mask"].shape == (2, 2, 1, 1, src)
    for k, b in enumerate(batches):
        n = b["input_ids"].shape[1]
        assert torch.equal(inputs["input_ids"][k, :, :n], b["input_ids"])
        assert (inputs["input_ids"][k, :, n:] == PAD).all() and not inputs["attention_mask"][k, :, 0, 0, n:].any()
        assert torch.equal(inputs["attention_mask"][k, :, 0, 0, :n], b["attention_mask"].bool())
        m = b["labels"].shape[1]
        assert torch.equal(labels[k, :, :m], b["labels"]) and (labels[k, :, m:] == -100).all()


def test_aligned_widths_stay_within_the_models_positions():
    assert [stacked.aligned_width(w, 64) for w in (1, 8, 9, 57, 64)] == [8, 8, 16, 64, 64]
    assert [stacked.aligned_width(w, 12) for w in (5, 9, 12)] == [8, 12, 12]  # no position past max_len


# ---------------------------------------------------------------- stacks of runs in the trainer

STATIC = {"method": "temperature", "steps": 12, "tau": 5}
ORDER_MATTERS = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 8, "pretrain_on": "en-it",
                 "rates": [0.5, 0.5]}
NO_DROPOUT = ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16, dropout=0.0, attention_dropout=0.0)
EXACT = ("step", "phase", "lr", "examples_seen", "epochs", "train_tokens", "final", "parameters")


def _logged(run_dir):
    return [{k: v for k, v in r.items() if k not in ("wall_time", "bleu_seconds", "threads")}
            for r in store.read_metrics(run_dir)]


def _numbers(row, prefix=""):
    out = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update(_numbers(v, f"{prefix}{k}."))
        elif isinstance(v, float):
            out[prefix + k] = v
    return out


def _assert_same_run(stacked_dir, alone_dir, tol=1e-5):
    a, b = _logged(stacked_dir), _logged(alone_dir)
    assert [r["step"] for r in a] == [r["step"] for r in b] and len(a) > 3
    for ra, rb in zip(a, b):
        assert {k: ra.get(k) for k in EXACT} == {k: rb.get(k) for k in EXACT}
        na, nb = _numbers({k: v for k, v in ra.items() if k not in EXACT}), \
            _numbers({k: v for k, v in rb.items() if k not in EXACT})
        assert na.keys() == nb.keys() and (na or ra.get("final"))
        for key in na:
            assert na[key] == pytest.approx(nb[key], abs=tol), (ra["step"], key)


def test_a_stack_of_runs_in_the_trainer_trains_what_each_run_trains_alone(tiny_cfg, tmp_path):
    """Three seeds of a static run trained as one stack (`train_stack`) and each alone
    (`train`), without dropout (with it, a stack is another draw): every logged loss,
    gradient norm and objective within 1e-5, examples and epochs equal."""
    alone = [tiny_cfg(STATIC, model=NO_DROPOUT, seed=seed) for seed in (0, 1, 2)]
    stack = config.stack_configs(dataclasses.replace(alone[1], stack_seeds=(0, 1, 2)))
    assert [c.seed for c in stack] == [0, 1, 2]
    dirs = train_stack(stack, [tmp_path / f"stacked{k}" for k in range(3)], progress=False)
    for k, cfg in enumerate(alone):
        _assert_same_run(dirs[k], train(cfg, tmp_path / f"alone{k}", progress=False))
        assert (dirs[k] / "DONE").exists()
    first, second = _logged(dirs[0]), _logged(dirs[1])
    assert first[-2]["valid_loss"] != second[-2]["valid_loss"]  # runs of their own, not one run three times


def test_stacked_order_matters_forks_its_prefix_stack_and_resets_like_runs_alone(tiny_cfg, tmp_path):
    """Order Matters (pre-train, reset the optimizer, fine-tune) as a stack of two seeds
    through `runs.get_or_train`: the pre-training is a stack of its own, trained once for
    both seeds; each seed's run matches the same run trained alone."""
    settings = runs.Settings(tmp_path / "stacked", progress=False)
    stacked_cfgs = [tiny_cfg(ORDER_MATTERS, model=NO_DROPOUT, fork_at=8, seed=s, stack_seeds=(0, 1)) for s in (0, 1)]
    got = [runs.get_or_train(c, settings) for c in stacked_cfgs]
    assert len(list((tmp_path / "stacked" / "test").iterdir())) == 4  # two runs, two pre-trainings
    for c, run in zip(stacked_cfgs, got):
        alone = runs.get_or_train(dataclasses.replace(c, stack_seeds=()),
                                  runs.Settings(tmp_path / f"alone{c.seed}", progress=False))
        _assert_same_run(run.dir, alone.dir)


@pytest.mark.parametrize("taskset", ["dir_translation", "dir_lm"])
def test_a_killed_stack_resumes_to_the_same_metrics_with_dropout(tiny_cfg, tmp_path, taskset):
    """With dropout on (one generator for the stack), a stack killed after step 6 and
    resumed from its checkpoint at step 4 logs exactly what the uninterrupted stack does
    (the LM too, whose output layer is its token embedding)."""
    stack = config.stack_configs(tiny_cfg(STATIC, taskset=taskset, stack_seeds=(0, 1)))
    whole = train_stack(stack, [tmp_path / "whole0", tmp_path / "whole1"], progress=False)
    cut = [tmp_path / "cut0", tmp_path / "cut1"]
    train_stack(stack, cut, progress=False, stop_after=6)
    assert not (cut[0] / "DONE").exists() and (cut[1] / "ckpt" / "last.pt").exists()
    train_stack(stack, cut, progress=False)
    for a, b in zip(whole, cut):
        assert _logged(a) == _logged(b)


def test_a_stack_killed_while_finishing_finishes_the_rest_and_leaves_the_finished(tiny_cfg, tmp_path):
    """Killed after its first run's DONE: the second run finishes (its last row, its DONE),
    the first is not touched. A finished run whose stack cannot resume as one (its sibling
    is gone) is an error that names the stack's runs, and nothing of it is rewritten."""
    stack = config.stack_configs(tiny_cfg(STATIC, stack_seeds=(0, 1), eval=EvalConfig(every=4, train_subset=16, bleu=True, bleu_max_examples=3)))
    dirs = train_stack(stack, [tmp_path / "a", tmp_path / "b"], progress=False)
    whole = [_logged(d) for d in dirs]
    first_log = (dirs[0] / "metrics.jsonl").read_bytes()
    (dirs[1] / "DONE").unlink()
    store.write_metrics(dirs[1], [r for r in store.read_metrics(dirs[1]) if not r.get("final")])
    train_stack(stack, dirs, progress=False)
    assert (dirs[0] / "metrics.jsonl").read_bytes() == first_log
    assert (dirs[1] / "DONE").exists() and [_logged(d) for d in dirs] == whole and "bleu" in whole[1][-1]
    import shutil

    shutil.rmtree(dirs[1])
    with pytest.raises(store.DamagedRun, match="cannot resume as one"):
        train_stack(stack, dirs, progress=False)
    assert (dirs[0] / "metrics.jsonl").read_bytes() == first_log and (dirs[0] / "DONE").exists()


@pytest.fixture
def own_precision():
    """accelerate keeps one mixed precision per process (its AcceleratorState): a test that
    trains in bf16 after others trained in fp32 needs a state of its own, and those after it theirs."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state()
    yield
    AcceleratorState._reset_state()


def test_a_stack_trains_with_dropout_under_bf16_autocast_like_the_gpu_preset(tiny_cfg, tmp_path, own_precision):
    """The gpu preset's settings (bf16 autocast, dropout in attention too) on the CPU's
    autocast: the stack trains (torch.func.grad's backward of dropout in scaled-dot-product
    attention under autocast failed on dtypes), each run's losses fall, and run 0 stays within
    0.1 nats of the same seed trained alone -- another dropout draw, the same run otherwise."""
    cfg = tiny_cfg(STATIC, precision="bf16", stack_seeds=(0, 1))
    dirs = train_stack(config.stack_configs(cfg), [tmp_path / "a", tmp_path / "b"], progress=False)
    alone = [r for r in _logged(train(dataclasses.replace(cfg, stack_seeds=()), tmp_path / "c", progress=False))
             if "valid_loss" in r]
    for run_dir in dirs:
        rows = [r for r in _logged(run_dir) if "valid_loss" in r]
        assert all(rows[-1]["valid_loss"][t] < rows[0]["valid_loss"][t] for t in rows[0]["valid_loss"])
    stacked = [r for r in _logged(dirs[0]) if "valid_loss" in r]
    for task, loss in stacked[-1]["valid_loss"].items():
        assert loss == pytest.approx(alone[-1]["valid_loss"][task], abs=0.1)


def test_a_stack_evaluates_under_the_autocast_a_run_alone_evaluates_under(tiny_cfg, own_precision):
    """Validation losses and BLEU of a stacked run are computed as an unstacked run's are: in
    bf16 under the preset's autocast (the gpu preset's), not in fp32 (the stack's evaluation
    model was once a plain model)."""
    from paperlib.train import _accelerator, _OneRun, _StackedRuns, new_model

    cfg = tiny_cfg(STATIC, precision="bf16")
    data, _, _ = store.resolve(cfg)
    accelerator = _accelerator(cfg)
    learners = {"alone": _OneRun(new_model(cfg, data), cfg, accelerator, data.kind),
                "stacked": _StackedRuns([new_model(cfg, data) for _ in range(2)], cfg, accelerator, data.kind,
                                        data.tokenizer.pad_id)}
    batch = model_inputs(collate(TaskData.load(data, "valid", cfg.model.max_len), [("en-it", 0), ("en-it", 1)]))
    for name, learner in learners.items():
        seen = []
        net = learner.evaluation_model(0)
        hook = next(m for m in net.modules() if isinstance(m, torch.nn.Linear)).register_forward_hook(
            lambda *_: seen.append(torch.is_autocast_enabled("cpu")))
        with torch.no_grad():
            net(**batch)
        hook.remove()
        assert seen and all(seen), name


def test_a_stacked_runs_checkpoint_is_an_ordinary_runs_checkpoint(tiny_cfg, tmp_path):
    """Run k's checkpoint holds its own slice: loaded into a model built alone, it gives the
    run's last logged validation loss, and its optimizer state has the model's shapes."""
    from paperlib.evaluate import example_nll, mean_losses
    from paperlib.train import new_model

    stack = config.stack_configs(tiny_cfg(STATIC, seed=3, stack_seeds=(3, 7)))
    dirs = train_stack(stack, [tmp_path / "a", tmp_path / "b"], progress=False)
    data, _, _ = store.resolve(stack[0])
    valid = TaskData.load(data, "valid", stack[0].model.max_len)
    for run_dir in dirs:
        state = torch.load(run_dir / "ckpt" / "last.pt", weights_only=False)
        model = new_model(stack[0], data)
        model.load_state_dict(state["model"])
        shapes = [tuple(p.shape) for p in model.parameters()]
        assert [tuple(s["exp_avg"].shape) for _, s in sorted(state["optimizer"]["state"].items())] == shapes
        new_optimizer(model, stack[0]).load_state_dict(state["optimizer"])  # an unstacked run could resume from it
        logged = _logged(run_dir)[-2]["valid_loss"]
        for task, loss in mean_losses(example_nll(model, valid, "cpu")).items():
            assert loss == pytest.approx(logged[task], abs=1e-6)


def test_the_scheduler_trains_a_stack_once_and_a_stacked_seed_never_alone(tiny_cfg, tmp_path):
    settings = runs.Settings(tmp_path, progress=False)
    cfgs = [tiny_cfg(ORDER_MATTERS, fork_at=8, seed=s, stack_seeds=(0, 1, 2)) for s in (0, 1, 2)]
    planned, parent_of = runs._missing_with_prefixes(cfgs, settings)
    assert len(planned) == 2 and len(parent_of) == 1  # the stack and its pre-training stack
    with pytest.raises(ValueError, match="trains in a stack"):
        train(cfgs[1], tmp_path / "one", progress=False)
    with pytest.raises(ValueError, match="differ in their seed alone"):
        train_stack([cfgs[0], dataclasses.replace(cfgs[1], batch_size=4), cfgs[2]], [tmp_path / str(k) for k in range(3)])


@pytest.mark.parametrize("bad", [dict(stack_seeds=(1, 2)), dict(stack_seeds=(0,)), dict(stack_seeds=(1, 0)),
                                 dict(stack_seeds=(0, 1), batching="tokens")])
def test_stack_seeds_are_checked(tiny_cfg, bad):
    with pytest.raises(ValueError, match="stack_seeds"):
        tiny_cfg(STATIC, **bad)


def test_a_stack_is_part_of_a_runs_identity_and_leaves_unstacked_runs_as_they_were(tiny_cfg):
    alone = tiny_cfg(STATIC)
    assert "stack_seeds" not in alone.identity()
    assert tiny_cfg(STATIC, stack_seeds=(0, 1)).identity()["stack_seeds"] == [0, 1]


def test_a_preset_that_stacks_seeds_plans_and_charges_every_seed_of_a_configuration(monkeypatch):
    """`Preset.stack_seeds`: a configuration asked for at one of the preset's seeds is a run of
    the stack of all of them, and the dry run charges the seeds that train with it."""
    from paperlib import costs, presets
    from paperlib import experiments as E

    def key(c):
        return json.dumps(c.identity(), sort_keys=True, default=str)

    def planned():
        return [r.config for r in costs.planned_runs("smoke", only=["A2_fig02_hrl_lrl_fronts"])]

    alone = planned()
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    cfg = E.base("smoke", E.pair("smoke"), "x", E.M.Static(12, (0.5, 0.5)), seed=1)
    assert cfg.stack_seeds == (0, 1) and E.base("smoke", E.pair("smoke"), "x", cfg.plan, seed=5).stack_seeds == ()
    assert E.base("smoke", E.pair("smoke"), "x", cfg.plan, seed=1, stack_seeds=()).stack_seeds == ()  # opted out
    stacked = planned()
    assert len(stacked) > len(alone)  # the front's seed-0-only rates now train seed 1 beside it
    seeds_of = {}
    for c in stacked:
        assert c.stack_seeds == (0, 1)
        seeds_of.setdefault(key(dataclasses.replace(c, seed=0)), []).append(c.seed)
    assert all(sorted(seeds) == [0, 1] for seeds in seeds_of.values())
    assert f"{len(stacked)} of the runs train in stacks" in costs.describe("smoke", only=["A2_fig02_hrl_lrl_fronts"])
    # DoReMi's weights come from one proxy and one reference model: neither is a stack (its
    # other seeds would be models no one reads), and the dry run charges them as runs alone
    from paperlib import doremi

    proxy = E.doremi_proxy_config("smoke", "lm_upsample", "upsample_lm")
    assert proxy.stack_seeds == (0, 1) and doremi.reference_config(proxy, 12, 3).stack_seeds == ()
    b5 = costs.planned_runs("smoke", only=["B5_table4_multilingual_lm"])
    with_proxy_plan = [r.config.stack_seeds for r in b5 if r.steps == proxy.plan.steps and r.config.plan == proxy.plan]
    assert with_proxy_plan.count(()) == 1  # the proxy alone (the grid's runs with its plan are stacks)
    reference = doremi.reference_config(proxy, proxy.plan.steps, 4)
    assert [r.config.stack_seeds for r in b5 if costs._run_identity(r.config) == costs._run_identity(reference)] == [()]
    with pytest.raises(ValueError, match="stacks the seeds"):
        dataclasses.replace(presets.get("smoke"), seeds=(0,), stack_seeds=True)


def test_the_scheduler_and_get_or_train_agree_that_a_resumable_stack_needs_no_prefix(tiny_cfg, tmp_path):
    """A stack of forks whose first run finished under another experiment (reused from there)
    and whose second was cut off while finishing in its own directory resumes from their
    checkpoints: neither the scheduler nor get_or_train asks for the pre-training again."""
    settings = runs.Settings(tmp_path, progress=False)
    first = [tiny_cfg(ORDER_MATTERS, fork_at=8, seed=s, stack_seeds=(0, 1), experiment="a") for s in (0, 1)]
    trained = [runs.get_or_train(c, settings) for c in first]
    prefixes = [store.find_done(config.parent_config(c), tmp_path).dir for c in first]
    wanted = [dataclasses.replace(c, experiment="b") for c in first]
    own = store.run_dir_for(wanted[1], tmp_path)
    own.parent.mkdir(parents=True)
    trained[1].dir.rename(own)
    (own / "DONE").unlink()  # seed 1: cut off while finishing, in its own directory; seed 0 stays under "a"
    for p in prefixes:
        shutil.rmtree(p)
    planned, parent_of = runs._missing_with_prefixes([wanted[1]], settings)
    assert len(planned) == 1 and parent_of == {}
    assert runs.get_or_train(wanted[1], settings).dir == own and (own / "DONE").exists()
    assert not any(p.exists() for p in prefixes)  # no pre-training was trained again


# ---------------------------------------------------------------- mutation audit

def _one_step(models, batches, clip_norm, kind="translation"):
    """One stacked step of `models` on their batches; returns (losses, norms, the stack)."""
    cfg = TrainConfig(plan={"method": "temperature", "steps": 1, "tau": 1},
                      optim=OptimConfig(lr=1e-2, clip_norm=clip_norm))
    stack = stacked.Stack(models)
    opt = new_optimizer(stack.parameters(), cfg)
    inputs, labels = stacked.stacked_inputs(batches, kind, PAD, 16)
    weights = torch.ones(len(models), batches[0]["labels"].shape[0])
    loss, _, _, norms = stacked.stacked_step(stack, opt, inputs, labels, weights, 0.1, clip_norm)
    return loss, norms, stack


def test_a_clip_norm_above_the_gradient_norm_leaves_the_step_unclipped():
    # clipping only ever scales a gradient down: a norm under clip_norm is the unclipped step
    data = _task_data("translation")
    shape = ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16, dropout=0.0, attention_dropout=0.0)
    torch.manual_seed(0)
    models = [build_model(shape, "translation", VOCAB, PAD, BOS, EOS) for _ in range(2)]
    batches = [collate(data, plan[0]) for plan in (_batches(data, 0, 1), _batches(data, 1, 1))]
    _, norms, loose = _one_step(copy.deepcopy(models), batches, clip_norm=1e4)
    _, _, unclipped = _one_step(copy.deepcopy(models), batches, clip_norm=None)
    assert float(norms.max()) < 1e4
    for name, p in loose.params.items():
        assert torch.equal(p, unclipped.params[name]), name
    _, _, clipped = _one_step(copy.deepcopy(models), batches, clip_norm=float(norms.min()) / 2)
    assert any(not torch.equal(p, unclipped.params[n]) for n, p in clipped.params.items())  # and clipping does act


def test_the_runs_of_a_stack_draw_dropout_masks_of_their_own():
    """Two copies of one model on one batch: with dropout their losses differ (each run its
    own masks, as runs trained apart), without it they are equal."""
    data = _task_data("translation")
    batch = collate(data, _batches(data, 0, 1)[0])
    for dropout in (0.3, 0.0):
        torch.manual_seed(0)
        model = build_model(ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16, dropout=dropout,
                                        attention_dropout=0.0), "translation", VOCAB, PAD, BOS, EOS).train()
        loss, _, _ = _one_step([model, copy.deepcopy(model)], [batch, batch], clip_norm=None)
        assert (float(loss[0]) != float(loss[1])) == (dropout > 0), dropout


def test_a_stack_holds_models_of_one_architecture():
    shape = ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16)
    models = [build_model(shape, kind, VOCAB, PAD, BOS, EOS) for kind in ("translation", "lm")]
    with pytest.raises(ValueError, match="models of one architecture"):
        stacked.Stack(models)


def test_a_runs_slice_of_the_stack_is_a_copy():
    shape = ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16)
    stack = stacked.Stack([build_model(shape, "lm", VOCAB, PAD, BOS, EOS) for _ in range(2)])
    name = next(iter(stack.params))
    own = stack.state_dict(1)
    own[name].zero_()  # a checkpoint's tensors, changed, leave the training stack as it was
    assert stack.params[name][1].abs().sum() > 0
    assert torch.equal(stack.state_dict(0)[name], stack.params[name][0])
