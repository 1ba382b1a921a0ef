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
import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import files, kernels, scores, store
from .batches import TaskData, collate, model_inputs, per_example_loss
from .config import TrainConfig, pool_boundaries
from .evaluate import example_nll, fixed_subset, mean_losses, task_losses, translate
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
    """Training statistics accumulated between two evaluations. Not in checkpoints: one is
    written only at an evaluation, right after these statistics are written out and reset."""

    def __init__(self, tasks):
        self.tasks = list(tasks)
        self.reset()

    def reset(self):
        self.nll = np.zeros(len(self.tasks))
        self.tokens = np.zeros(len(self.tasks))
        self.objective, self.steps, self.real, self.padded, self.grad_norm = 0.0, 0, 0, 0, float("nan")


def train(cfg: TrainConfig, run_dir, init_from=None, progress: bool = True, stop_after: int | None = None,
          log_with=None) -> Path:
    """Train (or resume) the run `cfg` in run_dir; never trains another run.

    init_from: for a config that continues a shared prefix (`fork_at=k`), the finished
    prefix run's directory: training starts from its final checkpoint (step k) and its
    metrics rows are copied, so curves start at step 0. `paperlib.runs.get_or_train`
    makes sure that run exists. Ignored when run_dir has a checkpoint to resume from.
    stop_after=k stops right after step k as if the process were killed (no checkpoint,
    no DONE) when k is before the run's last step (at or past it, the run finishes as
    usual): for resume tests. log_with: experiment trackers for accelerate (e.g.
    "tensorboard", "wandb", or tracker objects), given every metrics row as it is written;
    off by default, and never part of a run's identity."""
    if cfg.stack_seeds:
        raise ValueError(f"seed {cfg.seed} trains in a stack with seeds {list(cfg.stack_seeds)} (stack_seeds): train "
                         "them together with train_stack, or get the run with paperlib.runs.get_or_train")
    return _train([cfg], [run_dir], [init_from], progress, stop_after, log_with)[0]


def train_stack(cfgs: list[TrainConfig], run_dirs, init_froms=None, progress: bool = True,
                stop_after: int | None = None) -> list[Path]:
    """Train (or resume) the runs of one stack together: `config.stack_configs(cfg)`, one
    directory each (init_froms: each run's prefix directory, as `train`'s init_from). Each
    run has what `train` gives it -- its own initialisation, batches, evaluations, metrics,
    checkpoints (loadable as an unstacked run's) and DONE -- while one vmapped step
    (`paperlib.stacked`) trains them all. One process: a stack is for a GPU that one run
    cannot fill, not for data parallelism."""
    cfgs = list(cfgs)
    seeds = tuple(c.seed for c in cfgs)
    if len(cfgs) < 2 or any(c.stack_seeds != seeds for c in cfgs):
        raise ValueError(f"train_stack takes the configs of one stack, one per seed of its stack_seeds in order "
                         f"(config.stack_configs); got seeds {list(seeds)} with stack_seeds "
                         f"{sorted({tuple(c.stack_seeds) for c in cfgs})}")
    if any(dataclasses.replace(c, seed=cfgs[0].seed) != cfgs[0] for c in cfgs):
        raise ValueError("the configs of a stack differ in their seed alone")
    if len(run_dirs) != len(cfgs):
        raise ValueError(f"train_stack: {len(cfgs)} configs but {len(run_dirs)} run directories")
    if init_froms is not None and len(init_froms) != len(cfgs):  # zip would leave later runs without theirs
        raise ValueError(f"train_stack: {len(cfgs)} configs but {len(init_froms)} prefix directories (init_froms)")
    return _train(cfgs, run_dirs, list(init_froms or [None] * len(cfgs)), progress, stop_after, None)


