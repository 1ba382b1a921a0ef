import json

import pytest

from paperlib import config as C
from paperlib import store


def test_unknown_keys_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown config key\(s\) optim.lrr; valid: optim.lr, optim.betas"):
        C.from_dict({"optim": {"lrr": 1}})
    with pytest.raises(ValueError, match=r"unknown config key\(s\) bach_size; valid: experiment, data"):
        C.from_dict({"bach_size": 3})


def test_plan_parameters_are_checked_at_construction():
    with pytest.raises(ValueError, match="plan method 'temperature' has no field.s. temp; its fields: steps, tau"):
        C.TrainConfig(plan={"method": "temperature", "steps": 5, "temp": 3})
    with pytest.raises(ValueError, match=r"unknown plan.method 'annealing'; valid: static, temperature, scalarization"):
        C.TrainConfig(plan={"method": "annealing"})
    with pytest.raises(ValueError, match="a config needs a plan"):
        C.from_dict({})


def test_overrides_parse_numbers_lists_and_null():
    base = C.TrainConfig(plan={"method": "temperature", "steps": 10, "tau": 1})
    cfg = C.with_overrides(base, ["optim.lr=1e-3", "plan.tau=5", "optim.clip_norm=null", "model.layers=3", "batch_size=1e2"])
    assert cfg.optim.lr == 1e-3 and cfg.plan.tau == 5 and cfg.optim.clip_norm is None and cfg.model.layers == 3
    assert cfg.batch_size == 100 and isinstance(cfg.batch_size, int)  # JSON reads 1e2 as 100.0
    with pytest.raises(ValueError, match="unknown config key 'nope.x'"):
        C.with_overrides(base, ["nope.x=1"])


@pytest.mark.parametrize(
    "section, bad, message",
    [
        ("optim", {"lr": 0}, "optim.lr must be > 0"),
        ("optim", {"clip_norm": -1}, "optim.clip_norm must be > 0 or null"),
        ("model", {"d_model": 30, "heads": 4}, "divisible by model.heads"),
        ("data", {"preset": "huge"}, "data.preset must be one of smoke, mini, gpu, paper"),
        ("data", {"source": "dir"}, "needs data.source_path"),
    ],
)
def test_bad_values_say_what_to_fix(section, bad, message):
    with pytest.raises(ValueError, match=message):
        C.from_dict({section: bad, "plan": {"method": "temperature", "steps": 10, "tau": 1}})


