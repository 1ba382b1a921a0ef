"""Stacked training (paperlib.stacked): K runs in one vmapped step equal K separate steps."""

import copy

import numpy as np
import pytest
import torch

from paperlib import stacked
from paperlib.batches import TaskData, collate, model_inputs, per_example_loss
from paperlib.config import OptimConfig, TrainConfig
from paperlib.models import ModelConfig, build_model
from paperlib.train import new_optimizer

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
        inputs, labels = stacked.stacked_inputs(batches, kind, PAD)
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
    data = _task_data("translation")
    batches = [collate(data, [("a", 0), ("a", 1)]), collate(data, [("b", 3), ("b", 4)])]
    inputs, labels = stacked.stacked_inputs(batches, "translation", PAD)
    src = max(b["input_ids"].shape[1] for b in batches)
    assert inputs["input_ids"].shape == (2, 2, src) and inputs["attention_mask"].shape == (2, 2, 1, 1, src)
    for k, b in enumerate(batches):
        n = b["input_ids"].shape[1]
        assert torch.equal(inputs["input_ids"][k, :, :n], b["input_ids"])
        assert (inputs["input_ids"][k, :, n:] == PAD).all() and not inputs["attention_mask"][k, :, 0, 0, n:].any()
        assert torch.equal(inputs["attention_mask"][k, :, 0, 0, :n], b["attention_mask"].bool())
        m = b["labels"].shape[1]
        assert torch.equal(labels[k, :, :m], b["labels"]) and (labels[k, :, m:] == -100).all()
