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


# ------------------------------------------------------------------ mutation audit: counts, rows, records

def _verdicts(figures_dir: Path, notebook: str, statuses, scope: str = ""):
    """Record one verdict per status for `notebook`, claim ids t.<notebook>.<i> (scope on each)."""
    from paperlib import claims

    made = [claims.Verdict(claims.Claim(f"t.{notebook[:2]}.{i}", "Order Matters", "§4", f"claim {i}", "", ("learned",),
                                        0.0, "loss gain"), status, scope=scope)
            for i, status in enumerate(statuses)]
    claims.record(notebook, "mini", "T", made, figures_dir / "records")
    return made


def _rows(text: str) -> list[str]:
    """The verdict rows of every notebook section (each starts with its anchor)."""
    return [line for line in text.splitlines() if line.startswith('| <a id="t.')]


def test_the_verdict_counts_are_the_rows_every_notebook_shows(tmp_path):
    """Header counts by status, the total and the distinct claims judged equal the verdict
    rows of the records: none dropped, none counted twice, no status swapped for another."""
    from paperlib import claims

    mini = tmp_path / "mini"
    _record(mini, A2)
    _record(mini, A4)
    _verdicts(mini, A2, [claims.HOLDS, claims.HOLDS, claims.FAILS, claims.OUT_OF_REGIME], scope="hrl_lrl_es400")
    _verdicts(mini, A4, [claims.INCONCLUSIVE, claims.HOLDS])  # t.A4.1 and t.A2.1: two claims, 6 verdicts in all
    text = report.build("mini", TITLES, mini)
    assert (f"**Verdicts:** 3 hold, 1 does not hold, 1 inconclusive, 1 out of regime (not judged: the runs are not in "
            f"the regime the claim needs): 6 verdicts on 6 of the {len(claims.CLAIMS)} claims") in text
    rows = _rows(text)
    assert len(rows) == 6
    assert sum(report.MARK[claims.HOLDS] in r for r in rows) == 3
    assert sum(report.MARK[claims.FAILS] in r for r in rows) == 1
    # each row sits in its own notebook's section
    a2, a4 = text.split(f'<a id="{A2}"></a>')[1].split(f'<a id="{A4}"></a>')
    assert len(_rows(a2)) == 4 and len(_rows(a4)) == 2


def test_a_record_of_a_notebook_the_report_does_not_list_is_neither_counted_nor_shown(tmp_path, monkeypatch):
    """A record left by a renamed or removed notebook: the header's totals and the index
    count only the notebooks whose rows the report shows, so the totals add up."""
    from paperlib import claims, paths

    monkeypatch.setattr(paths, "PACKAGE_ROOT", tmp_path)
    paths.shipped_runs_dir("mini").mkdir(parents=True)
    mini = tmp_path / "figures" / "mini"
    _record(mini, A2)
    _verdicts(mini, A2, [claims.HOLDS])
    _verdicts(mini, "A9_renamed_since", [claims.FAILS, claims.FAILS])
    report.write("mini", {A2: "Fig. 2"}, mini)
    text = (mini / "REPORT.md").read_text()
    assert "**Verdicts:** 1 holds, 0 do not hold" in text and len(_rows(text)) == 1  # one: singular
    assert "| mini | [mini/REPORT.md](mini/REPORT.md) | 1 holds |" in (tmp_path / "figures" / "REPORT.md").read_text()


def test_one_claim_judged_per_scope_counts_once_among_the_claims(tmp_path):
    from paperlib import claims

    mini = tmp_path / "mini"
    claim = claims.Claim("t.A2.0", "Order Matters", "§4", "claim 0", "", ("learned",), 0.0, "loss gain")
    # the same claim judged on two pairs: two verdicts (two rows), one claim
    claims.record(A2, "mini", "T", [claims.Verdict(claim, claims.HOLDS, scope=s) for s in ("hrl_lrl_es400", "hrl_lrl_es")],
                  mini / "records")
    text = report.build("mini", TITLES, mini)
    assert f"2 verdicts on 1 of the {len(claims.CLAIMS)} claims" in text
    assert len(_rows(text)) == 2


