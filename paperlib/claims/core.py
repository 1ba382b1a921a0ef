"""What a claim is, what a verdict is, and how one is decided.

A `Claim` is a statement of one of the papers, with a stable id, its reference, the
paper's own number, the regime gates it needs and the practical minimum effect that would
count. `decide` turns gates and an effect (oriented: positive = as the paper says) into
one of four verdicts:

    out of regime   a gate failed: the runs are not in the regime the paper's argument
                    needs (e.g. the models have not learned their task), so the claim is
                    not judged; the failed gate and its numbers say why
    holds           the 95% interval excludes zero in the claimed direction and the
                    estimate reaches the practical minimum
    does not hold   the interval lies below the practical minimum: the claimed effect is
                    absent at that size (or the opposite holds)
    inconclusive    anything else: the runs cannot tell -- always when an arm of a
                    seed-dependent effect has a single seed: its interval covers the
                    sentences but not the seed-to-seed spread, which one seed cannot
                    estimate (with 2+ seeds `stats` widens it by Student's t)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import paths
from .stats import Effect

HOLDS, FAILS, INCONCLUSIVE, OUT_OF_REGIME = "holds", "does not hold", "inconclusive", "out of regime"
MIN_SEEDS = 3
"""Seeds each arm of a seed-dependent effect (one with `Effect.seeds`) needs to be judged:
with fewer, the seed spread is too poorly measured for a verdict that would survive a rerun
(the presets that give verdicts run 3; tests/test_claims.py measures the A/A rate at 3)."""
STATUSES = (HOLDS, FAILS, INCONCLUSIVE, OUT_OF_REGIME)
STATUS_WORDS = {HOLDS: ("holds", "hold"), FAILS: ("does not hold", "do not hold"),
                INCONCLUSIVE: ("inconclusive", "inconclusive"), OUT_OF_REGIME: ("out of regime", "out of regime")}
"""(singular, plural) of each status, for counts in words ("1 holds", "6 hold")."""


def count_statuses(statuses, zeros: bool = False, sep: str = " · ") -> str:
    """"6 hold · 3 do not hold · 1 inconclusive": how many of `statuses` (verdict statuses) are
    each, in the report's order; "no verdict" for none. zeros: name the statuses none has too
    ("0 do not hold")."""
    statuses = list(statuses)
    counts = [(statuses.count(status), *STATUS_WORDS[status]) for status in STATUSES]
    return sep.join(f"{n} {one if n == 1 else many}" for n, one, many in counts if n or zeros) or "no verdict"


@dataclass(frozen=True)
class Gate:
    """One regime condition, measured on the runs."""

    name: str            # learned | overfits | pretrained | cooldown | ...
    passed: bool
    measured: str        # what was measured, with its numbers, in words
    numbers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    id: str              # stable, e.g. "order.fig2.pretrain_beats_static"
    paper: str           # "Order Matters" | "Upsample or Upweight?"
    reference: str       # "§4.1.2, Fig. 2"
    statement: str       # the paper's claim, in its words
    paper_number: str    # the paper's own number for it ("" where it gives none)
    gates: tuple[str, ...]
    minimum: float       # practical minimum effect, in the statistic's unit
    statistic: str       # what is compared, in words

    def __post_init__(self):
        if not self.minimum >= 0:
            raise ValueError(f"claim {self.id}: the practical minimum must be >= 0, got {self.minimum}")


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    status: str
    effect: Effect | None = None
    gates: tuple[Gate, ...] = ()
    numbers: dict = field(default_factory=dict)
    note: str = ""
    scope: str = ""      # which part of the results (a task set, a τ) when a claim is judged per part

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")

    def to_dict(self) -> dict:
        return {"id": self.claim.id, "claim": asdict(self.claim), "status": self.status, "scope": self.scope,
                "effect": self.effect.to_dict() if self.effect else None,
                "gates": [asdict(g) for g in self.gates], "numbers": _clean(self.numbers), "note": self.note}


def decide(claim: Claim, gates: list[Gate], effect: Effect | None) -> str:
    """The verdict for a claim given its gates and its effect (see the module docstring)."""
    if any(not g.passed for g in gates):
        return OUT_OF_REGIME
    if effect is None or too_few_seeds(effect):
        return INCONCLUSIVE
    if effect.low > 0 and effect.estimate >= claim.minimum:
        return HOLDS
    if effect.high < claim.minimum:
        return FAILS
    return INCONCLUSIVE


def too_few_seeds(effect: Effect) -> bool:
    """A seed-dependent effect with an arm of fewer than MIN_SEEDS seeds (an effect without
    seeds -- closed-form theory, a corpus count -- does not depend on them)."""
    return bool(effect.seeds) and min(effect.seeds) < MIN_SEEDS


def judge(claim: Claim, gates: list[Gate], effect: Effect | None, scope: str = "", note: str = "", **numbers) -> Verdict:
    """The claim's verdict on its gates and effect. A gate the claim does not declare, or no
    gate at all for a claim that declares some, is a wiring error, not a verdict: a judge
    that forgot its gates would otherwise decide on runs that were never checked. (A declared
    gate may be left out where it does not apply: Table 3's `scored` on losses.)"""
    undeclared = sorted({g.name for g in gates} - set(claim.gates))
    if undeclared or (claim.gates and not gates):
        raise ValueError(f"claim {claim.id} declares gates {', '.join(claim.gates) or 'none'} but was judged with "
                         f"{', '.join(g.name for g in gates) or 'none'}")
    status = decide(claim, gates, effect)
    if status == OUT_OF_REGIME and not note:
        note = "not judged: " + "; ".join(g.measured for g in gates if not g.passed)
    elif status == INCONCLUSIVE and effect is not None and too_few_seeds(effect):
        note = "; ".join(filter(None, [note, f"{_seeds(min(effect.seeds))} in an arm: too few to measure the "
                                             f"seed spread (a verdict needs ≥ {MIN_SEEDS} per arm)"]))
    return Verdict(claim, status, effect, tuple(gates), numbers, note, scope)


def failed_gates(verdicts: list, scope: str | None = None) -> list[str]:
    """The gates that failed when *every* verdict (of `scope`, when given) is out of regime --
    a figure panel drawn from those runs is then out of regime as a whole; [] when any of
    them was judged (or there are none)."""
    chosen = [v for v in verdicts if scope is None or v.scope == scope]
    if not chosen or any(v.status != OUT_OF_REGIME for v in chosen):
        return []
    return sorted({g.name for v in chosen for g in v.gates if not g.passed})


def _seeds(n: int) -> str:
    return f"{n} seed" + ("" if n == 1 else "s")


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


# ------------------------------------------------------------------------------ storage

def claims_dir(preset: str) -> Path:
    """The published preset's records (`paperlib.report`), the default of `record`."""
    return paths.records_dir(paths.figures_dir(preset))


def record(notebook: str, preset: str, title: str, verdicts: list, out_dir: Path | None = None) -> Path:
    """Save a notebook's verdicts (replacing its previous ones) for the report."""
    from ..files import atomic_write

    out = Path(out_dir or claims_dir(preset))
    path = out / f"{notebook}.claims.json"
    atomic_write(path, json.dumps({"notebook": notebook, "title": title, "preset": preset,
                                   "verdicts": [v.to_dict() for v in verdicts]}, indent=2, ensure_ascii=False))
    return path


FAMILY_ALPHA = 0.025
"""One-sided level of each verdict's test (a 95% interval read on one side), and the
family-wise level `multiplicity` holds a report's verdicts to together."""


@dataclass(frozen=True)
class Multiplicity:
    """A report's verdicts as one family of tests (`multiplicity`)."""

    tested: int      # judged verdicts (holds, does not hold, inconclusive) on t-tests: the family
    claimed: int     # of them, those that hold or do not hold
    exact: int       # holds / does not hold on exact checks (the theory's): no sampling error
    other: int       # holds / does not hold on other intervals (percentile, best-of-configurations, bands)
    fragile: tuple[tuple[str, str, str, float], ...]  # (id, scope, status, p) that Holm would not keep

    def sentence(self) -> str:
        """The report's paragraph on it ("" when nothing holds or fails)."""
        rest = [f"{self.exact} on exact checks (no sampling error)"] * bool(self.exact) + [
            f"{self.other} on intervals that are not t-tests (percentile intervals, best-of-configuration bounds, "
            "equivalence bands), which it leaves out"] * bool(self.other)
        if not self.claimed:
            n = self.exact + self.other
            return (f"**Multiplicity:** of the {n} verdict{'' if n == 1 else 's'} that hold or do not hold, "
                    + " and ".join(rest) + "; none on a t-test to correct." if n else "")
        kept = (f"all {self.claimed} that hold or do not hold survive" if not self.fragile else
                f"{len(self.fragile)} of the {self.claimed} that hold or do not hold would not survive and would be "
                "inconclusive: " + "; ".join(f"`{cid}`{f' ({scope})' if scope else ''}, {status}, p = {p:.3f}"
                                             for cid, scope, status, p in self.fragile))
        outside = (" Besides them, " + " and ".join(rest) + ".") if rest else ""
        return (f"**Multiplicity:** each verdict is a one-sided test at {FAMILY_ALPHA:.1%} (its 95% interval), not "
                f"corrected for the others. Taking the {self.tested} judged verdicts on t-tests (inconclusive ones "
                f"included: they were tested too) as one family, under Holm's step-down at a family-wise "
                f"{FAMILY_ALPHA:.1%}, {kept}.{outside}")


def multiplicity(records, alpha: float = FAMILY_ALPHA) -> Multiplicity:
    """The judged verdicts of a report (verdict records, `Verdict.to_dict`) as one family of
    tests: each one's one-sided p-value (`stats.one_sided_p`: a "holds" against 0, a "does not
    hold" against the practical minimum, an inconclusive one the smaller of the two) and which
    of those that hold or do not hold Holm's step-down at `alpha` would not keep. Out-of-regime
    verdicts were not tested; exact checks have no sampling error; verdicts on other intervals
    (`Effect.df` None) are counted apart -- their p-values are not recoverable from their
    bounds, so the family is smaller than every test made (a known limit)."""
    from .stats import holm, one_sided_p

    tests, exact, other = [], 0, 0
    for r in records:
        if r["status"] == OUT_OF_REGIME:
            continue
        claimed = r["status"] in (HOLDS, FAILS)
        if not r["effect"]:
            exact += claimed
            continue
        e = Effect.from_dict(r["effect"])
        above, below = one_sided_p(e, 0.0, above=True), one_sided_p(e, r["claim"]["minimum"], above=False)
        if above is None:
            other += claimed
            continue
        p = {HOLDS: above, FAILS: below}.get(r["status"], min(above, below))
        tests.append((r["id"], r["scope"], r["status"], p))
    kept = holm([p for *_, p in tests], alpha)
    fragile = tuple(t for t, k in zip(tests, kept) if not k and t[2] in (HOLDS, FAILS))
    return Multiplicity(len(tests), sum(t[2] in (HOLDS, FAILS) for t in tests), exact, other, fragile)


def load(preset: str, in_dir: Path | None = None) -> dict[str, dict]:
    d = Path(in_dir or claims_dir(preset))
    return {p.name.removesuffix(".claims.json"): json.loads(p.read_text())
            for p in sorted(d.glob("*.claims.json"))} if d.is_dir() else {}


def table(verdicts: list):
    """Verdicts as a DataFrame for display in a notebook."""
    import pandas as pd

    rows = []
    for v in (v.to_dict() for v in verdicts):
        e = v["effect"]
        rows.append({"claim": v["id"] or v["claim"]["statement"], "scope": v["scope"], "verdict": v["status"],
                     "effect (95% CI)": f"{e['estimate']:+.3f} [{e['low']:+.3f}, {e['high']:+.3f}]" if e else "",
                     "gates": "; ".join(f"{g['name']} {'✓' if g['passed'] else '✗'}" for g in v["gates"]),
                     "numbers": json.dumps(v["numbers"], ensure_ascii=False), "note": v["note"]})
    return pd.DataFrame(rows)
