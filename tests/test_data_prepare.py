"""Tokenizer, the dir source, task datasets and the cache, on a small corpus written here."""

import json

import pytest

from paperlib import cli
from paperlib.data import DataError, TaskSet, load_prepared, prepare, sources, tasksets
from paperlib.data.tokenizer import EOS, Tokenizer, lm_tag, mt_tag, train_tokenizer

from conftest import sentence as _s


def test_tokenizer_round_trip_with_tags(tmp_path):
    texts = {"en": [_s("en", i) for i in range(300)], "it": [_s("it", i) for i in range(300)]}
    tok = train_tokenizer(texts, tmp_path / "spm", vocab_size=400)
    for s in ("the cat sleeps on the old sofa", "il gatto dorme — città", "日本語 ünïcödé"):
        assert tok.decode(tok.encode(s)) == s  # identity normalisation + byte fallback
    for tag in (mt_tag("it"), lm_tag("en")):
        i = tok.tag_id(tag)
        assert tok.sp.id_to_piece(i) == tag and i in tok.encode(tag)  # never split into pieces
    with pytest.raises(ValueError, match="no tag '<2de>'"):
        tok.tag_id(mt_tag("de"))
    assert (tok.pad_id, tok.eos_id) == (0, 3)


def test_dir_source_reads_layout(corpus_dir):
    c = sources.load_dir(corpus_dir)
    assert set(c.parallel) == {"en-it", "en-fi"} and set(c.monolingual) == {"fi"}
    assert len(c.parallel["en-fi"]["train"]) == 150
    assert c.monolingual["fi"]["test"] == c.monolingual["fi"]["valid"]  # missing test reuses valid


def test_dir_source_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        sources.load_dir(tmp_path / "nope")
    (tmp_path / "a.tsv").write_text("a\tb\n")
    with pytest.raises(DataError, match="a.tsv is a file, not a folder"):
        sources.load_dir(tmp_path / "a.tsv")
    (tmp_path / "en-it").mkdir()
    (tmp_path / "en-it" / "train.tsv").write_text("only one column\n")
    (tmp_path / "en-it" / "valid.tsv").write_text("v\tw\n")
    with pytest.raises(DataError, match=r"train.tsv:1: expected 'source<TAB>target'"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "train.tsv").write_bytes("a\tb\nc\tperch\xe9\n".encode("latin-1"))  # not UTF-8
    with pytest.raises(DataError, match=r"train.tsv:2: not UTF-8 \(byte 0xe9 at column 8\); re-encode"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "train.tsv").write_text("a\tb\nc\t \n")
    with pytest.raises(DataError, match=r"train.tsv:2: empty target side"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "train.tsv").write_text("a\tb\r\n")  # Windows line ends read as the same pair
    assert sources.load_dir(tmp_path).task_splits("en-it", "translation")["train"] == [("a", "b")]
    (tmp_path / "en-it" / "valid.tsv").write_text("v\tw\na\tb\n")  # a training pair held out as well
    with pytest.raises(DataError, match=r"en-it/valid.tsv:2: also in the training data \(train.tsv line 1\), as are 1 "
                                        r"of its 2 examples; held-out examples must not be trained on: e.g. grep -vxFf"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "valid.tsv").write_text("v\tw\n")
    (tmp_path / "en-it" / "test.txt").write_text("a document\n")  # a language's file in a pair's folder
    with pytest.raises(DataError, match=r"en-it: mixes documents \(.txt\) and translation pairs \(.tsv\)"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "test.txt").unlink()
    (tmp_path / "en-it" / "test.tsv").mkdir()  # a folder where the split's file belongs
    with pytest.raises(DataError, match=r"en-it/test.tsv is a folder; the test split is a file"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "test.tsv").rmdir()
    (tmp_path / "en-it" / "valid.tsv").unlink()
    with pytest.raises(DataError, match="missing or empty valid split"):
        sources.load_dir(tmp_path)