def test_overhead_is_the_share_of_the_wall_time_no_worker_trained():
    assert report.overhead({"seconds": 100.0, "busiest_worker_seconds": 75.0}) == 0.25
    assert report.overhead({"seconds": 100.0, "busiest_worker_seconds": 120.0}) == 0.0  # never negative
    assert report.overhead({"seconds": 0.0, "busiest_worker_seconds": 0.0}) is None  # no wall time: no share
    assert report.overhead({"seconds": 100.0, "busiest_worker_seconds": None}) is None  # an older record


def test_one_training_commit_is_said_in_the_singular_and_the_overhead_stated(tmp_path):
    mini = tmp_path / "mini"
    report.record_training(mini, 600.0, 4, 450.0, commits=["c" * 40])
    text = report.build("mini", TITLES, mini)
    assert "Its runs were trained at commit `ccccccc`." in text
    assert "**Training wall time:** 10.0 min (4 runs and prefixes in one schedule, before the notebooks); " \
           "orchestration overhead 25.0% of it" in text and "busiest worker's 7.5 min of training" in text


def _redraw(figures_dir: Path, status: str, seconds: float):
    result = SimpleNamespace(name=A2, status=status, seconds=seconds, error="", figures=[Path("fig.png")])
    report.record_notebook(figures_dir, result, redrawn=True)
    import json

    return json.loads(report.summary_path(figures_dir, A2).read_text())


def test_a_redraw_keeps_the_training_time_only_of_a_trained_run_that_succeeded(tmp_path):
    _record(tmp_path, A2)  # trained: 30 s
    after = _redraw(tmp_path, "ok", 5.0)
    assert (after["seconds"], after["trained"], after["redrawn_seconds"]) == (30.0, True, 5.0)
    # a redraw that failed states its own time: the figures are not the trained run's
    _record(tmp_path, A2)
    after = _redraw(tmp_path, "failed", 5.0)
    assert (after["seconds"], after["trained"]) == (5.0, False)
    # a trained run that had failed has no time worth keeping
    _record(tmp_path, A2, status="failed")
    after = _redraw(tmp_path, "ok", 5.0)
    assert (after["seconds"], after["trained"]) == (5.0, False)
    # nothing recorded before: the redraw's own time, not a trained one
    other = tmp_path / "other"
    after = _redraw(other, "ok", 5.0)
    assert (after["seconds"], after["trained"], after["redrawn_seconds"]) == (5.0, False, 5.0)


def test_notebook_wall_time_sums_the_notebooks_and_says_what_a_redraw_measured(tmp_path):
    mini = tmp_path / "mini"
    _record(mini, A2)
    _record(mini, A4)  # 30 s each
    assert "**Notebook wall time:** 1.0 min in all." in report.build("mini", TITLES, mini)
    _redraw(mini, "ok", 90.0)  # A2 redrawn in 1.5 min, its trained 30 s kept
    text = report.build("mini", TITLES, mini)
    assert "**Notebook wall time:** 1.0 min in all (as measured when their runs were trained; redrawn from the " \
           "shipped runs in 1.5 min)." in text
    other = tmp_path / "other"
    _redraw(other, "ok", 90.0)  # only ever redrawn here: no training time to state
    assert "**Notebook wall time:** 1.5 min in all (redrawing from the shipped runs; the runs were trained " \
           "elsewhere, their time is not recorded here)." in report.build("mini", TITLES, other)


def test_only_the_smoke_report_says_its_models_learn_nothing(tmp_path):
    assert "The smoke preset exists to run every code path" in report.build("smoke", TITLES, tmp_path / "smoke")
    assert "The smoke preset exists" not in report.build("mini", TITLES, tmp_path / "mini")


def test_a_failed_notebook_shows_the_first_line_of_its_error_and_is_not_drawn(tmp_path):
    mini = tmp_path / "mini"
    result = SimpleNamespace(name=A2, status="failed", seconds=3.0, error="RuntimeError: boom\nTraceback ...\nmore",
                             figures=[])
    report.record_notebook(mini, result)
    text = report.build("mini", TITLES, mini)
    assert "**The notebook failed:** `RuntimeError: boom`" in text and "Traceback" not in text
    rows = [line for line in text.splitlines() if line.startswith("| Order Matters | Fig. 2 |")]
    assert len(rows) == 1 and " | failed | " in rows[0] and " | drawn | " not in rows[0]
    assert f"- [Fig. 2](#{A2}) — failed" in text


