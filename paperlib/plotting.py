"""Shared plotting helpers: one look for every figure, saved as PNG and PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; notebooks may still show inline
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402


def setup(context: str = "notebook") -> None:
    """Seaborn theme used by every paperlib figure."""
    sns.set_theme(context=context, style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titlesize": "medium"})


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.5, height: float = 3.4, **kw):
    """Figure with a grid of axes sized per panel."""
    setup()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)


def save(fig, name: str, out_dir: str | Path) -> list[Path]:
    """Write `name`.png and `name`.pdf into out_dir; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        path = out / f"{name}.{ext}"
        fig.savefig(path, dpi=150 if ext == "png" else None)
        paths.append(path)
    return paths
