"""The run store: damaged files are detected and named, never skipped; a finished run is
only reused for the config it was trained as; resuming repairs what it can."""

import json

import pytest

from paperlib import cli, runs, store

PLAN = {"method": "temperature", "steps": 8, "tau": 2}


def _rows(run_dir):
    return [{k: v for k, v in r.items() if k not in ("wall_time", "bleu_seconds")} for r in store.read_metrics(run_dir)]


def test_a_torn_last_line_is_dropped_and_a_damaged_line_is_named(tmp_path):
    d = tmp_path / "r"
    store.write_metrics(d, [{"step": 0}, {"step": 4}])
    with open(d / "metrics.jsonl", "a") as f:
        f.write('{"step": 8, "valid')  # a kill during an append: no newline
    assert [r["step"] for r in store.read_metrics(d)] == [0, 4]
    assert store.damage(d) is not None  # no config.json
    (d / "metrics.jsonl").write_text('{"step": 0}\n{"st#ep": 4\n{"step": 8}\n')
    with pytest.raises(store.DamagedRun, match=r"metrics.jsonl:2: damaged line"):
        store.read_metrics(d)


def test_a_damaged_finished_run_is_reported_then_resumed_to_the_same_metrics(tiny_cfg, tmp_path, capsys):
    cfg = tiny_cfg(PLAN)
    settings = runs.Settings(tmp_path / "runs", progress=False)
    run = runs.get_or_train(cfg, settings)
    clean = _rows(run.dir)
    lines = (run.dir / "metrics.jsonl").read_text().splitlines()
    lines[-1] = lines[-1][:25]  # the final row (written after the last checkpoint), cut
    (run.dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(store.DamagedRun, match=rf"{run.dir}/metrics.jsonl:{len(lines)}: damaged line"):
        store.final_metrics(run)  # a figure never reads it silently
    assert cli.main(["runs", "ls", "--runs-dir", str(tmp_path / "runs")]) == 0
    assert f"damaged: {run.dir}/metrics.jsonl:{len(lines)}" in capsys.readouterr().out
    again = runs.get_or_train(cfg, settings)  # resumes from the last checkpoint (step 8) and redoes the rest
    assert again.dir == run.dir and again.done
    assert _rows(again.dir) == clean


def test_a_config_json_that_is_not_a_runs_config_is_listed_as_damaged(tiny_cfg, tmp_path, capsys):
    run = runs.get_or_train(tiny_cfg(PLAN), runs.Settings(tmp_path / "runs", progress=False))
    (run.dir / "config.json").write_text('{"something": "else"}')  # valid JSON, no "config"
    assert cli.main(["runs", "ls", "--runs-dir", str(tmp_path / "runs")]) == 0
    assert f"damaged: {run.dir}/config.json: unreadable (KeyError)" in capsys.readouterr().out
    assert store.find_runs(None, tmp_path / "runs") == []


def test_damage_before_the_last_checkpoint_cannot_be_repaired(tiny_cfg, tmp_path):
    from paperlib.train import train

    cfg = tiny_cfg(PLAN)
    run_dir = tmp_path / "r"
    train(cfg, run_dir, progress=False, stop_after=6)  # checkpoint at step 4
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    lines[0] = "garbage"
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(store.DamagedRun, match="rows before the last checkpoint .step 4. are lost; delete"):
        train(cfg, run_dir, progress=False)


def test_an_unreadable_checkpoint_is_named(tiny_cfg, tmp_path):
    from paperlib.train import train

    cfg = tiny_cfg(PLAN)
    run_dir = tmp_path / "r"
    train(cfg, run_dir, progress=False, stop_after=6)
    ckpt = run_dir / "ckpt" / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(store.DamagedRun, match=r"last.pt: unreadable checkpoint"):
        train(cfg, run_dir, progress=False)


def test_a_cut_per_sentence_loss_file_is_named_with_what_to_do(tiny_cfg, tmp_path):
    """The claims read per-sentence validation losses: a cut file is a one-line DamagedRun
    naming it and the command that clears the run, not a zipfile traceback."""
    from paperlib.train import train

    run_dir = tmp_path / "test" / "r1"
    train(tiny_cfg(PLAN), run_dir, progress=False)
    step = store.example_loss_steps(run_dir)[-1]
    assert set(store.read_example_losses(run_dir, step)) == {"en-it", "en-fi"}
    path = run_dir / "examples" / f"valid-{step:08d}.npz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(store.DamagedRun, match=r"valid-0*\d+.npz: unreadable per-sentence validation losses "
                                               r"\(\w+\); delete the run \(paperlib runs rm test/r1\)"):
        store.read_example_losses(run_dir, step)


