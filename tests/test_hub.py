"""`--source hub`: the papers' own corpora (WMT, OPUS-100, mC4) through thin `datasets`
loaders, scaled by each preset. No test reaches the hub: `datasets.load_dataset` is replaced
by a fake that serves made-up corpora under the papers' dataset names."""

import json
import random

import pytest

from paperlib import cli
from paperlib.data import DataError, get_taskset, load_prepared, prepare, sources


def _lexicon(rng, n=800):
    letters = "abcdefghiklmnoprstuvz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(n)]


class FakeHub:
    """`datasets.load_dataset` for made-up pairs (task -> training pairs) and languages:
    every target language a word-for-word cipher of one English lexicon (learnable)."""

    def __init__(self, sizes: dict, n_eval=30):
        from datasets import Dataset

        rng = random.Random(0)
        english = _lexicon(rng)
        self.calls, self.splits = [], {}
        for task, n in sizes.items():
            src, tgt = task.split("-")
            cipher = dict(zip(english, _lexicon(rng)))
            for split, count in (("train", n), ("validation", n_eval), ("test", n_eval)):
                rows = []
                for _ in range(count):
                    words = [rng.choice(english) for _ in range(rng.randint(4, 10))]
                    rows.append({"translation": {src: " ".join(words), tgt: " ".join(cipher[w] for w in words)}})
                self.splits[(task, split)] = Dataset.from_list(rows)
        self.docs = {lang: [" ".join(rng.choice(english) for _ in range(40)) + f" {lang} {i}" for i in range(5000)]
                     for lang in ("en", "hi", "sw", "gu", "gd", "it", "zh")}

    @staticmethod
    def split_names(name, config):
        return ["train", "validation"] if name == "wmt/wmt19" else ["train", "validation", "test"]  # as on the hub

    def __call__(self, name, config, split, streaming=False):
        self.calls.append((name, config, split))
        if streaming:  # mC4: an endless stream of documents
            return ({"text": d} for d in self.docs[config])
        task = "en-" + config.split("-")[0] if name.startswith("wmt/") else config
        base, _, rows = split.partition("[")
        if base not in self.split_names(name, config):
            raise ValueError(f'Unknown split "{base}". Should be one of {self.split_names(name, config)}.')
        ds = self.splits[(task, base)]
        if rows:  # "[:n]" or "[a:b]"
            first, _, last = rows.rstrip("]").partition(":")
            ds = ds.select(range(int(first or 0), min(len(ds), int(last))))
        return ds


@pytest.fixture
def hub(monkeypatch):
    import datasets

    fake = FakeHub({"en-fr": 3000, "en-ro": 300, "en-hi": 200, "en-cs": 2000, "en-es": 900, "en-ug": 150})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    monkeypatch.setattr(datasets, "get_dataset_split_names", fake.split_names)
    return fake


def test_a_pair_keeps_a_fixed_random_subset_of_its_training_split(hub):
    c = sources.load_hub(["en-ro"], [], lambda task, available: 50, n_eval=7)
    train = c.parallel["en-ro"]["train"]
    whole = [(r["translation"]["en"], r["translation"]["ro"]) for r in hub.splits[("en-ro", "train")]]
    assert len(train) == 50 and set(train) <= set(whole)
    assert train != whole[:50], "a WMT split's head is one sub-corpus: the subset is drawn at random"
    assert sources.load_hub(["en-ro"], [], lambda task, available: 50).parallel["en-ro"]["train"] == train
    assert len(c.parallel["en-ro"]["valid"]) == 7 and ("wmt/wmt16", "ro-en", "validation[:7]") in hub.calls


def test_a_pair_without_a_test_split_takes_the_next_validation_sentences(hub):
    """wmt19 (en-cs, en-zh) has train and validation only: test is the validation sentences
    after the ones kept for validation, never the same ones."""
    c = sources.load_hub(["en-cs"], [], lambda task, available: 40, n_eval=10)
    valid, test = c.parallel["en-cs"]["valid"], c.parallel["en-cs"]["test"]
    assert len(valid) == len(test) == 10 and not set(valid) & set(test)
    assert ("wmt/wmt19", "cs-en", "validation[10:20]") in hub.calls


def test_each_task_set_reads_its_own_corpus(hub):
    """Table 3's en-hi is OPUS-100's, Fig. 12's is WMT14's: the task set says which."""
    sources.load_hub(["en-hi"], [], lambda task, available: 20, n_eval=5, corpus="opus100")
    sources.load_hub(["en-hi"], [], lambda task, available: 20, n_eval=5, corpus="wmt")
    assert [c[:2] for c in hub.calls if c[2] == "train"] == [("Helsinki-NLP/opus-100", "en-hi"), ("wmt/wmt14", "hi-en")]
    assert get_taskset("opus100_table3").hub == "opus100" and get_taskset("wmt_fr_hi").hub == "wmt"


def test_the_papers_task_sets_keep_their_ratios_at_each_preset():
    om = get_taskset("wmt_fr_ro")
    assert om.source == "hub" and om.data_source == "hub" and om.tasks == ("en-fr", "en-ro")
    # Order Matters Table 1's sizes: en-fr 40,853,298 and en-ro 610,320 pairs (≈67x) at every size
    for preset, fr, ro in (("mini", 40_853, 610), ("gpu", 408_533, 6_103), ("paper", 40_853_298, 610_320)):
        assert (om.train_count("en-fr", preset, 40_853_298), om.train_count("en-ro", preset, 610_320)) == (fr, ro)
    assert om.train_count("en-fr", "smoke", 40_853_298) == 400  # smoke's cap
    lm = get_taskset("mc4_order_matters")
    assert lm.train_count("gd", "mini", 20_000) == 200 and lm.train_count("en", "mini", 5_000_000) == 50_000
    assert get_taskset("hrl_lrl_fi").data_source == "ddtp"
    # En→{Hi, Fr} on the hub (wmt14 hi-en: 32,863 pairs) keeps 10x more, so that en-hi can be learned at mini
    hi = get_taskset("wmt_fr_hi")
    assert (hi.train_count("en-fr", "mini", 40_853_298), hi.train_count("en-hi", "mini", 32_863)) == (408_533, 329)


