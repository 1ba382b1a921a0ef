"""Getting runs: reuse a finished one, resume an unfinished one, train a missing one --
here, side by side in worker processes, or as submitit jobs. The orchestration above
`paperlib.train` (which trains one run) and `paperlib.store` (which only reads and writes
run directories).

A config with `fork_at=k` continues the run that shares its first k steps (the same
config with the plan stopped at k, `config.parent_config`): this module makes sure that
run exists, then hands its directory to `train(..., init_from=...)`, so Order Matters'
pre-training is trained once for every fine-tuning rate.

How missing runs are trained is one explicit `Settings` object, handed down by the caller
(`paperlib reproduce` passes it to each notebook as the papermill parameter
`run_settings`).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass
from pathlib import Path

from . import executors, files, store
from .config import TrainConfig, from_dict, parent_config, stack_configs, total_steps
from .executors import Executor
from .store import MissingRun, Run, RunLocked  # noqa: F401 (MissingRun: runs.MissingRun for callers)
from .train import train, train_stack


@dataclass(frozen=True)
class Settings:
    """Where runs live and how the missing ones are trained."""

    runs_root: Path | None = None
    """The run store (default: <repo>/runs, see `paperlib.paths`)."""
    executor: Executor | None = None
    """None (or local with one worker): this process, one run after another; local with
    several workers: side by side in worker processes; local-jobs / slurm: submitit jobs."""
    wait_locked: bool = False
    """A run another process is training: wait for it instead of failing (notebooks that
    run as cluster jobs and share runs)."""
    poll_seconds: float = 30.0
    """How often a waiting process looks again."""
    progress: bool = True
    """Progress bars."""
    train_missing: bool = True
    """False: only read finished runs (figures from shipped results); a missing run is an
    error that names it."""
    log_with: str | None = None
    """An experiment tracker accelerate knows ("tensorboard", "wandb", ...; its package
    installed) that every run trained here reports to, beside its metrics.jsonl. Off by default."""

    def __post_init__(self):
        if self.runs_root is not None:
            object.__setattr__(self, "runs_root", Path(self.runs_root))
        if isinstance(self.executor, dict):
            object.__setattr__(self, "executor", executors.from_dict(self.executor))
        if not self.poll_seconds > 0:
            raise ValueError(f"poll_seconds must be > 0, got {self.poll_seconds!r}")

    @property
    def parallel(self) -> bool:
        ex = self.executor
        return ex is not None and not (ex.kind == "local" and ex.workers <= 1)

    def to_parameters(self) -> dict:
        """As a JSON-able dict (a papermill parameter)."""
        return {"runs_root": str(self.runs_root) if self.runs_root else None,
                "executor": dataclasses.asdict(self.executor) if self.executor else None,
                "wait_locked": self.wait_locked, "poll_seconds": self.poll_seconds, "progress": self.progress,
                "train_missing": self.train_missing, "log_with": self.log_with}

    @classmethod
    def from_parameters(cls, params: dict | None) -> "Settings":
        """The inverse of to_parameters; None gives the defaults (a notebook opened in Lab)."""
        return cls(**(params or {}))


def get_or_train(cfg: TrainConfig, settings: Settings | None = None) -> Run:
    """A finished run for cfg: reused, resumed or trained (its shared prefix first). A run
    of a stack (`TrainConfig.stack_seeds`) trains with the other runs of its stack."""
    s = settings or Settings()
    own, found = store.locate(cfg, s.runs_root)
    if found is not None and not store.damage(found.dir):
        return found
    if not s.train_missing:
        why = "damaged" if found is not None else "not there"
        near = store.closest_stored(cfg, s.runs_root) if found is None else None
        raise MissingRun(f"run {own.parent.name}/{own.name} ({cfg.plan.method}, seed {cfg.seed}) is {why} in "
                         f"{store.root_of(s.runs_root)} and training is off (figures only)"
                         + (f" -- the closest stored run of that method and seed, {near[0]}, differs in "
                            f"{', '.join(near[1][:4])}{' ...' if len(near[1]) > 4 else ''}: the code has moved on "
                            "since it was trained" if near else "")
                         + f"; train it with `paperlib reproduce --preset {cfg.data.preset}`")
    stack = stack_configs(cfg)
    if len(stack) > 1 and s.log_with:
        raise ValueError(f"an experiment tracker follows one run, and seed {cfg.seed} trains in a stack of "
                         f"{len(stack)} (stack_seeds): leave out log_with, or train without stack_seeds")
    dirs = _stack_dirs(stack, s)
    for d in dirs:
        if (d / "DONE").exists() and store.damage(d):
            (d / "DONE").unlink()  # finished, but a file was damaged since: resume it from its last checkpoint
    parents = [None] * len(stack)
    if _needs_prefix(cfg, dirs):
        parents = [get_or_train(parent_config(c), s).dir for c in stack]  # the first trains the parents' stack
    while True:
        try:
            if len(stack) == 1:
                train(cfg, dirs[0], init_from=parents[0], progress=s.progress, log_with=s.log_with)
            else:
                train_stack(stack, dirs, parents, progress=s.progress)
            return Run(dirs[stack.index(cfg)], cfg)
        except RunLocked:
            if not s.wait_locked:
                raise
            time.sleep(s.poll_seconds)
            found = store.find_done(cfg, s.runs_root)
            if found is not None:
                return found


def _stack_dirs(stack: list[TrainConfig], s: Settings) -> list[Path]:
    """Where each run of a stack trains on: the directory of its finished run where one is
    found (possibly under another experiment), else its own."""
    dirs = []
    for c in stack:
        own, found = store.locate(c, s.runs_root)
        dirs.append(own if found is None else found.dir)
    return dirs


def _needs_prefix(cfg: TrainConfig, dirs: list[Path]) -> bool:
    """Whether a fork (its stack in `dirs`) must first have its prefix: unless every run of
    the stack has a checkpoint to resume from."""
    return cfg.fork_at is not None and not all((d / "ckpt" / "last.pt").exists() for d in dirs)


def get_or_train_many(cfgs: list[TrainConfig], settings: Settings | None = None) -> list[Run]:
    """get_or_train for each config. Without a parallel executor they train in order and
    shared prefixes are trained by the first config that needs them. With local workers,
    the missing runs and prefixes train side by side in one dependency-aware schedule
    (`train_side_by_side`); as jobs, in waves: the shared prefixes that continue nothing
    first, then each link of a chain of prefixes (`TrainConfig.prefix_forks`) after the one it
    continues, then every run continuing them."""
    s = settings or Settings()
    if not s.parallel or not s.train_missing:
        return [get_or_train(c, s) for c in cfgs]
    if s.executor.kind == "local":  # one dependency-aware schedule over the runs and their prefixes
        train_side_by_side(cfgs, s.executor.workers, s)
        return [get_or_train(c, dataclasses.replace(s, executor=None)) for c in cfgs]  # all finished: found
    missing, parent_of = _missing_with_prefixes(cfgs, s)
    quiet = dataclasses.replace(s, progress=False, executor=None)
    name_of = {id(c): n for n, c in missing.items()}

    def lost_above(n):  # whether a prefix this run continues did not finish
        return n in parent_of and (parent_of[n] in lost or lost_above(parent_of[n]))

    lost, skipped, errors = set(), [], []
    for wave, name in _job_waves(missing, parent_of):
        # a failed job costs only the runs that continue it: every other run still trains as a job
        skipped += [c for c in wave if lost_above(name_of[id(c)])]
        wave = [c for c in wave if not lost_above(name_of[id(c)])]
        try:
            executors.run_jobs(s.executor, TrainJob(), [(c.to_dict(), quiet.to_parameters()) for c in wave],
                               executors.job_folder(s.executor, store.root_of(s.runs_root)), name, s.progress)
        except RuntimeError as exc:
            errors.append(str(exc))
            lost |= {name_of[id(c)] for c in wave if not _finished(c, s)}
    if errors:
        raise RuntimeError(f"{len(lost)} run job(s) failed" + (f", and the {len(skipped)} run(s) continuing them were not "
                                                               "submitted" if skipped else "") + ":\n" + "\n".join(errors))
    return [get_or_train(c, dataclasses.replace(s, executor=None)) for c in cfgs]  # all finished: found


def _finished(cfg: TrainConfig, s: Settings) -> bool:
    found = store.locate(cfg, s.runs_root)[1]
    return found is not None and not store.damage(found.dir)


def train_labelled(labelled: list[tuple[TrainConfig, dict]], settings: Settings | None = None) -> "pandas.DataFrame":
    """Train (or reuse) every (config, labels) pair; one summary row per run (`store.summarize`).

    Figures only (`train_missing` off): the runs that are there, and one line naming what is
    not (shipped results can be older than the preset's grid: a figure drawn from them has
    fewer points, and the claims fewer seeds, which their verdicts show); none there at all
    is the MissingRun error."""
    s = settings or Settings()
    if s.train_missing:
        done = get_or_train_many([c for c, _ in labelled], s)
        return store.summarize([(run, labels) for run, (_, labels) in zip(done, labelled)])
    found, missing = [], []
    for cfg, labels in labelled:
        try:
            found.append((get_or_train(cfg, s), labels))
        except MissingRun as e:
            missing.append((labels, e))
    if not found and missing:
        raise missing[0][1]
    if missing:
        names = sorted({", ".join(f"{k}={v}" for k, v in labels.items() if k != "lr") for labels, _ in missing})
        print(f"figures only: {len(missing)} of {len(labelled)} runs are not in {store.root_of(s.runs_root)} "
              f"and are left out: {'; '.join(names[:6])}{' ...' if len(names) > 6 else ''}")
    return store.summarize(found)


def complete_tasksets(df, labelled: list[tuple[TrainConfig, dict]]) -> list[str]:
    """The task sets (label 'taskset', in grid order) all of whose runs in `labelled` are in
    df, the frame `train_labelled` returned for them. Figures only: a pair with a part of its
    grid shipped is left out whole, and said so -- its figures and claims would rest on
    missing arms; no pair complete is the MissingRun error ("no shipped runs")."""
    from collections import Counter

    wanted = Counter(labels["taskset"] for _, labels in labelled)
    have = Counter(df["taskset"]) if len(df) else Counter()
    complete = [ts for ts in wanted if have[ts] == wanted[ts]]
    partial = [f"{ts} ({have[ts]} of {wanted[ts]} runs)" for ts in wanted if 0 < have[ts] < wanted[ts]]
    if partial:
        print(f"figures only: left out, their grids being incomplete: {'; '.join(partial)}")
    if not complete:
        raise MissingRun(f"no task set has all its runs here ({'; '.join(partial) or 'none of them'}); train them "
                         "with `paperlib reproduce`")
    return complete


class TrainJob(executors.Requeued):
    """One run as a job or worker task: get (reuse, resume or train) it; requeued on
    preemption/timeout, when it resumes from the run's last checkpoint."""

    def __call__(self, cfg_dict: dict, settings: dict) -> str:
        executors.distributed_setup()
        return str(get_or_train(from_dict(cfg_dict), Settings.from_parameters(settings)).dir)


