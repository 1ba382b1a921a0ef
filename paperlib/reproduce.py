"""Execute the notebooks with papermill and summarise what they produced."""

from __future__ import annotations

import functools
import json
import os
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
    "C1_advise_sampling_plan",
)


# which role of a researcher's corpus (`paperlib.data.tasksets.ROLES`) each notebook's task-set
# parameters take under `--source dir PATH`; a list parameter takes a list of one
CORPUS_PARAMETERS = {
    "A1_fig01_hrl_hrl_fronts": {"taskset": "two_hrl"},
    "A2_fig02_hrl_lrl_fronts": {"tasksets": ["pair"]},
    "A3_fig03_efficiency": {"tasksets": ["pair"]},
    "A4_fig05_regularisation": {"taskset": "pair"},
    "A5_fig06_finetune_only": {"taskset": "pair"},
    "A6_fig07_multilingual_lm": {"taskset": "lm"},
    "A7_fig09_pretraining_length": {"lm_taskset": "lm", "nmt_taskset": "pair"},
    "A8_fig26_bleu_fronts": {"tasksets": ["pair"]},
    "B0_fig02_variance_theory": {},
    "B1_fig03_gradient_variance": {"taskset": "pair"},
    "B2_fig04_sampling_vs_weighting": {"tasksets": ["pair"]},
    "B3_fig01_cooldown_lrl": {"taskset": "pair"},
    "B4_table3_one_to_many": {"taskset": "many"},
    "B5_table4_multilingual_lm": {"taskset": "lm"},
    "B6_fig05_07_schedules": {"mt_taskset": "pair", "lm_taskset": "lm"},
    "C1_advise_sampling_plan": {"taskset": "pair"},
}


def default_source(preset: str) -> str:
    """Where `reproduce` reads text when --source is not given: the papers' own corpora from
    the hub at the paper presets (paper, paper6: their sizes are the papers'), DDTP elsewhere."""
    p = presets.get(preset)
    return "hub" if (p.varies or p.name) == "paper" else "ddtp"


def output_label(preset: str, source: str) -> str:
    """The folder name of a reproduction's figures and report: the preset's name for its
    default source, else preset-source (figures/mini-hub/, figures/paper-ddtp/), so that no
    source ever writes over another's."""
    return preset if source == default_source(preset) else f"{preset}-{source}"


@dataclass(frozen=True)
class Corpus:
    """A researcher's corpus folder to run the notebooks on (`--source dir PATH`) and the
    pairs standing for the papers' high- and low-resource tasks (default: those its
    roles.yaml names, else its largest and its smallest pair)."""

    folder: str
    hrl: str | None = None
    lrl: str | None = None

    @property
    def name(self) -> str:
        return Path(self.folder).resolve().name

    def roles(self) -> dict[str, str | None]:
        from .data import sources, tasksets

        return tasksets.corpus_roles(sources.load_dir(Path(self.folder)), self.folder, self.hrl, self.lrl)

    def describe_roles(self, roles: dict[str, str | None]) -> str:
        """One line: which of the corpus's task sets fills each role it can fill."""
        from .data.tasksets import short_name

        return f"your corpus {self.folder}: " + "; ".join(f"{r} = {short_name(q)}" for r, q in roles.items() if q)


# parameters a notebook runs without (None: that part of its figure is not drawn), so that a
# corpus lacking their role still gets the rest: Fig. 9's NMT half without monolingual text
CORPUS_OPTIONAL = {"A7_fig09_pretraining_length": {"lm_taskset"}}


