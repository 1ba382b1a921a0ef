"""`paperlib advise`: the mixture law recovers a known optimum, and says when it cannot rank."""

import numpy as np
import pytest

from paperlib import advise, cli


def surface(method_shift=0.0, noise=0.002, rates=(0.1, 0.3, 0.5, 0.7), seeds=3, seed=0):
    """Runs on a known loss surface: HRL 3 - 0.5 log(1 - r) (worse the less it is sampled),
    LRL 4 - 0.3 log r + method_shift."""
    rng = np.random.default_rng(seed)
    r = np.repeat(np.asarray(rates, float), seeds)
    hrl = 3 - 0.5 * np.log(1 - r) + rng.normal(0, noise, r.size)
    lrl = 4 - 0.3 * np.log(r) + method_shift + rng.normal(0, noise, r.size)
    return advise.Points(r, hrl, lrl)


def test_the_law_recovers_a_known_constrained_optimum():
    # best HRL loss observed: 3 - 0.5 log 0.9 = 3.0527 at r = 0.1; with 0.1 nats of tolerance the
    # HRL constraint binds at -0.5 log(1 - r) = 0.1527, r* = 1 - exp(-0.3054) = 0.263, and the LRL
    # loss falls with r, so r* is the optimum; the second method is 0.2 nats worse everywhere
    a = advise.recommend({advise.STATIC: surface(0.2, seed=1), advise.PRETRAIN: surface()}, tolerance=0.1)
    assert a.method == advise.PRETRAIN and a.rate == pytest.approx(1 - np.exp(-0.3054), abs=0.01)
    assert a.lrl == pytest.approx(4 - 0.3 * np.log(a.rate), abs=0.01)
    assert a.runner_up[0] == advise.STATIC and a.runner_up[2] - a.lrl == pytest.approx(0.2, abs=0.02)
    assert a.reliable and a.band < 0.01 and "shares it was not fit on" in a.held_out


def test_an_interior_optimum_from_overfitting_is_found_with_four_rates():
    """With 4 rates or more the law can bend up: an LRL loss lowest at r = 0.35 (overfitting
    above it), 4 + 0.3 (log r - log 0.35)², is found there (HRL unconstrained)."""
    rng = np.random.default_rng(5)
    r = np.repeat([0.1, 0.2, 0.35, 0.5, 0.7], 3)

    def runs(shift):
        lrl = 4 + shift + 0.3 * (np.log(r) - np.log(0.35)) ** 2 + rng.normal(0, 0.002, r.size)
        return advise.Points(r, 3 - 0.5 * np.log(1 - r), lrl)

    a = advise.recommend({advise.PRETRAIN: runs(0.0), advise.STATIC: runs(0.3)}, tolerance=10.0)
    assert a.method == advise.PRETRAIN and a.rate == pytest.approx(0.35, abs=0.02) and a.reliable


def test_a_ranking_within_the_laws_error_is_marked_unreliable():
    a = advise.recommend({advise.STATIC: surface(0.01, noise=0.3, seed=3), advise.PRETRAIN: surface(noise=0.3, seed=4)},
                         tolerance=1.0)
    assert not a.reliable and "as large as the gap" in a.why and a.band > 0.1


def test_two_rates_are_checked_run_by_run_and_say_so():
    a = advise.recommend({advise.STATIC: surface(0.3, rates=(0.1, 0.5)), advise.PRETRAIN: surface(rates=(0.1, 0.5))},
                         tolerance=0.2)
    assert "grid's own LRL shares only" in a.held_out and a.n_held_out == 12


def test_no_plan_within_the_tolerance_is_one_line():
    with pytest.raises(ValueError, match="raise --tolerance"):
        # the law's HRL loss at any rate is a mean over seeds, above the best single run observed
        advise.recommend({advise.STATIC: surface(noise=0.05, seed=6)}, tolerance=0.0)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="--tolerance must be a finite number of nats >= 0"):
            advise.recommend({advise.STATIC: surface()}, tolerance=bad)


