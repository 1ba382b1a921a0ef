import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlib import mixing as mx

sizes_strategy = st.lists(st.floats(min_value=1.0, max_value=1e7, allow_nan=False), min_size=1, max_size=8)
tau_strategy = st.floats(min_value=0.05, max_value=1e3, allow_nan=False)


# ---- strategies: hand-computed values ------------------------------------------------

def test_proportional_hand_computed():
    np.testing.assert_allclose(mx.proportional([3, 1]), [0.75, 0.25])


def test_temperature_hand_computed():
    # sizes 100 and 1 at tau=2: sqrt -> 10 and 1 -> 10/11, 1/11
    np.testing.assert_allclose(mx.temperature([100, 1], 2), [10 / 11, 1 / 11])
    np.testing.assert_allclose(mx.temperature([100, 1], 1), [100 / 101, 1 / 101])
    np.testing.assert_allclose(mx.temperature([100, 1, 7], math.inf), [1 / 3] * 3)


def test_temperature_large_tau_tends_to_uniform():
    np.testing.assert_allclose(mx.temperature([1e6, 10, 1], 1e6), mx.uniform([1e6, 10, 1]), atol=1e-4)


def test_temperature_survives_huge_sizes():
    p = mx.temperature([1e300, 1.0], 0.1)
    assert np.isfinite(p).all() and abs(p.sum() - 1) < 1e-12


@settings(max_examples=200, deadline=None)
@given(sizes_strategy, tau_strategy)
def test_temperature_is_a_distribution(sizes, tau):
    p = mx.temperature(sizes, tau)
    assert p.shape == (len(sizes),)
    assert np.all(p >= 0)
    assert abs(p.sum() - 1) < 1e-9


@settings(max_examples=200, deadline=None)
@given(sizes_strategy, tau_strategy, tau_strategy)
def test_smallest_task_probability_rises_with_tau(sizes, t1, t2):
    lo, hi = sorted((t1, t2))
    i = int(np.argmin(sizes))
    assert mx.temperature(sizes, hi)[i] >= mx.temperature(sizes, lo)[i] - 1e-12


# ---- UniMax ------------------------------------------------------------------------------

def test_unimax_hand_computed_caps_small_tasks():
    # sizes [1, 10, 1000], budget 300, 2 epochs max.
    # smallest (1): min(300/3=100, 2) = 2 -> remaining 298
    # next (10): min(298/2=149, 20) = 20 -> remaining 278
    # largest (1000): min(278/1, 2000) = 278
    p = mx.unimax([1000, 1, 10], budget=300, max_epochs=2)
    np.testing.assert_allclose(p, np.array([278, 2, 20]) / 300)


def test_unimax_hand_computed_uniform_when_caps_do_not_bind():
    # budget 30 over three tasks with plenty of data: 10 each
    np.testing.assert_allclose(mx.unimax([100, 200, 300], budget=30, max_epochs=5), [1 / 3] * 3)


def test_unimax_unsorted_input_keeps_task_order():
    # the public implementation's bug (sorted counts, unsorted indices) would assign the
    # small task's allocation to the first task here
    p = mx.unimax([5000, 2], budget=1000, max_epochs=10)
    np.testing.assert_allclose(p, [980 / 1000, 20 / 1000])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8),
    st.floats(min_value=1, max_value=1e6),
    st.floats(min_value=0.1, max_value=50),
)
def test_unimax_respects_caps_and_spends_budget(sizes, budget, max_epochs):
    p = mx.unimax(sizes, budget, max_epochs)
    assert abs(p.sum() - 1) < 1e-9
    cap = max_epochs * np.asarray(sizes, dtype=float)
    if cap.sum() >= budget:  # the budget can be spent within the caps
        alloc = p * budget
        assert np.all(alloc <= cap * (1 + 1e-9))
        assert abs(alloc.sum() - budget) < 1e-6 * budget


# ---- scalarization -----------------------------------------------------------------------

def test_scalarization_weights_reproduce_target_expected_loss():
    sizes = [1000, 50, 2]
    target = mx.temperature(sizes, 5)
    m = mx.scalarization(target, sizes)
    np.testing.assert_allclose(m.p, mx.proportional(sizes))
    np.testing.assert_allclose(m.w, target / mx.proportional(sizes))
    task_losses = np.array([2.0, 3.5, 6.0])
    # expected loss of proportional sampling with weights == expected loss of sampling target
    assert np.isclose(np.sum(m.p * m.w * task_losses), np.sum(target * task_losses))
    np.testing.assert_allclose(m.expected_weights(), target)


