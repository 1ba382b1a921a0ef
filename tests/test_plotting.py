"""Figure helpers: panels of out-of-regime claims are marked, captions say what bands are."""

import matplotlib
import numpy as np

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
    assert all(t.get_zorder() < 1 for t in marked.texts)  # under lines (2) and points (1): the data stay visible
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
