"""Method specs: validated on construction, round-trip through configs, one plan each."""

from dataclasses import dataclass
from typing import ClassVar

import pytest

from paperlib import config, methods, mixing
from paperlib.methods import _check_tau, _common, _tuple_of_names

SIZES = {"en-it": 1000, "en-fi": 10}


EXAMPLES = [
    methods.Static(10, (0.5, 0.5)),
    methods.Temperature(10, 5.0),
    methods.Scalarization(10, 5.0),
    methods.Cooldown(10, 4),
    methods.Increasing(10, 4),
    methods.Dense(10, every=2),
    methods.UniMax(10, 3),
    methods.OrderMatters(6, 4, "en-it", rates=(0.5, 0.5)),
    methods.Restart(6, 4, tau=2.0),
    methods.FinetuneOnly(6, 4, "en-it", "en-fi"),
    methods.DoReMi(10, (0.3, 0.7)),
]
"""One example of every method: a method added to `methods.Method` without one here fails
`test_every_method_has_an_example` (and so gets the round-trip and plan checks below)."""


def test_every_method_has_an_example():
    assert {s.method for s in EXAMPLES} == set(methods.METHODS)


def test_every_method_names_its_mixture_in_a_run_listing():
    from paperlib.store import mixture_label

    labels = {s.method: mixture_label(config.TrainConfig(plan=s)) for s in EXAMPLES}
    assert all(label != "-" for m, label in labels.items() if m != "finetune_only"), labels  # FT-only mixes nothing
    assert labels["dense"] == "τ=5→1 linear" and labels["cooldown"] == "τ=5→1"


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda s: s.method)
def test_every_method_round_trips_and_builds_its_plan(spec):
    again = methods.from_dict(methods.to_dict(spec))
    assert again == spec
    plan = spec.plan(SIZES, batch_size=4)
    assert plan.total_steps == spec.total_steps == 10
    assert plan.tasks == tuple(SIZES)
    assert set(methods.METHODS) >= {spec.method}


def test_plans_are_the_methods_of_the_papers():
    om = methods.OrderMatters(6, 4, "en-it", rates=(0.2, 0.8)).plan(SIZES, 4)
    assert om.mixture_at(0).probs == (1.0, 0.0) and om.mixture_at(6).probs == pytest.approx((0.2, 0.8))
    assert om.phases[1].reset  # optimizer state and LR schedule restart
    cd = methods.Cooldown(10, 4, tau_high=5.0, tau_low=1.0).plan(SIZES, 4)
    assert cd.mixture_at(3).probs == pytest.approx(tuple(mixing.temperature([1000, 10], 5.0)))
    assert cd.mixture_at(4).probs == pytest.approx((1000 / 1010, 10 / 1010))
    s = methods.Scalarization(10, 5.0).plan(SIZES, 4).mixture_at(0)
    assert s.probs == pytest.approx((1000 / 1010, 10 / 1010)) and s.w[1] > 1 > s.w[0]  # Theorem 1 weights
    assert methods.DoReMi(10, (0.3, 0.7)).plan(SIZES, 4).method == "doremi"


@pytest.mark.parametrize("data, message", [
    ({"method": "temperature", "steps": 0, "tau": 1}, "plan.steps must be a whole number of steps >= 1"),
    ({"method": "temperature", "steps": True, "tau": 1}, "plan.steps must be a whole number"),
    ({"method": "temperature", "steps": 10, "tau": -1}, "plan.tau must be a temperature > 0"),
    ({"method": "temperature", "steps": 10}, "needs tau"),
    ({"method": "static", "steps": 10, "rates": [0.3, 0.3]}, "must sum to 1"),
    ({"method": "cooldown", "steps": 10, "switch": 10}, "switch .10. must be before the end"),
    ({"method": "order_matters", "pretrain_steps": 5, "finetune_steps": 5, "pretrain_on": "en-it"},
     "exactly one of tau .* or rates"),
    ({"method": "order_matters", "pretrain_steps": 5, "finetune_steps": 5, "pretrain_on": [], "tau": 1},
     "pretrain_on must be a task name"),
    ({"method": "dense", "steps": 10, "start": 5, "end": 3}, "0 <= start < end <= steps"),
    ({"method": "unimax", "steps": 10, "max_epochs": 0}, "max_epochs must be > 0"),
    ({"method": "restart", "first_steps": 5, "second_steps": 5, "tau": 1, "lr_schedule": "linear"},
     "lr_schedule must be one of"),
    ({"steps": 10}, "must be a mapping with a 'method'"),
])
def test_bad_specs_are_one_line_errors(data, message):
    with pytest.raises(ValueError, match=message):
        methods.from_dict(data)


