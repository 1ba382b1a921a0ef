"""Where training runs and notebooks execute: this process, local job processes, or Slurm.

One frozen setting, `Executor`, names the place; submitit does the work:

    local         this machine: with `workers` = 1 this process trains one run after the
                  other; with more, the runs of a grid train side by side in worker processes
                  that split the CPU cores between them (`paperlib reproduce` on a CPU
                  machine: one worker per core, up to 8 -- a CPU run trains on one thread
                  wherever it trains, and small models use two 1-thread processes 1.6x
                  better than one 2-thread process, measured on this machine)
    local-jobs    submitit's LocalExecutor: every run is a separate process, exactly the
                  code path of a Slurm job, without Slurm (tests; a workstation with GPUs)
    slurm         submitit's SlurmExecutor: one job per run (or per notebook), with the
                  partition, GPUs per node, nodes, time limit and account given here

With more than one GPU per job (`gpus_per_node` x `nodes` > 1) each job starts one task
per GPU and the run trains data-parallel: submitit's TorchDistributedEnvironment exports
RANK/WORLD_SIZE/MASTER_ADDR for accelerate (see `paperlib.train`).

Safety on a shared filesystem comes from the run store (per-run locks, atomic writes,
checkpoints): a job that is preempted or reaches its time limit is requeued by submitit
(`Requeued.checkpoint`) and resumes from the run's last checkpoint; a job that is simply
resubmitted does the same.

This module knows where work runs, not what the work is: the jobs themselves
(`runs.TrainJob`, `reproduce.NotebookJob`) and side-by-side training (`runs`) live above it.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("local", "local-jobs", "slurm")


# what sets each sbatch option paperlib passes itself (`Executor.slurm_parameters`), for an
# `extra` that repeats one; the others by the Executor field of their own name
SET_BY = {"time": "timeout_min", "mem": "mem_gb", "ntasks_per_node": "one task per GPU: gpus_per_node",
          "array_parallelism": "max_parallel", "signal_delay_s": "120 s before the time limit, to requeue",
          "job_name": "paperlib names its jobs"}


@dataclass(frozen=True)
class Executor:
    kind: str = "local"
    folder: str | None = None          # submitit logs and pickles (default: <runs>/_jobs)
    partition: str | None = None
    account: str | None = None
    gpus_per_node: int = 1
    nodes: int = 1
    cpus_per_task: int = 8
    mem_gb: int | None = None
    timeout_min: int = 24 * 60
    max_parallel: int = 64             # Slurm array parallelism
    setup: tuple = ()                  # shell lines run before the job (e.g. "module load cuda", "source .venv/bin/activate")
    extra: dict = field(default_factory=dict)  # further sbatch options, e.g. {"qos": "high"}
    workers: int = 1                   # local: runs trained side by side (see the module doc)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown executor {self.kind!r}; valid: {', '.join(KINDS)}")
        for name in ("gpus_per_node", "nodes", "cpus_per_task", "timeout_min", "max_parallel", "workers"):
            if getattr(self, name) < (0 if name == "gpus_per_node" else 1):
                raise ValueError(f"executor {name} must be positive, got {getattr(self, name)}")
        if self.kind == "slurm" and not self.partition:
            raise ValueError("the slurm executor needs a partition (--partition NAME)")
        clash = [k for k in (*self._named_parameters(), "job_name") if k in self.extra]
        if clash:  # submitit would refuse them at submission, as a bare TypeError
            raise ValueError("executor extra repeats a named setting: " + ", ".join(
                f"{k} ({SET_BY[k]})" if k in SET_BY else k for k in sorted(clash)) + " -- leave it out of extra")

    @property
    def tasks_per_node(self) -> int:
        """One task per GPU (DDP ranks); one task on CPU-only jobs."""
        return max(1, self.gpus_per_node)

    def _named_parameters(self) -> dict:
        return dict(partition=self.partition, time=self.timeout_min, nodes=self.nodes,
                    ntasks_per_node=self.tasks_per_node, cpus_per_task=self.cpus_per_task,
                    gpus_per_node=self.gpus_per_node or None, array_parallelism=self.max_parallel,
                    setup=list(self.setup) or None, account=self.account,
                    mem=f"{self.mem_gb}GB" if self.mem_gb else None, signal_delay_s=120)

    def slurm_parameters(self) -> dict:
        """Parameters in submitit's SlurmExecutor / sbatch naming."""
        return {k: v for k, v in {**self._named_parameters(), **self.extra}.items() if v is not None}


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