@settings(max_examples=100, deadline=None)
@given(sizes_strategy, tau_strategy)
def test_scalarization_equivalence_property(sizes, tau):
    target = mx.temperature(sizes, tau)
    m = mx.scalarization(target, sizes)
    np.testing.assert_allclose(m.p * m.w, target, rtol=1e-9, atol=1e-15)


# ---- validation: one-line errors that say what to fix ------------------------------------

@pytest.mark.parametrize("tau", [0, -1, float("nan"), "hot", -math.inf])
def test_bad_tau_rejected(tau):
    with pytest.raises(ValueError, match="tau"):
        mx.temperature([10, 1], tau)


@pytest.mark.parametrize("sizes", [[10, 0], [10, -3], [], [float("nan"), 1]])
def test_bad_sizes_rejected(sizes):
    with pytest.raises(ValueError, match="size"):
        mx.proportional(sizes)


@pytest.mark.parametrize("probs", [[0.5, 0.6], [1.2, -0.2], [float("nan"), 1.0]])
def test_bad_probabilities_rejected(probs):
    with pytest.raises(ValueError):
        mx.Mixture(tuple(probs))
    with pytest.raises(ValueError):
        mx.explicit(probs)


def test_sum_error_names_the_sum():
    with pytest.raises(ValueError, match=r"sum to 1 \(got sum 1.1"):
        mx.explicit([0.5, 0.6])


def test_mixture_weight_length_mismatch():
    with pytest.raises(ValueError, match="loss_weights has 3 entries"):
        mx.Mixture((0.5, 0.5), (1.0, 1.0, 1.0))


def test_unimax_bad_inputs():
    with pytest.raises(ValueError, match="budget"):
        mx.unimax([1, 2], budget=0, max_epochs=1)
    with pytest.raises(ValueError, match="max_epochs"):
        mx.unimax([1, 2], budget=10, max_epochs=-1)


# ---- schedules -------------------------------------------------------------------------------

SIZES = {"en-it": 100_000, "en-fi": 300}


def test_cooldown_switches_temperature_at_the_switch_step():
    plan = mx.cooldown(SIZES, steps=100, switch=40)
    d = list(SIZES.values())
    np.testing.assert_allclose(plan.mixture_at(0).p, mx.temperature(d, 5))
    np.testing.assert_allclose(plan.mixture_at(39).p, mx.temperature(d, 5))
    np.testing.assert_allclose(plan.mixture_at(40).p, mx.temperature(d, 1))
    np.testing.assert_allclose(plan.mixture_at(99).p, mx.temperature(d, 1))
    assert not plan.phases[0].reset


def test_increasing_is_the_reverse_of_cooldown():
    inc = mx.increasing(SIZES, steps=10, switch=5)
    cool = mx.cooldown(SIZES, steps=10, switch=5)
    np.testing.assert_allclose(inc.mixture_at(0).p, cool.mixture_at(9).p)
    np.testing.assert_allclose(inc.mixture_at(9).p, cool.mixture_at(0).p)


def test_dense_schedule_interpolates_and_holds_between_updates():
    sched = mx.DenseTemperature(tuple(SIZES.values()), 5.0, 1.0, start=0, end=100, every=10)
    assert sched.tau_at(0) == 5.0
    assert sched.tau_at(9) == 5.0  # held until the next update
    assert sched.tau_at(10) == pytest.approx(4.6)
    assert sched.tau_at(55) == pytest.approx(5.0 - 4 * 0.5)
    assert sched.tau_at(100) == 1.0
    taus = [sched.tau_at(s) for s in range(0, 120)]
    assert all(b <= a for a, b in zip(taus, taus[1:]))


def test_stepwise_validation():
    m = mx.Mixture((0.5, 0.5))
    with pytest.raises(ValueError, match="start at step 0"):
        mx.Stepwise(((5, m),))
    with pytest.raises(ValueError, match="strictly increasing"):
        mx.Stepwise(((0, m), (10, m), (10, m)))


def test_any_callable_schedule():
    def sched(step):
        return mx.Mixture((1.0, 0.0)) if step < 3 else mx.Mixture((0.0, 1.0))

    plan = mx.Plan(("a", "b"), (mx.Phase("main", 6, sched),))
    assert plan.mixture_at(2).probs == (1.0, 0.0)
    assert plan.mixture_at(3).probs == (0.0, 1.0)
    assert plan.describe()["phases"][0]["schedule"]["kind"] == "callable"


