"""Prepare a task set: text splits -> tokenizer -> tokenized Arrow datasets + manifest.

Layout under the data directory (default <repo>/data, git-ignored; PAPERLIB_DATA overrides):

    ddtp/lists/                          the DDTP Translation files (fetched once, HTTPS or apt)
    prepared/<source>/<taskset>-<preset>/
        manifest.json                    request, fetch date, sizes, tokenizer hash, cache keys
        tokenizer/spm.model
        tasks/<task>/{train,valid,test}/ datasets.Dataset.save_to_disk

Each component has a cache key (a hash of what it is built from); preparing again reuses
every component whose key is unchanged (hard links), so changing the vocabulary size
rebuilds the tokenizer and the tokenized tasks but not the fetched corpus. A preparation
is built whole in a temporary folder (manifest last) and swapped into place by renames,
under a lock that makes a second process wait and reuse it: a crash leaves the old data or
none, never a mix. The manifest lists every file's size and sha256; loading checks them
(sizes always, hashes once per process) and refuses a mismatch. Its `fingerprint` depends
on content only (tokenizer pieces and scores, token ids), so it is the same on any
machine and any re-prepare.

Example fields
--------------
translation: src = [<2xx>] + pieces(English) + [eos]; tgt = pieces(xx) + [eos];
             src_text / tgt_text keep the raw text (BLEU references).
lm:          tgt = [<xx>] + a block of up to block_size-1 pieces of one document (the
             document's last block ends with eos); src is empty.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .. import paths
from .. import files
from ..files import atomic_write
from .. import presets
from . import ddtp, sources
from .errors import DataError
from .splits import subsample
from .tasksets import CAP_FLOOR_DIVISOR, TASKSETS, TaskSet, capped_counts, get_taskset
from .tokenizer import EOS, Tokenizer, lm_tag, mt_tag, train_tokenizer

FORMAT_VERSION = 2  # 2: content-only tokenizer hash, whole-directory swaps, file table
# a task with less training data cannot show the papers' effects (segments for
# translation, documents for language modelling, which are cut into several blocks)
MIN_TRAIN = {"translation": 100, "lm": 50}
VOCAB_TAU = 3.33


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


@dataclass
class PreparedData:
    """A prepared task set: tokenizer, per-task datasets, manifest."""

    root: Path
    manifest: dict

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def tasks(self) -> list[str]:
        return list(self.manifest["tasks"])

    @property
    def tokenizer(self) -> Tokenizer:
        if not hasattr(self, "_tok"):
            self._tok = Tokenizer(self.root / "tokenizer" / "spm.model")
        return self._tok

    def dataset(self, task: str, split: str = "train"):
        from datasets import load_from_disk

        if task not in self.manifest["tasks"]:
            raise DataError(f"task {task!r} is not prepared here; prepared tasks: {', '.join(self.tasks)}")
        if split not in sources.SPLITS:
            raise DataError(f"unknown split {split!r}; valid: {', '.join(sources.SPLITS)}")
        return load_from_disk(str(self.root / "tasks" / task / split))

    def sizes(self, split: str = "train") -> dict[str, int]:
        """Examples per task (segments for translation, blocks for LM)."""
        return {t: self.manifest["tasks"][t][split]["examples"] for t in self.tasks}


def _source_id(source: str, source_path) -> str:
    if source == "dir":
        return "dir-" + hashlib.sha256(str(Path(source_path).resolve()).encode()).hexdigest()[:8]
    return source


def prepared_dir(taskset: str, preset: str, source: str = "ddtp", source_path=None, data_dir=None) -> Path:
    base = Path(data_dir) if data_dir else paths.data_dir()
    return base / "prepared" / _source_id(source, source_path) / f"{taskset}-{preset}"


def prepared_dir_of(data) -> tuple[Path, str]:
    """(the prepared folder a run's `DataConfig` trains on, its name under prepared/: how the
    data lengths shipped with runs name it, `store.ship_data_lengths`)."""
    from .tasksets import taskset_of

    root = prepared_dir(taskset_of(data).name, data.preset, data.source, data.source_path)
    return root, f"{root.parent.name}/{root.name}"


@functools.lru_cache(maxsize=2)
def _ddtp_corpus(data_dir: Path, n_eval: int, mirror: str | None = None) -> sources.Corpus:
    # parsing every language takes ~15 s; preparing several task sets in one process parses once
    return sources.load_ddtp(data_dir, n_eval, mirror)


def _load_corpus(ts: TaskSet, preset: str, source: str, source_path, data_dir: Path,
                 mirror: str | None = None) -> sources.Corpus:
    if source == "ddtp":
        return _ddtp_corpus(Path(data_dir).resolve(), ts.n_eval, mirror)
    if source == "dir":
        if source_path is None:
            raise DataError("--source dir needs the corpus folder: --source dir PATH")
        return sources.load_dir(source_path)
    if source == "hub":
        lm = list(ts.tasks) if ts.kind == "lm" else []
        mt = list(ts.tasks) if ts.kind == "translation" else []
        declared = dict(ts.keep_train)  # a streamed language's documents at fraction 1

        def train_count(task, available):
            return ts.train_count(task, preset, declared[task] if available is None else available)

        return sources.load_hub(mt, lm, train_count, ts.eval_size(preset), corpus=ts.hub)
    raise DataError(f"unknown source {source!r}; valid: ddtp, dir PATH, hub")


def named_taskset(name: str, source: str, source_path) -> TaskSet:
    """A built-in task set, or for `--source dir` one of the sets covering the folder
    (dir_translation, dir_lm) or the folder's tasks joined by '+' (en-de+en-sw), whose
    every task the folder must hold: checked here, before anything is prepared."""
    if source == "dir" and name.startswith("dir_"):
        from .tasksets import from_corpus

        found = {t.name: t for t in from_corpus(sources.load_dir(source_path))}
        if name not in found:
            raise DataError(f"task set {name!r} is not in {source_path}; it holds: {', '.join(found)}")
        return found[name]
    ts = get_taskset(name, source_path if source == "dir" else None)
    if source != "dir" and ts.source != source:
        hub = ", ".join(n for n, t in TASKSETS.items() if t.source == "hub")
        raise DataError(f"task set {name!r} reads " + ("the papers' corpora from the hub: give it with --source hub"
                        if ts.source == "hub" else f"DDTP; --source hub serves the papers' own task sets: {hub}"))
    if ts.corpus and (source != "dir" or Path(ts.corpus).resolve() != Path(source_path).resolve()):
        raise DataError(f"task set {name!r} is in the folder {ts.corpus}: give it with --source dir {ts.corpus}")
    if source == "dir":  # a task folder exists (cheap: the corpus is read only when it is prepared)
        folder = Path(source_path)
        held = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        for task in ts.tasks:
            if task not in held:
                raise DataError(f"task {task!r} is not in {folder}; it holds: {', '.join(held) or 'no task folders'}")
    return ts


def _task_text(ts: TaskSet, corpus: sources.Corpus, preset: str) -> dict[str, dict[str, list]]:
    """The preset's view of each task: training data subsampled by the common fraction."""
    out = {}
    # the hub loaders read only what the preset keeps (`TaskSet.train_count`): not subsampled twice
    fraction = 1.0 if corpus.source == "hub" else ts.fraction(preset)
    splits, trains = {}, {}
    for task in ts.tasks:
        splits[task] = corpus.task_splits(task, ts.kind)
        train = subsample(splits[task]["train"], fraction)
        keep = dict(ts.keep_train).get(task)
        if keep is not None and len(train) > keep:
            train = subsample(train, keep / len(train))
        trains[task] = train
    # the cap, on all tasks at once: the smaller ones keep their share of the largest's cap
    kept = capped_counts({task: len(train) for task, train in trains.items()}, ts.max_train(preset))
    for task in ts.tasks:
        k = ts.eval_size(preset)
        view = {"train": trains[task][:kept[task]], "valid": splits[task]["valid"][:k], "test": splits[task]["test"][:k]}
        unit = "segments" if ts.kind == "translation" else "documents"
        if len(view["train"]) < MIN_TRAIN[ts.kind] and not (preset == "smoke" and len(view["train"]) > 0):
            raise DataError(
                f"task {task!r} has only {len(view['train'])} training {unit} after the {preset} preset's "
                f"subsampling (need >= {MIN_TRAIN[ts.kind]}); use a larger language or a larger fraction"
            )
        if not view["valid"]:
            raise DataError(f"task {task!r} has no validation segments")
        out[task] = view
    return out


