"""Experiment task sets: which tasks each paper setting trains on, and how a preset scales them.

Both papers' mechanism is repetition: how many epochs each task is seen under each method.
A `mini` run draws only ~2*10^4 examples, so a task set keeps the *ratios* between its tasks
and subsamples every task's training data by one common factor (`presets.Preset.fractions`), which
puts the low-resource tasks' epochs-per-run in the papers' regime (tens of epochs at high
sampling rates) while the high-resource task is never exhausted. `epochs_table` computes
those numbers; `paperlib data info` prints them. Valid/test sets are never subsampled.

Translation tasks are named "en-xx", language-modelling tasks by the language code.

Epochs per run are printed by `paperlib data info --tasks SET --preset P` (it prepares the
set on first use). For the pair the `mini` preset trains (3,000 steps x 32 examples = 96,000
draws; DDTP bookworm, measured 2026-12-02):

    hrl_lrl_es400 (fraction 0.15, en-es cut to 400 pairs): train en-it 15,887, en-es 400
        τ=1 (proportional)    5.89    5.89
        τ=5                   4.09   77.71
        rate 0.5 (static)     3.02  120.00
        rate 0.9 on the LRL   0.60  216.00

Where this meets the papers and where it does not: the two-task sets put the low-resource
pair at tens of epochs (more in longer runs: 78-216 for mini's pair) under upsampling while the high-resource pair stays below one epoch,
as in Order Matters (En-Ro ≈40 epochs at rate 0.5). Their fractions were halved after the
first full mini run, then 300 steps long (0.3 -> 0.15, 0.6 -> 0.3): at 10-17 epochs the LRL
had not begun to overfit, and overfitting is the mechanism both papers rely on; a pilot on
a GPU with the halved fractions showed it (static rates >= 0.5 pass their best LRL loss
before the end). Upsample or Upweight?'s OPUS-100 runs repeat *every* language
(≈20-30 epochs at τ=1, ≈180 for the smallest at τ=5); a mini run cannot afford that, so
`one_to_many` reaches 2-7 epochs, and the LM sets (whose smallest languages cannot be
subsampled further) reach 3-6 epochs for the smallest language at τ=5 in 300 steps. Epochs
scale linearly with a run's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..labels import TAU1, TAU5
from ..mixing import temperature, uniform
from .. import presets
from .errors import DataError


@dataclass(frozen=True)
class TaskSet:
    name: str
    kind: str                      # "translation" or "lm"
    tasks: tuple[str, ...]         # high-resource first
    stands_for: str                # the paper setting this is the analogue of
    n_eval: int = 200              # valid and test segments (documents for LM) per task
    # training examples kept of named tasks, a deterministic subsample after the preset's
    # fraction: a low-resource task made from a learnable pair, e.g. (("en-es", 1000),)
    keep_train: tuple[tuple[str, int], ...] = ()
    # a task set of a researcher's own corpus (`--source dir PATH`): the folder it comes from
    corpus: str | None = None
    # where a built-in set's text comes from: DDTP (Debian's translation packages) or the papers' own
    # corpora on the Hugging Face hub (`HUB_TASKSETS`), and then which: wmt, opus100 or mc4
    source: str = "ddtp"
    hub: str = ""

    def __post_init__(self):
        if self.source not in ("ddtp", "hub"):
            raise DataError(f"task set {self.name!r}: source must be 'ddtp' or 'hub', got {self.source!r}")
        if (self.source == "hub") != (self.hub in ("wmt", "opus100", "mc4")):
            raise DataError(f"task set {self.name!r}: a hub set names its corpus (wmt, opus100 or mc4), got {self.hub!r}")
        if self.kind not in ("translation", "lm"):
            raise DataError(f"task set {self.name!r}: kind must be 'translation' or 'lm', got {self.kind!r}")
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise DataError(f"task set {self.name!r}: tasks must be non-empty and unique, got {self.tasks}")
        for task, n in self.keep_train:
            if task not in self.tasks or not (isinstance(n, int) and n > 0):
                raise DataError(f"task set {self.name!r}: keep_train needs one of its tasks and a positive "
                                f"count, got {task!r}: {n!r}")

    @property
    def languages(self) -> list[str]:
        """Languages that need a tag in the tokenizer (targets for translation)."""
        return [t.split("-", 1)[1] if self.kind == "translation" else t for t in self.tasks]

    def fraction(self, preset: str) -> float:
        """The share of every task's training data the preset keeps (`presets.Preset.fractions`)."""
        return presets.get(preset).fraction(self.name)

    def max_train(self, preset: str) -> int | None:
        return presets.get(preset).max_train

    @property
    def data_source(self) -> str:
        """The `DataConfig.source` of its runs: dir for a researcher's corpus, else `source`."""
        return "dir" if self.corpus else self.source

    def train_count(self, task: str, preset: str, available: int) -> int:
        """Training examples of `task` the preset keeps of `available`: the common fraction,
        then `keep_train`, then at most the preset's cap (what `pipeline` applies to a loaded
        list, and the hub loaders before they read: they read only what is kept). The cap
        is an upper bound here: `capped_counts`, applied to all tasks at once, keeps fewer of
        the smaller ones."""
        n = max(1, round(available * self.fraction(preset)))
        keep = dict(self.keep_train).get(task)
        cap = self.max_train(preset)
        return min(n, keep if keep is not None else n, cap if cap is not None else n)

    def eval_size(self, preset: str) -> int:
        cap = presets.get(preset).max_eval
        return self.n_eval if cap is None else min(self.n_eval, cap)


