"""Task sets: their validation and the epochs-per-run table (`paperlib data info`)."""

import pytest

from paperlib import presets
from paperlib.data import DataError, TaskSet, epochs_table
from paperlib.data.tasksets import capped_counts


def test_epochs_per_run_follow_each_method_from_first_principles():
    table = epochs_table({"hi": 900, "lo": 100}, "mini", examples=1000)
    assert table["τ=1 (proportional)"] == pytest.approx({"hi": 1.0, "lo": 1.0})  # every task 1000/1000 times
    assert table["uniform"] == pytest.approx({"hi": 500 / 900, "lo": 500 / 100})
    w = {"hi": 900 ** 0.2, "lo": 100 ** 0.2}  # p ∝ D^(1/τ)
    assert table["τ=5"] == pytest.approx({t: 1000 * w[t] / sum(w.values()) / d for t, d in (("hi", 900), ("lo", 100))})
    assert table["rate 0.5 (static)"] == pytest.approx({"hi": 500 / 900, "lo": 5.0})
    assert table["rate 0.9 on the LRL"] == pytest.approx({"hi": 100 / 900, "lo": 9.0})  # the second task is the LRL


def test_epochs_table_draws_a_preset_run_by_default_and_rates_only_for_pairs():
    n = presets.get("smoke").examples_per_run
    table = epochs_table({"a": 300, "b": 200, "c": 100}, "smoke")
    assert table["τ=1 (proportional)"] == pytest.approx(dict.fromkeys("abc", n / 600))
    assert set(table) == {"τ=1 (proportional)", "τ=5", "uniform"}  # static rates are of two tasks


@pytest.mark.parametrize("keep", [0, -5, 2.5])
def test_keep_train_needs_a_positive_whole_count(keep):
    with pytest.raises(DataError, match="keep_train needs one of its tasks and a positive count"):
        TaskSet("bad", "translation", ("en-it", "en-fi"), "test", keep_train=(("en-fi", keep),))


@pytest.mark.parametrize("tasks", [(), ("en-it", "en-it")])
def test_tasks_must_be_non_empty_and_unique(tasks):
    with pytest.raises(DataError, match="tasks must be non-empty and unique"):
        TaskSet("bad", "translation", tasks, "test")


def test_a_task_set_kind_and_source_are_checked():
    with pytest.raises(DataError, match="kind must be 'translation' or 'lm'"):
        TaskSet("bad", "mt", ("en-it",), "test")
    with pytest.raises(DataError, match=r"a hub set names its corpus \(wmt, opus100 or mc4\)"):
        TaskSet("bad", "translation", ("en-it",), "test", source="hub")
    with pytest.raises(DataError, match=r"a hub set names its corpus"):
        TaskSet("bad", "translation", ("en-it",), "test", hub="wmt")  # a DDTP set naming a hub corpus


def test_eval_size_is_the_task_sets_capped_by_the_preset():
    ts = TaskSet("x", "translation", ("en-it",), "test", n_eval=500)
    assert ts.eval_size("smoke") == presets.get("smoke").max_eval == 20
    assert ts.eval_size("mini") == 500 and presets.get("mini").max_eval is None
    assert TaskSet("y", "translation", ("en-it",), "test", n_eval=10).eval_size("smoke") == 10  # below the cap


def test_a_cap_keeps_the_tasks_imbalanced_so_temperatures_still_differ():
    # the largest task keeps the cap; the others their share of it (ratios up to 10x exact)
    assert capped_counts({"hi": 4000, "mid": 1000}, 400) == {"hi": 400, "mid": 100}
    # a larger ratio becomes 10x, not 1x: a 106k : 1k pair capped at 400 is still imbalanced
    assert capped_counts({"en-it": 106_000, "en-fi": 1_000}, 400) == {"en-it": 400, "en-fi": 40}
    assert capped_counts({"a": 106_000, "b": 12}, 400) == {"a": 400, "b": 12}  # a task never gains examples
    assert capped_counts({"a": 300, "b": 7}, 400) == {"a": 300, "b": 7}  # under the cap: all kept
    assert capped_counts({"a": 5000, "b": 900}, None) == {"a": 5000, "b": 900}