def _train(cfgs, run_dirs, init_froms, progress, stop_after, log_with) -> list[Path]:
    cfg, run_dirs = cfgs[0], [Path(d) for d in run_dirs]
    if cfg.fork_at is None and any(p is not None for p in init_froms):  # it would be ignored: a run from scratch
        raise ValueError("init_from is for a config that continues a shared prefix (fork_at=k); this one starts "
                         "from step 0: leave init_from out, or set fork_at")
    data, plan, _ = store.resolve(cfg)  # a stack's runs differ in their seed: one data set, one plan
    accelerator = _accelerator(cfg, log_with, run_dirs[0])
    if len(cfgs) > 1 and accelerator.num_processes > 1:
        raise ValueError("a stack of runs trains in one process; launch it without data parallelism")
    main = accelerator.is_main_process
    with contextlib.ExitStack() as held:
        if main:  # rank 0 owns the run directories
            for run_dir, c in zip(run_dirs, cfgs):
                held.enter_context(store.lock(run_dir))
                store.write_or_check_config(run_dir, c, plan, data)
                # what a process killed mid-write left behind (per-sentence losses included)
                for folder in (run_dir, run_dir / "ckpt", run_dir / "examples"):
                    files.remove_temporaries(folder)
        accelerator.wait_for_everyone()
        if all((d / "DONE").exists() for d in run_dirs):
            return run_dirs
        if log_with and main:
            accelerator.init_trackers(f"{cfg.experiment}-{run_dirs[0].name}", config=_scalars(cfg.to_dict()))
        with _cpu_threads(accelerator.device.type == "cpu"):
            _train_locked(cfgs, run_dirs, data, plan, accelerator, progress and main, stop_after, init_froms,
                          tracking=bool(log_with))
        if log_with:
            accelerator.end_training()
        accelerator.wait_for_everyone()  # every rank leaves after rank 0 wrote DONE
        return run_dirs


def _scalars(d: dict) -> dict:
    """A nested row or config as flat name -> number/string pairs (what trackers take):
    valid_loss.en-it, optim.lr, ...; lists become strings."""
    return {k: v if isinstance(v, (bool, int, float, str)) else "none" if v is None else str(v)
            for k, v in store.flatten(d).items()}


class _OneRun:
    """The loop's step for a run that trains alone: its model under accelerate (DDP when
    launched on several processes: each rank trains its share of the global batch)."""

    def __init__(self, model, cfg: TrainConfig, accelerator, kind: str):
        kernels.prefer_eager_attention(model, accelerator.device)
        self.cfg, self.accelerator, self.kind = cfg, accelerator, kind
        self.model = accelerator.prepare(model)
        self.net = accelerator.unwrap_model(self.model)  # evaluation runs on rank 0 alone, outside DDP
        self.host_masks = getattr(self.net.config, "_attn_implementation", None) == "sdpa" \
            and kernels.masks_pass_through()
        self.new_optimizer()

    def new_optimizer(self):
        self.optimizer = self.accelerator.prepare(new_optimizer(self.model, self.cfg))

    def train_mode(self):
        self.model.train()

    def step(self, batches, task_ids, weights, global_size):
        """One update; per run (here one): (task ids, nll and target tokens per example, the
        loss, the gradient norm), all still on the device."""
        batch, device, world = batches[0], self.accelerator.device, self.accelerator.num_processes
        forward_inputs = model_inputs(batch)
        if self.host_masks:  # before the copy: read on the device, a mask would make the host wait
            forward_inputs = kernels.host_attention_masks(forward_inputs, self.kind)
        inputs = to_device({**forward_inputs, "labels": batch["labels"], "task_ids": task_ids[0],
                            "weights": weights[0]}, device)
        with self.accelerator.autocast(), kernels.cpu_training(device):
            logits = self.model(**{k: inputs[k] for k in model_inputs(inputs)}).logits
        ex_loss, ex_nll, ex_tokens = per_example_loss(logits, inputs["labels"], self.cfg.optim.label_smoothing)
        if len(task_ids[0]) == global_size:
            loss = (inputs["weights"] * ex_loss).mean()
        else:  # DDP averages the ranks' gradients: scale so the result is the global batch mean
            loss = (inputs["weights"] * ex_loss).sum() * world / global_size
        self.accelerator.backward(loss)
        norm = self.accelerator.clip_grad_norm_(self.model.parameters(), self.cfg.optim.clip_norm or math.inf)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return [(inputs["task_ids"], ex_nll, ex_tokens, loss, norm)]

    def evaluation_model(self, k: int):
        return self.net

    def state(self, k: int) -> tuple[dict, dict]:
        return self.net.state_dict(), self.optimizer.state_dict()

    def load(self, states: list[tuple[dict, dict]]) -> None:
        """The (model, optimizer) states of a checkpoint (`state`'s)."""
        (model_state, optimizer_state), = states
        self.net.load_state_dict(model_state)
        self.optimizer.load_state_dict(optimizer_state)