TASKSETS = {
    ts.name: ts
    for ts in [
        TaskSet(
            "hrl_hrl", "translation", ("en-it", "en-fr"),
            "Order Matters §4.1.1, En→{Zh, Fr}: two high-resource pairs (111k : 50k pairs)",
        ),
        TaskSet(
            "hrl_lrl_fi", "translation", ("en-it", "en-fi"),
            "Order Matters §4.1.2 En→{Ro, Fr} (≈67×) and Upsample or Upweight? §3.2 En–{Cs, Ro}: "
            "one high- and one low-resource pair (≈110×)",
        ),
        TaskSet(
            "hrl_lrl_es", "translation", ("en-it", "en-es"),
            "Order Matters §4.1.2 En→{Ro, Fr} and Upsample or Upweight? §3.2: a high- and a low-resource pair "
            "whose low-resource side can be learned (DDTP en-it 106k : en-es 4.3k training pairs, ≈24×)",
            # 500 validation and 500 test sentences per pair: a paired bootstrap over 200 sentences
            # left the claims' intervals wider than the effects the gpu preset measures (~0.1 nat)
            n_eval=500,
        ),
        TaskSet(
            "hrl_lrl_es1k", "translation", ("en-it", "en-es"),
            "Order Matters §4.1.2 En→{Ro, Fr} (≈67×) and Upsample or Upweight? §3.2: en-it whole and 1,000 "
            "en-es training pairs (≈106×), few enough that high LRL rates overfit within a short run "
            "(the 4.3k pairs of hrl_lrl_es did not at 59 epochs on the gpu preset)",
            n_eval=500, keep_train=(("en-es", 1000),),
        ),
        TaskSet(
            "hrl_lrl_es400", "translation", ("en-it", "en-es"),
            "Order Matters §4.1.2 En→{Ro, Fr} and Upsample or Upweight? Fig. 1 on two CPU cores: at most 400 "
            "en-es training pairs, so that τ=5 (a third of every batch) overfits them within a mini run "
            "while τ=1 samples them at 2-3%",
            n_eval=500, keep_train=(("en-es", 400),),
        ),
        TaskSet(
            "hrl_lrl_sv", "translation", ("en-fr", "en-sv"),
            "Order Matters En→{Hi, Fr} (≈130×) and Upsample or Upweight? En–{Fr, Ro}: "
            "high- and low-resource pair (≈140×)",
        ),
        TaskSet(
            "one_to_many", "translation",
            ("en-it", "en-de", "en-sk", "en-pt_BR", "en-ja", "en-uk", "en-pl", "en-ru"),
            "Upsample or Upweight? Table 3, OPUS-100 one-to-many (largest/smallest ≈13×)",
        ),
        TaskSet(
            "one_to_many_extreme", "translation",
            ("en-it", "en-de", "en-sk", "en-ja", "en-es", "en-zh_CN", "en-fi", "en-sv"),
            "a heavier-tailed variant of Table 3 (largest/smallest ≥100×)",
        ),
        TaskSet(
            "lm_order_matters", "lm", ("en", "es", "fi", "zh_CN", "sv"),
            "Order Matters §4.2 / Fig. 7, mC4 En ≫ Hi ≫ {Gu, Gd, Sw}: English ≫ one mid ≫ three tiny",
        ),
        TaskSet(
            "lm_upsample", "lm", ("en", "pl", "fi", "hu"),
            "Upsample or Upweight? Table 4, mC4 En:It:Zh:Sw ≈ 2733:162:39:1 (ours ≈ 600:37:4:1 in characters)",
        ),
    ]
}

