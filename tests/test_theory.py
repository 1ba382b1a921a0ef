import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlib import mixing as mx
from paperlib import theory

sizes_strategy = st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=2, max_size=6)


def test_variance_factor_hand_computed():
    # sizes [3, 1], tau -> inf: p_tau = [1/2, 1/2], p_1 = [3/4, 1/4]
    # F = (1/4)/(3/4) + (1/4)/(1/4) = 1/3 + 1 = 4/3
    assert theory.variance_factor([3, 1], 1e12) == pytest.approx(4 / 3)
    assert theory.variance_factor([3, 1], 1) == pytest.approx(1.0)
    assert theory.variance_factor([5, 5, 5], 7) == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(sizes_strategy, st.floats(min_value=0.1, max_value=100))
def test_lemma_2_1(sizes, tau):
    assert theory.variance_factor(sizes, tau) >= 1 - 1e-9


@settings(max_examples=200, deadline=None)
@given(sizes_strategy, st.floats(min_value=1, max_value=50), st.floats(min_value=1, max_value=50))
def test_theorem_3_monotone_above_one(sizes, t1, t2):
    lo, hi = sorted((t1, t2))
    assert theory.variance_factor(sizes, hi) >= theory.variance_factor(sizes, lo) * (1 - 1e-9)


def test_checks_report_holds_on_paper_sizes():
    taus = np.linspace(1, 20, 50)
    for s in theory.PAPER_SIZES.values():
        assert theory.check_lemma_2_1(list(s.values()), taus).holds
        assert theory.check_theorem_3(list(s.values()), taus).holds


def test_checks_can_fail(monkeypatch):
    # the checks must report a violation when the quantity misbehaves
    monkeypatch.setattr(theory, "variance_factor", lambda sizes, tau: 1.0 / tau)
    assert not theory.check_theorem_3([10, 1], [1, 2, 3]).holds
    assert not theory.check_lemma_2_1([10, 1], [1, 2, 3]).holds


def test_theorem_1_exact_on_toy_least_squares():
    g_ts, g_s = theory.full_gradients([40, 7, 3], tau=5.0)
    np.testing.assert_allclose(g_ts, g_s, rtol=1e-12, atol=1e-12)
    assert theory.check_theorem_1([40, 7, 3], [1, 2, 5, 100]).holds


def test_gap_formula_matches_exact_variances():
    for tau in (1.0, 2.0, 5.0):
        var_ts, var_s, m = theory.exact_variances([40, 7, 3], tau)
        assert var_s - var_ts == pytest.approx(theory.variance_gap([40, 7, 3], tau, m), rel=1e-9, abs=1e-12)


def test_gap_reduces_to_f_minus_one_for_equal_moments():
    sizes = [1000, 30, 2]
    for tau in (1.5, 3.0, 10.0):
        assert theory.variance_gap(sizes, tau, [2.0, 2.0, 2.0]) == pytest.approx(
            (theory.variance_factor(sizes, tau) - 1) * 2.0
        )


def test_gap_can_be_negative_with_unequal_moments():
    sizes, tau, m = theory.negative_gap_example()
    assert theory.variance_gap(sizes, tau, m) < 0


def test_variance_gap_validation():
    with pytest.raises(ValueError, match="second_moments has 1 entries"):
        theory.variance_gap([1, 2], 2, [1.0])
    with pytest.raises(ValueError, match=">= 0"):
        theory.variance_gap([1, 2], 2, [1.0, -1.0])


@pytest.mark.parametrize("tau", [1.0, 1.43, 2.0, 5.0, 100.0])
def test_corrected_theorem_3_derivative(tau):
    sizes = list(theory.PAPER_SIZES["order-matters mC4 (En/Hi/Gu/Gd/Sw)"].values())
    s, h = 1 / tau, 1e-6
    fd = (np.log(theory.variance_factor(sizes, 1 / (s + h))) - np.log(theory.variance_factor(sizes, 1 / (s - h)))) / (2 * h)
    assert theory.d_log_f_ds(sizes, s) == pytest.approx(fd, rel=1e-4, abs=1e-6)
    assert theory.d_log_f_ds(sizes, s) <= 1e-12


def test_zipf_sizes():
    np.testing.assert_allclose(theory.zipf_sizes(3, 1.0), [1, 0.5, 1 / 3])
    np.testing.assert_allclose(mx.proportional(theory.zipf_sizes(4, 0.0)), [0.25] * 4)


def test_variance_factor_second_hand_case():
    # sizes [4, 1], tau=2: p_tau = [2/3, 1/3], p_1 = [4/5, 1/5] -> F = 5/9 + 5/9 = 10/9
    assert theory.variance_factor([4, 1], 2) == pytest.approx(10 / 9)


def test_theorem_3_check_sorts_and_ignores_taus_below_one():
    sizes = [100, 10, 1]
    # F falls on (0, 1) (towards 1 at tau=1), so a check that kept tau < 1 would fail
    assert theory.variance_factor(sizes, 0.3) > theory.variance_factor(sizes, 1.0) + 0.1
    assert theory.check_theorem_3(sizes, [0.3, 0.5, 1, 2, 5]).holds
    # taus in any order: the theorem is about the sorted grid
    assert theory.check_theorem_3(sizes, [5, 2, 1.5, 1]).holds


def test_theorem_1_check_can_fail(monkeypatch):
    monkeypatch.setattr(theory, "full_gradients", lambda *a, **k: (np.array([1.0, 0.0]), np.array([1.0, 0.1])))
    assert not theory.check_theorem_1([10, 1], [2.0]).holds


def test_lemma_check_finds_a_violation_anywhere_on_the_grid(monkeypatch):
    # F < 1 only in the middle of the grid, not at its end
    monkeypatch.setattr(theory, "variance_factor", lambda sizes, tau: 0.5 if tau == 2 else 1.0 + tau)
    assert not theory.check_lemma_2_1([10, 1], [1, 2, 3]).holds


def test_theorem_3_without_a_tau_of_at_least_one_says_so():
    with pytest.raises(ValueError, match="none of the taus"):
        theory.check_theorem_3([100, 10, 1], [0.5, 0.9])
