"""What `paperlib reproduce --dry-run` prints: every run the notebooks would train at a
preset, how many steps each trains, and the GPU-hours that costs -- and, on a machine
without a GPU, the wall time of training them here (`cpu_throughput`).

The runs come from `experiments.notebook_runs` (the same functions the notebooks call).
Shared prefixes (Order Matters' pre-training, the restart baseline's and COOLDOWN's first
part) are counted once, as the run store trains them once. FLOPs per step are measured:
one forward and backward pass of the preset's model on one example at full length is
counted by torch's FlopCounterMode (on the CPU, seconds) and scaled by the batch size.
GPU-hours divide those FLOPs by the throughput measured on a GPU by
`benchmarks/bench_gpu.py` (benchmarks/results_gpu_*.json), so they are an estimate for
that GPU, with sequences at their prepared data's mean length (where the data are not
prepared, the lengths shipped with the preset's runs; else full length, an upper bound).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass

from . import paths, presets
from .config import TrainConfig, build_plan, config_hash, parent_config, stack_configs, total_steps

DEFAULT_THROUGHPUT = ("NVIDIA H100 (TF32, measured by benchmarks/bench_gpu.py)", 95e12)


@dataclass(frozen=True)
class PlannedRun:
    notebooks: tuple[str, ...]
    config: TrainConfig
    steps: int                  # steps this run trains itself (after its shared prefix)
    flops_per_step: float

    @property
    def flops(self) -> float:
        return self.steps * self.flops_per_step


@functools.lru_cache(maxsize=None)
def flops_per_example(model_cfg, kind: str, vocab: int) -> float:
    """Training FLOPs (forward + backward) for one example of model_cfg.max_len tokens
    (source and target for translation), counted by torch on the CPU."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .models import build_model

    torch.manual_seed(0)
    model = build_model(model_cfg, kind, vocab, 0, 1, 2)
    ids = torch.randint(3, vocab, (1, model_cfg.max_len))
    inputs = {"input_ids": ids, "decoder_input_ids": ids} if kind == "translation" else {"input_ids": ids}
    counter = FlopCounterMode(display=False)
    with counter:
        model(**inputs).logits.float().sum().backward()
    return float(counter.get_total_flops())


@functools.lru_cache(maxsize=None)
def _manifest_share(manifest_path, max_len: int, sides: int) -> float | None:
    try:
        tasks = json.loads(manifest_path.read_text())["tasks"]
    except (OSError, ValueError, KeyError):
        return None
    return _tasks_share(tasks, max_len, sides)


def _tasks_share(tasks: dict, max_len: int, sides: int) -> float | None:
    shares = [min(1.0, t["train"]["tokens"] / max(1, t["train"]["examples"]) / (sides * max_len)) for t in tasks.values()]
    return sum(shares) / len(shares) if shares else None


def _shipped_share(cfg: TrainConfig, folder: str, sides: int) -> float | None:
    try:
        tasks = json.loads(paths.shipped_data_lengths(cfg.data.preset).read_text())[folder]
    except (OSError, ValueError, KeyError):
        return None
    return _tasks_share(tasks, cfg.model.max_len, sides)


def length_share(cfg: TrainConfig) -> float:
    """The mean training example's length as a share of the full length FLOPs are counted at
    (`flops_per_example`): the mean over the task set's tasks of their prepared data's mean
    tokens per example (source and target for translation); while they are not prepared,
    the counts shipped beside the preset's runs (`paths.shipped_data_lengths`), else 1 (an
    upper bound).
    The dry run never prepares data."""
    from .data.pipeline import prepared_dir_of
    from .data.tasksets import taskset_of

    root, name = prepared_dir_of(cfg.data)
    sides = 2 if taskset_of(cfg.data).kind == "translation" else 1
    share = _manifest_share(root / "manifest.json", cfg.model.max_len, sides)
    if share is None:
        share = _shipped_share(cfg, name, sides)
    return 1.0 if share is None else share


def _vocab(cfg: TrainConfig) -> int:
    return cfg.data.vocab_size or presets.get(cfg.data.preset).vocab_size


