"""One prepared GPU session: measure what only a GPU can, then train representative groups
of the `gpu` preset, all inside a fixed time budget (lent GPUs come in minutes).

    python -m benchmarks.gpu_session --out DIR --budget 480 [--measure all|decision|none] [--workers 8]

(the plan for a lending, call by call: the header of benchmarks/gpu_session.sh)

1. peak: a bf16 8192³ matrix product, the MFU denominator measured in the same run;
2. model: training steps of the `gpu` preset's model on random full-length batches (bf16
   autocast, fused AdamW) at several batch sizes: steps/s, TFLOP/s (FLOPs counted by
   torch's FlopCounterMode, `paperlib.costs`) and MFU against the measured peak;
3. trainer: synchronising CUDA calls per step of paperlib's training loop (torch's sync
   debug mode; the loop is meant to make none), and one real run of it alone on the GPU
   (steps/s, from the run's own wall-time log); K runs stacked into one vmapped step
   (`paperlib.stacked`), K = 1, 4, 8, 16: run-steps/s and MFU; and paperlib's loop training
   K = 4 and 8 seeds as one stack (`train.train_stack`), evaluations included; with
   `--measure decision`, only one run alone and a stack of 4 (what `--stack-seeds auto`
   decides from), with `--measure none` nothing;
4. groups, in order, while the budget lasts: Upsample or Upweight? Fig. 1 on the preset's
   first pair (τ=1, τ=5, COOLDOWN, three seeds), then Order Matters Fig. 2 there (static,
   restart and pre-train → joint fine-tune, every seed at every rate) with Fig. 6's
   fine-tune-only runs,
   or any notebook's runs by its name (`--groups B4_table3_one_to_many,...`; DoReMi's too):
   `paperlib.runs.get_or_train_many` with `--workers` runs side by side on the one GPU. Each
   group runs in a child process that is stopped at the deadline with the workers it started
   (`run_until`); finished runs are kept, and a run cut off resumes from its last checkpoint
   when the next call on the same (warm) machine asks for it again: `--measure none`
   continues a session. A group trained as stacks that fails before a step is trained again
   alone (`stack_failed`). Per group:
   the run-steps it trained, their FLOPs as the dry run counts them, and its MFU against
   the peak (1.); for all groups together, the rate the dry run charges (`side_by_side`);
5. when Fig. 1's τ=5 run is done: Upsample or Upweight? Fig. 3's gradient statistics at its
   checkpoints, kept in its directory (`gradvar.at_checkpoints`), so B1 draws from the
   shipped run.

The budget counts from this process's start; the measurements (2.-3.) are cut, or not
started, where the last --groups-reserve seconds begin, the trainer's alone-vs-stacked pair
first (what `--stack-seeds auto` decides from).

Everything goes to DIR: gpu_session.json (rewritten after every phase; its `side_by_side`
or `side_by_side_stacked` entry is the groups' measured rate, in the form the dry run charges:
copy it into benchmarks/results_gpu_<device>.json), runs.tar.xz (the run directories without
checkpoints: configs, metrics, per-sentence losses, kept analyses, DONE), packed again after
every group, so that a session killed later still returns them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

STARTED = time.time()
"""When this process started: the budget counts from here (imports take seconds on a cold
machine), and gpu_session.sh passes what is left after its own setup."""

DECISION = "stack_decision.json"
"""Kept in the runs root of the machine by a call that decided `--stack-seeds auto`: a second
call on the warm machine (`--measure none`, which measures nothing to decide from) with auto
takes the same decision, so the runs the first call left unfinished resume as they were. In
the runs root's gpu_bench/, which is not packed."""

GROUPS = ("cooldown_fig1", "order_matters_fig2")  # the cheaper first: one group finishes in a short session
MEASURES = ("all", "decision", "none")


def matmul_peak(n: int = 8192, reps: int = 10) -> float:
    """Measured bf16 matrix-product rate (FLOP/s) on random data."""
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - start)


def model_throughput(preset: str, batch_sizes, peak: float) -> list[dict]:
    """Training steps of the preset's translation model on random full-length batches."""
    from paperlib import costs, presets

    from .bench_gpu import steps_per_second

    p = presets.get(preset)
    per_example = costs.flops_per_example(p.model, "translation", p.vocab_size)
    out = []
    for batch in batch_sizes:
        rate = steps_per_second(p.model, batch, p.vocab_size, bf16=True)
        flops = per_example * batch * rate
        out.append({"batch": batch, "steps_per_s": rate, "tflops": flops / 1e12, "mfu": flops / peak})
    return out