# ---- plans -----------------------------------------------------------------------------------

def test_order_matters_plan():
    plan = mx.order_matters(SIZES, 60, 40, pretrain_on="en-it", rates={"en-it": 0.5, "en-fi": 0.5})
    assert [p.name for p in plan.phases] == ["pretrain", "finetune"]
    assert plan.phases[1].reset and not plan.phases[0].reset
    assert plan.mixture_at(59).probs == (1.0, 0.0)
    assert plan.mixture_at(60).probs == (0.5, 0.5)
    assert plan.locate(60) == (1, 0)
    mx.check_budget(plan, 100)
    with pytest.raises(ValueError, match="add up to 100 steps .*not the budget of 90"):
        mx.check_budget(plan, 90)


def test_restart_and_finetune_only_plans():
    r = mx.restart(SIZES, 30, 70, tau=2)
    assert r.phases[0].schedule(0) == r.phases[1].schedule(0) and r.phases[1].reset
    f = mx.finetune_only(SIZES, 50, 50, pretrain_on="en-it", finetune_on="en-fi")
    assert f.mixture_at(0).probs == (1.0, 0.0) and f.mixture_at(50).probs == (0.0, 1.0)


def test_static_scalarized_unimax_dense_plans():
    s = mx.static(SIZES, 10, tau=3)
    sc = mx.scalarized(SIZES, 10, tau=3)
    np.testing.assert_allclose(sc.mixture_at(0).expected_weights(), s.mixture_at(0).p)
    u = mx.unimax_plan(SIZES, steps=100, batch_size=10, max_epochs=1)
    assert u.mixture_at(0).p[1] == pytest.approx(300 / 1000)  # capped at one epoch of en-fi
    d = mx.dense(SIZES, 100, every=10)
    assert d.mixture_at(0).p[1] > d.mixture_at(99).p[1]
    assert s.total_steps == 10 and s.method == "static"


def test_unknown_task_names_rejected():
    with pytest.raises(ValueError, match="unknown task 'en-xx'; valid tasks: en-it, en-fi"):
        mx.order_matters(SIZES, 5, 5, pretrain_on="en-xx", tau=1)
    with pytest.raises(ValueError, match="unknown task"):
        mx.static(SIZES, 10, rates={"en-it": 0.5, "en-de": 0.5})


def test_plan_errors():
    with pytest.raises(ValueError, match="exactly one of tau"):
        mx.static(SIZES, 10)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        mx.static(SIZES, 0, tau=1)
    with pytest.raises(ValueError, match="switch step"):
        mx.cooldown(SIZES, steps=10, switch=10)
    with pytest.raises(ValueError, match="unknown lr_schedule"):
        mx.static(SIZES, 10, tau=1, lr_schedule="warmdown")
    with pytest.raises(ValueError, match="mixes 3 tasks but the plan has 2"):
        mx.Plan(("a", "b"), (mx.Phase("main", 5, mx.Constant(mx.Mixture((0.2, 0.3, 0.5)))),))
    with pytest.raises(ValueError, match="past the end"):
        mx.static(SIZES, 10, tau=1).locate(10)


def test_prefix_identities_let_runs_share_training():
    # COOLDOWN up to its switch trains exactly like static tau=5
    c, t5 = mx.cooldown(SIZES, 100, 40), mx.static(SIZES, 100, tau=5)
    assert c.truncated(40).identity() == t5.truncated(40).identity()
    assert c.identity() != t5.identity()
    # Order Matters runs with different fine-tuning rates share their pre-training
    a = mx.order_matters(SIZES, 60, 40, pretrain_on="en-it", rates=[0.5, 0.5])
    b = mx.order_matters(SIZES, 60, 40, pretrain_on="en-it", rates=[0.9, 0.1])
    assert a.truncated(60).identity() == b.truncated(60).identity() and a.identity() != b.identity()
    # the restart baseline continues the static run (inverse-sqrt LR: nominal length irrelevant)
    r, s = mx.restart(SIZES, 60, 40, rates=[0.5, 0.5]), mx.static(SIZES, 100, rates=[0.5, 0.5])
    assert r.truncated(60).identity() == s.truncated(60).identity()
    # ... but not under cosine decay, where the phase length shapes the LR
    rc = mx.restart(SIZES, 60, 40, rates=[0.5, 0.5], lr_schedule="cosine")
    sc = mx.static(SIZES, 100, rates=[0.5, 0.5], lr_schedule="cosine")
    assert rc.truncated(60).identity() != sc.truncated(60).identity()


