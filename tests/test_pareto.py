import numpy as np
import pytest

from paperlib import pareto


def test_non_dominated_hand_made():
    pts = [(1, 5), (2, 3), (3, 4), (4, 1), (2, 3.5)]
    assert pareto.non_dominated(pts).tolist() == [True, True, False, True, False]
    np.testing.assert_array_equal(pareto.front(pts), [[1, 5], [2, 3], [4, 1]])


def test_hypervolume_hand_computed():
    # front (1,3), (2,1), reference (4,4): area = (4-1)*(4-3) + (4-2)*(3-1) = 3 + 4 = 7
    assert pareto.hypervolume([(1, 3), (2, 1), (3, 3.5)], (4, 4)) == pytest.approx(7.0)
    assert pareto.hypervolume([(5, 5)], (4, 4)) == 0.0  # outside the reference box


def test_gain_of_a_front_that_extends_past_another():
    base = [(1, 3), (2, 2), (3, 1)]
    better_lrl = [(2.5, 0.5)]
    ref = (4, 4)
    # new area: x in [2.5, 4] x y in [0.5, 1]  (1.5 * 0.5) plus x in [2.5, 3] x y in [1, 2]  (0.5 * 1)
    assert pareto.hypervolume_gain(better_lrl, base, ref) == pytest.approx(0.75 + 0.5)
    assert pareto.hypervolume_gain([(2.5, 2.5)], base, ref) == 0.0  # dominated: adds nothing


def test_best_second_within():
    pts = [(1, 5), (2, 3), (4, 1)]
    assert pareto.best_second_within(pts, 2.5) == 3
    assert pareto.best_second_within(pts, 0.5) == float("inf")


def test_shared_reference_is_worse_than_every_point():
    ref = pareto.shared_reference([(1, 5), (2, 3)], [(0.5, 6)])
    assert ref[0] > 2 and ref[1] > 6


def test_bad_points():
    with pytest.raises(ValueError, match="finite"):
        pareto.front([(1, float("nan"))])


def test_hypervolume_with_an_asymmetric_reference():
    # front (1,3), (2,1), reference (5,4): (5-1)*(4-3) + (5-2)*(3-1) = 4 + 6 = 10
    assert pareto.hypervolume([(1, 3), (2, 1)], (5, 4)) == pytest.approx(10.0)
    # reference (4,6): (4-1)*(6-3) + (4-2)*(3-1) = 9 + 4 = 13
    assert pareto.hypervolume([(1, 3), (2, 1)], (4, 6)) == pytest.approx(13.0)


def test_best_second_within_includes_the_limit():
    # "no more than this on the HRL": a point exactly at the limit counts
    assert pareto.best_second_within([(1, 5), (2, 3), (4, 1)], 2) == 3


def test_shared_reference_strictly_worse_even_without_spread():
    # every point shares its first loss: the margin must still push the reference past it
    ref = pareto.shared_reference([(2, 5), (2, 3)])
    assert ref[0] > 2 and ref[1] > 5
    assert pareto.hypervolume([(2, 5), (2, 3)], ref) > 0
