"""Shared plotting helpers: one look for every figure, saved as PNG and PDF."""

from __future__ import annotations

from pathlib import Path

# No backend is chosen here: inside a Jupyter kernel the inline backend stays in charge (every
# figure shows in the notebook), and without a display matplotlib falls back to Agg itself.
import matplotlib.pyplot as plt
import seaborn as sns

from . import labels as L


def setup(context: str = "notebook") -> None:
    """Seaborn theme used by every paperlib figure."""
    sns.set_theme(context=context, style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titlesize": "medium"})


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.5, height: float = 3.4, **kw):
    """Figure with a grid of axes sized per panel."""
    setup()
    kw.setdefault("layout", "constrained")  # titles and labels of stacked panels never overlap
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)


def save(fig, name: str, out_dir: str | Path) -> list[Path]:
    """Write `name`.png and `name`.pdf into out_dir; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        path = out / f"{name}.{ext}"
        # no creation date in a PDF: a redraw of the same runs leaves the committed file as it was
        fig.savefig(path, dpi=150 if ext == "png" else None, metadata={"CreationDate": None} if ext == "pdf" else None)
        paths.append(path)
    return paths


SEED_BAND = ("pi", 100)
"""seaborn's band for a curve drawn over seeds: the range (lowest to highest seed) at each step
-- with 2-3 seeds a bootstrap "95%" interval of their mean would cover far less than it says.
Every curve aggregated over seeds passes it, and `band_caption` says so under the figure."""


def verdict_summary(verdicts) -> str:
    """"2 hold · 1 inconclusive": the count of each status among `verdicts` (anything with a
    `status`), in the report's order (`claims.count_statuses`); "no verdict" for none."""
    from .claims.core import count_statuses

    return count_statuses(v.status for v in verdicts)


def headline(fig, reference: str, words: str, verdicts=None) -> None:
    """The figure's title: the paper and figure it reproduces, then what the paper says it
    shows, in the paper's own words (e.g. "Order Matters, Fig. 2", "pre-training's front
    yields better low-resource task performance"). verdicts: the figure's claims' verdicts,
    counted on a last line -- without it a reader takes the paper's words for our result,
    which the runs may not support (out of regime, inconclusive)."""
    title = f"{reference}: {words}"
    if verdicts is not None:
        title += f"\nthe paper's claim; our runs: {verdict_summary(verdicts)} (see the report)"
    fig.suptitle(title, fontsize="medium", fontweight="bold")


def caption(fig, text: str) -> None:
    """A caption under the figure (saved with it: `savefig.bbox` is "tight")."""
    fig.text(0.01, -0.01, text, ha="left", va="top", fontsize=8, wrap=True, color="0.25")


def band_caption(seeds: int, judged_with: int | None = None) -> str:
    """What the shaded band of a curve over `seeds` seeds is (none with one seed);
    judged_with: the seeds the figure's verdicts use, when the curves show fewer."""
    more = f" (the verdicts use all {judged_with} seeds)" if judged_with and judged_with > seeds else ""
    if seeds <= 1:
        return f"One seed per curve, so no band{more}." if more else \
            "One seed per curve: no band (the seed-to-seed spread is not measured)."
    return f"Lines: the mean over {seeds} seeds; bands: their range (lowest to highest seed) at each step{more}."


