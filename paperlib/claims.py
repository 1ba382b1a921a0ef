"""Claims: each statement a paper draws from a figure, as a predicate over our results.

A `Verdict` says whether the claim holds at our scale (holds / does not hold /
inconclusive) with the numbers behind it. Notebooks compute verdicts and `record` them;
`paperlib.report` puts them next to the figures. A claim that fails is reported, never
tuned away.

Comparisons use every seed available: a difference counts only when it exceeds the spread
between seeds (or a stated minimum margin), otherwise the verdict is "inconclusive".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import paths

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"


@dataclass(frozen=True)
class Verdict:
    claim: str                  # the paper's statement, in words
    reference: str              # where the paper makes it ("Order Matters, Fig. 2")
    status: str                 # holds | does not hold | inconclusive
    numbers: dict = field(default_factory=dict)
    note: str = ""              # what might explain a failure, caveats

    def __post_init__(self):
        if self.status not in (HOLDS, FAILS, INCONCLUSIVE):
            raise ValueError(f"status must be {HOLDS!r}, {FAILS!r} or {INCONCLUSIVE!r}, got {self.status!r}")


def _clean(x):
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return round(float(x), 4)
    if isinstance(x, np.integer):
        return int(x)
    return x


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


def verdict(claim: str, reference: str, status: str, note: str = "", **numbers) -> Verdict:
    return Verdict(claim, reference, status, _clean(numbers), note)


# ------------------------------------------------------------------------------ storage

def claims_dir(preset: str) -> Path:
    return paths.runs_dir() / "claims" / preset


def record(notebook: str, preset: str, title: str, verdicts: list[Verdict], out_dir: Path | None = None) -> Path:
    """Save a notebook's verdicts (replacing its previous ones) for the report."""
    out = Path(out_dir or claims_dir(preset))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{notebook}.json"
    path.write_text(json.dumps({"notebook": notebook, "title": title, "preset": preset,
                                "verdicts": [asdict(v) for v in verdicts]}, indent=2, ensure_ascii=False))
    return path


def load(preset: str, in_dir: Path | None = None) -> dict[str, dict]:
    d = Path(in_dir or claims_dir(preset))
    return {p.stem: json.loads(p.read_text()) for p in sorted(d.glob("*.json"))} if d.is_dir() else {}


def table(verdicts: list[Verdict]):
    """Verdicts as a DataFrame for display in a notebook."""
    import pandas as pd

    return pd.DataFrame([{"claim": v.claim, "paper": v.reference, "verdict": v.status,
                          "numbers": json.dumps(v.numbers, ensure_ascii=False), "note": v.note} for v in verdicts])
