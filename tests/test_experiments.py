"""The experiment settings share runs where the papers' methods share training."""

import pytest

from paperlib import doremi
from paperlib import experiments as E
from paperlib import store
from paperlib.config import parent_config


def _hash(cfg):
    return store.resolve(cfg)[2]


@pytest.mark.network  # needs the smoke DDTP data (prepared on first use)
def test_shared_prefixes():
    p = "smoke"
    # the restart baseline continues the static run it restarts
    assert _hash(parent_config(E.restart_rate(p, "hrl_lrl_fi", 0.3, "x"))) == _hash(
        parent_config(E.static_rate(p, "hrl_lrl_fi", 0.3, "x")))
    # Order Matters' pre-training is one run for every fine-tuning rate
    assert _hash(parent_config(E.order_matters_rate(p, "hrl_lrl_fi", 0.3, "x"))) == _hash(
        parent_config(E.order_matters_rate(p, "hrl_lrl_fi", 0.7, "y")))
    # COOLDOWN continues static tau=5 from its switch
    assert _hash(parent_config(E.cooldown_run(p, "one_to_many", "x"))) == _hash(
        parent_config(E.temperature_run(p, "one_to_many", 5.0, "x")))
    # ... and different methods are different runs
    assert _hash(E.static_rate(p, "hrl_lrl_fi", 0.3, "x")) != _hash(E.restart_rate(p, "hrl_lrl_fi", 0.3, "x"))


def test_grid_labels_and_seeds():
    grid = E.order_matters_nmt_grid("smoke", ["hrl_lrl_fi"], "x")
    methods = {(g[1]["method"], g[1]["rate"], g[1]["seed"]) for g in grid}
    assert ("static sampling", 0.7, 1) in methods and ("pre-train + joint FT", 0.7, 1) in methods  # second seed at the middle rate
    assert ("restart", 0.3, 0) in methods
    assert all(c.experiment == "x-smoke" for c, _ in grid)
    # further seeds only on the task sets that measure the spread (default: the first)
    two = E.order_matters_nmt_grid("smoke", ["hrl_lrl_fi", "hrl_lrl_sv"], "x")
    assert {g[1]["seed"] for g in two if g[1]["taskset"] == "hrl_lrl_sv"} == {0}
    assert {g[1]["seed"] for g in two if g[1]["taskset"] == "hrl_lrl_fi"} == {0, 1}
    # the restart control runs wherever static does, with its seed (a claim compares them seed by seed)
    arms = {m: {(r, s) for mm, r, s in methods if mm == m} for m in ("static sampling", "restart")}
    assert arms["restart"] == arms["static sampling"] and (0.7, 1) in arms["restart"]
    restarts = [c for c, labels in grid if labels["method"] == "restart"]
    from paperlib.config import parent_config

    assert all(parent_config(c).seed == c.seed for c in restarts)


def test_gpu_fronts_have_every_seed_at_every_rate():
    s = E.scale("gpu")
    grid = E.order_matters_nmt_grid("gpu", ["hrl_lrl_es"], "x")
    for method in ("static sampling", "pre-train + joint FT", "restart"):
        have = sorted((labels["rate"], labels["seed"]) for _, labels in grid if labels["method"] == method)
        assert have == sorted((r, seed) for r in s.rate_grid for seed in s.seeds), method


def test_bleu_only_where_a_figure_reads_it():
    assert all(c.eval.bleu for c, _ in E.order_matters_nmt_grid("smoke", ["hrl_lrl_fi"], "x"))  # Order Matters Figs. 27-28
    assert E.static_rate("smoke", "hrl_hrl", 0.5, "x").eval.bleu                      # Fig. 26, from A1's runs
    assert not E.temperature_run("smoke", "hrl_hrl", 5.0, "x").eval.bleu               # no Upsample or Upweight? figure
    assert not E.temperature_run("smoke", "hrl_lrl_fi", 5.0, "x").eval.bleu
    assert E.temperature_run("smoke", "one_to_many", 5.0, "x").eval.bleu              # Table 3
    assert not E.temperature_run("smoke", "lm_upsample", 5.0, "x").eval.bleu


def test_bad_requests():
    with pytest.raises(ValueError, match="a two-task set is needed"):
        E.hrl_lrl("one_to_many")
    with pytest.raises(ValueError, match="unknown preset"):
        E.scale("huge")