def _worker_init(threads: int) -> None:
    import torch

    _die_with_parent()
    torch.set_num_threads(threads)
    files.code_version()  # the code this worker imported, before the checkout can move on


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when its parent dies (even by kill -9), so no orphan
    keeps training and holding run locks. Elsewhere a no-op."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_label(slot: int, cfg: TrainConfig) -> str:
    """A worker's status line: which run it trains (task set, method, mixture, seed)."""
    seeds = f"seeds {', '.join(map(str, cfg.stack_seeds))} stacked" if cfg.stack_seeds else f"seed {cfg.seed}"
    return (f"worker {slot + 1}: {cfg.data.taskset} {cfg.plan.method} {store.mixture_label(cfg)} {seeds}"
            + (f" from step {cfg.fork_at}" if cfg.fork_at else ""))


def steps_done(cfg: TrainConfig, run_dir: Path) -> int:
    """Steps run_dir has trained of cfg's own part (after its shared prefix), as of its last
    evaluation; 0 before the first or when the log cannot be read yet."""
    try:
        rows = store.read_metrics(run_dir)
    except (OSError, store.DamagedRun):
        return 0
    last = max((r["step"] for r in rows if "step" in r), default=0)
    return max(0, last - (cfg.fork_at or 0))


@dataclass(frozen=True)
class Schedule:
    """What `train_side_by_side` did: runs trained (prefixes included), and the training
    seconds of its busiest worker (each run's own, from its log) -- wall time beyond those is
    the schedule's orchestration overhead: spawning, loading, waiting for prefixes, idling.
    And the commits the trained runs recorded (`store.trained_at`)."""

    trained: int
    busiest_seconds: float
    commits: tuple[str, ...] = ()