def step_breakdown(preset: str, taskset: str, out: Path, steps: int = 60) -> dict:
    """Steps/s of the trainer's step on real batches, taken apart: fp32 vs bf16, one fixed
    batch shape vs the sampler's varying shapes, torch.autocast vs accelerate's wrapping;
    a torch.profiler table of the accelerate variant goes to out/profile.txt. (This is
    how the cost of cuDNN attention on varying shapes was found: results_gpu_h200.json.)"""
    import torch
    from accelerate import Accelerator

    from paperlib import experiments as E
    from paperlib import methods as M
    from paperlib import store
    from paperlib.batches import TaskData, collate, model_inputs, per_example_loss
    from paperlib.sampler import MixtureSampler
    from paperlib.train import new_model, new_optimizer

    cfg = E.base(preset, taskset, "gpu_bench", M.Static(steps, (0.5, 0.5)), bleu=False)
    data, plan, _ = store.resolve(cfg)
    train_data = TaskData.load(data, "train", cfg.model.max_len)
    sampler = MixtureSampler(plan, train_data.lengths(), cfg.batch_size, cfg.seed, cfg.pool_batches)
    batches = [collate(train_data, [(plan.tasks[k], int(i)) for k, i in sampler.batch(s)]) for s in range(steps)]
    result = {}

    def loop(name, batches, bf16, accelerate=False, profile=False):
        torch.manual_seed(0)
        model = new_model(cfg, data).cuda()
        opt = new_optimizer(model, cfg)
        if accelerate:
            acc = Accelerator(mixed_precision="bf16" if bf16 else "no")
            model, opt = acc.prepare(model), acc.prepare(opt)
            autocast, backward, clip = acc.autocast, acc.backward, acc.clip_grad_norm_
        else:
            autocast = lambda: torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16)  # noqa: E731
            backward, clip = (lambda loss: loss.backward()), torch.nn.utils.clip_grad_norm_

        def step(b):
            with autocast():
                logits = model(**{k: v.cuda() for k, v in model_inputs(b).items()}).logits
            ex_loss, ex_nll, ex_tokens = per_example_loss(logits, b["labels"].cuda(), 0.1)
            loss = ex_loss.mean()
            backward(loss)
            norm = clip(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.item(), float(norm), ex_tokens.cpu()

        for b in batches[:5]:
            step(b)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for b in batches[5:]:
            step(b)
        torch.cuda.synchronize()
        result[name] = (len(batches) - 5) / (time.perf_counter() - start)
        if profile:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as torch_profile

            with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                for b in batches[5:15]:
                    step(b)
                torch.cuda.synchronize()
            table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)
            table += "\n" + prof.key_averages().table(sort_by="cuda_time_total", row_limit=15)
            (out / "profile.txt").write_text(table)
            print(table[:6000], flush=True)

    loop("fp32_varying_shapes", batches, bf16=False)
    loop("bf16_one_shape", [batches[0]] * steps, bf16=True)
    loop("bf16_varying_shapes", batches, bf16=True)
    loop("bf16_accelerate_varying_shapes", batches, bf16=True, accelerate=True, profile=True)
    return {"steps_per_s": result, "batch": cfg.batch_size}


@contextlib.contextmanager
def _masks(host: bool):
    """The loop's attention masks: built on the host (its default with transformers >= 5), or
    transformers' own from the 2-D mask (which read the mask on the GPU, but leave the
    unpadded and causal cases to SDPA's flash kernel): the measurement decides."""
    from paperlib import kernels

    default = kernels.masks_pass_through
    if not host:
        kernels.masks_pass_through = lambda: False
    try:
        yield
    finally:
        kernels.masks_pass_through = default


def _bench_config(preset: str, taskset: str, steps: int):
    """A static run of `steps` steps at the preset's sizes, evaluated at its start and end only."""
    import dataclasses

    from paperlib import experiments as E
    from paperlib import methods as M

    cfg = E.base(preset, taskset, "gpu_bench", M.Static(steps, (0.5, 0.5)), bleu=False)
    return dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, every=steps))


def _steps_per_s(run_dir: Path, steps: int) -> float:
    """A run's steps/s between its first and its last evaluation (from its wall-time log)."""
    from paperlib import store

    rows = [r for r in store.read_metrics(run_dir) if "valid_loss" in r]
    return steps / (rows[-1]["wall_time"] - rows[0]["wall_time"])


