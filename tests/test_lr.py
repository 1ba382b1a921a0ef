import pytest

from paperlib import mixing as mx
from paperlib.lr import learning_rate


def test_warmup_then_inverse_sqrt():
    assert learning_rate("inverse_sqrt", 0, 100, 1.0, 10) == pytest.approx(0.1)
    assert learning_rate("inverse_sqrt", 9, 100, 1.0, 10) == pytest.approx(1.0)
    assert learning_rate("inverse_sqrt", 39, 100, 1.0, 10) == pytest.approx(0.5)  # sqrt(10/40)


def test_cosine_reaches_zero_at_the_end():
    assert learning_rate("cosine", 9, 100, 2.0, 10) == pytest.approx(2.0)
    assert learning_rate("cosine", 99, 100, 2.0, 10) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate("cosine", 54, 100, 2.0, 10) == pytest.approx(1.0)  # halfway through the decay


def test_constant_then_inverse_sqrt():
    assert learning_rate("constant_then_inverse_sqrt", 0, 100, 1.0, 10) == 1.0
    assert learning_rate("constant_then_inverse_sqrt", 39, 100, 1.0, 10) == pytest.approx(0.5)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="unknown LR schedule 'linear'"):
        learning_rate("linear", 0, 10, 1.0, 1)


def test_lr_restarts_only_at_reset_phases():
    S = {"a": 100, "b": 10}
    om = mx.order_matters(S, 60, 40, pretrain_on="a", tau=1, lr_schedule="cosine")
    assert om.lr_segment(59) == (59, 60, "cosine")
    assert om.lr_segment(60) == (0, 40, "cosine")  # reset: schedule restarts with a 40-step horizon
    no_reset = mx.Plan(("a", "b"), (mx.Phase("x", 60, mx.Constant(mx.Mixture((1.0, 0.0)))),
                                     mx.Phase("y", 40, mx.Constant(mx.Mixture((0.5, 0.5))))))
    assert no_reset.lr_segment(60) == (60, 100, "inverse_sqrt")  # continues


def test_constant_schedule_warms_up_linearly_then_holds():
    assert learning_rate("constant", 0, 100, 1.0, 10) == pytest.approx(0.1)
    assert learning_rate("constant", 4, 100, 1.0, 10) == pytest.approx(0.5)
    assert learning_rate("constant", 9, 100, 1.0, 10) == pytest.approx(1.0)
    assert learning_rate("constant", 99, 100, 1.0, 10) == 1.0
    assert learning_rate("constant", 0, 100, 1.0, 0) == 1.0  # no warmup: base from the start


def test_inverse_sqrt_without_warmup_starts_at_base():
    # warmup 0 must not mean a zero learning rate: base at the first update, then 1/sqrt
    assert learning_rate("inverse_sqrt", 0, 100, 1.0, 0) == pytest.approx(1.0)
    assert learning_rate("inverse_sqrt", 3, 100, 1.0, 0) == pytest.approx(0.5)
    assert learning_rate("constant_then_inverse_sqrt", 3, 100, 1.0, 0) == pytest.approx(0.5)
