"""The run store: one directory per run, named by a hash of what determines its results.
Passive: it finds, reads and writes runs; it never trains one (that is `paperlib.runs`).

    runs/<experiment>/<hash>/
        config.json     resolved config (+ seed, plan identity, git commit, package versions),
                        written before step 0
        metrics.jsonl   one JSON object per evaluation (see paperlib.train)
        ckpt/last.pt    model, optimizer, sampler, RNG, step (written atomically)
        DONE            written last, with a short summary
        lock            held while a process trains the run

Equal hashes train identically, so a finished run is found under any experiment folder --
on one kind of device and one version of the step's numerics: a GPU does not reproduce a
CPU's bits, and the CPU step's dropout masks and attention changed on 2026-11-30
(`paperlib.kernels`). Runs from before are statistically the same runs and are reused; one
that forks from or resumes an older checkpoint mixes the two, as a resume on another
machine would. config.json records the commit each run was trained at.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import files, paths
from .config import TrainConfig, build_plan, config_hash, diff, from_dict

RunLocked = files.Locked


class DamagedRun(ValueError):
    """A run's files cannot be read as written (a damaged metrics line, an unreadable
    config or checkpoint); the message names the file and line."""


# ------------------------------------------------------------------------------- files

def lock(run_dir: Path):
    """Exclusive lock on a run directory while a process trains it."""
    return files.exclusive(Path(run_dir) / "lock", f"run {run_dir}")


def is_locked(run_dir: Path) -> bool:
    """Whether a process is training the run now."""
    return (Path(run_dir) / "lock").exists() and files.held(Path(run_dir) / "lock")


def append_metrics(run_dir: Path, row: dict) -> None:
    with open(Path(run_dir) / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def write_metrics(run_dir: Path, rows: list[dict]) -> None:
    files.atomic_write(Path(run_dir) / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def _parse_metrics(run_dir: Path) -> tuple[list[dict], str | None]:
    """(rows before the first damaged line, where and what that line is -- None if none).
    A last line cut short by a kill during an append (the file does not end with a
    newline) is not damage: it is dropped, and resuming redoes it."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return [], None
    # the last element is "" after a final newline, or the cut-short line: never a row
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    rows = []
    for number, line in enumerate(lines[:-1], 1):
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or "step" not in row:
                raise ValueError("not a metrics row")
        except ValueError:
            return rows, f"{path}:{number}: damaged line ({line[:40]!r})"
        rows.append(row)
    return rows, None


def read_metrics(run_dir: Path) -> list[dict]:
    """The rows of metrics.jsonl; a damaged line raises DamagedRun naming file and line
    (never skipped silently)."""
    rows, damaged = _parse_metrics(run_dir)
    if damaged:
        raise DamagedRun(f"{damaged}; training the run again resumes it from its last good checkpoint")
    return rows


