"""Debian's translated package descriptions (DDTP) as a real, imbalanced multilingual corpus.

Fetched over HTTPS from the Debian archive: the `Translation-XX` files of one pinned
release (bookworm, main), each checked against its sha256 recorded here, so that every
host builds the same corpus and the same data fingerprint. Where the archive cannot be
reached, apt fetches them instead (the host's own release and suites: the corpus may then
differ, and runs are not shared with other hosts).

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

import bz2
import contextlib
import hashlib
import lzma
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import CorruptIndexError, DataError

# Languages with enough reviewed translations in Debian bookworm to be useful, about largest
# first (unique segment pairs with English, measured here: it 111k, da 110k ... hu 0.3k).
LANGUAGES = (
    "da", "it", "fr", "de", "sk", "pt_BR", "ja", "ko", "uk", "pl",
    "ru", "es", "cs", "pt", "zh_CN", "fi", "sr", "nl", "sv", "hu",
)
SOURCE_LANGUAGE = "en"

ARCHIVE = "https://deb.debian.org/debian"
RELEASE = "bookworm"
# sha256 of each uncompressed main/i18n/Translation-XX of bookworm, from the archive's Release
# file of Debian 12.15 (2026-07-11); these files change only at point releases, if at all
SHA256 = {
    "en": "62f59c3cdca9786e4f7adf9002f9f5729a684adcb4667e58e448dec9b5a46c7f",
    "da": "dc3e8f2d1f51c3dde7814e58e2312e194cb8faee439bb5e56e3f034dd94048e2",
    "it": "f2010961f0968127812de8484ecead4f45b25b2cb6aeb788f9f25753fbd5cff7",
    "fr": "1b5ce81d2dac68fb27997899d9e092b8281f984baa658c22139d8f2640aec6cc",
    "de": "adac331fc51f9a00c1b4120b4ac87423be2b1f1615d4f288c7cbc2d5258c0650",
    "sk": "d1df7536efa9f0d00d044bd70698cec70c983b0cf947da419e7d72b569e67da8",
    "pt_BR": "06883dac5c7394bc37f99a26980e21ca8baec34b364719d0b98793dbfcdf50ff",
    "ja": "642792836c58facc19a735181fc1bc53ac211fc082ff141377fc6be2d2498259",
    "ko": "2c6269e0889312fd60711cbe4dd03a50d3f45d0f6a95076d48226f60cc76f76c",
    "uk": "a1e9e092c9ef84e12dd7eb1be3819deb3209e3bc4cec0671beb78f3351d026a3",
    "pl": "2cbf30bbcc0996040301104f88ab3d950b37d2fc7067cbc6f66e62b5245ba264",
    "ru": "150a6c5b969a2856ffb16908306ac2328ad61131df343a7e6418ebdc1a86c9bd",
    "es": "891b4912747533755c5caca42c5dc2365fc7a8b73af88c44485b61ce7fddb740",
    "cs": "13017b3ee4f8def6a2540497222e2e826b68138b5dbf552b4b8ebe378b525f9e",
    "pt": "58bee04ff62934475047bd428d960b8400b523b4985cd7d740b1b26d2db45e12",
    "zh_CN": "53d04c0b9a75c9519afc6a1919af6d6cfd9012bb7a18bf110a169fd67c6cc4ef",
    "fi": "cbb13c262345bae831e5dcd1fd220469f2c1b0baa89f4ac20e1f03d31d8e1c37",
    "sr": "47cb28476f344084fb4aa9f70a9bf87395da09cfa305dfdecabfc4afb20973b2",
    "nl": "8bcff180ceb9f715ba04020990f3ba0565e501969e24285a25858e1b2ba6c576",
    "sv": "d263d1250479bf10a9733a6a409be902b06b3981430f829fb1e36087627107cf",
    "hu": "65f51c261999224ee67d095330035af7692ace11f26fe83d741d49f50fcf23af",
}
# how the archive serves each file (its Release file lists what there is): English as .xz,
# the translations as .bz2
COMPRESSION = {"en": "xz"}
DECOMPRESS = {"xz": lzma.decompress, "bz2": bz2.decompress}
# the pinned suite's files, named as apt names them (so that both ways fill one lists folder)
PINNED = f"_dists_{RELEASE}_main_i18n_Translation-"


class ArchiveUnreachable(DataError):
    pass

_WS = re.compile(r"\s+")


def check_languages(langs) -> list[str]:
    unknown = [l for l in langs if l not in LANGUAGES and l != SOURCE_LANGUAGE]
    if unknown:
        raise DataError(f"unknown DDTP language(s) {unknown}; valid: {', '.join(LANGUAGES)} (and en)")
    return list(langs)


def fetch(lists_dir: Path, languages=LANGUAGES, archive: str | None = ARCHIVE) -> Path:
    """The Translation-* files in `lists_dir`: from the Debian archive over HTTPS (pinned and
    checked, `fetch_http`), or with apt where the archive cannot be reached (archive=None:
    apt only). Nothing half-written on failure. Returns lists_dir."""
    lists_dir = Path(lists_dir)
    if index_files(lists_dir, missing_ok=True).get(SOURCE_LANGUAGE):
        return lists_dir
    unreachable = ""
    if archive:
        try:
            return fetch_http(lists_dir, languages, archive)
        except ArchiveUnreachable as exc:
            unreachable = f"{exc}; "
    return _fetch_apt(lists_dir, languages, unreachable)


@contextlib.contextmanager
def _filled_then_moved(lists_dir: Path):
    """A temporary folder beside lists_dir to fill; it replaces lists_dir only when the block
    ends without an error, and is removed in any case: a failed fetch leaves nothing."""
    lists_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=lists_dir.parent))
    try:
        yield tmp
        if lists_dir.exists():
            shutil.rmtree(lists_dir)
        tmp.rename(lists_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _download(url: str) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ArchiveUnreachable(f"{url}: {getattr(exc, 'reason', exc)}") from None


def fetch_http(lists_dir: Path, languages=LANGUAGES, archive: str = ARCHIVE) -> Path:
    """Download main/i18n/Translation-XX(.xz|.bz2) of the pinned release for English and
    `languages`, check each against its recorded sha256, and move them into lists_dir
    together (a temporary folder renamed into place)."""
    from tqdm.auto import tqdm

    lists_dir = Path(lists_dir)
    langs = [SOURCE_LANGUAGE, *check_languages(languages)]
    host = archive.split("://", 1)[-1].split("/", 1)[0]
    with _filled_then_moved(lists_dir) as tmp:
        for lang in tqdm(langs, desc=f"DDTP from {host}", unit="file", leave=False):
            kind = COMPRESSION.get(lang, "bz2")
            url = f"{archive.rstrip('/')}/dists/{RELEASE}/main/i18n/Translation-{lang}.{kind}"
            compressed = _download(url)
            try:
                data = DECOMPRESS[kind](compressed)
            except (OSError, ValueError, lzma.LZMAError) as exc:  # a cut or corrupted download
                raise DataError(f"{url}: not a {kind} file ({exc}); fetch again") from None
            digest = hashlib.sha256(data).hexdigest()
            if digest != SHA256[lang]:
                raise DataError(f"{url}: sha256 {digest[:16]}... is not the {SHA256[lang][:16]}... recorded for Debian "
                                f"{RELEASE}: the archive's file has changed, so the corpus would differ from everyone "
                                "else's; update ddtp.SHA256 deliberately, or use --source dir PATH")
            (tmp / f"{host.replace('/', '_')}_debian{PINNED}{lang.replace('_', '%5f')}").write_bytes(data)
    return lists_dir


def _fetch_apt(lists_dir: Path, languages, unreachable: str = "") -> Path:
    """Download the Translation-* index files with apt into `lists_dir` (not the system's
    apt state): the host's release and suites."""
    apt = shutil.which("apt-get")
    if apt is None:
        raise DataError(
            f"{unreachable}apt-get is not available{' either' if unreachable else ''}, so the DDTP corpus cannot be "
            "fetched here; "
            "use `paperlib data prepare --source dir PATH` with your own corpus"
        )
    with _filled_then_moved(lists_dir) as tmp:
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
                f"{unreachable}could not fetch the DDTP index files with apt-get "
                f"(exit {proc.returncode}: {' | '.join(tail) or 'no Translation-en downloaded'}); "
                "apt needs root and access to the Debian archive -- otherwise use --source dir PATH"
            )
        for extra in ("partial", "lock", "auxfiles"):
            p = tmp / extra
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    return lists_dir


def index_files(lists_dir: Path, missing_ok: bool = False) -> dict[str, list[Path]]:
    """language -> Translation files in lists_dir (apt escapes '_' as '%5f')."""
    lists_dir = Path(lists_dir)
    out: dict[str, list[Path]] = {}
    if lists_dir.is_dir():
        found = sorted(lists_dir.glob("*_i18n_Translation-*"))
        # the pinned release's main files alone where they are there (apt also brings the
        # host's -updates and -security suites: a few hundred English descriptions more)
        pinned = [p for p in found if PINNED in p.name]
        for p in pinned if any(p.name.endswith(PINNED + SOURCE_LANGUAGE) for p in pinned) else found:
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
