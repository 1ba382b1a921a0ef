"""Tokenizer, the dir source, task datasets and the cache, on a small corpus written here."""

import json
from pathlib import Path

import pytest

from paperlib import cli, presets
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



def test_the_vocabulary_corpus_samples_languages_at_the_temperature():
    from paperlib.data.tokenizer import sample_vocab_corpus

    # 10,000 : 100 characters at τ=2 -> lines ∝ sqrt: 100 : 10; an empty language is skipped
    texts = {"big": ["b" * 100] * 100, "small": ["s" * 10] * 10, "empty": []}
    lines = sample_vocab_corpus(texts, tau=2, max_lines=11_000)
    assert len(lines) == 11_000 and set(lines) == {"b" * 100, "s" * 10}
    assert 850 <= lines.count("s" * 10) <= 1150  # 1/11 of the lines (τ=1 would give 1/101)
    assert lines == sample_vocab_corpus(texts, tau=2, max_lines=11_000)  # seeded


def test_a_vocabulary_smaller_than_the_characters_needed_is_one_line(tmp_path):
    chars = [chr(0x4E00 + i) for i in range(600)]  # 600 distinct CJK characters
    lines = ["".join(chars[(i * 7 + k) % 600] for k in range(20)) for i in range(600)]
    with pytest.raises(ValueError, match=r"vocab size 400 is smaller than the number of distinct characters these "
                                         r"languages need \(.*\); use a larger --vocab-size"):
        train_tokenizer({"zh": lines}, tmp_path / "spm", vocab_size=400)

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



def _pair_folder(root, **files):
    d = root / "en-it"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name.replace("_", ".")).write_text(text)
    return root


def test_a_test_split_that_repeats_a_training_pair_is_refused(tmp_path):
    _pair_folder(tmp_path, train_tsv="a\tb\nc\td\n", valid_tsv="v\tw\n", test_tsv="x\ty\nc\td\n")
    with pytest.raises(DataError, match=r"en-it/test.tsv:2: also in the training data \(train.tsv line 2\), as are 1 "
                                        r"of its 2 examples"):
        sources.load_dir(tmp_path)


def test_a_held_out_pair_equal_to_a_training_pair_up_to_case_and_spacing_is_refused(tmp_path):
    _pair_folder(tmp_path, train_tsv="Hello  world\tCiao mondo\nc\td\n", valid_tsv="v\tw\nhello world\tciao  MONDO\n")
    with pytest.raises(DataError, match=r"en-it/valid.tsv:2: also in the training data \(train.tsv line 1, up to case "
                                        r"and spacing\), as are 1 of its 2 examples; .*: remove them from valid.tsv$"):
        sources.load_dir(tmp_path)


def test_a_document_held_out_and_trained_on_is_refused(tmp_path):
    (tmp_path / "fi").mkdir()
    (tmp_path / "fi" / "train.txt").write_text("yksi\nkaksi\n")
    (tmp_path / "fi" / "valid.txt").write_text("kaksi\n")
    with pytest.raises(DataError, match=r"fi/valid.txt:1: also in the training data \(train.txt line 2\)"):
        sources.load_dir(tmp_path)


def test_pair_files_with_a_wrong_shape_name_the_line(tmp_path):
    _pair_folder(tmp_path, train_tsv="a\tb\n\nc\td\te\n", valid_tsv="v\tw\n")  # line 2 blank, line 3 bad
    with pytest.raises(DataError, match=r"train.tsv:3: expected 'source<TAB>target', found 3 column\(s\)"):
        sources.load_dir(tmp_path)
    _pair_folder(tmp_path, train_tsv=" \tb\n")
    with pytest.raises(DataError, match=r"train.tsv:1: empty source side"):
        sources.load_dir(tmp_path)
    (tmp_path / "en-it" / "train.tsv").unlink()
    for line in ('["a", "b"]', '{"src": "a"}', "{not json"):
        _pair_folder(tmp_path, train_jsonl='{"src": "a", "tgt": "b"}\n' + line + "\n")
        with pytest.raises(DataError, match=r"train.jsonl:2: expected a JSON object with 'src' and 'tgt'"):
            sources.load_dir(tmp_path)
    _pair_folder(tmp_path, train_jsonl='{"src": "a", "tgt": 7}\n')
    assert sources.load_dir(tmp_path).parallel["en-it"]["train"] == [("a", "7")]