class OutOfTime(BaseException):
    """A phase's time is up. Not an Exception (TimeoutError is an OSError, which the library's
    `except OSError` around file reads would swallow, and the phase would run on): only
    `phase` catches it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raises OutOfTime in this (main) thread after `seconds` (at the next Python bytecode:
    a GPU kernel already launched finishes first), so one phase cannot eat the groups' time."""
    def stop(*_):
        raise OutOfTime(f"stopped after {seconds:.0f} s: the budget's time for it was up")

    if seconds <= 0:
        raise OutOfTime("not started: the budget's time for it was up")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _with_math_attention_retry(fn, device: str = "cuda"):
    """fn(), or its error -- then, on a GPU, fn() again on the math attention kernel, whose
    vmap rules are plain ones (a GPU attention kernel's may be missing or wrong)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 -- e.g. a vmap rule of the GPU's attention kernel
        failed = {"error": f"{type(exc).__name__}: {exc}"[:400]}
    if device == "cuda":
        from torch.nn.attention import SDPBackend, sdpa_kernel

        try:
            with sdpa_kernel(SDPBackend.MATH):
                failed["math_attention"] = fn()
        except Exception as exc:  # noqa: BLE001
            failed["math_attention"] = {"error": f"{type(exc).__name__}: {exc}"[:400]}
    return failed


def trainer_alone(preset: str, taskset: str, runs_root: Path, steps: int = 400, masks=(True, False)) -> dict:
    """paperlib's loop, one run alone on the GPU, with host-built and (unless `masks` says
    (True,): what the trainer uses with transformers >= 5, and all `stacking_pays` reads)
    with 2-D masks: steps/s between its first and last evaluation."""
    from paperlib.runs import Settings, get_or_train

    cfg = _bench_config(preset, taskset, steps)
    out = {"steps": steps, "batch": cfg.batch_size}
    for host in masks:
        with _masks(host):
            bench_root = runs_root / "gpu_bench" / ("trainer_host_masks" if host else "trainer_2d_masks")
            run = get_or_train(cfg, Settings(runs_root=bench_root, progress=False))
        out["steps_per_s" + ("" if host else "_2d_masks")] = _steps_per_s(run.dir, steps)
    return out


def trainer_stacked(preset: str, taskset: str, runs_root: Path, stacks=(4, 8), steps: int = 200,
                    device: str = "cuda") -> dict:
    """paperlib's loop training K seeds as one stack (`train.train_stack`, what a preset with
    stacked seeds would train): run-steps/s (K x steps/s between its first run's first and
    last evaluation: the other runs' step-0 evaluations and its own last one, K in all, as
    trainer_alone's window holds one run's one) against trainer_alone's steps/s. A K that
    fails is recorded, and no larger K is tried: no retry on the math attention kernel
    either, since the groups would not train on it (`stacking_pays` reads the first K only)."""
    import dataclasses

    from paperlib import config
    from paperlib.train import train_stack

    cfg = _bench_config(preset, taskset, steps)
    out = {"steps": steps, "batch": cfg.batch_size}
    for k in stacks:
        stack = config.stack_configs(dataclasses.replace(cfg, seed=0, stack_seeds=tuple(range(k))))
        dirs = [runs_root / "gpu_bench" / f"trainer_stacked_{k}" / str(c.seed) for c in stack]

        def run():
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)
            train_stack(stack, dirs, progress=False)
            return {"run_steps_per_s": k * _steps_per_s(dirs[0], steps)}

        try:
            out[k] = run()
        except Exception as exc:  # noqa: BLE001 -- e.g. a vmap rule of the GPU's attention kernel
            out[k] = {"error": f"{type(exc).__name__}: {exc}"[:400]}
        print(f"  trainer stacked K={k}: {json.dumps(out[k], default=str)[:300]}", flush=True)
        if "error" in out[k]:
            break
    return out


def host_syncs(preset: str, taskset: str, runs_root: Path, steps: tuple[int, int] = (20, 40)) -> dict:
    """Synchronising CUDA calls per step of paperlib's training loop, counted by torch's sync
    debug mode (each `.item()`, blocking copy, `nonzero`, ... warns), from two runs that
    differ only in length: their evaluations at both ends cancel in the difference. Each
    such call makes the host wait for the GPU; with host-built masks the loop is meant to
    make none (with 2-D masks, transformers' checks make some)."""
    import warnings

    import torch

    from paperlib.train import train

    out = {}
    for host in (True, False):
        counts = {}
        for n in steps:
            cfg = _bench_config(preset, taskset, n)
            run_dir = runs_root / "gpu_bench" / f"host_syncs_{n}_{'host' if host else '2d'}"
            shutil.rmtree(run_dir, ignore_errors=True)  # a finished run would return at once: 0 syncs
            torch.cuda.set_sync_debug_mode("warn")
            try:
                with warnings.catch_warnings(record=True) as caught, _masks(host):
                    warnings.simplefilter("always")
                    train(cfg, run_dir, progress=False)
            finally:
                torch.cuda.set_sync_debug_mode(0)
            counts[n] = sum("synchroniz" in str(w.message) for w in caught)
        short, long = steps
        out["host_masks" if host else "2d_masks"] = {"per_step": (counts[long] - counts[short]) / (long - short),
                                                     "counts": counts}
    return out


def stacked_throughput(preset: str, taskset: str, peak: float, stacks=(1, 4, 8, 16), steps: int = 25,
                       device: str = "cuda") -> dict:
    """Steps/s of K runs trained as one (`paperlib.stacked`: vmapped forward and backward,
    one fused AdamW over the stacked parameters) on the sampler's real batches, bf16
    autocast, dropout as the preset has it. run_steps_per_s = K x stack steps/s: against
    the trainer alone and side by side, whether stacking is worth building into the loop.
    First, whether the stacked step equals separate steps on this device (dropout 0, fp32).
    A K that fails is recorded and tried again on the math attention kernel."""
    from paperlib import costs
    from paperlib import experiments as E
    from paperlib import methods as M
    from paperlib import presets, store
    from paperlib.batches import TaskData

    cfg = E.base(preset, taskset, "gpu_bench", M.Static(steps, (0.5, 0.5)), bleu=False)
    data, plan, _ = store.resolve(cfg)
    train_data = TaskData.load(data, "train", cfg.model.max_len)
    p = presets.get(preset)
    per_example = costs.flops_per_example(p.model, "translation", p.vocab_size)
    out = {"note": "TFLOP/s and MFU count full-length (64+64-token) examples: an upper bound on "
                   "these real batches; compare run_steps_per_s with trainer_alone and the groups"}

    out["matches_separate_steps"] = _with_math_attention_retry(
        lambda: _stacked_vs_separate(cfg, data, plan, train_data, device), device)
    print(f"  stacked vs separate: {json.dumps(out['matches_separate_steps'], default=str)[:300]}", flush=True)
    for k in stacks:
        out[k] = _with_math_attention_retry(
            lambda: _time_stack(cfg, data, plan, train_data, k, steps, device, per_example, peak), device)
        print(f"  stacked K={k}: {json.dumps(out[k], default=str)[:300]}", flush=True)
    return out


def _stack_batches(cfg, data, plan, train_data, k: int, steps: int, device: str):
    """Per step: (stacked inputs, labels, weights) on the device, run r drawing with seed r;
    and the runs' own collated batches."""
    import torch

    from paperlib.batches import collate
    from paperlib.sampler import MixtureSampler
    from paperlib.stacked import stacked_inputs
    from paperlib.train import to_device

    samplers = [MixtureSampler(plan, train_data.lengths(), cfg.batch_size, seed, cfg.pool_batches) for seed in range(k)]
    stacked, separate = [], []
    for step in range(steps):
        runs = [collate(train_data, [(plan.tasks[t], int(i)) for t, i in s.batch(step)]) for s in samplers]
        inputs, labels = stacked_inputs(runs, data.kind, data.tokenizer.pad_id, cfg.model.max_len)
        stacked.append((to_device(inputs, device), labels.to(device), torch.ones(labels.shape[:2], device=device)))
        separate.append(runs)
    return stacked, separate


def _new_models(cfg, data, k: int, device: str):
    import torch

    from paperlib.train import new_model

    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(new_model(cfg, data).to(device))
    return models


def _stacked_vs_separate(cfg, data, plan, train_data, device: str, k: int = 2, steps: int = 3) -> dict:
    """Largest differences between 3 stacked steps of 2 runs and the same steps taken by each
    model alone (the loop's step: fused AdamW on a GPU), dropout 0 and fp32 (TF32 off)."""
    import dataclasses

    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, dropout=0.0, attention_dropout=0.0))
    with _no_tf32():  # fp32 as the CPU tests compare it: TF32's rounding would hide what stacking changes
        return _compare_stacked_and_separate(cfg, data, plan, train_data, device, k, steps)