def _run_identity(cfg: TrainConfig) -> str:
    """The store's identity of a run (`store.resolve`) without preparing its data: the plan is
    resolved on placeholder task sizes in general position, so that two plans are equal here
    exactly when they are equal on the real sizes -- one pre-training shared by the
    pre-train -> fine-tune and fine-tune-only plans (or static sampling and its restart) is
    counted once, and temperature plans of different tau stay apart."""
    from .data.tasksets import taskset_of

    tasks = taskset_of(cfg.data).tasks
    placeholder = {task: 1009 + 7919 * i for i, task in enumerate(tasks)}
    return config_hash(cfg.identity(build_plan(cfg, placeholder)))


def planned_runs(preset: str, only: list[str] | None = None, parameters: dict | None = None) -> list[PlannedRun]:
    """The runs the notebooks train at their `parameters` (`experiments.notebook_runs`)."""
    from . import experiments as E

    by_notebook = E.notebook_runs(preset, parameters)
    if only:
        by_notebook = {k: v for k, v in by_notebook.items() if k in {n.removesuffix(".ipynb") for n in only}}
    else:  # what `paperlib reproduce` runs at this size
        by_notebook = {k: v for k, v in by_notebook.items() if presets.get(preset).runs_notebook(k)}
    found: dict[str, tuple[TrainConfig, int, set]] = {}

    def add(cfg: TrainConfig, notebook: str, steps: int, key=None):
        key = key or _run_identity(cfg)
        if key not in found:
            found[key] = (cfg, steps, set())
        found[key][2].add(notebook)

    def add_with_prefixes(cfg: TrainConfig, notebook: str):
        """cfg's own steps, and those of the chain of shared prefixes it continues (with the
        other seeds of its stack, which train with it)."""
        for run in stack_configs(cfg):
            add(run, notebook, total_steps(cfg) - (cfg.fork_at or 0))
        if cfg.fork_at is not None:
            add_with_prefixes(parent_config(cfg), notebook)

    for notebook, grid in by_notebook.items():
        for cfg, _ in grid:
            add_with_prefixes(cfg, notebook)
        if notebook in E.DOREMI_NOTEBOOKS:  # DoReMi's reference and proxy models, one run's length each,
            from .data.tasksets import taskset_of  # each trained alone
            from .doremi import reference_config

            taskset, experiment = E.doremi_taskset(notebook, parameters)
            proxy = dataclasses.replace(E.doremi_proxy_config(preset, taskset, experiment), stack_seeds=())
            steps = total_steps(proxy)
            # the reference is a stored run: where the grid trains the same one (UniMax, when its
            # budget leaves uniform weights) the store trains it once, and so it is counted once
            add(reference_config(proxy, steps, len(taskset_of(proxy.data).tasks)), notebook, steps)
            # the proxy is not stored: keyed apart from a grid run with its settings (a tau=1 prefix)
            add(proxy, notebook, steps, key=("DoReMi proxy", _run_identity(proxy)))
    return [PlannedRun(tuple(sorted(notebooks)), cfg, steps, flops_per_step(cfg)) for cfg, steps, notebooks in found.values()]


def flops_per_step(cfg: TrainConfig) -> float:
    """Training FLOPs of one of cfg's steps: its model's per example at full length
    (`flops_per_example`) times its batch, at its data's mean example length (`length_share`)."""
    from .data.tasksets import taskset_of

    return flops_per_example(cfg.model, taskset_of(cfg.data).kind, _vocab(cfg)) * cfg.batch_size * length_share(cfg)


SIDE_BY_SIDE = {False: "side_by_side", True: "side_by_side_stacked"}
"""The keys of a GPU result (benchmarks/gpu_session.py's `side_by_side` summary, copied into
benchmarks/results_gpu_*.json) holding a preset's measured rate with its runs trained alone
and as stacks of seeds: steps/s of all runs together, a stack's K runs counting K steps."""


