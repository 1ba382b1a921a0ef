"""Shared fixtures: a small synthetic corpus in the `--source dir` layout and tiny configs."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

WORDS = {
    "en": "the cat sleeps on the sofa while the rain falls softly over the old town".split(),
    "it": "il gatto dorme sul divano mentre la pioggia cade piano sulla città antica".split(),
    "fi": "kissa nukkuu sohvalla kun sade putoaa hiljaa vanhan kaupungin ylle".split(),
}


def sentence(lang, i, n=6):
    words = WORDS[lang]
    return " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(n)) + f" {i}"


def write_corpus(root, n_it=600, n_fi=150):
    for tgt, n in (("it", n_it), ("fi", n_fi)):
        d = root / f"en-{tgt}"
        d.mkdir(parents=True)
        # validation and test sentences are not training sentences (`sources.load_dir` refuses that)
        for split, first, count in (("train", 0, n), ("valid", n, 20), ("test", n + 20, 20)):
            lines = [f"{sentence('en', i)}\t{sentence(tgt, i)}" for i in range(first, first + count)]
            (d / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    d = root / "fi"
    d.mkdir()
    (d / "train.txt").write_text("\n".join(sentence("fi", i, 30) for i in range(200)) + "\n")
    (d / "valid.txt").write_text("\n".join(sentence("fi", i, 30) for i in range(200, 210)) + "\n")
    return root


def write_pairs(root, sizes: dict, n_eval=20, words=1500, seed=0):
    """A researcher's corpus in the `--source dir` layout: pair -> training sentences. Each
    target language is a word-for-word cipher of a shared English lexicon of `words` made-up
    words (learnable, and rich enough for a 2k SentencePiece vocabulary)."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghiklmnoprstuvz"

    def word():
        return "".join(rng.choice(letters) for _ in range(rng.randint(3, 8)))

    english = [word() for _ in range(words)]
    for pair, n in sizes.items():
        cipher = {w: word() for w in english}
        d = root / pair
        d.mkdir(parents=True)
        for split, count in (("train", n), ("valid", n_eval), ("test", n_eval)):
            lines = []
            for _ in range(count):
                src = [rng.choice(english) for _ in range(rng.randint(4, 10))]
                lines.append(" ".join(src) + "\t" + " ".join(cipher[w] for w in src))
            (d / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory, corpus_dir):
    """Prepared once per session: the dir corpus as task sets dir_translation / dir_lm."""
    from paperlib.data import prepare, sources, tasksets

    d = tmp_path_factory.mktemp("data")
    for ts in tasksets.from_corpus(sources.load_dir(corpus_dir)):
        prepare(ts, "mini", "dir", corpus_dir, vocab_size=400, block_size=16, data_dir=d, progress=False)
    return d


def tiny_fields(corpus_dir, plan, taskset="dir_translation") -> dict:
    """TrainConfig fields of a tiny run on the synthetic corpus (seconds to train)."""
    from paperlib.config import DataConfig, EvalConfig, OptimConfig
    from paperlib.models import ModelConfig

    return dict(
        experiment="test",
        data=DataConfig(taskset=taskset, preset="mini", source="dir", source_path=str(corpus_dir), vocab_size=400, block_size=16),
        plan=plan,
        model=ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16),
        optim=OptimConfig(lr=3e-3, warmup=3),
        eval=EvalConfig(every=4, train_subset=16),
        batch_size=8, pool_batches=4, device="cpu",
    )


@pytest.fixture
def tiny_cfg(corpus_dir, data_dir, monkeypatch):
    """A factory of tiny translation configs on the synthetic corpus (seconds to train)."""
    from paperlib.config import TrainConfig

    monkeypatch.setenv("PAPERLIB_DATA", str(data_dir))

    def make(plan, taskset="dir_translation", **kw):
        return TrainConfig(**{**tiny_fields(corpus_dir, plan, taskset), **kw})

    return make