def test_advice_from_runs_that_have_not_learned_is_unreliable_whatever_the_law_says():
    from paperlib.claims import gates

    a = advise.recommend({advise.STATIC: surface(0.2, seed=1), advise.PRETRAIN: surface()}, tolerance=0.1)
    assert a.reliable  # the law ranks the methods well ...
    untrained = gates.learned("en-it", loss=7.5, bigram=5.2)
    out = advise.in_regime(a, untrained)  # ... but on models worse than a bigram it ranks nothing
    assert not out.reliable and out.why.startswith("out of regime: the runs have not learned their HRL")
    assert "validation loss 7.500, bigram baseline 5.200" in out.why
    assert "UNRELIABLE: out of regime" in advise.describe(out, "en-it", "en-es", 0.1)
    assert (out.method, out.rate, out.lrl) == (a.method, a.rate, a.lrl)  # the plan itself is kept, marked
    assert advise.in_regime(a, gates.learned("en-it", loss=3.0, bigram=4.5)) == a
    within = advise.recommend({advise.STATIC: surface(0.01, noise=0.3, seed=3), advise.PRETRAIN: surface(noise=0.3, seed=4)},
                              tolerance=1.0)
    assert "as large as the gap" in advise.in_regime(within, untrained).why  # an earlier reason is kept


