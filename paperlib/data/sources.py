"""Where text comes from: one interface, three sources.

Every source returns a `Corpus`: translation tasks ("src-tgt") and language-modelling tasks
(a language code), each with train/valid/test splits of raw text.

- `ddtp`: Debian's translated package descriptions, fetched over HTTPS from the Debian archive
  (apt where the archive cannot be reached; see `ddtp.py`).
- `dir PATH`: your own corpus in this layout (any subset):
      PATH/<src>-<tgt>/{train,valid,test}.tsv     one "source<TAB>target" pair per line
      PATH/<src>-<tgt>/{train,valid,test}.jsonl   one {"src": ..., "tgt": ...} per line
      PATH/<lang>/{train,valid,test}.txt          one document per line (language modelling)
  train and valid are required; a missing test split reuses valid.
- `hub`: thin loaders for the papers' data with `datasets.load_dataset` (needs internet):
  the WMT pairs the papers used, OPUS-100 (Upsample or Upweight?'s Table 3) and mC4 for
  language modelling (allenai/c4's per-language configs; its `en` is C4's English). CI runs
  them on a fake hub (tests/test_hub.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import ddtp
from .errors import DataError
from .splits import split_documents, split_parallel

SPLITS = ("train", "valid", "test")
EXTENSIONS = ("tsv", "jsonl", "txt")  # a split's file: pairs (.tsv, .jsonl) or documents (.txt)


@dataclass
class Corpus:
    source: str
    parallel: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    monolingual: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def task_splits(self, task: str, kind: str) -> dict[str, list]:
        pool = self.parallel if kind == "translation" else self.monolingual
        if task not in pool:
            raise DataError(
                f"task {task!r} is not in the {self.source} corpus; available {kind} tasks: {', '.join(sorted(pool)) or 'none'}"
            )
        return pool[task]


# ---------------------------------------------------------------------------------------- ddtp

def load_ddtp(data_dir: Path, n_eval: int = 200, mirror: str | None = None) -> Corpus:
    """Fetch (once) and split every DDTP language, so splits never depend on the request.
    mirror: a Debian archive mirror to fetch from (default `ddtp.ARCHIVE`); the files are
    checked against the same pinned sums, so the corpus is the same from any mirror."""
    lists = ddtp.fetch(Path(data_dir) / "ddtp" / "lists", archive=mirror or ddtp.ARCHIVE)
    parallel, mono = ddtp.load(lists, ddtp.LANGUAGES)
    return Corpus(
        "ddtp",
        parallel=split_parallel(parallel, n_eval),
        monolingual={lang: split_documents(docs, n_eval) for lang, docs in mono.items()},
    )


# ---------------------------------------------------------------------------------------- dir

def _lines(path: Path):
    """(line number, text) of the file's non-blank lines; a line that is not UTF-8 is a
    one-line error naming the file, the line and the byte (not a UnicodeDecodeError)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{n}: not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                                f"re-encode the file, e.g. iconv -f latin1 -t utf-8") from None
            if line.strip():
                yield n, line