def test_a_finished_run_is_reused_only_for_its_own_config(tiny_cfg, tmp_path, capsys):
    cfg = tiny_cfg(PLAN)
    settings = runs.Settings(tmp_path / "runs", progress=False)
    run = runs.get_or_train(cfg, settings)
    record = json.loads((run.dir / "config.json").read_text())
    record["identity"]["seed"] = 99  # another run's config under this hash
    (run.dir / "config.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="trained with other settings .seed."):
        runs.get_or_train(cfg, settings)
    (run.dir / "config.json").write_text("{not json")
    with pytest.raises(store.DamagedRun, match="config.json: unreadable"):
        runs.get_or_train(cfg, settings)
    (run.dir / "config.json").write_text("[1, 2]")  # JSON, but no mapping: named too, not a bare TypeError
    with pytest.raises(store.DamagedRun, match=r"config.json: unreadable \(TypeError\)"):
        runs.get_or_train(cfg, settings)
    assert cli.main(["runs", "ls", "--runs-dir", str(tmp_path / "runs")]) == 0  # listed, not aborted
    assert "damaged" in capsys.readouterr().out


def test_shipped_runs_redraw_figures_without_training(tiny_cfg, tmp_path, monkeypatch):
    import dataclasses

    settings = runs.Settings(tmp_path / "runs", progress=False)
    done = runs.get_or_train(tiny_cfg(PLAN, experiment="fig-mini"), settings)
    other = runs.get_or_train(tiny_cfg(PLAN, experiment="fig-smoke", seed=3), settings)  # another preset's run
    unfinished = tiny_cfg(PLAN, experiment="fig-mini", seed=5)
    from paperlib.train import train

    train(unfinished, store.run_dir_for(unfinished, tmp_path / "runs"), progress=False, stop_after=4)
    assert (done.dir / "ckpt" / "last.pt").exists()

    shipped = store.ship("mini", tmp_path / "results", tmp_path / "runs")
    assert [p.name for p in shipped] == [done.dir.name]
    copy = shipped[0]
    assert not (copy / "ckpt").exists() and not (copy / "lock").exists()  # what figures read, nothing more
    assert store.read_metrics(copy) == store.read_metrics(done.dir) and (copy / "DONE").exists()
    assert other.dir.name not in {p.name for p in (tmp_path / "results").glob("*/*")}
    # beside them, their data's lengths: a fresh clone's dry run (data not prepared) counts FLOPs at them
    from paperlib import costs, paths

    wide = dataclasses.replace(done.config, model=dataclasses.replace(done.config.model, max_len=512))
    prepared = costs.length_share(wide)  # a share of 512 positions: the tiny corpus's sentences fill 16
    assert 0 < prepared < 1
    lengths = json.loads((tmp_path / "data_lengths.json").read_text())
    [(folder, tasks)] = lengths.items()  # the one task set the shipped run trained on
    assert folder.endswith("-mini") and all(set(t["train"]) == {"tokens", "examples"} for t in tasks.values())
    # shipped again after another task set's lengths were recorded: those are kept
    (tmp_path / "data_lengths.json").write_text(json.dumps({**lengths, "ddtp/other-mini": {"x": 1}}))
    store.ship("mini", tmp_path / "results", tmp_path / "runs")
    assert json.loads((tmp_path / "data_lengths.json").read_text()) == {**lengths, "ddtp/other-mini": {"x": 1}}
    monkeypatch.setenv("PAPERLIB_DATA", str(tmp_path / "nothing prepared"))
    monkeypatch.setattr(paths, "shipped_data_lengths", lambda preset: tmp_path / "none shipped.json")
    costs._manifest_share.cache_clear()
    assert costs.length_share(wide) == 1.0  # not prepared, nothing shipped: the upper bound
    monkeypatch.setattr(paths, "shipped_data_lengths", lambda preset: tmp_path / "data_lengths.json")
    assert costs.length_share(wide) == pytest.approx(prepared)

    reading = dataclasses.replace(settings, runs_root=tmp_path / "results", train_missing=False)
    assert runs.get_or_train(done.config, reading).dir == copy
    with pytest.raises(runs.MissingRun, match=r"seed 5\) is not there .* training is off") as missing:
        runs.get_or_train_many([done.config, unfinished], reading)
    assert "closest" not in str(missing.value)  # no stored run of that seed to name
    assert not store.locate(unfinished, tmp_path / "results")[0].exists()  # nothing was trained there
    # a run the code now asks for differently from how it was shipped: the message names the field
    moved = dataclasses.replace(done.config, optim=dataclasses.replace(done.config.optim, clip_norm=None))
    with pytest.raises(runs.MissingRun, match=rf"closest stored run of that method and seed, fig-mini/{copy.name}, "
                                              r"differs in optim\.clip_norm: the code has moved on"):
        runs.get_or_train(moved, reading)
    # an unfinished run is never named as the closest
    unclipped = dataclasses.replace(unfinished, optim=dataclasses.replace(unfinished.optim, clip_norm=None))
    assert store.closest_stored(unclipped, tmp_path / "runs") is None
    assert store.closest_stored(moved, tmp_path / "runs") == (f"fig-mini/{done.dir.name}", ["optim.clip_norm"])


def test_figures_only_draws_what_is_shipped_and_names_what_is_not(tiny_cfg, tmp_path, capsys):
    """Shipped results older than the preset's grid: the figure gets the runs that are there,
    a line says which are left out; with none there it is the MissingRun error."""
    settings = runs.Settings(tmp_path / "runs", progress=False)
    done = runs.get_or_train(tiny_cfg(PLAN, experiment="fig-mini"), settings)
    store.ship("mini", tmp_path / "results", tmp_path / "runs")
    absent = tiny_cfg(PLAN, experiment="fig-mini", seed=7)
    reading = runs.Settings(tmp_path / "results", progress=False, train_missing=False)
    df = runs.train_labelled([(done.config, {"method": "m", "seed": 0}), (absent, {"method": "m", "seed": 7})], reading)
    assert list(df["seed"]) == [0]
    out = capsys.readouterr().out
    assert "1 of 2 runs are not in" in out and "method=m, seed=7" in out
    with pytest.raises(runs.MissingRun, match="seed 7"):
        runs.train_labelled([(absent, {"method": "m", "seed": 7})], reading)
    assert not store.locate(absent, tmp_path / "results")[0].exists()


def test_runs_rm_deletes_named_runs_and_refuses_unknown_or_running_ones(tiny_cfg, tmp_path, capsys):
    from paperlib import files

    run = runs.get_or_train(tiny_cfg(PLAN), runs.Settings(tmp_path / "runs", progress=False))
    name = f"{run.dir.parent.name}/{run.dir.name}"
    args = ["--runs-dir", str(tmp_path / "runs")]
    assert cli.main(["runs", "rm", "nope/abc", *args]) == 2
    assert "no run 'nope/abc'" in capsys.readouterr().err
    with files.exclusive(run.dir / "lock", "run"):  # as a process training it holds it
        assert cli.main(["runs", "rm", name, *args]) == 2
    assert "being trained" in capsys.readouterr().err and run.dir.exists()
    assert cli.main(["runs", "rm", name, name + "/", *args]) == 0  # named twice: removed once, no error
    assert not run.dir.exists() and capsys.readouterr().out.count(f"removed {name}") == 1


def test_a_pair_with_part_of_its_grid_shipped_is_left_out_whole(capsys):
    """Figures only: drawing or judging a pair from a part of its grid (an arm with no runs)
    would be wrong or crash; it is left out and named, and no pair complete is MissingRun."""
    import pandas as pd

    grid = [(None, {"taskset": "a", "seed": s}) for s in range(3)] + [(None, {"taskset": "b", "seed": s}) for s in range(3)]
    df = pd.DataFrame({"taskset": ["a", "a", "a", "b"]})
    assert runs.complete_tasksets(df, grid) == ["a"]
    assert "left out, their grids being incomplete: b (1 of 3 runs)" in capsys.readouterr().out
    with pytest.raises(runs.MissingRun, match=r"no task set has all its runs here \(b \(1 of 3 runs\)\)"):
        runs.complete_tasksets(df[df.taskset == "b"], grid)
    assert runs.complete_tasksets(pd.DataFrame({"taskset": ["b"] * 3 + ["a"] * 3}), grid) == ["a", "b"]  # grid order


def test_a_run_shared_with_a_group_is_readable_by_it(tiny_cfg, tmp_path):
    """Shared storage: under the user's umask 002 (a group sharing a runs folder on a cluster)
    every file and folder of a run is group-readable and -writable, although temporary files
    start as 0600 and temporary folders as 0700."""
    import os
    import stat

    from paperlib.train import train

    old = os.umask(0o002)
    try:
        run_dir = tmp_path / "test" / "shared"
        train(tiny_cfg(PLAN), run_dir, progress=False)
    finally:
        os.umask(old)
    paths = [p for p in run_dir.rglob("*") if p.name != "lock"]
    assert {"config.json", "metrics.jsonl", "DONE", "last.pt"} <= {p.name for p in paths}
    for p in paths:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode & 0o060 == 0o060, f"{p.relative_to(run_dir)}: {oct(mode)}"
        assert mode & 0o002 == 0, f"{p.relative_to(run_dir)}: writable by others ({oct(mode)})"


def test_code_version_is_read_once_per_process(monkeypatch):
    """A long-lived worker records the commit of the code it imported, not the checkout's
    HEAD when a later run starts; uncommitted library changes are marked."""
    from paperlib import files

    files.code_version.cache_clear()
    head = {"commit": "a" * 40}
    monkeypatch.setattr(files, "git_commit", lambda short=False: head["commit"])
    monkeypatch.setattr(files, "_library_changed", lambda: True)
    try:
        assert files.code_version() == "a" * 40 + "+dirty"
        head["commit"] = "b" * 40  # the checkout moves on while the worker runs
        assert files.code_version() == "a" * 40 + "+dirty"
    finally:
        files.code_version.cache_clear()


def test_trained_at_reads_the_commits_the_runs_recorded(tmp_path):
    import json

    for name, commit in (("a", "c1"), ("b", "c2"), ("c", "c1")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"git_commit": commit}))
    assert store.trained_at([tmp_path / n for n in ("a", "b", "c", "missing")]) == ["c1", "c2"]
    for name, text in (("torn", '{"git_commit": "c3"'), ("list", "[1]"), ("none", "{}")):  # damage() names these
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(text)
    assert store.trained_at([tmp_path / n for n in ("a", "torn", "list", "none", "b")]) == ["c1", "c2"]


