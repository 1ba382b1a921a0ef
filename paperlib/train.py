"""The training loop: one readable function.

Per step: find the phase and the mixture, reset the optimizer (and with it the LR
schedule) at a phase that asks for it, set the LR from a pure function of the step, draw
the batch from the MixtureSampler, weight each example's loss by its task's loss weight,
step. Every `eval.every` steps: evaluate, append a row to metrics.jsonl, checkpoint. Between
evaluations nothing is read back from the device (`_StepSums`, `to_device`,
`kernels.host_attention_masks`), so that on a GPU the host queues the next step while the
GPU runs this one; a non-finite loss is found at the next evaluation, before its checkpoint.

metrics.jsonl rows: step (updates done), phase, lr, train_loss (mean nll per task over the
interval), train_tokens (target tokens trained on per task over the interval, all ranks),
objective (the weighted training loss), valid_loss, train_subset_loss (per task,
nats/token), examples_seen, epochs (per task), grad_norm, padding_fraction, wall_time (s).
The last row has "final": true and, when eval.bleu is set, bleu and chrf per task.

Data parallel (`accelerate launch --num_processes N -m paperlib train ...`, or a Slurm
job with N tasks): the sampler draws the *global* batch of `batch_size` slots, rank r
trains on slots r, r+N, ... (length-bucketed pools make the shares alike), and DDP
averages the gradients, so the update equals the one-process update on the whole batch.
Examples-seen counts are global by construction; training statistics are summed over
ranks before they are logged; rank 0 alone evaluates, writes and checkpoints. Resume is
exact for the same world size.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import files, kernels, store
from .batches import TaskData, collate, model_inputs, per_example_loss
from .config import TrainConfig, pool_boundaries
from .evaluate import bleu_chrf, example_nll, fixed_subset, mean_losses, task_losses, translate
from .lr import learning_rate
from .models import build_model, count_parameters
from .sampler import MixtureSampler


class TrainingDiverged(RuntimeError):
    pass


CPU_THREADS = 1
"""Intra-op threads of every CPU run, wherever it trains (this process, a worker, a job): a
matmul's sums are split differently on 2 threads than on 1, so the same run on each differs
by ~1e-8 after one step and by 0.02 nats after a few thousand (issue #18), while the run
store treats both as one run. CPU runs go side by side in processes instead
(`executors.default_workers`: one per core). A GPU run's numerics do not depend on it."""


@contextlib.contextmanager
def _cpu_threads(on_cpu: bool):
    if not on_cpu:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(CPU_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _accelerator(cfg: TrainConfig, log_with=None, run_dir=None):
    from accelerate import Accelerator

    cpu = cfg.device == "cpu" or (cfg.device == "auto" and not torch.cuda.is_available())
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no GPU; use device auto or cpu")
    if not cpu:
        use_gpu_kernels_for_varying_shapes()
    import warnings

    try:
        with warnings.catch_warnings():  # a tracker that is not installed: accelerate warns; we say it below, once
            if log_with:
                warnings.filterwarnings("ignore", category=UserWarning, module=r"accelerate\.")
            accelerator = Accelerator(cpu=cpu, mixed_precision="bf16" if cfg.precision == "bf16" else "no",
                                      log_with=log_with, project_dir=str(run_dir) if log_with else None)
    except (ValueError, ImportError) as exc:  # an unknown tracker name
        if log_with is None:
            raise
        raise ValueError(f"tracker {log_with!r}: {exc}") from None
    wanted = list(log_with) if isinstance(log_with, (list, tuple)) else [log_with] if log_with else []
    if len(accelerator.log_with) < len(wanted):  # accelerate only warns, and then logs nothing
        raise ValueError(f"tracker {log_with!r} is not installed here (e.g. pip install tensorboard); "
                         "install its package or leave --log-with out")
    return accelerator


def use_gpu_kernels_for_varying_shapes() -> None:
    """GPU kernel choices for batches whose lengths change at every step.

    TF32 matmuls: fp32 training at tensor-core speed. No cuDNN attention: PyTorch picks it
    for bf16 on Hopper, and it builds a plan for every new batch shape -- measured on an
    H200 (benchmarks/results_gpu_h200.json), the gpu preset's step ran at 2.5 steps/s on
    the sampler's varying shapes with it and 21.7 without (flash / memory-efficient
    attention need no per-shape plan)."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.enable_cudnn_sdp(False)


def new_model(cfg: TrainConfig, data) -> torch.nn.Module:
    """cfg's model, randomly initialised, sized for the prepared data's vocabulary."""
    tok = data.tokenizer
    return build_model(cfg.model, data.kind, tok.vocab_size, tok.pad_id, tok.bos_id, tok.eos_id)


def new_optimizer(model, cfg: TrainConfig):
    """AdamW with cfg.optim's settings (the LR is set by the loop at every step), over a
    model's parameters (or a list of tensors: `paperlib.stacked.Stack.parameters()`)."""
    params = list(model.parameters() if isinstance(model, torch.nn.Module) else model)
    # one multi-tensor update instead of a loop over the parameters: fused kernels on CUDA,
    # foreach (a few large ops instead of ~10 per tensor) on the CPU
    cuda = params[0].is_cuda
    return torch.optim.AdamW(params, lr=cfg.optim.lr, betas=cfg.optim.betas, eps=cfg.optim.eps,
                             weight_decay=cfg.optim.weight_decay, fused=True if cuda else None,
                             foreach=None if cuda else True)


class _StepSums:
    """The per-step statistics, summed where the step ran and read once per evaluation.

    Reading them at every step (loss.item(), float(norm), a tensor's .cpu()) would make the
    host wait for the GPU at every step, so it could never queue the next step's kernels
    while the GPU runs this one. On a CPU the sums are the same float operations in the
    same order as numpy's were, so the logged numbers are the same bits."""

    def __init__(self, n_tasks: int, device):
        self.nll = torch.zeros(n_tasks, dtype=torch.float64, device=device)
        self.tokens = torch.zeros(n_tasks, dtype=torch.float64, device=device)
        self.objective = torch.zeros((), dtype=torch.float64, device=device)
        self.first_nonfinite = torch.full((), -1, dtype=torch.int64, device=device)
        self.norm = None

    def add(self, step: int, task_ids, ex_nll, ex_tokens, loss, norm) -> None:
        self.nll.index_add_(0, task_ids, (ex_nll * ex_tokens).detach().double())
        self.tokens.index_add_(0, task_ids, ex_tokens.double())
        self.objective += loss.detach().double()
        bad = (self.first_nonfinite < 0) & ~torch.isfinite(loss.detach())
        self.first_nonfinite = torch.where(bad, step, self.first_nonfinite)
        self.norm = norm

    def move_into(self, interval: "_Interval") -> int | None:
        """Add the sums to `interval` (one device-to-host copy) and start again from zero;
        returns the first step whose loss was not finite, or None."""
        interval.nll += self.nll.cpu().numpy()
        interval.tokens += self.tokens.cpu().numpy()
        interval.objective += float(self.objective)
        if self.norm is not None:
            interval.grad_norm = float(self.norm)
        first = int(self.first_nonfinite)
        self.__init__(len(self.nll), self.nll.device)
        return None if first < 0 else first


class _Interval:
    """Training statistics accumulated between two evaluations (saved in checkpoints)."""

    def __init__(self, tasks):
        self.tasks = list(tasks)
        self.reset()

    def reset(self):
        self.nll = np.zeros(len(self.tasks))
        self.tokens = np.zeros(len(self.tasks))
        self.objective, self.steps, self.real, self.padded, self.grad_norm = 0.0, 0, 0, 0, float("nan")

    def state_dict(self):
        return dict(vars(self))

    def load_state_dict(self, d):
        for k, v in d.items():
            setattr(self, k, v)


def train(cfg: TrainConfig, run_dir, init_from=None, progress: bool = True, stop_after: int | None = None,
          log_with=None) -> Path:
    """Train (or resume) the run `cfg` in run_dir; never trains another run.

    init_from: for a config that continues a shared prefix (`fork_at=k`), the finished
    prefix run's directory: training starts from its final checkpoint (step k) and its
    metrics rows are copied, so curves start at step 0. `paperlib.runs.get_or_train`
    makes sure that run exists. Ignored when run_dir has a checkpoint to resume from.
    stop_after=k stops right after step k as if the process were killed (no checkpoint,
    no DONE): for resume tests. log_with: experiment trackers for accelerate (e.g.
    "tensorboard", "wandb", or tracker objects), given every metrics row as it is written;
    off by default, and never part of a run's identity."""
    run_dir = Path(run_dir)
    data, plan, _ = store.resolve(cfg)
    accelerator = _accelerator(cfg, log_with, run_dir)
    main = accelerator.is_main_process
    with store.lock(run_dir) if main else contextlib.nullcontext():  # rank 0 owns the run directory
        if main:
            store.write_or_check_config(run_dir, cfg, plan, data)
            for folder in (run_dir, run_dir / "ckpt"):  # what a process killed mid-write left behind
                files.remove_temporaries(folder)
        accelerator.wait_for_everyone()
        if (run_dir / "DONE").exists():
            return run_dir
        if log_with and main:
            accelerator.init_trackers(f"{cfg.experiment}-{run_dir.name}", config=_scalars(cfg.to_dict()))
        with _cpu_threads(accelerator.device.type == "cpu"):
            out = _train_locked(cfg, run_dir, data, plan, accelerator, progress and main, stop_after, init_from,
                                tracking=bool(log_with))
        if log_with:
            accelerator.end_training()
        accelerator.wait_for_everyone()  # every rank leaves after rank 0 wrote DONE
        return out


def _scalars(d: dict) -> dict:
    """A nested row or config as flat name -> number/string pairs (what trackers take):
    valid_loss.en-it, optim.lr, ...; lists become strings."""
    return {k: v if isinstance(v, (bool, int, float, str)) else "none" if v is None else str(v)
            for k, v in store.flatten(d).items()}


def _train_locked(cfg, run_dir, data, plan, accelerator, progress, stop_after, init_from, tracking=False) -> Path:
    device = accelerator.device
    main, rank, world = accelerator.is_main_process, accelerator.process_index, accelerator.num_processes
    if cfg.batching == "examples" and cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} must be divisible by the number of processes ({world}): "
                         f"each rank trains on an equal share of the global batch")
    # token batching: the smallest batch a pool may be cut into; fixed by the config (not by
    # the world size) so that a run cuts its batches the same way on any number of ranks
    min_batch = max(1, cfg.batch_size // 4)
    if cfg.batching == "tokens" and min_batch < world:
        raise ValueError(f"token batching with batch_size {cfg.batch_size} can cut batches of {min_batch} examples, "
                         f"fewer than the {world} processes; use batch_size >= {4 * world}")
    tok = data.tokenizer
    torch.manual_seed(cfg.seed)  # seed once: model init and dropout; the sampler has its own generator
    model = new_model(cfg, data)
    train_data = TaskData.load(data, "train", cfg.model.max_len)
    valid_data = TaskData.load(data, "valid", cfg.model.max_len, cfg.eval.max_valid)
    subset = fixed_subset(train_data, cfg.eval.train_subset) if cfg.eval.train_subset else None
    sampler = MixtureSampler(plan, train_data.lengths(), cfg.batch_size, cfg.seed, cfg.pool_batches,
                             boundaries=pool_boundaries(cfg, plan.stop_at), batching=cfg.batching, min_batch=min_batch)
    kernels.prefer_eager_attention(model, device)
    model = accelerator.prepare(model)
    optimizer = accelerator.prepare(new_optimizer(model, cfg))
    interval = _Interval(plan.tasks)
    start, elapsed = 0, 0.0

    ckpt = run_dir / "ckpt" / "last.pt"
    if ckpt.exists():  # resume
        start, elapsed = _load_checkpoint(ckpt, model, optimizer, sampler, interval)
        if main:
            store.truncate_metrics(run_dir, start)
            store.keep_example_losses(run_dir, start)
    elif cfg.fork_at is not None:  # continue the shared prefix run
        if init_from is None:
            raise ValueError(f"this config continues a shared prefix (fork_at={cfg.fork_at}): pass init_from=<the "
                             "prefix run's directory>, or train it with paperlib.runs.get_or_train")
        parent = Path(init_from)
        start, elapsed = _load_checkpoint(parent / "ckpt" / "last.pt", model, optimizer, sampler, interval)
        if start != cfg.fork_at:
            raise RuntimeError(f"parent run {parent} ended at step {start}, expected {cfg.fork_at}")
        if main:
            store.write_metrics(run_dir, [r for r in store.read_metrics(parent) if not r.get("final")])
            store.keep_example_losses(run_dir, start, source=parent)
    elif main:
        store.write_metrics(run_dir, [])
    net = accelerator.unwrap_model(model)  # evaluation runs on rank 0 alone, outside DDP
    host_masks = getattr(net.config, "_attn_implementation", None) == "sdpa" and kernels.masks_pass_through()

    def write_row(row):
        store.append_metrics(run_dir, row)
        if tracking:  # the same numbers, to the user's trackers
            accelerator.log({k: v for k, v in _scalars(row).items() if isinstance(v, (int, float))}, step=row["step"])

    def evaluate_row(step):
        per_example = example_nll(net, valid_data, device)
        store.write_example_losses(run_dir, step, per_example)  # before the row: a resume drops both
        row = {
            "step": step,
            "phase": plan.phases[plan.locate(max(0, step - 1))[0]].name,
            "lr": _lr(cfg, plan, max(0, step - 1)),
            "valid_loss": mean_losses(per_example),
            "train_subset_loss": task_losses(net, subset, device) if subset else {},
            "examples_seen": sampler.examples_seen(),
            "epochs": sampler.epochs_seen(),
            "wall_time": elapsed + (time.time() - t0),
        }
        if interval.steps:
            row["train_loss"] = {t: (interval.nll[k] / interval.tokens[k]) if interval.tokens[k] else None
                                 for k, t in enumerate(plan.tasks)}
            row["train_tokens"] = {t: int(interval.tokens[k]) for k, t in enumerate(plan.tasks)}  # global, all ranks
            row["objective"] = interval.objective / interval.steps
            row["grad_norm"] = interval.grad_norm
            row["padding_fraction"] = 1 - interval.real / max(1, interval.padded)
        return row

    sums = _StepSums(len(plan.tasks), device)
    t0 = time.time()
    if start == 0 and main:
        write_row(evaluate_row(0))
    end = plan.end_step
    bar = tqdm(total=end, initial=start, desc=f"{cfg.experiment}/{run_dir.name}", disable=not progress,
               unit="step", dynamic_ncols=True)
    model.train()
    for step in range(start, end):
        phase_index, local = plan.locate(step)
        phase = plan.phases[phase_index]
        if local == 0 and phase.reset and step > 0:
            optimizer = accelerator.prepare(new_optimizer(model, cfg))  # fresh moments; LR restarts below
        lr = _lr(cfg, plan, step)
        for group in optimizer.param_groups:
            group["lr"] = lr

        mixture = plan.mixture_at(step)
        global_slots = sampler.batch(step)
        slots = global_slots[rank::world]  # this rank's share of the global batch
        batch = collate(train_data, [(plan.tasks[k], int(i)) for k, i in slots])
        task_ids = torch.as_tensor(slots[:, 0])
        weights = torch.as_tensor(mixture.w, dtype=torch.float32)[task_ids]
        forward_inputs = model_inputs(batch)
        if host_masks:  # before the copy: read on the device, a mask would make the host wait
            forward_inputs = kernels.host_attention_masks(forward_inputs, data.kind)
        inputs = to_device({**forward_inputs, "labels": batch["labels"], "task_ids": task_ids, "weights": weights},
                           device)
        with accelerator.autocast(), kernels.cpu_training(device):
            logits = model(**{k: inputs[k] for k in model_inputs(inputs)}).logits
        ex_loss, ex_nll, ex_tokens = per_example_loss(logits, inputs["labels"], cfg.optim.label_smoothing)
        if len(slots) == len(global_slots):
            loss = (inputs["weights"] * ex_loss).mean()
        else:  # DDP averages the ranks' gradients: scale so the result is the global batch mean
            loss = (inputs["weights"] * ex_loss).sum() * world / len(global_slots)
        accelerator.backward(loss)
        norm = accelerator.clip_grad_norm_(model.parameters(), cfg.optim.clip_norm or math.inf)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

        sums.add(step, inputs["task_ids"], ex_nll, ex_tokens, loss, norm)
        interval.steps += 1
        interval.real += int(batch["real_tokens"])
        interval.padded += int(batch["padded_tokens"])
        bar.update()
        bar.set_postfix(phase=phase.name, refresh=False)

        done = step + 1
        if stop_after is not None and done >= stop_after and done < end:
            bar.close()
            return run_dir  # simulated kill: nothing more is written
        if done % cfg.eval.every == 0 or done == end:
            nonfinite_at = sums.move_into(interval)
            if _any_rank(nonfinite_at is not None, accelerator):
                bar.close()  # before this interval's checkpoint: the last one is from before the divergence
                at = done - 1 if nonfinite_at is None else nonfinite_at
                where = f"at step {at}" if nonfinite_at is not None else f"on another rank by step {at}"
                raise TrainingDiverged(
                    f"non-finite loss {where} (phase {plan.phases[plan.locate(at)[0]].name!r}, lr {_lr(cfg, plan, at):.3g}); "
                    f"the last good checkpoint is kept in {run_dir / 'ckpt'}; lower optim.lr or set optim.clip_norm")
            bar.set_postfix(phase=phase.name, loss=f"{interval.objective / max(1, interval.steps):.3f}", refresh=False)
            _sum_over_ranks(interval, accelerator)
            if main:
                write_row(evaluate_row(done))
            interval.reset()
            if main:
                _save_checkpoint(ckpt, model, optimizer, sampler, interval, done, elapsed + time.time() - t0, accelerator)
            accelerator.wait_for_everyone()
    bar.close()
    if not main:
        return run_dir

    final = {"step": end, "final": True, "parameters": count_parameters(model), "processes": accelerator.num_processes,
             "threads": torch.get_num_threads() if device.type == "cpu" else None, "wall_time": elapsed + time.time() - t0}
    # a prefix run (stop_at) exists to be continued; its own end-of-run BLEU is never used
    if cfg.eval.bleu and data.kind == "translation" and plan.stop_at is None:
        test_data = TaskData.load(data, "test", cfg.model.max_len, cfg.eval.bleu_max_examples)
        final["bleu"], final["chrf"] = {}, {}
        for task in plan.tasks:
            refs = data.dataset(task, "test")["tgt_text"][: test_data.size(task)]
            # the decoder has max_len positions: longer outputs would index past them
            hyps = translate(net, test_data, task, tok, device, cfg.eval.beam,
                             min(cfg.eval.max_new_tokens, cfg.model.max_len - 1), cfg.eval.bleu_max_examples)
            scores = bleu_chrf(hyps, refs, target=task.split("-", 1)[1])
            final["bleu"][task], final["chrf"][task] = scores["bleu"], scores["chrf"]
        final["bleu_seconds"] = elapsed + time.time() - t0 - final["wall_time"]
        final["wall_time"] = elapsed + time.time() - t0
    write_row(final)
    rows = store.read_metrics(run_dir)
    last = rows[-2] if len(rows) > 1 else {}
    files.atomic_write(run_dir / "DONE", json.dumps({
        "steps": end, "valid_loss": last.get("valid_loss"), "bleu": final.get("bleu"), "wall_time": final["wall_time"],
    }, indent=2))
    return run_dir


def to_device(tensors: dict, device) -> dict:
    """The batch's tensors on `device`. To a GPU through pinned memory without waiting: a
    plain copy from pageable memory waits until the GPU has finished all the work queued
    before it, which would end the overlap of the host's next batch with the GPU's step."""
    if torch.device(device).type != "cuda":
        return {k: v if v is None else v.to(device) for k, v in tensors.items()}
    return {k: v if v is None else v.pin_memory().to(device, non_blocking=True) for k, v in tensors.items()}


def _any_rank(flag: bool, accelerator) -> bool:
    if accelerator.num_processes == 1:
        return flag
    total = accelerator.reduce(torch.tensor([float(flag)], device=accelerator.device), "sum")
    return bool(total.item() > 0)


def _sum_over_ranks(interval: _Interval, accelerator) -> None:
    """Make the interval's statistics global: token and loss sums add up over ranks; the
    objective is each rank's mean over its share, so the ranks' values are averaged."""
    world = accelerator.num_processes
    if world == 1:
        return
    local = np.concatenate([interval.nll, interval.tokens, [interval.objective / world, interval.real, interval.padded]])
    total = accelerator.reduce(torch.as_tensor(local, dtype=torch.float64, device=accelerator.device), "sum").cpu().numpy()
    n = len(interval.tasks)
    interval.nll, interval.tokens = total[:n], total[n:2 * n]
    interval.objective, interval.real, interval.padded = float(total[2 * n]), int(total[2 * n + 1]), int(total[2 * n + 2])


def _lr(cfg: TrainConfig, plan, step: int) -> float:
    local, length, kind = plan.lr_segment(step)
    return learning_rate(kind, local, length, cfg.optim.lr, cfg.optim.warmup)


def _save_checkpoint(path: Path, model, optimizer, sampler, interval, step, elapsed, accelerator) -> None:
    import io

    state = {
        "step": step, "elapsed": elapsed,
        "model": accelerator.unwrap_model(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "sampler": sampler.state_dict(),
        "interval": interval.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    buf = io.BytesIO()
    torch.save(state, buf)
    files.atomic_write(path, buf.getvalue())


def _load_checkpoint(path: Path, model, optimizer, sampler, interval) -> tuple[int, float]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for a cut or corrupted file
        raise store.DamagedRun(f"{path}: unreadable checkpoint ({type(exc).__name__}); delete it to train the run "
                               "again from its start") from None
    model_state = state["model"]
    target = model.module if hasattr(model, "module") else model
    target.load_state_dict(model_state)
    optimizer.load_state_dict(state["optimizer"])
    sampler.load_state_dict(state["sampler"])
    interval.load_state_dict(state["interval"])
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return state["step"], state["elapsed"]
