"""paperlib's training loop vs a bare PyTorch loop on the same model and batches.

The bare loop gets the batches our sampler drew, already padded (so it pays nothing for
sampling, bucketing or collation) and does forward, mean token cross-entropy, backward,
AdamW step. The ratio of steps/s shows what the trainer's bookkeeping costs (target
>= 0.9). Useful tokens / processed tokens comes from the trainer's own padding log.

The useful-FLOPs fraction of the trainer on these real batches (FLOPs counted by
torch.utils.flop_counter on every batch, over the matmul peak measured in the same run on
the same threads) is what a reproduction gets; bench_step's is the step on full-length
batches (the figure issue #18 sets a goal for). Real batches are shorter, so their matmuls
are smaller and the per-op costs weigh more."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import torch

from paperlib import store
from paperlib.batches import TaskData, collate, model_inputs
from paperlib.config import DataConfig, EvalConfig, TrainConfig
from paperlib.costs import matmul_peak
from paperlib.sampler import MixtureSampler
from paperlib.train import new_model, train

from .bench_step import _step_flops


def run(steps: int = 60, taskset: str = "hrl_lrl_es", preset: str = "mini", device: str = "cpu") -> dict:
    cfg = TrainConfig(
        experiment="bench",
        data=DataConfig(taskset=taskset, preset=preset),
        plan={"method": "static", "steps": steps, "rates": [0.9, 0.1]},
        eval=EvalConfig(every=steps, train_subset=0, max_valid=8),
        device=device,
    )
    data, plan, _ = store.resolve(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        train(cfg, Path(tmp) / "run", progress=False)
        rows = store.read_metrics(Path(tmp) / "run")
        evals = [r for r in rows if "valid_loss" in r]
        # wall time between the step-0 evaluation and the last one (which includes one small eval)
        ours = steps / (evals[-1]["wall_time"] - evals[0]["wall_time"])
        padding = evals[-1]["padding_fraction"]

    train_data = TaskData.load(data, "train", cfg.model.max_len)
    sampler = MixtureSampler(plan, train_data.lengths(), cfg.batch_size, cfg.seed, cfg.pool_batches)
    batches = [collate(train_data, [(plan.tasks[k], int(i)) for k, i in sampler.batch(s)]) for s in range(steps)]
    torch.manual_seed(cfg.seed)
    model = new_model(cfg, data).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, betas=cfg.optim.betas, eps=cfg.optim.eps)
    batches = [{k: v.to(device) for k, v in b.items()} for b in batches]
    model.train()

    def bare_step(b):
        logits = model(**model_inputs(b)).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), b["labels"].reshape(-1),
                                                 ignore_index=-100, label_smoothing=cfg.optim.label_smoothing)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.clip_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    threads = torch.get_num_threads()
    if device == "cpu":  # on the threads the trainer uses (paperlib.train.CPU_THREADS)
        from paperlib.train import CPU_THREADS

        torch.set_num_threads(CPU_THREADS)
    try:
        for b in batches[:3]:  # warm-up, untimed (favours the baseline)
            bare_step(b)
        sync()
        start = time.perf_counter()
        for b in batches:
            bare_step(b)
        sync()
        bare = steps / (time.perf_counter() - start)
        peak = matmul_peak(device)  # on the threads the steps ran on
    finally:
        torch.set_num_threads(threads)
    flops = sum(_step_flops(model, {**model_inputs(b), "labels": b["labels"]}) for b in batches) / steps
    return {
        "trainer_steps_per_s": ours, "bare_loop_steps_per_s": bare,
        "real_batch_gflop": flops / 1e9, "matmul_peak_gflops": peak / 1e9,
        "trainer_useful_flops_fraction": flops * ours / peak, "bare_useful_flops_fraction": flops * bare / peak,
        "trainer_vs_bare": ours / bare, "target_trainer_vs_bare": 0.9,
        "useful_token_fraction": 1 - padding, "target_useful_token_fraction": 0.85,
        "setting": f"{taskset} ({preset}) on {device}, {steps} steps, batch {cfg.batch_size}, model {dataclasses.asdict(cfg.model)}",
    }