def test_kept_results_are_read_back_per_params_strict_json_and_recomputed_in_a_new_format(tmp_path, monkeypatch):
    run = store.Run(tmp_path / "exp" / "abc", None)
    run.dir.mkdir(parents=True)
    assert store.read_kept(run, "stats", {"a": 1}) is None
    kept = store.keep(run, "stats", {"a": 1}, {"x": float("nan"), "y": [1.5, float("inf")], "z": 2})
    assert kept == {"x": None, "y": [1.5, None], "z": 2}  # strict JSON: non-finite numbers kept as null
    store.keep(run, "stats", {"a": 2}, {"z": 3})
    assert store.read_kept(run, "stats", {"a": 1}) == kept and store.read_kept(run, "stats", {"a": 2}) == {"z": 3}
    store.keep(run, "stats", {"a": 2}, {"z": 4})  # the same params again: replaced, not duplicated
    assert store.read_kept(run, "stats", {"a": 2}) == {"z": 4}
    assert "NaN" not in (run.dir / "analyses" / "stats.json").read_text()
    monkeypatch.setattr(store, "KEPT_FORMAT", store.KEPT_FORMAT + 1)  # what computes them changed
    assert store.read_kept(run, "stats", {"a": 1}) is None


def test_a_cut_last_line_that_parses_is_dropped_and_a_valid_json_line_that_is_no_row_is_damage(tmp_path):
    """The last line is a row only once its newline is written (a kill may cut `{"step": 8,
    "x": 1}` to `{"step": 8}`, which parses); a line that is JSON but not a metrics row (no
    step, or not an object) is damage, named with file and line, like one that is not JSON."""
    d = tmp_path / "r"
    store.write_metrics(d, [{"step": 0}, {"step": 4}])
    with open(d / "metrics.jsonl", "a") as f:
        f.write('{"step": 8}')
    assert [r["step"] for r in store.read_metrics(d)] == [0, 4]
    for bad in ('{"loss": 1.0}', "[1, 2]", "null", "7"):
        (d / "metrics.jsonl").write_text(f'{{"step": 0}}\n{{"step": 4}}\n{bad}\n{{"step": 8}}\n')
        with pytest.raises(store.DamagedRun, match=r"metrics.jsonl:3: damaged line"):
            store.read_metrics(d)
        assert store.damage(d) is not None