class _StackedRuns:
    """The loop's step for a stack of runs: one vmapped step (`paperlib.stacked`) for all.
    Checkpoints hold each run's slice in an unstacked run's format."""

    def __init__(self, models, cfg: TrainConfig, accelerator, kind: str, pad_id: int):
        from .stacked import Stack

        # scaled-dot-product attention (no eager on the CPU): host-built masks are what vmap can
        # take. Stacked where the models are built, then moved: K models, not 2K, on the device
        self.stack = Stack(models).to(accelerator.device)
        # evaluation: run k's parameters loaded into a plain model, under the precision an
        # unstacked run evaluates in (accelerate wraps its forward in the autocast, as _OneRun's)
        self.net = accelerator.prepare_model(models[0].to(accelerator.device), evaluation_mode=True)
        # the names of tied weights (GPT-2's lm_head is its token embedding): one tensor the
        # stack holds under another name
        state, stacked = self.net.state_dict(keep_vars=True), {**self.stack.params, **self.stack.buffers}
        self.aliases = {name for name, t in state.items()
                        if name not in stacked and any(t is state[other] for other in stacked)}
        self.cfg, self.accelerator, self.kind, self.pad_id = cfg, accelerator, kind, pad_id
        self.new_optimizer()

    def new_optimizer(self):
        self.optimizer = new_optimizer(self.stack.parameters(), self.cfg)

    def train_mode(self):
        self.stack.function.train()

    def step(self, batches, task_ids, weights, global_size):
        from .stacked import stacked_inputs, stacked_step

        inputs, labels = stacked_inputs(batches, self.kind, self.pad_id, self.cfg.model.max_len)
        on = to_device({**inputs, "labels": labels, "task_ids": torch.stack(task_ids), "weights": torch.stack(weights)},
                       self.accelerator.device)
        loss, ex_nll, ex_tokens, norms = stacked_step(
            self.stack, self.optimizer, {k: on[k] for k in inputs}, on["labels"], on["weights"],
            self.cfg.optim.label_smoothing, self.cfg.optim.clip_norm, autocast=self.accelerator.autocast)
        return [(on["task_ids"][k], ex_nll[k], ex_tokens[k], loss[k], norms[k]) for k in range(len(batches))]

    def evaluation_model(self, k: int):
        loaded = self.net.load_state_dict(self.stack.state_dict(k), strict=False)  # tied weights: stacked once
        if loaded.unexpected_keys or set(loaded.missing_keys) != self.aliases:
            raise RuntimeError(f"run {k}'s stacked state does not fit the model: missing {loaded.missing_keys}, "
                               f"unexpected {loaded.unexpected_keys}")
        return self.net

    def state(self, k: int) -> tuple[dict, dict]:
        stacked = self.optimizer.state_dict()
        own = {i: {name: v if name == "step" else v[k].clone() for name, v in s.items()}
               for i, s in stacked["state"].items()}
        return self.evaluation_model(k).state_dict(), {"state": own, "param_groups": stacked["param_groups"]}

    def load(self, states: list[tuple[dict, dict]]) -> None:
        """Every run's (model, optimizer) state, in an unstacked run's format (`state`'s)."""
        with torch.no_grad():
            for k, (model_state, _) in enumerate(states):
                for name, t in {**self.stack.params, **self.stack.buffers}.items():
                    t[k].copy_(model_state[name])
        optimizer_states = [o for _, o in states]
        first = optimizer_states[0]["state"]
        stacked = {i: {name: v if name == "step" else torch.stack([o["state"][i][name] for o in optimizer_states])
                       for name, v in first[i].items()} for i in first}
        self.optimizer.load_state_dict({"state": stacked, "param_groups": optimizer_states[0]["param_groups"]})