def test_two_files_for_one_split_or_no_task_folder_are_refused(tmp_path):
    with pytest.raises(DataError, match="holds no task folders"):
        sources.load_dir(tmp_path)
    _pair_folder(tmp_path, train_tsv="a\tb\n", train_jsonl='{"src": "a", "tgt": "b"}\n', valid_tsv="v\tw\n")
    with pytest.raises(DataError, match=r"en-it: both train.tsv and train.jsonl; keep one"):
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
    with pytest.raises(ValueError, match=r"vocab size 5000 is more than this corpus can fill .*use a smaller --vocab-size \(\d+ or less\)"):
        train_tokenizer({"en": ["hello world", "this is a test"], "it": ["ciao mondo"]}, tmp_path / "spm", vocab_size=5000)


def test_cli_data_info_lists_what_is_prepared_and_what_is_not(corpus_dir, tmp_path, capsys):
    args = ["--source", "dir", str(corpus_dir), "--data-dir", str(tmp_path), "--preset", "smoke"]
    assert cli.main(["data", "info", *args]) == 0  # nothing prepared yet: said, not a crash
    out = capsys.readouterr().out
    # the task sets reproduce prepares and uses (the corpus's roles), and the command that prepares them
    assert f"en-it+en-fi: not ready for preset smoke: not prepared yet (`paperlib reproduce --preset smoke " \
           f"--source dir {corpus_dir}` prepares it; it reads " in out and ", not --data-dir)" in out
    assert "dir_translation" not in out  # `data prepare`'s whole-folder set, which reproduce never reads
    assert cli.main(["data", "prepare", *args, "--vocab-size", "500", "--tasks", "dir_translation"]) == 0
    capsys.readouterr()
    assert cli.main(["data", "info", *args]) == 0
    out = capsys.readouterr().out  # prepared for `paperlib train`: described
    assert "largest/this" in out and "dir_translation" in out and "dir_translation: not ready" not in out


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


def _corpus(n_train, n_valid=30, n_test=30, kind="translation"):
    """A loaded corpus of one task ("en-it", or "it" for LM) with distinct items per split."""
    def items(split, n):
        return [(f"{split} en {i}", f"{split} it {i}") if kind == "translation" else f"{split} doc {i}" for i in range(n)]

    splits = {"train": items("train", n_train), "valid": items("valid", n_valid), "test": items("test", n_test)}
    return sources.Corpus("test", **{"parallel" if kind == "translation" else "monolingual": {
        "en-it" if kind == "translation" else "it": splits}})


def test_the_prepared_splits_are_the_corpus_splits_capped_by_the_preset():
    from paperlib.data.pipeline import _task_text

    ts = TaskSet("one", "translation", ("en-it",), "test", n_eval=25)
    view = _task_text(ts, _corpus(500), "mini")["en-it"]
    assert view["train"] == _corpus(500).parallel["en-it"]["train"]  # mini keeps every pair of an unnamed set
    assert view["valid"] == [(f"valid en {i}", f"valid it {i}") for i in range(25)]  # the task set's n_eval
    assert view["test"] == [(f"test en {i}", f"test it {i}") for i in range(25)]  # the test split, not valid's
    smoke = _task_text(ts, _corpus(500), "smoke")["en-it"]  # smoke caps training at 400 and held-out at 20
    assert (len(smoke["train"]), len(smoke["valid"]), len(smoke["test"])) == (400, 20, 20)


def test_a_capped_pair_keeps_its_low_resource_side_smaller():
    from paperlib.data.pipeline import _task_text

    ts = TaskSet("pair", "translation", ("en-it", "en-fi"), "test")
    pair = sources.Corpus("test", parallel={
        "en-it": _corpus(8000).parallel["en-it"], "en-fi": _corpus(600).parallel["en-it"]})
    smoke = _task_text(ts, pair, "smoke")  # smoke caps the largest task at 400: en-fi keeps 600 * 400 / 8000
    assert {task: len(view["train"]) for task, view in smoke.items()} == {"en-it": 400, "en-fi": 40}
    assert smoke["en-fi"]["train"] == pair.parallel["en-fi"]["train"][:40]


