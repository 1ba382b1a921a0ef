"""Mixing strategies, schedules and training plans.

Everything here is a pure function of task sizes and parameters: no RNG, no I/O. Drawing
examples from a mixture is the sampler's job (`paperlib.sampler`).

Vocabulary
----------
sizes     number of training examples per task (array-like, or a mapping task -> size
          where task names matter); positive.
probs     sampling probability per task, shape (K,), non-negative, sums to 1.
Mixture   probs plus per-task loss weights (scalarization multiplies per-example losses).
schedule  step-within-phase -> Mixture.
Phase     steps, schedule, whether optimizer state and LR schedule restart, LR schedule name.
Plan      the task names and the phases of one training run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

_ATOL = 1e-6  # tolerance for "sums to 1"

# --------------------------------------------------------------------------------------
# validation helpers


def _as_sizes(sizes) -> np.ndarray:
    if isinstance(sizes, Mapping):
        sizes = list(sizes.values())
    arr = np.asarray(sizes, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"sizes must be a non-empty 1-D sequence of task sizes, got {sizes!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(
            f"task sizes must be finite and > 0 (a task needs at least one example), got {arr.tolist()}"
        )
    return arr


def _check_tau(tau) -> float:
    try:
        t = float(tau)
    except (TypeError, ValueError):
        raise ValueError(f"temperature tau must be a number > 0, got {tau!r}") from None
    if not math.isfinite(t) and t != math.inf:
        raise ValueError(f"temperature tau must be > 0 (use math.inf for uniform), got {tau!r}")
    if t <= 0:
        raise ValueError(f"temperature tau must be > 0 (1 = proportional, large = uniform), got {tau!r}")
    return t


def _check_probs(probs, what: str = "probabilities") -> np.ndarray:
    arr = np.asarray(probs, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D vector, got {probs!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{what} must be finite and >= 0, got {arr.tolist()}")
    total = float(arr.sum())
    if abs(total - 1.0) > _ATOL:
        raise ValueError(f"{what} must sum to 1 (got sum {total:.6g} for {arr.tolist()}); normalise them")
    return arr / total


# --------------------------------------------------------------------------------------
# strategies: sizes -> probabilities


def proportional(sizes) -> np.ndarray:
    """Sample tasks in proportion to their sizes (temperature 1)."""
    d = _as_sizes(sizes)
    return d / d.sum()


def temperature(sizes, tau: float) -> np.ndarray:
    """p(i; tau) = D_i^(1/tau) / sum_j D_j^(1/tau) (paper B, section 2.1).

    tau = 1 is proportional, tau -> inf is uniform; tau = math.inf is accepted.
    Computed in log space so huge sizes and small tau do not overflow.
    """
    d = _as_sizes(sizes)
    t = _check_tau(tau)
    logits = np.log(d) / t
    logits -= logits.max()
    w = np.exp(logits)
    return w / w.sum()


def uniform(sizes) -> np.ndarray:
    """Every task equally often, whatever its size."""
    d = _as_sizes(sizes)
    return np.full(d.size, 1.0 / d.size)


def explicit(probs) -> np.ndarray:
    """User-given sampling rates, validated (non-negative, sum to 1)."""
    return _check_probs(probs, "sampling rates")


def unimax(sizes, budget: float, max_epochs: float) -> np.ndarray:
    """UniMax (Chung et al., ICLR 2023) sampling probabilities.

    Visit tasks from smallest to largest; each gets min(remaining / tasks_left,
    max_epochs * size) examples of the budget, which is then reduced. Probabilities are
    allocations / budget. If every task is capped before the budget is spent, the
    leftover is spread in proportion to the allocations (the caps are then a binding
    constraint and cannot all be honoured; this keeps probabilities summing to 1).

    budget      total examples the run will draw (steps * batch size).
    max_epochs  the most times any task may be repeated (UniMax's N).
    """
    d = _as_sizes(sizes)
    budget = float(budget)
    max_epochs = float(max_epochs)
    if not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"UniMax budget (examples to draw) must be > 0, got {budget!r}")
    if not math.isfinite(max_epochs) or max_epochs <= 0:
        raise ValueError(f"UniMax max_epochs must be > 0, got {max_epochs!r}")
    order = np.argsort(d, kind="stable")  # indices of tasks, smallest first
    alloc = np.zeros_like(d)
    remaining = budget
    for rank, i in enumerate(order):
        tasks_left = d.size - rank
        alloc[i] = min(remaining / tasks_left, max_epochs * d[i])
        remaining -= alloc[i]
    return alloc / alloc.sum()


# --------------------------------------------------------------------------------------
# Mixture


@dataclass(frozen=True)
class Mixture:
    """Sampling probabilities and per-task loss weights over a plan's tasks (same order).

    Stored as tuples so a Mixture is hashable and cannot be mutated; `p` and `w` give
    numpy views.
    """

    probs: tuple[float, ...]
    loss_weights: tuple[float, ...] | None = None

    def __post_init__(self):
        p = _check_probs(self.probs, "mixture probabilities")
        object.__setattr__(self, "probs", tuple(float(x) for x in p))
        if self.loss_weights is None:
            w = np.ones_like(p)
        else:
            w = np.asarray(self.loss_weights, dtype=np.float64)
            if w.shape != p.shape:
                raise ValueError(
                    f"loss_weights has {w.size} entries but the mixture has {p.size} tasks"
                )
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"loss weights must be finite and >= 0, got {w.tolist()}")
        object.__setattr__(self, "loss_weights", tuple(float(x) for x in w))

    @property
    def p(self) -> np.ndarray:
        return np.asarray(self.probs)

    @property
    def w(self) -> np.ndarray:
        return np.asarray(self.loss_weights)

    @property
    def num_tasks(self) -> int:
        return len(self.probs)

    def expected_weights(self) -> np.ndarray:
        """Effective task weights of the expected loss: p_i * w_i (normalised)."""
        e = self.p * self.w
        return e / e.sum()

    def to_dict(self) -> dict:
        return {"probs": list(self.probs), "loss_weights": list(self.loss_weights)}


def scalarization(target_probs, sizes) -> Mixture:
    """Sample proportionally and re-weight losses so the expected loss equals sampling
    with `target_probs` (paper B Theorem 1): w_i = p_i / p(i; 1)."""
    target = _check_probs(target_probs, "target probabilities")
    p1 = proportional(sizes)
    if target.size != p1.size:
        raise ValueError(f"target_probs has {target.size} tasks but sizes has {p1.size}")
    return Mixture(tuple(p1), tuple(target / p1))


# --------------------------------------------------------------------------------------
# schedules: step within a phase -> Mixture


@dataclass(frozen=True)
class Constant:
    mixture: Mixture

    def __call__(self, step: int) -> Mixture:
        return self.mixture

    def describe(self) -> dict:
        return {"kind": "constant", "mixture": self.mixture.to_dict()}

    def describe_until(self, limit: int) -> dict:
        return self.describe()


@dataclass(frozen=True)
class Stepwise:
    """Piecewise-constant: [(start_step, mixture), ...] with the first start at 0.

    COOLDOWN is Stepwise([(0, tau=5), (k, tau=1)]); the increasing ablation swaps them.
    """

    pieces: tuple[tuple[int, Mixture], ...]

    def __post_init__(self):
        pieces = tuple((int(s), m) for s, m in self.pieces)
        if not pieces:
            raise ValueError("a stepwise schedule needs at least one (start_step, mixture) piece")
        starts = [s for s, _ in pieces]
        if starts[0] != 0:
            raise ValueError(f"a stepwise schedule must start at step 0, got starts {starts}")
        if any(b <= a for a, b in zip(starts, starts[1:])):
            raise ValueError(f"stepwise start steps must be strictly increasing, got {starts}")
        sizes = {m.num_tasks for _, m in pieces}
        if len(sizes) != 1:
            raise ValueError(f"all mixtures in a schedule must cover the same tasks, got sizes {sizes}")
        object.__setattr__(self, "pieces", pieces)

    def __call__(self, step: int) -> Mixture:
        current = self.pieces[0][1]
        for start, mixture in self.pieces:
            if step >= start:
                current = mixture
            else:
                break
        return current

    def describe(self) -> dict:
        return {"kind": "stepwise", "pieces": [[s, m.to_dict()] for s, m in self.pieces]}

    def describe_until(self, limit: int) -> dict:
        """What the schedule does on steps [0, limit): a single piece is a constant."""
        live = tuple((s, m) for s, m in self.pieces if s < limit)
        return Constant(live[0][1]).describe() if len(live) == 1 else Stepwise(live).describe()


@dataclass(frozen=True)
class DenseTemperature:
    """tau interpolated linearly from tau_start to tau_end over [start, end) and
    re-evaluated every `every` steps (paper B Fig. 5, dense schedules). Before `start`
    tau_start applies, from `end` on tau_end."""

    sizes: tuple[float, ...]
    tau_start: float
    tau_end: float
    start: int
    end: int
    every: int = 1

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(float(x) for x in _as_sizes(self.sizes)))
        for tau in (self.tau_start, self.tau_end):
            if _check_tau(tau) == math.inf:  # inf + frac * (1 - inf) is NaN: no line to move along
                raise ValueError("a dense schedule moves tau linearly: tau_start and tau_end must be finite "
                                 "(100 is near-uniform), got inf")
        if not (0 <= self.start < self.end):
            raise ValueError(f"dense schedule needs 0 <= start < end, got start={self.start}, end={self.end}")
        if self.every < 1:
            raise ValueError(f"dense schedule `every` must be >= 1 step, got {self.every}")

    def tau_at(self, step: int) -> float:
        if step < self.start:
            return self.tau_start
        if step >= self.end:
            return self.tau_end
        snapped = self.start + ((step - self.start) // self.every) * self.every
        frac = (snapped - self.start) / (self.end - self.start)
        return self.tau_start + frac * (self.tau_end - self.tau_start)

    def __call__(self, step: int) -> Mixture:
        return Mixture(tuple(temperature(self.sizes, self.tau_at(step))))

    def describe(self) -> dict:
        return {
            "kind": "dense_temperature",
            "tau_start": self.tau_start,
            "tau_end": self.tau_end,
            "start": self.start,
            "end": self.end,
            "every": self.every,
        }

    def describe_until(self, limit: int) -> dict:
        if limit <= self.start:
            return Constant(self(0)).describe()
        return {**self.describe(), "until": min(limit, self.end)}


Schedule = Callable[[int], Mixture]


def describe_schedule(schedule: Schedule, limit: int | None = None) -> dict:
    """A JSON-able description (for run configs), restricted to steps [0, limit) when
    given. Arbitrary callables are named only."""
    if limit is not None and hasattr(schedule, "describe_until"):
        return schedule.describe_until(limit)
    if hasattr(schedule, "describe"):
        return schedule.describe()
    return {"kind": "callable", "name": getattr(schedule, "__qualname__", repr(schedule))}


# --------------------------------------------------------------------------------------
# phases and plans

LR_SCHEDULES = ("cosine", "inverse_sqrt", "constant_then_inverse_sqrt", "constant")


@dataclass(frozen=True)
class Phase:
    """One stretch of training.

    name         shown in logs ("pretrain", "finetune", "main").
    steps        optimizer steps in this phase (> 0).
    schedule     step within the phase -> Mixture.
    reset        at the phase start, restart optimizer state and the LR schedule
                 (warmup included) -- Order Matters' essential detail.
    lr_schedule  one of LR_SCHEDULES; the trainer evaluates it on the step within phase.
    """

    name: str
    steps: int
    schedule: Schedule
    reset: bool = False
    lr_schedule: str = "inverse_sqrt"

    def __post_init__(self):
        if int(self.steps) != self.steps or self.steps <= 0:
            raise ValueError(f"phase {self.name!r}: steps must be a positive integer, got {self.steps!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"phase {self.name!r}: unknown lr_schedule {self.lr_schedule!r}; valid: {', '.join(LR_SCHEDULES)}"
            )
        if not callable(self.schedule):
            raise ValueError(f"phase {self.name!r}: schedule must be callable step -> Mixture")

    def describe(self) -> dict:
        return {
            "name": self.name,
            "steps": self.steps,
            "reset": self.reset,
            "lr_schedule": self.lr_schedule,
            "schedule": describe_schedule(self.schedule),
        }


@dataclass(frozen=True)
class Plan:
    """Task names (the order of every Mixture) and the phases of one run."""

    tasks: tuple[str, ...]
    phases: tuple[Phase, ...]
    method: str = "custom"
    stop_at: int | None = None  # train only steps [0, stop_at) of this plan (a shared prefix)

    def __post_init__(self):
        tasks = tuple(self.tasks)
        if not tasks or len(set(tasks)) != len(tasks):
            raise ValueError(f"plan tasks must be non-empty and unique, got {tasks}")
        phases = tuple(self.phases)
        if not phases:
            raise ValueError("a plan needs at least one phase")
        for ph in phases:
            m = ph.schedule(0)
            if m.num_tasks != len(tasks):
                raise ValueError(
                    f"phase {ph.name!r} mixes {m.num_tasks} tasks but the plan has {len(tasks)}: {tasks}"
                )
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "phases", phases)
        full = sum(p.steps for p in phases)
        if self.stop_at is not None and not (0 < self.stop_at <= full):
            raise ValueError(f"stop_at must be in (0, {full}], got {self.stop_at}")

    @property
    def total_steps(self) -> int:
        """Steps of the full plan (phase lengths, which also set the LR schedules)."""
        return sum(p.steps for p in self.phases)

    @property
    def end_step(self) -> int:
        """The step training stops at: stop_at for a prefix, else total_steps."""
        return self.stop_at if self.stop_at is not None else self.total_steps

    def truncated(self, step: int) -> "Plan":
        """The same plan trained only up to `step` (phase lengths, hence LR schedules, unchanged)."""
        return Plan(self.tasks, self.phases, self.method, step)

    def phase_start(self, index: int) -> int:
        return sum(p.steps for p in self.phases[:index])

    def lr_segment(self, step: int) -> tuple[int, int, str]:
        """(steps since the last reset, length of that reset-to-reset stretch, LR schedule).

        The LR schedule restarts only at phases with reset=True (and at step 0); a phase
        without reset continues the previous schedule."""
        i, local = self.locate(step)
        first = max(j for j in range(i + 1) if j == 0 or self.phases[j].reset)
        last = min([j for j in range(i + 1, len(self.phases)) if self.phases[j].reset] + [len(self.phases)])
        start = self.phase_start(first)
        length = sum(p.steps for p in self.phases[first:last])
        return step - start, length, self.phases[i].lr_schedule

    def identity(self) -> dict:
        """What training under this plan actually does on steps [0, end_step): two plans
        with equal identities train identically (method names, unused schedule pieces and
        -- unless the LR schedule is cosine, whose decay depends on it -- the nominal length
        of the last, unfinished phase do not matter), which lets a run share another run's
        prefix: a restart baseline continues the static run it restarts."""
        phases, start = [], 0
        for ph in self.phases:
            if start >= self.end_step:
                break
            trained = min(ph.steps, self.end_step - start)
            entry = {
                "name": ph.name, "trained": trained, "reset": ph.reset, "lr_schedule": ph.lr_schedule,
                "schedule": describe_schedule(ph.schedule, trained if trained < ph.steps else None),
            }
            if ph.lr_schedule == "cosine":
                entry["steps"] = ph.steps
            phases.append(entry)
            start += ph.steps
        return {"tasks": list(self.tasks), "phases": phases, "end": self.end_step}

    def locate(self, step: int) -> tuple[int, int]:
        """Global step -> (phase index, step within that phase)."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        for i, ph in enumerate(self.phases):
            if step < ph.steps:
                return i, step
            step -= ph.steps
        raise ValueError(f"step is past the end of the plan ({self.total_steps} steps)")

    def segments(self, start: int, stop: int):
        """Yield (first, last) step ranges in [start, stop) over which the mixture is constant
        and no phase boundary falls: the sampler bucketing never mixes two mixtures."""
        step = start
        while step < stop:
            i, local = self.locate(step)
            phase_end = min(stop, self.phase_start(i) + self.phases[i].steps)
            m, end = self.mixture_at(step), step + 1
            while end < phase_end and self.mixture_at(end) == m:
                end += 1
            yield step, end
            step = end

    def mixture_at(self, step: int) -> Mixture:
        i, local = self.locate(step)
        return self.phases[i].schedule(local)

    def describe(self) -> dict:
        return {
            "method": self.method, "tasks": list(self.tasks), "stop_at": self.stop_at,
            "phases": [p.describe() for p in self.phases],
        }


# --------------------------------------------------------------------------------------
# plan builders, one per method in DESIGN.md's table


def _names_and_sizes(sizes: Mapping[str, float]) -> tuple[tuple[str, ...], np.ndarray]:
    if not isinstance(sizes, Mapping):
        raise ValueError("plan builders need sizes as a mapping {task name: number of examples}")
    return tuple(sizes), _as_sizes(sizes)


def _task_index(tasks: Sequence[str], name: str) -> int:
    if name not in tasks:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(tasks)}")
    return list(tasks).index(name)