def mark_out_of_regime(axes, failed: list[str]) -> None:
    """Mark panels whose claims were all out of regime (`claims.failed_gates`) and say which
    gates failed: the curves are drawn, but they are not evidence for or against the paper.
    A faint watermark under the data (never hiding it) on a grey background, and the failed
    gates in small red text just above the panel's title, outside the data (at the panel's
    foot it sat on points and legends); on a table (axes turned off), the note alone under
    it. Nothing happens when `failed` is empty."""
    if not failed:
        return
    import numpy as np

    note = f"out of regime: {', '.join(failed)} gate{'s' if len(failed) > 1 else ''} failed"
    style = dict(ha="center", fontsize=7, color="#a00000", fontweight="bold")
    for ax in np.atleast_1d(axes).ravel():
        if not ax.axison:
            ax.text(0.5, -0.02, note, transform=ax.transAxes, va="top", **style)
            continue
        ax.set_facecolor("#efefef")
        ax.text(0.5, 0.5, "OUT OF REGIME", transform=ax.transAxes, ha="center", va="center", rotation=20,
                fontsize=20, fontweight="bold", color="#a00000", alpha=0.18, zorder=0)
        # anchored to the title artist, resolved at draw time: a title set after this call (or
        # none) still gets the note above it, and constrained layout makes room for both
        ax.annotate(note, xy=(0.5, 1.0), xycoords=ax.title, xytext=(0, 1), textcoords="offset points",
                    va="bottom", **style)


METHOD_COLOURS = ((L.PRETRAIN, 0), (L.LM_PRETRAIN, 0), (L.RESTART, 1), (L.STATIC, 2), (L.FT_ONLY, 3), (L.COOLDOWN, 4),
                  (L.TAU5, 5), ("τ=1", 2))  # τ=1 of every name: "τ=1 (proportional)", "τ=1 (0.025)"
"""(method, index into seaborn's colorblind palette): a method keeps its colour in every figure
(τ=1 samples in proportion to the data: static sampling's colour, which it is).
A label matches its method's name alone or followed by " (...)" ("COOLDOWN (5→1)", "pre-train
+ joint FT (rate 0.3)"). Other labels take `FREE_COLOURS`."""
FREE_COLOURS = (9, 6, 8, 7)
"""The palette's colours no method has, in the order other labels take them (cyan, pink,
yellow, grey: grey last, the bigram baselines' colour)."""


def method_colour(name):
    """The colour of method `name` (`METHOD_COLOURS`), None for a label that is no method's."""
    name = str(name)
    palette = sns.color_palette("colorblind")
    for method, index in METHOD_COLOURS:
        if name == method or name.startswith(f"{method} ("):
            return palette[index]
    return None


def free_colour(k: int):
    """The k-th colour for labels that are no method's (`FREE_COLOURS`, cycled)."""
    return sns.color_palette("colorblind")[FREE_COLOURS[k % len(FREE_COLOURS)]]


def method_palette(names) -> dict:
    """{name: colour} for seaborn's `palette=`: each method its own colour (`method_colour`),
    other labels `FREE_COLOURS` in order."""
    out, others = {}, 0
    for name in names:
        out[name] = method_colour(name)
        if out[name] is None:
            out[name], others = free_colour(others), others + 1
    return out


def seed_means(rows, columns, by: str = "rate"):
    """(points (n, 2), spread (n, 2), labels): per value of `by`, the mean over its rows (one
    per seed) of two columns, and their standard deviation across seeds (0 for one seed) --
    a front drawn as the verdicts judge it, from seed means, not from one seed."""
    g = rows.groupby(by, sort=True)[list(columns)]
    means, spread = g.mean(), g.std(ddof=1).fillna(0.0)
    return means.to_numpy(dtype=float), spread.to_numpy(dtype=float), list(means.index)


LABEL_OFFSETS = ((3, 3, "left", "bottom"), (3, -3, "left", "top"), (-3, 3, "right", "bottom"), (-3, -3, "right", "top"))
"""Where `plot_front` puts a point's label (offset in points, alignment), one corner per front
on the same axes: two methods' labels at nearly the same point stay apart."""