def train_side_by_side(cfgs: list[TrainConfig], workers: int, settings: Settings | None = None) -> Schedule:
    """Train every missing run of `cfgs`, and the shared prefixes they continue, in `workers`
    processes (a run trains on `train.CPU_THREADS` threads wherever it trains, so a worker
    computes exactly what this process would). One schedule for all of them: a run starts as
    soon as its prefix is done and a worker is free, longest critical path first -- no waves
    whose last run trains alone while the other workers idle. A failed run raises with its
    run directory once the others are done (the runs continuing it are not started)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from tqdm.auto import tqdm

    s = settings or Settings()
    runs, parent_of = _missing_with_prefixes(cfgs, s)
    if len(runs) <= 1 or workers <= 1:
        for name in _dependency_order(runs, parent_of):
            get_or_train(runs[name], dataclasses.replace(s, executor=None))
        own_dirs = [store.run_dir_for(c, s.runs_root) for c in runs.values()]
        return Schedule(len(runs), sum(store.own_seconds(c, d) for c, d in zip(runs.values(), own_dirs)),
                        tuple(store.trained_at(own_dirs)))
    workers = min(workers, len(runs))
    dirs = {name: store.run_dir_for(c, s.runs_root) for name, c in runs.items()}
    own = {name: total_steps(c) - (c.fork_at or 0) for name, c in runs.items()}  # what each trains itself
    children: dict[str, list[str]] = {}
    for name, parent in parent_of.items():
        children.setdefault(parent, []).append(name)

    @functools.lru_cache(maxsize=None)
    def critical(name):  # steps from this run's start to the end of its longest chain of continuations
        return own[name] + max((critical(c) for c in children.get(name, [])), default=0)

    quiet = dataclasses.replace(s, progress=False, executor=None).to_parameters()
    # spawn, not fork: a forked child inherits torch's OpenMP pool in a state that can hang
    pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), initializer=_worker_init,
                               initargs=(max(1, executors.cpu_cores() // workers),))
    failed, skipped, done, running = [], [], set(), {}
    waiting = set(runs)
    # one bar over the steps of every run (read from the runs' own logs at each evaluation):
    # steps/s and an ETA for the whole schedule, which a bar over finished runs cannot give
    bar = tqdm(total=sum(own.values()), unit="step", dynamic_ncols=True,
               desc=f"{len(runs)} runs, {workers} side by side", disable=not s.progress)
    # and one line per worker: which run it trains and how far it is
    lines = [tqdm(total=1, unit="step", dynamic_ncols=True, position=i + 1, leave=False, disable=not s.progress,
                  bar_format="  {desc}: {n_fmt}/{total_fmt} steps {bar:10} {rate_fmt}") for i in range(workers)]
    for i, line in enumerate(lines):
        line.set_description_str(f"worker {i + 1}: idle", refresh=False)
    slot_of: dict[str, int] = {}
    busy = [0.0] * workers
    before: dict[str, float | None] = {}  # a run's logged wall time when submitted (a resumed one has some)
    broken = False  # a worker process died (killed, out of memory): the pool takes no more runs
    with pool:
        while (waiting and not broken) or running:
            ready = sorted((n for n in waiting if parent_of.get(n) is None or parent_of[n] in done),
                           key=lambda n: (-critical(n), n))
            for name in ready[: workers - len(running)] if not broken else []:
                before[name] = store.last_wall_time(dirs[name])
                try:
                    fut = pool.submit(TrainJob(), runs[name].to_dict(), quiet)
                except BrokenProcessPool:
                    broken = True
                    break
                waiting.discard(name)
                running[fut] = name
                slot_of[name] = min(set(range(workers)) - {slot_of[n] for n in running.values() if n in slot_of})
                lines[slot_of[name]].reset(total=own[name])
                lines[slot_of[name]].set_description_str(worker_label(slot_of[name], runs[name]), refresh=False)
            finished, _ = wait(set(running), timeout=5.0, return_when=FIRST_COMPLETED)
            for fut in finished:
                name = running.pop(fut)
                slot = slot_of.pop(name)
                # this schedule's share of the run: from its log, less what an earlier session had trained
                busy[slot] += (store.own_seconds(runs[name], dirs[name]) if before[name] is None else
                               max(0.0, (store.last_wall_time(dirs[name]) or 0.0) - before[name]))
                lines[slot].reset(total=1)
                lines[slot].set_description_str(f"worker {slot + 1}: idle")
                if fut.exception() is not None:
                    failed.append(f"{dirs[name]}: {fut.exception()!r}")
                    lost = _descendants_of(name, children)
                    skipped += [str(dirs[n]) for n in lost if n in waiting]
                    waiting -= set(lost)
                else:
                    done.add(name)
            bar.n = sum(own[n] if n in done else steps_done(runs[n], dirs[n]) for n in runs)
            bar.set_postfix(done=f"{len(done)}/{len(runs)}", refresh=False)
            bar.refresh()
            for name, slot in slot_of.items():
                lines[slot].n = steps_done(runs[name], dirs[name])
                lines[slot].refresh()
    for line in lines:
        line.close()
    bar.close()
    if failed or broken:
        raise RuntimeError(f"{len(failed)} of {len(runs)} runs failed:\n" + "\n".join(failed)
                           + (f"\nnot started, as they continue a failed run: {', '.join(skipped)}" if skipped else "")
                           + (f"\nnot started, as a worker process died (killed, or out of memory?): "
                              f"{', '.join(str(dirs[n]) for n in sorted(waiting))}; rerun to resume them"
                              if broken and waiting else ""))
    return Schedule(len(runs), max(busy), tuple(store.trained_at(dirs.values())))


def _missing_with_prefixes(cfgs, s: Settings) -> tuple[dict[str, TrainConfig], dict[str, str]]:
    """(run name -> config of every missing run of cfgs and of the missing prefixes they
    continue, run name -> the name of the missing prefix it continues)."""
    runs, parent_of = {}, {}

    def add(c) -> str | None:
        own, found = store.locate(c, s.runs_root)
        if found is not None and not store.damage(found.dir):
            return None  # finished
        # the runs of a stack train as one (get_or_train of any of them): named by its first
        name = own.name if not c.stack_seeds else store.run_dir_for(stack_configs(c)[0], s.runs_root).name
        if name not in runs:
            runs[name] = c
            if _needs_prefix(c, _stack_dirs(stack_configs(c), s)):  # as get_or_train decides
                parent = add(parent_config(c))
                if parent is not None:
                    parent_of[name] = parent
        return name

    for c in cfgs:
        add(c)
    return runs, parent_of


def _job_waves(runs: dict, parent_of: dict) -> list[tuple[list[TrainConfig], str]]:
    """The missing runs as job waves, each after the prefixes its runs continue: by depth in
    their chain (a prefix that continues nothing, the link after it, ...), the runs no one
    continues last."""
    def depth(name):
        return 0 if name not in parent_of else 1 + depth(parent_of[name])

    continued = set(parent_of.values())
    prefixes = sorted((n for n in runs if n in continued), key=depth)
    waves = [([runs[n] for n in prefixes if depth(n) == d], f"paperlib-prefixes-{d}")
             for d in sorted({depth(n) for n in prefixes})]
    return waves + [([c for n, c in runs.items() if n not in continued], "paperlib-runs")]


def _dependency_order(runs: dict, parent_of: dict) -> list[str]:
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        if name in parent_of:
            visit(parent_of[name])
        order.append(name)

    for name in runs:
        visit(name)
    return order


def _descendants_of(name: str, children: dict) -> list[str]:
    out, todo = [], list(children.get(name, []))
    while todo:
        n = todo.pop()
        out.append(n)
        todo += children.get(n, [])
    return out
