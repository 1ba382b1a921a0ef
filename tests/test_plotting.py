"""Figure helpers: panels of out-of-regime claims are marked, captions say what bands are."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from paperlib import claims, plotting
from paperlib.claims.core import Claim, Gate, Verdict

CLAIM = Claim("t.claim", "Order Matters", "§1", "x beats y", "", ("learned",), 0.0, "loss gain")


def _verdict(status, scope, passed=True):
    gates = (Gate("learned", passed, "loss 5.0 vs bigram 4.5"),)
    return Verdict(CLAIM, status, None, gates, scope=scope)


def test_failed_gates_only_when_every_verdict_of_the_scope_is_out_of_regime():
    out = _verdict(claims.OUT_OF_REGIME, "en-es", passed=False)
    judged = _verdict(claims.HOLDS, "en-es")
    other = _verdict(claims.OUT_OF_REGIME, "en-fi", passed=False)
    assert claims.failed_gates([out, other], "en-es") == ["learned"]
    assert claims.failed_gates([out, judged], "en-es") == []
    assert claims.failed_gates([out, judged, other], "en-fi") == ["learned"]
    assert claims.failed_gates([out, judged, other]) == []
    assert claims.failed_gates([], "en-es") == []


def test_an_out_of_regime_panel_is_greyed_and_says_which_gate_failed():
    fig, axes = plotting.subplots(2)
    plotting.mark_out_of_regime(axes[0, 0], ["learned", "overfits"])
    plotting.mark_out_of_regime(axes[0, 1], [])
    marked, clean = axes[0, 0], axes[0, 1]
    assert [t.get_text() for t in marked.texts] == ["OUT OF REGIME", "out of regime: learned, overfits gates failed"]
    assert marked.texts[0].get_zorder() < 1  # the watermark under lines (2) and points (1): the data stay visible
    assert marked.get_facecolor() != clean.get_facecolor()
    assert len(clean.texts) == 0
    table = plotting.subplots(1)[1][0, 0]
    table.axis("off")
    plotting.mark_out_of_regime(table, ["learned"])
    assert [t.get_text() for t in table.texts] == ["out of regime: learned gate failed"]


def test_headline_and_captions_are_on_the_figure():
    fig, _ = plotting.subplots(1)
    plotting.headline(fig, "Order Matters, Fig. 2", "trade-off fronts")
    plotting.caption(fig, plotting.band_caption(3))
    assert fig._suptitle.get_text() == "Order Matters, Fig. 2: trade-off fronts"
    assert "over 3 seeds" in fig.texts[-1].get_text() and "range (lowest to highest seed)" in fig.texts[-1].get_text()
    assert plotting.band_caption(2, judged_with=3).endswith("(the verdicts use all 3 seeds).")
    assert "verdicts" not in plotting.band_caption(3, judged_with=3)
    assert "no band" in plotting.band_caption(1) and "not measured" in plotting.band_caption(1)
    assert plotting.band_caption(1, judged_with=3) == "One seed per curve, so no band (the verdicts use all 3 seeds)."


def test_seed_means_are_per_rate_means_with_the_seeds_spread():
    import pandas as pd

    rows = pd.DataFrame({"rate": [0.5, 0.1, 0.5, 0.1, 0.5], "seed": [0, 0, 1, 1, 2],
                         "a": [1.0, 4.0, 3.0, 6.0, 2.0], "b": [10.0, 0.0, 10.0, 2.0, 13.0]})
    points, spread, labels = plotting.seed_means(rows, ["a", "b"])
    assert labels == [0.1, 0.5]
    np.testing.assert_allclose(points, [[5.0, 1.0], [2.0, 11.0]])
    np.testing.assert_allclose(spread, [[np.sqrt(2), np.sqrt(2)], [1.0, np.sqrt(3)]])
    _, one_seed, _ = plotting.seed_means(rows[rows.seed == 0], ["a", "b"])
    assert (one_seed == 0).all()  # one seed: no spread to draw


def test_a_figure_saved_again_later_is_byte_identical(tmp_path):
    """A redraw of the same runs leaves committed PNGs and PDFs as they were (a PDF once
    carried its creation time)."""
    import time

    import matplotlib.pyplot as plt

    def draw():
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
        written = [p.read_bytes() for p in plotting.save(fig, "f", tmp_path)]
        plt.close(fig)
        return written

    first = draw()
    time.sleep(1.1)  # the PDF's date has one-second resolution
    assert draw() == first


# ------------------------------------------------------------------ mutation audit

def _cells(t):
    """{(row, col): (colour, bold)} of a matplotlib table's body (row 1 on; row 0 is its header)."""
    from matplotlib.colors import to_hex

    return {(r, c): (to_hex(cell.get_facecolor()), cell.get_text().get_fontweight() == "bold")
            for (r, c), cell in t.get_celld().items() if r >= 1 and c >= 0}