def test_best_learning_rate_keeps_one_run_per_point():
    import pandas as pd

    rows = [dict(taskset="t", method="m", rate=r, seed=0, lr=lr, **{"valid_loss.a": v + r, "valid_loss.b": 1.0})
            for r in (0.2, 0.8) for lr, v in ((1e-3, 3.0), (2e-3, 2.0), (3e-3, 2.5))]
    best = E.best_learning_rate(pd.DataFrame(rows))
    assert sorted(zip(best.rate, best.lr)) == [(0.2, 2e-3), (0.8, 2e-3)]
    one = pd.DataFrame(rows[:1])
    assert E.best_learning_rate(one).equals(one)  # one learning rate (mini): unchanged


def test_paper_grid_sweeps_the_papers_learning_rates_and_mini_keeps_one():
    paper = E.order_matters_nmt_grid("paper", ["hrl_lrl_fi"], "x")
    assert sorted({c.optim.lr for c, _ in paper}) == [2.5e-4, 5e-4, 2.5e-3, 5e-3, 7.5e-3]
    assert all(c.batch_size == 1024 and c.plan.lr_schedule == "cosine" for c, _ in paper)
    assert {c.optim.lr for c, _ in E.order_matters_nmt_grid("mini", ["hrl_lrl_fi"], "x")} == {E.scale("mini").lr}


def test_figures_draw_the_presets_pairs_unless_a_notebook_names_others():
    from paperlib import experiments as E

    assert E.pairs("mini") == ["hrl_lrl_es400"] and E.pairs("smoke") == ["hrl_lrl_fi", "hrl_lrl_sv"]
    # en-fi's 138 pairs teach a model nothing: the gpu preset uses en-es, first 1,000 pairs of it
    # (its LRL overfits within a run), then all 4.3k (it did not overfit in 4,000 steps)
    assert E.pairs("gpu") == ["hrl_lrl_es1k", "hrl_lrl_es"] and E.pair("gpu") == "hrl_lrl_es1k"
    assert E.pairs("gpu", ["hrl_lrl_sv"]) == ["hrl_lrl_sv"]
    gpu_sets = {c.data.taskset for grid in E.notebook_runs("gpu").values() for c, _ in grid
                if c.data.taskset.startswith("hrl_lrl")}
    assert gpu_sets == {"hrl_lrl_es1k", "hrl_lrl_es"}
    with pytest.raises(ValueError, match="two-task set"):
        E.pairs("mini", ["one_to_many"])


def test_reproduce_picks_gpu_where_cuda_is_and_says_why():
    from paperlib.presets import choose

    assert choose(None, "NVIDIA H200") == ("gpu", "preset gpu: a CUDA device is there (NVIDIA H200); --preset mini "
                                                   "for the CPU size")
    name, why = choose(None, None)
    assert name == "mini" and "no CUDA device" in why
    assert choose("smoke", "NVIDIA H200")[0] == "smoke"  # asked for wins
    with pytest.raises(ValueError, match="valid presets"):
        choose("huge", None)


def test_cheap_controls_run_every_seed_so_their_verdicts_can_be_judged():
    """A single-seed arm is inconclusive (paperlib.claims.core): the fine-tune-only forks,
    the dropout control and the unclipped pair run the preset's every seed."""
    s = E.scale("gpu")

    def seeds(grid, **want):
        return sorted(labels["seed"] for _, labels in grid if all(labels.get(k) == v for k, v in want.items()))

    assert seeds(E.finetune_only_runs("gpu"), method="fine-tune on LRL only") == list(s.seeds)
    assert seeds(E.regularisation_runs("gpu"), method="static sampling, dropout 0.3", rate=0.3) == list(s.seeds)
    assert seeds(E.sampling_vs_weighting_runs("gpu"), method="scalarization", clipping="off") == list(s.seeds)
    # Fig. 1's HRL+HRL fronts keep the further seeds at the middle rate, even on gpu
    a1 = E.hrl_hrl_runs("gpu")
    assert seeds(a1, method="static sampling", rate=0.2) == [0] and seeds(a1, method="static sampling", rate=0.5) == [0, 1, 2]


def test_cooldown_runs_do_not_clip_as_the_paper_and_share_fig4s_unclipped_runs():
    grid = E.cooldown_runs("gpu")
    assert all(c.optim.clip_norm is None for c, _ in grid)
    tau5 = {c.seed: c for c, labels in grid if labels["method"] == "τ=5"}
    unclipped = {c.seed: c for c, labels in E.sampling_vs_weighting_runs("gpu")
                 if labels["clipping"] == "off" and labels["method"] == "temperature sampling"}
    assert tau5 == unclipped  # the same runs: trained once for both figures


