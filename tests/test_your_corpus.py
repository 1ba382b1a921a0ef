"""A researcher's own corpus: task sets named by its pairs, the papers' roles filled from it,
and `paperlib reproduce --source dir PATH` running a notebook on it end to end."""

import json

import pytest

from conftest import write_pairs
from paperlib import cli, experiments as E, reproduce
from paperlib.data import DataError, get_taskset, sources, tasksets


@pytest.fixture(scope="module")
def pairs_dir(tmp_path_factory):
    # en-de largest, en-sw smallest: pairs that none of the built-in task sets has
    return write_pairs(tmp_path_factory.mktemp("yours") / "mycorpus", {"en-de": 400, "en-xh": 250, "en-sw": 120})


def roles_of(folder, hrl=None, lrl=None):
    return tasksets.corpus_roles(sources.load_dir(folder), folder, hrl, lrl)


def test_a_corpus_task_set_is_named_by_its_tasks_and_folder(pairs_dir):
    ts = get_taskset(f"en-de+en-sw@{pairs_dir}")
    assert (ts.name, ts.kind, ts.tasks, ts.corpus) == ("en-de+en-sw", "translation", ("en-de", "en-sw"), str(pairs_dir))
    assert get_taskset("en-de+en-sw", pairs_dir) == ts and tasksets.qualified_name(ts) == f"en-de+en-sw@{pairs_dir}"
    assert get_taskset("de+sw", pairs_dir).kind == "lm"
    with pytest.raises(DataError, match="mixes translation pairs and languages"):
        get_taskset(f"en-de+sw@{pairs_dir}")
    with pytest.raises(DataError, match=r"unknown task set 'en-de\+en-sw'.*folder after '@'"):
        get_taskset("en-de+en-sw")


def test_roles_default_to_the_largest_and_smallest_pair(pairs_dir):
    roles = roles_of(pairs_dir)
    assert roles["pair"] == f"en-de+en-sw@{pairs_dir}"
    assert roles["two_hrl"] == f"en-de+en-xh@{pairs_dir}"
    assert roles["many"] == f"en-de+en-xh+en-sw@{pairs_dir}"
    assert roles["lm"] is None  # no monolingual folders
    assert roles_of(pairs_dir, hrl="en-xh")["pair"] == f"en-xh+en-sw@{pairs_dir}"
    assert roles_of(pairs_dir, lrl="en-xh")["pair"] == f"en-de+en-xh@{pairs_dir}"
    with pytest.raises(DataError, match=r"the high-resource pair en-sw \(--hrl\) has fewer training pairs \(120\) "
                                        r"than the low-resource en-de \(--lrl, 400\); the high-resource pair must be "
                                        r"the larger: swap them or choose others"):
        roles_of(pairs_dir, hrl="en-sw", lrl="en-de")
    with pytest.raises(DataError, match=r"the high-resource pair en-xh \(chosen by size\) has fewer .* en-de \(--lrl, 400\)"):
        roles_of(pairs_dir, lrl="en-de")  # the largest pair named low-resource: the next one is smaller
    with pytest.raises(DataError, match=r"--lrl en-fr: not a translation pair of .*; it has: en-de, en-xh, en-sw"):
        roles_of(pairs_dir, lrl="en-fr")
    with pytest.raises(DataError, match="name the same pair"):
        roles_of(pairs_dir, hrl="en-de", lrl="en-de")


def test_two_pairs_far_apart_in_size_are_no_hrl_hrl_pair(tmp_path):
    # Order Matters Fig. 1 is about two high-resource pairs: 4,000 against 300 is an HRL+LRL pair
    apart = roles_of(write_pairs(tmp_path / "apart", {"en-de": 1300, "en-sw": 300}))
    assert apart["pair"] and apart["two_hrl"] is None
    close = write_pairs(tmp_path / "close", {"en-de": 1200, "en-fr": 300, "en-sw": 40})  # 4x: still two HRLs
    assert roles_of(close)["two_hrl"] == f"en-de+en-fr@{close}"