# The papers' own data on the Hugging Face hub (`--source hub`; `sources.HUB_WMT`, OPUS-100,
# mC4), one set per setting the papers run. A preset scales them by its fraction as it scales
# the DDTP sets (`presets.Preset.fractions`), keeping the papers' ratios between tasks. mC4
# is streamed, so its languages name the documents read at fraction 1 (`keep_train`): the
# papers' size ratios from the smallest language's 20,000 documents up, English capped at
# 5M documents (the papers' ratios would need 335M; it stays the largest by far).
HUB_TASKSETS = {
    ts.name: ts
    for ts in [
        TaskSet("wmt_fr_zh", "translation", ("en-fr", "en-zh"),
                "Order Matters §4.1.1 Figs. 1, 20, 26, WMT En→{Zh, Fr}: two high-resource pairs (40.9M : 26.0M)",
                source="hub", hub="wmt"),
        TaskSet("wmt_fr_ro", "translation", ("en-fr", "en-ro"),
                "Order Matters §4.1.2 Figs. 2-6, 27 and Upsample or Upweight? Fig. 4 (second row), WMT En→{Ro, Fr} "
                "(40.9M : 610k, ≈67×)", source="hub", hub="wmt"),
        TaskSet("wmt_fr_hi", "translation", ("en-fr", "en-hi"),
                "Order Matters Figs. 12, 18, 24, 28, WMT En→{Hi, Fr} (the paper's 313,748 En-Hi pairs; the hub's wmt14 "
                "hi-en has 32,863: ≈1,240×, not ≈130×)", source="hub", hub="wmt"),
        TaskSet("wmt_cs_ro", "translation", ("en-cs", "en-ro"),
                "Upsample or Upweight? Figs. 1, 3, 4 (first row), En-{Cs, Ro} (the paper's WMT22 En-Cs has 56M pairs; "
                "the hub's wmt19 cs-en has 7.3M)", source="hub", hub="wmt"),
        TaskSet("wmt_zh_ro", "translation", ("en-zh", "en-ro"),
                "Upsample or Upweight? Figs. 7-8, En-{Zh, Ro}", source="hub", hub="wmt"),
        TaskSet("opus100_table3", "translation",
                ("en-es", "en-fa", "en-it", "en-hi", "en-gl", "en-ga", "en-ha", "en-kk", "en-ug"),
                "Upsample or Upweight? Table 3, OPUS-100 one-to-many (1M each for es, fa, it down to 76k for ug)",
                source="hub", hub="opus100"),
        TaskSet("mc4_order_matters", "lm", ("en", "hi", "sw", "gu", "gd"),
                "Order Matters §4.2 Figs. 7-9, mC4 En ≫ Hi ≫ {Gu, Gd, Sw} (13,396 : 75 : 4.1 : 3.6 : 0.8 B chars)",
                keep_train=(("en", 5_000_000), ("hi", 1_875_000), ("sw", 102_500), ("gu", 90_000), ("gd", 20_000)),
                source="hub", hub="mc4"),
        TaskSet("mc4_table4", "lm", ("en", "it", "zh", "sw"),
                "Upsample or Upweight? Table 4, Figs. 5-6, mC4 En:It:Zh:Sw = 2733:162:39:1 (tokens)",
                keep_train=(("en", 5_000_000), ("it", 3_240_000), ("zh", 780_000), ("sw", 20_000)),
                source="hub", hub="mc4"),
    ]
}
TASKSETS.update(HUB_TASKSETS)


CORPUS_MARK = "@"


def get_taskset(name: str, corpus=None) -> TaskSet:
    """A built-in task set by name, or a task set of a researcher's corpus: its tasks joined
    by '+', high-resource first, either qualified by the corpus folder ("en-de+en-sw@/data/
    mine", what notebooks are handed) or with the folder given as `corpus`."""
    if CORPUS_MARK in name:
        name, _, corpus = name.partition(CORPUS_MARK)
    if corpus is not None and name not in TASKSETS:
        return corpus_taskset(tuple(name.split("+")), corpus)
    if name not in TASKSETS:
        raise DataError(f"unknown task set {name!r}; valid: {', '.join(TASKSETS)}, or the tasks of your corpus joined "
                        f"by '+', high-resource first, with its folder after '{CORPUS_MARK}' (en-de+en-sw@/data/mine)")
    return TASKSETS[name]


def taskset_of(data) -> TaskSet:
    """The task set a run's `DataConfig` names (from a corpus folder when its source is dir)."""
    return get_taskset(data.taskset, data.source_path if data.source == "dir" else None)