@contextlib.contextmanager
def _no_tf32():
    import torch

    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def _compare_stacked_and_separate(cfg, data, plan, train_data, device: str, k: int, steps: int) -> dict:
    import copy

    import torch

    from paperlib.batches import model_inputs, per_example_loss
    from paperlib.stacked import Stack, stacked_step
    from paperlib.train import new_optimizer

    stacked, separate = _stack_batches(cfg, data, plan, train_data, k, steps, device)
    models = _new_models(cfg, data, k, device)
    alone = [copy.deepcopy(m) for m in models]
    stack = Stack(models)
    stack_opt, opts = new_optimizer(stack.parameters(), cfg), [new_optimizer(m, cfg) for m in alone]
    loss_gap = 0.0
    for step in range(steps):
        loss, *_ = stacked_step(stack, stack_opt, *stacked[step], cfg.optim.label_smoothing, cfg.optim.clip_norm)
        for r, (model, opt) in enumerate(zip(alone, opts)):
            batch = {key: v.to(device) for key, v in separate[step][r].items() if key != "real_tokens" and key != "padded_tokens"}
            one = per_example_loss(model(**model_inputs(batch)).logits, batch["labels"], cfg.optim.label_smoothing)[0].mean()
            one.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.clip_norm or float("inf"))
            opt.step()
            opt.zero_grad(set_to_none=True)
            loss_gap = max(loss_gap, abs(loss[r].item() - one.item()))
    param_gap = max(float((stack.state_dict(r)[name] - p.detach()).abs().max())
                    for r, model in enumerate(alone) for name, p in model.named_parameters())
    return {"runs": k, "steps": steps, "max_loss_difference": loss_gap, "max_parameter_difference": param_gap}


def _time_stack(cfg, data, plan, train_data, k: int, steps: int, device: str, per_example: float, peak: float) -> dict:
    import warnings

    import torch

    from paperlib.stacked import Stack, stacked_step
    from paperlib.train import new_optimizer

    cuda = device == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    batches, _ = _stack_batches(cfg, data, plan, train_data, k, steps, device)
    stack = Stack(_new_models(cfg, data, k, device))
    optimizer = new_optimizer(stack.parameters(), cfg)
    sync = torch.cuda.synchronize if cuda else lambda: None
    bf16 = lambda: torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)  # noqa: E731
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for b in batches[:3]:
            stacked_step(stack, optimizer, *b, cfg.optim.label_smoothing, cfg.optim.clip_norm, bf16)
    sync()
    start = time.perf_counter()
    for b in batches[3:]:
        stacked_step(stack, optimizer, *b, cfg.optim.label_smoothing, cfg.optim.clip_norm, bf16)
    sync()
    rate = (steps - 3) / (time.perf_counter() - start)
    flops = per_example * cfg.batch_size * k * rate
    return {"stack_steps_per_s": rate, "run_steps_per_s": k * rate, "tflops": flops / 1e12, "mfu": flops / peak,
            "memory_gb": torch.cuda.max_memory_allocated() / 1e9 if cuda else None,
            "vmap_fallbacks": sorted({str(w.message)[:120] for w in caught if "batching rule" in str(w.message)})}


def gradient_variance(preset: str, taskset: str, runs_root: Path, device: str = "cuda") -> dict:
    """Upsample or Upweight? Fig. 3's gradient statistics at Fig. 1's τ=5 run (seed 0, trained by
    the cooldown group), measured here on the GPU with the notebook's own settings and kept in
    the run's directory, which the tarball ships: B1 then draws from shipped runs, which have
    no checkpoints."""
    found, missing = _fig3_checkpoints(preset, taskset, runs_root)
    if missing:
        return {"skipped": f"not trained yet: {', '.join(missing)}"}
    results = _fig3_statistics(found, preset, device)
    return {name: {"norm_variance_ts": r["TS"]["norm_variance"], "norm_variance_s": r["S"]["norm_variance"]}
            for name, r in results.items()}


def _fig3_checkpoints(preset: str, taskset: str, runs_root: Path) -> tuple[dict, list[str]]:
    """Fig. 3's checkpoints ({name: its finished run, or None for the initialisation}) and the
    names of those not trained yet."""
    from paperlib import experiments as E
    from paperlib import store

    points = E.gradient_variance_checkpoints(preset, taskset)
    found = {name: None if c is None else store.find_done(c, runs_root) for name, c in points.items()}
    return found, [name for name, c in points.items() if c is not None and found[name] is None]


def _fig3_statistics(found: dict, preset: str, device: str = "cpu", compute: bool = True) -> dict:
    """`gradvar.at_checkpoints` with the notebook's settings (B1: τ=5, seed 0)."""
    from paperlib import gradvar, presets

    s = presets.get(preset)
    return gradvar.at_checkpoints(found, 5.0, s.gradvar_batches, s.gradvar_per_task, seed=0, device=device,
                                  compute=compute)


def fig3_statistics_kept(preset: str, taskset: str, runs_root: Path) -> bool:
    """Whether an earlier call measured Fig. 3's statistics at every checkpoint (`gradient_variance`)."""
    from paperlib import store

    found, missing = _fig3_checkpoints(preset, taskset, runs_root)
    if missing:
        return False
    try:
        _fig3_statistics(found, preset, compute=False)
    except store.MissingRun:
        return False
    return True


def group_configs(name: str, preset: str, taskset: str):
    from paperlib import experiments as E

    if name == "order_matters_fig2":
        grid = E.order_matters_nmt_grid(preset, [taskset], "order_matters_nmt")
        return grid + [g for g in E.finetune_only_runs(preset, taskset) if g[1]["method"] == "fine-tune on LRL only"]
    if name == "cooldown_fig1":
        return E.cooldown_runs(preset, taskset)
    by_notebook = E.notebook_runs(preset)  # any notebook's runs at its default parameters
    if name in by_notebook:
        return by_notebook[name]
    raise ValueError(f"unknown group {name!r}; valid: {', '.join(GROUPS)}, or a notebook: {', '.join(by_notebook)}")


