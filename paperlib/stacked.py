"""Several runs of one model shape trained as one: their parameters stacked along a new first
dimension: one vmapped forward (torch.func) computes every run's loss, and one backward
through it every run's gradient.

Why: on a GPU a small model is launch-bound -- the gpu preset's step ran at ~39 steps/s on
an H200 at batch 128 and at batch 512 alike, 2-8% of the bf16 peak
(benchmarks/results_gpu_h200.json) -- and runs side by side in processes reached only
102 steps/s together. A stack of K runs issues one step's kernels for all K.

What a stacked step computes, per run k, is what the training loop's step computes: the
label-smoothed per-example losses weighted by task, the mean over the batch, the gradient,
clipping by run k's own gradient norm, and AdamW (element-wise, so one AdamW over the
stacked tensors is K AdamWs). Checked against K separate steps in tests/test_stacked.py.
Batches of the K runs are padded to common lengths (`stacked_inputs`): padding is masked out of
attention and loss, so a run's numbers change only by float rounding.

The trainer uses it for a run whose config names its stack (`TrainConfig.stack_seeds`):
`paperlib.train.train_stack` trains the stack's runs in its one loop, each with its own
evaluations, metrics and checkpoints. With dropout, vmap draws the masks of all K runs at
once from one generator, so a stacked run is a different draw from the unstacked run of the
same config: the run store knows it as a run of its own (its stack is in its identity).
benchmarks/gpu_session.py measures what stacking gains on a GPU.
"""

from __future__ import annotations

import contextlib
import copy

import torch
from torch.func import functional_call, stack_module_state, vmap

from .batches import per_example_loss


class Stack:
    """K models of one architecture as stacked tensors: params[name] is (K, *shape)."""

    def __init__(self, models: list[torch.nn.Module]):
        if len({type(m) for m in models}) != 1:
            raise ValueError("a stack holds models of one architecture")
        self.function = copy.deepcopy(models[0])  # the forward; its own tensors are never read
        params, self.buffers = stack_module_state(models)
        self.params = {name: p.detach().requires_grad_() for name, p in params.items()}

    def to(self, device) -> "Stack":
        """The stack on `device` (its forward module too: a module may keep tensors it has
        not registered)."""
        self.function = self.function.to(device)
        self.params = {name: p.detach().to(device).requires_grad_() for name, p in self.params.items()}
        self.buffers = {name: b.to(device) for name, b in self.buffers.items()}
        return self

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def state_dict(self, k: int) -> dict:
        """Run k's parameters and buffers, loadable into one of the stacked models."""
        return {name: t[k].detach().clone() for name, t in {**self.params, **self.buffers}.items()}


ALIGN = 8
"""A stack's sequence widths are rounded up to a multiple of this (`stacked_inputs`). Why: on
CUDA, the memory-efficient attention kernel needs its additive mask's row stride to be a
multiple of 8 (bf16; 4 in fp32). Unstacked, torch pads the mask's storage to get it; under
vmap, the kernel's batching rule (torch <= 2.13) folds the stack into the batch dimension by
copying the mask into a dense tensor whose row stride is the key length itself, so any other
width fails with "attn_bias is not correctly aligned" (pytorch/pytorch#161310). The extra
positions are padding: masked out of attention and loss, like the rest."""


def aligned_width(width: int, max_len: int) -> int:
    """`width` rounded up to a multiple of ALIGN, but never past the model's `max_len`
    positions."""
    return min(-(-width // ALIGN) * ALIGN, max(width, max_len))


def stacked_inputs(batches: list[dict], kind: str, pad_id: int, max_len: int) -> tuple[dict, torch.Tensor]:
    """(model inputs, labels) of K collated batches (`batches.collate`) as (K, ...) tensors.
    Each key is padded on its last dimension to the longest of the K, rounded up to a
    multiple of ALIGN within max_len (the model's positions) -- tokens with pad_id, the
    attention mask with 0, labels with -100 (ignored by the loss) -- and the masks are
    built on the host (`kernels.host_attention_masks`): transformers' own checks of a 2-D
    mask read its values, which vmap cannot."""
    from .kernels import host_attention_masks, masks_pass_through

    if not masks_pass_through():
        import transformers

        raise RuntimeError(f"stacked training needs transformers >= 5 (masks built on the host), found "
                           f"{transformers.__version__}; pip install -U transformers")
    fill = {"labels": -100, "attention_mask": 0}
    keys = [k for k in ("input_ids", "attention_mask", "decoder_input_ids", "labels") if k in batches[0]]
    width = {k: aligned_width(max(b[k].shape[-1] for b in batches), max_len) for k in keys}
    padded = [{k: torch.nn.functional.pad(b[k], (0, width[k] - b[k].shape[-1]), value=fill.get(k, pad_id))
               for k in keys} for b in batches]
    runs = [host_attention_masks({k: v for k, v in b.items() if k != "labels"}, kind) for b in padded]
    for run, b in zip(runs, padded):
        if run["attention_mask"] is None:  # this run has no padding; a stack needs one mask for all
            run["attention_mask"] = b["attention_mask"].bool()[:, None, None, :]
    inputs = {k: torch.stack([run[k] for run in runs]) for k in runs[0]}
    return inputs, torch.stack([b["labels"] for b in padded])


def stacked_step(stack: Stack, optimizer, inputs: dict, labels: torch.Tensor, weights: torch.Tensor,
                 label_smoothing: float, clip_norm: float | None, autocast=contextlib.nullcontext):
    """One training step of every run of the stack; returns per run (loss (K,), nll per
    example (K, batch), target tokens per example (K, batch), gradient norm (K,)).

    inputs: the model's keyword inputs, each (K, ...) -- masks as
    `kernels.host_attention_masks` builds them, since transformers' own checks of a 2-D mask
    read its values, which vmap cannot; labels (K, batch, length); weights (K, batch): each
    example's task loss weight. The optimizer holds `stack.parameters()`. autocast: the
    forward pass's context (the trainer's: `accelerator.autocast`)."""

    def loss_of(params, buffers, run_inputs, run_labels, run_weights):
        with autocast():
            logits = functional_call(stack.function, (params, buffers), args=(), kwargs=run_inputs).logits
        ex_loss, ex_nll, ex_tokens = per_example_loss(logits, run_labels, label_smoothing, hand_backward=False)
        return (run_weights * ex_loss).mean(), ex_nll, ex_tokens

    # a vmapped forward and autograd's backward through it (not torch.func.grad inside vmap:
    # with attention dropout under bf16 autocast, its backward fails on dtypes, torch 2.13).
    # The runs share no parameter, so the gradient of the sum of their losses is, slice by
    # slice, each run's own
    loss, ex_nll, ex_tokens = vmap(loss_of, randomness="different")(stack.params, stack.buffers, inputs, labels,
                                                                     weights)
    loss.sum().backward()
    grads = {name: p.grad for name, p in stack.params.items()}
    # clip_grad_norm_'s norm, per run: the norm of the parameters' norms
    norms = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads.values()]), dim=0)
    if clip_norm:
        scale = torch.clamp(clip_norm / (norms + 1e-6), max=1.0)
        grads = {name: g * scale.view(-1, *([1] * (g.dim() - 1))) for name, g in grads.items()}
    for name, p in stack.params.items():
        # a gradient may come in another memory layout than its parameter (vmap's of the
        # position embeddings); fused AdamW (the GPU's) needs the parameter's own
        p.grad = grads[name].contiguous()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.detach(), ex_nll.detach(), ex_tokens, norms.detach()
