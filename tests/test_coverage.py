"""paperlib.coverage accounts for every figure and table of both papers exactly once."""

import ast
import collections
from pathlib import Path

import pytest

from paperlib import coverage
from paperlib.coverage import ITEMS, ORDER_MATTERS, STATUSES, UPSAMPLE

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"

# from reading /work/shared/papers/*.md (appendices included)
EXPECTED = {
    ORDER_MATTERS: [f"Fig. {i}" for i in range(1, 29)] + [f"Table {i}" for i in range(1, 5)],
    UPSAMPLE: [f"Fig. {i}" for i in range(1, 10)] + [f"Table {i}" for i in range(1, 7)],
}


@pytest.mark.parametrize("paper", list(EXPECTED))
def test_every_figure_and_table_exactly_once_in_paper_order(paper):
    refs = [it.ref for it in ITEMS if it.paper == paper]
    assert refs == EXPECTED[paper]  # each once, figures then tables, by number
    assert collections.Counter(refs).most_common(1)[0][1] == 1


def test_papers_in_order_and_nothing_else():
    papers = [it.paper for it in ITEMS]
    assert papers == [ORDER_MATTERS] * len(EXPECTED[ORDER_MATTERS]) + [UPSAMPLE] * len(EXPECTED[UPSAMPLE])
    assert len(ITEMS) == sum(len(v) for v in EXPECTED.values())


def test_statuses_valid_and_consistent():
    for it in ITEMS:
        assert it.status in STATUSES, it
        assert it.content.strip(), it
        # a notebook exactly when reproduced (fully or with a deviation)
        assert (it.notebook is None) == (it.status == coverage.NOT_REPRODUCED), it
        if it.status != coverage.REPRODUCED:
            assert it.note.strip(), it


def test_item_rejects_bad_values():
    with pytest.raises(ValueError):
        coverage.Item(ORDER_MATTERS, "Fig. 1", "x", None, "partly", "why")
    with pytest.raises(ValueError):
        coverage.Item("Another paper", "Fig. 1", "x", None, coverage.NOT_REPRODUCED, "why")
    with pytest.raises(ValueError):
        coverage.Item(ORDER_MATTERS, "Fig. 1", "x", None, coverage.DEVIATION, "no notebook")


def test_named_notebooks_exist():
    for it in ITEMS:
        if it.notebook is not None:
            assert (NOTEBOOKS_DIR / f"{it.notebook}.ipynb").is_file(), it.notebook


def test_every_registered_notebook_covers_an_item():
    from paperlib.reproduce import NOTEBOOKS

    named = {it.notebook for it in ITEMS if it.notebook is not None}
    assert named <= set(NOTEBOOKS), named - set(NOTEBOOKS)
    assert set(NOTEBOOKS) <= named | set(coverage.BEYOND), set(NOTEBOOKS) - named
    assert not named & set(coverage.BEYOND)


def test_table_markdown_one_row_per_item():
    lines = coverage.table_markdown().strip().splitlines()
    assert lines[0] == "| paper | figure/table | shows | notebook | status | note |"
    assert set(lines[1].replace("|", "")) == {"-"}
    rows = lines[2:]
    assert len(rows) == len(ITEMS)
    for row, it in zip(rows, ITEMS):
        cells = [c.strip() for c in row.replace("\\|", "").strip().strip("|").split("|")]
        assert len(cells) == 6, row
        assert cells[0] == it.paper and cells[1] == it.ref and cells[4] == it.status


def test_counts_by_status():
    c = coverage.counts()
    assert list(c) == list(STATUSES)
    assert sum(c.values()) == len(ITEMS)
    assert {s: n for s, n in c.items() if n} == dict(collections.Counter(it.status for it in ITEMS))


def test_pure_data_module():
    tree = ast.parse(Path(coverage.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative (paperlib) imports"
            imported.add(node.module)
    assert imported <= {"__future__", "dataclasses", "typing"}, imported


def test_notes_hold_no_preset_sizes_the_scale_table_gives_them():
    """The coverage table is printed in every preset's report: a note that says '300 steps'
    or '2 seeds' is wrong for every preset but one. Those sizes come from the scale table."""
    import re

    for it in ITEMS:
        assert not re.search(r"\b\d+ steps\b|\b\d seeds\b|\bd128\b", it.note), (it.ref, it.note)


@pytest.mark.parametrize("preset", ["mini", "gpu"])
def test_report_scale_table_is_the_presets_own(preset):
    from paperlib import presets, report

    p = presets.get(preset)
    text = "\n".join(report.scale_markdown(preset))
    row = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in text.splitlines()[4:]}
    assert row["model"].startswith(f"{p.model.layers}+{p.model.layers} layers, d {p.model.d_model}")
    assert row["two-task NMT run"].startswith(f"{p.steps:,} steps = {p.pretrain:,} pre-training + {p.finetune:,}")
    assert row["seeds"] == ", ".join(map(str, p.seeds))
    for name in p.hrl_lrl_sets:
        assert name in row["HRL+LRL pairs"]


# ------------------------------------------------------------------ mutation audit

def test_item_needs_a_note_unless_reproduced_and_no_notebook_when_not_reproduced():
    coverage.Item(ORDER_MATTERS, "Fig. 1", "x", "A1_fig01_hrl_hrl_fronts", coverage.REPRODUCED, "")  # no note needed
    for status in (coverage.DEVIATION, coverage.NOT_REPRODUCED):  # a deviation, or why not: said
        notebook = None if status == coverage.NOT_REPRODUCED else "A1_fig01_hrl_hrl_fronts"
        with pytest.raises(ValueError, match="needs a note"):
            coverage.Item(ORDER_MATTERS, "Fig. 1", "x", notebook, status, "")
    with pytest.raises(ValueError, match="a notebook exactly when"):  # "not reproduced" yet a notebook named
        coverage.Item(ORDER_MATTERS, "Fig. 1", "x", "A1_fig01_hrl_hrl_fronts", coverage.NOT_REPRODUCED, "why")


def test_six_layer_and_second_pair_items_are_the_papers_own():
    """Order Matters Appendix A.2 repeats Figs. 10-11, 13, 15, 17, 19, 21, 23, 25 with 6+6 layers
    (drawn only by a 6-layer preset); the En→{Hi, Fr} 3-layer figures are 12, 18, 24 and 28
    (drawn from a preset's second pair)."""
    six = [it.ref for it in ITEMS if it.six_layer]
    assert six == [f"Fig. {i}" for i in (10, 11, 13, 15, 17, 19, 21, 23, 25)]
    assert all(it.paper == ORDER_MATTERS for it in ITEMS if it.six_layer)
    assert [it.ref for it in ITEMS if it.second_pair] == [f"Fig. {i}" for i in (12, 18, 24, 28)]


def test_table_cells_escape_pipes_and_newlines_and_mark_no_notebook(monkeypatch):
    item = coverage.Item(UPSAMPLE, "Table 9", "a | b", None, coverage.NOT_REPRODUCED, "line one\nline two")
    monkeypatch.setattr(coverage, "ITEMS", (item,))
    row = coverage.table_markdown().splitlines()[2]
    assert row == "| Upsample or Upweight? | Table 9 | a \\| b | — | not reproduced | line one line two |"
    # the report's column sits before the note
    lines = coverage.table_markdown(lambda it: "drawn").splitlines()
    assert lines[0] == "| paper | figure/table | shows | notebook | status | in this report | note |"
    assert lines[1] == "|---|---|---|---|---|---|---|"
    assert lines[2].endswith("| not reproduced | drawn | line one line two |")