def _one_hot(tasks: Sequence[str], names: Sequence[str]) -> Mixture:
    idx = [_task_index(tasks, n) for n in names]
    p = np.zeros(len(tasks))
    p[idx] = 1.0 / len(idx)
    return Mixture(tuple(p))


def _check_split(total: int, first: int, what: str) -> None:
    if not (0 < first < total):
        raise ValueError(f"{what} must be strictly between 0 and the total of {total} steps, got {first}")


def _mixture_for(tasks, d, tau=None, rates=None) -> Mixture:
    if (tau is None) == (rates is None):
        raise ValueError("give exactly one of tau (temperature) or rates (explicit sampling rates)")
    if rates is not None:
        if isinstance(rates, Mapping):
            unknown = set(rates) - set(tasks)
            if unknown:
                raise ValueError(f"unknown task(s) {sorted(unknown)} in rates; valid tasks: {', '.join(tasks)}")
            rates = [rates.get(t, 0.0) for t in tasks]
        p = explicit(rates)
        if p.size != len(tasks):
            raise ValueError(f"rates has {p.size} entries but there are {len(tasks)} tasks: {tasks}")
        return Mixture(tuple(p))
    return Mixture(tuple(temperature(d, tau)))


def static(sizes: Mapping[str, float], steps: int, *, tau=None, rates=None, lr_schedule="inverse_sqrt") -> Plan:
    """Static sampling for the whole run: temperature tau or explicit rates."""
    tasks, d = _names_and_sizes(sizes)
    m = _mixture_for(tasks, d, tau, rates)
    return Plan(tasks, (Phase("main", steps, Constant(m), lr_schedule=lr_schedule),), method="static")


