"""Debian's translated package descriptions (DDTP) as a real, imbalanced multilingual corpus.

Every Debian package has an English description, and translators provide reviewed
translations into many languages; apt can fetch them as `Translation-XX` index files:
stanzas of `Package`, `Description-md5` and `Description-XX`. The md5 names the English
original, so joining a language to English on it gives parallel text.

A description is a one-line summary plus paragraphs separated by lines holding only " .".
Segments are the summary and each paragraph, unwrapped. Paragraph i is paired with
paragraph i only when both sides have the same number of segments (otherwise only the
summaries are paired), since translators sometimes merge or split paragraphs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import CorruptIndexError, DataError

# Languages with enough reviewed translations in Debian bookworm to be useful, largest
# first (unique segment pairs with English, measured here: da 110k ... hu 0.3k).
LANGUAGES = (
    "da", "it", "fr", "de", "sk", "pt_BR", "ja", "ko", "uk", "pl",
    "ru", "es", "cs", "pt", "zh_CN", "fi", "sr", "nl", "sv", "hu",
)
SOURCE_LANGUAGE = "en"

_WS = re.compile(r"\s+")


def check_languages(langs) -> list[str]:
    unknown = [l for l in langs if l not in LANGUAGES and l != SOURCE_LANGUAGE]
    if unknown:
        raise DataError(f"unknown DDTP language(s) {unknown}; valid: {', '.join(LANGUAGES)} (and en)")
    return list(langs)


def fetch(lists_dir: Path, languages=LANGUAGES) -> Path:
    """Download the Translation-* index files with apt into `lists_dir` (not the system's
    apt state). Written to a temporary folder first and renamed, so a failed fetch leaves
    nothing half-written. Returns lists_dir."""
    lists_dir = Path(lists_dir)
    if index_files(lists_dir, missing_ok=True).get(SOURCE_LANGUAGE):
        return lists_dir
    apt = shutil.which("apt-get")
    if apt is None:
        raise DataError(
            "apt-get is not available, so the DDTP corpus cannot be fetched here; "
            "use `paperlib data prepare --source dir PATH` with your own corpus"
        )
    lists_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=lists_dir.parent))
    try:
        (tmp / "partial").mkdir()
        cmd = [
            apt, "-q",
            "-o", f"Dir::State::Lists={tmp}",
            "-o", "Acquire::GzipIndexes=false",
            # only the translations: skip the (large) Packages indices
            "-o", "Acquire::IndexTargets::deb::Packages::DefaultEnabled=false",
            "-o", "Acquire::Languages=" + ",".join((SOURCE_LANGUAGE, *languages)),
            "update",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
        found = index_files(tmp, missing_ok=True)
        if proc.returncode != 0 or not found.get(SOURCE_LANGUAGE):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise DataError(
                "could not fetch the DDTP index files with apt-get "
                f"(exit {proc.returncode}: {' | '.join(tail) or 'no Translation-en downloaded'}); "
                "apt needs root and access to the Debian archive -- otherwise use --source dir PATH"
            )
        for extra in ("partial", "lock", "auxfiles"):
            p = tmp / extra
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        if lists_dir.exists():
            shutil.rmtree(lists_dir)
        tmp.rename(lists_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return lists_dir


def index_files(lists_dir: Path, missing_ok: bool = False) -> dict[str, list[Path]]:
    """language -> Translation files in lists_dir (apt escapes '_' as '%5f')."""
    lists_dir = Path(lists_dir)
    out: dict[str, list[Path]] = {}
    if lists_dir.is_dir():
        for p in sorted(lists_dir.glob("*_i18n_Translation-*")):
            lang = p.name.rsplit("Translation-", 1)[1].replace("%5f", "_")
            out.setdefault(lang, []).append(p)
    if not out and not missing_ok:
        raise DataError(f"no DDTP index files (*_i18n_Translation-*) in {lists_dir}; run `paperlib data prepare` to fetch them")
    return out


def _stanzas(path: Path):
    block: list[str] = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line in ("\n", "\r\n"):  # only a truly empty line ends a stanza
                    if block:
                        yield block
                        block = []
                else:
                    block.append(line.rstrip("\n"))
    except UnicodeDecodeError as exc:
        raise CorruptIndexError(f"{path}: not valid UTF-8 ({exc}); delete it and fetch again") from None
    if block:
        yield block


def parse_translation_file(path: Path, lang: str) -> dict[str, tuple[str, list[str]]]:
    """Description-md5 -> (summary, body lines without their leading space).

    Raises CorruptIndexError naming the file when a stanza lacks its md5 or description,
    which is what a truncated or foreign file looks like."""
    key = f"Description-{lang}:"
    out: dict[str, tuple[str, list[str]]] = {}
    n = 0
    for n, block in enumerate(_stanzas(path), 1):
        md5 = desc = None
        for i, line in enumerate(block):
            if line.startswith("Description-md5:"):
                md5 = line.split(":", 1)[1].strip()
            elif line.startswith(key):
                body = []
                for cont in block[i + 1:]:
                    if not cont.startswith(" "):
                        break
                    body.append(cont[1:])
                desc = (line[len(key):].strip(), body)
        if md5 is None or desc is None:
            missing = "Description-md5" if md5 is None else key.rstrip(":")
            raise CorruptIndexError(
                f"{path}: stanza {n} has no {missing} line (truncated or not a Translation-{lang} file); "
                "delete the data folder's ddtp/ and fetch again"
            )
        out[md5] = desc
    if n == 0:
        raise CorruptIndexError(f"{path}: empty index file; delete it and fetch again")
    return out


def segments(description: tuple[str, list[str]]) -> list[str]:
    """[summary, paragraph 1, paragraph 2, ...], each unwrapped onto one line."""
    summary, body = description
    paragraphs: list[list[str]] = [[]]
    for line in body:
        if line.strip() in (".", ""):  # " ." separates paragraphs (a few files use a blank)
            paragraphs.append([])
        else:
            paragraphs[-1].append(line.strip())
    return [_WS.sub(" ", summary).strip()] + [_WS.sub(" ", " ".join(p)).strip() for p in paragraphs if p]


def pair_descriptions(english: dict, other: dict) -> list[tuple[str, str]]:
    """Unique (English, other) segment pairs, sorted; empty and identical pairs dropped."""
    pairs = set()
    for md5, desc in other.items():
        if md5 not in english:
            continue
        en, xx = segments(english[md5]), segments(desc)
        chosen = zip(en, xx) if len(en) == len(xx) else [(en[0], xx[0])]
        pairs.update((a, b) for a, b in chosen if a and b and a != b)
    return sorted(pairs)


def documents(descriptions: dict) -> list[str]:
    """Unique monolingual documents (one per description, segments joined by newlines), sorted."""
    return sorted({"\n".join(s for s in segments(d) if s) for d in descriptions.values()})


def load(lists_dir: Path, languages) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[str]]]:
    """Parse the index files: ({"en-xx": pairs}, {lang: documents}) for the given languages."""
    files = index_files(lists_dir)
    languages = check_languages(languages)

    def parse_lang(lang):
        if lang not in files:
            raise DataError(f"no Translation-{lang} file in {lists_dir}; delete it and fetch again to include {lang}")
        merged = {}
        for p in files[lang]:
            merged.update(parse_translation_file(p, lang))
        return merged

    english = parse_lang(SOURCE_LANGUAGE)
    parallel, mono = {}, {SOURCE_LANGUAGE: documents(english)}
    for lang in languages:
        if lang == SOURCE_LANGUAGE:
            continue
        descs = parse_lang(lang)
        parallel[f"{SOURCE_LANGUAGE}-{lang}"] = pair_descriptions(english, descs)
        mono[lang] = documents(descs)
    return parallel, mono