def damage(run_dir: Path) -> str | None:
    """What is damaged in a run directory, in one line (None when nothing is)."""
    path = Path(run_dir) / "config.json"
    try:
        from_dict(json.loads(path.read_text())["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:  # valid JSON that is not a run's config too
        return f"{path}: unreadable ({type(exc).__name__})"
    return _parse_metrics(run_dir)[1]


def _timed_rows(run_dir: Path) -> list[dict]:
    """The logged rows that carry a wall time ([] without a readable log)."""
    try:
        return [r for r in read_metrics(run_dir) if "wall_time" in r]
    except (OSError, DamagedRun):
        return []


def last_wall_time(run_dir: Path) -> float | None:
    """The wall time of a run's last logged row (None without a readable log)."""
    rows = _timed_rows(run_dir)
    return rows[-1]["wall_time"] if rows else None


def own_seconds(cfg: TrainConfig, run_dir: Path) -> float:
    """Wall seconds a run spent on its own steps (after the prefix it continues, whose time
    its log carries over), evaluation and BLEU included; 0 when its log cannot be read."""
    rows = _timed_rows(run_dir)
    if not rows:
        return 0.0
    before = [r["wall_time"] for r in rows if r.get("step", 0) <= (cfg.fork_at or 0) and not r.get("final")]
    return max(0.0, rows[-1]["wall_time"] - (max(before) if cfg.fork_at and before else 0.0))


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Keep only rows up to `step` (a resumed run redoes what came after its checkpoint).
    Rows from a damaged line on are dropped too, provided every row up to `step` is intact."""
    rows, damaged = _parse_metrics(run_dir)
    if damaged and (not rows or rows[-1]["step"] < step):
        raise DamagedRun(f"{damaged}: rows before the last checkpoint (step {step}) are lost; "
                         f"delete {run_dir} to train the run again from step 0")
    write_metrics(run_dir, [r for r in rows if r["step"] <= step and not r.get("final")])


# per-example validation losses, one file per evaluation: examples/valid-<step>.npz with
# "<task>/nll" (summed nats per example) and "<task>/tokens" for every task
def _examples_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "examples" / f"valid-{step:08d}.npz"


def write_example_losses(run_dir: Path, step: int, per_example: dict) -> None:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **{f"{t}/{k}": v for t, (nll, tok) in per_example.items() for k, v in (("nll", nll), ("tokens", tok))})
    files.atomic_write(_examples_path(run_dir, step), buf.getvalue())


def example_loss_steps(run_dir: Path) -> list[int]:
    """Steps at which per-example validation losses were stored."""
    return sorted(int(p.stem.split("-")[1]) for p in (Path(run_dir) / "examples").glob("valid-*.npz"))


def read_example_losses(run_dir: Path, step: int) -> dict:
    """{task: (nll per example, tokens per example)} of the evaluation at `step`."""
    import numpy as np

    path = _examples_path(run_dir, step)
    if not path.exists():
        raise FileNotFoundError(f"run {run_dir} has no per-example validation losses at step {step}")
    try:
        with np.load(path) as z:
            tasks = sorted({k.rsplit("/", 1)[0] for k in z.files})
            return {t: (z[f"{t}/nll"], z[f"{t}/tokens"]) for t in tasks}
    except Exception as exc:  # numpy and zipfile raise several types for a cut or corrupted file
        run = Path(run_dir)
        raise DamagedRun(f"{path}: unreadable per-sentence validation losses ({type(exc).__name__}); delete the run "
                         f"(paperlib runs rm {run.parent.name}/{run.name}) and train it again") from None


# the test segments' corpus-score statistics of the end-of-run BLEU/chrF (`scores`):
# examples/test-segments.npz with "<task>/<metric>" (segments, statistics) integer arrays
def _segments_path(run_dir: Path) -> Path:
    return Path(run_dir) / "examples" / "test-segments.npz"


def write_test_segments(run_dir: Path, per_task: dict) -> None:
    """Keep {task: {metric: (segments, statistics)}} of the run's end-of-run test scores."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **{f"{task}/{metric}": stats for task, by_metric in per_task.items() for metric, stats in by_metric.items()})
    _segments_path(run_dir).parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write(_segments_path(run_dir), buf.getvalue())


def read_test_segments(run_dir: Path, task: str, metric: str):
    """The (segments, statistics) array of `task`'s end-of-run `metric`, or None for a run
    that did not keep them (trained before they were kept, or without BLEU)."""
    import numpy as np

    path = _segments_path(run_dir)
    if not path.exists():
        return None
    with np.load(path) as z:
        key = f"{task}/{metric}"
        return z[key] if key in z.files else None


def keep_example_losses(run_dir: Path, until: int, source: Path | None = None) -> None:
    """Keep the per-example files of steps <= until: drop later ones (resume), or copy them
    from `source` (the prefix run a fork continues)."""
    import shutil

    if source is not None:
        for step in example_loss_steps(source):
            if step <= until:
                _examples_path(run_dir, step).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(_examples_path(source, step), _examples_path(run_dir, step))
        return
    for step in example_loss_steps(run_dir):
        if step > until:
            _examples_path(run_dir, step).unlink()


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for pkg in ("torch", "transformers", "datasets", "accelerate", "sentencepiece", "sacrebleu", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def data_fingerprint(data) -> dict:
    """Hashes of the prepared data a run trains on (tokenizer file, each task's dataset)."""
    return {"tokenizer": data.manifest["tokenizer"]["sha256"], "tasks": data.manifest["keys"]["tasks"]}


def _differences(run_dir: Path, identity: dict) -> list[str]:
    """Dotted keys in which the identity recorded in run_dir/config.json differs from `identity`."""
    path = Path(run_dir) / "config.json"
    try:
        recorded = json.loads(path.read_text())["identity"]
    except (OSError, ValueError, KeyError, TypeError) as exc:  # TypeError: valid JSON that is not a mapping
        raise DamagedRun(f"{path}: unreadable ({type(exc).__name__}); the run cannot be reused") from None
    return diff(recorded, identity)


def closest_stored(cfg: TrainConfig, runs_root: Path | None = None) -> tuple[str, list[str]] | None:
    """(experiment/run, the identity's differing dotted keys) of the stored run of cfg's
    experiment, task set, method, seed and length closest to cfg (fewest differing fields),
    or None: what a run that is not there was perhaps meant to be (figures only, where the
    code has moved on since the runs were shipped)."""
    data, plan, _ = resolve(cfg)
    identity = cfg.identity(plan, data_fingerprint(data))
    best = None
    for path in sorted(root_of(runs_root).glob(f"{cfg.experiment}/*/config.json")):
        if not (path.parent / "DONE").exists():
            continue  # an unfinished run is no stand-in for a finished one
        try:
            recorded = json.loads(path.read_text())
            stored = recorded["config"]
            same = (stored["data"]["taskset"] == cfg.data.taskset and stored["plan"]["method"] == cfg.plan.method
                    and stored.get("seed") == cfg.seed and stored.get("stop_at") == cfg.stop_at)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        fields = diff(recorded.get("identity", {}), identity) if same else []
        if fields and (best is None or len(fields) < len(best[1])):
            best = (f"{path.parent.parent.name}/{path.parent.name}", fields)
    return best


def write_or_check_config(run_dir: Path, cfg: TrainConfig, plan, data) -> None:
    """Write config.json before step 0, or refuse to resume a run with a different config."""
    path = Path(run_dir) / "config.json"
    identity = cfg.identity(plan, data_fingerprint(data))
    if path.exists():
        differing = _differences(run_dir, identity)
        if differing:
            raise ValueError(
                f"{run_dir} was trained with a different config (fields differ: {', '.join(differing)}); "
                "use a new run directory instead of resuming"
            )
        return
    record = {
        "config": cfg.to_dict(), "identity": identity, "hash": config_hash(identity), "seed": cfg.seed,
        "plan": plan.describe(), "git_commit": files.code_version(), "versions": _versions(),
    }
    files.atomic_write(path, json.dumps(record, indent=2, default=str))


# ------------------------------------------------------------------------------- runs

@dataclass
class Run:
    dir: Path
    config: TrainConfig

    @property
    def done(self) -> bool:
        return (self.dir / "DONE").exists()

    def metrics(self):
        return load_metrics(self.dir)

    @property
    def summary(self) -> dict:
        return json.loads((self.dir / "DONE").read_text()) if self.done else {}

    @property
    def checkpoint(self) -> Path:
        return self.dir / "ckpt" / "last.pt"


def resolve(cfg: TrainConfig):
    """(prepared data, plan, hash) for a config: the data are prepared if needed."""
    from .data import prepare

    data = prepare(cfg.data.taskset, cfg.data.preset, cfg.data.source, cfg.data.source_path,
                   cfg.data.vocab_size, cfg.data.block_size, progress=False)
    plan = build_plan(cfg, data.sizes("train"))
    return data, plan, config_hash(cfg.identity(plan, data_fingerprint(data)))


def root_of(runs_root: Path | None) -> Path:
    return Path(runs_root or paths.runs_dir())


def mixture_label(cfg: TrainConfig) -> str:
    """τ or the rates of a run's plan, in a few characters (`runs ls`, the workers' lines)."""
    plan, parts = cfg.plan, []
    if hasattr(plan, "tau_high"):
        parts.append(f"τ={plan.tau_high:g}→{plan.tau_low:g}" if plan.method == "cooldown" else f"τ={plan.tau_low:g}→{plan.tau_high:g}")
    if hasattr(plan, "tau_start"):  # a linear (dense) schedule
        parts.append(f"τ={plan.tau_start:g}→{plan.tau_end:g} linear")
    if hasattr(plan, "max_epochs"):  # UniMax
        parts.append(f"≤{plan.max_epochs:g} epochs")
    if getattr(plan, "tau", None) is not None:
        parts.append(f"τ={plan.tau:g}")
    for name in ("rates", "weights"):
        if getattr(plan, name, None):
            parts.append("rates=" + "/".join(f"{r:.3g}" for r in getattr(plan, name)))
    if cfg.stop_at:
        parts.append(f"(prefix to step {cfg.stop_at})")
    return " ".join(parts) or "-"


def run_dir_for(cfg: TrainConfig, runs_root: Path | None = None) -> Path:
    """Where cfg's own run directory is (whether or not it exists)."""
    return root_of(runs_root) / cfg.experiment / resolve(cfg)[2]


def locate(cfg: TrainConfig, runs_root: Path | None = None) -> tuple[Path, Run | None]:
    """(cfg's own run directory, its finished run or None): the own directory first, else
    one trained under another experiment (equal hashes train identically). The finished
    run's recorded config is checked against cfg (it is only reused for what it was
    trained as)."""
    data, plan, h = resolve(cfg)
    own = root_of(runs_root) / cfg.experiment / h
    found = own if (own / "DONE").exists() else next(
        (p.parent for p in sorted(root_of(runs_root).glob(f"*/{h}/DONE"))), None)
    if found is None:
        return own, None
    differing = _differences(found, cfg.identity(plan, data_fingerprint(data)))
    if differing:
        raise ValueError(f"{found} is stored under this config's hash but was trained with other settings "
                         f"({', '.join(differing)}); move it out of the run store")
    return own, Run(found, cfg)


class MissingRun(RuntimeError):
    """A run (or what is kept from it) that is not in the run store while training is off;
    `paperlib reproduce` reports its notebook as "no shipped runs", naming it."""


KEPT_FORMAT = 1
"""Bump when the code that computes `keep`'s results changes (e.g. `gradvar.measure`):
results kept in an older format are computed again."""


def read_kept(run: Run, name: str, params: dict):
    """The result kept in the run's directory under name and params (`keep`), or None."""
    path = Path(run.dir) / "analyses" / f"{name}.json"
    key = _kept_key(params)
    entries = json.loads(path.read_text()) if path.exists() else []
    return next((e["result"] for e in entries if e["params"] == key), None)


def keep(run: Run, name: str, params: dict, result) -> object:
    """Keep a JSON-like result computed from the run -- e.g. gradient statistics at its
    checkpoint -- in its directory (analyses/<name>.json, one entry per params), which `ship`
    copies (it leaves out only checkpoints): a report redrawn from shipped runs still has
    it. Returns the result as kept (read back), so a first computation and a later read give
    the same numbers. Non-finite numbers are kept as null (strict JSON)."""
    path = Path(run.dir) / "analyses" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    result = json.loads(json.dumps(_finite(result), allow_nan=False))
    with files.waiting_lock(path.parent / "lock"):  # two writers never drop each other's entry ('lock' is not shipped)
        entries = json.loads(path.read_text()) if path.exists() else []
        key = _kept_key(params)
        entries = [e for e in entries if e["params"] != key] + [{"params": key, "result": result}]
        files.atomic_write(path, json.dumps(entries, indent=1, allow_nan=False) + "\n")
    return result


def _kept_key(params: dict) -> dict:
    return json.loads(json.dumps({**params, "format": KEPT_FORMAT}))


def _finite(x):
    if isinstance(x, float):
        return x if x == x and abs(x) != float("inf") else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def find_done(cfg: TrainConfig, runs_root: Path | None = None) -> Run | None:
    """cfg's finished run, or None (see `locate`)."""
    return locate(cfg, runs_root)[1]


def trained_at(run_dirs) -> list[str]:
    """The git commits (config.json's: `files.code_version`) the runs in run_dirs were
    trained at (directories without a readable config are skipped: `damage` names them)."""
    commits = set()
    for d in run_dirs:
        try:
            commits.add(json.loads((Path(d) / "config.json").read_text())["git_commit"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(c for c in commits if c)


def find_runs(experiment: str | None = None, runs_root: Path | None = None, done_only: bool = False, **filters) -> list[Run]:
    """Runs whose config matches filters given as dotted keys with '__' (plan__tau=5)."""
    pattern = f"{experiment}/*/config.json" if experiment else "*/*/config.json"
    out = []
    for path in sorted(root_of(runs_root).glob(pattern)):
        try:
            rec = json.loads(path.read_text())
            cfg = from_dict(rec["config"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable: `paperlib runs ls` shows it as damaged
        flat = flatten(rec["config"])
        if all(flat.get(k.replace("__", ".")) == v for k, v in filters.items()):
            run = Run(path.parent, cfg)
            if run.done or not done_only:
                out.append(run)
    return out


def ship(preset: str, dest: Path, runs_root: Path | None = None) -> list[Path]:
    """Copy every finished run of `preset` (experiments named `*-<preset>`) to dest, without
    its checkpoints: what the figures and claims read. Returns the copied run directories."""
    import shutil

    out, shipped = [], []
    for run in find_runs(None, runs_root, done_only=True):
        if not run.config.experiment.endswith(f"-{preset}") or damage(run.dir):
            continue
        shipped.append(run.config)
        target = Path(dest) / run.dir.parent.name / run.dir.name
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(run.dir, staging, ignore=shutil.ignore_patterns("ckpt", "lock"))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # a copy cut short never looks like a shipped run
        out.append(target)
    ship_data_lengths(preset, Path(dest), shipped)
    return out


def ship_data_lengths(preset: str, dest: Path, cfgs) -> None:
    """dest/../data_lengths.json (`paths.shipped_data_lengths`): the train tokens and examples
    per task of each config's prepared data (those prepared here), kept with what was there
    before. `ship` records its runs'; `paperlib runs ship` the preset's planned runs' too."""
    from .data.pipeline import prepared_dir_of

    path = Path(dest).parent / paths.shipped_data_lengths(preset).name
    try:
        lengths = json.loads(path.read_text())
    except (OSError, ValueError):
        lengths = {}
    for cfg in cfgs:
        root, name = prepared_dir_of(cfg.data)
        try:
            tasks = json.loads((root / "manifest.json").read_text())["tasks"]
        except (OSError, ValueError, KeyError):
            continue
        lengths[name] = {
            task: {"train": {k: t["train"][k] for k in ("tokens", "examples")}} for task, t in tasks.items()}
    if lengths:
        files.atomic_write(path, json.dumps(dict(sorted(lengths.items())), indent=1) + "\n")


# ------------------------------------------------------------------------------- reading results

def flatten(d: dict, prefix: str = "") -> dict:
    """A nested dict as one level with dotted keys (valid_loss.en-it, optim.lr)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def load_metrics(run_dirs) -> "pandas.DataFrame":
    """metrics.jsonl of one or several runs as one flat DataFrame (nested keys joined with
    '.', e.g. 'valid_loss.en-fi'), with a 'run' column."""
    import pandas as pd

    if isinstance(run_dirs, (str, Path, Run)):
        run_dirs = [run_dirs]
    frames = []
    for rd in run_dirs:
        rd = rd.dir if isinstance(rd, Run) else Path(rd)
        rows = [flatten(r) for r in read_metrics(rd)]
        if rows:
            df = pd.DataFrame(rows)
            df.insert(0, "run", rd.name)
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def curves(labelled_runs: list[tuple[Run, dict]]) -> "pandas.DataFrame":
    """All evaluation rows of the runs with their labels (for learning curves)."""
    import pandas as pd

    frames = []
    for run, labels in labelled_runs:
        df = load_metrics(run.dir)
        if "final" in df:
            df = df[df["final"].isna()].drop(columns="final")  # evaluation rows only
        df = df.copy()
        for k, v in labels.items():
            df[k] = v
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def final_metrics(run: Run) -> dict:
    """The run's last evaluation (flat keys, e.g. 'valid_loss.en-fi'), plus BLEU/chrF of
    its final row and the best validation loss per task over the run ('best_valid_loss.*')."""
    rows = read_metrics(run.dir)
    evals = [r for r in rows if "valid_loss" in r]
    if not evals:
        raise ValueError(f"run {run.dir} has no evaluations yet")
    out = flatten(evals[-1])
    for task in evals[-1]["valid_loss"]:
        out[f"best_valid_loss.{task}"] = min(r["valid_loss"][task] for r in evals)
    final = rows[-1] if rows[-1].get("final") else {}
    for key in ("bleu", "chrf"):
        for task, v in (final.get(key) or {}).items():
            out[f"{key}.{task}"] = v
    return out


def summarize(labelled: list[tuple[Run, dict]]) -> "pandas.DataFrame":
    """One row per run: its labels (method, rate, seed, ...) and final metrics; the Run
    objects are kept in the 'run_obj' column for curves."""
    import pandas as pd

    return pd.DataFrame([{**labels, "run": run.dir.name, "run_obj": run, **final_metrics(run)} for run, labels in labelled])