def test_a_roles_file_in_the_corpus_names_the_pairs_and_flags_override_it(tmp_path):
    folder = write_pairs(tmp_path / "withroles", {"en-de": 300, "en-xh": 200, "en-sw": 100})
    (folder / tasksets.ROLES_FILE).write_text("hrl: en-xh   # our high-resource pair\nlrl: en-sw\n")
    assert roles_of(folder)["pair"] == f"en-xh+en-sw@{folder}"
    assert roles_of(folder, hrl="en-de")["pair"] == f"en-de+en-sw@{folder}"  # the command line wins
    (folder / tasksets.ROLES_FILE).write_text("lrl: en-xh\n")  # either role alone; the other by size
    assert roles_of(folder)["pair"] == f"en-de+en-xh@{folder}"
    for text, message in (("hrl: en-fr\n", r"roles.yaml hrl: en-fr: not a translation pair of .*; it has: en-de"),
                          ("hrl: en-de\nlrl: en-de\n", "roles.yaml hrl: and roles.yaml lrl: name the same pair"),
                          ("hrl: en-sw\nlrl: en-de\n", r"en-sw \(roles.yaml hrl\) has fewer training pairs .*en-de \(roles.yaml lrl, 300\)"),
                          ("hrl: en-de\nhrl: en-xh\n", r"roles.yaml line 2: not valid YAML \(key 'hrl' given twice\)"),
                          ("hrl: [en-de\n", r"roles.yaml line 1: not valid YAML"),
                          ("hrl: en-de\nlrl en-sw\n", r"roles.yaml line 2: not valid YAML \(could not find expected ':'\)"),
                          ("hrl: en-de\nlrl en-sw\n# the low-resource pair\n", r"roles.yaml line 2: not valid YAML"),
                          ("hrl: en-de\n  - x\n lrl: en-sw\n", r"roles.yaml line \d: not valid YAML"),
                          ("high: en-de\n", "takes only the keys hrl and lrl.*unknown: high"),
                          ("- en-de\n", "takes only the keys hrl and lrl.*got list"),
                          ("hrl: 3\n", "hrl must be a pair name such as en-de, got 3")):
        (folder / tasksets.ROLES_FILE).write_text(text)
        with pytest.raises(DataError, match=message):
            roles_of(folder)
    (folder / tasksets.ROLES_FILE).write_text("lrl: en-xh\n")
    from paperlib.data.info import describe_corpus

    assert "(roles.yaml names lrl en-xh)" in describe_corpus(sources.load_dir(folder), folder, roles_of(folder), "mini")
    (folder / tasksets.ROLES_FILE).write_text("hrl: en-fr\n")
    assert cli.main(["reproduce", "--preset", "smoke", "--dry-run", "--source", "dir", str(folder)]) == 2


def test_a_notebook_whose_role_the_corpus_cannot_fill_is_skipped(pairs_dir):
    params, skipped = reproduce.corpus_parameters(
        ["A2_fig02_hrl_lrl_fronts", "A6_fig07_multilingual_lm", "A7_fig09_pretraining_length",
         "B0_fig02_variance_theory"], roles_of(pairs_dir))
    pair = f"en-de+en-sw@{pairs_dir}"
    # Fig. 9's LM half is optional: without monolingual text A7 runs its NMT half alone
    assert params == {"A2_fig02_hrl_lrl_fronts": {"tasksets": [pair]}, "B0_fig02_variance_theory": {},
                      "A7_fig09_pretraining_length": {"lm_taskset": None, "nmt_taskset": pair}}
    assert skipped == {"A6_fig07_multilingual_lm": ["lm"]}
    assert set(reproduce.CORPUS_PARAMETERS) == set(reproduce.NOTEBOOKS)  # every notebook says what it takes