def test_the_paper_presets_read_the_hub_and_no_source_writes_over_another(capsys, tmp_path):
    from paperlib.reproduce import default_source, output_label

    assert [default_source(p) for p in ("smoke", "mini", "gpu", "gpu6", "paper", "paper6")] == ["ddtp"] * 4 + ["hub"] * 2
    assert [output_label(p, s) for p, s in (("mini", "ddtp"), ("mini", "hub"), ("paper", "hub"), ("paper", "ddtp"))] == \
        ["mini", "mini-hub", "paper", "paper-ddtp"]
    assert cli.main(["reproduce", "--preset", "mini", "--source", "hub", "--figures-only"]) == 2
    assert "none were trained on the hub's corpora" in capsys.readouterr().err  # before anything is downloaded
    assert cli.main(["advise", "--preset", "mini", "--source", "hub", "--over", "switch", "--runs-dir", str(tmp_path)]) == 2
    assert "no runs of the wmt_cs_ro COOLDOWN runs" in (err := capsys.readouterr().err) and \
        "--only B3_fig01_cooldown_lrl --source hub" in err


def test_prepare_reads_the_hub_once_and_only_what_the_preset_keeps(hub, tmp_path):
    data = prepare("wmt_fr_ro", "smoke", "hub", data_dir=tmp_path, progress=False)
    assert data.sizes("train") == {"en-fr": 400, "en-ro": 300}  # smoke caps en-fr at 400
    assert data.manifest["source"] == data.manifest["request"]["source"] == "hub"
    calls = len(hub.calls)
    assert load_prepared("wmt_fr_ro", "smoke", "hub", data_dir=tmp_path).sizes("train") == data.sizes("train")
    prepare("wmt_fr_ro", "smoke", "hub", data_dir=tmp_path, progress=False)
    assert len(hub.calls) == calls, "prepared once: a second call reads nothing from the hub"


def test_a_task_set_is_read_from_its_own_source(hub, tmp_path):
    with pytest.raises(DataError, match="reads the papers' corpora from the hub: give it with --source hub"):
        prepare("wmt_fr_ro", "smoke", "ddtp", data_dir=tmp_path, progress=False)
    with pytest.raises(DataError, match="reads DDTP; --source hub serves the papers' own task sets: wmt_fr_zh, wmt_fr_ro"):
        prepare("hrl_lrl_fi", "smoke", "hub", data_dir=tmp_path, progress=False)
    assert not (tmp_path / "prepared").exists() and hub.calls == []


def test_dry_run_costs_the_papers_task_sets(capsys):
    assert cli.main(["reproduce", "--preset", "mini", "--source", "hub", "--dry-run",
                     "--only", "A2_fig02_hrl_lrl_fronts", "B3_fig01_cooldown_lrl"]) == 0
    out = capsys.readouterr().out
    assert "wmt_fr_ro" in out and "wmt_fr_hi" in out and "wmt_cs_ro" in out and "hrl_lrl_es" not in out
    assert cli.main(["reproduce", "--preset", "paper", "--dry-run", "--only", "B3_fig01_cooldown_lrl"]) == 0
    assert "wmt_cs_ro" in capsys.readouterr().out, "the paper preset reads the papers' own data by default"


@pytest.mark.slow
def test_every_notebook_reproduces_on_the_hub(tmp_path, monkeypatch, capsys):
    """`reproduce --source hub` at smoke, every notebook: the hub read once in this process
    (the kernels find the data prepared), every run trained first in one schedule, each
    notebook on the papers' own pairs (Fig. 2 and 12's en-ro and en-hi, Table 3's nine
    OPUS-100 targets, the mC4 languages), figures and report beside the DDTP ones."""
    import datasets

    sizes = dict.fromkeys(("en-fr", "en-zh", "en-cs", "en-es", "en-fa", "en-it"), 600)
    sizes.update({"en-ro": 200, "en-hi": 250, "en-gl": 300, "en-ga": 250, "en-ha": 200, "en-kk": 180, "en-ug": 150})
    fake = FakeHub(sizes)
    monkeypatch.setattr(datasets, "load_dataset", fake)
    monkeypatch.setattr(datasets, "get_dataset_split_names", fake.split_names)
    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))
    monkeypatch.setenv("PAPERLIB_DATA", str(tmp_path / "data"))
    assert cli.main(["reproduce", "--preset", "smoke", "--source", "hub", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "the papers' own corpora from the Hugging Face hub" in out and "wmt_fr_ro, wmt_fr_hi" in out
    assert "16 notebook(s) first" in out
    figures = tmp_path / "figures" / "smoke-hub"
    assert len(list(figures.glob("*.png"))) >= 16 and not (tmp_path / "figures" / "smoke").exists()

    def record(name):
        return json.dumps(json.loads((figures / "records" / f"{name}.claims.json").read_text()))

    fronts = record("A2_fig02_hrl_lrl_fronts")
    assert "en-ro" in fronts and "en-hi" in fronts and "en-es" not in fronts
    assert "en-fa" in record("B4_table3_one_to_many") and '"scope": "gd"' in record("A6_fig07_multilingual_lm")  # not DDTP
    assert json.loads((figures / "records" / "training.json").read_text())["runs"] > 0
    assert "Trained on the papers' own corpora from the Hugging Face hub" in (figures / "REPORT.md").read_text()