def test_a_six_layer_preset_is_its_three_layer_one_with_the_deeper_model():
    """Order Matters Appendix A.2's 6-layer figures: gpu6 runs A1, A2, A3 and A8 on the gpu
    preset's runs with 6+6 layers (nothing else changes), paper6 with Table 4's 300k + 50k
    steps; the dry run charges gpu6 at gpu's measured rate and says so."""
    import dataclasses

    import json

    from paperlib import costs, paths, presets

    gpu, gpu6 = presets.get("gpu"), presets.get("gpu6")
    assert gpu6.model == dataclasses.replace(gpu.model, layers=6) and gpu6.varies == "gpu"
    assert set(gpu6.notebooks) == {"A1_fig01_hrl_hrl_fronts", "A2_fig02_hrl_lrl_fronts", "A3_fig03_efficiency",
                                   "A8_fig26_bleu_fronts"}
    assert (presets.get("paper6").pretrain, presets.get("paper6").steps) == (300_000, 350_000)
    three, six = (E.notebook_runs(p)["A2_fig02_hrl_lrl_fronts"] for p in ("gpu", "gpu6"))
    assert len(three) == len(six)
    for (c3, l3), (c6, l6) in zip(three, six):
        assert l3 == l6 and c6.model.layers == 6
        assert dataclasses.replace(c6, model=c3.model, experiment=c3.experiment,
                                   data=dataclasses.replace(c6.data, preset="gpu")) == c3
    # benchmarks/results_gpu_h200.json measured gpu's steps/s; gpu6's steps are charged twice as long (launch-bound)
    where, rate = costs.measured_throughput("gpu6")
    assert "(measured on gpu; 6-layer steps charged 2x as long, unmeasured)" in where
    calibration = E.static_rate("gpu6", gpu6.hrl_lrl_sets[0], gpu6.rate_grid[0], "calibration")
    per_step = costs.flops_per_example(gpu6.model, "translation", gpu6.vocab_size) * gpu6.batch_size * \
        costs.length_share(calibration)
    steps_per_s = json.loads((paths.PACKAGE_ROOT / "benchmarks" / "results_gpu_h200.json").read_text())["side_by_side"]
    assert rate / per_step == pytest.approx(steps_per_s["aggregate_steps_per_s"] / 2)


def test_fronts_at_temperatures_share_their_static_runs_with_cooldown(monkeypatch):
    """A preset whose Order Matters fronts sample at τ = 1 and 5 (`front_taus`): the fronts'
    static runs are Upsample or Upweight? Fig. 1's τ=1 and τ=5 arms, COOLDOWN continues τ=5's
    run at the switch and the restart baseline at the pre-training length -- each shared
    step is trained once (identities as the store keys them, without preparing data)."""
    import dataclasses

    from paperlib import costs, presets

    s = dataclasses.replace(presets.get("smoke"), front_taus=(1.0, 5.0), seeds_at_every_rate=True)
    monkeypatch.setitem(presets.PRESETS, "smoke", s)
    assert E.shares_fig1_with_fronts("smoke") and s.switch < s.pretrain
    grid = E.order_matters_nmt_grid("smoke", ["hrl_lrl_fi"])
    assert {labels["tau"] for _, labels in grid} == {1.0, 5.0} and not any("rate" in labels for _, labels in grid)
    static = {(labels["tau"], labels["seed"]): c for c, labels in grid if labels["method"] == "static sampling"}
    fig1 = E.cooldown_runs("smoke", "hrl_lrl_fi")
    arms = {(labels["method"], labels["seed"]): c for c, labels in fig1}
    for seed in s.seeds:
        assert arms[("τ=1 (proportional)", seed)] == static[(1.0, seed)]
        assert arms[("τ=5", seed)] == static[(5.0, seed)]
        cooldown = arms[("COOLDOWN (5→1)", seed)]
        assert cooldown.fork_at == s.switch and static[(5.0, seed)].prefix_forks == (s.switch,)
        switch_prefix = parent_config(parent_config(static[(5.0, seed)]))
        assert costs._run_identity(parent_config(cooldown)) == costs._run_identity(switch_prefix)
    restart = next(c for c, labels in grid if labels["method"] == "restart" and labels["tau"] == 5.0)
    assert costs._run_identity(parent_config(restart)) == costs._run_identity(parent_config(static[(5.0, 0)]))
    # the dry run charges every shared step once: static runs 16 steps each (in three pieces),
    # their restarts and the fine-tunings 4 after the pre-training, COOLDOWN 6 after the switch
    monkeypatch.setattr(presets.Preset, "runs_notebook", lambda self, nb: nb in ("A2_fig02_hrl_lrl_fronts", "B3_fig01_cooldown_lrl"))
    planned = costs.planned_runs("smoke")
    a2 = E.order_matters_nmt_grid("smoke", E.pairs("smoke"))  # both smoke pairs; Fig. 1 draws the first
    n_static = sum(labels["method"] == "static sampling" for _, labels in a2)
    pretrainings = len({(labels["taskset"], labels["seed"]) for _, labels in a2 if labels["method"] == "pre-train + joint FT"})
    fine_tunings = sum(labels["method"] in ("pre-train + joint FT", "restart") for _, labels in a2)
    assert sum(r.steps for r in planned) == (n_static * s.steps + pretrainings * s.pretrain + fine_tunings * s.finetune
                                             + len(s.seeds) * (s.steps - s.switch))


