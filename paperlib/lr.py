"""Learning-rate schedules: pure functions of the step since the last reset.

step     steps since the LR schedule (re)started (a phase with reset=True restarts it)
length   steps until the next restart (cosine decays to 0 at its end)
warmup   warmup steps (linear from 0) or, for constant_then_inverse_sqrt, the constant stretch
"""

from __future__ import annotations

import math


def learning_rate(kind: str, step: int, length: int, base: float, warmup: int) -> float:
    if step < 0 or length <= 0:
        raise ValueError(f"LR schedule needs step >= 0 and length > 0, got step={step}, length={length}")
    warmup = max(0, int(warmup))
    s = step + 1  # the first update already uses a non-zero rate
    if kind == "cosine":
        # paper A (NMT): linear warmup, then cosine to 0 at the end of the stretch
        if s <= warmup:
            return base * s / warmup
        progress = min(1.0, (s - warmup) / max(1, length - warmup))
        return base * 0.5 * (1 + math.cos(math.pi * progress))
    if kind == "inverse_sqrt":
        # fairseq / paper B: linear warmup, then base * sqrt(warmup / s)
        if s <= warmup:
            return base * s / warmup
        return base * math.sqrt(max(1, warmup) / s)
    if kind == "constant_then_inverse_sqrt":
        # paper A (LM, T5-style): constant for `warmup` steps, then inverse square root
        return base if s <= warmup else base * math.sqrt(max(1, warmup) / s)
    if kind == "constant":
        return base * min(1.0, s / warmup) if warmup else base
    raise ValueError(f"unknown LR schedule {kind!r}; valid: cosine, inverse_sqrt, constant_then_inverse_sqrt, constant")