def test_yaml_file_numbers(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("optim: {lr: 1e-3}\nplan: {method: temperature, steps: 10, tau: 5}\n")
    assert C.load_config(p).optim.lr == 1e-3


def test_resuming_with_a_changed_config_is_refused(tiny_cfg, tmp_path):
    a = tiny_cfg({"method": "temperature", "steps": 4, "tau": 1})
    from paperlib.train import train

    train(a, tmp_path / "r", progress=False, stop_after=2)
    b = C.with_overrides(a, ["optim.lr=1e-2", "seed=3"])
    with pytest.raises(ValueError, match=r"different config \(fields differ: optim.lr, seed\)"):
        train(b, tmp_path / "r", progress=False)
    assert json.loads((tmp_path / "r" / "config.json").read_text())["config"]["optim"]["lr"] == 3e-3  # nothing lost


def test_a_locked_run_is_refused(tmp_path):
    with store.lock(tmp_path):
        holder = (tmp_path / "lock").read_text()
        assert holder.startswith("pid ") and store.is_locked(tmp_path)
        with pytest.raises(store.RunLocked, match="in use by another process"):
            with store.lock(tmp_path):
                pass
    (tmp_path / "lock").write_text("pid 1 on elsewhere")  # the last holder's name
    assert not store.is_locked(tmp_path)
    assert (tmp_path / "lock").read_text() == "pid 1 on elsewhere"  # checking takes nothing over


def test_cli_train_and_runs_ls(tiny_cfg, tmp_path, capsys):
    import yaml

    from paperlib import cli

    cfg = tiny_cfg({"method": "temperature", "steps": 4, "tau": 2})
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(cfg.to_dict()))))
    assert cli.main(["train", str(path), "--set", "plan.tau=3", "--runs-dir", str(tmp_path / "runs")]) == 0
    assert cli.main(["runs", "ls", "test", "--runs-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "temperature" in out and "τ=3" in out and "done" in out and "en-fi=" in out
    for filters, shown in ((["--method", "temperature", "--status", "done"], True), (["--method", "static"], False),
                           (["--seed", str(cfg.seed)], True), (["--seed", "99"], False), (["--status", "running"], False)):
        assert cli.main(["runs", "ls", "--runs-dir", str(tmp_path / "runs"), *filters]) == 0
        out = capsys.readouterr().out
        assert ("τ=3" in out) == shown and (out.startswith("no runs match") != shown), filters
    found = store.find_runs("test", tmp_path / "runs", plan__tau=3)
    assert len(found) == 1 and found[0].done
    # a run (its folder or its config.json) is a config to start from: the same run, or with --set another
    run_dir = found[0].dir
    assert C.load_config(run_dir) == C.load_config(run_dir / "config.json") == found[0].config
    assert cli.main(["train", str(run_dir), "--runs-dir", str(tmp_path / "runs"), "--dry-run"]) == 0
    assert capsys.readouterr().out.split()[0] == str(run_dir)  # the same identity: this run
    named = f"{run_dir.parent.name}/{run_dir.name}"  # as `runs ls` names it, in the runs folder
    assert cli.main(["train", named, "--runs-dir", str(tmp_path / "runs"), "--dry-run"]) == 0
    assert capsys.readouterr().out.split()[0] == str(run_dir)
    assert cli.main(["train", "test/nosuchrun", "--runs-dir", str(tmp_path / "runs"), "--dry-run"]) == 2
    assert "neither a config file nor a run of" in capsys.readouterr().err
    assert cli.main(["train", str(run_dir), "--set", "seed=7", "--runs-dir", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    assert sorted(r.config.seed for r in store.find_runs("test", tmp_path / "runs", plan__tau=3)) == sorted([cfg.seed, 7])
    assert cli.main(["train", str(path), "--set", "optim.lr=-1"]) == 2
    assert "optim.lr must be > 0" in capsys.readouterr().err
    # a seed of a stack trains with its stack, and every run of it is listed (dry run) and reported
    stacked = ["train", str(path), "--set", "stack_seeds=[0,4]", "--runs-dir", str(tmp_path / "stacked")]
    assert cli.main(stacked[:2] + stacked[1:] + ["--dry-run"]) == 0  # the same stack named twice: listed once
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and all(line.endswith(f"(seed {s} of a stack of 2)") for line, s in zip(listed, (0, 4)))
    assert cli.main(stacked) == 0
    out = capsys.readouterr().out
    assert out.count(": done") == 2 and len(list((tmp_path / "stacked").glob("test/*/DONE"))) == 2
    assert sorted(line.split()[0] for line in listed) == sorted(str(p.parent) for p in (tmp_path / "stacked").glob("test/*/DONE"))


def test_fields_added_later_keep_the_stored_runs_identity():
    from paperlib.config import TrainConfig

    plan = {"method": "temperature", "steps": 10, "tau": 1}
    default = TrainConfig(plan=plan)
    # runs stored before these fields existed keep their hash
    assert "batching" not in default.identity() and "stop_at" not in default.identity()
    tokens = TrainConfig(plan=plan, batching="tokens")
    assert tokens.identity()["batching"] == "tokens"
    with pytest.raises(ValueError, match="batching must be examples or tokens"):
        TrainConfig(plan=plan, batching="bytes")


def test_a_chain_of_shared_prefixes():
    """prefix_forks: the shared prefix a run continues itself continues an earlier one, down to
    a run from scratch; the chain's points cut every member's sampler pools; configs without
    the field keep their stored hash."""
    import json

    from paperlib.config import TrainConfig, from_dict, parent_config, pool_boundaries

    plan = {"method": "temperature", "steps": 16, "tau": 5}
    full = TrainConfig(plan=plan, fork_at=12, prefix_forks=(4, 8))
    chain = [full]
    while chain[-1].fork_at is not None:
        chain.append(parent_config(chain[-1]))
    assert [(c.stop_at, c.fork_at, c.prefix_forks) for c in chain] == [
        (None, 12, (4, 8)), (12, 8, (4,)), (8, 4, ()), (4, None, ())]
    assert pool_boundaries(full, None) == (12, 4, 8) and pool_boundaries(chain[2], 8) == (4, 8)
    assert from_dict(json.loads(json.dumps(full.to_dict()))) == full  # JSON lists back to a tuple
    assert "prefix_forks" not in TrainConfig(plan=plan, fork_at=12).identity()
    assert full.identity()["prefix_forks"] == [4, 8]
    from paperlib.config import prefix_at

    assert [prefix_at(full, k) for k in (12, 8, 4)] == chain[1:]  # the prefix ending at each fork point
    with pytest.raises(ValueError, match="forks at .4, 8, 12., not at step 6"):
        prefix_at(full, 6)
    for bad, message in (({"fork_at": None}, "needs fork_at"), ({"prefix_forks": (8, 4)}, "increasing"),
                         ({"prefix_forks": (12,)}, "before fork_at"), ({"prefix_forks": (0,)}, "increasing steps >= 1")):
        with pytest.raises(ValueError, match=message):
            TrainConfig(**{"plan": plan, "fork_at": 12, "prefix_forks": (4, 8), **bad})


PLAN = {"method": "temperature", "steps": 10, "tau": 1}


@pytest.mark.parametrize("data, message", [
    ({"batch_size": True}, "batch_size must be a whole number, got True"),
    ({"seed": 1.5}, "seed must be a whole number, got 1.5"),
    ({"optim": {"lr": float("nan")}}, "optim.lr must be a finite number, got nan"),
    ({"optim": {"lr": float("inf")}}, "optim.lr must be a finite number, got inf"),
    ({"model": {"layers": 2.5}}, "model.layers must be a whole number"),
    ({"eval": {"bleu": 1}}, "eval.bleu must be true or false"),
    ({"experiment": "../escape"}, "experiment must be a name of letters"),
    ({"experiment": ".hidden"}, "experiment must be a name"),
    ({"data": {"taskset": "a/b"}}, "data.taskset must be a name"),
    ({"plan": {"method": "temperature", "steps": 10, "tau": float("nan")}}, "plan.tau must be a temperature > 0"),
])
def test_bad_types_and_names_are_one_line_errors(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        C.from_dict({"plan": PLAN, **data})


@pytest.mark.parametrize("content, message", [
    ("plan: {method: temperature, steps: 10, tau: 1\n", r"c.yaml \(line \d+\): not valid YAML"),
    ("", "c.yaml is empty; a config needs at least a plan"),
    ("- 1\n- 2\n", "config must be a mapping"),
    ("seed: 0\nseed: 1\nplan: {method: temperature, steps: 10, tau: 1}\n", r"c.yaml \(line 2\): not valid YAML: key 'seed' given twice"),
    ("data: [1, 2]\nplan: {method: temperature, steps: 10, tau: 1}\n", "^data must be a mapping of keys to values, got list$"),
    ("model: {max_len: 1e9}\nplan: {method: temperature, steps: 10, tau: 1}\n", None),
    ("model: {max_len: 6.55e1}\nplan: {method: temperature, steps: 10, tau: 1}\n", "model.max_len must be a whole number, e.g. 64 or 1e4, got '6.55e1'"),
])
def test_bad_config_files_are_one_line_errors(tmp_path, content, message):
    p = tmp_path / "c.yaml"
    p.write_text(content)
    if message is None:  # YAML reads 1e9 as a string: a whole number all the same
        assert C.load_config(p).model.max_len == 10**9
        return
    with pytest.raises(ValueError, match=message):
        C.load_config(p)


def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    from paperlib import cli

    runs_dir = tmp_path / "runs"
    for args in (["train", str(tmp_path)],                                         # a folder
                 ["train", str(tmp_path / "missing.yaml")],
                 ["train", "configs/mini_lm.yaml", "--set", "optim.lr=nan"],
                 ["train", "configs/mini_lm.yaml", "--set", "batch_size=true"],
                 ["train", "configs/mini_lm.yaml", "--set", "experiment=../../x"],
                 ["train", "configs/mini_lm.yaml", "--set", "plan.tau"],
                 ["train", "configs/mini_lm.yaml", "--set", "=3"],
                 ["train", "configs/mini_lm.yaml", "--set", "batch_size=12.5"],
                 ["train", "configs/mini_lm.yaml", "--set", "seed=1.5"],
                 ["train", "configs/mini_lm.yaml", "--set", "plan.tau=[5"],              # not a value
                 ["train", "configs/mini_hrl_lrl_fi.yaml", "--set", "plan.rates=0.5,0.5"],  # a list without brackets
                 ["train", "configs/mini_lm.yaml", "--workers", "0"],                      # argparse, one line too
                 ["train", "configs/mini_lm.yaml", "--nodes", "0"],
                 ["advise", "--tolerance", "nan"], ["advise", "--tolerance", "-0.1"],
                 ["runs", "ls", "--runs-dir", str(tmp_path / "nowhere")],
                 ["runs", "ship", "--preset", "mini", "--runs-dir", str(tmp_path / "nowhere")],
                 ["reproduce", "--preset", "bogus"],
                 ["data", "prepare", "--vocab-size", "0"],
                 ["data", "prepare", "--source", "dir", str(tmp_path), "--mirror", "https://deb.debian.org/debian"],
                 ["data", "prepare", "--mirror", "notaurl"],
                 ["data", "info", "--tasks", "bogus"],
                 ["data", "prepare", "--data-dir", __file__]):                             # a file
        if args[0] == "train":
            args = [*args, "--runs-dir", str(runs_dir)]
        try:
            code = cli.main(args)
        except SystemExit as exit_:  # argparse
            code = exit_.code
        assert code == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("paperlib") and ": error: " in err and "\n" not in err and "Traceback" not in err, (args, err)
    assert not runs_dir.exists() and not (tmp_path / "data").exists()


def test_cli_version(capsys):
    from paperlib import __version__, cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"paperlib {__version__}"


def test_train_dry_run_prepares_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import yaml

    from paperlib import cli
    from conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    monkeypatch.setenv("PAPERLIB_DATA", str(tmp_path / "data"))
    cfg = {"experiment": "dry", "plan": PLAN, "batch_size": 8,
           "data": {"taskset": "en-it+en-fi", "source": "dir", "source_path": str(corpus), "vocab_size": 400}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    args = ["train", str(tmp_path / "c.yaml"), "--dry-run", "--runs-dir", str(tmp_path / "runs")]
    assert cli.main(args) == 0
    assert "its run directory is known once its data are prepared" in capsys.readouterr().out
    assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()
    assert cli.main(["data", "prepare", "--source", "dir", str(corpus), "--tasks", "en-it+en-fi", "--vocab-size", "400",
                     "--data-dir", str(tmp_path / "data")]) == 0
    capsys.readouterr()
    assert cli.main(args) == 0  # prepared: the run's directory, still not created
    assert str(tmp_path / "runs" / "dry") in capsys.readouterr().out and not (tmp_path / "runs").exists()
    # a task set that does not exist is an error, not a task set to prepare
    assert cli.main(args + ["--set", "data.source=ddtp", "data.taskset=hrl_lrl_xx"]) == 2
    out, err = capsys.readouterr()
    assert "unknown task set 'hrl_lrl_xx'" in err and "prepare" not in out


# ------------------------------------------------------------------ mutation audit: validation bounds

@pytest.mark.parametrize("section, ok, bad, message", [
    ("optim", {"warmup": 0}, {"warmup": -1}, "optim.warmup must be >= 0, got -1"),
    ("optim", {"label_smoothing": 0.0}, {"label_smoothing": 1.0}, r"optim.label_smoothing must be in \[0, 1\)"),
    ("optim", {"betas": (0.0, 0.0)}, {"betas": (0.9, 1.0)}, r"optim.betas must be two numbers in \[0, 1\)"),
    ("eval", {"train_subset": 0}, {"train_subset": -1}, "eval.train_subset >= 0"),
])
def test_range_checks_accept_their_edge_and_refuse_just_past_it(section, ok, bad, message):
    # each bound is the documented one: warmup 0 and label smoothing 0 are valid, 1.0 is not
    cls = {"optim": C.OptimConfig, "eval": C.EvalConfig}[section]
    assert all(getattr(cls(**ok), k) == v for k, v in ok.items())
    with pytest.raises(ValueError, match=message):
        cls(**bad)


def test_fork_and_stop_points_are_checked_against_where_the_run_ends():
    plan = {"method": "temperature", "steps": 10, "tau": 1}
    assert C.TrainConfig(plan=plan, stop_at=10).stop_at == 10  # stopping at the plan's end is allowed
    assert C.TrainConfig(plan=plan, fork_at=9).fork_at == 9
    with pytest.raises(ValueError, match=r"fork_at must be a step >= 1 before the end of the plan \(10 steps\)"):
        C.TrainConfig(plan=plan, fork_at=10)
    # a prefix run stopped at 5 cannot fork at 6: its end is stop_at, not the plan's
    with pytest.raises(ValueError, match=r"before the end of the plan \(5 steps\) or null, got 6"):
        C.TrainConfig(plan=plan, stop_at=5, fork_at=6)


@pytest.mark.parametrize("changes, message", [
    ({"stack_seeds": (0,)}, "two or more increasing seeds"),
    ({"seed": 2, "stack_seeds": (0, 1)}, r"this run's seed \(2\) among them"),
    ({"stack_seeds": (1, 0)}, "increasing seeds"),
    ({"stack_seeds": (0, 1), "batching": "tokens"}, "stack_seeds needs batching 'examples'"),
])
def test_bad_stacks_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        C.TrainConfig(plan=PLAN, **changes)


# ------------------------------------------------------------------ mutation audit: run identity

def test_identity_ignores_the_experiment_folder_only():
    plan = {"method": "temperature", "steps": 10, "tau": 1}
    a = C.TrainConfig(plan=plan, experiment="a")
    assert C.config_hash(a.identity()) == C.config_hash(C.TrainConfig(plan=plan, experiment="b").identity())
    for changed in (dict(seed=1), dict(batch_size=16), dict(optim=C.OptimConfig(lr=1e-3))):
        assert C.config_hash(C.TrainConfig(plan=plan, **changed).identity()) != C.config_hash(a.identity()), changed


def test_identity_holds_the_stack_only_when_there_is_one():
    # a stacked run is another draw (shared dropout generator): its identity names the stack;
    # a lone run's identity keeps the form stored before stacks existed
    alone = C.TrainConfig(plan=PLAN)
    stacked = C.TrainConfig(plan=PLAN, stack_seeds=(0, 1))
    assert "stack_seeds" not in alone.identity() and stacked.identity()["stack_seeds"] == [0, 1]
    assert C.config_hash(alone.identity()) != C.config_hash(stacked.identity())


def test_identity_with_the_resolved_plan_ignores_how_the_end_is_spelled():
    sizes = {"en-it": 1000, "en-fi": 10}
    full = C.TrainConfig(plan=PLAN)
    stopped = C.TrainConfig(plan=PLAN, stop_at=PLAN["steps"])  # the same 10 steps
    assert full.identity(C.build_plan(full, sizes)) == stopped.identity(C.build_plan(stopped, sizes))
    # inverse-sqrt does not depend on the nominal length: 16 steps stopped at 10 train as 10 do
    longer = C.TrainConfig(plan={**PLAN, "steps": 16}, stop_at=10)
    assert longer.identity(C.build_plan(longer, sizes)) == full.identity(C.build_plan(full, sizes))
    shorter = C.TrainConfig(plan={**PLAN, "steps": 16}, stop_at=8)
    assert shorter.identity(C.build_plan(shorter, sizes)) != full.identity(C.build_plan(full, sizes))


def test_identity_holds_the_data_fingerprint_and_the_hash_ignores_key_order():
    cfg = C.TrainConfig(plan=PLAN)
    a = cfg.identity(data_fingerprint={"tokenizer": "t1", "dataset": "d1"})
    b = cfg.identity(data_fingerprint={"tokenizer": "t2", "dataset": "d1"})
    assert a["data_fingerprint"] == {"tokenizer": "t1", "dataset": "d1"} and C.config_hash(a) != C.config_hash(b)
    # a stored identity read back with its keys in another order is the same run
    assert C.config_hash(dict(reversed(list(a.items())))) == C.config_hash(a)
    assert a["run_format"] == C.RUN_FORMAT


def test_build_plan_total_steps_and_stacks_follow_stop_at_and_seeds():
    sizes = {"en-it": 1000, "en-fi": 10}
    cfg = C.TrainConfig(plan={**PLAN, "steps": 16}, stop_at=8)
    plan = C.build_plan(cfg, sizes)
    assert plan.end_step == 8 == C.total_steps(cfg) and plan.total_steps == 16  # LR schedule of the full 16
    assert C.total_steps(C.TrainConfig(plan=PLAN)) == 10
    stack = C.stack_configs(C.TrainConfig(plan=PLAN, seed=3, stack_seeds=(1, 3, 5)))
    assert [c.seed for c in stack] == [1, 3, 5] and all(c.stack_seeds == (1, 3, 5) for c in stack)
    assert C.stack_configs(cfg) == [cfg]


def test_diff_names_nested_keys_and_keys_on_one_side_only():
    assert C.diff({"optim": {"lr": 1, "eps": 2}, "seed": 0}, {"optim": {"lr": 3, "eps": 2}, "seed": 0}) == ["optim.lr"]
    assert C.diff({"a": 1}, {"b": 1}) == ["a", "b"]


def test_json_config_files_are_read_as_json(tmp_path):
    good = tmp_path / "c.json"
    good.write_text(json.dumps({"plan": PLAN, "seed": 4}))
    assert C.load_config(good).seed == 4
    bad = tmp_path / "d.json"
    bad.write_text("plan: {method: temperature, steps: 10, tau: 1}\n")  # YAML, not JSON
    with pytest.raises(ValueError, match=r"d.json \(line 1\): not valid JSON"):
        C.load_config(bad)
    with pytest.raises(ValueError, match="is a folder"):
        C.load_config(tmp_path)


@pytest.mark.parametrize("section, bad, message", [
    ("optim", {"eps": -1e-8}, "optim.eps must be >= 0, got -1e-08"),
    ("optim", {"weight_decay": -0.1}, "optim.weight_decay must be >= 0, got -0.1"),
    ("eval", {"max_valid": 0}, r"eval.max_valid must be >= 1 or null \(all\), got 0"),
    ("eval", {"bleu_max_examples": 0}, "eval.bleu_max_examples must be >= 1, got 0"),
    ("eval", {"max_new_tokens": 0}, "eval.max_new_tokens must be >= 1, got 0"),
    ("data", {"block_size": 1}, r"data.block_size must be >= 2 or null \(the preset's\), got 1"),  # range(0, n, 0)
    ("data", {"vocab_size": 0}, "data.vocab_size must be >= 300 or null"),
    ("data", {"vocab_size": 299}, "data.vocab_size must be >= 300 or null"),  # preparation's own floor
])
def test_settings_that_would_fail_or_measure_nothing_are_refused_at_construction(section, bad, message):
    """A negative eps or weight decay passed the config, to be refused by torch's AdamW only once
    the data were prepared; max_valid 0 (or negative: range(-3)) validated on no examples at all."""
    with pytest.raises(ValueError, match=message):
        C.from_dict({section: bad, "plan": PLAN})
    assert C.EvalConfig(max_valid=None).max_valid is None and C.OptimConfig(eps=0.0, weight_decay=0.0).eps == 0.0
    assert C.DataConfig(block_size=2, vocab_size=None).block_size == 2


def test_yaml_exponent_numbers_in_lists_are_numbers(tmp_path):
    """YAML reads 9e-1 and 1e1 (no dot) as strings, in a list as anywhere: a list field takes
    them as numbers, as the config's scalar fields do (betas: [9e-1, 0.98] was refused as 'must
    be a list of a finite number')."""
    p = tmp_path / "c.yaml"
    p.write_text("optim: {betas: [9e-1, 0.98]}\nfork_at: 8\nprefix_forks: [2e0, 4]\n"
                 "plan: {method: temperature, steps: 1e1, tau: 1}\n")
    cfg = C.load_config(p)
    assert cfg.optim.betas == (0.9, 0.98) and cfg.prefix_forks == (2, 4) and isinstance(cfg.prefix_forks[0], int)
    with pytest.raises(ValueError, match=r"optim.betas must be a list of numbers, got \['x', 0.98\]"):
        C.from_dict({"optim": {"betas": ["x", 0.98]}, "plan": PLAN})