def test_the_dropout_control_sits_at_the_fronts_points(monkeypatch):
    """Order Matters Fig. 5's dropout arms are static runs at the fronts' own points: rates, or
    temperatures where the fronts sample at those (`front_taus`), labelled alike so that
    `front_points` gives every row its rate."""
    import dataclasses

    from paperlib import presets

    rates = {labels.get("rate") for _, labels in E.regularisation_runs("smoke") if "dropout 0.3" in labels["method"]}
    assert rates <= set(E.scale("smoke").rate_grid)
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), front_taus=(1.0, 5.0)))
    grid = E.regularisation_runs("smoke")
    dropout = [(c, labels) for c, labels in grid if "dropout 0.3" in labels["method"]]
    assert {labels["tau"] for _, labels in dropout} == {1.0, 5.0} and not any("rate" in labels for _, labels in grid)
    assert all(c.model.dropout == 0.3 and c.plan.method == "temperature" for c, _ in dropout)


def test_fig3_measures_fig1s_tau_run_at_the_switch_and_the_end():
    """Upsample or Upweight? Fig. 3 trains nothing of its own: its checkpoints are Fig. 1's τ=5
    run (seed 0) at COOLDOWN's switch and at its end -- the Order Matters front's static run
    where the preset shares it (mini), Fig. 1's unclipped run elsewhere (gpu)."""
    from paperlib.config import total_steps

    for preset in ("mini", "gpu"):
        fig1 = {(l["method"], l["seed"]): c for c, l in E.cooldown_runs(preset)}
        points = E.gradient_variance_checkpoints(preset)
        steps = E.run_length(preset, E.pair(preset))[0]
        assert list(points) == ["init", f"step {steps // 2}", f"step {steps}"]
        end, half = points[f"step {steps}"], points[f"step {steps // 2}"]
        assert end == fig1[("τ=5", 0)] and total_steps(end) == steps
        assert half.stop_at == steps // 2 == fig1[("COOLDOWN (5→1)", 0)].fork_at  # COOLDOWN's switch
        assert half.plan == end.plan and half.seed == end.seed == 0  # the τ run itself, stopped there
        assert (end.optim.clip_norm is None) == (preset == "gpu")


SINGLE_SEED_ARMS = ("A6_fig07_multilingual_lm", "A7_fig09_pretraining_length", "B4_table3_one_to_many",
                    "B5_table4_multilingual_lm", "B6_fig05_07_schedules")


def test_single_seed_arms_read_every_seed_of_a_stacking_preset_at_no_extra_run(monkeypatch):
    """`E.arm_seeds`: the arms the budget runs at one seed (tables, Figs. 7-9, Figs. 5-7) read
    every seed where the preset stacks them -- those seeds train beside the first anyway, so
    the plan keeps the same runs -- and the first alone otherwise."""
    import dataclasses
    import json

    from paperlib import costs, presets

    def grid_seeds():
        runs = E.notebook_runs("smoke")
        return {nb: sorted({labels.get("seed", cfg.seed) for cfg, labels in runs[nb]}) for nb in SINGLE_SEED_ARMS}

    def planned():
        return {json.dumps(r.config.identity(), sort_keys=True, default=str)
                for r in costs.planned_runs("smoke", only=list(SINGLE_SEED_ARMS))}

    seeds = presets.get("smoke").seeds
    assert E.arm_seeds("smoke") == seeds[:1] and all(s == [seeds[0]] for s in grid_seeds().values())
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    assert E.arm_seeds("smoke") == seeds and all(s == sorted(seeds) for s in grid_seeds().values())
    for nb in SINGLE_SEED_ARMS:
        for cfg, labels in E.notebook_runs("smoke")[nb]:
            assert labels["seed"] == cfg.seed and cfg.stack_seeds == seeds
    every_seed = planned()
    monkeypatch.setattr(E, "arm_seeds", lambda preset: E.scale(preset).seeds[:1])
    assert planned() == every_seed  # the other seeds were planned already, as the first one's stack


