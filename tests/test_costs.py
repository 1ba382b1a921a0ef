"""The paper preset's dry run: every notebook's runs, counted once, with GPU-hours."""

import pytest

from paperlib import cli, costs, experiments as E
from paperlib.config import TrainConfig, total_steps


def test_total_steps_of_plan_specs():
    def steps(plan, **kw):
        return total_steps(TrainConfig(plan=plan, **kw))

    assert steps({"method": "temperature", "steps": 300, "tau": 1}) == 300
    om = {"method": "order_matters", "pretrain_steps": 200, "finetune_steps": 100, "pretrain_on": "a", "tau": 1}
    assert steps(om) == 300
    assert steps({"method": "restart", "first_steps": 5, "second_steps": 7, "tau": 1}) == 12
    assert steps({"method": "temperature", "steps": 300, "tau": 1}, stop_at=150) == 150


def test_flops_per_example_scale_with_the_model():
    from paperlib.models import ModelConfig

    small = costs.flops_per_example(ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16), "translation", 500)
    wide = costs.flops_per_example(ModelConfig(d_model=64, layers=1, heads=2, ffn=128, max_len=16), "translation", 500)
    deep = costs.flops_per_example(ModelConfig(d_model=32, layers=2, heads=2, ffn=64, max_len=16), "translation", 500)
    assert small < deep < 2 * small + 1e6  # a second layer adds layers, not the embeddings
    assert 2.5 * small < wide  # matmul FLOPs grow with d^2 (the output layer with d)


@pytest.mark.slow
def test_paper_plan_lists_every_training_notebook_and_counts_prefixes_once():
    from paperlib.experiments import HUB_PARAMETERS  # the paper preset reads the papers' own data

    planned = costs.planned_runs("paper", parameters=HUB_PARAMETERS)
    notebooks = {n for p in planned for n in p.notebooks}
    assert notebooks == {n for n, grid in E.notebook_runs("paper").items() if grid}
    s = E.scale("paper")
    # Order Matters' NMT pre-training: one prefix run per (pair, seed), shared by all nine rates
    om = [p for p in planned if p.config.plan.method == "order_matters" and p.config.experiment == "order_matters_nmt-paper"]
    prefixes = [p for p in om if p.config.stop_at == s.pretrain]
    assert prefixes and all(p.steps == s.pretrain for p in prefixes)
    assert all(p.steps == s.finetune for p in om if p.config.stop_at is None and p.config.fork_at == s.pretrain)
    assert len({p.config.plan.rates[1] for p in om if p.config.data.taskset == "wmt_fr_ro"}) == 9
    assert all(p.config.batch_size == 1024 and p.config.data.source == "hub" for p in planned)
    text = costs.describe("paper", parameters=HUB_PARAMETERS)
    assert f"{len(planned)} training runs" in text and "GPU-hours" in text


@pytest.mark.slow
def test_cli_dry_run_runs_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    assert cli.main(["reproduce", "--preset", "paper", "--dry-run", "--only", "A6_fig07_multilingual_lm",
                     "--executor", "slurm", "--partition", "gpu", "--gpus-per-node", "8"]) == 0
    out = capsys.readouterr().out
    assert "order_matters_lm-paper" in out and "#SBATCH --gpus-per-node=8" in out
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing written


def test_a_preset_measured_side_by_side_is_charged_at_its_measured_step_rate(tmp_path, monkeypatch):
    import json

    from paperlib import paths, presets

    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "results_gpu_x.json").write_text(json.dumps({
        "device": "GPU X", "side_by_side": {"preset": "smoke", "workers": 4, "aggregate_steps_per_s": 50.0},
        "gpu_mfu": {"device": "GPU X", "tf32": {"tflops": 100.0}}}))
    monkeypatch.setattr(paths, "PACKAGE_ROOT", tmp_path)
    p = presets.get("smoke")
    where, rate = costs.measured_throughput("smoke")
    assert "4 runs side by side" in where
    assert rate == pytest.approx(50.0 * costs.flops_per_example(p.model, "translation", p.vocab_size) * p.batch_size)
    # so a run of the measured shape is charged steps / (steps per second), whatever its FLOPs
    assert costs.measured_throughput("paper") == ("GPU X (TF32, results_gpu_x.json)", 100e12)