def train_group(name: str, preset: str, taskset: str, runs_root: Path, workers: int) -> None:
    """(In the child process.) Every run of the group, `workers` side by side; a notebook
    that learns DoReMi weights then learns them and trains its DoReMi runs, as it would."""
    from paperlib import doremi
    from paperlib import experiments as E
    from paperlib.executors import Executor
    from paperlib.runs import Settings, get_or_train_many

    settings = Settings(runs_root=runs_root, executor=Executor(workers=workers), progress=True)
    get_or_train_many([c for c, _ in group_configs(name, preset, taskset)], settings)
    if name in E.DOREMI_NOTEBOOKS:
        doremi_taskset, experiment = E.doremi_taskset(name)
        proxy = E.doremi_proxy_config(preset, doremi_taskset, experiment)
        weights = doremi.learn_weights(proxy, proxy.plan.steps, settings=settings)
        get_or_train_many([c for c, _ in E.doremi_runs(preset, doremi_taskset, weights, experiment)], settings)


def group_summary(name: str, preset: str, taskset: str, runs_root: Path) -> dict:
    """The group's runs, done or not, with their final numbers; a DoReMi notebook's weights
    (a row until learned) and then its DoReMi runs too."""
    from paperlib import doremi, store
    from paperlib import experiments as E

    runs, grid = [], group_configs(name, preset, taskset)
    if name in E.DOREMI_NOTEBOOKS:
        doremi_taskset, experiment = E.doremi_taskset(name)
        proxy = E.doremi_proxy_config(preset, doremi_taskset, experiment)
        weights = doremi.learned_weights(proxy, proxy.plan.steps, runs_root=runs_root)
        if weights is None:
            runs.append({"done": False, "method": "DoReMi weights (reference and proxy models)"})
        else:
            grid = grid + E.doremi_runs(preset, doremi_taskset, weights, experiment)
    for cfg, labels in grid:
        found = store.find_done(cfg, runs_root)
        row = {k: v for k, v in labels.items() if k != "lr"}
        if found is not None:
            rows = store.read_metrics(found.dir)
            last = [r for r in rows if "valid_loss" in r][-1]
            row.update(valid_loss=last["valid_loss"], bleu=rows[-1].get("bleu"), wall_time=rows[-1].get("wall_time"))
        runs.append({"done": found is not None, **row})
    return {"runs": runs, "done": sum(r["done"] for r in runs), "of": len(runs)}


def trained_steps(runs_root: Path) -> dict[str, tuple[int, object]]:
    """{run directory: (the steps it has trained itself, its config)}, the steps as the
    scheduler's progress counts them (`runs.steps_done`: from where it forked to its last
    evaluation). The benchmark phases' runs are left out. Taken before and after a group, the
    difference is the group's work (a run that started again behind its last row, having no
    checkpoint, is counted from that row on: an undercount, which a warm continuation does
    not meet)."""
    from paperlib import runs
    from paperlib.config import from_dict

    out = {}
    for config in runs_root.glob("*/*/config.json"):
        run = config.parent
        if run.relative_to(runs_root).parts[0] in ("gpu_bench", "_jobs"):
            continue
        try:
            cfg = from_dict(json.loads(config.read_text())["config"])
        except (OSError, ValueError, KeyError):  # a run being created
            continue
        out[str(run)] = (runs.steps_done(cfg, run), cfg)
    return out


def doremi_proxy_work(name: str, preset: str, runs_root: Path) -> tuple[int, float]:
    """(steps, training FLOPs) of a DoReMi notebook's proxy model once its weights are learned
    (it trains inside `doremi.learn_weights`, without a run directory of its own), else (0, 0)."""
    from paperlib import costs, doremi
    from paperlib import experiments as E

    if name not in E.DOREMI_NOTEBOOKS:
        return 0, 0.0
    proxy = E.doremi_proxy_config(preset, *E.doremi_taskset(name))
    if doremi.learned_weights(proxy, proxy.plan.steps, runs_root=runs_root) is None:
        return 0, 0.0
    return proxy.plan.steps, proxy.plan.steps * costs.flops_per_step(proxy)


def group_flops(grew: dict[str, tuple[int, object]]) -> float:
    """Training FLOPs of a group's runs ({run directory: (steps it trained, its config)}), each
    step counted as the dry run counts it (`costs.flops_per_step`): with a DoReMi proxy's
    (`doremi_proxy_work`), the numerator of the group's MFU."""
    from paperlib import costs

    return sum(steps * costs.flops_per_step(cfg) for steps, cfg in grew.values())


def side_by_side(groups: dict, preset: str, taskset: str, workers: int, stacked: bool, peak: float | None = None) -> dict:
    """The measured rate of the groups' runs trained side by side (as stacks of seeds where
    `stacked`), in the form `paperlib.costs.measured_throughput` charges a preset at: copy it
    into benchmarks/results_gpu_<device>.json under `costs.SIDE_BY_SIDE[stacked]`. Steps are
    run-steps (a stack of K seeds makes K per step), wall time is each group's whole child
    process: start-up, evaluations and BLEU included; MFU: the groups' training FLOPs
    (`group_flops`) over that wall time and the bf16 peak measured in the same call. Each
    device call writes its own: to join two calls' entries, add their `steps`, `flops` and
    `wall_s` and divide again. Only the groups that finished count while any did: a group cut
    at the deadline spent its last minutes on runs waiting for a prefix, a rate below the
    whole group's (if none finished, all count, and `partial` names them)."""
    from paperlib import presets

    trained = {n: g for n, g in groups.items() if g.get("run_steps")}
    finished = {n: g for n, g in trained.items() if g.get("done") == g.get("of") != 0}  # 0 of 0: no summary
    partial = [] if finished else list(trained)
    trained = finished or trained
    steps, wall = sum(g["run_steps"] for g in trained.values()), sum(g["wall_s"] for g in trained.values())
    flops = sum(g["flops"] for g in trained.values())
    return {"preset": preset, "taskset": taskset, "workers": workers, "stacked": stacked,
            "stack": len(presets.get(preset).seeds) if stacked else 1, "groups": list(trained),
            "runs": sum(g["runs_trained"] for g in trained.values()), "steps": steps,
            "wall_s": round(wall, 1), "aggregate_steps_per_s": round(steps / wall, 1) if wall else None,
            "flops": flops, "mfu": flops / wall / peak if wall and peak else None,
            **({"partial": partial} if partial else {})}