def plot_front(ax, points, label: str, color=None, marker: str = "o", annotate=None, alpha_points: float = 0.35,
               spread=None):
    """Scatter every (loss 1, loss 2) point and draw the Pareto front through the
    non-dominated ones; `annotate` labels each point (e.g. its sampling rate); `spread`
    (n, 2) draws ± that much as error bars (e.g. the seeds' standard deviation). color:
    by default the method's (`method_colour`), else the next free colour on these axes."""
    import numpy as np

    from . import pareto

    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    # the fronts already on these axes: each front's labels sit on another side of its points, and
    # a front that is no method's takes the next free colour
    drawn = [line.get_label() for line in ax.lines if (line.get_gid() or "").startswith("front:")]
    slot = len(drawn) % len(LABEL_OFFSETS)
    if color is None:
        color = method_colour(label)
    if color is None:
        color = free_colour(sum(method_colour(name) is None for name in drawn))
    line = ax.plot(*pareto.front(pts).T, marker=marker, label=label, color=color, lw=1.8, gid=f"front:{label}")[0]
    ax.scatter(pts[:, 0], pts[:, 1], color=line.get_color(), marker=marker, alpha=alpha_points, s=22)
    if spread is not None:
        err = np.asarray(spread, dtype=float).reshape(-1, 2)
        ax.errorbar(pts[:, 0], pts[:, 1], xerr=err[:, 0], yerr=err[:, 1], fmt="none", ecolor=line.get_color(),
                    alpha=0.6, lw=0.9)
    if annotate is not None:
        for (x, y), text in zip(pts, annotate):
            ax.annotate(str(text), (x, y), textcoords="offset points", xytext=LABEL_OFFSETS[slot][:2],
                        ha=LABEL_OFFSETS[slot][2], va=LABEL_OFFSETS[slot][3], fontsize=7, color=line.get_color())
    return line


def highlight_table(ax, table, higher_is_better: bool, near: float, far: float, fmt: str = "{:.2f}", title: str = ""):
    """Paper B's table style as a figure: per column, the best value bold, values within
    `near` of it green, values more than `far` worse red."""
    import numpy as np

    values = table.to_numpy(dtype=float)
    best = np.nanmax(values, axis=0) if higher_is_better else np.nanmin(values, axis=0)
    gap = (best - values) if higher_is_better else (values - best)
    colours = np.where(gap <= near, "#d9f2d9", np.where(gap > far, "#f8d7da", "white"))
    ax.axis("off")
    cells = [[fmt.format(v) for v in row] for row in values]
    t = ax.table(cellText=cells, rowLabels=list(table.index), colLabels=list(table.columns), cellColours=colours,
                 loc="center", cellLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(8)
    t.scale(1.0, 1.3)
    for (r, c), cell in t.get_celld().items():
        if r >= 1 and c >= 0 and gap[r - 1, c] == 0:
            cell.get_text().set_fontweight("bold")
    ax.set_title(title, fontsize=9)
    return t


def reference_line(ax, value: float, label: str = "bigram baseline (ignores the source)", vertical: bool = False,
                   keep_limits: bool = False, legend: bool = True, **kw):
    """A horizontal (or vertical) reference: the bigram baseline a model must beat to have
    learned its task. keep_limits: call it after the data are drawn; a reference outside the
    data's range then does not stretch the axis (which would crowd the data into a corner):
    the legend names it, with its value and the side it lies on (call `ax.legend` after).
    legend: False keeps a line in range out of the legend (a second line of the same
    baseline, e.g. the other task's)."""
    if keep_limits and not ax.has_data():
        raise ValueError("reference_line(keep_limits=True) keeps the data's limits: draw the data first")
    kw = {"color": "0.35", "ls": "--", "lw": 1.0, **kw}
    low, high = ax.get_xlim() if vertical else ax.get_ylim()
    line = (ax.axvline if vertical else ax.axhline)(value, label=label if legend else f"_{label}", **kw)
    if keep_limits and not low <= value <= high:
        (ax.set_xlim if vertical else ax.set_ylim)(low, high)
        beyond = value > high
        where = ("→ right of" if beyond else "← left of") if vertical else ("↑ above" if beyond else "↓ below")
        line.set_label(f"{label.split(' (')[0]} {value:.2f} {where} the plot")
    return line