def _tokenize_task(tok: Tokenizer, kind: str, lang: str, data: list, block_size: int) -> dict[str, list]:
    if kind == "translation":
        tag = tok.tag_id(mt_tag(lang))
        src = tok.encode_batch([s for s, _ in data])
        tgt = tok.encode_batch([t for _, t in data])
        return {
            "src": [[tag] + s + [EOS] for s in src],
            "tgt": [t + [EOS] for t in tgt],
            "src_text": [s for s, _ in data],
            "tgt_text": [t for _, t in data],
        }
    tag = tok.tag_id(lm_tag(lang))
    blocks = []
    for ids in tok.encode_batch([d.replace("\n", " ") for d in data]):
        ids = ids + [EOS]
        for i in range(0, len(ids), block_size - 1):
            chunk = ids[i:i + block_size - 1]
            if len(chunk) >= 8 or i == 0:  # drop tiny document tails
                blocks.append([tag] + chunk)
    return {"src": [[] for _ in blocks], "tgt": blocks, "src_text": ["" for _ in blocks], "tgt_text": ["" for _ in blocks]}


def prepare(
    taskset: str | TaskSet, preset: str = "mini", source: str = "ddtp", source_path=None, vocab_size: int | None = None,
    block_size: int | None = None, data_dir=None, progress: bool = True, mirror: str | None = None,
) -> PreparedData:
    """Build (or reuse) the prepared data of a task set for a preset. Idempotent. mirror: a
    Debian archive mirror for the DDTP files, used only when they are not fetched yet (not
    part of the data's identity: the files are checked against the same pinned sums)."""
    preset_sizes = presets.get(preset)
    ts = taskset if isinstance(taskset, TaskSet) else named_taskset(taskset, source, source_path)
    taskset = ts.name
    vocab_size = vocab_size or preset_sizes.vocab_size
    block_size = block_size or preset_sizes.block_size
    if vocab_size < presets.MIN_VOCAB_SIZE:
        raise DataError(f"vocab size {vocab_size} is too small (byte fallback alone needs 259 ids); use >= "
                        f"{presets.MIN_VOCAB_SIZE}")
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    root = prepared_dir(taskset, preset, source, source_path, data_dir)
    lock = data_dir / "locks" / f"{root.parent.name}--{root.name}.lock"
    # the folders this call creates for the prepared data, removed again if it fails (the
    # lock file stays: a process waiting on it holds its inode, and a new file under the same
    # name would let a third one prepare beside it; fetched DDTP files stay too, to reuse)
    created = sorted((p for p in (root.parent, *root.parent.parents) if not p.exists()), key=lambda p: -len(p.parts))
    try:
        return _prepare_locked(ts, preset, source, source_path, vocab_size, block_size, data_dir, root, lock,
                               progress, mirror)
    except BaseException:
        for p in created:  # innermost first; a folder another process has filled meanwhile stays
            try:
                p.rmdir()
            except OSError:
                pass
        raise