def test_runs_on_a_corpus_task_set_read_that_folder(pairs_dir):
    cfg = E.static_rate("smoke", f"en-de+en-sw@{pairs_dir}", 0.5, "x")
    assert (cfg.data.taskset, cfg.data.source, cfg.data.source_path) == ("en-de+en-sw", "dir", str(pairs_dir))
    assert cfg.eval.bleu  # a researcher's pairs: BLEU is computed
    assert E.hrl_lrl(f"en-de+en-sw@{pairs_dir}") == ("en-de", "en-sw")


def test_fig9_runs_its_nmt_half_alone_without_monolingual_text(pairs_dir, tmp_path):
    """A7 given lm_taskset None (a corpus of pairs only): no LM runs, the NMT verdicts alone,
    a figure whose LM panel says it was not run."""
    lm, nmt = E.pretraining_length_runs("smoke", None, f"en-de+en-sw@{pairs_dir}")
    assert lm == [] and nmt
    res = reproduce.run_notebook(reproduce.list_notebooks()["A7_fig09_pretraining_length"], "smoke", tmp_path / "out",
                                 tmp_path / "fig", {"lm_taskset": None, "nmt_taskset": f"en-de+en-sw@{pairs_dir}",
                                                    "run_settings": {"runs_root": str(tmp_path / "runs"), "progress": False}},
                                 progress=False)
    assert res.status == "ok", res.error
    recorded = json.loads((tmp_path / "fig" / "records" / "A7_fig09_pretraining_length.claims.json").read_text())
    assert recorded["verdicts"] and all(v["scope"].startswith("NMT ") for v in recorded["verdicts"])