def scalarized(sizes: Mapping[str, float], steps: int, *, tau=None, rates=None, lr_schedule="inverse_sqrt") -> Plan:
    """Proportional sampling with loss weights that emulate tau / rates in expectation."""
    tasks, d = _names_and_sizes(sizes)
    target = _mixture_for(tasks, d, tau, rates).p
    m = scalarization(target, d)
    return Plan(tasks, (Phase("main", steps, Constant(m), lr_schedule=lr_schedule),), method="scalarization")


def _two_temperatures(sizes, steps, switch, tau_first, tau_second, method, lr_schedule) -> Plan:
    tasks, d = _names_and_sizes(sizes)
    _check_split(steps, switch, "the switch step")
    sched = Stepwise(
        ((0, Mixture(tuple(temperature(d, tau_first)))), (switch, Mixture(tuple(temperature(d, tau_second)))))
    )
    return Plan(tasks, (Phase("main", steps, sched, lr_schedule=lr_schedule),), method=method)


def cooldown(sizes, steps: int, switch: int, *, tau_high=5.0, tau_low=1.0, lr_schedule="inverse_sqrt") -> Plan:
    """COOLDOWN (paper B): tau_high until `switch`, then tau_low; no reset."""
    return _two_temperatures(sizes, steps, switch, tau_high, tau_low, "cooldown", lr_schedule)


