"""The run store: one directory per run, named by a hash of what determines its results.

    runs/<experiment>/<hash>/
        config.json     resolved config (+ seed, plan identity, git commit, package versions),
                        written before step 0
        metrics.jsonl   one JSON object per evaluation (see paperlib.train)
        ckpt/last.pt    model, optimizer, sampler, RNG, step (written atomically)
        DONE            written last, with a short summary
        lock            held while a process trains the run

`get_or_train(cfg)` returns a finished run (from any experiment folder: equal hashes train
identically), resumes an unfinished one, or trains a missing one. A config with `fork_at=k`
first gets (or trains) the run that shares its first k steps -- the same config with the
plan stopped at k -- and continues from that run's final checkpoint, so Order Matters'
pre-training is trained once for every fine-tuning rate.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .config import TrainConfig, build_plan, config_hash, diff, from_dict


class RunLocked(RuntimeError):
    pass


# ------------------------------------------------------------------------------- files

def atomic_write(path: Path, data: bytes | str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextmanager
def lock(run_dir: Path):
    """Exclusive lock on the run directory; a second process gets a clear error."""
    run_dir.mkdir(parents=True, exist_ok=True)
    f = open(run_dir / "lock", "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise RunLocked(f"run {run_dir} is being trained by another process; wait for it or stop it") from None
    try:
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def append_metrics(run_dir: Path, row: dict) -> None:
    with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_metrics(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill: ignore it
            break
    return rows


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Keep only rows up to `step` (a resumed run redoes what came after its checkpoint)."""
    rows = [r for r in read_metrics(run_dir) if r["step"] <= step and not r.get("final")]
    atomic_write(Path(run_dir) / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.PACKAGE_ROOT, capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


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


def write_or_check_config(run_dir: Path, cfg: TrainConfig, plan, data) -> None:
    """Write config.json before step 0, or refuse to resume a run with a different config."""
    path = run_dir / "config.json"
    identity = cfg.identity(plan, data_fingerprint(data))
    if path.exists():
        old = json.loads(path.read_text())
        differing = diff(old["identity"], identity)
        if differing:
            raise ValueError(
                f"{run_dir} was trained with a different config (fields differ: {', '.join(differing)}); "
                "use a new run directory instead of resuming"
            )
        return
    record = {
        "config": cfg.to_dict(), "identity": identity, "hash": config_hash(identity), "seed": cfg.seed,
        "plan": plan.describe(), "git_commit": _git_commit(), "versions": _versions(),
    }
    atomic_write(path, json.dumps(record, indent=2, default=str))


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


def resolve(cfg: TrainConfig):
    """(prepared data, plan, hash) for a config: the data are prepared if needed."""
    from .data import prepare

    data = prepare(cfg.data.taskset, cfg.data.preset, cfg.data.source, cfg.data.source_path,
                   cfg.data.vocab_size, cfg.data.block_size, progress=False)
    plan = build_plan(cfg, data.sizes("train"))
    return data, plan, config_hash(cfg.identity(plan, data_fingerprint(data)))


def run_dir_for(cfg: TrainConfig, runs_root: Path | None = None) -> Path:
    _, _, h = resolve(cfg)
    return Path(runs_root or paths.runs_dir()) / cfg.experiment / h


def parent_config(cfg: TrainConfig) -> TrainConfig:
    """The run sharing cfg's first fork_at steps: the same config, plan stopped there."""
    return dataclasses.replace(cfg, plan={**cfg.plan, "stop_at": cfg.fork_at}, fork_at=None)


def get_or_train(cfg: TrainConfig, runs_root: Path | None = None, progress: bool = True) -> Run:
    """A finished run for cfg: reused, resumed or trained."""
    from .train import train

    root = Path(runs_root or paths.runs_dir())
    _, _, h = resolve(cfg)
    own = root / cfg.experiment / h
    if not (own / "DONE").exists():
        for other in sorted(root.glob(f"*/{h}/DONE")):  # trained under another experiment
            return Run(other.parent, cfg)
        while True:
            try:
                train(cfg, own, progress=progress, runs_root=root)
                break
            except RunLocked:
                # in cluster jobs (PAPERLIB_WAIT_LOCKED=1) another job is training this run: wait for it
                if not os.environ.get("PAPERLIB_WAIT_LOCKED"):
                    raise
                time.sleep(float(os.environ.get("PAPERLIB_WAIT_LOCKED_POLL", 30)))
    return Run(own, cfg)


def get_or_train_many(cfgs: list[TrainConfig], runs_root: Path | None = None, progress: bool = True,
                      executor=None) -> list[Run]:
    """get_or_train for each config. With the default executor (this process, one worker)
    they train in order and shared prefixes are trained by the first config that needs
    them. Otherwise (`paperlib.executors`; default from $PAPERLIB_EXECUTOR) the missing runs
    train in two waves, side by side in local worker processes or as jobs: the shared
    prefix runs first, then every run continuing them."""
    from . import executors

    executor = executor or executors.from_env()
    if executor is None or (executor.kind == "local" and executor.workers <= 1):
        return [get_or_train(c, runs_root, progress) for c in cfgs]
    root = Path(runs_root or paths.runs_dir())

    def missing(configs):
        out = {}
        for c in configs:
            h = resolve(c)[2]
            if h not in out and not any(root.glob(f"*/{h}/DONE")):
                out[h] = c
        return list(out.values())

    todo = missing(cfgs)
    prefixes = missing([parent_config(c) for c in todo if c.fork_at is not None])
    for wave, name in ((prefixes, "paperlib-prefixes"), (todo, "paperlib-runs")):
        if executor.kind == "local":
            executors.train_side_by_side(wave, root, executor.workers, progress)
        else:
            executors.run_jobs(executor, executors.TrainJob(), [(c.to_dict(), str(root)) for c in wave],
                               executors.job_folder(executor, root), name, progress)
    return [get_or_train(c, root, progress) for c in cfgs]  # all finished now: found, not trained


def train_labelled(labelled: list[tuple[TrainConfig, dict]], runs_root: Path | None = None,
                   progress: bool = True) -> "pandas.DataFrame":
    """Train (or reuse) every (config, labels) pair; one summary row per run (see summarize)."""
    done = get_or_train_many([c for c, _ in labelled], runs_root, progress)
    return summarize([(run, labels) for run, (_, labels) in zip(done, labelled)])


def curves(labelled_runs: list[tuple["Run", dict]]) -> "pandas.DataFrame":
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
    out = _flatten(evals[-1])
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


def find_runs(experiment: str | None = None, runs_root: Path | None = None, done_only: bool = False, **filters) -> list[Run]:
    """Runs whose config matches filters given as dotted keys with '__' (plan__tau=5)."""
    root = Path(runs_root or paths.runs_dir())
    pattern = f"{experiment}/*/config.json" if experiment else "*/*/config.json"
    out = []
    for path in sorted(root.glob(pattern)):
        rec = json.loads(path.read_text())
        cfg = from_dict(rec["config"])
        flat = _flatten(rec["config"])
        if all(flat.get(k.replace("__", ".")) == v for k, v in filters.items()):
            run = Run(path.parent, cfg)
            if run.done or not done_only:
                out.append(run)
    return out


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
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
        rows = [_flatten(r) for r in read_metrics(rd)]
        if rows:
            df = pd.DataFrame(rows)
            df.insert(0, "run", rd.name)
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
