"""Cheaper CPU building blocks for the training step; a GPU keeps PyTorch's own, with
attention masks built on the host (`host_attention_masks`).

Measured on a 2-core AMD EPYC (benchmarks/bench_step.py, mini model, 1 thread): dropout's
`bernoulli_` was 9% of a step -- on an AMD CPU PyTorch draws one Mersenne-Twister number per
element through a Bernoulli distribution (MKL's vectorised path is taken on Intel CPUs only)
-- and scaled-dot-product attention falls back to its math path whenever attention dropout is
on, adding mask conversions and a "safe" softmax to the plain one. `cpu_training` (the
forward pass of a training step on a CPU) draws dropout masks from 16-bit slices of 64-bit
random numbers, 4 mask elements per draw, and `prefer_eager_attention` puts the model on
transformers' plain attention: together 8% less time per step at equal results in
expectation (not bit for bit: the masks are different draws).

The masks come from torch's default generator, so a checkpoint's saved RNG state still makes
resume exact, and a run's numbers depend only on its seed.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

_LEVELS = 1 << 16  # a mask element is a uniform 16-bit integer


def dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """x with each element zeroed with probability p (rounded to a multiple of 2^-16) and
    the rest scaled by 1 / (1 - that probability), so the expectation is x exactly."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    drop = min(round(p * _LEVELS), _LEVELS - 1)
    if drop == 0:
        return x
    n = x.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_(-(1 << 63), (1 << 63) - 1)
    levels = words.view(torch.int16)[:n].view(x.shape)
    keep = (levels >= drop - (_LEVELS >> 1)).to(x.dtype).mul_(_LEVELS / (_LEVELS - drop))
    return x * keep


class _CheapDropout(TorchFunctionMode):
    """Routes torch.nn.functional.dropout (what nn.Dropout and transformers' layers call) on
    CPU tensors to `dropout`; every other call passes through unchanged."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.dropout:
            names = ("input", "p", "training", "inplace")
            bound = {**dict(zip(names, args)), **kwargs}
            x = bound["input"]
            if bound.get("training", True) and not bound.get("inplace", False) and x.device.type == "cpu":
                return dropout(x, float(bound.get("p", 0.5)))
        return func(*args, **kwargs)


def cpu_training(device: torch.device):
    """Context for the forward pass of a training step: cheaper dropout masks on a CPU,
    nothing on a GPU (its Bernoulli draws are already cheap)."""
    return _CheapDropout() if torch.device(device).type == "cpu" else contextlib.nullcontext()


def prefer_eager_attention(model: torch.nn.Module, device: torch.device) -> None:
    """On a CPU, transformers' plain attention (softmax, then dropout through F.dropout, so
    `cpu_training` draws its mask too); a GPU keeps scaled-dot-product attention, whose
    fused kernels are what make it fast there."""
    if torch.device(device).type == "cpu" and hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")


def masks_pass_through() -> bool:
    """Whether transformers hands a 4-D mask to attention unchanged: version 5's
    `masking_utils` does; 4.x converts masks itself and takes only 2-D ones."""
    import transformers

    return int(transformers.__version__.split(".")[0]) >= 5


def host_attention_masks(inputs: dict, kind: str) -> dict:
    """The model inputs with their masks built on the host, in the form transformers hands
    to scaled-dot-product attention unchanged (boolean, True = attend):
    translation  attention_mask (batch, 1, 1, source length) -- None where nothing is padding
                 -- read by the encoder's self-attention and the decoder's cross-attention
                 alike; decoder_attention_mask causal, (1, 1, target length, target length);
    lm           attention_mask causal and padding, (batch, 1, length, length).

    Given a 2-D mask or none, transformers itself asks the device whether any position is
    padding (`mask.all()`; the decoder and GPT-2 ask even without a mask), and on a GPU each
    such question waits for every kernel queued before it: the host could not queue the
    next step while the GPU runs this one. Here the answer is read where the batch was
    built, for free. For eager attention (the CPU's) keep the 2-D masks; needs
    `masks_pass_through()`."""
    keep = inputs["attention_mask"].bool()
    out = dict(inputs)
    if kind == "translation":
        out["attention_mask"] = None if bool(keep.all()) else keep[:, None, None, :]
        out["decoder_attention_mask"] = _causal(inputs["decoder_input_ids"].shape[1])[None, None]
    elif kind == "lm":
        out["attention_mask"] = _causal(keep.shape[1])[None, None] & keep[:, None, None, :]
    else:
        raise ValueError(f"unknown model kind {kind!r}; valid: translation, lm")
    return out


def _causal(length: int) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool).tril_()
