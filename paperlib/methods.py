"""Training methods as typed specs: one frozen dataclass per method of both papers,
validated on construction, each with `plan(sizes, batch_size)` that builds its
`mixing.Plan` once the task sizes are known.

A config's `plan:` section names a method and its fields (YAML / JSON):

    plan: {method: temperature, steps: 3000, tau: 5}
    plan: {method: order_matters, pretrain_steps: 2000, finetune_steps: 1000, pretrain_on: en-it, rates: [0.5, 0.5]}

Adding a method: write its dataclass here (fields with a docstring each, checks in
`__post_init__`, a `plan()` calling a builder of `paperlib.mixing`) and add it to METHODS.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import ClassVar, Mapping

from . import mixing
from .checks import coerce
from .mixing import LR_SCHEDULES, Plan


def _positive_int(spec, name: str) -> None:
    value = getattr(spec, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"plan.{name} must be a whole number of steps >= 1, got {value!r}")


def _check_lr_schedule(spec) -> None:
    if spec.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"plan.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {spec.lr_schedule!r}")


def _check_tau(value, name: str = "tau") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not value > 0:
        raise ValueError(f"plan.{name} must be a temperature > 0 (1 = proportional, large = uniform), got {value!r}")


def _tuple_of_names(spec, name: str) -> None:
    value = getattr(spec, name)
    names = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, (list, tuple)) else ()
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"plan.{name} must be a task name or a list of task names, got {value!r}")
    object.__setattr__(spec, name, names)


def _rates_or_tau(spec) -> None:
    """Exactly one of `rates` (explicit sampling rates) or `tau` (temperature)."""
    if (spec.tau is None) == (spec.rates is None):
        raise ValueError("plan needs exactly one of tau (a temperature) or rates (sampling rates per task)")
    if spec.tau is not None:
        _check_tau(spec.tau)
    else:
        object.__setattr__(spec, "rates", tuple(spec.rates))
        mixing.explicit(spec.rates)


def _common(spec, *step_fields: str) -> None:
    for name in step_fields:
        _positive_int(spec, name)
    _check_lr_schedule(spec)


@dataclass(frozen=True)
class Static:
    """Static sampling at explicit rates for the whole run (Order Matters' baseline, which
    that paper calls scalarization)."""

    method: ClassVar[str] = "static"
    steps: int
    """Optimizer steps of the run."""
    rates: tuple[float, ...]
    """Sampling rate per task, in the task set's order; they sum to 1."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps")
        object.__setattr__(self, "rates", tuple(self.rates))
        mixing.explicit(self.rates)

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes: Mapping[str, int], batch_size: int) -> Plan:
        return mixing.static(sizes, self.steps, rates=self.rates, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class Temperature:
    """Temperature sampling p_i ∝ D_i^(1/τ) for the whole run (Upsample or Upweight? §2.1)."""

    method: ClassVar[str] = "temperature"
    steps: int
    """Optimizer steps of the run."""
    tau: float
    """Temperature: 1 = proportional to size, large = uniform."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps")
        _check_tau(self.tau)

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        return mixing.static(sizes, self.steps, tau=self.tau, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class Scalarization:
    """Proportional sampling with loss weights p_τ / p_1, the same expected loss as
    temperature sampling at τ (Upsample or Upweight? Theorem 1)."""

    method: ClassVar[str] = "scalarization"
    steps: int
    """Optimizer steps of the run."""
    tau: float
    """The temperature whose mixture the loss weights emulate."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps")
        _check_tau(self.tau)

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        return mixing.scalarized(sizes, self.steps, tau=self.tau, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class Cooldown:
    """COOLDOWN: τ = tau_high until `switch`, then tau_low, no reset (Upsample or Upweight? §4)."""

    method: ClassVar[str] = "cooldown"
    steps: int
    """Optimizer steps of the run."""
    switch: int
    """The step at which the temperature drops; 0 < switch < steps."""
    tau_high: float = 5.0
    """Temperature before the switch."""
    tau_low: float = 1.0
    """Temperature after the switch."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps", "switch")
        _check_tau(self.tau_high, "tau_high")
        _check_tau(self.tau_low, "tau_low")
        if not self.switch < self.steps:
            raise ValueError(f"plan.switch ({self.switch}) must be before the end of the run ({self.steps} steps)")

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        return mixing.cooldown(sizes, self.steps, self.switch, tau_high=self.tau_high, tau_low=self.tau_low,
                               lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class Increasing:
    """The increasing ablation: τ = tau_low until `switch`, then tau_high (Upsample or Upweight? Fig. 7)."""

    method: ClassVar[str] = "increasing"
    steps: int
    """Optimizer steps of the run."""
    switch: int
    """The step at which the temperature rises; 0 < switch < steps."""
    tau_low: float = 1.0
    """Temperature before the switch."""
    tau_high: float = 5.0
    """Temperature after the switch."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        Cooldown.__post_init__(self)

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        return mixing.increasing(sizes, self.steps, self.switch, tau_low=self.tau_low, tau_high=self.tau_high,
                                 lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class Dense:
    """A linear temperature schedule: τ moved linearly from tau_start to tau_end (either way:
    decreasing, as Upsample or Upweight? Fig. 5's dense schedule, or increasing) every `every`
    steps over [start, end), reaching tau_end at `end` -- the step after the run's last with
    the defaults (every=1 over the whole run: τ changes at every step)."""

    method: ClassVar[str] = "dense"
    steps: int
    """Optimizer steps of the run."""
    tau_start: float = 5.0
    """Temperature at `start` (and before)."""
    tau_end: float = 1.0
    """Temperature at `end` (and after)."""
    start: int = 0
    """First step of the interpolation."""
    end: int | None = None
    """Last step of the interpolation (default: the end of the run)."""
    every: int = 1
    """Steps between two changes of τ."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps", "every")
        for name in ("tau_start", "tau_end"):
            _check_tau(getattr(self, name), name)
            if getattr(self, name) == math.inf:  # inf + frac * (1 - inf) is NaN: no line to move along
                raise ValueError(f"plan.{name} of a dense schedule must be finite (τ moves linearly; "
                                 f"100 is near-uniform), got inf")
        end = self.steps if self.end is None else self.end
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (self.start, end)) \
                or not 0 <= self.start < end <= self.steps:
            raise ValueError(f"plan needs 0 <= start < end <= steps, got start={self.start!r}, end={self.end!r}, "
                             f"steps={self.steps}")

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        return mixing.dense(sizes, self.steps, tau_start=self.tau_start, tau_end=self.tau_end, start=self.start,
                            end=self.end, every=self.every, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class UniMax:
    """UniMax (Chung et al., 2023): the run's example budget spread as uniformly as
    possible with at most `max_epochs` passes over any task."""

    method: ClassVar[str] = "unimax"
    steps: int
    """Optimizer steps of the run (the budget is steps × batch size examples)."""
    max_epochs: float
    """The most times any task may be repeated (UniMax's N)."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps")
        if isinstance(self.max_epochs, bool) or not isinstance(self.max_epochs, (int, float)) or not self.max_epochs > 0 \
                or not math.isfinite(self.max_epochs):  # mixing.unimax needs a cap
            raise ValueError(f"plan.max_epochs must be > 0 and finite, got {self.max_epochs!r}")

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        return mixing.unimax_plan(sizes, self.steps, batch_size, self.max_epochs, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class OrderMatters:
    """Pre-train on the high-resource task(s), reset optimizer state and LR schedule, then
    jointly fine-tune on all tasks at `rates` or `tau` (Order Matters §3)."""

    method: ClassVar[str] = "order_matters"
    pretrain_steps: int
    """Steps of pre-training (Order Matters' N1)."""
    finetune_steps: int
    """Steps of joint fine-tuning after the reset."""
    pretrain_on: tuple[str, ...]
    """The task(s) pre-trained on, sampled uniformly among themselves."""
    rates: tuple[float, ...] | None = None
    """Fine-tuning sampling rates per task (give rates or tau)."""
    tau: float | None = None
    """Fine-tuning temperature (give rates or tau)."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule of each phase (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "pretrain_steps", "finetune_steps")
        _tuple_of_names(self, "pretrain_on")
        _rates_or_tau(self)

    @property
    def total_steps(self) -> int:
        return self.pretrain_steps + self.finetune_steps

    def plan(self, sizes, batch_size):
        return mixing.order_matters(sizes, self.pretrain_steps, self.finetune_steps, pretrain_on=self.pretrain_on,
                                    tau=self.tau, rates=self.rates, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class Restart:
    """The restart baseline: a static mixture, a reset of optimizer state and LR schedule,
    the same mixture again (Order Matters §4)."""

    method: ClassVar[str] = "restart"
    first_steps: int
    """Steps before the reset (the pre-training length of the run it controls for)."""
    second_steps: int
    """Steps after the reset."""
    rates: tuple[float, ...] | None = None
    """Sampling rates per task (give rates or tau)."""
    tau: float | None = None
    """Temperature (give rates or tau)."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule of each phase (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "first_steps", "second_steps")
        _rates_or_tau(self)

    @property
    def total_steps(self) -> int:
        return self.first_steps + self.second_steps

    def plan(self, sizes, batch_size):
        return mixing.restart(sizes, self.first_steps, self.second_steps, tau=self.tau, rates=self.rates,
                              lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class FinetuneOnly:
    """Classic transfer learning: pre-train on the high-resource task(s), reset, train on
    the low-resource task(s) only (Order Matters Fig. 6)."""

    method: ClassVar[str] = "finetune_only"
    pretrain_steps: int
    """Steps of pre-training."""
    finetune_steps: int
    """Steps of fine-tuning after the reset."""
    pretrain_on: tuple[str, ...]
    """The task(s) pre-trained on."""
    finetune_on: tuple[str, ...]
    """The task(s) fine-tuned on."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule of each phase (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "pretrain_steps", "finetune_steps")
        _tuple_of_names(self, "pretrain_on")
        _tuple_of_names(self, "finetune_on")

    @property
    def total_steps(self) -> int:
        return self.pretrain_steps + self.finetune_steps

    def plan(self, sizes, batch_size):
        return mixing.finetune_only(sizes, self.pretrain_steps, self.finetune_steps, pretrain_on=self.pretrain_on,
                                    finetune_on=self.finetune_on, lr_schedule=self.lr_schedule)


@dataclass(frozen=True)
class DoReMi:
    """Static sampling at DoReMi's domain weights (Xie et al., 2023), learned beforehand by
    a proxy model against a reference model (`paperlib.doremi.learn_weights`)."""

    method: ClassVar[str] = "doremi"
    steps: int
    """Optimizer steps of the run."""
    weights: tuple[float, ...]
    """The learned domain weights per task, in the task set's order; they sum to 1."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule over the run (one of mixing.LR_SCHEDULES)."""

    def __post_init__(self):
        _common(self, "steps")
        object.__setattr__(self, "weights", tuple(self.weights))
        mixing.explicit(self.weights)

    @property
    def total_steps(self) -> int:
        return self.steps

    def plan(self, sizes, batch_size):
        plan = mixing.static(sizes, self.steps, rates=self.weights, lr_schedule=self.lr_schedule)
        return dataclasses.replace(plan, method="doremi")


Method = typing.Union[Static, Temperature, Scalarization, Cooldown, Increasing, Dense, UniMax, OrderMatters, Restart,
                      FinetuneOnly, DoReMi]
# the one registry: a config's `method:` name -> its spec
METHODS: dict[str, type] = {cls.method: cls for cls in typing.get_args(Method)}


def to_dict(spec) -> dict:
    """{"method": name, **fields} (tuples as lists), as configs store it."""
    return {"method": spec.method, **{f.name: (list(v) if isinstance(v := getattr(spec, f.name), tuple) else v)
                                      for f in dataclasses.fields(spec)}}


def from_dict(data: dict, where: str = "plan") -> Method:
    """The spec named by data["method"]; unknown methods or fields, and missing fields,
    are one-line errors that list what is valid."""
    if not isinstance(data, dict) or "method" not in data:
        raise ValueError(f"{where} must be a mapping with a 'method' (one of {', '.join(METHODS)})")
    name = data["method"]
    if name not in METHODS:
        raise ValueError(f"unknown {where}.method {name!r}; valid: {', '.join(METHODS)}")
    cls = METHODS[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    params = {k: v for k, v in data.items() if k != "method"}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ValueError(f"{where} method {name!r} has no field(s) {', '.join(unknown)}; its fields: {', '.join(fields)}")
    required = [n for n, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [n for n in required if n not in params]
    if missing:
        raise ValueError(f"{where} method {name!r} needs {', '.join(missing)}; its fields: {', '.join(fields)}")
    return cls(**{k: coerce(fields[k].type, v, f"{where}.{k}") for k, v in params.items()})