def test_yaml_strings_and_lists_are_coerced():
    spec = methods.from_dict({"method": "restart", "first_steps": 5, "second_steps": 5, "tau": "1e0"})
    assert spec.tau == 1.0
    assert methods.from_dict({"method": "static", "steps": 5, "rates": [0.5, 0.5]}).rates == (0.5, 0.5)


def test_a_plan_for_the_wrong_tasks_is_refused_when_built():
    with pytest.raises(ValueError, match="unknown task 'en-de'"):
        methods.OrderMatters(5, 5, "en-de", tau=1.0).plan(SIZES, 4)
    with pytest.raises(ValueError, match="rates has 3 entries but there are 2 tasks"):
        methods.Static(5, (0.2, 0.3, 0.5)).plan(SIZES, 4)


@dataclass(frozen=True)
class WarmThenTemperature:
    """The README's extension example, verbatim."""

    method: ClassVar[str] = "warm_then_temperature"
    warm_steps: int
    steps: int
    first_on: tuple[str, ...]
    tau: float
    lr_schedule: str = "inverse_sqrt"

    def __post_init__(self):
        _common(self, "warm_steps", "steps")
        _tuple_of_names(self, "first_on")
        _check_tau(self.tau)

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        tasks = tuple(sizes)
        first = mixing._one_hot(tasks, self.first_on)
        later = mixing.Mixture(tuple(mixing.temperature(list(sizes.values()), self.tau)))
        schedule = mixing.Stepwise(((0, first), (self.warm_steps, later)))
        return mixing.Plan(tasks, (mixing.Phase("main", self.steps, schedule, lr_schedule=self.lr_schedule),),
                           method=self.method)


def test_a_new_method_is_one_dataclass(monkeypatch, tiny_cfg, tmp_path):
    from paperlib.files import load_yaml

    monkeypatch.setitem(methods.METHODS, WarmThenTemperature.method, WarmThenTemperature)
    cfg = config.from_dict({"plan": {"method": "warm_then_temperature", "warm_steps": 4, "steps": 8,
                                     "first_on": "en-it", "tau": 5}})
    # its fields are real types here (no `from __future__ import annotations`), read from YAML all the same
    assert config.from_dict(load_yaml("plan: {method: warm_then_temperature, warm_steps: 4e0, steps: 8, "
                                      "first_on: [en-it], tau: 5e0}")).plan == cfg.plan
    cfg = config.with_overrides(cfg, ["plan.tau=3"])
    plan = config.build_plan(cfg, SIZES)
    assert plan.mixture_at(3).probs == (1.0, 0.0)
    assert plan.mixture_at(4).probs == pytest.approx(tuple(mixing.temperature([1000, 10], 3)))
    # and the trainer runs it as it is
    from paperlib import store
    from paperlib.train import train

    run = tiny_cfg(methods.to_dict(cfg.plan))
    train(run, tmp_path / "r", progress=False)
    assert store.read_metrics(tmp_path / "r")[-1]["final"]


def test_a_dense_plan_with_an_infinite_tau_is_a_config_error():
    with pytest.raises(ValueError, match="plan.tau_start of a dense schedule must be finite"):
        methods.Dense(steps=100, tau_start=float("inf"))


# ------------------------------------------------------------------ mutation audit