class _Run:
    """One run's own part of the loop: its directory, sampler, and what it sums between evaluations."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, sampler: MixtureSampler, tasks, device):
        self.cfg, self.dir, self.sampler = cfg, run_dir, sampler
        self.interval = _Interval(tasks)
        self.sums = _StepSums(len(tasks), device)
        self.ckpt = run_dir / "ckpt" / "last.pt"


def _train_locked(cfgs, run_dirs, data, plan, accelerator, progress, stop_after, init_froms, tracking=False):
    cfg = cfgs[0]
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
    models = []
    for c in cfgs:
        torch.manual_seed(c.seed)  # seed once: model init and dropout; the sampler has its own generator
        models.append(new_model(c, data))
    if len(cfgs) > 1:  # the stack's dropout masks: one generator draws them for all its runs
        torch.manual_seed(stack_seed(cfg.stack_seeds))
    train_data = TaskData.load(data, "train", cfg.model.max_len)
    valid_data = TaskData.load(data, "valid", cfg.model.max_len, cfg.eval.max_valid)
    subset = fixed_subset(train_data, cfg.eval.train_subset) if cfg.eval.train_subset else None
    runs = [_Run(c, d, MixtureSampler(plan, train_data.lengths(), c.batch_size, c.seed, c.pool_batches,
                                      boundaries=pool_boundaries(c, plan.stop_at), batching=c.batching,
                                      min_batch=min_batch), plan.tasks, device) for c, d in zip(cfgs, run_dirs)]
    if len(cfgs) == 1:
        learner = _OneRun(models[0], cfg, accelerator, data.kind)
    else:
        learner = _StackedRuns(models, cfg, accelerator, data.kind, tok.pad_id)
    start, elapsed = _resume_or_fork(runs, learner, cfg, init_froms, main, plan.end_step)
    del models  # the learner holds what it trains

    def write_row(run, row):
        store.append_metrics(run.dir, row)
        if tracking:  # the same numbers, to the user's trackers
            accelerator.log({k: v for k, v in _scalars(row).items() if isinstance(v, (int, float))}, step=row["step"])

    def evaluate_row(k, step):
        run, net = runs[k], learner.evaluation_model(k)
        per_example = example_nll(net, valid_data, device)
        store.write_example_losses(run.dir, step, per_example)  # before the row: a resume drops both
        row = {
            "step": step,
            "phase": plan.phases[plan.locate(max(0, step - 1))[0]].name,
            "lr": _lr(cfg, plan, max(0, step - 1)),
            "valid_loss": mean_losses(per_example),
            "train_subset_loss": task_losses(net, subset, device) if subset else {},
            "examples_seen": run.sampler.examples_seen(),
            "epochs": run.sampler.epochs_seen(),
            "wall_time": elapsed + (time.time() - t0),
        }
        interval = run.interval
        if interval.steps:
            row["train_loss"] = {t: (interval.nll[j] / interval.tokens[j]) if interval.tokens[j] else None
                                 for j, t in enumerate(plan.tasks)}
            row["train_tokens"] = {t: int(interval.tokens[j]) for j, t in enumerate(plan.tasks)}  # global, all ranks
            row["objective"] = interval.objective / interval.steps
            row["grad_norm"] = interval.grad_norm
            row["padding_fraction"] = 1 - interval.real / max(1, interval.padded)
        return row

    t0 = time.time()
    if start == 0 and main:
        for k, run in enumerate(runs):
            write_row(run, evaluate_row(k, 0))
    end = plan.end_step
    name = run_dirs[0].name + (f" +{len(runs) - 1} stacked" if len(runs) > 1 else "")
    bar = tqdm(total=end, initial=start, desc=f"{cfg.experiment}/{name}", disable=not progress,
               unit="step", dynamic_ncols=True)
    learner.train_mode()
    for step in range(start, end):
        phase_index, local = plan.locate(step)
        phase = plan.phases[phase_index]
        if local == 0 and phase.reset and step > 0:
            learner.new_optimizer()  # fresh moments; LR restarts below
        lr = _lr(cfg, plan, step)
        for group in learner.optimizer.param_groups:
            group["lr"] = lr

        mixture = plan.mixture_at(step)
        batches, task_ids, weights = [], [], []
        for run in runs:
            global_slots = run.sampler.batch(step)
            slots = global_slots[rank::world]  # this rank's share of the global batch
            batches.append(collate(train_data, [(plan.tasks[k], int(i)) for k, i in slots]))
            task_ids.append(torch.as_tensor(slots[:, 0]))
            weights.append(torch.as_tensor(mixture.w, dtype=torch.float32)[task_ids[-1]])
        for run, batch, stats in zip(runs, batches, learner.step(batches, task_ids, weights, len(global_slots))):
            run.sums.add(step, *stats)
            run.interval.steps += 1
            run.interval.real += int(batch["real_tokens"])
            run.interval.padded += int(batch["padded_tokens"])
        bar.update()
        bar.set_postfix(phase=phase.name, refresh=False)

        done = step + 1
        if stop_after is not None and done >= stop_after and done < end:
            bar.close()
            return  # simulated kill: nothing more is written
        if done % cfg.eval.every == 0 or done == end:
            firsts = [run.sums.move_into(run.interval) for run in runs]
            if _any_rank(any(f is not None for f in firsts), accelerator):
                bar.close()  # before this interval's checkpoint: the last one is from before the divergence
                bad = [(f, run) for f, run in zip(firsts, runs) if f is not None]
                at, where = (bad[0][0], f"at step {bad[0][0]}") if bad else (done - 1, f"on another rank by step {done - 1}")
                which = f" of seed {bad[0][1].cfg.seed} in its stack" if bad and len(runs) > 1 else ""
                raise TrainingDiverged(
                    f"non-finite loss {where}{which} (phase {plan.phases[plan.locate(at)[0]].name!r}, lr "
                    f"{_lr(cfg, plan, at):.3g}); the last good checkpoint is kept in {runs[0].ckpt.parent}; lower "
                    "optim.lr or set optim.clip_norm")
            interval = runs[0].interval
            bar.set_postfix(phase=phase.name, loss=f"{interval.objective / max(1, interval.steps):.3f}", refresh=False)
            for run in runs:
                _sum_over_ranks(run.interval, accelerator)
            if main:
                for k, run in enumerate(runs):
                    write_row(run, evaluate_row(k, done))
                    run.interval.reset()
                _save_checkpoints(runs, learner, done, elapsed + time.time() - t0)
            else:
                for run in runs:
                    run.interval.reset()
            accelerator.wait_for_everyone()
    bar.close()
    if not main:
        return
    for k, run in enumerate(runs):
        if not (run.dir / "DONE").exists():  # a stack killed while finishing: some of its runs are
            _finish(run, learner.evaluation_model(k), cfg, data, plan, device, accelerator, elapsed, t0, write_row)


def _finish(run, net, cfg, data, plan, device, accelerator, elapsed, t0, write_row) -> None:
    """The run's last row (BLEU when asked for) and its DONE marker."""
    end = plan.end_step
    final = {"step": end, "final": True, "parameters": count_parameters(net), "processes": accelerator.num_processes,
             "threads": torch.get_num_threads() if device.type == "cpu" else None, "wall_time": elapsed + time.time() - t0}
    # a prefix run (stop_at) exists to be continued; its own end-of-run BLEU is never used
    if cfg.eval.bleu and data.kind == "translation" and plan.stop_at is None:
        test_data = TaskData.load(data, "test", cfg.model.max_len, cfg.eval.bleu_max_examples)
        final["bleu"], final["chrf"] = {}, {}
        segments = {}
        for task in plan.tasks:
            refs = data.dataset(task, "test")["tgt_text"][: test_data.size(task)]
            # the decoder has max_len positions: longer outputs would index past them
            hyps = translate(net, test_data, task, data.tokenizer, device, cfg.eval.beam,
                             min(cfg.eval.max_new_tokens, cfg.model.max_len - 1), cfg.eval.bleu_max_examples)
            target = task.split("-", 1)[1]
            segments[task] = scores.segment_statistics(hyps, refs, target)
            for metric, stats in segments[task].items():
                final[metric][task] = scores.corpus_score(metric, stats.sum(axis=0), target)
        store.write_test_segments(run.dir, segments)  # what claims resample the test set with
        final["bleu_seconds"] = elapsed + time.time() - t0 - final["wall_time"]
        final["wall_time"] = elapsed + time.time() - t0
    write_row(run, final)
    rows = store.read_metrics(run.dir)
    last = rows[-2] if len(rows) > 1 else {}
    files.atomic_write(run.dir / "DONE", json.dumps({
        "steps": end, "valid_loss": last.get("valid_loss"), "bleu": final.get("bleu"), "wall_time": final["wall_time"],
    }, indent=2))