def _configurations_by_seed(runs):
    """{seed: the set of labels (seed left out) read at that seed}."""
    out = {}
    for cfg, labels in runs:
        out.setdefault(labels.get("seed", cfg.seed), set()).add(
            tuple(sorted((k, str(v)) for k, v in labels.items() if k != "seed")))
    return out


def test_fronts_and_fig4_read_every_seed_at_every_point_of_a_stacking_preset(monkeypatch):
    """The fronts' points off the seeded middle rate and pair (Order Matters Figs. 1-2) and
    Fig. 4's smaller τ run at the first seed alone; where the preset stacks seeds they read
    every seed at every point, and the plan trains no run more than before."""
    import dataclasses
    import json

    from paperlib import costs, presets

    notebooks = ("A1_fig01_hrl_hrl_fronts", "A2_fig02_hrl_lrl_fronts", "B2_fig04_sampling_vs_weighting")

    def planned():
        return {json.dumps(r.config.identity(), sort_keys=True, default=str)
                for r in costs.planned_runs("smoke", only=list(notebooks))}

    seeds = presets.get("smoke").seeds
    for nb in notebooks:  # unstacked: the further seeds read part of the grid only
        by_seed = _configurations_by_seed(E.notebook_runs("smoke")[nb])
        assert set(by_seed) == set(seeds) and len(by_seed[seeds[1]]) < len(by_seed[seeds[0]]), nb
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    for nb in notebooks:
        by_seed = _configurations_by_seed(E.notebook_runs("smoke")[nb])
        assert all(by_seed[s] == by_seed[seeds[0]] for s in seeds), nb
    every_seed = planned()
    monkeypatch.setattr(E, "arm_seeds", lambda preset: E.scale(preset).seeds[:1])
    assert planned() == every_seed  # the other seeds were planned already, as the first one's stack


# ------------------------------------------------------------------ mutation audit

def test_front_runs_sample_the_lrl_at_its_rate_and_pretrain_on_the_hrl():
    """A two-task set names its HRL first: an LRL rate r is the mixture (1 - r, r); Order
    Matters pre-trains on the HRL and fine-tune-only trains on the LRL after the reset."""
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    s = E.scale("smoke")
    assert E.static_rate("smoke", "hrl_lrl_fi", 0.3, "x").plan.rates == pytest.approx((0.7, 0.3))
    om = E.order_matters_rate("smoke", "hrl_lrl_fi", 0.3, "x")
    assert om.plan.pretrain_on == (hrl,) and om.plan.rates == pytest.approx((0.7, 0.3)) and om.fork_at == s.pretrain
    restart = E.restart_rate("smoke", "hrl_lrl_fi", 0.3, "x")
    assert (restart.plan.first_steps, restart.plan.second_steps) == (s.pretrain, s.finetune)
    ft = E.finetune_only("smoke", "hrl_lrl_fi", "x")
    assert ft.plan.pretrain_on == (hrl,) and ft.plan.finetune_on == (lrl,) and ft.fork_at == s.pretrain
    for point in ({}, {"lrl_rate": 0.3, "tau": 5.0}):  # a point is a rate or a temperature
        with pytest.raises(ValueError, match="an LRL rate or a temperature: give exactly one"):
            E.static_rate("smoke", "hrl_lrl_fi", experiment="x", **point)


def test_temperature_schedules_run_the_whole_length_and_switch_halfway():
    """COOLDOWN and the increasing ablation switch at half the run (paper B: 30k of 60k), in
    opposite directions; a static τ run forks there (or at the pre-training length) so that
    COOLDOWN or the restart baseline continue it; the LM restart baseline ends where a run does."""
    for taskset in ("one_to_many", "lm_upsample"):
        steps, pre, _ = E.run_length("smoke", taskset)
        assert E.temperature_run("smoke", taskset, 5.0, "x").fork_at == steps // 2
        assert E.temperature_run("smoke", taskset, 5.0, "x", fork_at="pretrain").fork_at == pre
        assert E.temperature_run("smoke", taskset, 5.0, "x", fork_at=None).fork_at is None
        cd = E.cooldown_run("smoke", taskset, "x").plan
        inc = E.increasing_run("smoke", taskset, "x").plan
        assert cd.switch == inc.switch == steps // 2
        assert (cd.tau_high, cd.tau_low) == (5.0, 1.0) == (inc.tau_high, inc.tau_low)
        sizes = {"a": 1000, "b": 10}
        assert inc.plan(sizes, 4).mixture_at(0).probs == pytest.approx((1000 / 1010, 10 / 1010))  # τ=1 first
        restart = E.restart_tau("smoke", taskset, 3.0, "x")
        assert restart.plan.total_steps == steps and restart.plan.first_steps == pre == restart.fork_at