def increasing(sizes, steps: int, switch: int, *, tau_low=1.0, tau_high=5.0, lr_schedule="inverse_sqrt") -> Plan:
    """The increasing ablation (paper B Fig. 7): tau_low until `switch`, then tau_high."""
    return _two_temperatures(sizes, steps, switch, tau_low, tau_high, "increasing", lr_schedule)


def dense(sizes, steps: int, *, tau_start=5.0, tau_end=1.0, start=0, end=None, every=1, lr_schedule="inverse_sqrt") -> Plan:
    """Dense decreasing schedule: tau moved linearly every `every` steps over [start, end)."""
    tasks, d = _names_and_sizes(sizes)
    end = steps if end is None else end
    if end > steps:
        raise ValueError(f"dense schedule end ({end}) is past the run's {steps} steps")
    sched = DenseTemperature(tuple(d), tau_start, tau_end, start, end, every)
    return Plan(tasks, (Phase("main", steps, sched, lr_schedule=lr_schedule),), method="dense")


def unimax_plan(sizes, steps: int, batch_size: int, max_epochs: float, *, lr_schedule="inverse_sqrt") -> Plan:
    """UniMax with the run's example budget (steps * batch_size) and an epoch cap."""
    tasks, d = _names_and_sizes(sizes)
    p = unimax(d, steps * batch_size, max_epochs)
    return Plan(tasks, (Phase("main", steps, Constant(Mixture(tuple(p))), lr_schedule=lr_schedule),), method="unimax")


