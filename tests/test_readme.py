"""The README's `mini` results quote the committed verdict records, not a hand copy of them.

The README is written by hand from figures/mini/REPORT.md; when the report is redrawn, or a
number is rounded twice (0.6445 read as 0.645, written as 0.65), the two drift apart. These
tests read every interval and the verdict counts the README quotes for `mini` and look them
up in the records.
"""

import collections
import re
from pathlib import Path

from paperlib import claims

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "figures" / "mini" / "records"
# the README's current `mini` results: its side-by-side table and the paragraph after it
# (not the previous design's numbers, which follow, nor the gpu table quoted "as then")
SECTION = re.compile(r"^\| claim \| paper \| ours, `mini`.*?(?=The previous `mini` design)", re.S | re.M)
NUMBER = r"[+−-]?\d+\.\d+"
INTERVAL = re.compile(rf"({NUMBER}) \[({NUMBER}), ({NUMBER})\]")


def _value(text: str) -> float:
    return float(text.replace("−", "-"))


def _mini_section() -> str:
    found = SECTION.search((ROOT / "README.md").read_text())
    assert found, "README: the mini results table (| claim | paper | ours, `mini` ...) is gone"
    return found.group(0)


def _verdicts() -> list[dict]:
    return [v for rec in claims.load("mini", RECORDS).values() for v in rec["verdicts"]]


def _quoted_as(effect: dict) -> tuple[float, float, float]:
    """An effect as the README writes it: two decimals (for its sign too)."""
    return tuple(round(float(f"{effect[k]:.2f}"), 2) for k in ("estimate", "low", "high"))


def test_every_interval_the_readme_quotes_for_mini_is_a_recorded_effect():
    quoted = [tuple(_value(x) for x in m) for m in INTERVAL.findall(_mini_section())]
    assert len(quoted) >= 10, f"README: only {len(quoted)} intervals found in the mini results"
    effects = {_quoted_as(v["effect"]) for v in _verdicts() if v.get("effect")}
    # "falls by 0.22 [0.20, 0.25]" quotes a fall without its sign: either sign is the record's
    missing = [q for q in quoted if q not in effects and tuple(-x for x in (q[0], q[2], q[1])) not in effects]
    assert not missing, (f"README quotes intervals that no record in {RECORDS.relative_to(ROOT)} holds "
                         f"(at two decimals): {missing}")


def test_the_readme_counts_the_mini_verdicts_the_records_hold():
    text = (ROOT / "README.md").read_text()
    found = re.search(r"\*\*(\d+) hold, (\d+) do not hold, (\d+) inconclusive, (\d+) out of regime\*\*: (\d+) verdicts "
                      r"on (\d+) of the\s+(\d+) claims", text)
    assert found, "README: the mini verdict counts sentence is gone"
    holds, fails, inconclusive, out, total, judged, _ = map(int, found.groups())
    verdicts = _verdicts()
    counts = collections.Counter(v["status"] for v in verdicts)
    assert (holds, fails, inconclusive, out) == (counts[claims.HOLDS], counts[claims.FAILS],
                                                 counts[claims.INCONCLUSIVE], counts[claims.OUT_OF_REGIME])
    assert total == len(verdicts)
    assert judged == len({v["id"] for v in verdicts})