def test_the_smallest_task_the_papers_regime_allows_is_prepared():
    from paperlib.data.pipeline import MIN_TRAIN, _task_text

    ts = TaskSet("one", "translation", ("en-it",), "test")
    assert len(_task_text(ts, _corpus(MIN_TRAIN["translation"]), "mini")["en-it"]["train"]) == 100  # need >= 100
    with pytest.raises(DataError, match=r"task 'en-it' has only 99 training segments after the mini preset's "
                                        r"subsampling \(need >= 100\)"):
        _task_text(ts, _corpus(99), "mini")
    assert len(_task_text(ts, _corpus(3), "smoke")["en-it"]["train"]) == 3  # smoke runs anything with data
    lm = TaskSet("lm", "lm", ("it",), "test")
    with pytest.raises(DataError, match=r"task 'it' has only 49 training documents .*need >= 50"):
        _task_text(lm, _corpus(49, kind="lm"), "mini")


@pytest.fixture(scope="module")
def small_tok(tmp_path_factory):
    texts = {"en": [_s("en", i) for i in range(300)], "fi": [_s("fi", i) for i in range(300)]}
    return train_tokenizer(texts, tmp_path_factory.mktemp("tok") / "spm", vocab_size=400)


def test_lm_blocks_cut_each_document_into_full_blocks_ending_with_eos(small_tok):
    from paperlib.data.pipeline import _tokenize_task

    doc = " ".join(_s("fi", i, 12) for i in range(6))
    ids = small_tok.encode(doc) + [EOS]
    block = 16
    out = _tokenize_task(small_tok, "lm", "fi", [doc, "kissa"], block)
    tag = small_tok.tag_id(lm_tag("fi"))
    assert all(b[0] == tag for b in out["tgt"]) and out["src"] == [[] for _ in out["tgt"]]
    *blocks, short = out["tgt"]
    assert short == [tag] + small_tok.encode("kissa") + [EOS]  # a short document is one block
    assert all(len(b) == block for b in blocks[:-1]) and 1 < len(blocks[-1]) <= block
    pieces = [t for b in blocks for t in b[1:]]
    tail = len(ids) % (block - 1)
    # the document's pieces in order, its eos at the end; a tail under 8 pieces is dropped
    assert pieces == (ids if tail == 0 or tail >= 8 else ids[:-tail])
    assert (pieces[-1] == EOS) == (tail == 0 or tail >= 8)


def test_a_tiny_lm_tail_is_dropped_but_a_full_one_is_kept(small_tok):
    from paperlib.data.pipeline import _tokenize_task

    doc = " ".join(_s("fi", i, 12) for i in range(6))
    n = len(small_tok.encode(doc)) + 1  # with its eos
    for block, kept in ((n - 7 + 1, False), (n - 8 + 1, True)):  # a tail of 7 pieces, then of 8
        blocks = _tokenize_task(small_tok, "lm", "fi", [doc], block)["tgt"]
        assert len(blocks) == (2 if kept else 1) and (blocks[-1][-1] == EOS) == kept


@pytest.fixture
def prepared_copy(data_dir, corpus_dir, tmp_path):
    """A private copy of the session's prepared data (dir_translation, dir_lm at block 16)."""
    import shutil

    import paperlib.data.pipeline as pipeline

    copy = shutil.copytree(data_dir, tmp_path / "data")
    load_prepared("dir_translation", "mini", "dir", corpus_dir, copy)  # verified once in this process
    yield copy
    pipeline._VERIFIED.clear()