def order_matters(
    sizes, pretrain_steps: int, finetune_steps: int, *, pretrain_on: Sequence[str] | str,
    tau=None, rates=None, lr_schedule="inverse_sqrt",
) -> Plan:
    """Pre-train on the high-resource task(s), reset optimizer and LR, then jointly
    fine-tune on all tasks at `tau` or `rates` (paper A section 3)."""
    tasks, d = _names_and_sizes(sizes)
    hrl = [pretrain_on] if isinstance(pretrain_on, str) else list(pretrain_on)
    phases = (
        Phase("pretrain", pretrain_steps, Constant(_one_hot(tasks, hrl)), lr_schedule=lr_schedule),
        Phase("finetune", finetune_steps, Constant(_mixture_for(tasks, d, tau, rates)), reset=True, lr_schedule=lr_schedule),
    )
    return Plan(tasks, phases, method="order_matters")


def restart(sizes, first_steps: int, second_steps: int, *, tau=None, rates=None, lr_schedule="inverse_sqrt") -> Plan:
    """Restart baseline (paper A): static mixture, reset, same static mixture again. The
    first phase is named like the static plan's, so with a non-cosine LR schedule a restart
    run forked at first_steps continues the static run's prefix."""
    tasks, d = _names_and_sizes(sizes)
    m = _mixture_for(tasks, d, tau, rates)
    phases = (
        Phase("main", first_steps, Constant(m), lr_schedule=lr_schedule),
        Phase("restart", second_steps, Constant(m), reset=True, lr_schedule=lr_schedule),
    )
    return Plan(tasks, phases, method="restart")


