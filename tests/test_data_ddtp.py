"""DDTP parsing and pairing on small index files written here."""

import bz2
import lzma

import pytest

from paperlib.data import ddtp
from paperlib.data.errors import CorruptIndexError, DataError

EN = """\
Package: alpha
Description-md5: 111
Description-en: fast text editor
 Alpha edits text quickly
 and safely.
 .
 It supports plugins.

Package: beta
Description-md5: 222
Description-en: music player
 Beta plays music.
 .
 It has a playlist.
 .
 It is small.

Package: gamma
Description-md5: 333
Description-en: same in both
 Gamma.
"""

FI = """\
Package: alpha
Description-md5: 111
Description-fi: nopea tekstieditori
 Alpha muokkaa tekstiä nopeasti
 ja turvallisesti.
 .
 Se tukee liitännäisiä.

Package: beta
Description-md5: 222
Description-fi: musiikkisoitin
 Beta soittaa musiikkia. Siinä on soittolista.

Package: gamma
Description-md5: 333
Description-fi: same in both
 Gamma.

Package: delta
Description-md5: 999
Description-fi: ei englanninkielistä alkuperäistä
"""


@pytest.fixture
def lists(tmp_path):
    (tmp_path / "x_dists_bookworm_main_i18n_Translation-en").write_text(EN)
    (tmp_path / "x_dists_bookworm_main_i18n_Translation-fi").write_text(FI)
    (tmp_path / "x_dists_bookworm_main_i18n_Translation-pt%5fBR").write_text(FI.replace("-fi:", "-pt_BR:"))
    return tmp_path


def test_segments_unwrap_and_split_paragraphs(lists):
    en = ddtp.parse_translation_file(next(lists.glob("*-en")), "en")
    assert ddtp.segments(en["111"]) == ["fast text editor", "Alpha edits text quickly and safely.", "It supports plugins."]


def test_pairing_matches_paragraphs_only_when_counts_agree(lists):
    en = ddtp.parse_translation_file(next(lists.glob("*-en")), "en")
    fi = ddtp.parse_translation_file(next(lists.glob("*-fi")), "fi")
    pairs = ddtp.pair_descriptions(en, fi)
    assert ("Alpha edits text quickly and safely.", "Alpha muokkaa tekstiä nopeasti ja turvallisesti.") in pairs
    assert ("It supports plugins.", "Se tukee liitännäisiä.") in pairs
    # beta: 3 English paragraphs vs 1 Finnish -> only the summaries are paired
    assert ("music player", "musiikkisoitin") in pairs
    assert not any(a == "Beta plays music." for a, _ in pairs)
    # gamma is identical on both sides -> dropped; delta has no English original -> dropped
    assert not any(a in ("same in both", "Gamma.") for a, _ in pairs)
    assert len(pairs) == 4 and pairs == sorted(set(pairs))


def test_index_files_decode_language_names(lists):
    assert set(ddtp.index_files(lists)) == {"en", "fi", "pt_BR"}


def test_load_returns_parallel_and_monolingual(lists):
    parallel, mono = ddtp.load(lists, ["fi", "pt_BR"])
    assert set(parallel) == {"en-fi", "en-pt_BR"}
    assert len(mono["en"]) == 3 and len(mono["fi"]) == 4
    assert "fast text editor\nAlpha edits text quickly and safely.\nIt supports plugins." in mono["en"]


def test_blank_continuation_line_is_not_a_stanza_break(tmp_path):
    p = tmp_path / "a_i18n_Translation-fr"
    p.write_text("Package: a\nDescription-md5: 1\nDescription-fr: résumé\n Un.\n  \n Deux.\n\nPackage: b\nDescription-md5: 2\nDescription-fr: b\n")
    out = ddtp.parse_translation_file(p, "fr")
    assert ddtp.segments(out["1"]) == ["résumé", "Un.", "Deux."]


