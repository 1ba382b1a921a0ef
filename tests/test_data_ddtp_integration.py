"""Fetches the real DDTP index files with apt (≈5 s, ≈60 MB) and checks the corpus.

Counts drift a little between Debian point releases, so sizes are checked within ranges.
Marked `network`; .ci/run runs it (CI machines reach the Debian archive)."""

import shutil

import pytest

from paperlib.data import ddtp, splits

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if shutil.which("apt-get") is None:
        pytest.fail("apt-get is required for the DDTP integration test")
    lists = ddtp.fetch(tmp_path_factory.mktemp("ddtp") / "lists", languages=("it", "fi", "sv"))
    return lists, *ddtp.load(lists, ["it", "fi", "sv"])


def test_real_sizes_are_heavily_imbalanced(real):
    _, parallel, mono = real
    assert 95_000 <= len(parallel["en-it"]) <= 130_000
    assert 900 <= len(parallel["en-fi"]) <= 1_500
    assert 300 <= len(parallel["en-sv"]) <= 600
    chars = {lang: sum(map(len, docs)) for lang, docs in mono.items()}
    assert 20e6 <= chars["en"] <= 32e6
    assert 30e3 <= chars["sv"] <= 120e3


def test_real_pairs_look_like_translations(real):
    _, parallel, _ = real
    pairs = parallel["en-fi"]
    assert all(a and b and a != b for a, b in pairs)
    ratio = sorted(len(b) / len(a) for a, b in pairs)[len(pairs) // 2]
    assert 0.7 <= ratio <= 1.5  # median length ratio of real translations


def test_real_splits_do_not_leak(real):
    _, parallel, _ = real
    out = splits.split_parallel(parallel, n_eval=200)
    train_en = {e for t in out.values() for e, _ in t["train"]}
    held = {e for t in out.values() for s in ("valid", "test") for e, _ in t[s]}
    assert not train_en & held
    assert len(out["en-it"]["valid"]) >= 200 and len(out["en-fi"]["valid"]) >= 90


def test_fetch_twice_reuses_files(real):
    lists, _, _ = real
    before = {p: p.stat().st_mtime_ns for p in lists.iterdir()}
    ddtp.fetch(lists, languages=("it", "fi", "sv"))
    assert {p: p.stat().st_mtime_ns for p in lists.iterdir()} == before
