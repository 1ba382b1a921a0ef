"""The claims machinery the notebooks used before claims became library predicates:
verdicts decided in the notebook with a seed-spread margin. Kept only while notebooks are
ported to `paperlib.claims.order_matters` / `upweight`; its verdicts are marked in the
report as notebook-decided."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"


@dataclass(frozen=True)
class NotebookVerdict:
    claim: str                  # the paper's statement, in words
    reference: str              # where the paper makes it ("Order Matters, Fig. 2")
    status: str                 # holds | does not hold | inconclusive
    numbers: dict = field(default_factory=dict)
    note: str = ""

    def __post_init__(self):
        if self.status not in (HOLDS, FAILS, INCONCLUSIVE):
            raise ValueError(f"status must be {HOLDS!r}, {FAILS!r} or {INCONCLUSIVE!r}, got {self.status!r}")

    def to_dict(self) -> dict:
        from .core import _clean

        return {"id": "", "claim": {"statement": self.claim, "reference": self.reference, "paper": "", "paper_number": "",
                                    "gates": [], "minimum": None, "statistic": "decided in the notebook (legacy)"},
                "status": self.status, "scope": "", "effect": None, "gates": [], "numbers": _clean(self.numbers),
                "note": self.note}


def better(a, b, *, lower_is_better: bool = True, margin: float = 0.0) -> str:
    """Is A better than B? a, b: one value per seed. HOLDS when A's mean beats B's by more
    than max(margin, spread of A, spread of B); FAILS when B beats A by that much;
    otherwise INCONCLUSIVE. With one seed each, the spread is 0 and only `margin` guards."""
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    diff = (b.mean() - a.mean()) if lower_is_better else (a.mean() - b.mean())
    guard = max(margin, np.ptp(a), np.ptp(b))
    if diff > guard:
        return HOLDS
    if diff < -guard:
        return FAILS
    return INCONCLUSIVE


def at_least(value: float, threshold: float) -> str:
    return HOLDS if value >= threshold else FAILS


def verdict(claim: str, reference: str, status: str, note: str = "", **numbers) -> NotebookVerdict:
    return NotebookVerdict(claim, reference, status, numbers, note)