def default_workers() -> int:
    """Runs trained side by side on this machine: one (it has the GPU) where torch sees a GPU,
    else one per core up to 8 (a CPU run trains on one thread, `train.CPU_THREADS`, so that
    its numbers do not depend on where it trains; 8 bounds the memory of loaded task data)."""
    import torch

    return 1 if torch.cuda.is_available() else max(1, min(8, cpu_cores()))


def job_folder(executor: Executor, runs_root: Path | None = None) -> Path:
    from . import paths

    return Path(executor.folder) if executor.folder else Path(runs_root or paths.runs_dir()) / "_jobs"


def submitit_executor(executor: Executor, folder: Path, name: str, single_task: bool = False):
    """A submitit executor for `executor`; single_task: one task per job whatever the GPUs
    (notebook jobs: the notebook runs once and trains on the node's first GPU)."""
    import submitit

    if executor.kind == "local-jobs":
        ex = submitit.LocalExecutor(folder=str(folder))
        ex.update_parameters(timeout_min=executor.timeout_min, gpus_per_node=executor.gpus_per_node,
                             tasks_per_node=1, nodes=1)
        return ex
    ex = submitit.SlurmExecutor(folder=str(folder))  # raises a clear error where Slurm is absent
    params = executor.slurm_parameters()
    if single_task:
        params.update(ntasks_per_node=1, nodes=1)
    ex.update_parameters(job_name=name, **params)
    return ex


def sbatch_script(executor: Executor, folder: Path, name: str = "paperlib") -> str:
    """The sbatch file submitit would submit for one job (for --dry-run; no Slurm needed)."""
    from submitit.slurm.slurm import _make_sbatch_string

    command = " ".join(shlex.quote(a) for a in (sys.executable, "-u", "-m", "submitit.core._submit", str(folder)))
    return _make_sbatch_string(command=command, folder=str(folder), job_name=name, **executor.slurm_parameters())


def distributed_setup() -> None:
    """Inside a job with several tasks: export the torch.distributed variables accelerate
    reads. A single-task job (or a local process) is left alone."""
    try:
        import submitit

        env = submitit.JobEnvironment()
    except (ImportError, RuntimeError):  # not inside a submitit job (a local worker needs no submitit)
        return
    if env.num_tasks > 1:
        # MASTER_ADDR/PORT, RANK, WORLD_SIZE, LOCAL_RANK; accelerate then puts rank r on GPU LOCAL_RANK
        submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


class Requeued:
    """submitit's requeueing protocol (as helpers.Checkpointable): on preemption or timeout
    the same call is submitted again; the run store resumes from the runs' checkpoints."""

    def checkpoint(self, *args, **kwargs):
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def run_jobs(executor: Executor, function, arg_lists: list[tuple], folder: Path, name: str, progress: bool = True,
             single_task: bool = False) -> list:
    """Submit function(*args) for each args as one job array and wait for all results.
    Failed jobs raise, once every job is over, with the paths of their logs."""
    from tqdm.auto import tqdm

    if not arg_lists:
        return []
    ex = submitit_executor(executor, folder, name, single_task)
    with ex.batch():
        jobs = [ex.submit(function, *args) for args in arg_lists]
    results, failed = [], []
    for job in tqdm(jobs, desc=f"{name} ({executor.kind} jobs)", disable=not progress, unit="job"):
        try:
            results.append(job.result())
        except Exception as exc:  # waited for like the others: the next wave starts when this one is over
            failed.append(f"job {job.job_id} failed; its log: {job.paths.stderr}\n{exc}")
    if failed:
        raise RuntimeError("\n".join(failed))
    return results


def from_dict(d: dict) -> Executor:
    """An Executor from its dataclasses.asdict form (how settings travel to notebooks and jobs)."""
    return Executor(**{**d, "setup": tuple(d.get("setup") or ())})