def test_highlight_table_bolds_the_best_greens_the_near_and_reds_the_far():
    """Upsample or Upweight? Table 3's style: the best per column bold, within `near` of it
    green, more than `far` worse red (a value exactly `near` or `far` away is green / white)."""
    import pandas as pd

    green, red, white = "#d9f2d9", "#f8d7da", "#ffffff"
    table = pd.DataFrame({"bleu": [30.0, 29.0, 28.5, 27.0], "loss": [1.0, 3.0, 2.0, 2.5]},
                         index=["best", "near", "between", "far"])
    _, axes = plotting.subplots(1)
    cells = _cells(plotting.highlight_table(axes[0, 0], table[["bleu"]], higher_is_better=True, near=1.0, far=1.5))
    assert cells == {(1, 0): (green, True), (2, 0): (green, False), (3, 0): (white, False), (4, 0): (red, False)}
    # lower is better (a loss): the smallest is best
    cells = _cells(plotting.highlight_table(axes[0, 0], table[["loss"]], higher_is_better=False, near=1.0, far=1.4))
    assert cells == {(1, 0): (green, True), (2, 0): (red, False), (3, 0): (green, False), (4, 0): (red, False)}


def test_plot_front_draws_the_line_through_the_non_dominated_points_only():
    _, axes = plotting.subplots(1)
    ax = axes[0, 0]
    points = [(1.0, 4.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0)]  # (3, 3) is dominated by (2, 2)
    line = plotting.plot_front(ax, points, "static", annotate=[0.1, 0.3, 0.5, 0.7], spread=np.full((4, 2), 0.1))
    np.testing.assert_allclose(line.get_xydata(), [(1.0, 4.0), (2.0, 2.0), (4.0, 1.0)])
    assert line.get_label() == "static"
    scattered = ax.collections[0].get_offsets()
    np.testing.assert_allclose(scattered, points)  # every point is shown, dominated ones too
    assert [t.get_text() for t in ax.texts] == ["0.1", "0.3", "0.5", "0.7"]


def test_subplots_size_each_panel_and_save_writes_png_and_pdf(tmp_path):
    import matplotlib.pyplot as plt

    fig, axes = plotting.subplots(3, 2, width=2.0, height=1.5)
    assert axes.shape == (2, 3) and tuple(fig.get_size_inches()) == (6.0, 3.0)
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"  # stacked titles never overlap
    assert plotting.subplots(1)[1].shape == (1, 1)  # never squeezed: axes[0, 0] always works
    written = plotting.save(fig, "f", tmp_path / "new")
    assert written == [tmp_path / "new" / "f.png", tmp_path / "new" / "f.pdf"]
    assert written[0].read_bytes()[:4] == b"\x89PNG" and written[1].read_bytes()[:4] == b"%PDF"
    plt.close("all")


def test_reference_line_is_a_dashed_horizontal_line_a_caller_can_restyle():
    _, axes = plotting.subplots(1)
    ax = axes[0, 0]
    plotting.reference_line(ax, 4.5)
    plotting.reference_line(ax, 3.0, label="unigram", color="red")
    base, other = ax.lines
    assert tuple(base.get_ydata()) == (4.5, 4.5) and base.get_linestyle() == "--"
    assert base.get_label() == "bigram baseline (ignores the source)"
    assert other.get_label() == "unigram" and other.get_color() == "red" and other.get_linestyle() == "--"


def test_an_out_of_regime_note_sits_above_a_plots_title_and_under_a_table():
    fig, axes = plotting.subplots(2)
    plot, table = axes[0, 0], axes[0, 1]
    table.axis("off")
    plotting.mark_out_of_regime(axes, ["learned"])  # every panel of the grid
    plot.plot([0, 1], [0, 1], label="a curve through the panel's foot")
    plot.set_title("a title set after the mark")
    plot.legend(loc="lower center")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    note, under = plot.texts[-1].get_window_extent(renderer), table.texts[-1]
    # outside the data area, where neither the legend nor a point can cover it, and above the title
    assert note.y0 >= plot.get_window_extent(renderer).y1
    assert note.y0 >= plot.title.get_window_extent(renderer).y1 - 1
    assert not note.overlaps(plot.get_legend().get_window_extent(renderer))
    assert under.get_position()[1] < 0 and under.get_va() == "top"  # below the table, not over its cells