def measured_throughput(preset: str | None = None, stacked: bool = False) -> tuple[str, float]:
    """(where, effective training FLOP/s) from the GPU benchmarks' results.

    A preset measured as a whole (benchmarks/gpu_session.py: its runs side by side on one
    GPU, small models being launch-bound) is charged at that measured rate: aggregate
    steps/s times the FLOPs of its step; a run that trains in a stack of seeds
    (`stacked`) at the rate measured with stacks where there is one (else alone: an upper
    bound where stacking pays). Otherwise: the TF32 rate of a paper-size model."""
    results = [(p, json.loads(p.read_text())) for p in sorted((paths.PACKAGE_ROOT / "benchmarks").glob("results_gpu_*.json"))]
    # a variant measured through its base preset (a 6-layer preset, not measured itself): small
    # models are launch-bound, so its steps are charged as taking longer by the ratio of layers
    # (twice the kernels per step), whatever their FLOPs -- an estimate until measured
    measured = [preset] if preset is None or presets.get(preset).varies is None else [preset, presets.get(preset).varies]
    for key in dict.fromkeys((SIDE_BY_SIDE[stacked], SIDE_BY_SIDE[False])):
        for name in measured:
            for path, res in results:
                side = res.get(key, {})
                if name is not None and side.get("preset") == name:
                    return _side_by_side_rate(name, side, res, path, preset)
    for path, res in results:
        mfu = res.get("gpu_mfu", {})
        if "tf32" in mfu:
            return f"{mfu['device']} (TF32, {path.name})", mfu["tf32"]["tflops"] * 1e12
    return DEFAULT_THROUGHPUT


def _side_by_side_rate(measured: str, side: dict, res: dict, path, charged: str) -> tuple[str, float]:
    """The FLOP rate at which preset `charged` is costed from preset `measured`'s runs side by
    side (`measured_throughput`): its steps/s, times the charged preset's FLOPs per step;
    for a deeper variant the steps/s divided by the ratio of layers."""
    from . import experiments as E

    p, q = presets.get(measured), presets.get(charged)
    # the rate is measured in steps/s on the preset's first pair (benchmarks/gpu_session.py):
    # FLOPs per step counted like the planned runs', at that data's mean length
    measured_on = E.static_rate(charged, side.get("taskset", p.hrl_lrl_sets[0]), q.rate_grid[0], "calibration")
    per_step = flops_per_example(q.model, "translation", q.vocab_size) * q.batch_size * length_share(measured_on)
    steps_per_s = side["aggregate_steps_per_s"] * p.model.layers / q.model.layers
    note = "" if measured == charged else (f" (measured on {measured}; {q.model.layers}-layer steps charged "
                                           f"{q.model.layers / p.model.layers:g}x as long, unmeasured)")
    how = f"each a stack of {side.get('stack', '?')} seeds, " if side.get("stacked") else ""
    return (f"{res['device']} ({side['workers']} runs side by side, {how}{side['aggregate_steps_per_s']:.0f} steps/s "
            f"together over whole groups, evaluation included, {path.name}){note}", steps_per_s * per_step)


def matmul_peak(device: str = "cpu", n: int = 2048, repeats: int = 10, dtype=None) -> float:
    """FLOP/s of an n x n matmul on this device and its current threads (fp32; bf16 where
    `dtype` says so): the peak every speed figure is a ratio against."""
    import time

    import torch

    dtype = dtype or torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync()
    return 2 * n ** 3 * repeats / (time.perf_counter() - start)


def cpu_throughput(workers: int) -> tuple[str, float]:
    """(how it was measured, training FLOP/s of `workers` runs side by side on this CPU).

    Each run trains on one thread (`train.CPU_THREADS`), so its rate is the one-thread matmul
    peak measured now times the fraction of its peak a training step reaches -- a ratio
    measured by benchmarks/bench_step.py on whichever machine ran it (benchmarks/results.json),
    never a throughput copied from another machine."""
    import torch

    from .executors import cpu_cores

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        peak = matmul_peak("cpu", repeats=3)  # the size bench_step measures its peak at
    finally:
        torch.set_num_threads(before)
    try:
        fraction = json.loads((paths.PACKAGE_ROOT / "benchmarks" / "results.json").read_text())["step"]["useful_flops_fraction"]
    except (OSError, KeyError, ValueError):
        fraction = 0.35  # what bench_step measured on the 2-core machines of this project
    used = max(1, min(workers, cpu_cores()))
    return (f"{used} run(s) side by side on this CPU, one thread each: {peak / 1e9:.0f} GFLOPS matmul peak per core "
            f"measured now x {fraction:.2f}, the share of it a training step reaches (benchmarks/results.json)",
            peak * fraction * used)