def stack_seed(seeds) -> int:
    """The seed of a stack's one dropout generator: a function of its runs' seeds."""
    return int.from_bytes(hashlib.sha256(json.dumps(list(seeds)).encode()).digest()[:4], "little")


def _resume_or_fork(runs, learner, cfg, init_froms, main, end) -> tuple[int, float]:
    """Load every run's last checkpoint (resume), or its prefix run's final one (a fork),
    or nothing (a new run); returns the step they all start from and the wall time so far.
    A stack resumes as one: all its runs from one step. Its runs already finished (a stack
    killed while finishing) are left as they are; the others finish."""
    finished = {run.dir for run in runs if (run.dir / "DONE").exists()}
    sources = []
    for run, parent in zip(runs, init_froms):
        if run.ckpt.exists():
            sources.append((run.ckpt, None))
        elif cfg.fork_at is not None:  # continue the shared prefix run
            if parent is None:
                raise ValueError(f"this config continues a shared prefix (fork_at={cfg.fork_at}): pass init_from=<the "
                                 "prefix run's directory>, or train it with paperlib.runs.get_or_train")
            sources.append((Path(parent) / "ckpt" / "last.pt", Path(parent)))
        else:
            sources.append((None, None))
    if all(path is None for path, _ in sources) and not finished:
        if main:
            for run in runs:
                store.write_metrics(run.dir, [])
        return 0, 0.0
    if any(path is None for path, _ in sources):
        raise _unresumable(runs, "some of its runs have checkpoints and some have none" if any(
            path is not None for path, _ in sources) else "it has no checkpoints, and some of its runs finished")
    states = [_read_checkpoint(path) for path, _ in sources]
    steps = sorted({s["step"] for s in states})
    if len(steps) > 1 or (finished and steps != [end]):  # killed between two of its runs' checkpoint renames
        raise _unresumable(runs, f"its runs' checkpoints are at steps {steps}" +
                           (f", and {len(finished)} of them finished" if finished else ""))
    learner.load([(state["model"], state["optimizer"]) for state in states])
    for run, state in zip(runs, states):
        run.sampler.load_state_dict(state["sampler"])
    torch.set_rng_state(states[0]["torch_rng"])  # a stack's runs keep one generator's state
    if states[0].get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states[0]["cuda_rng"])
    start, elapsed = states[0]["step"], states[0]["elapsed"]
    for run, (path, parent) in zip(runs, sources):
        if parent is not None and start != cfg.fork_at:
            raise RuntimeError(f"parent run {parent} ended at step {start}, expected {cfg.fork_at}")
        if not main or run.dir in finished:
            continue
        if parent is None:
            store.truncate_metrics(run.dir, start)
            store.keep_example_losses(run.dir, start)
        else:
            store.write_metrics(run.dir, [r for r in store.read_metrics(parent) if not r.get("final")])
            store.keep_example_losses(run.dir, start, source=parent)
    return start, elapsed


