"""The experiment settings share runs where the papers' methods share training."""

import pytest

from paperlib import experiments as E
from paperlib import runs


def _hash(cfg):
    return runs.resolve(cfg)[2]


@pytest.mark.network  # needs the smoke DDTP data (prepared on first use)
def test_shared_prefixes():
    p = "smoke"
    # the restart baseline continues the static run it restarts
    assert _hash(runs.parent_config(E.restart_rate(p, "hrl_lrl_fi", 0.3, "x"))) == _hash(
        runs.parent_config(E.static_rate(p, "hrl_lrl_fi", 0.3, "x")))
    # Order Matters' pre-training is one run for every fine-tuning rate
    assert _hash(runs.parent_config(E.order_matters_rate(p, "hrl_lrl_fi", 0.3, "x"))) == _hash(
        runs.parent_config(E.order_matters_rate(p, "hrl_lrl_fi", 0.7, "y")))
    # COOLDOWN continues static tau=5 from its switch
    assert _hash(runs.parent_config(E.schedule_run(p, "one_to_many", "cooldown", "x", tau_high=5.0, tau_low=1.0))) == _hash(
        runs.parent_config(E.temperature_run(p, "one_to_many", 5.0, "x")))
    # ... and different methods are different runs
    assert _hash(E.static_rate(p, "hrl_lrl_fi", 0.3, "x")) != _hash(E.restart_rate(p, "hrl_lrl_fi", 0.3, "x"))


def test_grid_labels_and_seeds():
    grid = E.order_matters_nmt_grid("smoke", ["hrl_lrl_fi"], "x")
    methods = {(g[1]["method"], g[1]["rate"], g[1]["seed"]) for g in grid}
    assert ("scalarization", 0.7, 1) in methods and ("pre-train + joint FT", 0.7, 1) in methods  # second seed at the middle rate
    assert ("restart", 0.3, 0) in methods
    assert all(c.experiment == "x-smoke" for c, _ in grid)


def test_bad_requests():
    with pytest.raises(ValueError, match="a two-task set is needed"):
        E.hrl_lrl("one_to_many")
    with pytest.raises(ValueError, match="unknown preset"):
        E.scale("huge")
    with pytest.raises(ValueError, match="unknown schedule method"):
        E.schedule_run("smoke", "one_to_many", "annealing", "x")