def test_damage_names_a_config_that_is_json_but_no_runs_config_and_else_the_damaged_metrics_line(tiny_cfg, tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    for text, error in (("{not json", "JSONDecodeError"), ('{"something": "else"}', "KeyError"),
                        ("[1, 2]", "TypeError"), ('{"config": 3}', "ValueError")):
        (d / "config.json").write_text(text)
        assert store.damage(d) == f"{d / 'config.json'}: unreadable ({error})"
    (d / "config.json").write_text(json.dumps({"config": tiny_cfg(PLAN).to_dict()}))
    assert store.damage(d) is None  # a readable config, no log yet
    (d / "metrics.jsonl").write_text('{"step": 0}\n{"step": 4}\n{"step"\n{"step": 8}\n')
    assert store.damage(d).startswith(f"{d / 'metrics.jsonl'}:3: damaged line")


def test_truncating_keeps_rows_up_to_the_checkpoint_and_refuses_when_damage_reaches_back_before_it(tmp_path):
    d = tmp_path / "r"
    rows = [{"step": 0, "loss": 3.0}, {"step": 4, "loss": 2.0}, {"step": 8, "loss": 1.0}, {"step": 8, "final": True}]
    store.write_metrics(d, rows)
    store.truncate_metrics(d, 8)
    assert store.read_metrics(d) == rows[:3]  # the final row is redone after the last step
    store.truncate_metrics(d, 4)
    assert store.read_metrics(d) == rows[:2]
    # damage after the checkpoint's rows: dropped with what follows it
    (d / "metrics.jsonl").write_text('{"step": 0}\n{"step": 4}\n{"step": 6}\ngarbage\n{"step": 8}\n')
    store.truncate_metrics(d, 4)
    assert store.read_metrics(d) == [{"step": 0}, {"step": 4}]
    # damage before the checkpoint's last row: that row is lost, never silently dropped
    (d / "metrics.jsonl").write_text('{"step": 0}\ngarbage\n{"step": 4}\n{"step": 8}\n')
    with pytest.raises(store.DamagedRun, match=r"metrics.jsonl:2: damaged line.*rows before the last checkpoint .step 4. are lost"):
        store.truncate_metrics(d, 4)
    assert "garbage" in (d / "metrics.jsonl").read_text()  # left as it was


def test_own_seconds_leave_out_the_prefix_a_fork_continues_and_last_wall_time_is_the_last_rows(tmp_path):
    import types

    def seconds(fork_at):
        return store.own_seconds(types.SimpleNamespace(fork_at=fork_at), tmp_path)

    store.write_metrics(tmp_path, [
        {"step": 0, "wall_time": 1.0}, {"step": 4, "wall_time": 10.0},  # the prefix's rows, carried over
        {"step": 6, "wall_time": 20.0}, {"step": 8, "wall_time": 30.0}, {"step": 8, "final": True, "wall_time": 34.0}])
    assert seconds(4) == pytest.approx(24.0)  # its own steps, evaluation and BLEU after the prefix's 10 s
    assert seconds(None) == pytest.approx(34.0)  # a run of its own: all its time
    assert store.last_wall_time(tmp_path) == 34.0
    (tmp_path / "metrics.jsonl").write_text('{"step": 0, "wall_time": 1.0}\nbad\n')
    assert seconds(None) == 0.0 and store.last_wall_time(tmp_path) is None


def _stored(root, experiment, name, config, identity, done=True):
    d = root / experiment / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"config": config, "identity": identity}))
    if done:
        (d / "DONE").write_text("{}")
    return d