def test_runs_trained_in_stacks_are_charged_at_the_rate_measured_with_stacks(tmp_path, monkeypatch):
    """A preset that stacks its seeds: its runs are charged at the rate its runs reached as
    stacks (`side_by_side_stacked`), the total and the notebooks' hours with them; without
    that measurement, at the rate of runs alone (an upper bound, said so)."""
    import dataclasses
    import json
    import re

    from paperlib import paths, presets

    (tmp_path / "benchmarks").mkdir()
    # slow rates, so that the printed hours have digits to compare
    result = {"device": "GPU X", "side_by_side": {"preset": "smoke", "workers": 4, "aggregate_steps_per_s": 0.01}}
    path = tmp_path / "benchmarks" / "results_gpu_x.json"
    path.write_text(json.dumps(result))
    monkeypatch.setattr(paths, "PACKAGE_ROOT", tmp_path)
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    alone_rate = costs.measured_throughput("smoke")[1]
    assert costs.measured_throughput("smoke", stacked=True)[1] == alone_rate  # nothing measured with stacks

    def total(text):
        return float(re.search(r"≈ ([\d,.]+) GPU-hours", text).group(1).replace(",", ""))

    only = ["A2_fig02_hrl_lrl_fronts"]
    alone = costs.describe("smoke", only=only)
    assert "no rate was measured with stacks" in alone
    result["side_by_side_stacked"] = {"preset": "smoke", "workers": 4, "stacked": True, "stack": 2,
                                      "aggregate_steps_per_s": 0.04}
    path.write_text(json.dumps(result))
    where, rate = costs.measured_throughput("smoke", stacked=True)
    assert rate == pytest.approx(4 * alone_rate) and "each a stack of 2 seeds" in where
    assert costs.measured_throughput("smoke")[1] == alone_rate
    stacked = costs.describe("smoke", only=only)
    assert "no rate was measured with stacks" not in stacked and "TFLOP/s measured on GPU X (4 runs side by side, each a stack" in stacked
    # every planned run trains in a stack here: all charged 4x faster
    assert total(alone) > 5 and total(stacked) == pytest.approx(total(alone) / 4, rel=0.01)


def test_a_pretraining_shared_by_several_plans_is_counted_once():
    """Pre-train -> joint fine-tune and fine-tune-only continue the same pre-training (the
    store trains it once): the plan counts it once per seed, and the dry run charges only
    the notebooks a preset runs."""
    from paperlib import presets

    p = presets.get("mini")
    a5 = costs.planned_runs("mini", ["A5_fig06_finetune_only"])
    prefixes = [r for r in a5 if r.steps == p.pretrain]
    assert len(prefixes) == len(p.seeds)  # one pre-training per seed, not one per plan
    assert {n for r in costs.planned_runs("mini") for n in r.notebooks} <= set(p.notebooks)


def test_flops_follow_the_prepared_datas_mean_length(tmp_path, monkeypatch):
    """Counted at full length (an upper bound) until the data are prepared, then at the mean
    example length: 48 and 80 tokens (source + target) of 2 x 64 -> (0.375 + 0.625) / 2."""
    import json

    from paperlib.data.pipeline import prepared_dir

    monkeypatch.setenv("PAPERLIB_DATA", str(tmp_path))
    costs._manifest_share.cache_clear()
    cfg = E.static_rate("mini", "hrl_lrl_es", 0.5, "x")
    assert costs.length_share(cfg) == 1.0
    root = prepared_dir("hrl_lrl_es", "mini")
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"tasks": {
        "en-it": {"train": {"examples": 10, "tokens": 480}}, "en-es": {"train": {"examples": 5, "tokens": 400}}}}))
    costs._manifest_share.cache_clear()
    assert costs.length_share(cfg) == pytest.approx(0.5)
    costs._manifest_share.cache_clear()