def _prepare_locked(ts: TaskSet, preset, source, source_path, vocab_size, block_size, data_dir: Path, root: Path,
                    lock: Path, progress, mirror) -> PreparedData:
    taskset = ts.name
    data_dir.mkdir(parents=True, exist_ok=True)
    request = {
        "format": FORMAT_VERSION, "taskset": taskset, "preset": preset, "source": source,
        "source_path": str(Path(source_path).resolve()) if source_path else None,
        "vocab_size": vocab_size, "block_size": block_size, "vocab_tau": VOCAB_TAU,
        # the task set's definition too: editing its tasks or fractions must rebuild
        "definition": {"tasks": list(ts.tasks), "kind": ts.kind, "fraction": ts.fraction(preset),
                       "n_eval": ts.eval_size(preset),
                       # a cap keeps the tasks' ratios (`capped_counts`), a new request: capped data is rebuilt
                       "max_train": None if (cap := ts.max_train(preset)) is None else
                       {"largest": cap, "floor_divisor": CAP_FLOOR_DIVISOR}},
    }
    if ts.keep_train:  # only where set: every other task set's data (and run identities) unchanged
        request["definition"]["keep_train"] = dict(ts.keep_train)
    if source == "ddtp":  # which DDTP: data prepared from another release's files is rebuilt
        request["corpus"] = f"DDTP {ddtp.RELEASE} main, sha256-pinned"
    elif source == "dir" and source_path is not None:  # the folder's content: an edited corpus is prepared again
        request["corpus"] = f"files sha256 {sources.dir_signature(source_path)}"
    with files.waiting_lock(lock):
        # one process prepares; another asking for the same data waits here, then reuses it
        old = _read_manifest(root)
        if old.get("request") == request and _verified(root, old) is None:
            return PreparedData(root, old)
        root.parent.mkdir(parents=True, exist_ok=True)
        for stale in root.parent.glob(f".{root.name}-*"):  # left by a killed preparation (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            manifest = _build(ts, preset, source, source_path, data_dir, request, vocab_size, block_size, root, old, tmp,
                              progress, mirror)
            _swap_into_place(tmp, root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return PreparedData(root, manifest)


@contextlib.contextmanager
def _cleared_on_error(bar):
    """A preparation that fails erases its progress bar: the one-line error stands alone."""
    try:
        yield
    except BaseException:
        bar.leave = False
        raise


def _build(ts, preset, source, source_path, data_dir, request, vocab_size, block_size, root, old, out, progress,
           mirror=None) -> dict:
    """Everything of a prepared task set, written into `out` (manifest last); components of
    the old preparation whose keys are unchanged are hard-linked, not rebuilt."""
    reusable = old if old and _verified(root, old) is None else {}
    with tqdm(total=3 + len(ts.tasks), desc=f"prepare {ts.name} ({preset})", disable=not progress) as bar, \
            _cleared_on_error(bar):
        bar.set_postfix_str(f"loading {source} corpus")
        corpus = _load_corpus(ts, preset, source, source_path, data_dir, mirror)
        bar.update()
        text = _task_text(ts, corpus, preset)
        text_keys = {t: _sha(text[t]) for t in ts.tasks}
        bar.update()

        # tokenizer: trained on the training text of every task's languages
        tok_key = _sha({"vocab": vocab_size, "tau": VOCAB_TAU, "text": text_keys, "format": FORMAT_VERSION})
        if reusable.get("keys", {}).get("tokenizer") == tok_key:
            shutil.copytree(root / "tokenizer", out / "tokenizer", copy_function=os.link)
        else:
            bar.set_postfix_str("training tokenizer")
            by_lang: dict[str, list[str]] = {}
            for task in ts.tasks:
                for item in text[task]["train"]:
                    if ts.kind == "translation":
                        src_lang, tgt_lang = task.split("-", 1)
                        by_lang.setdefault(src_lang, []).append(item[0])
                        by_lang.setdefault(tgt_lang, []).append(item[1])
                    else:
                        by_lang.setdefault(task, []).extend(item.split("\n"))
            train_tokenizer(by_lang, out / "tokenizer" / "spm", vocab_size, tau=VOCAB_TAU)
            (out / "tokenizer" / "spm.vocab").unlink(missing_ok=True)
        tok = Tokenizer(out / "tokenizer" / "spm.model")
        tok_hash = tok.sha256()
        bar.update()

        import datasets
        from datasets import Dataset

        datasets.disable_progress_bars()  # one bar (ours) for the whole preparation
        task_keys, sizes = {}, {}
        for task, lang in zip(ts.tasks, ts.languages):
            key = _sha({"tok": tok_hash, "text": text_keys[task], "kind": ts.kind, "block": block_size})
            task_keys[task] = key
            final = out / "tasks" / task
            if reusable.get("keys", {}).get("tasks", {}).get(task) == key:
                shutil.copytree(root / "tasks" / task, final, copy_function=os.link)
            else:
                bar.set_postfix_str(f"tokenizing {task}")
                for split, data in text[task].items():
                    Dataset.from_dict(_tokenize_task(tok, ts.kind, lang, data, block_size)).save_to_disk(str(final / split))
            sizes[task] = _split_sizes(final, text[task])
            bar.update()

    manifest = {
        "request": request,
        "kind": ts.kind,
        "stands_for": ts.stands_for,
        "source": corpus.source,
        "prepared": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fetched": _fetch_date(data_dir) if source == "ddtp" else None,
        "train_fraction": ts.fraction(preset),
        "tokenizer": {"path": "tokenizer/spm.model", "sha256": tok_hash, "vocab_size": tok.vocab_size},
        "tasks": sizes,
        "keys": {"tokenizer": tok_key, "tasks": task_keys},
        # what the data are, from their content only: the same on any machine and any re-prepare
        "fingerprint": _sha({"tokenizer": tok_hash, "tasks": task_keys}),
        "files": _file_table(out),
    }
    atomic_write(out / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _swap_into_place(tmp: Path, root: Path) -> None:
    """Replace root by tmp with two renames; a crash between them leaves no root (prepared
    again next time), never a mix of old and new files."""
    trash = None
    if root.exists():
        trash = root.with_name(f".{root.name}-old-{os.getpid()}")
        root.rename(trash)
    files.share_like_the_user(tmp)
    tmp.rename(root)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _file_table(root: Path) -> dict:
    """relative path -> size and sha256 of every file under root (the manifest's own excepted)."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "manifest.json"):
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        out[str(path.relative_to(root))] = {"size": path.stat().st_size, "sha256": digest.hexdigest()}
    return out


def _read_manifest(root: Path) -> dict:
    path = root / "manifest.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}  # unreadable: prepared again


_VERIFIED: set = set()


def _verified(root: Path, manifest: dict) -> str | None:
    """None when every file the manifest lists is there with its size (and, once per
    process, its sha256); otherwise what is wrong, in words. A manifest without a file
    table (an older format) never verifies."""
    table = manifest.get("files")
    if not table:
        return "no file table in its manifest" if manifest else "not prepared"
    for rel, entry in table.items():
        path = root / rel
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return f"{rel} is missing or has the wrong size"
    key = (str(root), manifest.get("fingerprint"), manifest.get("prepared"))
    if key not in _VERIFIED:
        actual = _file_table(root)
        for rel, entry in table.items():
            if actual.get(rel, {}).get("sha256") != entry["sha256"]:
                return f"{rel} does not match its recorded sha256"
        _VERIFIED.add(key)
    return None


def _split_sizes(task_dir: Path, text: dict) -> dict:
    from datasets import load_from_disk

    out = {}
    for split in sources.SPLITS:
        ds = load_from_disk(str(task_dir / split))
        src_tokens = sum(len(x) for x in ds["src"])
        tgt_tokens = sum(len(x) for x in ds["tgt"])
        out[split] = {"segments": len(text[split]), "examples": len(ds), "tokens": src_tokens + tgt_tokens}
    return out


def _fetch_date(data_dir: Path) -> str | None:
    lists = Path(data_dir) / "ddtp" / "lists"
    files = list(lists.glob("*Translation-en"))
    if not files:
        return None
    return _dt.datetime.fromtimestamp(min(f.stat().st_mtime for f in files), _dt.timezone.utc).isoformat(timespec="seconds")


def load_prepared(taskset: str, preset: str = "mini", source: str = "ddtp", source_path=None, data_dir=None) -> PreparedData:
    """The prepared data if present, without building anything."""
    root = prepared_dir(taskset, preset, source, source_path, data_dir)
    fix = f"run `paperlib data prepare --tasks {taskset} --preset {preset}" + (f" --source dir {source_path}`" if source == "dir" else f" --source {source}`" if source != "ddtp" else "`")
    manifest = _read_manifest(root)
    if not manifest:
        raise DataError(f"task set {taskset!r} ({preset}) is not prepared; {fix}")
    problem = _verified(root, manifest)
    if problem:
        raise DataError(f"the prepared data in {root} do not match their manifest ({problem}); {fix} again")
    return PreparedData(root, manifest)