def corpus_parameters(notebooks, roles: dict[str, str | None]) -> tuple[dict[str, dict], dict[str, list[str]]]:
    """(notebook -> its task-set parameters on the corpus, notebook -> the roles the corpus
    cannot fill, for the notebooks it skips; an optional parameter, `CORPUS_OPTIONAL`, is
    given as None instead)."""
    params, skipped = {}, {}
    for name in notebooks:
        wanted = CORPUS_PARAMETERS[name]
        missing = sorted({r for k, v in wanted.items() if k not in CORPUS_OPTIONAL.get(name, ())
                          for r in (v if isinstance(v, list) else [v]) if roles[r] is None})
        if missing:
            skipped[name] = missing
        else:
            params[name] = {k: [roles[r] for r in v] if isinstance(v, list) else roles[v] for k, v in wanted.items()}
    return params, skipped


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
    """The notebooks named (`--only`): whole names, with or without ".ipynb", or a prefix that
    names one notebook ("A2", "B3_fig01"); comma-separated lists are split. In the order of
    `available`; an unknown or ambiguous name is a one-line error listing the valid ones."""
    if not names:
        return available
    wanted, unknown = set(), []
    for name in (n.strip().removesuffix(".ipynb") for given in names for n in given.split(",") if n.strip()):
        matches = [k for k in available if k == name] or [k for k in available if k.startswith(name)]
        if len(matches) == 1:
            wanted.add(matches[0])
        else:
            unknown.append(f"{name} (matches {', '.join(matches)})" if matches else name)
    if unknown or not wanted:  # an empty name (--only ,) names nothing, not everything
        raise ValueError(f"unknown or ambiguous notebook(s) {unknown or names}; valid: {', '.join(available)} "
                         "(a unique prefix such as A2 is enough)")
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


KERNEL = "paperlib"
"""The kernelspec the notebooks name (`make setup` installs it inside .venv)."""


