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


def plot_front(ax, points, label: str, color=None, marker: str = "o", annotate=None, alpha_points: float = 0.35):
    """Scatter every (loss 1, loss 2) point and draw the Pareto front through the
    non-dominated ones; `annotate` labels each point (e.g. its sampling rate)."""
    import numpy as np

    from . import pareto

    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    line = ax.plot(*pareto.front(pts).T, marker=marker, label=label, color=color, lw=1.8)[0]
    ax.scatter(pts[:, 0], pts[:, 1], color=line.get_color(), marker=marker, alpha=alpha_points, s=22)
    if annotate is not None:
        for (x, y), text in zip(pts, annotate):
            ax.annotate(str(text), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7, color=line.get_color())
    return line