def test_method_table_runs_are_the_methods_they_are_labelled():
    s = E.scale("smoke")
    runs = {labels["method"]: cfg for cfg, labels in E.method_table_runs("smoke", "one_to_many", n_high=3)}
    assert runs["τ=100 (≈uniform)"].plan.tau == 100.0 and runs["τ=5"].plan.tau == 5.0
    assert runs["τ=1 (proportional)"].plan.tau == 1.0
    tasks = E.get_taskset("one_to_many").tasks
    assert runs["Order Matters"].plan.pretrain_on == tuple(tasks[:3])  # the n_high high-resource pairs
    assert runs["Order Matters"].plan.tau == 5.0 and runs["COOLDOWN"].plan.method == "cooldown"
    assert runs["UniMax"].plan.max_epochs == 5
    assert E.unimax_run("smoke", "one_to_many", "x", max_epochs=3).plan.max_epochs == 3
    assert all(c.plan.total_steps == s.steps for c in runs.values())


def test_doremi_runs_sample_each_task_at_its_own_learned_weight():
    tasks = E.get_taskset("lm_upsample").tasks
    weights = {t: w for t, w in zip(reversed(tasks), (0.1, 0.2, 0.3, 0.4))}  # given in another order
    (cfg, labels), *_ = E.doremi_runs("smoke", "lm_upsample", weights)
    assert cfg.plan.weights == tuple(weights[t] for t in tasks) and labels["method"] == "DoReMi"
    proxy = E.doremi_proxy_config("mini", "lm_upsample")
    s = E.scale("mini")
    assert proxy.plan.steps == round(s.lm_steps * s.doremi_fraction) and proxy.plan.tau == 1.0
    # proxy and reference train with the schedule of the runs they serve (LM's is not MT's)
    assert proxy.plan.lr_schedule == s.lm_lr_schedule != s.lr_schedule
    assert E.doremi_proxy_config("paper", "one_to_many").plan.lr_schedule == E.scale("paper").lr_schedule == "cosine"
    assert doremi.reference_config(proxy, 12, 4).plan.lr_schedule == s.lm_lr_schedule
    assert not E.doremi_proxy_config("smoke", "one_to_many").eval.bleu  # only its validation losses are read
    assert E.doremi_taskset("B4_table3_one_to_many") == ("one_to_many", "upsample_one_to_many")
    assert E.doremi_taskset("B4_table3_one_to_many", {"B4_table3_one_to_many": {"taskset": "hrl_hrl"}})[0] == "hrl_hrl"