def test_the_closest_stored_run_is_the_finished_one_of_its_method_seed_and_length_with_fewest_differences(tiny_cfg, tmp_path):
    import copy
    import dataclasses

    cfg = tiny_cfg(PLAN)
    data, plan, _ = store.resolve(cfg)
    identity = cfg.identity(plan, store.data_fingerprint(data))

    def changed(*keys):
        out = copy.deepcopy(identity)
        for k in keys:
            section, field = k.split(".")
            out[section][field] = "other"
        return out

    conf = json.loads(json.dumps(cfg.to_dict()))
    _stored(tmp_path, "test", "a-two", conf, changed("optim.lr", "optim.warmup"))
    _stored(tmp_path, "test", "b-one", conf, changed("optim.lr"))
    _stored(tmp_path, "test", "c-three", conf, changed("optim.lr", "optim.warmup", "model.ffn"))
    assert store.closest_stored(cfg, tmp_path) == ("test/b-one", ["optim.lr"])
    # none of these stands in for it, however close: unfinished, another seed, another length
    # (a shared prefix), another experiment
    _stored(tmp_path, "test", "0-unfinished", conf, changed("model.ffn"), done=False)
    _stored(tmp_path, "test", "0-seed", {**conf, "seed": 9}, changed("model.ffn"))
    _stored(tmp_path, "test", "0-prefix", {**conf, "stop_at": 4}, changed("model.ffn"))
    _stored(tmp_path, "other", "0-exp", conf, changed("model.ffn"))
    assert store.closest_stored(cfg, tmp_path) == ("test/b-one", ["optim.lr"])
    # the run itself, stored: nothing differs, it is no "closest run" to name
    _stored(tmp_path, "test", "0-same", conf, identity)
    assert store.closest_stored(cfg, tmp_path) == ("test/b-one", ["optim.lr"])
    assert store.closest_stored(dataclasses.replace(cfg, seed=1), tmp_path) is None