def test_advise_on_the_shipped_mini_runs_prints_a_recommendation_with_its_error(capsys, tmp_path):
    from paperlib import paths

    assert cli.main(["advise", "--preset", "mini", "--runs-dir", str(paths.shipped_runs_dir("mini"))]) == 0
    out = capsys.readouterr().out
    assert "recommended: " in out and "held-out prediction error" in out
    assert ("reliable: " in out) or ("UNRELIABLE: " in out)
    assert cli.main(["advise", "--preset", "mini", "--runs-dir", str(tmp_path)]) == 2
    assert "no runs of the hrl_lrl_es400 fronts" in capsys.readouterr().err
    assert cli.main(["advise", "--preset", "mini", "--over", "tau", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err  # which grid is missing, and which notebook trains it
    assert "no runs of the hrl_lrl_es400 τ grid" in err and "--only B2_fig04_sampling_vs_weighting" in err


def test_a_recorded_recommendation_appears_in_the_report(tmp_path):
    from paperlib import paths, report

    a = advise.recommend({advise.STATIC: surface(0.2, seed=1), advise.PRETRAIN: surface()}, tolerance=0.1)
    path = advise.record("C1_advise_sampling_plan", advise.describe(a, "en-it", "en-es", 0.1), paths.records_dir(tmp_path), a)
    md = report.build("mini", {"C1_advise_sampling_plan": "Advice"}, tmp_path)
    assert path.exists() and "**Recommendation**" in md
    assert f"recommended: pre-train + joint FT at LRL rate {a.rate:.2f}" in md and "held-out prediction error" in md


def test_a_tau_grid_is_advised_at_the_share_each_tau_gives_and_said_as_a_tau():
    """Upsample or Upweight?'s τ grid on a known surface in the LRL share p(τ): the law finds
    the share where the HRL constraint binds and says it as the τ that gives it."""
    import pandas as pd

    from paperlib.mixing import temperature

    sizes = {"en-it": 100_000, "en-es": 1_000}
    for tau in (1.0, 2.5, 7.0):  # the inverse of p(low; τ)
        share = temperature([sizes["en-it"], sizes["en-es"]], tau)[1]
        assert advise.tau_of_share(share, sizes["en-it"], sizes["en-es"]) == pytest.approx(tau)
    rng = np.random.default_rng(7)
    rows = []
    for method, shift in ((advise.SAMPLING, 0.0), (advise.WEIGHTING, 0.15)):  # weighting worse everywhere
        for tau in (1.0, 2.0, 3.0, 5.0, 8.0):
            p = temperature([sizes["en-it"], sizes["en-es"]], tau)[1]
            for _ in range(3):
                rows.append({"method": method, "tau": tau, "valid_loss.en-it": 3 - 0.5 * np.log(1 - p) + rng.normal(0, 0.002),
                             "valid_loss.en-es": 4 - 0.3 * np.log(p) + shift + rng.normal(0, 0.002)})
    points = advise.points_from_taus(pd.DataFrame(rows), "en-it", "en-es", sizes)
    a = advise.recommend(points, tolerance=0.1)
    # the best HRL loss is at τ=1 (share 0.0099); the constraint binds at share 1 - exp(-2 (0.1 + 0.00497))
    share = 1 - np.exp(-2 * (0.1 - 0.5 * np.log(1 - temperature([100_000, 1_000], 1.0)[1])))
    assert a.method == advise.SAMPLING and a.rate == pytest.approx(share, abs=0.01) and a.reliable
    text = advise.describe(a, "en-it", "en-es", 0.1, sizes)
    tau = advise.tau_of_share(a.rate, 100_000, 1_000)
    assert 2.9 < tau < 3.4 and f"recommended: temperature sampling at τ = {tau:.2f} (LRL share {a.rate:.3f})" in text
    assert "runner-up:   scalarization at τ = " in text
    equal = advise.points_from_taus(pd.DataFrame(rows), "en-it", "en-es", {"en-it": 500, "en-es": 500})
    with pytest.raises(ValueError, match="no method's runs sit at 2 or more distinct LRL shares"):
        advise.recommend(equal)  # tasks of equal size: every τ gives the same share


def _run(plan):
    from types import SimpleNamespace

    return SimpleNamespace(config=SimpleNamespace(plan=plan))


def test_cooldowns_switch_is_advised_on_the_axis_whose_ends_are_tau_1_and_tau_5():
    """Upsample or Upweight? Fig. 1's runs are three points of one axis: τ = 1 throughout (a
    switch at 0), COOLDOWN (its plan's switch), τ = 5 throughout (1). On a known surface --
    LRL 3 + 0.8 (s - 0.7)² (τ = 1 underfits, τ = 5 overfits), HRL 1.7 + 0.3 s² -- with a
    switch grid the law finds the constrained optimum, ranked against the paper's half-way
    switch; with the three runs alone it is checked run by run."""
    import pandas as pd

    from paperlib.methods import Cooldown

    rng = np.random.default_rng(3)

    def rows(switches):
        out = []
        for s in switches:
            method = "τ=1 (proportional)" if s == 0 else "τ=5" if s == 1 else "COOLDOWN (5→1)"
            for _ in range(3):
                out.append({"method": method, "run_obj": _run(Cooldown(4000, int(s * 4000)) if 0 < s < 1 else None),
                            "valid_loss.en-it": 1.7 + 0.3 * s ** 2 + rng.normal(0, 0.002),
                            "valid_loss.en-es": 3 + 0.8 * (s - 0.7) ** 2 + rng.normal(0, 0.002)})
        return pd.DataFrame(out)

    points = advise.points_from_switch(rows([0, 0.25, 0.5, 0.75, 1]), "en-it", "en-es")
    assert sorted(np.unique(points[advise.COOLDOWN].rate)) == [0, 0.25, 0.5, 0.75, 1]
    a = advise.recommend(points, tolerance=0.1, reference=(advise.COOLDOWN, 0.5))
    # HRL within 0.1 of its best (1.7 at s = 0): 0.3 s² <= 0.1, s* = 0.577 (the LRL falls until 0.7)
    assert a.rate == pytest.approx(np.sqrt(1 / 3), abs=0.01) and a.axis == advise.SWITCH and not a.at_edge
    gap = 0.8 * ((0.5 - 0.7) ** 2 - (np.sqrt(1 / 3) - 0.7) ** 2)  # the paper's switch is this much worse
    assert a.runner_up[1] == 0.5 and a.runner_up[2] - a.lrl == pytest.approx(gap, abs=0.005) and a.reliable
    assert "switch points it was not fit on" in a.held_out
    text = advise.describe(a, "en-it", "en-es", 0.1)
    assert f"at a switch at {a.rate:.0%} of the run" in text and "the paper's choice, at a switch at 50%" in text
    # at 0.05 nats the paper's half-way switch is lower on the LRL (3.032 vs 3.068 at s* = 0.408)
    # but 0.025 over the HRL tolerance (1.775 vs 1.75): said so, not as a negative gap to rank
    tight = advise.recommend(points, tolerance=0.05, reference=(advise.COOLDOWN, 0.5))
    assert tight.rate == pytest.approx(np.sqrt(1 / 6), abs=0.01) and tight.runner_up[2] < tight.lrl
    assert "misses the HRL tolerance by 0.02" in tight.why and tight.reliable, tight.why
    three = advise.recommend(advise.points_from_switch(rows([0, 0.5, 1]), "en-it", "en-es"), tolerance=0.1,
                             reference=(advise.COOLDOWN, 0.5))
    assert "grid's own switch points only" in three.held_out and three.n_held_out == 9
    import dataclasses

    assert "recommended: COOLDOWN (τ = 5, then 1) at τ = 1 throughout" in \
        advise.describe(dataclasses.replace(a, rate=0.0), "en-it", "en-es", 0.1)


def test_the_pretraining_length_is_advised_per_fine_tuning_rate():
    """Order Matters Fig. 9's NMT runs: the LRL loss falls with log N1 (4.5 - 0.2 log N1 at
    rate 0.1, 0.1 nats lower at 0.3), the HRL loss too; at a generous tolerance the longest
    length of the better rate wins, held out one length at a time."""
    import pandas as pd

    rng = np.random.default_rng(4)
    rows = [{"pretrain": n, "rate": r, "valid_loss.en-it": 3 - 0.1 * np.log(n) + rng.normal(0, 0.002),
             "valid_loss.en-es": 4.5 - 0.2 * np.log(n) - (0.1 if r == 0.3 else 0) + rng.normal(0, 0.002)}
            for n in (1500, 3000, 4500) for r in (0.1, 0.3) for _ in range(2)]
    points = advise.points_from_pretrain(pd.DataFrame(rows), "en-it", "en-es")
    assert set(points) == {f"{advise.PRETRAIN} at LRL rate 0.1", f"{advise.PRETRAIN} at LRL rate 0.3"}
    a = advise.recommend(points, tolerance=1.0)
    assert a.method.endswith("rate 0.3") and a.rate == pytest.approx(4500) and a.reliable
    assert "one pre-training length at a time" in a.held_out
    assert a.at_edge and "at 4,500 pre-training steps" in (text := advise.describe(a, "en-it", "en-es", 1.0))
    assert "at the edge of the runs' range" in text
    one = advise.points_from_pretrain(pd.DataFrame([r for r in rows if r["pretrain"] == 3000]), "en-it", "en-es")
    with pytest.raises(ValueError, match="2 or more distinct pre-training lengths"):
        advise.recommend(one)


def _two_rates(lrl, hrl=(3.0, 3.0, 3.2, 3.2)):
    """Two seeds at each of the LRL rates 0.1 and 0.5 (one seed per rate: pass two values)."""
    rate = (0.1, 0.1, 0.5, 0.5) if len(lrl) == 4 else (0.1, 0.5)
    return advise.Points(np.array(rate), np.array(hrl, float), np.array(lrl, float))


def test_the_band_is_the_rmse_of_held_out_lrl_errors_pooled_over_methods():
    """Two rates, two seeds: the law (a line in log r) refit without one run passes through the
    other seed at that rate, so each run's held-out error is its seed's difference to the other
    seed: static's LRL runs +-0.2 at r = 0.1 and +-0.1 at 0.5, pre-training's 0 -- band =
    sqrt((2 0.2² + 2 0.1²) / 8) = 0.1118 over 8 runs. Both HRL laws stay within 0.3 of the
    best HRL run (3.0), so each method's best is at r = 0.5: 3.3 vs static's 3.55, a gap of
    0.25 > the band (reliable); with static at 3.4 there the gap is 0.1 < the band (not)."""
    pre = _two_rates((3.9, 3.9, 3.3, 3.3))
    a = advise.recommend({advise.STATIC: _two_rates((4.0, 4.2, 3.5, 3.6)), advise.PRETRAIN: pre}, tolerance=0.3)
    assert a.method == advise.PRETRAIN and a.rate == pytest.approx(0.5) and a.lrl == pytest.approx(3.3)
    assert a.hrl == pytest.approx(3.2) and a.n_held_out == 8
    assert a.band == pytest.approx(np.sqrt(0.1 / 8))
    assert a.runner_up[:2] == (advise.STATIC, pytest.approx(0.5)) and a.runner_up[2] == pytest.approx(3.55)
    assert a.reliable and "below the gap it ranks (0.250)" in a.why
    b = advise.recommend({advise.STATIC: _two_rates((4.0, 4.2, 3.35, 3.45)), advise.PRETRAIN: pre}, tolerance=0.3)
    assert b.band == pytest.approx(np.sqrt(0.1 / 8)) and b.runner_up[2] - b.lrl == pytest.approx(0.1)
    assert not b.reliable and "(0.112 nats) is as large as the gap to the runner-up (0.100)" in b.why


def test_the_runner_up_is_the_second_best_method_of_three():
    worst = _two_rates((5.0, 5.0, 4.5, 4.5))
    a = advise.recommend({"worst": worst, advise.STATIC: _two_rates((4.0, 4.0, 3.5, 3.5)),
                          advise.PRETRAIN: _two_rates((3.9, 3.9, 3.3, 3.3))}, tolerance=0.3)
    assert a.method == advise.PRETRAIN and a.runner_up[0] == advise.STATIC and a.runner_up[2] == pytest.approx(3.5)


def test_one_method_alone_has_nothing_to_rank_against():
    a = advise.recommend({advise.PRETRAIN: _two_rates((3.9, 4.1, 3.3, 3.3))}, tolerance=0.3)
    assert a.runner_up == () and not a.reliable and "only one method was run" in a.why


def test_a_method_that_misses_the_hrl_tolerance_ranks_by_how_far_it_misses():
    """Static's HRL loss (3.6 at best) misses 3.0 + tolerance: it is no candidate, and the
    recommendation is reliable when the miss is larger than the HRL law's held-out error."""
    static = _two_rates((3.0, 3.0, 2.5, 2.5), hrl=(3.6, 3.6, 3.8, 3.8))  # better LRL, but the HRL fails
    a = advise.recommend({advise.STATIC: static, advise.PRETRAIN: _two_rates((3.9, 3.9, 3.3, 3.3))}, tolerance=0.3)
    # 3.6 - 3.0 - 0.3 = 0.3 nats missed; every HRL run predicted exactly (seeds agree): error 0
    assert a.method == advise.PRETRAIN and a.runner_up == () and a.reliable
    assert "misses the tolerance by 0.300 nats, more than the law's held-out HRL error (0.000)" in a.why
    # pre-training's HRL seeds 3.0 and 3.8 at r = 0.1 (its law: 3.4 there, within 0.5 of 3.0): held-out HRL
    # errors +-0.8 on 2 of 12 runs, RMSE sqrt(1.28 / 12) = 0.327; static misses by 3.6 - 3.0 - 0.5 = 0.1 < 0.327:
    # not reliable
    noisy = _two_rates((3.9, 3.9, 3.3, 3.3), hrl=(3.0, 3.8, 3.3, 3.3))
    far = _two_rates((2.0, 2.0, 1.5, 1.5), hrl=(4.6, 4.6, 4.8, 4.8))  # misses by 1.1: the closest miss (static's) counts
    b = advise.recommend({advise.STATIC: static, "far": far, advise.PRETRAIN: noisy}, tolerance=0.5)
    assert b.method == advise.PRETRAIN and not b.reliable
    assert "misses the tolerance by 0.100 nats, no more than the law's held-out HRL error (0.327)" in b.why


def test_runs_that_cannot_be_held_out_leave_the_law_unchecked():
    """One run per rate at two rates: without a run, one rate is left, which cannot fit a line."""
    a = advise.recommend({advise.STATIC: _two_rates((4.0, 3.5), hrl=(3.0, 3.2)),
                          advise.PRETRAIN: _two_rates((3.9, 3.3), hrl=(3.0, 3.2))}, tolerance=0.3)
    assert a.n_held_out == 0 and np.isnan(a.band) and not a.reliable and "no run could be held out" in a.why


def test_four_rates_fit_the_bending_law_in_and_out_of_the_held_out_fits():
    """At 4 rates the law is quadratic in log r -- also when a rate is held out (the same law,
    fit to the 3 others). On an exact quadratic, 4 + 0.3 (log r - log 0.35)², the optimum is
    found and every held-out run is predicted exactly (a line would miss them)."""
    assert advise.design([0.1, 0.2], 4).shape == (2, 3) and advise.design([0.1, 0.2], 3).shape == (2, 2)
    r = np.array([0.1, 0.2, 0.5, 0.7])
    lrl = 4 + 0.3 * (np.log(r) - np.log(0.35)) ** 2
    a = advise.recommend({advise.PRETRAIN: advise.Points(r, 3 - 0.5 * np.log(1 - r), lrl)}, tolerance=10.0)
    assert a.rate == pytest.approx(0.35, abs=0.005) and a.lrl == pytest.approx(4.0, abs=1e-4)
    assert a.n_held_out == 4 and a.band < 1e-9 and "shares it was not fit on" in a.held_out


def test_an_optimum_at_the_low_end_of_the_range_is_flagged():
    """Pre-training lengths where the LRL loss grows with length (4 + 0.2 log N): the shortest
    run's length is recommended, the law still falling below it -- at the edge."""
    n = np.array([1500.0, 3000.0, 4500.0])
    a = advise.recommend({advise.PRETRAIN: advise.Points(n, np.full(3, 3.0), 4 + 0.2 * np.log(n), advise.STEPS)},
                         tolerance=0.1)
    assert a.rate == pytest.approx(1500) and a.at_edge


def test_advise_over_cooldowns_switch_on_runs_that_learned_nothing_says_out_of_regime(tmp_path, monkeypatch, capsys):
    """The CLI end to end on real (smoke) runs of Fig. 1: τ = 1, COOLDOWN and τ = 5, which
    learn nothing at smoke: the learned gate is read over all three (one method, no key)."""
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    assert cli.main(["reproduce", "--preset", "smoke", "--only", "B3", "--no-progress"]) == 0
    capsys.readouterr()
    assert cli.main(["advise", "--preset", "smoke", "--over", "switch"]) == 0
    out = capsys.readouterr().out
    assert "UNRELIABLE: out of regime: the runs have not learned their HRL (end of training, " in out
