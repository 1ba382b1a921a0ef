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


def data_dir() -> Path:
    return Path(os.environ.get("PAPERLIB_DATA", root() / "data"))