def describe(preset: str, only: list[str] | None = None, executor=None, parameters: dict | None = None) -> str:
    import torch

    from . import executors

    planned = planned_runs(preset, only, parameters)
    where, flops_per_s = measured_throughput(preset)
    where_stacked, stacked_flops_per_s = measured_throughput(preset, stacked=True)

    def gpu_hours(p: PlannedRun) -> float:
        return p.flops / (stacked_flops_per_s if p.config.stack_seeds else flops_per_s) / 3600

    stacked = [p for p in planned if p.config.stack_seeds]
    used = ([where] if len(stacked) < len(planned) else []) + ([where_stacked] if stacked else [])
    cpu = None if torch.cuda.is_available() else cpu_throughput(
        executor.workers if executor is not None and executor.kind == "local" else executors.default_workers())
    lines = [f"paperlib reproduce --preset {preset}: {len(planned)} training runs "
             f"(shared prefixes counted once)", ""]
    from .store import mixture_label

    # run: its identity (config hash), which tells apart runs the other columns do not (pre-training
    # lengths, dropout, clipping, schedules)
    header = ("experiment", "method", "taskset", "mixture", "seed", "run", "steps", "batch", "TFLOP/step", "GPU-h",
              "notebooks")
    rows = [header]
    for p in sorted(planned, key=lambda p: (p.config.experiment, p.config.plan.method, p.config.data.taskset,
                                            mixture_label(p.config), p.config.seed)):
        c = p.config
        rows.append((c.experiment, c.plan.method, c.data.taskset, mixture_label(c),
                     ",".join(map(str, c.stack_seeds)) if c.stack_seeds else str(c.seed), config_hash(c)[:8],
                     f"{p.steps:,}", str(c.batch_size), f"{p.flops_per_step / 1e12:.2f}",
                     f"{gpu_hours(p):,.2f}", ",".join(n.split("_")[0] for n in p.notebooks)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    per_nb: dict[str, list[float]] = {}  # notebook -> [GPU-h, FLOPs]
    for p in planned:
        for n in p.notebooks:  # a shared run is charged to the first notebook that trains it
            per_nb.setdefault(n, [0.0, 0.0])
        per_nb[p.notebooks[0]][0] += gpu_hours(p)
        per_nb[p.notebooks[0]][1] += p.flops
    total_h = sum(map(gpu_hours, planned))
    lines += ["", "hours by notebook (a shared run counted where it is first trained):",
              f"  {'':34s} {'GPU-h':>10s}" + (f" {'CPU wall h':>11s}" if cpu else "")]
    lines += [f"  {n:34s} {h:10,.1f}" + (f" {f / cpu[1] / 3600:11,.2f}" if cpu else "")
              for n, (h, f) in sorted(per_nb.items())]
    rates = f"{flops_per_s / 1e12:.1f} TFLOP/s measured on {where}"
    if stacked and where_stacked != where:
        stacked_rate = f"{stacked_flops_per_s / 1e12:.1f} TFLOP/s measured on {where_stacked}"
        rates = (f"{rates}; the {len(stacked)} runs trained in stacks of seeds at {stacked_rate}"
                 if len(stacked) < len(planned) else stacked_rate)
    lines += ["", f"total: {sum(p.steps for p in planned):,} steps, {sum(p.flops for p in planned):.3g} FLOPs "
                  f"≈ {total_h:,.{2 if total_h < 10 else 0}f} GPU-hours at {rates}",
              "(sequences at their prepared data's mean length, or the lengths shipped with the preset's runs "
              "(results/<preset>/data_lengths.json), else at full length -- an upper bound --" + ("" if all("evaluation included" in w for w in used) else "; evaluation and beam search not included")
              + ")"]
    if stacked and where_stacked == where:
        lines += [f"({len(stacked)} of the runs train in stacks of seeds (`Preset.stack_seeds`); no rate was measured "
                  "with stacks, so each is charged as a run of its own at the rate of runs trained alone: an upper "
                  "bound where stacking pays)"]
    if cpu:
        cpu_h = sum(p.flops for p in planned) / cpu[1] / 3600
        lines += [f"total on this machine: ≈ {cpu_h:,.2f} h of training wall time ({cpu[0]}; evaluation not "
                  "included)"]
    if executor is not None and executor.kind == "slurm":
        folder = executors.job_folder(executor)
        lines += ["", f"each run is one Slurm job like this ({executor.gpus_per_node} GPU(s) per node, "
                      f"{executor.nodes} node(s); the shared prefixes first, then the runs continuing them), "
                      f"then each notebook one job that reads them (`reproduce`); submitit writes them to {folder}:",
                  "", executors.sbatch_script(executor, folder, "paperlib-runs")]
    return "\n".join(lines)