def test_a_finished_run_is_found_under_another_experiment_and_a_resume_refuses_another_config(tiny_cfg, tmp_path):
    """Equal hashes train identically: a finished run stored under another experiment's
    folder is cfg's run (cfg's own folder is still where it would train)."""
    import dataclasses

    cfg = tiny_cfg(PLAN, experiment="mine")
    data, plan, h = store.resolve(cfg)
    identity = cfg.identity(plan, store.data_fingerprint(data))
    assert store.locate(cfg, tmp_path) == (tmp_path / "mine" / h, None)
    _stored(tmp_path, "theirs", h, cfg.to_dict(), identity, done=False)
    assert store.locate(cfg, tmp_path)[1] is None  # not finished: not found
    (tmp_path / "theirs" / h / "DONE").write_text("{}")
    own, run = store.locate(cfg, tmp_path)
    assert own == tmp_path / "mine" / h and run.dir == tmp_path / "theirs" / h
    assert store.find_done(cfg, tmp_path).dir == tmp_path / "theirs" / h
    # resuming a run directory with another config is refused, naming the fields
    d = tmp_path / "r"
    d.mkdir()
    store.write_or_check_config(d, cfg, plan, data)
    store.write_or_check_config(d, dataclasses.replace(cfg, experiment="renamed"), plan, data)  # same run
    with pytest.raises(ValueError, match=r"different config \(fields differ: seed\)"):
        store.write_or_check_config(d, dataclasses.replace(cfg, seed=5), plan, data)


