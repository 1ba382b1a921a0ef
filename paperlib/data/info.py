"""Human-readable summaries of prepared data (`paperlib data info`)."""

from __future__ import annotations

from .pipeline import PreparedData
from .tasksets import epochs_table


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe(data: PreparedData, preset: str) -> str:
    m = data.manifest
    sizes = data.sizes("train")
    largest = max(sizes.values())
    rows = [["task", "train", "valid", "test", "train tokens", "largest/this"]]
    for t in data.tasks:
        s = m["tasks"][t]
        rows.append([t, f"{s['train']['examples']:,}", f"{s['valid']['examples']:,}", f"{s['test']['examples']:,}",
                     f"{s['train']['tokens']:,}", f"{largest / sizes[t]:.1f}×"])
    epochs = epochs_table(sizes, preset)
    erows = [["epochs per run"] + data.tasks] + [[meth] + [f"{v[t]:.2f}" for t in data.tasks] for meth, v in epochs.items()]
    head = (
        f"{m['request']['taskset']} ({m['kind']}, preset {preset}, source {m['source']}, "
        f"train fraction {m['train_fraction']:g}, vocab {m['tokenizer']['vocab_size']}, "
        f"tokenizer {m['tokenizer']['sha256'][:12]}, fetched {m.get('fetched') or '-'})\n"
        f"stands for: {m['stands_for']}"
    )
    return f"{head}\n{_table(rows)}\n\n{_table(erows)}"