def corpus_taskset(tasks: tuple[str, ...], corpus) -> TaskSet:
    """The task set of `tasks` (high-resource first) of the corpus folder `corpus`: every
    translation pair ("src-tgt") or every language (language modelling), never a mix. All
    of their validation and test segments are used (a preset's `max_eval` still caps them)."""
    kinds = {"translation" if "-" in t else "lm" for t in tasks}
    if len(kinds) != 1:
        raise DataError(f"task set {'+'.join(tasks)!r} mixes translation pairs and languages; name pairs only "
                        "(en-de+en-sw) or languages only (en+sw)")
    return TaskSet("+".join(tasks), kinds.pop(), tuple(tasks), f"your corpus ({corpus})", n_eval=10**9,
                   corpus=str(Path(corpus).resolve()))


def short_name(name: str) -> str:
    """A task set's name without the folder of its corpus (for display: en-de+en-sw)."""
    return name.partition(CORPUS_MARK)[0]


def qualified_name(ts: TaskSet) -> str:
    """The name a notebook is handed: a corpus task set carries its folder."""
    return f"{ts.name}{CORPUS_MARK}{ts.corpus}" if ts.corpus else ts.name


# the roles of the papers' task sets a researcher's corpus can fill: which notebook
# parameter takes which is `paperlib.reproduce.CORPUS_PARAMETERS`
ROLES = {
    "pair": "one high- and one low-resource translation pair (Order Matters Figs. 2-6, 26-28; Upsample or "
            "Upweight? Figs. 1, 3, 4): --hrl and --lrl, else those the folder's roles.yaml names, else the largest "
            "and the smallest pair",
    "two_hrl": "the two largest translation pairs, both high-resource: the smaller with at least 1/4 of the larger's "
               "training pairs (Order Matters Fig. 1)",
    "many": "every translation pair, largest first, when there are at least 3 (Upsample or Upweight? Table 3)",
    "lm": "every monolingual language, largest first, when there are at least 2 (Order Matters Figs. 7-8 and the left half of Fig. 9; "
          "Upsample or Upweight? Table 4, Figs. 5-7)",
}


HRL_HRL_MAX_RATIO = 4.0
"""The most the larger of two high-resource pairs may outnumber the smaller (Order Matters
Fig. 1's En→{Zh, Fr}: about 1.4×; DDTP's hrl_hrl 2.2×; the HRL+LRL pairs are 40-110×): two
pairs further apart are an imbalanced pair, not Fig. 1's setting."""


ROLES_FILE = "roles.yaml"
"""A corpus folder may name its high- and low-resource pairs in this file (`hrl: en-de` and
`lrl: en-sw`, either or both), so that every command on the corpus uses them without flags;
--hrl / --lrl on the command line override it."""


def declared_roles(folder) -> dict[str, str]:
    """The roles `ROLES_FILE` in the corpus folder declares ({} without the file); anything
    but a mapping of hrl/lrl to pair names is a one-line error naming the file."""
    import yaml

    from ..files import load_yaml

    path = Path(folder) / ROLES_FILE
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = load_yaml(text)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        # YAML notices a missing ':' or ']' only on a later line: the line it began scanning is the culprit
        if str(getattr(exc, "context", "")).startswith(("while scanning a simple key", "while parsing a flow")):
            mark = exc.context_mark or mark
        line = f" line {min(mark.line + 1, max(1, len(text.splitlines())))}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise DataError(f"{path}{line}: not valid YAML{f' ({problem})' if problem else ''}; write e.g. 'hrl: en-de' "
                        "and 'lrl: en-sw', one per line") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"hrl", "lrl"}:
        extra = sorted(map(str, set(data) - {"hrl", "lrl"})) if isinstance(data, dict) else []
        raise DataError(f"{path}: takes only the keys hrl and lrl (pair names, e.g. 'hrl: en-de')"
                        + (f"; unknown: {', '.join(extra)}" if extra else f", got {type(data).__name__}"))
    for key, value in data.items():
        if not isinstance(value, str):
            raise DataError(f"{path}: {key} must be a pair name such as en-de, got {value!r}")
    return dict(data)


