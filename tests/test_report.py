"""The reproduction report (paperlib.report.build) from constructed records: what it says
about trained, untrained and not-at-this-size notebooks, and the coverage table's column."""

from pathlib import Path
from types import SimpleNamespace

from paperlib import coverage, report

A2, A4 = "A2_fig02_hrl_lrl_fronts", "A4_fig05_regularisation"
TITLES = {A2: "Fig. 2", A4: "Fig. 5"}


def _record(figures_dir: Path, name: str, status: str = "ok"):
    result = SimpleNamespace(name=name, status=status, seconds=30.0, error="",
                             figures=[Path("fig.png"), Path("fig.pdf")])
    report.record_notebook(figures_dir, result)


def test_report_says_what_it_draws_and_where_the_rest_is(tmp_path):
    mini = tmp_path / "mini"
    _record(mini, A2)
    report.record_training(mini, 600.0, 4, 590.0, commits=["b" * 40, "a" * 40, "a" * 40])
    text = report.build("mini", TITLES, mini)
    assert "Its runs were trained at commits `aaaaaaa`, `bbbbbbb`." in text
    assert "0 verdicts on 0 of the" in text
    assert f"| {A2} | ok | 0.5 min | 1 |" in text  # one figure: its PNG (the PDF is the same figure)
    # A4 is not run at mini, and no gpu report draws it either
    assert f"| {A4} | not run at this size — no preset's shipped runs draw it yet | – | – |" in text
    assert f"--preset gpu --only {A4}" in text

    # the coverage table: A2's 3-layer first-pair figures are drawn, its 6-layer and second-pair ones are not
    rows = {line.split(" | ")[1]: line for line in text.splitlines()
            if line.startswith("| Order Matters |") and f"`{A2}`" in line}
    assert " | drawn | " in rows["Fig. 2"]
    assert " | 6-layer preset (gpu6, paper6) | " in rows["Fig. 11"]
    assert " | second pair: not at this preset | " in rows["Fig. 12"]
    assert any(" | not run at this size" in line for line in text.splitlines() if f"`{A4}`" in line)
    drawn = sum(1 for it in coverage.ITEMS if it.notebook == A2 and not it.six_layer and not it.second_pair)
    assert f"; {drawn} of them drawn in this report" in text

    # once the gpu report has drawn A4, the mini report points to it
    _record(tmp_path / "gpu", A4)
    assert f"| {A4} | not run at this size — see the gpu report | – | – |" in report.build("mini", TITLES, mini)


def test_numbers_print_no_negative_zero():
    assert report._fmt_numbers({"gap": -0.0, "nested": {"a": [-0.0, -1.5]}}) == 'gap = 0.0; nested = {"a": [0.0, -1.5]}'


def test_a_verdicts_row_says_how_its_effect_is_decided():
    """A reader of the report sees what the effect is (e.g. a tolerance it includes), not
    only `paperlib claims list`; a '|' in the text cannot break the table."""
    v = {"id": "t.claim", "status": "inconclusive", "scope": "", "note": "", "numbers": {}, "gates": [],
         "claim": {"statement": "x keeps y", "reference": "§4", "minimum": 0.0,
                   "statistic": "final HRL loss, τ=1 minus COOLDOWN, plus a tolerance of 0.05 nats |x|"},
         "effect": {"estimate": -0.02, "low": -0.08, "high": 0.04, "unit": "nats/token", "seeds": [3, 3]}}
    row = report._verdict_row(v)
    assert "<details><summary>how it is decided</summary>final HRL loss, τ=1 minus COOLDOWN, plus a tolerance of " \
           "0.05 nats \\|x\\|</details>" in row
    assert row.count(" | ") == 6  # seven cells, as the table's header
    html = report._html("| a | b | c | d | e | f | g |\n|---|---|---|---|---|---|---|\n" + row + "\n", "t")
    assert "<details><summary>how it is decided</summary>" in html  # HTML in the HTML report, not its escaped text
    assert "<a id=" in html and "nats |x|</details>" in html and html.count("<td") == 7  # the text's '|', one row
    # any other '<' is text, not a tag a browser would swallow
    html = report._html("runs in results/<preset>/runs, loss < 3, `figures/<preset>`, ``a ` <b>``, "
                        "<https://arxiv.org/abs/2312.06134>\n", "t")
    assert "results/&lt;preset&gt;/runs" in html and "<code>figures/&lt;preset&gt;</code>" in html
    assert "<code>a ` &lt;b&gt;</code>" in html and 'href="https://arxiv.org/abs/2312.06134"' in html
    assert "<preset>" not in html and "&amp;" not in html


def test_the_second_pair_figures_are_drawn_where_the_report_trained_a_second_pair(tmp_path):
    """Whether a second-pair figure (Order Matters Figs. 12, 18, 24, 28) is drawn follows the
    pairs the notebooks were given: the hub's two at any preset (`experiments.HUB_PARAMETERS`),
    a corpus's one (`reproduce.CORPUS_PARAMETERS`) at any preset -- not the preset's DDTP pairs."""
    def fig12(preset, **source):
        figures = tmp_path / "-".join([preset, *source])
        _record(figures, A2)
        text = report.build(preset, TITLES, figures, **source)
        return next(line for line in text.splitlines() if line.startswith("| Order Matters | Fig. 12 |"))

    assert " | second pair: not at this preset | " in fig12("mini")  # mini's DDTP: one pair
    assert " | drawn | " in fig12("gpu")  # gpu's DDTP: two
    assert " | drawn | " in fig12("mini", hub=True)  # the hub's En→{Ro, Fr} and En→{Hi, Fr}, at mini too
    assert " | second pair: your corpus gives one | " in fig12("gpu", corpus="/data/my-corpus")  # one pair, at gpu too
