"""Execute the notebooks with papermill and summarise what they produced."""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import paths, presets, report
from .executors import Requeued
from .presets import check_preset
from .report import NOT_SHIPPED

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class NotebookResult:
    name: str
    status: str  # "ok" | "failed" | NOT_SHIPPED
    seconds: float
    figures: list[Path] = field(default_factory=list)
    error: str = ""


# the notebooks `paperlib reproduce` runs, in order; anything else in notebooks/ (a scratch
# notebook saved there) is neither executed nor reported
NOTEBOOKS = (
    "A1_fig01_hrl_hrl_fronts", "A2_fig02_hrl_lrl_fronts", "A3_fig03_efficiency", "A4_fig05_regularisation",
    "A5_fig06_finetune_only", "A6_fig07_multilingual_lm", "A7_fig09_pretraining_length", "A8_fig26_bleu_fronts",
    "B0_fig02_variance_theory", "B1_fig03_gradient_variance", "B2_fig04_sampling_vs_weighting",
    "B3_fig01_cooldown_lrl", "B4_table3_one_to_many", "B5_table4_multilingual_lm", "B6_fig05_07_schedules",
)


def list_notebooks(directory: Path | None = None) -> dict[str, Path]:
    """Registered notebook name -> path, in execution order."""
    directory = directory or paths.notebooks_dir()
    missing = [n for n in NOTEBOOKS if not (directory / f"{n}.ipynb").exists()]
    if missing:
        raise FileNotFoundError(f"notebook(s) {', '.join(missing)} missing from {directory}; run paperlib from a "
                                "clone of the repository (pip install -e .)")
    return {n: directory / f"{n}.ipynb" for n in NOTEBOOKS}


def notebook_title(path: Path) -> str:
    """First markdown heading of the notebook, for --list."""
    nb = json.loads(path.read_text())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def select(names: list[str] | None, available: dict[str, Path]) -> dict[str, Path]:
    if not names:
        return available
    unknown = [n for n in names if n.removesuffix(".ipynb") not in available]
    if unknown:
        raise ValueError(f"unknown notebook(s) {unknown}; valid: {', '.join(available)}")
    wanted = {n.removesuffix(".ipynb") for n in names}
    return {k: v for k, v in available.items() if k in wanted}


def _format_error(exc) -> str:
    """The failing cell's exception and the tail of its traceback, without colour codes."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    tb = [_ANSI.sub("", t) for t in (getattr(exc, "traceback", None) or [])]
    # the notebook's own frames ("Cell In[n], line k") say where; the last frame says what
    cell_frames = [t for t in tb if t.lstrip().startswith("Cell In[")]
    tail = "\n".join(cell_frames[-1:] + tb[-1:])
    where = f"cell [{cell}]: " if cell is not None else ""
    return f"{where}{ename}: {evalue}\n{tail}".strip()


def run_notebook(
    path: Path, preset: str, out_dir: Path, figures_dir: Path, parameters: dict | None = None, progress: bool = True
) -> NotebookResult:
    """Execute one notebook with papermill; the executed copy goes to out_dir."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir.mkdir(parents=True, exist_ok=True)
    params = {"preset": preset, "figures_dir": str(figures_dir), **(parameters or {})}
    before = {p: p.stat().st_mtime_ns for p in figures_dir.glob("*") if p.is_file()}
    start = time.time()
    status, error = "ok", ""
    try:
        pm.execute_notebook(
            str(path),
            str(out_dir / path.name),
            parameters=params,
            kernel_name="python3",
            progress_bar=progress,
            cwd=str(path.parent),
        )
    except Exception as exc:  # papermill wraps the cell's exception; report and go on
        # figures only, and none of the notebook's runs shipped (e.g. the preset's grid has
        # moved on since they were trained): said as such, not as a failure of the code
        status = NOT_SHIPPED if getattr(exc, "ename", "") == "MissingRun" else "failed"
        error = _format_error(exc)
    written = sorted(p for p in figures_dir.glob("*") if p.is_file() and before.get(p) != p.stat().st_mtime_ns)
    return NotebookResult(path.stem, status, time.time() - start, written, error)