# ---- added by mutation audit: behaviour the tests above left unpinned ------------------

def test_expected_weights_normalise_arbitrary_loss_weights():
    # p * w need not sum to 1 for a hand-made mixture; the effective weights must
    m = mx.Mixture((0.5, 0.5), (1.0, 3.0))
    np.testing.assert_allclose(m.expected_weights(), [0.25, 0.75])


def test_unimax_spreads_the_leftover_when_every_cap_binds():
    # sizes 1 and 2, one epoch each, budget 100: both are capped (1 and 2 examples);
    # the docstring says the leftover follows the allocations -> 1/3, 2/3
    np.testing.assert_allclose(mx.unimax([1, 2], budget=100, max_epochs=1), [1 / 3, 2 / 3])


def test_dense_schedule_reaches_tau_end_exactly_at_end_when_every_does_not_divide():
    # updates at 0, 30, 60, 90 (tau 5, 3.8, 2.6, 1.4); from `end` on tau_end, not the last snap
    sched = mx.DenseTemperature((100.0, 1.0), 5.0, 1.0, start=0, end=100, every=30)
    assert sched.tau_at(99) == pytest.approx(1.4)
    assert sched.tau_at(100) == 1.0
    # and before a late start, tau_start holds
    late = mx.DenseTemperature((100.0, 1.0), 5.0, 1.0, start=20, end=40, every=1)
    assert late.tau_at(19) == 5.0 and late.tau_at(30) == pytest.approx(3.0) and late.tau_at(40) == 1.0


def test_segments_split_at_mixture_changes_and_phase_boundaries():
    # a restart plan has the same mixture in both phases: only the phase boundary splits it
    r = mx.restart(SIZES, 60, 40, tau=2)
    assert list(r.segments(0, 100)) == [(0, 60), (60, 100)]
    assert list(r.segments(50, 70)) == [(50, 60), (60, 70)]
    c = mx.cooldown(SIZES, 100, switch=40)
    assert list(c.segments(0, 100)) == [(0, 40), (40, 100)]
    assert list(c.segments(10, 30)) == [(10, 30)]


def test_pretraining_on_several_tasks_splits_evenly():
    three = {"a": 100, "b": 50, "c": 5}
    plan = mx.order_matters(three, 10, 10, pretrain_on=["a", "b"], tau=1)
    assert plan.mixture_at(0).probs == (0.5, 0.5, 0.0)
    ft = mx.finetune_only(three, 10, 10, pretrain_on="a", finetune_on=["b", "c"])
    assert ft.mixture_at(10).probs == (0.0, 0.5, 0.5)


def test_rates_mapping_follows_task_order_not_mapping_order():
    # rates given in the opposite order to the tasks; a missing task gets rate 0
    plan = mx.static(SIZES, 10, rates={"en-fi": 0.2, "en-it": 0.8})
    assert plan.mixture_at(0).probs == pytest.approx((0.8, 0.2))
    plan = mx.static(SIZES, 10, rates={"en-fi": 1.0})
    assert plan.mixture_at(0).probs == (0.0, 1.0)


def test_a_plan_may_stop_exactly_at_its_end_but_not_past_it():
    plan = mx.static(SIZES, 10, tau=1)
    assert plan.truncated(10).end_step == 10
    for bad in (0, 11):
        with pytest.raises(ValueError, match="stop_at must be in"):
            plan.truncated(bad)


def test_negative_loss_weights_rejected():
    # a negative weight would make the optimiser climb that task's loss
    with pytest.raises(ValueError, match="loss weights must be finite and >= 0"):
        mx.Mixture((0.5, 0.5), (1.0, -1.0))


@pytest.mark.parametrize("ends", [{"tau_start": math.inf}, {"tau_end": math.inf}])
def test_a_dense_schedule_to_or_from_an_infinite_tau_is_refused_when_built(ends):
    # inf + frac * (1 - inf) is NaN: it used to build, then fail at the first interpolated step
    with pytest.raises(ValueError, match="must be finite"):
        mx.DenseTemperature((10, 1), **{"tau_start": 5.0, "tau_end": 1.0, **ends}, start=0, end=10)