@pytest.mark.parametrize("make, message", [
    (lambda: methods.Temperature(10, 0), "plan.tau must be a temperature > 0"),         # 0 is no temperature
    (lambda: methods.Increasing(10, 10), r"plan.switch \(10\) must be before the end"),
    (lambda: methods.Increasing(10, 4, tau_low=0), "plan.tau_low must be a temperature > 0"),
    (lambda: methods.Cooldown(10, 4, tau_low=-1), "plan.tau_low must be a temperature > 0"),
    (lambda: methods.Dense(10, start=4, end=4), "0 <= start < end <= steps"),           # an empty interpolation
    (lambda: methods.UniMax(10, True), "plan.max_epochs must be > 0"),
    (lambda: methods.DoReMi(10, (0.3, 0.3)), "must sum to 1"),
    (lambda: methods.OrderMatters(5, 5, "en-it", rates=(0.3, 0.3)), "must sum to 1"),
    (lambda: methods.Restart(5, 5, rates=(-0.5, 1.5)), "sampling rates"),
])
def test_each_methods_own_checks_refuse_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_task_names_become_tuples_and_specs_store_lists():
    ft = methods.FinetuneOnly(6, 4, "en-it", "en-fi")
    assert ft.pretrain_on == ("en-it",) and ft.finetune_on == ("en-fi",)
    d = methods.to_dict(methods.OrderMatters(6, 4, "en-it", rates=(0.2, 0.8)))
    # JSON and YAML have lists only: what a config file stores (and --set compares against)
    assert d == {"method": "order_matters", "pretrain_steps": 6, "finetune_steps": 4, "pretrain_on": ["en-it"],
                 "rates": [0.2, 0.8], "tau": None, "lr_schedule": "inverse_sqrt"}


def test_a_list_field_set_to_a_scalar_is_a_one_line_error():
    cfg = config.TrainConfig(plan=methods.Static(10, (0.5, 0.5)))
    with pytest.raises(ValueError, match=r"--set plan.rates takes a list, e.g. plan.rates=\[0.5,0.5\]"):
        config.with_overrides(cfg, ["plan.rates=0.5"])
    assert config.with_overrides(cfg, ["plan.rates=[0.2,0.8]"]).plan.rates == (0.2, 0.8)


def test_yaml_exponent_numbers_in_plans_are_numbers():
    """YAML 1.1 reads 3e3 and 5e-1 (no dot) as strings: a plan's step counts and its lists of
    rates take them as the numbers they are, as the config's own fields do (a bare 3e3 was
    'not a number'; rates stayed strings in the spec, which `runs ls` could not print)."""
    from paperlib.files import load_yaml
    from paperlib.store import mixture_label

    spec = methods.from_dict(load_yaml("{method: static, steps: 3e3, rates: [5e-1, 5e-1]}"))
    assert spec == methods.Static(3000, (0.5, 0.5)) and isinstance(spec.steps, int)
    assert mixture_label(config.TrainConfig(plan=spec)) == "rates=0.5/0.5"
    cfg = config.TrainConfig(plan=methods.Temperature(10, 1.0))
    assert config.with_overrides(cfg, ["plan.steps=1e3"]).plan.steps == 1000  # JSON's 1000.0, as batch_size=1e2
    for data, message in (({"method": "temperature", "steps": "12.5", "tau": 1}, "plan.steps must be a whole number"),
                          ({"method": "static", "steps": 10, "rates": ["a", 0.5]}, "plan.rates must be a list of numbers")):
        with pytest.raises(ValueError, match=message):
            methods.from_dict(data)


@pytest.mark.parametrize("make, message", [
    (lambda: methods.OrderMatters(5, 5, 3, tau=1.0), "plan.pretrain_on must be a task name or a list of task names, got 3"),
    (lambda: methods.UniMax(10, float("inf")), "plan.max_epochs must be > 0 and finite, got inf"),
    (lambda: methods.Dense(10, end=5.5), "0 <= start < end <= steps"),
    (lambda: methods.Dense(10, end=True), "0 <= start < end <= steps"),
])
def test_specs_the_plan_builders_would_refuse_are_refused_at_construction(make, message):
    """A task "name" that is no string was a TypeError; UniMax with max_epochs inf passed, to
    fail once the data were prepared ("UniMax max_epochs must be > 0, got inf"); a dense
    schedule ending at step True (trained as 1) or 5.5 passed and trained."""
    with pytest.raises(ValueError, match=message):
        make()