@pytest.mark.parametrize(
    "content, message",
    [
        ("Package: a\nDescription-fi: x\n", "has no Description-md5"),
        ("Package: a\nDescription-md5: 1\n", "has no Description-fi"),
        ("", "empty index file"),
    ],
)
def test_corrupt_files_name_the_file(tmp_path, content, message):
    p = tmp_path / "bad_i18n_Translation-fi"
    p.write_text(content)
    with pytest.raises(CorruptIndexError, match=message) as exc:
        ddtp.parse_translation_file(p, "fi")
    assert str(p) in str(exc.value)


def test_non_utf8_file_is_corrupt(tmp_path):
    p = tmp_path / "bad_i18n_Translation-fi"
    p.write_bytes(b"Package: a\nDescription-md5: 1\nDescription-fi: \xff\xfe\n")
    with pytest.raises(CorruptIndexError, match="not valid UTF-8"):
        ddtp.parse_translation_file(p, "fi")


def test_unknown_language_lists_valid_ones():
    with pytest.raises(DataError, match=r"unknown DDTP language\(s\) \['xx'\]; valid: da, it"):
        ddtp.check_languages(["fi", "xx"])


def test_missing_apt_points_to_dir_source(tmp_path, monkeypatch):
    monkeypatch.setattr(ddtp.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="--source dir PATH"):
        ddtp.fetch(tmp_path / "lists", archive=None)
    assert not (tmp_path / "lists").exists()


def test_failed_apt_leaves_nothing(tmp_path, monkeypatch):
    fake = tmp_path / "apt-get"
    fake.write_text("#!/bin/sh\necho 'E: Could not open lock file - open (13: Permission denied)' >&2\nexit 100\n")
    fake.chmod(0o755)
    monkeypatch.setattr(ddtp.shutil, "which", lambda name: str(fake))
    with pytest.raises(DataError, match="Permission denied"):
        ddtp.fetch(tmp_path / "data" / "lists", archive=None)
    assert list((tmp_path / "data").iterdir()) == []


def _archive(monkeypatch, files: dict[str, str]):
    """A fake Debian archive serving Translation-XX.bz2 files, their sums recorded as pinned;
    returns the list of URLs asked for."""
    import hashlib

    asked = []
    blobs = {lang: text.encode() for lang, text in files.items()}

    def download(url):
        asked.append(url)
        lang, kind = url.rsplit("Translation-", 1)[1].split(".")
        if lang not in blobs:
            raise ddtp.ArchiveUnreachable(f"{url}: 404")
        return {"xz": lzma.compress, "bz2": bz2.compress}[kind](blobs[lang])

    monkeypatch.setattr(ddtp, "_download", download)
    monkeypatch.setattr(ddtp, "SHA256", {**ddtp.SHA256, **{l: hashlib.sha256(b).hexdigest() for l, b in blobs.items()}})
    return asked


_EN = "Package: a\nDescription-md5: 1\nDescription-en: a tool\n a tool that works\n\n"
_FI = "Package: a\nDescription-md5: 1\nDescription-fi: työkalu\n työkalu joka toimii\n\n"


def test_the_corpus_comes_over_https_pinned_and_checked_without_apt(tmp_path, monkeypatch):
    asked = _archive(monkeypatch, {"en": _EN, "fi": _FI})
    monkeypatch.setattr(ddtp.shutil, "which", lambda name: None)  # no apt on this host
    lists = ddtp.fetch(tmp_path / "lists", languages=("fi",))
    assert asked == [f"{ddtp.ARCHIVE}/dists/bookworm/main/i18n/Translation-{f}" for f in ("en.xz", "fi.bz2")]
    assert set(ddtp.index_files(lists)) == {"en", "fi"}
    parallel, _ = ddtp.load(lists, ["fi"])
    assert parallel["en-fi"] == [("a tool", "työkalu"), ("a tool that works", "työkalu joka toimii")]