def test_the_dry_run_on_a_cpu_machine_says_how_long_training_takes_here(monkeypatch, capsys):
    """CPU wall time = FLOPs / (one-thread matmul peak measured now x the step's measured share
    of it x runs side by side): with the peak fixed at 100 GFLOPS, 2 workers and the share in
    benchmarks/results.json, the hours follow from the planned FLOPs."""
    import json
    import re

    from paperlib import paths

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(costs, "matmul_peak", lambda *a, **k: 100e9)
    monkeypatch.setattr("paperlib.executors.cpu_cores", lambda: 2)
    share = json.loads((paths.PACKAGE_ROOT / "benchmarks" / "results.json").read_text())["step"]["useful_flops_fraction"]
    assert cli.main(["reproduce", "--preset", "smoke", "--dry-run", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    flops = float(re.search(r"total: [\d,]+ steps, ([\d.e+]+) FLOPs", out)[1])
    hours = float(re.search(r"total on this machine: ≈ ([\d.]+) h of training wall time", out)[1])
    assert hours == pytest.approx(flops / (100e9 * share * 2) / 3600, abs=0.006)
    assert "CPU wall h" in out and "100 GFLOPS matmul peak per core measured now" in out


def _hours_table(text):
    """{experiment: GPU-h} of the rows of the dry run's table."""
    out = {}
    for line in text.splitlines():
        cols = line.split()
        if cols and cols[0].startswith("exp-"):  # GPU-h: the column before the notebooks (a mixture may hold spaces)
            out[cols[0]] = float(cols[-2].replace(",", ""))
    return out


def test_gpu_hours_charge_stacked_runs_at_the_stacked_rate_and_the_others_at_the_rate_alone(monkeypatch):
    """GPU-hours = FLOPs / measured FLOP/s / 3600, each run at the rate of how it trains (in a
    stack of seeds or alone); a run shared by notebooks is charged to the first; on a CPU
    machine its wall hours = FLOPs / the CPU's rate / 3600."""
    import dataclasses
    import re

    base = E.static_rate("smoke", "hrl_lrl_fi", 0.5, "x")
    alone = dataclasses.replace(base, experiment="exp-alone")
    stacked = dataclasses.replace(base, experiment="exp-stacked", seed=0, stack_seeds=(0, 1))
    planned = [costs.PlannedRun(("A1_x", "A2_y"), alone, 3600, 1e12),  # 3.6e15 FLOPs
               costs.PlannedRun(("A2_y",), stacked, 7200, 1e12)]  # 7.2e15 FLOPs
    monkeypatch.setattr(costs, "planned_runs", lambda *a, **k: planned)
    monkeypatch.setattr(costs, "measured_throughput",
                        lambda preset, stacked=False: ("GPU S (stacks)", 8e12) if stacked else ("GPU A", 1e12))
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(costs, "cpu_throughput", lambda workers: ("this CPU", 1e11))
    text = costs.describe("smoke")
    assert _hours_table(text) == {"exp-alone": 1.0, "exp-stacked": 0.25}
    assert re.search(r"≈ 1\.25 GPU-hours at 1\.0 TFLOP/s measured on GPU A; the 1 runs trained in stacks of seeds "
                     r"at 8\.0 TFLOP/s", text)
    by_nb = {m[1]: (float(m[2]), float(m[3])) for m in re.finditer(r"^  (A\d_\w+)\s+([\d.]+)\s+([\d.]+)$", text, re.M)}
    assert by_nb == {"A1_x": (1.0, 10.0), "A2_y": (0.2, 20.0)}  # 0.25 h printed to one decimal
    assert "total on this machine: ≈ 30.00 h of training wall time" in text


def test_cpu_throughput_counts_at_most_one_run_per_core(monkeypatch):
    import json

    from paperlib import paths

    monkeypatch.setattr(costs, "matmul_peak", lambda *a, **k: 100e9)
    monkeypatch.setattr("paperlib.executors.cpu_cores", lambda: 2)
    share = json.loads((paths.PACKAGE_ROOT / "benchmarks" / "results.json").read_text())["step"]["useful_flops_fraction"]
    assert costs.cpu_throughput(1)[1] == pytest.approx(100e9 * share)
    assert costs.cpu_throughput(8)[1] == pytest.approx(2 * 100e9 * share)  # 8 workers share 2 cores
    assert costs.cpu_throughput(0)[1] == pytest.approx(100e9 * share)
    assert costs.cpu_throughput(8)[0].startswith("2 run(s) side by side")


def test_the_dry_runs_identity_is_the_stores_whatever_the_experiment_and_tells_taus_apart():
    """Two configs are one run exactly when the store would train them once: the experiment
    folder is no part of a run's identity; temperature plans of different tau are different
    runs, even on task sets whose placeholder sizes would make them all uniform if equal."""
    import dataclasses

    cfg = E.static_rate("smoke", "hrl_lrl_fi", 0.5, "x")
    assert costs._run_identity(cfg) == costs._run_identity(dataclasses.replace(cfg, experiment="y"))
    assert costs._run_identity(cfg) != costs._run_identity(dataclasses.replace(cfg, seed=cfg.seed + 1))
    assert costs._run_identity(cfg) != costs._run_identity(E.static_rate("smoke", "hrl_lrl_fi", 0.25, "x"))
    temps = [dataclasses.replace(cfg, plan={"method": "temperature", "steps": 8, "tau": tau}, fork_at=None, stop_at=None,
                                 prefix_forks=()) for tau in (1, 5, 100)]
    assert len({costs._run_identity(t) for t in temps}) == 3


def test_every_planned_run_with_its_prefixes_trains_its_full_length_once(monkeypatch):
    """A run that continues a shared prefix trains only its steps after the fork; the prefix
    is planned too, and the chain adds up to the run's full length."""
    from paperlib.config import parent_config

    monkeypatch.setattr(costs, "flops_per_step", lambda cfg: 1.0)  # steps only

    planned = costs.planned_runs("smoke", ["A6_fig07_multilingual_lm", "A7_fig09_pretraining_length"])
    by_id = {costs._run_identity(p.config): p for p in planned}
    assert len(by_id) == len(planned)  # counted once each
    forked = [p for p in planned if p.config.fork_at is not None]
    assert forked
    for p in forked:
        steps, cfg = p.steps, p.config
        while cfg.fork_at is not None:
            cfg = parent_config(cfg)
            steps += by_id[costs._run_identity(cfg)].steps
        assert steps == total_steps(p.config)


def test_a_preset_that_stacks_its_seeds_plans_every_seeds_run(monkeypatch):
    """A stack of K seeds is K runs (each one identity in the store), each planned with the
    stack's steps."""
    import dataclasses

    from paperlib import presets

    only = ["A2_fig02_hrl_lrl_fronts"]
    monkeypatch.setattr(costs, "flops_per_step", lambda cfg: 1.0)  # steps only
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    stacked = costs.planned_runs("smoke", only)
    assert all(p.config.stack_seeds for p in stacked)
    by_id = {costs._run_identity(p.config): p for p in stacked}
    for p in stacked:
        assert p.config.seed in p.config.stack_seeds and len(p.config.stack_seeds) > 1
        for seed in p.config.stack_seeds:
            assert by_id[costs._run_identity(dataclasses.replace(p.config, seed=seed))].steps == p.steps


def test_doremis_reference_and_proxy_are_charged_one_runs_length_each_and_a_stored_run_once(monkeypatch):
    """DoReMi trains a reference and a proxy model, one run's length each, alone. The reference
    is a stored run: at smoke, B5's UniMax run is the same run (its budget leaves uniform
    weights), which the store trains once -- so it is counted once (it was counted twice: once
    in the grid, once in DoReMi's 2 x 12 steps)."""
    import dataclasses

    from paperlib.data.tasksets import taskset_of
    from paperlib.doremi import reference_config

    monkeypatch.setattr(costs, "flops_per_step", lambda cfg: 1.0)  # steps only
    for notebook in E.DOREMI_NOTEBOOKS:
        taskset, experiment = E.doremi_taskset(notebook, None)
        proxy = dataclasses.replace(E.doremi_proxy_config("smoke", taskset, experiment), stack_seeds=())
        reference = reference_config(proxy, total_steps(proxy), len(taskset_of(proxy.data).tasks))
        planned = costs.planned_runs("smoke", [notebook])
        steps_of = lambda cfg: [p.steps for p in planned if costs._run_identity(p.config) == costs._run_identity(cfg)]
        assert steps_of(reference) == [total_steps(proxy)]
        assert total_steps(proxy) in steps_of(proxy)  # the proxy's own entry (a grid run may share its settings)
        if notebook == "B5_table4_multilingual_lm":
            [unimax] = [p for p in planned if type(p.config.plan).__name__ == "UniMax"]
            assert costs._run_identity(unimax.config) == costs._run_identity(reference)


def test_doremis_work_is_charged_beside_a_grid_run_with_the_proxys_settings(monkeypatch):
    """At gpu, language modelling's constant-then-inverse-sqrt schedule makes DoReMi's proxy
    settings those of a tau=1 prefix B5's grid trains (same identity): the proxy and reference
    is charged beside it, not folded into it (DoReMi's steps vanished from the total)."""
    import dataclasses

    monkeypatch.setattr(costs, "flops_per_step", lambda cfg: 1.0)  # steps only
    notebook = "B5_table4_multilingual_lm"
    taskset, experiment = E.doremi_taskset(notebook, None)
    proxy = dataclasses.replace(E.doremi_proxy_config("gpu", taskset, experiment), stack_seeds=())
    same = sorted(p.steps for p in costs.planned_runs("gpu", [notebook])
                  if costs._run_identity(p.config) == costs._run_identity(proxy))
    assert same == [total_steps(proxy), total_steps(proxy)]  # the grid's prefix, and DoReMi's proxy


def test_a_deeper_variant_is_charged_its_base_presets_steps_per_second_divided_by_the_ratio_of_layers(tmp_path, monkeypatch):
    import json

    from paperlib import paths, presets

    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "results_gpu_x.json").write_text(json.dumps({
        "device": "GPU X", "side_by_side": {"preset": "gpu", "workers": 4, "aggregate_steps_per_s": 30.0}}))
    monkeypatch.setattr(paths, "PACKAGE_ROOT", tmp_path)
    monkeypatch.setattr(costs, "length_share", lambda cfg: 0.5)  # the measured pair's mean length
    monkeypatch.setattr(costs, "flops_per_example", lambda model, kind, vocab: 1e9 * model.layers)
    base, deep = presets.get("gpu"), presets.get("gpu6")
    assert deep.varies == "gpu" and deep.model.layers == 2 * base.model.layers
    where, rate = costs.measured_throughput("gpu")
    assert rate == pytest.approx(30.0 * 1e9 * base.model.layers * base.batch_size * 0.5)
    where6, rate6 = costs.measured_throughput("gpu6")
    steps_per_s = 30.0 * base.model.layers / deep.model.layers
    assert rate6 == pytest.approx(steps_per_s * 1e9 * deep.model.layers * deep.batch_size * 0.5)
    assert "measured on gpu" in where6


def test_flops_per_step_are_the_models_per_example_times_batch_at_the_mean_length(monkeypatch):
    import dataclasses

    from paperlib.models import ModelConfig

    model = ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16)
    cfg = dataclasses.replace(E.static_rate("smoke", "hrl_lrl_fi", 0.5, "x"), model=model)
    monkeypatch.setattr(costs, "length_share", lambda c: 0.25)
    full = costs.flops_per_example(model, "translation", costs._vocab(cfg))
    assert costs.flops_per_step(cfg) == pytest.approx(full * cfg.batch_size * 0.25)
    # a config's own vocabulary size, not its preset's
    own = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, vocab_size=1234))
    assert costs.flops_per_step(own) == pytest.approx(costs.flops_per_example(model, "translation", 1234) * cfg.batch_size * 0.25)
    assert costs.flops_per_step(own) != costs.flops_per_step(cfg)


