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