def test_reproduce_runs_a_notebook_on_your_corpus(pairs_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    code = cli.main(["reproduce", "--preset", "smoke", "--source", "dir", str(pairs_dir), "--no-progress",
                     "--only", "A2_fig02_hrl_lrl_fronts", "A6_fig07_multilingual_lm"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "A6_fig07_multilingual_lm needs every monolingual language" in out
    assert "pair = en-de+en-sw" in out
    figures = tmp_path / "figures" / "smoke-mycorpus"
    assert (figures / "orderA_fig2_hrl_lrl_fronts.png").exists()
    record = json.loads((figures / "records" / "A2_fig02_hrl_lrl_fronts.claims.json").read_text())
    assert record["verdicts"] and {v["scope"] for v in record["verdicts"]} == {f"en-de+en-sw@{pairs_dir}"}
    report = (figures / "REPORT.md").read_text()
    assert f"Trained on the corpus in `{pairs_dir}`" in report and "(en-de+en-sw)" in report
    assert not (tmp_path / "figures" / "smoke").exists()  # the published DDTP figures are left alone
    # the runs trained on the corpus's own prepared data
    config = json.loads(next((tmp_path / "runs").glob("order_matters_nmt-smoke/*/config.json")).read_text())
    data = config.get("config", config)["data"]
    assert (data["taskset"], data["source"], data["source_path"]) == ("en-de+en-sw", "dir", str(pairs_dir))
    # and a recommendation from those runs, with its held-out error
    capsys.readouterr()
    assert cli.main(["advise", "--preset", "smoke", "--source", "dir", str(pairs_dir)]) == 0
    out = capsys.readouterr().out
    assert "en-de+en-sw (en-de high-, en-sw low-resource), preset smoke: 6 runs" in out
    assert "recommended: " in out and "held-out prediction error" in out


def test_reproduce_with_a_pair_the_corpus_lacks_is_one_line(pairs_dir, capsys):
    assert cli.main(["reproduce", "--preset", "smoke", "--source", "dir", str(pairs_dir), "--lrl", "en-fr"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("paperlib: error: --lrl en-fr: not a translation pair") and len(err.splitlines()) == 1
    assert cli.main(["reproduce", "--preset", "smoke", "--hrl", "en-de"]) == 2
    assert "--hrl and --lrl name pairs of your corpus" in capsys.readouterr().err
    assert cli.main(["reproduce", "--preset", "smoke", "--source", "dir", str(pairs_dir), "--hrl", ""]) == 2
    assert "--hrl is empty; name a translation pair of your corpus" in capsys.readouterr().err
    # a corpus task set named with the DDTP source: said, not prepared from DDTP
    assert cli.main(["data", "info", "--tasks", f"en-de+en-sw@{pairs_dir}"]) == 2
    assert f"is in the folder {pairs_dir}: give it with --source dir {pairs_dir}" in capsys.readouterr().err


def test_a_corpus_on_which_nothing_can_run_is_one_line_and_writes_no_report(tmp_path, capsys, monkeypatch):
    folder = write_pairs(tmp_path / "onepair", {"en-de": 300})
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path / "root"))
    assert cli.main(["reproduce", "--preset", "smoke", "--source", "dir", str(folder), "--only",
                     "A2_fig02_hrl_lrl_fronts"]) == 2
    assert "nothing to run on" in capsys.readouterr().err
    assert not (tmp_path / "root" / "figures").exists()


def test_a_corpus_too_small_for_the_presets_vocabulary_is_one_line_that_offers_no_flag_reproduce_lacks(
        tmp_path, capsys, monkeypatch):
    folder = write_pairs(tmp_path / "tiny", {"en-de": 40, "en-sw": 12}, words=60)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path / "root"))
    assert cli.main(["reproduce", "--preset", "smoke", "--source", "dir", str(folder), "--only", "A2",
                     "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paperlib: error: en-de+en-sw: too little text for the smoke preset's vocabulary of 2000 pieces")
    assert "more sentences" in err and "use --vocab-size" not in err and "\n" not in err


def test_data_info_lists_only_the_task_sets_reproduce_would_prepare_at_the_preset(pairs_dir, tmp_path, capsys,
                                                                                  monkeypatch):
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    assert cli.main(["data", "info", "--source", "dir", str(pairs_dir), "--preset", "mini"]) == 0
    ready = [line.split(":")[0] for line in capsys.readouterr().out.splitlines() if ": not ready for preset" in line]
    assert ready == ["en-de+en-sw"]  # mini runs neither A1 (two HRLs) nor B4 (every pair): their sets are not listed
    assert cli.main(["data", "info", "--source", "dir", str(pairs_dir), "--preset", "smoke"]) == 0
    ready = [line.split(":")[0] for line in capsys.readouterr().out.splitlines() if ": not ready for preset" in line]
    assert set(ready) == {"en-de+en-sw", "en-de+en-xh", "en-de+en-xh+en-sw"}  # smoke runs every notebook


def test_data_info_shows_the_regime_of_your_corpus_in_advance(pairs_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    assert cli.main(["data", "info", "--source", "dir", str(pairs_dir), "--preset", "mini"]) == 0
    out = capsys.readouterr().out
    assert "en-sw    120     20    20          3.3×" in out  # sizes and imbalance, before any preparation
    assert "pair     en-de+en-sw" in out and "lm       none: every monolingual language" in out
    # one mini run: 3,000 steps x 32 examples at rate 0.5 -> 48,000 / 120 = 400 epochs of en-sw
    assert "rate 0.5 (static)    120.00  400.00" in out
    assert "en-sw: 120 training pairs; fewer than 400 may be too few to learn from" in out
    assert "epochs per mini run at rate 0.5" not in out  # enough repetition to overfit at mini
    assert cli.main(["data", "info", "--source", "dir", str(pairs_dir), "--preset", "smoke"]) == 0
    # smoke: 12 steps x 8 examples: en-sw is seen 0.4 times, far from the overfitting the claims rest on
    assert "en-sw: 0 epochs per smoke run at rate 0.5; below 50 it may not overfit" in capsys.readouterr().out