def test_a_mirror_serves_the_same_pinned_files(tmp_path, monkeypatch):
    """`paperlib data prepare --mirror URL` fetches from the mirror (checked against the same
    recorded sums: `fetch_http` above); without it, from the official archive."""
    from paperlib import cli
    from paperlib.data import pipeline

    asked = []

    def fetch(lists_dir, languages=ddtp.LANGUAGES, archive=ddtp.ARCHIVE):
        asked.append(archive)
        raise DataError("stop here")

    monkeypatch.setattr(ddtp, "fetch", fetch)
    for extra, archive in ((["--mirror", "https://mirror.example/debian"], "https://mirror.example/debian"),
                           ([], ddtp.ARCHIVE)):
        pipeline._ddtp_corpus.cache_clear()
        assert cli.main(["data", "prepare", "--tasks", "hrl_lrl_fi", "--data-dir", str(tmp_path), *extra]) == 2
        assert asked.pop() == archive
    pipeline._ddtp_corpus.cache_clear()


def test_a_file_that_differs_from_its_recorded_sum_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    _archive(monkeypatch, {"en": _EN, "fi": _FI})
    monkeypatch.setattr(ddtp, "SHA256", {**ddtp.SHA256, "fi": "0" * 64})
    with pytest.raises(DataError, match=r"Translation-fi.bz2: sha256 .* is not the 0000000000000000... recorded for "
                                        r"Debian bookworm"):
        ddtp.fetch(tmp_path / "data" / "lists", languages=("fi",))
    assert list((tmp_path / "data").iterdir()) == []


def test_an_unreachable_archive_falls_back_to_apt_and_says_both(tmp_path, monkeypatch):
    _archive(monkeypatch, {})  # every URL fails
    monkeypatch.setattr(ddtp.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match=r"Translation-en.xz: 404; apt-get is not available either"):
        ddtp.fetch(tmp_path / "lists", languages=("fi",))


def test_the_pinned_release_is_read_alone_where_apt_also_brought_other_suites(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / f"deb.debian.org_debian{ddtp.PINNED}en").write_text(_EN)
    (lists / f"deb.debian.org_debian{ddtp.PINNED}fi").write_text(_FI)
    (lists / "deb.debian.org_debian-security_dists_bookworm-security_main_i18n_Translation-en").write_text(
        "Package: b\nDescription-md5: 2\nDescription-en: only in security\n\n")
    assert {l: [p.name for p in ps] for l, ps in ddtp.index_files(lists).items()} == {
        "en": [f"deb.debian.org_debian{ddtp.PINNED}en"], "fi": [f"deb.debian.org_debian{ddtp.PINNED}fi"]}


def test_files_already_fetched_are_reused_not_downloaded_again(tmp_path, monkeypatch):
    asked = _archive(monkeypatch, {"en": _EN, "fi": _FI})
    lists = ddtp.fetch(tmp_path / "lists", languages=("fi",))
    before = {p.name: p.read_bytes() for p in lists.iterdir()}
    asked.clear()
    assert ddtp.fetch(tmp_path / "lists", languages=("fi",)) == lists and asked == []
    assert {p.name: p.read_bytes() for p in lists.iterdir()} == before


def test_a_cut_download_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    _archive(monkeypatch, {"en": _EN, "fi": _FI})
    monkeypatch.setattr(ddtp, "_download", lambda url: b"BZh9 cut off here")
    with pytest.raises(DataError, match=r"Translation-en.xz: not a xz file .*; fetch again"):
        ddtp.fetch(tmp_path / "data" / "lists", languages=("fi",))
    assert list((tmp_path / "data").iterdir()) == []


def test_a_language_without_its_file_is_named(lists):
    (next(lists.glob("*-fi"))).unlink()
    with pytest.raises(DataError, match=r"no Translation-fi file in .*fetch again to include fi"):
        ddtp.load(lists, ["fi"])