def test_a_file_changed_after_it_was_verified_is_refused_in_the_same_process(prepared_copy, corpus_dir):
    data = load_prepared("dir_translation", "mini", "dir", corpus_dir, prepared_copy)
    victim = next((data.root / "tasks" / "en-it" / "valid").glob("*.arrow"))
    victim.write_bytes(victim.read_bytes()[:-1])  # the hashes are not read again in this process: the size is
    with pytest.raises(DataError, match=r"do not match their manifest \(tasks/en-it/valid/.*arrow is missing or has "
                                        r"the wrong size\); run `paperlib data prepare --tasks dir_translation "
                                        r"--preset mini --source dir .*` again"):
        load_prepared("dir_translation", "mini", "dir", corpus_dir, prepared_copy)
    victim.unlink()
    with pytest.raises(DataError, match=r"arrow is missing or has the wrong size"):
        load_prepared("dir_translation", "mini", "dir", corpus_dir, prepared_copy)


def test_a_manifest_without_a_file_table_or_torn_is_not_trusted(prepared_copy, corpus_dir):
    path = load_prepared("dir_lm", "mini", "dir", corpus_dir, prepared_copy).root / "manifest.json"
    m = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in m.items() if k != "files"}))  # an older format
    with pytest.raises(DataError, match=r"do not match their manifest \(no file table in its manifest\)"):
        load_prepared("dir_lm", "mini", "dir", corpus_dir, prepared_copy)
    path.write_text(json.dumps(m)[:100])
    with pytest.raises(DataError, match=r"task set 'dir_lm' \(mini\) is not prepared; run `paperlib data prepare "
                                        r"--tasks dir_lm --preset mini --source dir "):
        load_prepared("dir_lm", "mini", "dir", corpus_dir, prepared_copy)


def test_manifest_sizes_count_the_prepared_examples_and_tokens(prepared_copy, corpus_dir):
    for taskset in ("dir_translation", "dir_lm"):
        data = load_prepared(taskset, "mini", "dir", corpus_dir, prepared_copy)
        for task in data.tasks:
            for split in ("train", "valid", "test"):
                ds, recorded = data.dataset(task, split), data.manifest["tasks"][task][split]
                assert recorded["examples"] == len(ds)
                assert recorded["tokens"] == sum(map(len, ds["src"])) + sum(map(len, ds["tgt"]))
        corpus = sources.load_dir(corpus_dir)
        pool = corpus.parallel if taskset == "dir_translation" else corpus.monolingual
        assert {t: data.manifest["tasks"][t]["valid"]["segments"] for t in data.tasks} == {
            t: len(pool[t]["valid"]) for t in data.tasks}  # segments: of the text, before cutting into blocks


def test_preparing_lm_data_with_another_block_size_cuts_new_blocks(prepared_copy, corpus_dir):
    old = load_prepared("dir_lm", "mini", "dir", corpus_dir, prepared_copy)
    assert max(map(len, old.dataset("fi")["tgt"])) == 16
    new = prepare("dir_lm", "mini", "dir", corpus_dir, vocab_size=400, block_size=32, data_dir=prepared_copy,
                  progress=False)
    assert max(map(len, new.dataset("fi")["tgt"])) == 32 and new.sizes()["fi"] < old.sizes()["fi"]
    assert new.manifest["tokenizer"] == old.manifest["tokenizer"]  # the tokenizer does not depend on it
    assert new.manifest["fingerprint"] != old.manifest["fingerprint"]


def test_unknown_task_or_split_of_prepared_data_lists_the_valid_ones(prepared_copy, corpus_dir):
    data = load_prepared("dir_translation", "mini", "dir", corpus_dir, prepared_copy)
    with pytest.raises(DataError, match="task 'en-de' is not prepared here; prepared tasks: en-it, en-fi"):
        data.dataset("en-de")
    with pytest.raises(DataError, match="unknown split 'dev'; valid: train, valid, test"):
        data.dataset("en-it", "dev")