def _read_pairs(path: Path) -> list[tuple[int, tuple[str, str]]]:
    """(line number, (source, target)) of every pair of a .tsv or .jsonl file."""
    pairs = []
    for n, line in _lines(path):
        if path.suffix == ".jsonl":
            try:
                obj = json.loads(line)
                pair = (str(obj["src"]), str(obj["tgt"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DataError(f"{path}:{n}: expected a JSON object with 'src' and 'tgt'") from None
        else:
            cols = line.split("\t")
            if len(cols) != 2:
                raise DataError(f"{path}:{n}: expected 'source<TAB>target', found {len(cols)} column(s)")
            pair = (cols[0], cols[1])
        if not pair[0].strip() or not pair[1].strip():
            raise DataError(f"{path}:{n}: empty {'source' if not pair[0].strip() else 'target'} side")
        pairs.append((n, pair))
    return pairs


def _read_docs(path: Path) -> list[tuple[int, str]]:
    """(line number, document) of every document of a .txt file."""
    return list(_lines(path))


def _comparable(item):
    """A pair or document as the held-out check compares it: case and runs of spaces ignored
    ("Hello  world" and "hello world" are the same sentence to a model that memorised one)."""
    if isinstance(item, tuple):
        return tuple(_comparable(side) for side in item)
    return " ".join(item.split()).casefold()


def _check_held_out(numbered: dict) -> None:
    """A validation or test example that is also a training example (the same pair, or the
    same document, up to case and spacing) is a one-line error naming both lines: it would
    grade memorisation."""
    train_file, train = numbered["train"]
    first = {}
    for n, item in train:
        first.setdefault(_comparable(item), (n, item))
    for split in ("valid", "test"):
        if split in numbered:
            path, items = numbered[split]
            shared = [(n, item, first[_comparable(item)]) for n, item in items if _comparable(item) in first]
            if shared:
                n, item, (m, trained) = shared[0]
                exact = all(it == first[_comparable(it)][1] for _, it, _ in shared)
                fix = (f"e.g. grep -vxFf {train_file} {path} > {path}.new && mv {path}.new {path}"
                       if path.suffix != ".jsonl" and exact else f"remove them from {path.name}")
                raise DataError(f"{path}:{n}: also in the training data ({train_file.name} line {m}"
                                f"{'' if item == trained else ', up to case and spacing'}), as are {len(shared)} of its "
                                f"{len(items)} examples; held-out examples must not be trained on: {fix}")


# dir_signature's hashes in this process, by what the files' stat says (paths, sizes, times):
# every run looked up prepares its data, and a corpus of some GB takes seconds to hash
_SIGNATURES: dict[tuple, str] = {}


def dir_signature(root: Path) -> str:
    """A hash of every file `load_dir` reads (each task folder's split files, names and
    bytes): editing, adding or removing one changes it, so prepared data are rebuilt. Read
    once per process while no file's size or modification time changes."""
    root = Path(root)
    found = [(f, f.stat()) for sub in (_task_folders(root) if root.is_dir() else [])
             for split in SPLITS for f in _split_files(sub, split) if f.is_file()]
    key = (str(root.resolve()), tuple((str(f), st.st_size, st.st_mtime_ns, st.st_ino) for f, st in found))
    if key not in _SIGNATURES:
        digest = hashlib.sha256()
        for f, st in found:
            digest.update(f"{f.parent.name}/{f.name}\0{st.st_size}\0".encode())
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        _SIGNATURES[key] = digest.hexdigest()[:16]
    return _SIGNATURES[key]


# a language (or domain) name -- en, zh_CN, pt_BR, legal -- and a translation pair of two
# of them joined by one hyphen (en-pt_BR); the hyphen is what splits a pair into its sides
LANGUAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
PAIR_NAME = re.compile(rf"{LANGUAGE.pattern}-{LANGUAGE.pattern}")


def _task_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir())


def _split_files(folder: Path, split: str) -> list[Path]:
    """The files a task folder's split may be in (one of them, `load_dir` checks)."""
    return [folder / f"{split}.{ext}" for ext in EXTENSIONS]


def load_dir(root: Path) -> Corpus:
    root = Path(root)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise DataError(f"corpus folder {root} {what} (expected the layout in `paperlib data prepare --help`)")
    corpus = Corpus(f"dir:{root.resolve()}")
    for sub in _task_folders(root):
        splits: dict[str, list] = {}
        numbered: dict[str, tuple[Path, list]] = {}  # split -> (its file, (line number, example) per example)
        for split in SPLITS:
            found = [f for f in _split_files(sub, split) if f.exists()]
            if len(found) > 1:
                raise DataError(f"{sub}: both {found[0].name} and {found[1].name}; keep one")
            if found:
                f = found[0]
                if not f.is_file():
                    raise DataError(f"{f} is {'a folder' if f.is_dir() else 'not a readable file'}; the {split} split "
                                    f"is a file ({split}.tsv, {split}.jsonl or {split}.txt)")
                numbered[split] = (f, _read_docs(f) if f.suffix == ".txt" else _read_pairs(f))
                splits[split] = [item for _, item in numbered[split][1]]
        if not splits:
            continue
        suffixes = {f.suffix for f, _ in numbered.values()}
        if ".txt" in suffixes and len(suffixes) > 1:
            raise DataError(f"{sub}: mixes documents (.txt) and translation pairs ({', '.join(sorted(suffixes - {'.txt'}))}); "
                            f"a pair folder holds .tsv or .jsonl files, a language folder .txt files")
        for split in ("train", "valid"):
            if not splits.get(split):
                raise DataError(f"{sub}: missing or empty {split} split (need {split}.tsv, {split}.jsonl or {split}.txt)")
        splits.setdefault("test", splits["valid"])
        kinds = {type(x) for s in splits.values() for x in s}
        if kinds == {str}:
            if not LANGUAGE.fullmatch(sub.name):
                raise DataError(f"{sub}: a monolingual folder is named by its language, letters, digits and _, e.g. "
                                f"fi or pt_BR; got {sub.name!r}")
            corpus.monolingual[sub.name] = splits
        else:
            if not PAIR_NAME.fullmatch(sub.name):
                raise DataError(f"{sub}: a parallel folder is named <src>-<tgt>, two names of letters, digits and _ "
                                f"joined by one hyphen, e.g. en-it or en-pt_BR; got {sub.name!r}")
            corpus.parallel[sub.name] = splits
        _check_held_out(numbered)
    if not corpus.parallel and not corpus.monolingual:
        raise DataError(f"{root} holds no task folders (<src>-<tgt>/train.tsv or <lang>/train.txt)")
    return corpus


# ---------------------------------------------------------------------------------------- hub

# The papers' WMT pairs: dataset and config on the hub (source language first in our names).
HUB_WMT = {
    "en-fr": ("wmt/wmt15", "fr-en"),   # Order Matters, Upsample or Upweight?
    "en-zh": ("wmt/wmt19", "zh-en"),   # Order Matters (Upsample or Upweight? used WMT22)
    "en-ro": ("wmt/wmt16", "ro-en"),   # both papers
    "en-hi": ("wmt/wmt14", "hi-en"),   # Order Matters
    "en-cs": ("wmt/wmt19", "cs-en"),   # Upsample or Upweight? (the paper used WMT22)
}
HUB_OPUS100 = "Helsinki-NLP/opus-100"
HUB_MC4 = "allenai/c4"  # multilingual configs by language code


def _hub_parallel(task: str, corpus: str, train_count, n_eval: int) -> dict[str, list]:
    from datasets import get_dataset_split_names, load_dataset

    src, tgt = task.split("-", 1)
    if corpus == "wmt" and task not in HUB_WMT:
        raise DataError(f"no WMT pair {task} on the hub here; known: {', '.join(HUB_WMT)}")
    name, config = HUB_WMT[task] if corpus == "wmt" else (HUB_OPUS100, "-".join(sorted((src, tgt))))
    train = load_dataset(name, config, split="train")  # downloaded once (the hub's cache), memory-mapped
    n = train_count(task, len(train))
    if n < len(train):  # a fixed random subset (the head of a WMT split is one sub-corpus)
        train = train.shuffle(seed=0).select(range(n))
    out = {"train": train, "valid": load_dataset(name, config, split=f"validation[:{n_eval}]")}
    # wmt19 has no test split: the next validation sentences, disjoint from the ones above
    out["test"] = load_dataset(name, config, split=f"test[:{n_eval}]" if "test" in get_dataset_split_names(name, config)
                               else f"validation[{n_eval}:{2 * n_eval}]")
    return {k: [(row["translation"][src], row["translation"][tgt]) for row in ds] for k, ds in out.items()}


def _hub_monolingual(lang: str, train_count, n_eval: int) -> dict[str, list]:
    from datasets import load_dataset

    out = {}
    for split, hub_split, limit in (("train", "train", train_count(lang, None)), ("valid", "validation", n_eval)):
        stream = load_dataset(HUB_MC4, lang, split=hub_split, streaming=True)  # the first documents of each
        out[split] = [row["text"] for _, row in zip(range(limit), stream)]
    out["test"] = out["valid"]
    return out


def load_hub(translation: list[str], lm: list[str], train_count, n_eval: int = 200, corpus: str = "wmt") -> Corpus:
    """The papers' data from the hub (internet needed). train_count(task, available) is how
    many training examples of a task to keep (available: its training split's size, None
    for a streamed mC4 language); a translation pair keeps a fixed random subset of them.
    corpus: where the translation pairs come from, wmt or opus100."""
    try:
        return Corpus(
            "hub",
            parallel={t: _hub_parallel(t, corpus, train_count, n_eval) for t in translation},
            monolingual={l: _hub_monolingual(l, train_count, n_eval) for l in lm},
        )
    except (ConnectionError, OSError) as exc:
        raise DataError(
            f"could not load from the Hugging Face hub ({type(exc).__name__}: {exc}); "
            "this needs internet (unset HF_HUB_OFFLINE) -- offline, use --source ddtp or --source dir PATH"
        ) from None