def test_the_dense_schedules_change_tau_as_their_labels_say():
    _, lm = E.schedule_comparison_runs("smoke")
    every = {labels["schedule"]: cfg.plan.every for cfg, labels in lm if cfg.plan.method == "dense"}
    assert every == {"dense, every step": 1, "dense, every 10%": max(1, E.scale("smoke").lm_steps // 10)}


def test_notebook_parameters_reach_the_runs_they_name():
    runs = E.notebook_runs("smoke", {"B4_table3_one_to_many": {"taskset": "one_to_many", "n_high": 3}})
    om = [c for c, labels in runs["B4_table3_one_to_many"] if labels["method"] == "Order Matters"]
    assert om and all(len(c.plan.pretrain_on) == 3 for c in om)
    default = E.notebook_runs("smoke")["B4_table3_one_to_many"]
    assert all(len(c.plan.pretrain_on) == 2 for c, labels in default if labels["method"] == "Order Matters")


def test_fig1_shares_the_fronts_runs_only_on_the_presets_own_pair():
    assert E.shares_fig1_with_fronts("mini")  # mini's fronts sample at τ = 1 and 5 on hrl_lrl_es400
    assert not E.shares_fig1_with_fronts("mini", "hrl_lrl_fi")  # another pair: Fig. 1 trains its own
    assert not E.shares_fig1_with_fronts("gpu")  # the gpu fronts sample at rates
    own = {labels["method"]: c for c, labels in E.cooldown_runs("mini", "hrl_lrl_fi") if labels["seed"] == 0}
    assert own["τ=5"].optim.clip_norm is None and own["τ=5"].plan.method == "temperature"


def test_pretraining_lengths_vary_around_the_default_with_the_other_budget_fixed():
    """Order Matters Fig. 9: LM runs keep the total budget, NMT runs keep the fine-tuning
    length; the pre-training lengths differ, the default one among them."""
    s = E.scale("smoke")
    lm, nmt = E.pretraining_length_runs("smoke")
    assert all(c.plan.total_steps == s.lm_steps for c, _ in lm)
    assert all(c.plan.finetune_steps == s.finetune and c.plan.pretrain_steps == c.fork_at == labels["pretrain"]
               for c, labels in nmt)
    lengths = {labels["pretrain"] for _, labels in nmt}
    assert s.pretrain in lengths and min(lengths) < s.pretrain < max(lengths)  # shorter and longer (Fig. 9b)
    assert len({labels["pretrain"] for _, labels in lm}) >= 2
    assert E.order_matters_tau_run("smoke", "lm_upsample", "x", 5.0, pretrain=3).plan.pretrain_steps == 3


def test_restart_rates_and_given_rates_override_the_presets_points():
    grid = E.order_matters_nmt_grid("smoke", ["hrl_lrl_fi"], "x", restart_rates=[0.5])
    assert {labels["rate"] for _, labels in grid if labels["method"] == "restart"} == {0.5}
    # a preset whose fronts sample at temperatures still runs rates when a notebook gives them
    mini = E.order_matters_nmt_grid("mini", ["hrl_lrl_es400"], "x", rates=[0.1, 0.5])
    assert all("rate" in labels and "tau" not in labels for _, labels in mini)
    assert {labels["rate"] for _, labels in mini} == {0.1, 0.5}
    # rates for the restart of a front of temperatures were silently dropped: now one line
    with pytest.raises(ValueError, match="restart_rates are LRL rates, but this front samples at temperatures"):
        E.order_matters_nmt_grid("mini", ["hrl_lrl_es400"], "x", restart_rates=[0.5])


def test_only_the_presets_seeds_are_stacked(monkeypatch):
    import dataclasses

    from paperlib import presets

    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    assert E.static_rate("smoke", "hrl_lrl_fi", 0.3, "x", seed=1).stack_seeds == (0, 1)
    assert E.static_rate("smoke", "hrl_lrl_fi", 0.3, "x", seed=7).stack_seeds == ()  # a seed of its own trains alone


def test_lrl_share_is_read_from_the_last_phase_of_the_recorded_plan(tmp_path):
    import json
    from types import SimpleNamespace

    from paperlib import methods

    plan = methods.OrderMatters(6, 4, "en-it", rates=(0.7, 0.3)).plan({"en-it": 1000, "en-fi": 10}, 4)
    (tmp_path / "config.json").write_text(json.dumps({"plan": plan.describe()}))
    assert E.lrl_share(SimpleNamespace(dir=tmp_path)) == pytest.approx(0.3)  # the fine-tuning mixture, not pre-training's


def test_best_learning_rate_is_chosen_per_seed():
    import pandas as pd

    rows = [dict(taskset="t", method="m", rate=0.5, seed=seed, lr=lr, **{"valid_loss.a": loss})
            for seed, losses in ((0, (2.0, 3.0)), (1, (3.0, 2.0))) for lr, loss in zip((1e-3, 2e-3), losses)]
    best = E.best_learning_rate(pd.DataFrame(rows))
    assert sorted(zip(best.seed, best.lr)) == [(0, 1e-3), (1, 2e-3)]


def test_pair_names_give_the_subsampled_lrl_size():
    assert E.pair_name("hrl_lrl_es400") == "en-it (high) + en-es (low, 0.4k pairs)"
    assert E.pair_name("hrl_lrl_fi") == "en-it (high) + en-fi (low)"


def test_preset_properties_and_checks():
    import dataclasses

    from paperlib import presets

    mini = presets.get("mini")
    assert mini.examples_per_run == mini.steps * mini.batch_size and mini.finetune == mini.steps - mini.pretrain
    assert mini.fraction("not_a_taskset") == 1.0 and mini.fraction("hrl_lrl_es400") == 0.15
    assert presets.get("gpu").runs_notebook("B5_table4_multilingual_lm")  # gpu runs every notebook
    assert not mini.runs_notebook("B5_table4_multilingual_lm")
    with pytest.raises(ValueError, match="stack_seeds stacks the seeds of a configuration, but it has 1"):
        dataclasses.replace(mini, seeds=(0,), stack_seeds=True)
    with pytest.raises(ValueError, match="LM blocks of 32 tokens but model.max_len 64"):
        dataclasses.replace(mini, block_size=32)


@pytest.mark.parametrize("preset, steps", [("mini", 37_500), ("gpu", 341_000), ("gpu6", 118_000)])
def test_presets_plan_the_steps_their_documentation_states(preset, steps, monkeypatch):
    """presets.py's sizing notes: mini 37,500 steps (per seed a pre-training of 2,500, static
    τ=1 and τ=5 of 3,000, five continuations of 500 and COOLDOWN's 1,500), gpu 341k, gpu6 118k."""
    from paperlib import costs

    monkeypatch.setattr(costs, "flops_per_step", lambda cfg: 0.0)  # steps only: no model to count
    assert sum(r.steps for r in costs.planned_runs(preset)) == steps


def _notebook_defaults(notebook: str) -> dict:
    """The papermill parameters cell of a notebook, as the values it assigns."""
    import json

    from paperlib import paths

    cells = json.loads((paths.PACKAGE_ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    values: dict = {}
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            exec("".join(cell["source"]), {}, values)
    return values


def test_the_runs_planned_for_a_notebook_are_those_its_own_defaults_give():
    """`notebook_runs` (what reproduce trains first and --dry-run costs) stands in for the
    notebooks' own calls: given each notebook's parameter defaults it plans what it plans
    without them, in the experiment folders the notebook names -- else the notebook would
    train other runs than the ones planned (a run's folder is runs/<experiment>-<preset>/)."""
    default = E.notebook_runs("smoke")
    for notebook, grid in default.items():
        given = _notebook_defaults(notebook)
        assert E.notebook_runs("smoke", {notebook: given})[notebook] == grid, notebook
        experiments = {v for k, v in given.items() if k.startswith("experiment")}
        assert {c.experiment for c, _ in grid} <= {f"{e}-smoke" for e in experiments}, notebook
    for notebook, parameters in E.HUB_PARAMETERS.items():
        assert set(parameters) <= set(_notebook_defaults(notebook)), notebook  # parameters the notebook takes


def test_rate_labels_name_a_front_point_by_its_tau_where_the_front_samples_by_temperature():
    import pandas as pd

    by_tau = pd.DataFrame({"rate": [0.0246, 0.0246, 0.3238], "tau": [1.0, 1.0, 5.0]})
    assert E.rate_labels(by_tau, [0.0246, 0.3238]) == ["τ=1 (0.025)", "τ=5 (0.32)"]
    by_rate = pd.DataFrame({"rate": [0.1, 0.3], "tau": [float("nan")] * 2})
    assert E.rate_labels(by_rate, [0.1, 0.3]) == ["0.1", "0.3"]
    assert E.rate_labels(pd.DataFrame({"rate": [0.5]}), [0.5]) == ["0.5"]  # no tau column at all


def test_every_method_label_the_grids_write_is_spelled_in_labels():
    """Claims, advise, plotting and the notebooks select rows by `labels`: a grid writing
    another spelling would leave an arm silently empty."""
    from paperlib import labels as L

    named = {v for k, v in vars(L).items() if k.isupper() and isinstance(v, str)}
    written = {label[column] for preset in ("smoke", "gpu") for grid in E.notebook_runs(preset).values()
               for _, label in grid for column in ("method", "schedule") if column in label}  # Figs. 5-7: schedules
    derived = {m for m in written - named
               if m.startswith(L.with_dropout(0)[:-1]) or m == L.temperature(float(m.rsplit("=", 1)[-1]))}
    assert written - named == derived and derived  # Fig. 5's dropout arm, Fig. 7's temperature arm
    # DoReMi's runs come from its learned weights (`doremi_runs`), after the grids
    assert named - written == {L.DOREMI}
    tasks = E.get_taskset("one_to_many").tasks
    assert E.doremi_runs("smoke", "one_to_many", {t: 1 / len(tasks) for t in tasks})[0][1]["method"] == L.DOREMI


def test_the_plan_follows_the_run_folders_each_notebook_is_given():
    """`reproduce` plans (and --dry-run costs) the runs a notebook reads: given another run
    folder (its `experiment*` papermill parameters), the planned runs move with it."""
    import papermill as pm

    from paperlib import reproduce

    given = {}
    for name, path in reproduce.list_notebooks().items():
        keys = [k for k in pm.inspect_notebook(str(path)) if k.startswith("experiment")]
        given[name] = {k: f"mine_{name[:2]}_{k}" for k in keys}
    planned = E.notebook_runs("smoke", given)
    assert {n for n, folders in given.items() if folders} == {n for n, grid in planned.items() if grid}
    for name, grid in planned.items():
        assert {c.experiment.removesuffix("-smoke") for c, _ in grid} <= set(given[name].values()), name
    assert E.doremi_taskset("B4_table3_one_to_many", given)[1] == given["B4_table3_one_to_many"]["experiment"]