def pack_runs(runs_root: Path, out: Path) -> None:
    """The run directories without checkpoints (what figures read), in out/runs.tar.xz."""
    partial = out / "runs.tar.xz.partial"
    with tarfile.open(partial, "w:xz") as tar:
        for path in sorted(runs_root.rglob("*")):
            rel = path.relative_to(runs_root)
            # unfinished runs too: their metrics show the throughput of runs side by side
            if path.is_file() and "ckpt" not in rel.parts and rel.parts[0] not in ("gpu_bench", "_jobs"):
                tar.add(path, arcname=str(Path("runs") / rel))
    partial.replace(out / "runs.tar.xz")  # a pack cut short never replaces a whole one


def _stack_the_presets_seeds(preset: str, on: bool = True) -> None:
    """`--stack-seeds`: the preset's configurations name their stack of seeds from here on, in
    this process (the group's child, the summaries, Fig. 3's statistics); its workers get
    configs that name their stack. `on=False`: they do not (a group that trains alone)."""
    import dataclasses

    from paperlib import presets

    presets.PRESETS[preset] = dataclasses.replace(presets.get(preset), stack_seeds=on)


def stack_failed(code, run_steps: int) -> bool:
    """Whether a group trained as stacks failed in a way that training alone may not: its child
    exited with an error (not cut at the deadline) before any run reached its first evaluation
    (`trained_steps` counts to the last one). That catches a stack that cannot start (building,
    a first step, a first evaluation); a fork, phase reset or BLEU failing later, after steps
    are trained, is left as it is, recorded in the group's exit."""
    return isinstance(code, int) and code != 0 and run_steps == 0


def run_until(cmd: list[str], seconds: float, grace: float = 10):
    """cmd's exit code, or "stopped at the deadline" after `seconds`, when it is stopped with
    every process it started (TERM, then KILL after `grace` seconds): a group's workers train
    on the GPU in processes of their own, which would otherwise go on beside the packing and
    Fig. 3's statistics. The group is stopped on any way out of here (this process stopped
    too: `main` turns SIGTERM into SystemExit). A process group, not a session of its own: the
    device tool ends what a command leaves running, except a new session, which would train on
    into the next call holding the runs' locks."""
    import os

    # process_group=0 from Python 3.11 on; setpgrp in the child before 3.11
    group = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
    child = subprocess.Popen(cmd, **group)

    def signal_group(sig):
        with contextlib.suppress(ProcessLookupError):  # the whole group has ended
            os.killpg(child.pid, sig)

    try:
        return child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        signal_group(signal.SIGTERM)  # a run's files are written atomically: any moment is safe
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=grace)
        return "stopped at the deadline"
    finally:
        signal_group(signal.SIGKILL)  # what is left of the group: workers outlive their parent
        child.wait()


def stacking_pays(alone: dict, stacked: dict, ratio: float) -> tuple[bool, str]:
    """`--stack-seeds auto`: whether the groups train their seeds as stacks, and why. Yes when
    paperlib's loop trained a stack of 4 seeds (`trainer_stacked`, on the attention kernel the
    groups would use: not only in the math-kernel retry) at `ratio` times or more the
    run-steps/s of one run alone (`trainer_alone`). With ratio above what runs side by side
    already gain (102 vs 39 steps/s on an H200: 2.6x), one stack alone beats eight
    processes, and the groups' workers then each train a stack."""
    rate = (stacked or {}).get(4, {}).get("run_steps_per_s") if isinstance((stacked or {}).get(4), dict) else None
    base = (alone or {}).get("steps_per_s")
    if not rate or not base:
        return False, f"not measured (one run alone: {base}; a stack of 4: {rate} run-steps/s): the groups train alone"
    verdict = rate >= ratio * base
    return verdict, (f"a stack of 4 made {rate:.1f} run-steps/s, {rate / base:.2f}x one run alone ({base:.1f}); "
                     f"{'at least' if verdict else 'below'} {ratio:g}x: the groups train "
                     f"{'as stacks' if verdict else 'alone'}")


def auto_stacking(no_measure: bool, runs_root: Path, result: dict, ratio: float) -> tuple[bool, str]:
    """`--stack-seeds auto`: this call's decision (`stacking_pays`), kept in runs_root; or, in
    a call that measured nothing (`--measure none`), the decision an earlier call kept there --
    a ValueError when there is none (a fresh machine): training alone then could start runs of
    another identity than the first call's stacked ones."""
    if no_measure:
        earlier = kept_decision(runs_root)
        if earlier is not None:
            return bool(earlier["stack"]), f"as an earlier call decided: {earlier['why']}"
        raise ValueError("--stack-seeds auto with --measure none: no earlier call on this machine kept a decision "
                         "(a fresh machine?); pass --stack-seeds on, or nothing, as the first call's "
                         "gpu_session.json says (stack_seeds)")
    stack, why = stacking_pays(result.get("trainer_alone"), result.get("trainer_stacked"), ratio)
    keep_decision(runs_root, stack, why)
    return stack, why


def _decision_file(runs_root: Path) -> Path:
    return runs_root / "gpu_bench" / DECISION  # not packed: gpu_bench holds what only this machine reads


def keep_decision(runs_root: Path, stack: bool, why: str, alone=()) -> None:
    """What a later `--stack-seeds auto --measure none` call on this machine takes (`auto_stacking`),
    with the groups that train alone even so (`kept_alone`)."""
    kept = _decision_file(runs_root)
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps({"stack": stack, "why": why, "alone": sorted(alone)}) + "\n")


def kept_decision(runs_root: Path) -> dict | None:
    """The decision an earlier call on this machine kept ({stack, why, alone}), or None."""
    kept = _decision_file(runs_root)
    return json.loads(kept.read_text()) if kept.exists() else None


def kept_alone(runs_root: Path) -> set[str]:
    """The groups an earlier call on this machine trained alone after their stacks failed
    (`stack_failed`): a continuation trains them alone too, so that its runs are theirs."""
    return set((kept_decision(runs_root) or {}).get("alone", ()))