def _unresumable(runs, why: str) -> Exception:
    """A stack whose runs cannot continue from one step: it trains again as a whole (its runs
    are one draw together), which its finished runs must not be overwritten by unawares."""
    return store.DamagedRun(f"the stack of {runs[0].dir} cannot resume as one ({why}): move its runs "
                            f"({', '.join(str(run.dir) for run in runs)}) out of the run store to train the whole "
                            "stack again")


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


def _save_checkpoints(runs, learner, step, elapsed) -> None:
    """Every run's checkpoint at `step`: all written to temporary files first, then renamed
    one after another, so a kill leaves a stack's runs at one step (all but within the
    renames' microseconds, which resume reports)."""
    import io

    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    contents = []
    for k, run in enumerate(runs):
        model_state, optimizer_state = learner.state(k)
        state = {"step": step, "elapsed": elapsed, "model": model_state, "optimizer": optimizer_state,
                 "sampler": run.sampler.state_dict(),
                 "torch_rng": rng, "cuda_rng": cuda_rng}
        buf = io.BytesIO()
        torch.save(state, buf)
        contents.append((run.ckpt, buf.getvalue()))
    files.atomic_write_all(contents)


def _read_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for a cut or corrupted file
        raise store.DamagedRun(f"{path}: unreadable checkpoint ({type(exc).__name__}); delete it to train the run "
                               "again from its start") from None
