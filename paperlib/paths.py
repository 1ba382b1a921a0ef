"""Where things live. The repo root is the folder holding the `paperlib` package (an
editable install); set PAPERLIB_ROOT to put runs, data and figures elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def root() -> Path:
    return Path(os.environ.get("PAPERLIB_ROOT", PACKAGE_ROOT))


def notebooks_dir() -> Path:
    return PACKAGE_ROOT / "notebooks"


def figures_dir(preset: str) -> Path:
    return root() / "figures" / preset


def runs_dir() -> Path:
    return root() / "runs"


def shipped_runs_dir(preset: str) -> Path:
    """The finished runs of a preset committed with the repository (configs, metrics and
    per-sentence losses; no checkpoints), so that its figures can be redrawn without
    training: `paperlib runs ship`, `paperlib reproduce --figures-only`."""
    return PACKAGE_ROOT / "results" / preset / "runs"


def shipped_data_lengths(preset: str) -> Path:
    """Beside a preset's shipped runs: the train token and example counts of the prepared data
    they trained on, by prepared folder (`store.ship` writes it), so that the dry run of a
    fresh clone, whose data are not prepared, counts FLOPs at the data's real lengths too."""
    return shipped_runs_dir(preset).parent / "data_lengths.json"


def data_dir() -> Path:
    return Path(os.environ.get("PAPERLIB_DATA", root() / "data"))


def records_dir(figures_dir) -> Path:
    """Where a report's records (notebook status, claims) are kept: beside its figures."""
    return Path(figures_dir) / "records"


def scratch_dir(preset: str) -> Path:
    """Where a notebook run by hand (not by `paperlib reproduce`) writes its figures and
    records, so that interactive work never changes the published report."""
    return runs_dir() / "scratch" / preset


def output_dir(preset: str, figures_dir=None) -> Path:
    """Where a notebook writes: the folder `paperlib reproduce` hands it (the published
    figures/<preset>/), or, run by hand without one, the scratch folder."""
    return Path(figures_dir) if figures_dir else scratch_dir(preset)