def finetune_only(
    sizes, pretrain_steps: int, finetune_steps: int, *, pretrain_on: Sequence[str] | str,
    finetune_on: Sequence[str] | str, lr_schedule="inverse_sqrt",
) -> Plan:
    """Classic transfer learning (paper A Fig. 6): pre-train on the HRL, reset, then train
    on the LRL only."""
    tasks, _ = _names_and_sizes(sizes)
    hrl = [pretrain_on] if isinstance(pretrain_on, str) else list(pretrain_on)
    lrl = [finetune_on] if isinstance(finetune_on, str) else list(finetune_on)
    phases = (
        Phase("pretrain", pretrain_steps, Constant(_one_hot(tasks, hrl)), lr_schedule=lr_schedule),
        Phase("finetune", finetune_steps, Constant(_one_hot(tasks, lrl)), reset=True, lr_schedule=lr_schedule),
    )
    return Plan(tasks, phases, method="finetune_only")


def check_budget(plan: Plan, budget: int) -> Plan:
    """Raise unless the plan's phases add up to exactly `budget` steps."""
    if plan.total_steps != budget:
        parts = " + ".join(f"{p.name}={p.steps}" for p in plan.phases)
        raise ValueError(f"plan phases add up to {plan.total_steps} steps ({parts}), not the budget of {budget}")
    return plan
