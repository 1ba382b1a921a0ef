"""Useful FLOPs per second of one training step, as a fraction of the machine's matmul peak
measured in the same run, and the new step against a frozen copy of the step of 2026-11-29.

Model FLOPs of a step are counted by torch.utils.flop_counter (forward + backward) on the
exact batch timed; the peak is a 2048x2048 fp32 matmul on the same threads (bf16 on a GPU).
Batches are random token ids shaped like `mini` batches (32 examples, lengths 20-64 a side,
length-bucketed), so no prepared data is needed. Both steps train the same model from the
same initial weights on the same batches.

`useful_flops_fraction` = FLOPs / step time / peak. Goals (issue #18): >= 0.5 on a CPU,
>= 0.40 in bf16 on an H100-class GPU; the new step never slower than the old one.
"""

from __future__ import annotations

import copy
import time

import torch

from paperlib.batches import per_example_loss
from paperlib.costs import matmul_peak
from paperlib.config import TrainConfig
from paperlib.models import build_model
from paperlib.presets import get as preset


def _old_per_example_loss(logits, labels, label_smoothing):
    """The loss of the frozen step: log-probabilities of every position, padding included."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    mask = labels != -100
    nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    tok = (1 - label_smoothing) * nll - label_smoothing * logp.mean(-1)
    n = mask.sum(1)
    denom = n.clamp(min=1)
    return (tok * mask).sum(1) / denom


def _batches(n: int, vocab: int, max_len: int, batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        length = int(torch.randint(20, max_len + 1, (1,), generator=g))
        lengths = torch.randint(max(4, length - 6), length + 1, (batch,), generator=g)  # a bucketed batch
        src = torch.randint(4, vocab, (batch, length), generator=g)
        tgt = torch.randint(4, vocab, (batch, length), generator=g)
        pos = torch.arange(length)[None, :]
        pad = pos >= lengths[:, None]
        src[pad] = 0
        labels = tgt.masked_fill(pad, -100)
        dec = torch.cat([torch.full((batch, 1), 1), tgt[:, :-1]], 1).masked_fill(pad, 0)
        out.append({"input_ids": src, "attention_mask": (~pad).long(), "decoder_input_ids": dec, "labels": labels})
    return out


def _step_flops(model, batch) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        per_example_loss(logits, batch["labels"], 0.1)[0].mean().backward()
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def run(name: str = "mini", steps: int = 30, device: str = "cpu") -> dict:
    p = preset(name)
    torch.manual_seed(0)
    base = build_model(p.model, "translation", p.vocab_size, 0, 1, 2).to(device)
    batches = [{k: v.to(device) for k, v in b.items()} for b in _batches(steps + 3, p.vocab_size, p.model.max_len, p.batch_size)]
    flops = sum(_step_flops(base, b) for b in batches[3:]) / steps

    def old_step_factory():
        model = copy.deepcopy(base).train()
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-6, foreach=False)

        def step(b):
            logits = model(**{k: v for k, v in b.items() if k != "labels"}).logits
            _old_per_example_loss(logits, b["labels"], 0.1).mean().backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        return step

    def new_step_factory():
        from paperlib import kernels
        from paperlib.train import new_optimizer

        model = copy.deepcopy(base).train()
        kernels.prefer_eager_attention(model, device)
        opt = new_optimizer(model, TrainConfig(plan={"method": "temperature", "steps": 1, "tau": 1}))

        def step(b):
            with kernels.cpu_training(device):
                logits = model(**{k: v for k, v in b.items() if k != "labels"}).logits
            per_example_loss(logits, b["labels"], 0.1)[0].mean().backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        return step

    def seconds_interleaved(factories):
        """Seconds per step of each step function, their steps alternating so that the
        machine's drift (turbo, other load) hits both alike."""
        steps = [f() for f in factories]
        for b in batches[:3]:  # warm-up
            for step in steps:
                step(b)
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        total = [0.0] * len(steps)
        for b in batches[3:]:
            for i, step in enumerate(steps):
                sync()
                start = time.perf_counter()
                step(b)
                sync()
                total[i] += time.perf_counter() - start
        return [t / steps_count for t in total]

    steps_count = steps
    threads = torch.get_num_threads()
    if device == "cpu":  # as runs train (paperlib.train.CPU_THREADS); the peak on the same threads
        from paperlib.train import CPU_THREADS

        torch.set_num_threads(CPU_THREADS)
    try:
        peak = matmul_peak(device)
        old, new = seconds_interleaved([old_step_factory, new_step_factory])
        peak = max(peak, matmul_peak(device))  # measured before and after: the better of the two
        used = torch.get_num_threads()
    finally:
        torch.set_num_threads(threads)
    return {
        "setting": f"{name} model on {device}, {used} thread(s), batch {p.batch_size}, "
                   f"max_len {p.model.max_len}, {steps} steps",
        "step_gflop": flops / 1e9,
        "matmul_peak_gflops": peak / 1e9,
        "useful_flops_fraction": flops / new / peak,
        "old_useful_flops_fraction": flops / old / peak,
        "new_over_old_speed": old / new,
        "target_useful_flops_fraction": 0.5 if device == "cpu" else 0.4,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