def test_a_notebook_whose_runs_are_not_shipped_names_the_first_missing_one(tmp_path):
    mini = tmp_path / "mini"
    error = ("MissingRun: run order_matters_nmt-mini/abc123 (static, seed 1) is not there in results/mini/runs and "
             "training is off (figures only) -- the closest stored run of that method and seed, "
             "order_matters_nmt-mini/def456, differs in optim.lr: the code has moved on since it was trained; train it")
    report.record_notebook(mini, SimpleNamespace(name=A2, status=report.NOT_SHIPPED, seconds=1.0, error=error,
                                                 figures=[]))
    text = report.build("mini", TITLES, mini)
    assert ("**Not drawn: its runs are not in the shipped results** (the first missing: `order_matters_nmt-mini/abc123`, "
            "static, seed 1; the closest stored run of that method and seed, order_matters_nmt-mini/def456, differs in "
            f"optim.lr); `paperlib reproduce --preset mini --only {A2}` trains them.") in text


def test_a_recommendation_is_shown_in_its_notebooks_section(tmp_path):
    import json

    mini = tmp_path / "mini"
    _record(mini, A4)
    (mini / "records" / f"{A4}.advice.json").write_text(json.dumps({"text": "sample en-es at 0.3"}))
    text = report.build("mini", TITLES, mini)
    section = text.split(f'<a id="{A4}"></a>')[1]
    assert "**Recommendation** (`paperlib advise`, from this report's runs):\n\n```\nsample en-es at 0.3\n```" in section
    assert "sample en-es at 0.3" not in text.split(f'<a id="{A4}"></a>')[0]


def test_a_verdicts_row_states_its_effect_basis_gates_scope_and_paper_number():
    v = {"id": "t.claim", "status": "holds", "scope": "en-de+en-sw@/data/corpus", "note": "line one\nline two",
         "numbers": {"gap": 0.12}, "claim": {"statement": "x beats y", "reference": "§4.1", "minimum": 0.05,
                                              "paper_number": "0.3 nats", "statistic": ""},
         "gates": [{"name": "learned", "passed": True, "measured": "loss 3.1 vs bigram 4.5"},
                   {"name": "overfits", "passed": False, "measured": "no rise"}],
         "effect": {"estimate": 0.12, "low": 0.05, "high": 0.19, "unit": "nats/token", "seeds": [3, 2],
                    "sentences": 400}}
    row = report._verdict_row(v)
    assert "\n" not in row and row.count(" | ") == 6
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[0] == '<a id="t.claim-en-de-en-sw"></a>**t.claim** (en-de+en-sw): x beats y'  # the corpus's folder cut
    assert cells[1] == "§4.1; paper: 0.3 nats"
    assert cells[2] == report.MARK["holds"]
    assert cells[3] == "+0.120 [+0.050, +0.190] nats/token; seeds 3/2, 400 sentences; practical minimum 0.05"
    assert cells[4] == "✓ learned: loss 3.1 vs bigram 4.5<br>✗ overfits: no rise"
    assert cells[5] == "gap = 0.12" and cells[6] == "line one line two"
    # no effect, no gates, no paper number: dashes, and no empty basis
    bare = dict(v, effect=None, gates=[], scope="", claim=dict(v["claim"], paper_number=""))
    cells = [c.strip() for c in report._verdict_row(bare).strip("|").split(" | ")]
    assert cells[0] == '<a id="t.claim"></a>**t.claim**: x beats y' and cells[1] == "§4.1"
    assert cells[3] == "–" and cells[4] == "–"
    theory = dict(v, effect=dict(v["effect"], seeds=[], sentences=0))  # closed form: no seeds, no sentences
    assert "+0.120 [+0.050, +0.190] nats/token; practical minimum 0.05" in report._verdict_row(theory)
    one_seed = dict(v, effect=dict(v["effect"], seeds=[1, 1]))  # the interval is the sentences' alone
    assert ("seeds 1/1, 400 sentences, the interval covers the sentences only: one seed cannot measure the seed "
            "spread; practical minimum") in report._verdict_row(one_seed)