def test_headline_counts_the_figures_verdicts_so_the_papers_words_are_not_read_as_ours():
    fig, _ = plotting.subplots(1)
    verdicts = [_verdict(claims.HOLDS, "a"), _verdict(claims.HOLDS, "b"), _verdict(claims.OUT_OF_REGIME, "a", False),
                _verdict(claims.FAILS, "a")]
    plotting.headline(fig, "Order Matters, Fig. 2", "trade-off fronts", verdicts)
    first, second = fig._suptitle.get_text().split("\n")
    assert first == "Order Matters, Fig. 2: trade-off fronts"
    assert second == "the paper's claim; our runs: 2 hold · 1 does not hold · 1 out of regime (see the report)"
    assert plotting.verdict_summary(verdicts[:1]) == "1 holds" and plotting.verdict_summary([]) == "no verdict"
    assert set(claims.core.STATUS_WORDS) == set(claims.core.STATUSES)  # every status is counted
    assert claims.count_statuses(["holds"] * 6 + ["does not hold"] * 3) == "6 hold · 3 do not hold"


def test_a_method_has_one_colour_in_every_figure():
    from paperlib.claims import order_matters as om, upweight as uw

    palette = __import__("seaborn").color_palette("colorblind")
    for name in (om.STATIC, om.PRETRAIN, om.RESTART, om.FT_ONLY, om.LM_PRETRAIN, *uw.fig1_cooldown.__defaults__[0]):
        assert plotting.method_colour(name) is not None, name
    assert plotting.method_colour("pre-train + joint FT (rate 0.3)") == plotting.method_colour(om.PRETRAIN)
    assert plotting.method_colour("pre-train 500 steps") is None and plotting.method_colour("τ=10") is None
    colours = plotting.method_palette(["x", om.STATIC, "y"])
    assert colours[om.STATIC] == palette[2]
    assert len({colours["x"], colours["y"], colours[om.STATIC]}) == 3  # other labels take colours no method has
    assert not {colours["x"], colours["y"]} & {plotting.method_colour(m) for m, _ in plotting.METHOD_COLOURS}
    assert plotting.method_palette([1, 5]) == {1: palette[9], 5: palette[6]}  # numeric hue levels: free colours
    _, axes = plotting.subplots(1)
    ax = axes[0, 0]
    assert plotting.plot_front(ax, [(1.0, 2.0)], om.RESTART).get_color() == palette[1]
    # fronts that are no method's (pre-training lengths, a dropout arm) take free colours, one each
    others = [plotting.plot_front(ax, [(1.0, 2.0)], f"pre-train {n} steps").get_color() for n in (100, 200)]
    assert others == [palette[9], palette[6]]
    array = np.array([0.1, 0.2, 0.3, 1.0])  # a colour from a colormap
    assert tuple(plotting.plot_front(ax, [(1.0, 2.0)], "x", color=array, annotate=[0.5]).get_color()) == tuple(array)


def test_two_fronts_label_their_points_on_different_sides():
    _, axes = plotting.subplots(1)
    ax = axes[0, 0]
    plotting.plot_front(ax, [(1.0, 2.0), (2.0, 1.0)], "static sampling", annotate=[0.1, 0.5])
    plotting.plot_front(ax, [(1.0, 2.0), (2.0, 1.0)], "restart", annotate=[0.1, 0.5])
    first, second = ax.texts[0], ax.texts[2]
    assert first.get_text() == second.get_text() == "0.1"
    assert (first.xyann, first.get_va()) != (second.xyann, second.get_va())


def test_a_reference_far_from_the_data_is_named_in_the_legend_not_stretching_the_axis():
    _, axes = plotting.subplots(1)
    ax = axes[0, 0]
    ax.plot([1.6, 2.1], [2.5, 3.0])
    ylim, xlim = ax.get_ylim(), ax.get_xlim()
    plotting.reference_line(ax, 5.0, keep_limits=True)
    plotting.reference_line(ax, 4.43, vertical=True, keep_limits=True, legend=False)
    plotting.reference_line(ax, 2.8, keep_limits=True, legend=False)  # inside the data: a line, out of the legend
    assert ax.get_ylim() == ylim and ax.get_xlim() == xlim  # the data keep the panel
    assert [t.get_text() for t in ax.legend().get_texts()] == ["bigram baseline 5.00 ↑ above the plot",
                                                                "bigram baseline 4.43 → right of the plot"]
    empty = plotting.subplots(1)[1][0, 0]
    with pytest.raises(ValueError, match="draw the data first"):  # (0, 1) would be kept: the data off the panel
        plotting.reference_line(empty, 5.0, keep_limits=True)
    stretched = plotting.subplots(1)[1][0, 0]
    stretched.plot([1.6, 2.1], [2.5, 3.0])
    plotting.reference_line(stretched, 5.0)  # the default: the axis takes the line in
    assert stretched.get_ylim()[1] > 5.0
    assert [t.get_text() for t in stretched.legend().get_texts()] == ["bigram baseline (ignores the source)"]