def corpus_roles(corpus, folder, hrl: str | None = None, lrl: str | None = None) -> dict[str, str | None]:
    """Role (`ROLES`) -> the qualified task set of the corpus that fills it, or None when the
    corpus cannot (too few pairs or languages). corpus: a loaded `sources.Corpus` of folder;
    hrl/lrl: the command line's choice, else the folder's `ROLES_FILE`, else by size."""
    def by_size(pool):
        return sorted(pool, key=lambda t: (-len(pool[t]["train"]), t))

    pairs, langs = by_size(corpus.parallel), by_size(corpus.monolingual)
    declared = declared_roles(folder)
    origin = {role: f"--{role}" if flag else f"{ROLES_FILE} {role}:" if role in declared else default
              for role, flag, default in (("hrl", hrl, "chosen by size"), ("lrl", lrl, "chosen by size"))}
    hrl, lrl = hrl or declared.get("hrl"), lrl or declared.get("lrl")
    for role, task in (("hrl", hrl), ("lrl", lrl)):
        if task is not None and task not in corpus.parallel:
            raise DataError(f"{origin[role]} {task}: not a translation pair of {folder}; it has: {', '.join(pairs) or 'none'}")
    roles: dict[str, str | None] = dict.fromkeys(ROLES)
    if len(pairs) >= 2 or (hrl and lrl):
        high = hrl or next(t for t in pairs if t != lrl)
        low = lrl or next(t for t in reversed(pairs) if t != high)
        if high == low:
            raise DataError(f"{origin['hrl']} and {origin['lrl']} name the same pair ({high}); the low-resource pair must be another")
        sizes = {t: len(corpus.parallel[t]["train"]) for t in (high, low)}
        if sizes[high] < sizes[low]:
            raise DataError(f"the high-resource pair {high} ({origin['hrl'].rstrip(':')}) has fewer training pairs "
                            f"({sizes[high]}) than the low-resource {low} ({origin['lrl'].rstrip(':')}, {sizes[low]}); "
                            f"the high-resource pair must be the larger: swap them or choose others")
        roles["pair"] = qualified_name(corpus_taskset((high, low), folder))
        largest, second = (len(corpus.parallel[t]["train"]) for t in pairs[:2])
        if largest <= HRL_HRL_MAX_RATIO * second:
            roles["two_hrl"] = qualified_name(corpus_taskset(tuple(pairs[:2]), folder))
    if len(pairs) >= 3:
        roles["many"] = qualified_name(corpus_taskset(tuple(pairs), folder))
    if len(langs) >= 2:
        roles["lm"] = qualified_name(corpus_taskset(tuple(langs), folder))
    return roles


def from_corpus(corpus) -> list[TaskSet]:
    """Task sets covering everything in a user corpus (`--source dir`): one for its
    translation pairs and one for its monolingual languages, largest task first."""
    out = []
    for kind, pool in (("translation", corpus.parallel), ("lm", corpus.monolingual)):
        if pool:
            tasks = tuple(sorted(pool, key=lambda t: -len(pool[t]["train"])))
            out.append(TaskSet(f"dir_{kind}", kind, tasks, f"your corpus ({corpus.source})", n_eval=10**9))
    return out


CAP_FLOOR_DIVISOR = 10
"""Under a preset's cap a smaller task keeps at least cap // CAP_FLOOR_DIVISOR examples."""


def capped_counts(sizes: dict[str, int], cap: int | None) -> dict[str, int]:
    """Training examples each task keeps under a preset's cap (`presets.Preset.max_train`).

    The largest task keeps `cap`; every other keeps the same share of its own data, but at
    least cap // CAP_FLOOR_DIVISOR (or all it has, if fewer). Ratios up to 10x are kept and
    larger ones become 10x. Capping every task at `cap` would make a 400 : 400 set of a
    106k : 1k pair: every temperature would then sample it at 0.5/0.5, and smoke's τ=1, τ=5 and
    COOLDOWN runs would be one run under three names. (The hub loaders read at most `cap` of
    each task before this sees them, so a hub task set at a capped preset stays balanced:
    the cap is smoke's, for CI, which reads no hub.)"""
    largest = max(sizes.values(), default=0)
    if cap is None or largest <= cap:
        return dict(sizes)
    floor = cap // CAP_FLOOR_DIVISOR
    return {task: min(n, max(floor, round(n * cap / largest))) for task, n in sizes.items()}


def epochs_table(sizes: dict[str, int], preset: str, examples: int | None = None) -> dict[str, dict[str, float]]:
    """Epochs each task is seen in one run under common methods: method -> task -> epochs.

    sizes are training examples per task (after the preset's subsampling); examples is
    what one run draws (default: the preset's `examples_per_run`)."""
    examples = presets.get(preset).examples_per_run if examples is None else examples
    d = np.array(list(sizes.values()), dtype=float)
    methods = {TAU1: temperature(d, 1), TAU5: temperature(d, 5), "uniform": uniform(d)}
    if len(d) == 2:
        methods["rate 0.5 (static)"] = np.array([0.5, 0.5])
        methods["rate 0.9 on the LRL"] = np.array([0.1, 0.9])
    return {m: {t: float(p[i] * examples / d[i]) for i, t in enumerate(sizes)} for m, p in methods.items()}