def test_the_index_lists_shipped_presets_with_their_counts(tmp_path, monkeypatch):
    from paperlib import claims, paths

    monkeypatch.setattr(paths, "PACKAGE_ROOT", tmp_path)
    root = tmp_path / "figures"
    for preset in ("gpu", "mini", "smoke"):
        (root / preset).mkdir(parents=True)
        (root / preset / "REPORT.md").write_text("# report\n")
    for preset in ("gpu", "mini"):  # smoke's runs are never shipped
        paths.shipped_runs_dir(preset).mkdir(parents=True)
    _verdicts(root / "mini", A2, [claims.HOLDS, claims.OUT_OF_REGIME, claims.HOLDS])
    report.write_index(root)
    lines = (root / "REPORT.md").read_text().splitlines()
    assert "| mini | [mini/REPORT.md](mini/REPORT.md) | 2 hold · 1 out of regime |" in lines
    assert any(line.startswith("| gpu | [gpu/REPORT.md](gpu/REPORT.md) | no records") for line in lines)
    assert not any(line.startswith("| smoke |") for line in lines)
    assert 'href="mini/REPORT.html"' in (root / "REPORT.html").read_text()  # the HTML index links HTML reports


def test_a_six_layer_report_draws_the_six_layer_figures_and_points_elsewhere_for_the_rest(tmp_path):
    gpu6 = tmp_path / "gpu6"
    _record(gpu6, A2)
    _record(gpu6, "A8_fig26_bleu_fronts")
    text = report.build("gpu6", {**TITLES, "A8_fig26_bleu_fronts": "Fig. 27"}, gpu6)
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| Order Matters |")}
    assert " | drawn | " in rows["Fig. 11"]  # A2's 6-layer fronts
    assert " | 3-layer presets | " in rows["Fig. 2"]
    assert " | drawn | " in rows["Fig. 27"]  # its right panel is 6-layer: drawn here as its own figure
    assert f"| {A4} | not part of this preset — see the gpu report | – | – |" in text


def test_a_hub_report_lists_the_hubs_pairs_in_its_scale_table():
    from paperlib.experiments import HUB_PARAMETERS

    row = next(line for line in report.scale_markdown("mini", hub=True) if line.startswith("| HRL+LRL pairs |"))
    mini = row.split(" | ")[1]
    assert all(name in mini for name in HUB_PARAMETERS[A2]["tasksets"]) and "hrl_lrl_es400" not in mini


def test_a_corpus_report_names_its_corpus_not_the_presets_pairs_in_its_scale_table():
    row = next(line for line in report.scale_markdown("mini", corpus="my_corpus") if line.startswith("| HRL+LRL pairs |"))
    mine, paper = row.split(" | ")[1:3]
    assert "my_corpus" in mine and "hrl_lrl_es400" not in mine and "En→{Hi, Fr}" in paper



def test_write_says_the_corpus_or_hub_and_keeps_the_reports_own_tags_in_html(tmp_path):
    mini = tmp_path / "mini-hub"
    _record(mini, A2)
    md, html, *index = report.write("mini", TITLES, mini, hub=True)
    assert md.read_text().startswith("# Reproduction report (mini preset, the hub)")
    assert "<title>paperlib report (mini)</title>" in html.read_text()
    assert index == [tmp_path / "REPORT.md", tmp_path / "REPORT.html"]
    mine = tmp_path / "mini-corpus"
    md = report.write("mini", TITLES, mine, corpus="/data/corpus")[0]
    assert md.read_text().startswith("# Reproduction report (mini preset, your corpus)\n\nTrained on the corpus in "
                                     "`/data/corpus` (`--source dir`)")
    # a gate cell's line break is a tag in the HTML report, not text
    cell = report._html("| a |\n|---|\n| ✓ learned: 3.1<br>✗ overfits: none |\n", "t")
    assert "3.1<br>✗ overfits" in cell and "&lt;br&gt;" not in cell