def test_describe_shows_each_tasks_imbalance_and_epochs():
    from paperlib.data.info import describe
    from paperlib.data.pipeline import PreparedData

    def split(n):
        return {"examples": n, "tokens": 10 * n, "segments": n}

    manifest = {"kind": "translation", "source": "dir", "train_fraction": 1.0, "stands_for": "a test",
                "request": {"taskset": "pair"}, "tokenizer": {"vocab_size": 400, "sha256": "ab" * 32},
                "tasks": {"en-it": {"train": split(800), "valid": split(20), "test": split(20)},
                          "en-fi": {"train": split(200), "valid": split(20), "test": split(20)}}}
    out = describe(PreparedData(Path("."), manifest), "smoke")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("en-")}
    assert rows["en-it"][-1] == "1.0×" and rows["en-fi"][-1] == "4.0×"  # largest / this
    n = presets.get("smoke").examples_per_run
    static = next(line.split() for line in out.splitlines() if line.startswith("rate 0.5"))
    assert static[-2:] == [f"{n / 2 / 800:.2f}", f"{n / 2 / 200:.2f}"]


def test_prepared_folders_and_request_checks(corpus_dir, tmp_path, monkeypatch):
    from paperlib.data.pipeline import named_taskset, prepared_dir

    monkeypatch.chdir(corpus_dir.parent)  # the same folder, named relative or absolute: the same prepared data
    assert prepared_dir("x", "mini", "dir", corpus_dir.name, tmp_path) == prepared_dir("x", "mini", "dir", corpus_dir,
                                                                                        tmp_path)
    assert prepared_dir("x", "mini", "dir", corpus_dir, tmp_path) != prepared_dir("x", "mini", "dir", tmp_path, tmp_path)
    with pytest.raises(DataError, match=r"vocab size 299 is too small \(byte fallback alone needs 259 ids\); use >= 300$"):
        prepare("dir_translation", "mini", "dir", corpus_dir, vocab_size=299, data_dir=tmp_path, progress=False)
    with pytest.raises(DataError, match=r"task set 'hrl_lrl_fi' reads DDTP; --source hub serves .*: wmt_fr_zh"):
        named_taskset("hrl_lrl_fi", "hub", None)
    with pytest.raises(DataError, match=r"task set 'wmt_fr_ro' reads the papers' corpora from the hub: give it with "
                                        r"--source hub"):
        named_taskset("wmt_fr_ro", "ddtp", None)
    with pytest.raises(DataError, match=r"task 'en-de' is not in .*; it holds: en-fi, en-it, fi"):
        named_taskset("en-it+en-de", "dir", corpus_dir)
    assert named_taskset("dir_lm", "dir", corpus_dir).tasks == ("fi",)


def test_a_prepared_corpus_folder_is_hashed_once_per_process_until_a_file_changes(corpus_dir, tmp_path, monkeypatch):
    """Every run looked up prepares its data (`store.resolve`). The task sets `paperlib reproduce`
    names in a researcher's folder (en-it+en-fi) read none of it once prepared; since the
    folder's content joined the request, its every file was read and hashed at each lookup,
    seconds per run for a corpus of some GB. The hash is kept for the process while the files'
    sizes and times are unchanged; an edit still prepares the data again."""
    import builtins
    import shutil

    from paperlib.data import sources

    folder = shutil.copytree(corpus_dir, tmp_path / "corpus")
    kw = dict(vocab_size=400, data_dir=tmp_path / "data", progress=False)
    first = prepare("en-it+en-fi", "mini", "dir", folder, **kw)
    read = []

    def counting_open(file, *args, **kwargs):
        if Path(file).is_relative_to(folder):
            read.append(Path(file).relative_to(folder))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(sources, "open", counting_open, raising=False)
    assert prepare("en-it+en-fi", "mini", "dir", folder, **kw).manifest == first.manifest
    assert read == [], "an unchanged folder is not read again"
    with open(folder / "en-fi" / "train.tsv", "a") as f:
        f.write("one more english sentence\tyksi lause lisää\n")
    assert prepare("en-it+en-fi", "mini", "dir", folder, **kw).manifest["fingerprint"] != first.manifest["fingerprint"]


def test_a_vocabulary_too_large_reads_well_with_and_without_sentencepieces_limit():
    from paperlib.data import VocabularyTooLarge

    assert "(SentencePiece allows at most 609 here); use a smaller --vocab-size (609 or less)" in str(
        VocabularyTooLarge(2000, 609))
    assert str(VocabularyTooLarge(2000, None)).endswith(
        "(SentencePiece asks for a smaller one); use a smaller --vocab-size, or a larger corpus")
