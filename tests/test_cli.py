"""`paperlib`'s argument handling: bad input is one line that says what to fix, and the flags
parse to what the commands expect. Nothing here trains, prepares data or runs a notebook."""

import argparse

import pytest

from paperlib import claims, cli


def _parse(*argv):
    return cli.build_parser().parse_args(list(argv))


def _exit(capsys, *argv):
    """(exit code, stderr) of `paperlib argv`, argparse's exits included."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def test_an_argparse_error_is_one_line_that_points_to_the_commands_help(capsys):
    code, err = _exit(capsys, "reproduce", "--preset", "bogus")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("paperlib reproduce: error: argument --preset: invalid choice: 'bogus'")
    assert err.rstrip().endswith("(see `paperlib reproduce --help`)")


@pytest.mark.parametrize("value, parsed", [("1", 1), ("12", 12)])
def test_positive_whole_numbers_parse(value, parsed):
    assert cli._positive_int(value) == parsed


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two", ""])
def test_anything_else_is_no_positive_whole_number(value):
    with pytest.raises(argparse.ArgumentTypeError, match=f"positive whole number, not {value!r}"):
        cli._positive_int(value)


def test_the_tolerance_is_a_finite_number_of_nats_zero_included(capsys):
    assert _parse("advise", "--tolerance", "0").tolerance == 0.0  # no slack: allowed
    assert _parse("advise", "--tolerance", "1e-2").tolerance == 0.01
    assert _parse("advise").tolerance == 0.05
    for bad in ("-0.1", "nan", "inf", "-inf", "lots"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"finite number >= 0 \(nats\)"):
            cli._finite_float(bad)


def test_workers_are_auto_or_a_positive_number():
    assert cli._workers("auto") == "auto" and cli._workers("4") == "4"
    for bad in ("0", "-2", "many", "2.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive number or 'auto'"):
            cli._workers(bad)


@pytest.mark.parametrize("values, parsed", [(["ddtp"], ("ddtp", None)), (["hub"], ("hub", None)),
                                            (["dir", "corpus/"], ("dir", "corpus/"))])
def test_source_takes_ddtp_hub_or_dir_path(values, parsed):
    assert cli._parse_source(values) == parsed


@pytest.mark.parametrize("values", [["dir"], ["dir", "a", "b"], ["hub", "x"], ["ddtp", "x"], ["web"]])
def test_any_other_source_is_one_line_naming_the_choices(values):
    with pytest.raises(ValueError, match=r"--source takes 'ddtp', 'hub' or 'dir PATH', got ") as err:
        cli._parse_source(values)
    assert repr(" ".join(values)) in str(err.value)


def test_the_source_defaults_to_the_presets_own():
    assert cli._source_kind(argparse.Namespace(source=None, preset="paper")) == "hub"  # the papers' corpora
    assert cli._source_kind(argparse.Namespace(source=None, preset="mini")) == "ddtp"
    assert cli._source_kind(argparse.Namespace(source=["hub"], preset="mini")) == "hub"
    assert cli._source_kind(argparse.Namespace(source=["dir", "x"], preset="paper")) == "dir"


def test_hrl_and_lrl_name_pairs_of_a_corpus_only():
    def corpus(source, hrl=None, lrl=None):
        return cli._corpus(argparse.Namespace(source=source, hrl=hrl, lrl=lrl))

    assert corpus(None) is None and corpus(["hub"]) is None
    made = corpus(["dir", "my/corpus"], "en-de", "en-sw")
    assert (made.folder, made.hrl, made.lrl) == ("my/corpus", "en-de", "en-sw")
    with pytest.raises(ValueError, match="--hrl and --lrl name pairs of your corpus: use them with --source dir PATH"):
        corpus(None, lrl="en-sw")
    with pytest.raises(ValueError, match="--lrl is empty; name a translation pair of your corpus, e.g. --lrl en-de"):
        corpus(["dir", "my/corpus"], "en-de", " ")


def test_a_folder_option_refuses_a_file_and_where_it_must_exist_a_missing_folder(tmp_path):
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    cli._check_folder("--runs-dir", None, must_exist=True)  # not given: the default folder
    cli._check_folder("--runs-dir", str(tmp_path), must_exist=True)
    cli._check_folder("--data-dir", str(tmp_path / "new"))  # created later
    with pytest.raises(ValueError, match=f"^--data-dir {a_file} is a file; give a folder$"):
        cli._check_folder("--data-dir", str(a_file))
    with pytest.raises(ValueError, match=f"^--runs-dir {tmp_path / 'new'} does not exist$"):
        cli._check_folder("--runs-dir", str(tmp_path / "new"), must_exist=True)


def test_a_bad_value_inside_a_command_is_one_line_with_no_traceback(tmp_path, capsys):
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    code, err = _exit(capsys, "runs", "ls", "--runs-dir", str(a_file))
    assert code == 2 and err == f"paperlib: error: --runs-dir {a_file} is a file; give a folder\n"


def test_report_is_reproduce_figures_only_in_this_process():
    args = _parse("report", "--preset", "mini")
    assert args.func is cli._cmd_reproduce and args.figures_only and not args.dry_run and not args.list
    assert (args.executor, args.workers, args.log_with) == ("local", "1", None)
    assert cli._executor(args) is None  # one notebook at a time here
    args = _parse("reproduce")
    assert not args.figures_only and args.preset is None and args.source is None  # the preset's default source
    assert _parse("data", "info").source == ["ddtp"] and _parse("data", "info").preset == "mini"


def test_the_executor_options_make_the_executor():
    from paperlib.executors import Executor

    args = _parse("train", "c.yaml", "--executor", "slurm", "--partition", "gpu", "--account", "lab",
                  "--gpus-per-node", "2", "--nodes", "3", "--cpus-per-task", "4", "--mem-gb", "64", "--time", "90",
                  "--setup", "module load cuda", "source .venv/bin/activate", "--jobs-dir", "jobs")
    assert cli._executor(args) == Executor(kind="slurm", folder="jobs", partition="gpu", account="lab", gpus_per_node=2,
                                           nodes=3, cpus_per_task=4, mem_gb=64, timeout_min=90,
                                           setup=("module load cuda", "source .venv/bin/activate"))
    assert cli._executor(_parse("train", "c.yaml", "--workers", "3")) == Executor(workers=3)


def test_claims_list_prints_every_claim_once_with_gates_minimum_and_statistic(capsys):
    assert cli.main(["claims", "list"]) == 0
    out = capsys.readouterr().out
    ids = [line for line in out.splitlines() if not line.startswith("    ")]
    assert sorted(ids) == sorted(claims.CLAIMS) and len(ids) == len(claims.CLAIMS)  # one block per claim
    for paper in ("order.fig", "upweight.fig"):  # by paper, then figure number: fig2 before fig16
        numbers = [int(i.split(".")[1].removeprefix("fig")) for i in ids if i.startswith(paper)]
        assert numbers == sorted(numbers) and len(numbers) > 3
    for c in claims.CLAIMS.values():
        block = out.split(f"{c.id}\n", 1)[1].split("\n")
        assert block[0] == f"    {c.paper}, {c.reference}: {c.statement}"
        assert block[1] == f"    gates: {', '.join(c.gates) or 'none'}; practical minimum {c.minimum:g}; statistic: {c.statistic}"
        assert (block[2] == f"    paper: {c.paper_number}") if c.paper_number else not block[2].startswith("    paper:")


def test_runs_rm_deletes_only_runs_of_the_root_and_nothing_when_one_name_is_bad(tmp_path, capsys):
    root, outside = tmp_path / "runs", tmp_path / "other"
    for run in (root / "exp" / "r1", root / "exp" / "r2", outside / "r3"):
        run.mkdir(parents=True)
        (run / "config.json").write_text("{}")
    for bad in ("../other/r3", "exp"):  # outside the root; an experiment, not a run
        code, err = _exit(capsys, "runs", "rm", "exp/r1", bad, "--runs-dir", str(root))
        assert code == 2 and err == (f"paperlib: error: no run {bad!r} in {root}; `paperlib runs ls` lists them "
                                     "as experiment/run\n")
    assert (root / "exp" / "r1").exists() and (outside / "r3").exists()  # checked before anything is deleted
    assert cli.main(["runs", "rm", "exp/r1", "--runs-dir", str(root)]) == 0
    assert not (root / "exp" / "r1").exists() and (root / "exp" / "r2").exists()


def test_advise_takes_a_taskset_or_a_corpus_not_both(tmp_path, capsys):
    code, err = _exit(capsys, "advise", "--source", "dir", str(tmp_path), "--taskset", "hrl_lrl_es400")
    assert code == 2 and err == ("paperlib: error: --taskset or --source dir PATH, not both (the corpus's pair is "
                                 "its --hrl and --lrl)\n")


def test_claims_list_filters_and_orders_figures_by_number(capsys):
    assert cli.main(["claims", "list", "order.fig"]) == 0
    ids = [line for line in capsys.readouterr().out.splitlines() if line.startswith("order.")]
    assert ids and all(i.startswith("order.fig") for i in ids)
    figures = [int(i.split(".")[1].removeprefix("fig")) for i in ids]
    assert figures == sorted(figures)  # fig2 before fig16, not after it
    assert cli.main(["claims", "list", "no-such-claim"]) == 2
    assert "no claim's id, paper or reference contains 'no-such-claim'" in capsys.readouterr().err


def test_claims_show_prints_the_claim_and_its_verdict_in_the_shipped_reports(capsys):
    import json

    from paperlib import paths

    record = json.loads((paths.PACKAGE_ROOT / "figures" / "mini" / "records" / "A2_fig02_hrl_lrl_fronts.claims.json").read_text())
    shipped = next(v for v in record["verdicts"] if v["id"] == "order.fig2.pretrain_beats_static")
    assert cli.main(["claims", "show", "order.fig2.pretrain_beats_static"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("order.fig2.pretrain_beats_static\nOrder Matters, §4.1.2")
    assert f"mini (A2_fig02_hrl_lrl_fronts, hrl_lrl_es400): {shipped['status'].upper()}, " \
           f"{shipped['effect']['estimate']:+.3f}" in out
    assert all(g["measured"] in out for g in shipped["gates"])
    assert cli.main(["claims", "show", "fig2"]) == 2  # several claims: named, not guessed
    assert "'fig2' names" in capsys.readouterr().err
