"""Claims: every statement of the two papers that a figure or table supports, as a named,
tested predicate judged on our runs (see `core` for the four verdicts, `gates` for the
regime conditions, `stats` for the effects and their intervals, `evidence` for reading
runs). `order_matters` and `upweight` hold each paper's claims; `CLAIMS` lists them all
(`paperlib claims list`)."""

from . import evidence, gates, order_matters, stats, upweight
from .core import (FAILS, HOLDS, INCONCLUSIVE, OUT_OF_REGIME, STATUSES, Claim, Gate, Verdict, claims_dir,
                   count_statuses, decide, failed_gates, judge, load, multiplicity, record, table)
from .stats import Effect, loss_gain

CLAIMS: dict[str, Claim] = {c.id: c for c in (*order_matters.CLAIMS, *upweight.CLAIMS)}
