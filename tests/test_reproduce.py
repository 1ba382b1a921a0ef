"""`paperlib reproduce`: every notebook runs at the smoke preset; failures are reported."""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from nbbuild import write_notebook  # noqa: E402

from paperlib import cli, coverage, reproduce  # noqa: E402

NOTEBOOKS = reproduce.list_notebooks()


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebook_runs_at_smoke(name, tmp_path):
    res = reproduce.run_notebook(NOTEBOOKS[name], "smoke", tmp_path / "out", tmp_path / "fig", progress=False)
    assert res.status == "ok", res.error
    assert res.figures, "every notebook writes at least one figure"
    assert {p.suffix for p in res.figures} == {".png", ".pdf"}
    executed = json.loads((tmp_path / "out" / f"{name}.ipynb").read_text())
    images = [o for c in executed["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= len([p for p in res.figures if p.suffix == ".png"]), "every saved figure shows inline"
    if name in coverage.BEYOND:  # beyond the papers: a recommendation, not verdicts
        recorded = json.loads((tmp_path / "fig" / "records" / f"{name}.advice.json").read_text())
        assert recorded["text"].startswith(("recommended: ", "no recommendation: "))
        # smoke's models learn nothing: a recommendation from them says so, however well the law fits
        assert recorded["advice"] is None or "UNRELIABLE: out of regime: the runs have not learned" in recorded["text"]
        return
    recorded = json.loads((tmp_path / "fig" / "records" / f"{name}.claims.json").read_text())  # beside its figures
    assert recorded["verdicts"] and all(v["id"] for v in recorded["verdicts"]), "every verdict is a library claim"


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebooks_are_committed_clean(name):
    nb = json.loads(NOTEBOOKS[name].read_text())
    assert nb["metadata"]["kernelspec"]["name"] == reproduce.KERNEL
    assert "language_info" in nb["metadata"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []), "first code cell is the parameters cell"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "commit without outputs"
    # papermill reads a parameter only from a line with one '=' (a second one, even in the
    # comment, drops it from `papermill --help-notebook` with a warning on every run)
    import papermill

    assigned = [line.split("=")[0].strip() for line in "".join(code[0]["source"]).splitlines()
                if "=" in line and not line.lstrip().startswith("#")]
    assert sorted(papermill.inspect_notebook(str(NOTEBOOKS[name]))) == sorted(assigned)


def test_failing_notebook_reports_the_cell_error(tmp_path):
    bad = tmp_path / "bad.ipynb"
    write_notebook(bad, [("params", 'preset = "mini"\nfigures_dir = None'), ("code", "1 / 0")])
    res = reproduce.run_notebook(bad, "smoke", tmp_path / "out", tmp_path / "fig", progress=False)
    assert res.status == "failed"
    assert "ZeroDivisionError" in res.error


def test_the_kernel_logs_nothing_of_its_own_and_a_cells_warning_stays_in_the_notebook(tmp_path):
    # run in a child: the kernel writes its log to the stderr it inherits, not to capsys
    nb = tmp_path / "warns.ipynb"
    write_notebook(nb, [("params", 'preset = "mini"\nfigures_dir = None'),
                        ("code", "import warnings\nwarnings.warn('a warning of the cell')")])
    script = ("from pathlib import Path\nfrom paperlib import reproduce\n"
              f"r = reproduce.run_notebook(Path({str(nb)!r}), 'smoke', Path({str(tmp_path / 'out')!r}), "
              f"Path({str(tmp_path / 'fig')!r}), progress=False)\nassert r.status == 'ok', r.error")
    import subprocess

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "IPKernelApp" not in done.stderr, done.stderr  # no TCP warning, no ERROR at shutdown
    executed = json.loads((tmp_path / "out" / "warns.ipynb").read_text())
    assert "a warning of the cell" in json.dumps(executed["cells"][-1]["outputs"])


def test_the_kernel_is_not_interrupted_on_its_way_out_but_still_on_a_time_out(monkeypatch):
    # jupyter_client interrupts before every shutdown, and ipykernel may log that as an ERROR
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    sent = []

    async def interrupt(self):
        sent.append(self.shutting_down)

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", interrupt)
    km = reproduce.notebook_kernel_manager()()
    asyncio.run(km._async_interrupt_kernel())  # e.g. nbclient on a cell's time-out
    km.shutting_down = True
    asyncio.run(km._async_interrupt_kernel())
    assert sent == [False]


def test_the_kernel_imports_the_paperlib_this_process_runs(tmp_path, monkeypatch):
    # a second checkout sharing one .venv: the kernel spec's Python has the first one installed,
    # yet the notebooks must run this checkout's code (the report names its commit)
    checkout = tmp_path / "checkout"
    (checkout / "paperlib").mkdir(parents=True)
    (checkout / "paperlib" / "__init__.py").write_text("")
    monkeypatch.setattr(reproduce.paths, "PACKAGE_ROOT", checkout)
    nb = tmp_path / "which.ipynb"
    write_notebook(nb, [("params", 'preset = "mini"\nfigures_dir = None'),
                        ("code", "import pathlib, paperlib\n"
                                 "pathlib.Path(figures_dir, 'which.txt').write_text(paperlib.__file__)")])
    res = reproduce.run_notebook(nb, "smoke", tmp_path / "out", tmp_path / "fig", progress=False)
    assert res.status == "ok", res.error
    assert Path((tmp_path / "fig" / "which.txt").read_text()) == checkout / "paperlib" / "__init__.py"


def test_summary_table_lists_each_notebook():
    rows = [reproduce.NotebookResult("alpha", "ok", 1.5, [Path("x.png"), Path("x.pdf")]),
            reproduce.NotebookResult("beta", "failed", 12.25)]
    lines = reproduce.summary_table(rows).splitlines()
    assert lines[0].split() == ["notebook", "status", "wall", "time", "figures", "(PNG)"]
    assert set(lines[1]) <= {"-", " "}
    # x.png and its PDF are one figure, as the report counts them
    assert lines[2].split() == ["alpha", "ok", "1.5s", "1"] and lines[3].split() == ["beta", "failed", "12.2s", "0"]


@pytest.mark.parametrize("extra", [[], ["--dry-run"]])
def test_cli_unknown_notebook_is_one_line_error(capsys, extra):
    assert cli.main(["reproduce", "--preset", "smoke", "--only", "nope", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paperlib: error: unknown or ambiguous notebook(s) ['nope']; valid:") and "\n" not in err


def test_cli_list(capsys):
    assert cli.main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in NOTEBOOKS)


def test_reproduce_continues_after_a_failure_and_exits_nonzero(tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "a_bad.ipynb", [("params", 'preset = "mini"\nfigures_dir = None'), ("code", "raise RuntimeError('boom')")])
    write_notebook(
        nbdir / "b_good.ipynb",
        [("params", 'preset = "mini"\nfigures_dir = None'),
         ("code", "from pathlib import Path\nPath(figures_dir, 'x.png').write_text('x')")],
    )
    write_notebook(nbdir / "c_scratch.ipynb", [("params", 'preset = "mini"\nfigures_dir = None'), ("code", "raise SystemExit")])
    monkeypatch.setattr(reproduce.paths, "notebooks_dir", lambda: nbdir)
    monkeypatch.setattr(reproduce, "NOTEBOOKS", ("a_bad", "b_good"))  # c_scratch is not registered: never run
    monkeypatch.setattr(reproduce, "_prepare_data", lambda preset, progress, notebooks, corpus_params=None: None)  # no DDTP needed here
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    code = cli.main(["reproduce", "--preset", "smoke", "--no-progress"])
    assert code == 1
    assert (tmp_path / "figures" / "smoke" / "x.png").exists()
    assert (tmp_path / "runs" / "notebooks" / "smoke" / "b_good.ipynb").exists()
    report = (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
    assert "| a_bad | failed |" in report and "| b_good | ok |" in report and "c_scratch" not in report
    # a table of contents with each notebook's status, anchors to jump to, links to both papers
    assert "(#b_good) — ok" in report and "(#a_bad) — failed" in report and '<a id="b_good"></a>' in report
    assert "https://arxiv.org/abs/2312.06134" in report and "https://arxiv.org/abs/2410.04579" in report
    # the index lists published reports (their runs shipped), not this local one
    assert "[smoke/REPORT.md](smoke/REPORT.md)" not in (tmp_path / "figures" / "REPORT.md").read_text()
    _shipped(tmp_path, monkeypatch)
    reproduce.report.write_index(tmp_path / "figures")
    assert "| smoke | [smoke/REPORT.md](smoke/REPORT.md) | " in (tmp_path / "figures" / "REPORT.md").read_text()


def _shipped(tmp_path, monkeypatch, preset="smoke"):
    """tmp_path as the package root, with a (so far empty) folder of `preset`'s shipped runs."""
    monkeypatch.setattr(reproduce.paths, "PACKAGE_ROOT", tmp_path)
    reproduce.paths.shipped_runs_dir(preset).mkdir(parents=True, exist_ok=True)


def test_figures_only_without_shipped_runs_is_said_not_failed(tmp_path, monkeypatch):
    """`paperlib report` when a notebook's runs are not shipped (the preset's grid moved on):
    status 'no shipped runs', exit 0, and its verdicts of earlier runs are not kept beside it."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "a.ipynb", [("params", 'preset = "mini"\nfigures_dir = None\nrun_settings = None'),
                                       ("code", "from paperlib import runs\nraise runs.MissingRun('run x/y (static, seed 0) is not there')")])
    monkeypatch.setattr(reproduce.paths, "notebooks_dir", lambda: nbdir)
    monkeypatch.setattr(reproduce, "NOTEBOOKS", ("a",))
    monkeypatch.setattr(reproduce, "_prepare_data", lambda preset, progress, notebooks, corpus_params=None: None)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    records = tmp_path / "figures" / "smoke" / "records"
    records.mkdir(parents=True)
    (records / "a.claims.json").write_text(json.dumps({"notebook": "a", "title": "A", "preset": "smoke", "verdicts": []}))
    _shipped(tmp_path, monkeypatch)
    assert cli.main(["report", "--preset", "smoke", "--no-progress"]) == 0
    report = (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
    assert f"| a | {reproduce.NOT_SHIPPED} |" in report and "Not drawn: its runs are not in the shipped results" in report
    assert "the first missing: `x/y`" in report and not (records / "a.claims.json").exists()


def test_a_failed_notebook_leaves_no_earlier_verdicts_to_be_counted(tmp_path):
    """A notebook that fails before it records: the verdicts (and advice) it recorded in an
    earlier execution are gone, not counted in the report under 'The notebook failed'; a
    notebook that records writes them afresh (test_notebook_runs_at_smoke)."""
    nb = tmp_path / "a.ipynb"
    write_notebook(nb, [("params", 'preset = "smoke"\nfigures_dir = None'), ("code", "raise RuntimeError('a bug')")])
    records = tmp_path / "fig" / "records"
    records.mkdir(parents=True)
    earlier = {"notebook": "a", "title": "A", "preset": "smoke", "verdicts": [{"status": "holds"}]}
    for name in ("a.claims.json", "a.advice.json", "b.claims.json"):
        (records / name).write_text(json.dumps(earlier))
    res = reproduce.run_notebook(nb, "smoke", tmp_path / "out", tmp_path / "fig", progress=False)
    assert res.status == "failed" and "a bug" in res.error
    assert sorted(p.name for p in records.iterdir()) == ["b.claims.json"], "another notebook's record stays"


def test_an_interrupted_notebook_keeps_its_earlier_records(tmp_path, monkeypatch):
    """An execution stopped before it ends (Ctrl-C, a job killed) says nothing about the
    notebook: its earlier verdicts stay beside the status and figures recorded with them (they
    were removed before executing, so the next report showed it 'ok' with none of them)."""
    import papermill

    nb = tmp_path / "a.ipynb"
    write_notebook(nb, [("params", 'preset = "smoke"\nfigures_dir = None'), ("code", "1")])
    records = tmp_path / "fig" / "records"
    records.mkdir(parents=True)
    for name in ("a.claims.json", "a.advice.json"):
        (records / name).write_text("{}")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reproduce.run_notebook(nb, "smoke", tmp_path / "out", tmp_path / "fig", progress=False)
    assert sorted(p.name for p in records.iterdir()) == ["a.advice.json", "a.claims.json"]


def test_figures_only_for_a_preset_that_ships_no_runs_is_refused_before_anything_is_written(
        tmp_path, monkeypatch, capsys):
    """Redrawing smoke (never shipped) once marked every notebook 'no shipped runs' and wiped
    its verdicts from a report trained here: now a one-line error, exit 2, nothing written."""
    written = _settings_notebook(tmp_path, monkeypatch, "{s.train_missing}")
    monkeypatch.setattr(reproduce.paths, "PACKAGE_ROOT", tmp_path)
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress"]) == 0  # trained here
    report = (tmp_path / "figures" / "smoke" / "REPORT.md").read_bytes()
    written.unlink()
    _shipped(tmp_path, monkeypatch, "mini")
    for command in (["reproduce", "--figures-only"], ["report"]):
        assert cli.main(command + ["--preset", "smoke", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "the smoke preset has none (shipped: mini); leave it out" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "figures" / "smoke" / "REPORT.md").read_bytes() == report and not written.exists()


def _two_drawing_notebooks(tmp_path, monkeypatch):
    """The registered notebooks are a and b, each writing figures_dir/<name>.png."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for name in ("a", "b"):
        write_notebook(nbdir / f"{name}.ipynb", [("params", 'preset = "mini"\nfigures_dir = None'),
                                                 ("code", f"from pathlib import Path\nPath(figures_dir, '{name}.png').write_text('x')")])
    monkeypatch.setattr(reproduce.paths, "notebooks_dir", lambda: nbdir)
    monkeypatch.setattr(reproduce, "NOTEBOOKS", ("a", "b"))


def test_a_preset_runs_only_its_notebooks_and_the_report_says_why(tmp_path, monkeypatch):
    """mini leaves the figures it cannot train in regime to gpu: not run, and said so;
    --only still runs a left-out notebook (at its own risk)."""
    import dataclasses

    from paperlib import presets

    _two_drawing_notebooks(tmp_path, monkeypatch)
    monkeypatch.setattr(reproduce, "_prepare_data", lambda preset, progress, notebooks, corpus_params=None: None)
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), notebooks=("a",)))
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress"]) == 0
    figures = tmp_path / "figures" / "smoke"
    assert (figures / "a.png").exists() and not (figures / "b.png").exists()
    report = (figures / "REPORT.md").read_text()
    # no gpu report draws b in this root: the report says so rather than point to one
    assert "| b | not run at this size — no preset's shipped runs draw it yet |" in report
    assert "Not run at the smoke size" in report
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress", "--only", "b"]) == 0
    assert (figures / "b.png").exists()


def _settings_notebook(tmp_path, monkeypatch, written: str):
    """The only registered notebook: writes `written` (an f-string over s, the run Settings it
    was handed) to figures_dir/settings.txt."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(
        nbdir / "a.ipynb",
        [("params", 'preset = "mini"\nfigures_dir = None\nrun_settings = None'),
         ("code", "from pathlib import Path\nfrom paperlib import runs\n"
                  "s = runs.Settings.from_parameters(run_settings)\n"
                  f"Path(figures_dir, 'settings.txt').write_text(f'{written}')")],
    )
    monkeypatch.setattr(reproduce.paths, "notebooks_dir", lambda: nbdir)
    monkeypatch.setattr(reproduce, "NOTEBOOKS", ("a",))
    monkeypatch.setattr(reproduce, "_prepare_data", lambda preset, progress, notebooks, corpus_params=None: None)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    return tmp_path / "figures" / "smoke" / "settings.txt"


def test_reproduce_hands_its_workers_to_the_notebooks(tmp_path, monkeypatch):
    written = _settings_notebook(tmp_path, monkeypatch, "{s.executor.workers}")
    environ = dict(os.environ)
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress", "--workers", "3"]) == 0
    assert written.read_text() == "3"  # the kernel's grids use 3 workers
    assert dict(os.environ) == environ  # handed over as a parameter, not through the environment


def test_figures_only_reads_the_shipped_runs_and_trains_nothing(tmp_path, monkeypatch):
    written = _settings_notebook(tmp_path, monkeypatch, "{s.runs_root}|{s.train_missing}")
    _shipped(tmp_path, monkeypatch)
    for command in (["reproduce", "--figures-only"], ["report"]):
        assert cli.main(command + ["--preset", "smoke", "--no-progress"]) == 0
        assert written.read_text() == f"{tmp_path / 'results' / 'smoke' / 'runs'}|False"
        written.unlink()


def test_only_one_notebook_leaves_every_other_section_and_preset_as_it_was(tmp_path, monkeypatch):
    """--only X rewrites X's records; the report's other sections, and another preset's
    report, stay byte-identical."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for name, status in (("a", "holds"), ("b", "does not hold")):
        write_notebook(nbdir / f"{name}.ipynb", [
            ("md", f"# Notebook {name}"), ("params", 'preset = "mini"\nfigures_dir = None'),
            ("code", "from pathlib import Path\nfrom paperlib import claims\n"
                     f"c = claims.Claim('test.{name}', 'P', 'ref', '{name} claim', '', ('none',), 0.0, 'exact')\n"
                     f"claims.record({name!r}, preset, 'T', [claims.Verdict(c, {status!r})])\n"
                     f"Path(figures_dir, '{name}.png').write_bytes(b'png')")])
    monkeypatch.setattr(reproduce.paths, "notebooks_dir", lambda: nbdir)
    monkeypatch.setattr(reproduce, "NOTEBOOKS", ("a", "b"))
    monkeypatch.setattr(reproduce, "_prepare_data", lambda preset, progress, notebooks, corpus_params=None: None)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress"]) == 0
    assert cli.main(["reproduce", "--preset", "mini", "--no-progress"]) == 0
    mini = (tmp_path / "figures" / "mini" / "REPORT.md").read_bytes()
    def sections():
        text = (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
        return {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}

    before = sections()
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress", "--only", "a"]) == 0
    after = sections()
    assert after["Notebook b"] == before["Notebook b"] and "b claim" in after["Notebook b"]  # untouched
    assert "a claim" in after["Notebook a"] and "Every figure and table of both papers" in after
    assert (tmp_path / "figures" / "mini" / "REPORT.md").read_bytes() == mini


def test_only_the_task_sets_the_chosen_notebooks_train_on_are_prepared():
    assert reproduce.needed_tasksets("mini", ["B0_fig02_variance_theory"]) == []  # pure theory: no data
    assert reproduce.needed_tasksets("mini", ["A5_fig06_finetune_only"]) == ["hrl_lrl_es400"]
    assert reproduce.needed_tasksets("gpu", ["B3_fig01_cooldown_lrl"]) == ["hrl_lrl_es1k"]
    assert sorted(reproduce.needed_tasksets("gpu", ["A2_fig02_hrl_lrl_fronts"])) == ["hrl_lrl_es", "hrl_lrl_es1k"]
    assert "one_to_many" in reproduce.needed_tasksets("mini", ["B4_table3_one_to_many"])


def test_a_figures_only_redraw_keeps_the_training_wall_time(tmp_path, monkeypatch):
    """The report states how long the run that trained the figures took; `paperlib report`
    redrawing them from the shipped runs adds its own time beside it, never in its place."""
    _settings_notebook(tmp_path, monkeypatch, "{s.train_missing}")
    _shipped(tmp_path, monkeypatch)
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress"]) == 0
    record = tmp_path / "figures" / "smoke" / "records" / "a.run.json"
    trained = json.loads(record.read_text())
    record.write_text(json.dumps({**trained, "seconds": 6000.0}))  # as if training had taken 100 minutes
    assert cli.main(["report", "--preset", "smoke", "--no-progress"]) == 0
    after = json.loads(record.read_text())
    assert after["seconds"] == 6000.0 and 0 < after["redrawn_seconds"] < 600
    report = (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
    assert "**Notebook wall time:** 100.0 min in all (as measured when their runs were trained; redrawn from the " \
           "shipped runs in" in report
    record.write_text(json.dumps({k: v for k, v in after.items() if k != "trained"}))  # a record of a redraw
    assert cli.main(["report", "--preset", "smoke", "--no-progress"]) == 0
    assert json.loads(record.read_text())["seconds"] < 600  # nothing to keep: its own time, said as such
    assert "the runs were trained elsewhere, their time is not recorded here" in \
           (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress"]) == 0  # training again: its own time
    assert json.loads(record.read_text())["seconds"] < 600 and "redrawn_seconds" not in json.loads(record.read_text())


def test_the_notebooks_own_kernel_is_used_where_installed(monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs", lambda self: {"python3": "/x", "paperlib": "/y"})
    assert reproduce.kernel_name() == "paperlib"
    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs", lambda self: {"python3": "/x"})
    assert reproduce.kernel_name() == "python3"  # installed without `make setup`: this Python's default kernel


def test_the_runs_of_every_notebook_train_first_in_one_schedule(tmp_path, monkeypatch):
    """reproduce trains the chosen notebooks' runs together before executing any notebook
    (a fork starts when its prefix is done, whichever notebook it belongs to); the
    notebooks then read them."""
    from paperlib import experiments, runs

    _two_drawing_notebooks(tmp_path, monkeypatch)
    monkeypatch.setattr(reproduce, "_prepare_data", lambda *a, **k: None)
    monkeypatch.setattr(experiments, "notebook_runs", lambda preset, parameters=None: {"a": [("run1", {}), ("run2", {})], "b": [("run3", {})]})
    scheduled = []

    def schedule(cfgs, workers, settings):
        assert not list((tmp_path / "figures" / "smoke").glob("*.png")), "a notebook ran before the runs trained"
        scheduled.append((cfgs, workers))
        time.sleep(0.2)  # a schedule that takes wall time, in which no worker trained: all of it overhead
        return runs.Schedule(4, 0.0, ("f" * 40,))  # three runs and one shared prefix, trained at one commit

    monkeypatch.setattr(runs, "train_side_by_side", schedule)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    assert cli.main(["reproduce", "--preset", "smoke", "--no-progress", "--workers", "2"]) == 0
    assert scheduled == [(["run1", "run2", "run3"], 2)]
    assert (tmp_path / "figures" / "smoke" / "a.png").exists() and (tmp_path / "figures" / "smoke" / "b.png").exists()
    # the report states the schedule's wall time beside the notebooks' (which then only draw)
    assert "**Training wall time:** 0.0 min (4 runs and prefixes in one schedule, before the notebooks); " \
           "orchestration overhead 100.0% of it (its wall time minus the busiest worker's 0.0 min of training)" in \
           (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
    assert "Its runs were trained at commit `fffffff`." in (tmp_path / "figures" / "smoke" / "REPORT.md").read_text()
    scheduled.clear()
    _shipped(tmp_path, monkeypatch)
    assert cli.main(["report", "--preset", "smoke", "--no-progress"]) == 0
    assert scheduled == []  # figures only: nothing is trained


def _run_in_this_process(path: Path, **parameters) -> dict:
    """A notebook's code cells executed here, its parameters cell followed by `parameters` as
    papermill injects them: for a test that changes a preset in this process, which a
    papermill kernel would not see."""
    from IPython.display import display

    namespace = {"display": display}
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        exec(compile("".join(cell["source"]), f"{path.stem}[{i}]", "exec"), namespace)
        if "parameters" in cell["metadata"].get("tags", []):
            namespace.update(parameters)
    return namespace


# notebook -> (its table of methods, its table of runs): the first holds the seed means of the second
SEED_MEAN_TABLES = {"A6_fig07_multilingual_lm": ("final", "df"), "B4_table3_one_to_many": ("df", "per_run"),
                    "B5_table4_multilingual_lm": ("df", "per_run")}


@pytest.mark.parametrize("name", ["A1_fig01_hrl_hrl_fronts", "A2_fig02_hrl_lrl_fronts", "A3_fig03_efficiency",
                                  "A6_fig07_multilingual_lm", "A7_fig09_pretraining_length",
                                  "B2_fig04_sampling_vs_weighting", "B4_table3_one_to_many",
                                  "B5_table4_multilingual_lm", "B6_fig05_07_schedules"])
def test_a_notebook_of_single_seed_arms_draws_and_judges_every_seed_of_a_stacking_preset(name, tmp_path, monkeypatch):
    """Where the preset stacks its seeds (`Preset.stack_seeds`), the arms these notebooks ran
    at one seed (the fronts: their points off the seeded rate and pair; Fig. 4: its smaller τ)
    read every seed (`experiments.arm_seeds`): the figures draw their means and range, and
    every verdict's effect is over every seed in each arm."""
    import dataclasses

    import matplotlib

    from paperlib import presets

    matplotlib.use("Agg")
    smoke = presets.get("smoke")
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(smoke, stack_seeds=True))
    ns = _run_in_this_process(NOTEBOOKS[name], preset="smoke", figures_dir=str(tmp_path / "fig"),
                              run_settings={"runs_root": str(tmp_path / "runs"), "progress": False})
    if name in SEED_MEAN_TABLES:  # what the figure shows per method: the mean over its runs, one per seed
        shown, per_run = (ns[k] for k in SEED_MEAN_TABLES[name])
        column = next(c for c in per_run.columns if c.startswith("valid_loss."))
        assert list(shown.index) == list(per_run.method.unique()) and set(per_run.groupby("method").size()) == {2}
        assert np.allclose(shown[column.split(".", 1)[1] if name.startswith("A6") else column],  # A6's: by language
                           per_run.groupby("method", sort=False)[column].mean())
    assert {p.suffix for p in (tmp_path / "fig").glob("*.*")} == {".png", ".pdf"}
    verdicts = json.loads((tmp_path / "fig" / "records" / f"{name}.claims.json").read_text())["verdicts"]
    judged = [v for v in verdicts if v.get("effect") and v["effect"].get("seeds")]
    assert judged and all(min(v["effect"]["seeds"]) == len(smoke.seeds) for v in judged), \
        sorted({tuple(v["effect"]["seeds"]) for v in judged})


def test_only_keeps_the_execution_order_and_takes_a_file_name():
    available = {"a": Path("a.ipynb"), "b": Path("b.ipynb"), "c": Path("c.ipynb")}
    assert list(reproduce.select(["c", "a.ipynb"], available)) == ["a", "c"]  # fronts before the runs they read
    assert reproduce.select(None, available) == available and reproduce.select([], available) == available
    with pytest.raises(ValueError, match=r"unknown or ambiguous notebook\(s\) \['d'\]; valid: a, b, c"):
        reproduce.select(["a", "d.ipynb"], available)


def test_only_takes_unique_prefixes_and_comma_lists_and_refuses_an_ambiguous_prefix():
    available = {n: Path(f"{n}.ipynb") for n in ("A2_fronts", "A3_efficiency", "B3_cooldown", "B30_other")}
    assert list(reproduce.select(["B3_cooldown,A2"], available)) == ["A2_fronts", "B3_cooldown"]
    assert list(reproduce.select(["A3", "A3_efficiency.ipynb"], available)) == ["A3_efficiency"]
    assert list(reproduce.select(["B3"], {k: v for k, v in available.items() if k != "B30_other"})) == ["B3_cooldown"]
    with pytest.raises(ValueError, match=r"\['B3 \(matches B3_cooldown, B30_other\)'\]"):
        reproduce.select(["B3"], available)  # a prefix of two notebooks names neither
    for empty in ([","], [""], [" , "]):
        with pytest.raises(ValueError, match="unknown or ambiguous notebook"):
            reproduce.select(empty, available)  # names nothing: not the whole reproduction


def test_cli_dry_run_costs_the_notebook_a_prefix_names(capsys):
    assert cli.main(["reproduce", "--preset", "smoke", "--only", "A2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "A2_fig02_hrl_lrl_fronts" in out and "total: 0 steps" not in out and "total: " in out


def test_cli_dry_run_with_figures_only_is_refused(capsys):
    assert cli.main(["reproduce", "--preset", "smoke", "--dry-run", "--figures-only"]) == 2
    assert "--figures-only trains none: leave one out" in capsys.readouterr().err


def test_cli_only_is_repeatable():
    parser = cli.build_parser()
    args = parser.parse_args(["reproduce", "--only", "A2", "--only", "B3", "C1"])
    assert args.only == ["A2", "B3", "C1"]  # a second --only adds, it does not replace the first


def test_a_cells_error_names_the_cell_its_own_frame_and_the_last_without_colour():
    class CellError(Exception):
        ename, evalue, exec_count = "ValueError", "rate must be in (0, 1)", 7
        traceback = ["\x1b[0;31m---------\x1b[0m", "File lib.py:3, in f()", "  \x1b[1mCell In[7], line 2\x1b[0m",
                     "File experiments.py:40, in g()", "\x1b[0;31mValueError\x1b[0m: rate must be in (0, 1)"]

    assert reproduce._format_error(CellError()) == ("cell [7]: ValueError: rate must be in (0, 1)\n"
                                                    "  Cell In[7], line 2\nValueError: rate must be in (0, 1)")
    assert reproduce._format_error(RuntimeError("no kernel")) == "RuntimeError: no kernel"  # not a cell's


def test_a_notebooks_title_is_its_first_markdown_heading(tmp_path):
    nb = tmp_path / "a.ipynb"
    write_notebook(nb, [("code", "# not a title"), ("md", "Text on issue #3\n## Fig. 3: efficiency\n# Later"),
                        ("md", "# Another")])
    assert reproduce.notebook_title(nb) == "Fig. 3: efficiency"
    write_notebook(nb, [("code", "x = 1")])
    assert reproduce.notebook_title(nb) == ""


def _planned(tmp_path, monkeypatch):
    """reproduce with notebooks a, b that are never executed: [(name, figures dir, its
    parameters)] of each notebook run, and [the notebooks whose runs trained first]."""
    from paperlib import experiments

    _two_drawing_notebooks(tmp_path, monkeypatch)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    monkeypatch.setattr(reproduce, "_prepare_data", lambda *a, **k: None)
    monkeypatch.setitem(experiments.HUB_PARAMETERS, "a", {"taskset": "wmt_a"})
    monkeypatch.setitem(experiments.HUB_PARAMETERS, "b", {"tasksets": ["wmt_b"]})
    ran, trained = [], []

    def run(path, preset, out_dir, figures_dir, parameters=None, progress=True):
        ran.append((path.stem, figures_dir, {k: v for k, v in parameters.items() if k != "run_settings"}))
        return reproduce.NotebookResult(path.stem, "ok", 0.0)

    monkeypatch.setattr(reproduce, "run_notebook", run)
    monkeypatch.setattr(reproduce, "_train_planned", lambda preset, nbs, *a, **k: trained.append(list(nbs)))
    return ran, trained


def test_the_hub_source_draws_into_its_own_folder_with_each_notebooks_hub_task_sets(tmp_path, monkeypatch):
    ran, trained = _planned(tmp_path, monkeypatch)
    reproduce.reproduce("smoke", progress=False, source="hub")
    figures = tmp_path / "figures" / "smoke-hub"
    assert ran == [("a", figures, {"taskset": "wmt_a"}), ("b", figures, {"tasksets": ["wmt_b"]})]
    assert trained == [["a", "b"]] and (figures / "REPORT.md").exists()
    assert not (tmp_path / "figures" / "smoke").exists()  # the DDTP report is not touched
    with pytest.raises(ValueError, match="--source ddtp or hub"):
        reproduce.reproduce("smoke", progress=False, source="dir")


def test_figures_only_on_the_hub_or_a_corpus_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    ran, trained = _planned(tmp_path, monkeypatch)
    monkeypatch.setattr(reproduce.Corpus, "roles", lambda self: {"pair": "x", "two_hrl": "y", "lm": None, "many": None})
    with pytest.raises(ValueError, match="none were trained on the hub's corpora"):
        reproduce.reproduce("smoke", progress=False, source="hub", figures_only=True)
    with pytest.raises(ValueError, match="leave it out to train on your corpus"):
        reproduce.reproduce("smoke", progress=False, figures_only=True, corpus=reproduce.Corpus(str(tmp_path)))
    assert ran == trained == [] and not (tmp_path / "figures").exists()


def test_a_job_executor_trains_every_run_as_a_job_then_runs_each_notebook_as_a_job(tmp_path, monkeypatch):
    """slurm: the planned runs first, through the executor (one job per run, not one node per
    notebook's whole grid); then each notebook job gets its notebook's parameters and settings
    that wait for a run another job is training; the report holds every job's."""
    from paperlib import executors
    from paperlib.runs import Settings

    ran, trained = _planned(tmp_path, monkeypatch)
    through = []
    monkeypatch.setattr(reproduce, "_train_planned",
                        lambda preset, nbs, settings, *a, **k: (trained.append(list(nbs)), through.append(settings.executor)))
    submitted = []

    def run_jobs(executor, function, arg_lists, folder, name, progress=True, single_task=False):
        submitted.append((type(function), arg_lists, folder))
        return [reproduce.NotebookResult(Path(a[0]).stem, "ok" if Path(a[0]).stem == "a" else "failed", 1.0, [], "boom")
                for a in arg_lists]

    monkeypatch.setattr(executors, "run_jobs", run_jobs)
    slurm = executors.Executor(kind="slurm", partition="gpu")
    results = reproduce.reproduce("smoke", progress=False, executor=slurm, source="hub")
    assert [r.status for r in results] == ["ok", "failed"] and ran == [] and trained == [["a", "b"]]
    assert through == [slurm]
    (kind, args, folder), = submitted
    figures, out = tmp_path / "figures" / "smoke-hub", tmp_path / "runs" / "notebooks" / "smoke-hub"
    assert kind is reproduce.NotebookJob and folder == tmp_path / "runs" / "_jobs" / "notebooks"
    assert [(a[0], a[1], a[2], a[3], a[5]) for a in args] == [
        (str(tmp_path / "notebooks" / "a.ipynb"), "smoke", str(out), str(figures), {"taskset": "wmt_a"}),
        (str(tmp_path / "notebooks" / "b.ipynb"), "smoke", str(out), str(figures), {"tasksets": ["wmt_b"]})]
    assert Settings.from_parameters(args[0][4]).wait_locked
    report = (figures / "REPORT.md").read_text()
    assert "| a | ok |" in report and "| b | failed |" in report
    # figures only reads the shipped runs here, whatever the executor: nothing is submitted
    submitted.clear()
    _shipped(tmp_path, monkeypatch)
    reproduce.reproduce("smoke", progress=False, executor=slurm, figures_only=True)
    assert submitted == [] and [r[0] for r in ran] == ["a", "b"] and trained == [["a", "b"]]


def test_the_runs_train_first_with_the_executors_workers_and_a_failure_leaves_the_notebooks_to_say_so(
        tmp_path, monkeypatch, capsys):
    """`_train_planned`: the chosen notebooks' grids only, in their order, on the executor's
    workers (one without); a run that fails is said, not raised (its notebook reports it), and
    no training record is kept of a schedule that did not finish."""
    from paperlib import experiments, runs
    from paperlib.executors import Executor

    grids = {"a": [("run1", {})], "b": [("run2", {}), ("run3", {})], "c": [("run4", {})]}
    monkeypatch.setattr(experiments, "notebook_runs", lambda preset, parameters=None: grids)
    scheduled = []

    def fails(cfgs, workers, settings):
        scheduled.append((cfgs, workers))
        raise RuntimeError("run2 failed: CUDA out of memory")

    monkeypatch.setattr(runs, "train_side_by_side", fails)
    reproduce._train_planned("smoke", ["b", "a"], runs.Settings(executor=Executor(workers=3)), tmp_path)
    reproduce._train_planned("smoke", ["a"], runs.Settings(), tmp_path)
    assert scheduled == [(["run2", "run3", "run1"], 3), (["run1"], 1)]
    assert "run2 failed: CUDA out of memory" in capsys.readouterr().err and not (tmp_path / "records").exists()
    scheduled.clear()
    reproduce._train_planned("smoke", ["B0_fig02_variance_theory"], runs.Settings(), tmp_path)  # trains nothing
    assert scheduled == []
    # a job executor (Slurm): every run one job through get_or_train_many's waves, not the local schedule
    as_jobs = []
    monkeypatch.setattr(runs, "get_or_train_many", lambda cfgs, settings: as_jobs.append((cfgs, settings.executor.kind)))
    reproduce._train_planned("smoke", ["b", "a"], runs.Settings(executor=Executor(kind="local-jobs")), tmp_path)
    assert as_jobs == [(["run2", "run3", "run1"], "local-jobs")] and scheduled == []


def test_a_figure_drawn_again_under_its_old_name_counts_as_written(tmp_path, caplog):
    """A rerun redraws the same files: they are this execution's figures (the summary's
    'figures (PNG)'), while a figure it left alone is not."""
    nb = tmp_path / "a.ipynb"
    write_notebook(nb, [("params", 'preset = "smoke"\nfigures_dir = None'),
                        ("code", "from pathlib import Path\nPath(figures_dir, 'a.png').write_text('new')")])
    fig = tmp_path / "fig"
    fig.mkdir()
    (fig / "a.png").write_text("old")
    os.utime(fig / "a.png", ns=(1, 1))  # drawn long ago
    (fig / "other.png").write_text("another notebook's")
    res = reproduce.run_notebook(nb, "smoke", tmp_path / "out", fig, {"run_settings": {}}, progress=False)
    assert res.status == "ok", res.error
    assert res.figures == [fig / "a.png"] and (tmp_path / "out" / "a.ipynb").exists()
    # a notebook that trains nothing takes no run settings: not handed one (papermill would warn)
    assert not [r for r in caplog.records if "run_settings" in r.getMessage()]