def reproduce(
    preset: str, only: list[str] | None = None, figures_root: Path | None = None, progress: bool = True,
    executor=None, figures_only: bool = False, log_with: str | None = None,
) -> list[NotebookResult]:
    """Run the selected notebooks; a failure does not stop the others. With a job executor
    (`paperlib.executors.Executor`, e.g. slurm) every notebook runs as one job, in parallel;
    the data is prepared here first (the run store and data live on a shared filesystem).
    With local workers, each notebook's missing runs train side by side. figures_only: the
    notebooks read the runs shipped with the repository (`paths.shipped_runs_dir`) and
    train nothing; a notebook whose runs are not all there fails, naming the first missing."""
    from . import executors
    from .runs import Settings

    check_preset(preset)
    chosen = select(only, list_notebooks())
    if not only:  # named with --only: run whatever its size
        sized = presets.get(preset)
        skipped = [n for n in chosen if not sized.runs_notebook(n)]
        chosen = {n: p for n, p in chosen.items() if sized.runs_notebook(n)}
        if skipped:
            print(f"not run at the {preset} size (their runs would not reach the regime their claims need; "
                  f"see the gpu preset): {', '.join(skipped)}", flush=True)
    out_dir = paths.runs_dir() / "notebooks" / preset
    figures = Path(figures_root) if figures_root else paths.figures_dir(preset)
    _prepare_data(preset, progress, list(chosen))
    results = []
    if executor is not None and executor.kind != "local" and not figures_only:
        folder = executors.job_folder(executor) / "notebooks"
        # each notebook job trains its runs on its own node; a run another job is training is waited for
        settings = Settings(wait_locked=True, progress=False, log_with=log_with).to_parameters()
        args = [(str(path), preset, str(out_dir), str(figures), settings) for path in chosen.values()]
        print(f"submitting {len(args)} notebooks as {executor.kind} jobs (logs: {folder})", flush=True)
        results = executors.run_jobs(executor, NotebookJob(), args, folder, "paperlib-notebooks",
                                     progress, single_task=True)
        for res in results:
            _record(figures, res)
    else:
        settings = Settings(executor=executor, progress=progress, log_with=log_with).to_parameters()
        if figures_only:
            shipped = paths.shipped_runs_dir(preset)
            print(f"figures only: reading the runs shipped in {shipped}; training nothing", flush=True)
            settings = Settings(runs_root=shipped, progress=progress, train_missing=False).to_parameters()
        if executor is not None:
            print(f"training runs {executor.workers} side by side", flush=True)
        for i, (name, path) in enumerate(chosen.items(), 1):
            print(f"[{i}/{len(chosen)}] {name} (preset {preset})", flush=True)
            results.append(_record(figures, run_notebook(path, preset, out_dir, figures, {"run_settings": settings},
                                                         progress=progress)))
    titles = {name: notebook_title(path) or name for name, path in list_notebooks().items()}
    written = report.write(preset, titles, figures)
    print(f"report: {written[0]}", flush=True)
    return results


class NotebookJob(Requeued):
    """One notebook as a job: papermill inside, its runs trained on the job's node (how,
    `run_settings` says: runs shared with a notebook in another job are waited for)."""

    def __call__(self, path: str, preset: str, out_dir: str, figures_dir: str, run_settings: dict):
        return run_notebook(Path(path), preset, Path(out_dir), Path(figures_dir), {"run_settings": run_settings},
                            progress=False)


def _record(figures_dir: Path, res: NotebookResult) -> NotebookResult:
    if res.status == NOT_SHIPPED:
        print(f"  {res.name}: {NOT_SHIPPED}: {res.error.splitlines()[0]}", flush=True)
        # its verdicts of earlier runs would sit beside a notebook that drew nothing now
        (paths.records_dir(figures_dir) / f"{res.name}.claims.json").unlink(missing_ok=True)
    elif res.status != "ok":
        print(f"  {res.name} FAILED after {res.seconds:.1f}s: {res.error}", file=sys.stderr, flush=True)
    report.record_notebook(figures_dir, res)
    return res


def needed_tasksets(preset: str, notebooks) -> list[str]:
    """The task sets the given notebooks train on at `preset` (none for the theory notebook)."""
    from . import experiments as E
    from .data import TASKSETS

    grids = E.notebook_runs(preset)
    wanted = {c.data.taskset for nb in notebooks for c, _ in grids.get(nb, [])}
    wanted |= {E.DOREMI_NOTEBOOKS[nb][0] for nb in notebooks if nb in E.DOREMI_NOTEBOOKS}
    return [name for name in TASKSETS if name in wanted]


def _prepare_data(preset: str, progress: bool, notebooks) -> None:
    """Prepare the task sets the notebooks need once, in this process, before them: the
    DDTP corpus is then parsed once instead of once per notebook kernel."""
    from .data import prepare

    names = needed_tasksets(preset, notebooks)
    if not names:
        return
    start = time.time()
    print(f"preparing data ({preset}): {', '.join(names)}", flush=True)
    for name in names:
        prepare(name, preset, progress=progress)
    print(f"data ready in {time.time() - start:.0f}s", flush=True)


def summary_table(results: list[NotebookResult]) -> str:
    rows = [("notebook", "status", "wall time", "figures written")]
    for r in results:
        rows.append((r.name, r.status, f"{r.seconds:.1f}s", str(len(r.figures))))
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
