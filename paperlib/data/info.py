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


# What a task needs for the papers' regime, measured on DDTP with the mini model (d 128, 2+2
# layers; results/mini, issue #19): en-fi's 138 training pairs taught nothing in 3,000 steps,
# en-es' 652 were learned (validation loss > 1 nat below the bigram baseline), and so were 400
# after pre-training on en-it (4.44 against the bigram's 5.51, the shipped mini runs). The overfitting
# both papers' arguments rest on came after ~50 epochs of en-es' 652 pairs at rate 0.5 (mini),
# and had not come after 59 epochs of its 4.3k pairs (gpu).
LEARNABLE_PAIRS = 400
OVERFIT_EPOCHS = 50


def describe_corpus(corpus, folder, roles: dict, preset: str) -> str:
    """A researcher's corpus before it is prepared: sizes, imbalance, the task sets standing
    for the papers' roles, the epochs one run of `preset` gives the pair's tasks, and
    warnings where a task is out of the papers' regime in advance."""
    from .tasksets import ROLES, ROLES_FILE, declared_roles, get_taskset, short_name

    lines = [f"your corpus {folder}: {len(corpus.parallel)} translation pair(s), {len(corpus.monolingual)} "
             "language(s) for language modelling"]
    warnings = []
    for kind, pool, unit in (("translation", corpus.parallel, "pairs"), ("lm", corpus.monolingual, "documents")):
        if not pool:
            continue
        sizes = {t: len(s["train"]) for t, s in sorted(pool.items(), key=lambda kv: -len(kv[1]["train"]))}
        largest = max(sizes.values())
        rows = [["task", "train", "valid", "test", "largest/this"]]
        rows += [[t, f"{n:,}", f"{len(pool[t]['valid']):,}", f"{len(pool[t]['test']):,}", f"{largest / n:.1f}×"]
                 for t, n in sizes.items()]
        lines += ["", f"{kind} ({unit})", _table(rows)]
        if kind == "translation":
            warnings += [f"{t}: {n:,} training pairs; fewer than {LEARNABLE_PAIRS} may be too few to learn from "
                         f"(DDTP en-fi's 138 taught a mini model nothing; en-es' 400 were learned after pre-training on en-it)"
                         for t, n in sizes.items() if n < LEARNABLE_PAIRS]
    lines += ["", "the papers' roles (`paperlib reproduce --source dir PATH` runs each notebook on its role):"]
    lines += [f"  {role:8s} {short_name(q) if q else 'none: ' + ROLES[role]}" for role, q in roles.items()]
    declared = declared_roles(folder)
    if declared:  # where the pair's roles came from (flags, when given, override the file)
        lines.append(f"  ({ROLES_FILE} names " + ", ".join(f"{k} {v}" for k, v in declared.items()) + ")")
    if roles.get("pair"):
        ts = get_taskset(roles["pair"])
        hrl, lrl = ts.tasks
        sizes = {t: len(corpus.parallel[t]["train"]) for t in ts.tasks}
        epochs = epochs_table(sizes, preset)
        rows = [[f"epochs per {preset} run", hrl, lrl]] + [[m, f"{v[hrl]:.2f}", f"{v[lrl]:.2f}"] for m, v in epochs.items()]
        lines += ["", _table(rows)]
        at_half = epochs["rate 0.5 (static)"][lrl]
        if at_half < OVERFIT_EPOCHS:
            warnings.append(f"{lrl}: {at_half:.0f} epochs per {preset} run at rate 0.5; below {OVERFIT_EPOCHS} it may "
                            "not overfit, and the claims that rest on its overfitting (Order Matters Figs. 2-5, "
                            "COOLDOWN) would come out 'out of regime': a larger preset, or fewer of its pairs (--lrl "
                            "with a subsampled folder), gives it more")
    if warnings:
        lines += ["", "warnings (the regime, in advance):"] + [f"  - {w}" for w in warnings]
    return "\n".join(lines)