def kernel_name() -> str:
    """The notebooks' own kernel where it is installed, else the environment's default one
    (an install without `make setup`): both run this Python."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL if KERNEL in KernelSpecManager().find_kernel_specs() else "python3"


# The kernel's own log lines are not about the notebook: ipykernel 7 warns on every start that
# its localhost TCP sockets are unencrypted (IPC sockets would fail on a long or network-mounted
# runtime dir), and logs an ERROR when jupyter_client interrupts it before every shutdown. A cell's
# warnings and errors reach the executed notebook and our error line through the kernel's
# messages, not through this log.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


@functools.cache
def notebook_kernel_manager() -> type:
    """jupyter_client's kernel manager with two changes for the notebooks `reproduce` runs:
    - the kernel imports the paperlib this process runs (`paths.PACKAGE_ROOT` first on its
      PYTHONPATH): a kernel spec's Python may have another checkout installed (a second clone
      sharing one .venv), whose code would then draw the figures under this checkout's commit;
    - no interrupt before a kernel's shutdown (jupyter_client >= 8): papermill shuts the kernel
      down when the notebook has run or failed, so nothing is left to interrupt, and ipykernel
      answers it with a false ERROR line."""
    from jupyter_client.manager import AsyncKernelManager

    class NotebookKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            env = dict(kw.get("env") or os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(paths.PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
            return await super()._async_pre_start_kernel(**{**kw, "env": env})

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:  # a cell's time-out still interrupts
                await super()._async_interrupt_kernel()

    return NotebookKernelManager


def _stamp(path: Path) -> tuple[int, int]:
    """Which file is at `path` (its inode and modification time): a record rewritten since
    (`files.atomic_write` renames a new file into place) has another."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def run_notebook(
    path: Path, preset: str, out_dir: Path, figures_dir: Path, parameters: dict | None = None, progress: bool = True
) -> NotebookResult:
    """Execute one notebook with papermill; the executed copy goes to out_dir."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir.mkdir(parents=True, exist_ok=True)
    params = {"preset": preset, "figures_dir": str(figures_dir), **(parameters or {})}
    if "run_settings" not in pm.inspect_notebook(str(path)):  # one that trains nothing (the theory's) takes none
        params.pop("run_settings", None)
    records = [paths.records_dir(figures_dir) / f"{path.stem}.{kind}.json" for kind in ("claims", "advice")]
    earlier = {p: _stamp(p) for p in records if p.exists()}
    before = {p: p.stat().st_mtime_ns for p in figures_dir.glob("*") if p.is_file()}
    start = time.time()
    status, error = "ok", ""
    try:
        pm.execute_notebook(
            str(path),
            str(out_dir / path.name),
            parameters=params,
            kernel_name=kernel_name(),
            progress_bar=progress,
            cwd=str(path.parent),
            kernel_manager_class=notebook_kernel_manager(),
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except Exception as exc:  # papermill wraps the cell's exception; report and go on
        # figures only, and none of the notebook's runs shipped (e.g. the preset's grid has
        # moved on since they were trained): said as such, not as a failure of the code
        status = NOT_SHIPPED if getattr(exc, "ename", "") == "MissingRun" else "failed"
        error = _format_error(exc)
    for p in earlier:
        # what it recorded before is not this execution's: a notebook that fails (or finds its
        # runs not shipped) must not leave earlier verdicts counted in the report beside it.
        # Removed once it has run, not before: an interrupted execution leaves them as they were
        if p.exists() and _stamp(p) == earlier[p]:
            p.unlink()
    written = sorted(p for p in figures_dir.glob("*") if p.is_file() and before.get(p) != p.stat().st_mtime_ns)
    return NotebookResult(path.stem, status, time.time() - start, written, error)


def reproduce(
    preset: str, only: list[str] | None = None, figures_root: Path | None = None, progress: bool = True,
    executor=None, figures_only: bool = False, log_with: str | None = None, corpus: Corpus | None = None,
    source: str | None = None,
) -> list[NotebookResult]:
    """Run the selected notebooks; a failure does not stop the others. With a job executor
    (`paperlib.executors.Executor`, e.g. slurm) every planned run trains as one job, then every
    notebook runs as one job, in parallel; the data is prepared here first (the run store and
    data live on a shared filesystem).
    With local workers, each notebook's missing runs train side by side. figures_only: the
    notebooks read the runs shipped with the repository (`paths.shipped_runs_dir`) and
    train nothing; a notebook whose runs are not all there fails, naming the first missing.
    corpus: run on a researcher's corpus instead of DDTP (`CORPUS_PARAMETERS`): figures and
    report go to figures/<preset>-<folder name>/, beside the published ones, never over them.
    source: "ddtp" or "hub" (the papers' own corpora, `experiments.HUB_PARAMETERS`; figures/<preset>-hub/
    below the paper preset); default `default_source(preset)`."""
    from . import executors, files
    from .runs import Settings

    check_preset(preset)
    files.code_version()  # what the runs trained in this process record, read before the checkout can move on
    chosen = select(only, list_notebooks())
    if not only:  # named with --only: run whatever its size
        sized = presets.get(preset)
        skipped = [n for n in chosen if not sized.runs_notebook(n)]
        chosen = {n: p for n, p in chosen.items() if sized.runs_notebook(n)}
        if skipped and sized.varies:
            print(f"not part of the {preset} preset (it draws the 6-layer figures; the others: --preset "
                  f"{sized.varies}): {', '.join(skipped)}", flush=True)
        elif skipped:
            print(f"not run at the {preset} size (their runs would not reach the regime their claims need; "
                  f"see the gpu preset): {', '.join(skipped)}", flush=True)
    parameters = {name: {} for name in chosen}
    label = preset
    source = source or default_source(preset)
    if source not in ("ddtp", "hub"):
        raise ValueError(f"reproduce reads --source ddtp or hub (or a corpus: dir PATH), got {source!r}")
    if corpus is None:
        label = output_label(preset, source)
    if source == "hub" and corpus is None:
        if figures_only:  # nothing trained on the hub's corpora is shipped: it would download them for nothing
            raise ValueError("--figures-only redraws runs shipped with the repository, and none were trained on the "
                             "hub's corpora; leave it out to train them (needs internet)"
                             + (", or add --source ddtp" if paths.shipped_runs_dir(preset).is_dir() else ""))
        from .experiments import HUB_PARAMETERS

        parameters = {name: dict(HUB_PARAMETERS[name]) for name in chosen}
        print("source: the papers' own corpora from the Hugging Face hub (WMT, OPUS-100, mC4; needs internet), "
              f"at the {preset} preset's fractions", flush=True)
    if corpus is not None:
        if figures_only:
            raise ValueError("--figures-only redraws the shipped DDTP runs; leave it out to train on your corpus")
        from .data.tasksets import ROLES

        roles = corpus.roles()
        parameters, skipped = corpus_parameters(chosen, roles)
        for name, missing in skipped.items():
            print(f"not run on {corpus.folder}: {name} needs " + "; ".join(ROLES[r] for r in missing), flush=True)
        chosen = {n: p for n, p in chosen.items() if n in parameters}
        if not chosen:  # before anything is written: no report of nothing
            raise ValueError(f"nothing to run on {corpus.folder}: every chosen notebook needs a role it cannot fill "
                             f"(see above; `paperlib data info --source dir {corpus.folder}` shows its pairs)")
        label = f"{preset}-{corpus.name}"
        print(corpus.describe_roles(roles), flush=True)
    if figures_only and not paths.shipped_runs_dir(preset).is_dir():  # before anything is written over
        shipped = sorted(p.parent.name for p in paths.shipped_runs_dir(preset).parents[1].glob("*/runs") if p.is_dir())
        raise ValueError(f"--figures-only redraws the runs shipped in {paths.shipped_runs_dir(preset)}, and the "
                         f"{preset} preset has none (shipped: {', '.join(shipped) or 'none'}); leave it out to "
                         "train them (runs already in runs/ are reused, not trained again)")
    out_dir = paths.runs_dir() / "notebooks" / label
    figures = Path(figures_root) if figures_root else paths.figures_dir(label)
    _prepare_data(preset, progress, list(chosen), parameters)
    results = []
    if executor is not None and executor.kind != "local" and not figures_only:
        # every run its own job first, in waves (shared prefixes before what continues them): a
        # notebook's job training its whole grid on one node would take a paper-size grid months
        _train_planned(preset, list(chosen), Settings(executor=executor, progress=progress, log_with=log_with),
                       figures, parameters)
        folder = executors.job_folder(executor) / "notebooks"
        # then each notebook one job that reads them; what it builds beyond the plan (DoReMi's
        # runs on learned weights) trains on its node, and a run another job is training is waited for
        settings = Settings(wait_locked=True, progress=False, log_with=log_with).to_parameters()
        args = [(str(path), preset, str(out_dir), str(figures), settings, parameters[name])
                for name, path in chosen.items()]
        print(f"submitting {len(args)} notebooks as {executor.kind} jobs (logs: {folder})", flush=True)
        results = executors.run_jobs(executor, NotebookJob(), args, folder, "paperlib-notebooks",
                                     progress, single_task=True)
        for res in results:
            _record(figures, False, res)
    else:
        if not figures_only:
            _train_planned(preset, list(chosen), Settings(executor=executor, progress=progress, log_with=log_with),
                           figures, parameters)
        settings = Settings(executor=executor, progress=progress, log_with=log_with).to_parameters()
        if figures_only:
            shipped = paths.shipped_runs_dir(preset)
            print(f"figures only: reading the runs shipped in {shipped}; training nothing", flush=True)
            settings = Settings(runs_root=shipped, progress=progress, train_missing=False).to_parameters()
        if executor is not None and not figures_only:
            print(f"training runs {executor.workers} side by side", flush=True)
        for i, (name, path) in enumerate(chosen.items(), 1):
            print(f"[{i}/{len(chosen)}] {name} (preset {preset})", flush=True)
            results.append(_record(figures, figures_only, run_notebook(path, preset, out_dir, figures,
                                                         {"run_settings": settings, **parameters[name]},
                                                         progress=progress)))
    titles = {name: notebook_title(path) or name for name, path in list_notebooks().items()}
    written = report.write(preset, titles, figures, corpus=corpus.folder if corpus else None,
                           hub=source == "hub" and corpus is None)
    print(f"report: {written[0]}", flush=True)
    return results


class NotebookJob(Requeued):
    """One notebook as a job: papermill inside; its planned runs are in the store (trained as
    jobs before it), what it builds beyond them trains on the job's node (`run_settings`: a run
    another job is training is waited for)."""

    def __call__(self, path: str, preset: str, out_dir: str, figures_dir: str, run_settings: dict,
                 parameters: dict | None = None):
        return run_notebook(Path(path), preset, Path(out_dir), Path(figures_dir),
                            {"run_settings": run_settings, **(parameters or {})}, progress=False)


def _record(figures_dir: Path, figures_only: bool, res: NotebookResult) -> NotebookResult:
    if res.status == NOT_SHIPPED:
        print(f"  {res.name}: {NOT_SHIPPED}: {res.error.splitlines()[0]}", flush=True)
    elif res.status != "ok":
        print(f"  {res.name} FAILED after {res.seconds:.1f}s: {res.error}", file=sys.stderr, flush=True)
    report.record_notebook(figures_dir, res, redrawn=figures_only)
    return res


def _train_planned(preset: str, notebooks, settings, figures_dir: Path, parameters: dict | None = None) -> None:
    """Train the runs of every chosen notebook before executing them, in one schedule
    (`runs.train_side_by_side`): a fork starts when its prefix is done, no notebook waits
    for another's stragglers, and one progress bar covers the whole reproduction. With a job
    executor, each run is one job (`runs.get_or_train_many`: waves, prefixes first). The
    notebooks then find their runs in the store; what they build beyond their default grid
    (other parameters, DoReMi's learned weights) they train themselves."""
    from . import experiments as E
    from .runs import train_side_by_side

    grids = E.notebook_runs(preset, parameters)
    cfgs = [c for nb in notebooks for c, _ in grids.get(nb, [])]
    if not cfgs:
        return
    if settings.executor is not None and settings.executor.kind != "local":  # Slurm, local-jobs
        from .runs import get_or_train_many

        print(f"training the runs of {len(notebooks)} notebook(s) first, each run one {settings.executor.kind} job "
              "(shared prefixes first, then the runs continuing them)", flush=True)
        start = time.time()
        try:
            get_or_train_many(cfgs, settings)
            print(f"runs ready in {(time.time() - start) / 60:.1f} min", flush=True)
        except RuntimeError as exc:  # the notebooks whose runs failed report it; the others go on
            print(f"some runs failed after {(time.time() - start) / 60:.1f} min (their notebooks will say so):\n{exc}",
                  file=sys.stderr, flush=True)
        return
    workers = settings.executor.workers if settings.executor is not None else 1
    print(f"training the runs of {len(notebooks)} notebook(s) first, {workers} side by side, in one schedule", flush=True)
    start = time.time()
    schedule = None
    try:
        schedule = train_side_by_side(cfgs, workers, settings)
    except RuntimeError as exc:  # the notebooks whose runs failed report it; the others go on
        print(f"some runs failed (their notebooks will say so):\n{exc}", file=sys.stderr, flush=True)
    seconds = time.time() - start
    if schedule and schedule.trained:  # a rerun that found every run done keeps the record of the one that trained
        report.record_training(figures_dir, seconds, schedule.trained, schedule.busiest_seconds, list(schedule.commits))
    print(f"runs ready in {seconds / 60:.1f} min", flush=True)


def needed_tasksets(preset: str, notebooks, parameters: dict | None = None) -> list[str]:
    """The task sets the given notebooks train on at `preset` and their parameters (none for
    the theory notebook), qualified by their corpus folder where they have one."""
    from . import experiments as E
    from .data.tasksets import qualified_name, taskset_of

    grids = E.notebook_runs(preset, parameters)
    wanted = [qualified_name(taskset_of(c.data)) for nb in notebooks for c, _ in grids.get(nb, [])]
    wanted += [E.doremi_taskset(nb, parameters)[0] for nb in notebooks if nb in E.DOREMI_NOTEBOOKS]
    return list(dict.fromkeys(wanted))


def _prepare_data(preset: str, progress: bool, notebooks, parameters: dict | None = None) -> None:
    """Prepare the task sets the notebooks need once, in this process, before them: the
    DDTP corpus is then parsed once instead of once per notebook kernel (a hub corpus read
    once, a researcher's folder checked once). parameters: the notebooks' papermill
    parameters (their task sets on another corpus)."""
    from .data import VocabularyTooLarge, get_taskset, prepare
    from .data.tasksets import short_name

    names = needed_tasksets(preset, notebooks, parameters)
    if not names:
        return
    start = time.time()
    print(f"preparing data ({preset}): {', '.join(short_name(n) for n in names)}", flush=True)
    for name in names:
        ts = get_taskset(name)
        try:
            prepare(ts, preset, ts.data_source, ts.corpus, progress=progress)
        except VocabularyTooLarge as exc:  # the notebooks tokenize at the preset's size: no flag changes it here
            limit = f"SentencePiece can fill at most {exc.most} here" if exc.most else "SentencePiece cannot fill it"
            where = "your corpus" if ts.corpus else f"its {ts.data_source} text (the preset's fraction of it)"
            raise ValueError(f"{short_name(name)}: too little text for the {preset} preset's vocabulary of "
                             f"{exc.vocab_size} pieces ({limit}); the notebooks need more sentences in {where} "
                             "(`paperlib data prepare --vocab-size` prepares it smaller for `paperlib train`, not for "
                             "the notebooks)") from None
    print(f"data ready in {time.time() - start:.0f}s", flush=True)


def summary_table(results: list[NotebookResult]) -> str:
    rows = [("notebook", "status", "wall time", "figures (PNG)")]  # as the report counts them (each has a PDF too)
    for r in results:
        rows.append((r.name, r.status, f"{r.seconds:.1f}s", str(sum(p.suffix == ".png" for p in r.figures))))
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