def costs_key(stacked: bool) -> str:
    """The key of gpu_session.json (and of results_gpu_*.json) that holds the groups' rate."""
    from paperlib.costs import SIDE_BY_SIDE

    return SIDE_BY_SIDE[stacked]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_session")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=480,
                        help="seconds for everything, counted from this process's start (the groups stop at it)")
    parser.add_argument("--groups-reserve", type=float, default=240,
                        help="seconds of the budget the measurements leave to the groups: a measurement that "
                             "would run into them is cut or not started")
    parser.add_argument("--workers", type=int, default=12, help="runs side by side on the GPU")
    parser.add_argument("--preset", default="gpu")
    parser.add_argument("--taskset", help="default: the preset's first HRL+LRL pair")
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"which groups, in order (default {','.join(GROUPS)}; or notebook names)")
    parser.add_argument("--measure", choices=MEASURES, default="all",
                        help="all: the model and trainer measurements before the groups; decision: only what "
                             "--stack-seeds auto decides from (one run alone, a stack of 4: about a minute; the "
                             "first call of a short lending); none: nothing (a second call on a warm machine). "
                             "The bf16 peak, which each group's MFU divides by, is measured in any case (seconds)")
    parser.add_argument("--no-measure", dest="measure", action="store_const", const="none", help="--measure none")
    parser.add_argument("--runs-root", type=Path, default=Path("runs"))
    parser.add_argument("--no-diagnostics", action="store_true", help="skip the step breakdown (~1 min)")
    parser.add_argument("--stack-ratio", type=float, default=2.5,
                        help="--stack-seeds auto stacks when a stack of 4 makes this many times one run's steps/s")
    parser.add_argument("--stack-seeds", nargs="?", const="on", default="off", choices=("on", "off", "auto"),
                        help="on (the flag alone): train the groups' seeds as stacks (Preset.stack_seeds); auto: "
                             "only if this call's trainer phases show that it pays (`stacking_pays`), or, with "
                             "--measure none, as an earlier call on this machine decided (gpu_bench/"
                             f"{DECISION} in the runs root; refused when there is none). Stacked runs are found by "
                             "the notebooks once the preset stacks too")
    parser.add_argument("--group", help=argparse.SUPPRESS)  # the child process of one group
    args = parser.parse_args()
    from paperlib import experiments as E

    if args.taskset is None:
        args.taskset = E.pair(args.preset)
    if args.group:  # the flag decides, not the preset's default (which says True once stacked runs are shipped)
        _stack_the_presets_seeds(args.preset, on=args.stack_seeds == "on")
        train_group(args.group, args.preset, args.taskset, args.runs_root, args.workers)
        return
    trains = tuple(E.notebook_runs(args.preset))  # the notebooks that train runs (not the theory's)
    unknown = [g for g in args.groups.split(",") if g not in GROUPS + trains]
    if unknown:  # before the GPU time is spent: a typo would otherwise end the session unpacked
        parser.error(f"unknown group(s) {', '.join(unknown)}; valid: {', '.join(GROUPS)}, or a notebook: "
                     f"{', '.join(trains)}")

    from paperlib.kernels import masks_pass_through

    can_stack = masks_pass_through()
    if args.stack_seeds == "on" and not can_stack:  # before the GPU time is spent
        import transformers

        parser.error(f"--stack-seeds: stacked training needs transformers >= 5, this image has "
                     f"{transformers.__version__}; train unstacked (no flag) or with auto")
    no_measure = args.measure == "none"
    if args.stack_seeds == "auto" and no_measure:
        try:  # a fresh machine keeps no decision: refused before the GPU time is spent
            auto_stacking(True, args.runs_root, {}, args.stack_ratio)
        except ValueError as exc:
            parser.error(str(exc))
    import torch

    # stopped from outside (the device tool at its limit): unwind, so that a group's child is
    # stopped with its workers (`run_until`) instead of training on into the next call
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = STARTED
    deadline = t0 + args.budget
    measure_until = deadline - args.groups_reserve
    args.out.mkdir(parents=True, exist_ok=True)
    import transformers

    result: dict = {"preset": args.preset, "taskset": args.taskset, "workers": args.workers,
                    "stack_seeds": args.stack_seeds,
                    "torch": torch.__version__, "transformers": transformers.__version__,
                    "cuda": torch.cuda.is_available()}

    def save():
        result["elapsed_s"] = time.time() - t0
        (args.out / "gpu_session.json").write_text(json.dumps(result, indent=1, default=str) + "\n")

    def phase(name, fn, until=None):
        """fn() as result[name], cut at `until` (default: where the groups' reserve begins)."""
        start = time.time()
        try:
            with _time_limit((until or measure_until) - start):
                result[name] = fn()
        except (Exception, OutOfTime) as exc:  # one phase failing must not lose the others' numbers
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        result.setdefault("phase_seconds", {})[name] = time.time() - start
        print(f"[{time.time() - t0:6.0f}s] {name}: {json.dumps(result[name], default=str)[:600]}", flush=True)
        save()

    if torch.cuda.is_available():  # the peak every MFU here divides by, measured in this call (seconds)
        result["device"] = torch.cuda.get_device_name()
        phase("peak_bf16_flops", matmul_peak, until=deadline - 60)
    peak = result.get("peak_bf16_flops") if isinstance(result.get("peak_bf16_flops"), float) else None
    gpu = torch.cuda.is_available()
    decision_only = args.measure == "decision"
    skipped = {"skipped": f"stacked training needs transformers >= 5 (masks built on the host); this image has "
                          f"{transformers.__version__}"}
    _stack_the_presets_seeds(args.preset, on=False)  # the measurements' "one run alone" is one run, whatever the preset says
    if not no_measure:
        if gpu:
            from paperlib.train import use_gpu_kernels_for_varying_shapes

            use_gpu_kernels_for_varying_shapes()  # as the trainer does (cuDNN attention off: see its doc)
        # first what --stack-seeds auto decides from, so that a cut leaves the decision whole
        phase("trainer_alone", lambda: trainer_alone(args.preset, args.taskset, args.runs_root,
                                                     masks=(True,) if decision_only else (True, False)))
        if not can_stack:
            result["trainer_stacked"] = skipped
        elif gpu:
            phase("trainer_stacked", lambda: trainer_stacked(args.preset, args.taskset, args.runs_root,
                                                             stacks=(4,) if decision_only else (4, 8)))
    if gpu and args.measure == "all":
        phase("model", lambda: model_throughput(args.preset, (128, 512), peak or 989e12))
        phase("host_syncs", lambda: host_syncs(args.preset, args.taskset, args.runs_root))
        if can_stack:
            phase("stacked", lambda: stacked_throughput(args.preset, args.taskset, peak or 989e12))
        else:
            result["stacked"] = skipped
        if not args.no_diagnostics:
            phase("step_breakdown", lambda: step_breakdown(args.preset, args.taskset, args.out))
    stack = args.stack_seeds == "on"
    if args.stack_seeds == "auto":
        stack, result["stack_decision"] = auto_stacking(no_measure, args.runs_root, result, args.stack_ratio)
        print(f"[{time.time() - t0:6.0f}s] stack seeds: {result['stack_decision']}", flush=True)
    result["stack_seeds"] = stack
    save()
    groups = args.groups.split(",")
    # groups whose stacks failed before a step, in this call or an earlier one on this machine:
    # they train alone, the other groups as decided (stacked runs are other runs)
    alone = kept_alone(args.runs_root) if no_measure else set()
    result["groups_alone"] = sorted(alone)

    def stacked(group: str) -> bool:
        return stack and group not in alone

    def rates() -> None:
        """The groups' rate (`side_by_side`) under the key of each way they trained."""
        for way in (True, False):
            rate = side_by_side({g: result[g] for g in groups if result.get(g, {}).get("stacked") == way},
                                args.preset, args.taskset, args.workers, way, peak)
            if rate["steps"]:
                result[costs_key(way)] = rate
            else:
                result.pop(costs_key(way), None)

    # kept at the end: 20 s to pack what is done, and 40 s for Fig. 3's statistics where this
    # call trains the runs they read and they are not kept yet
    _stack_the_presets_seeds(args.preset, on=stacked("cooldown_fig1"))
    fig3_due = "cooldown_fig1" in groups and not fig3_statistics_kept(args.preset, args.taskset, args.runs_root)
    end_reserve = 60 if fig3_due else 20
    queue = list(groups)
    while queue:
        name = queue.pop(0)
        left = deadline - time.time() - end_reserve
        if left < 60:
            result[name] = {"skipped": f"{left:.0f} s left of the budget"}
            save()
            continue
        _stack_the_presets_seeds(args.preset, on=stacked(name))  # the identities its summary looks up
        before, proxy_before = trained_steps(args.runs_root), doremi_proxy_work(name, args.preset, args.runs_root)
        start = time.time()
        cmd = [sys.executable, "-m", "benchmarks.gpu_session", "--out", str(args.out), "--group", name,
               "--preset", args.preset, "--taskset", args.taskset, "--runs-root", str(args.runs_root),
               "--workers", str(args.workers)] + (["--stack-seeds"] if stacked(name) else [])
        code = run_until(cmd, left)
        wall = time.time() - start
        try:
            summary = group_summary(name, args.preset, args.taskset, args.runs_root)
        except Exception as exc:  # noqa: BLE001 -- the runs trained so far must still be packed
            summary = {"runs": [], "done": 0, "of": 0, "error": f"{type(exc).__name__}: {exc}"[:400]}
        grew = {run: (n - before.get(run, (0,))[0], cfg) for run, (n, cfg) in trained_steps(args.runs_root).items()
                if n > before.get(run, (0,))[0]}
        proxy_steps, proxy_flops = (now - then for now, then in
                                    zip(doremi_proxy_work(name, args.preset, args.runs_root), proxy_before))
        steps, flops = sum(n for n, _ in grew.values()) + proxy_steps, group_flops(grew) + proxy_flops
        result[name] = {"exit": code, "stacked": stacked(name), "wall_s": wall, "runs_trained": len(grew),
                        "run_steps": steps, "run_steps_per_s": steps / wall, "flops": flops,
                        "mfu": flops / wall / peak if peak else None, **summary}
        rates()
        print(f"[{time.time() - t0:6.0f}s] {name}: {summary['done']}/{summary['of']} runs done ({code}), "
              f"{steps} run-steps at {steps / wall:.1f}/s", flush=True)
        pack_runs(args.runs_root, args.out)  # after every group: a session killed later still returns its runs
        if stacked(name) and stack_failed(code, steps):  # trained nothing as stacks: this group trains alone
            alone.add(name)
            result["groups_alone"] = sorted(alone)
            result[f"{name} (stacked, failed)"] = result.pop(name)
            rates()
            # the reason stays the first call's own (a continuation's says "as an earlier call decided");
            # a call told --stack-seeds on stacked whatever an earlier auto call kept: that is kept now
            earlier = (kept_decision(args.runs_root) if args.stack_seeds == "auto" else None) or \
                {"stack": stack, "why": "--stack-seeds on"}
            keep_decision(args.runs_root, earlier["stack"], earlier["why"], alone)
            queue.insert(0, name)
            print(f"[{time.time() - t0:6.0f}s] the stacks of group {name} failed (exit {code}) before training a "
                  f"step: it trains again alone", flush=True)
        save()
    pack_runs(args.runs_root, args.out)
    save()
    if deadline - time.time() > 30:  # kept per checkpoint: a cut leaves the ones measured
        _stack_the_presets_seeds(args.preset, on=stacked("cooldown_fig1"))  # the runs it reads
        phase("gradient_variance", lambda: gradient_variance(args.preset, args.taskset, args.runs_root,
                                                             "cuda" if gpu else "cpu"),
              until=deadline - 15)
        pack_runs(args.runs_root, args.out)
        save()


if __name__ == "__main__":
    main()