def test_prepare_dir_source_builds_datasets_and_manifest(corpus_dir, tmp_path):
    ts = tasksets.from_corpus(sources.load_dir(corpus_dir))
    assert [t.name for t in ts] == ["dir_translation", "dir_lm"]
    assert ts[0].tasks == ("en-it", "en-fi")  # largest first
    data = prepare(ts[0], "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    assert data.sizes() == {"en-it": 600, "en-fi": 150}
    ex = data.dataset("en-fi", "valid")[0]
    tok = data.tokenizer
    assert ex["src"][0] == tok.tag_id("<2fi>") and ex["src"][-1] == EOS and ex["tgt"][-1] == EOS
    assert tok.decode(ex["src"][1:]) == ex["src_text"] and tok.decode(ex["tgt"]) == ex["tgt_text"]
    m = json.loads((data.root / "manifest.json").read_text())
    assert m["tokenizer"]["sha256"] == tok.sha256()
    assert m["tasks"]["en-it"]["train"]["tokens"] > 600
    assert load_prepared("dir_translation", "mini", "dir", corpus_dir, tmp_path).manifest == m

    lm = prepare(ts[1], "mini", "dir", corpus_dir, vocab_size=500, block_size=16, data_dir=tmp_path, progress=False)
    blocks = lm.dataset("fi")["tgt"]
    assert all(b[0] == lm.tokenizer.tag_id("<fi>") and len(b) <= 16 for b in blocks)
    assert lm.sizes()["fi"] > 200  # documents were cut into several blocks


def test_prepare_reuses_cache_and_rebuilds_only_what_changed(corpus_dir, tmp_path, monkeypatch):
    ts = tasksets.from_corpus(sources.load_dir(corpus_dir))[0]
    first = prepare(ts, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    tok_mtime = (first.root / "tokenizer" / "spm.model").stat().st_mtime_ns

    import paperlib.data.pipeline as prep

    calls = []
    monkeypatch.setattr(prep, "train_tokenizer", lambda *a, **k: calls.append(a) or pytest.fail("retrained"))
    again = prepare(ts, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    assert again.manifest == first.manifest and not calls

    # a different block size only matters for LM: the tokenizer and the datasets are reused
    again = prepare(ts, "mini", "dir", corpus_dir, vocab_size=500, block_size=99, data_dir=tmp_path, progress=False)
    assert (again.root / "tokenizer" / "spm.model").stat().st_mtime_ns == tok_mtime
    monkeypatch.undo()
    # a different vocabulary rebuilds the tokenizer
    bigger = prepare(ts, "mini", "dir", corpus_dir, vocab_size=600, data_dir=tmp_path, progress=False)
    assert bigger.tokenizer.vocab_size == 600


def test_failure_leaves_nothing_half_written(corpus_dir, tmp_path, monkeypatch):
    import paperlib.data.pipeline as prep

    def boom(*a, **k):
        raise RuntimeError("tokenizing failed")

    ts = tasksets.from_corpus(sources.load_dir(corpus_dir))[0]
    monkeypatch.setattr(prep, "_tokenize_task", boom)
    with pytest.raises(RuntimeError):
        prepare(ts, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    root = prep.prepared_dir(ts.name, "mini", "dir", corpus_dir, tmp_path)
    assert not (root / "manifest.json").exists()
    assert not (root / "tasks").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_task_too_small_is_named(corpus_dir, tmp_path, monkeypatch):
    from paperlib import presets

    monkeypatch.setitem(presets.get("mini").fractions, "tiny", 0.5)  # the preset keeps half of its data
    ts = TaskSet("tiny", "translation", ("en-fi",), "test")
    with pytest.raises(DataError, match=r"task 'en-fi' has only 75 training segments"):
        prepare(ts, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path / "new" / "data", progress=False)
    # a failed preparation leaves no prepared folder behind, only its (empty) lock file: a process
    # waiting on that lock holds its inode, so it is never deleted
    left = sorted(str(p.relative_to(tmp_path / "new" / "data")) for p in (tmp_path / "new" / "data").rglob("*"))
    assert left == ["locks", "locks/dir-" + left[1].split("dir-")[1]] and left[1].endswith(".lock")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "kept.txt").write_text("the user's")
    with pytest.raises(DataError):
        prepare(ts, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path / "data", progress=False)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["kept.txt", "locks"]  # what was there stays


def test_unknown_task_set_and_task(corpus_dir, tmp_path):
    with pytest.raises(DataError, match="unknown task set 'nope'; valid: hrl_hrl"):
        prepare("nope", "mini", data_dir=tmp_path)
    ts = TaskSet("x", "translation", ("en-de",), "test")
    with pytest.raises(DataError, match="task 'en-de' is not in the dir:.*available translation tasks: en-fi, en-it"):
        prepare(ts, "mini", "dir", corpus_dir, data_dir=tmp_path, progress=False)


def test_cli_data_prepare_and_info_on_dir(corpus_dir, tmp_path, capsys):
    args = ["--source", "dir", str(corpus_dir), "--data-dir", str(tmp_path), "--preset", "smoke"]
    assert cli.main(["data", "prepare", *args, "--vocab-size", "500"]) == 0
    assert cli.main(["data", "info", *args]) == 0
    out = capsys.readouterr().out
    assert "dir_translation" in out and "en-fi" in out and "largest/this" in out and "epochs per run" in out


def test_cli_bad_source_is_one_line(capsys):
    assert cli.main(["data", "prepare", "--source", "dir"]) == 2
    assert "--source takes 'ddtp', 'hub' or 'dir PATH'" in capsys.readouterr().err


def test_hub_offline_error_says_what_to_do(monkeypatch):
    import datasets

    def offline(*a, **k):
        raise ConnectionError("offline mode is enabled")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match="needs internet .* --source ddtp or --source dir PATH"):
        sources.load_hub(["en-gl"], [], lambda task, available: available, corpus="opus100")


def test_the_fingerprint_depends_on_content_only(corpus_dir, tmp_path):
    """Two preparations of the same corpus, in two data directories from two copies of the
    corpus (as on two clones), give the same tokenizer hash and fingerprint."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(corpus_dir, copy)
    a = prepare("dir_translation", "mini", "dir", corpus_dir, vocab_size=400, data_dir=tmp_path / "a", progress=False)
    b = prepare("dir_translation", "mini", "dir", copy, vocab_size=400, data_dir=tmp_path / "b", progress=False)
    assert a.manifest["fingerprint"] == b.manifest["fingerprint"]
    assert a.manifest["tokenizer"]["sha256"] == b.manifest["tokenizer"]["sha256"]
    assert (a.root / "tokenizer" / "spm.model").read_bytes() != (b.root / "tokenizer" / "spm.model").read_bytes()  # paths inside
    c = prepare("dir_translation", "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path / "c", progress=False)
    assert c.manifest["fingerprint"] != a.manifest["fingerprint"]


def test_damaged_prepared_data_are_refused_and_prepared_again(corpus_dir, tmp_path):
    import paperlib.data.pipeline as pipeline

    kw = dict(vocab_size=400, data_dir=tmp_path, progress=False)
    good = prepare("dir_translation", "mini", "dir", corpus_dir, **kw)
    victim = next((good.root / "tasks" / "en-fi" / "train").glob("*.arrow"))
    victim.write_bytes(victim.read_bytes()[:-8] + b"\0" * 8)  # same size, different bytes
    pipeline._VERIFIED.clear()  # a new process
    with pytest.raises(DataError, match=r"do not match their manifest \(tasks/en-fi/train/.* sha256\); run `paperlib data prepare"):
        load_prepared("dir_translation", "mini", "dir", corpus_dir, tmp_path)
    again = prepare("dir_translation", "mini", "dir", corpus_dir, **kw)  # rebuilt, whole
    assert again.manifest["fingerprint"] == good.manifest["fingerprint"]
    assert load_prepared("dir_translation", "mini", "dir", corpus_dir, tmp_path).manifest == again.manifest
    assert not [p for p in again.root.parent.iterdir() if p.name.startswith(".")]  # no temporary folders left


def _prepare_slowly(corpus_dir, data_dir, marker):
    """A re-preparation (new vocabulary) that stops in the middle, after the tokenizer and
    while tokenizing, and says so by creating `marker`."""
    import time
    from pathlib import Path

    import paperlib.data.pipeline as pipeline

    real = pipeline._split_sizes

    def slow(*args, **kwargs):
        Path(marker).touch()
        time.sleep(120)
        return real(*args, **kwargs)

    pipeline._split_sizes = slow
    pipeline.prepare("dir_translation", "mini", "dir", corpus_dir, vocab_size=500, data_dir=data_dir, progress=False)


def _prepare_in_process(corpus_dir, data_dir):
    from paperlib.data import prepare

    return prepare("dir_translation", "mini", "dir", corpus_dir, vocab_size=400, data_dir=data_dir, progress=False).manifest


@pytest.mark.slow
def test_concurrent_prepares_build_once_and_a_killed_one_leaves_nothing_half_written(corpus_dir, tmp_path):
    import multiprocessing
    import os
    import signal
    import time
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, ctx) as pool:
        a, b = [f.result() for f in [pool.submit(_prepare_in_process, corpus_dir, tmp_path) for _ in range(2)]]
    assert a == b  # the second waited for the first and reused its preparation (same timestamp)
    root = load_prepared("dir_translation", "mini", "dir", corpus_dir, tmp_path).root

    # kill -9 a re-preparation (new vocabulary) in the middle: the old data stay, whole
    marker = tmp_path / "started"
    p = ctx.Process(target=_prepare_slowly, args=(corpus_dir, tmp_path, marker))
    p.start()
    for _ in range(600):
        if marker.exists() or not p.is_alive():
            break
        time.sleep(0.1)
    assert marker.exists(), "the re-preparation did not reach its middle"
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    assert [q for q in root.parent.iterdir() if q.name.startswith(".")]  # it was writing into a temporary folder
    assert load_prepared("dir_translation", "mini", "dir", corpus_dir, tmp_path).manifest == a
    again = prepare("dir_translation", "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    assert again.manifest["request"]["vocab_size"] == 500
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("name", ["en-", "-it", "en-fi-sv", "en_it", "en-i t", "1en-it"])
def test_a_parallel_folder_must_be_named_by_two_language_codes(tmp_path, name):
    (tmp_path / name).mkdir()
    (tmp_path / name / "train.tsv").write_text("a\tb\n")
    (tmp_path / name / "valid.tsv").write_text("v\tw\n")
    with pytest.raises(DataError, match=f"joined by one hyphen, e.g. en-it or en-pt_BR; got '{name}'"):
        sources.load_dir(tmp_path)


def test_language_codes_with_a_region_are_accepted(tmp_path):
    for name in ("en-pt_BR", "en-zh_CN"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.tsv").write_text("a\tb\n")
        (tmp_path / name / "valid.tsv").write_text("v\tw\n")
    (tmp_path / "my corpus").mkdir()
    (tmp_path / "my corpus" / "train.txt").write_text("a\n\nb\n")
    (tmp_path / "my corpus" / "valid.txt").write_text("v\n")
    with pytest.raises(DataError, match="monolingual folder is named by its language, letters"):
        sources.load_dir(tmp_path)
    (tmp_path / "my corpus" / "train.txt").unlink()
    (tmp_path / "my corpus" / "valid.txt").unlink()
    assert set(sources.load_dir(tmp_path).parallel) == {"en-pt_BR", "en-zh_CN"}


def test_a_vocabulary_larger_than_the_corpus_can_fill_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"vocab size 5000 is more than this corpus can fill .*use --vocab-size \d+ or less"):
        train_tokenizer({"en": ["hello world", "this is a test"], "it": ["ciao mondo"]}, tmp_path / "spm", vocab_size=5000)


def test_cli_data_info_lists_what_is_prepared_and_what_is_not(corpus_dir, tmp_path, capsys):
    args = ["--source", "dir", str(corpus_dir), "--data-dir", str(tmp_path), "--preset", "smoke"]
    assert cli.main(["data", "info", *args]) == 0  # nothing prepared yet: said, not a crash
    out = capsys.readouterr().out
    assert "dir_translation: not ready for preset smoke" in out and "paperlib data prepare" in out
    assert cli.main(["data", "prepare", *args, "--vocab-size", "500", "--tasks", "dir_translation"]) == 0
    capsys.readouterr()
    assert cli.main(["data", "info", *args]) == 0
    out = capsys.readouterr().out
    assert "largest/this" in out and "dir_translation: not ready" not in out and "dir_lm: not ready" in out


def test_keep_train_makes_a_low_resource_task_and_only_that_set_changes(corpus_dir, tmp_path):
    """TaskSet.keep_train subsamples a named task's training data deterministically; the
    request of a task set without it is as before (its data and run identities unchanged)."""
    whole = TaskSet("pair", "translation", ("en-it", "en-fi"), "test")
    small = TaskSet("pair_small", "translation", ("en-it", "en-fi"), "test", keep_train=(("en-fi", 110),))
    a = prepare(whole, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    b = prepare(small, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path, progress=False)
    assert a.sizes() == {"en-it": 600, "en-fi": 150} and b.sizes() == {"en-it": 600, "en-fi": 110}
    kept = b.dataset("en-fi", "train")["tgt_text"]
    assert set(kept) <= set(a.dataset("en-fi", "train")["tgt_text"])  # a subset of the same pairs
    again = prepare(small, "mini", "dir", corpus_dir, vocab_size=500, data_dir=tmp_path / "again", progress=False)
    assert again.dataset("en-fi", "train")["tgt_text"] == kept  # deterministic
    assert "keep_train" not in json.loads((a.root / "manifest.json").read_text())["request"]["definition"]
    with pytest.raises(DataError, match="keep_train needs one of its tasks"):
        TaskSet("bad", "translation", ("en-it",), "test", keep_train=(("en-fi", 10),))


def test_editing_your_corpus_prepares_it_again(corpus_dir, tmp_path):
    """A corpus folder edited after it was prepared (a pair added) is prepared again: the new
    pair is trained on and the fingerprint changes (it was the old data, silently)."""
    import shutil

    folder = shutil.copytree(corpus_dir, tmp_path / "corpus")
    kw = dict(vocab_size=400, data_dir=tmp_path / "data", progress=False)
    before = prepare("dir_translation", "mini", "dir", folder, **kw)
    with open(folder / "en-fi" / "train.tsv", "a") as f:
        f.write("a brand new english sentence\tuusi suomenkielinen lause\n")
    after = prepare("dir_translation", "mini", "dir", folder, **kw)
    assert after.sizes() == {"en-it": 600, "en-fi": 151}
    assert "uusi suomenkielinen lause" in after.dataset("en-fi", "train")["tgt_text"]
    assert after.manifest["fingerprint"] != before.manifest["fingerprint"]
    assert prepare("dir_translation", "mini", "dir", folder, **kw).manifest == after.manifest  # unchanged: reused