def test_a_tasks_length_share_is_at_most_full_length():
    """FLOPs are counted at full length, an upper bound: a task whose mean example is longer
    (counted before truncation) counts at full length, not above."""
    tasks = {"a": {"train": {"examples": 10, "tokens": 10 * 300}}, "b": {"train": {"examples": 4, "tokens": 4 * 32}}}
    assert costs._tasks_share(tasks, 64, 2) == pytest.approx((1.0 + 0.25) / 2)
    assert costs._tasks_share({}, 64, 2) is None


def test_a_stack_listed_by_its_first_seed_plans_the_runs_of_all_its_seeds(monkeypatch):
    """A notebook's grid may name a stack by one config: the other seeds of its stack train
    with it, each a run of its own in the store, their shared prefixes too."""
    import dataclasses

    from paperlib.config import stack_configs

    cfg = dataclasses.replace(E.static_rate("smoke", "hrl_lrl_fi", 0.5, "x"), seed=0, stack_seeds=(0, 1, 2))
    assert cfg.fork_at is not None  # continues a shared prefix
    monkeypatch.setattr(E, "notebook_runs", lambda preset, parameters=None: {"A2_fig02_hrl_lrl_fronts": [(cfg, {})]})
    monkeypatch.setattr(costs, "flops_per_step", lambda c: 1.0)
    planned = costs.planned_runs("smoke", ["A2_fig02_hrl_lrl_fronts"])
    assert sorted((p.config.seed, p.steps) for p in planned) == sorted(
        [(s, total_steps(cfg) - cfg.fork_at) for s in (0, 1, 2)] + [(s, cfg.fork_at) for s in (0, 1, 2)])
    assert {costs._run_identity(c) for c in stack_configs(cfg)} <= {costs._run_identity(p.config) for p in planned}


def test_every_row_of_the_dry_run_table_is_a_different_run():
    """Runs that differ only in what the other columns do not show (Fig. 9's pre-training
    lengths, B2's clipping) are told apart by their identity."""
    text = costs.describe("smoke")
    table = text.split("\n\n")[1].splitlines()[1:]
    assert len(table) == len(costs.planned_runs("smoke")) and len(set(table)) == len(table)