def test_the_data_fingerprint_holds_the_tokenizer_and_every_tasks_dataset():
    """Re-prepared data (another tokenizer, or another dataset) never reuses a stored run."""
    import types

    from paperlib.config import TrainConfig, config_hash

    def data(tok, tasks):
        return types.SimpleNamespace(manifest={"tokenizer": {"sha256": tok}, "keys": {"tasks": tasks}})

    cfg = TrainConfig(plan=PLAN)
    hashes = {config_hash(cfg.identity(None, store.data_fingerprint(d)))
              for d in (data("t1", {"en-it": "a"}), data("t2", {"en-it": "a"}), data("t1", {"en-it": "b"}))}
    assert len(hashes) == 3
    assert config_hash(cfg.identity(None, store.data_fingerprint(data("t1", {"en-it": "a"})))) in hashes


def test_find_runs_filters_by_dotted_keys_and_finished_runs(tiny_cfg, tmp_path):
    a = tiny_cfg(PLAN, experiment="e").to_dict()
    b = tiny_cfg({**PLAN, "tau": 5}, experiment="e").to_dict()
    _stored(tmp_path, "e", "a", a, {})
    _stored(tmp_path, "e", "b", b, {}, done=False)
    _stored(tmp_path, "f", "c", {**a, "experiment": "f"}, {})
    assert [r.dir.name for r in store.find_runs("e", tmp_path)] == ["a", "b"]
    assert [r.dir.name for r in store.find_runs("e", tmp_path, plan__tau=5)] == ["b"]
    assert [r.dir.name for r in store.find_runs("e", tmp_path, done_only=True, plan__tau=5)] == []
    assert [r.dir.name for r in store.find_runs(None, tmp_path, plan__tau=2)] == ["a", "c"]


def test_final_metrics_and_curves_read_evaluations_best_losses_and_the_final_rows_bleu(tmp_path):
    d = tmp_path / "e" / "r"
    store.write_metrics(d, [
        {"step": 0, "valid_loss": {"a": 3.0, "b": 4.0}},
        {"step": 4, "valid_loss": {"a": 1.0, "b": 3.5}},
        {"step": 8, "valid_loss": {"a": 2.0, "b": 3.0}},
        {"step": 8, "final": True, "bleu": {"a": 20.0}, "chrf": {"a": 40.0}}])
    run = store.Run(d, None)
    m = store.final_metrics(run)
    assert m["valid_loss.a"] == 2.0 and m["valid_loss.b"] == 3.0  # the last evaluation
    assert m["best_valid_loss.a"] == 1.0 and m["best_valid_loss.b"] == 3.0
    assert m["bleu.a"] == 20.0 and m["chrf.a"] == 40.0
    df = store.curves([(run, {"method": "m"})])
    assert list(df["step"]) == [0, 4, 8] and "final" not in df and set(df["method"]) == {"m"}
    store.write_metrics(d, [{"step": 0, "valid_loss": {"a": 3.0}}, {"step": 4, "valid_loss": {"a": 2.0}}])
    assert not any(k.startswith("bleu") for k in store.final_metrics(run))  # no final row yet


def test_ship_leaves_out_a_finished_run_with_a_damaged_log_and_lists_steps_in_order(tiny_cfg, tmp_path):
    conf = tiny_cfg(PLAN, experiment="x-mini").to_dict()
    good = _stored(tmp_path / "runs", "x-mini", "good", conf, {})
    bad = _stored(tmp_path / "runs", "x-mini", "bad", conf, {})
    store.write_metrics(good, [{"step": 0}])
    (bad / "metrics.jsonl").write_text('{"step": 0}\ngarbage\n{"step": 4}\n')
    assert [p.name for p in store.ship("mini", tmp_path / "results", tmp_path / "runs")] == ["good"]
    for step in (12, 4, 100, 8):
        store.write_example_losses(good, step, {"a": ([1.0], [2])})
    assert store.example_loss_steps(good) == [4, 8, 12, 100]
