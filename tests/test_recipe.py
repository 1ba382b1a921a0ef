"""Recipe tests (torchtune style): behaviour pinned to stored numbers, and every shipped
config trains.

The recipe test trains the `smoke` model for 20 steps with a fixed seed on the synthetic
corpus, evaluating after every step, and compares each step's training objective (the
weighted, label-smoothed loss) and validation losses with the values stored in
tests/data/recipe_losses.json. A silent change to the model, the sampler, the loss or the
optimizer moves them. After an *intended* change, regenerate the file with
`python tests/test_recipe.py` and say why in the commit.
"""

import dataclasses
import json
import sys
from pathlib import Path

import pytest
import torch

EXPECTED = Path(__file__).resolve().parent / "data" / "recipe_losses.json"
CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


def recipe_config(make):
    from paperlib import presets
    from paperlib.config import EvalConfig

    smoke = presets.get("smoke")
    model = dataclasses.replace(smoke.model, max_len=16)  # the synthetic corpus's sentences fit
    plan = {"method": "temperature", "steps": 20, "tau": 5.0}
    return make(plan, model=model, batch_size=smoke.batch_size, seed=3,
                eval=EvalConfig(every=1, train_subset=8, max_valid=8))


def recipe_losses(cfg, run_dir) -> dict:
    """Per-step objective and per-task validation loss of cfg trained in run_dir, with one
    torch thread (reductions in a fixed order)."""
    from paperlib import store
    from paperlib.train import train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(cfg, run_dir, progress=False)
    finally:
        torch.set_num_threads(threads)
    rows = [r for r in store.read_metrics(run_dir) if "valid_loss" in r]
    return {"objective": [r.get("objective") for r in rows], "valid_loss": [r["valid_loss"] for r in rows]}


def _close(actual, expected, tol=1e-5):
    if isinstance(expected, dict):
        return set(actual) == set(expected) and all(_close(actual[k], v, tol) for k, v in expected.items())
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(_close(a, e, tol) for a, e in zip(actual, expected))
    if expected is None:
        return actual is None
    return abs(actual - expected) <= tol * max(1.0, abs(expected))


def test_close_compares_what_it_should():
    assert _close({"a": [1.0, None]}, {"a": [1.0 + 1e-7, None]})
    assert not _close({"a": [1.0, None]}, {"a": [1.001, None]})
    assert not _close({"a": [1.0]}, {"a": [1.0, 2.0]})


def test_recipe_losses_match_the_stored_values(tiny_cfg, tmp_path):
    got = recipe_losses(recipe_config(tiny_cfg), tmp_path / "run")
    expected = json.loads(EXPECTED.read_text())
    assert len(got["objective"]) == 21 and got["objective"][0] is None  # step 0 has no training yet
    assert _close(got, expected), (
        "the 20-step smoke recipe no longer gives the stored losses: the model, sampler, loss or optimizer "
        f"changed. first objectives: got {got['objective'][1:4]}, stored {expected['objective'][1:4]}")


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_loads_validates_and_trains(path, tiny_cfg, corpus_dir, tmp_path):
    """Each file in configs/ loads and validates as it is; then its model, optimizer and plan
    train 2 steps on the synthetic corpus of the same kind (translation or LM)."""
    from paperlib import config, store
    from paperlib.data import get_taskset
    from paperlib.train import train

    cfg = config.load_config(path)
    kind = get_taskset(cfg.data.taskset).kind
    small = tiny_cfg(config.methods.to_dict(cfg.plan), taskset=f"dir_{'lm' if kind == 'lm' else 'translation'}")
    cfg = dataclasses.replace(cfg, data=small.data, eval=small.eval, device="cpu", stop_at=2,
                              model=dataclasses.replace(cfg.model, max_len=16))
    run_dir = tmp_path / "run"
    train(cfg, run_dir, progress=False)
    rows = store.read_metrics(run_dir)
    assert (run_dir / "DONE").exists() and rows[-1]["final"] and rows[-1]["step"] == 2


if __name__ == "__main__":  # regenerate tests/data/recipe_losses.json after an intended change
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import conftest

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = conftest.write_corpus(tmp / "corpus")
        from paperlib.config import TrainConfig
        from paperlib.data import prepare, sources, tasksets

        for ts in tasksets.from_corpus(sources.load_dir(corpus)):
            prepare(ts, "mini", "dir", corpus, vocab_size=400, block_size=16, data_dir=tmp / "data", progress=False)
        import os

        os.environ["PAPERLIB_DATA"] = str(tmp / "data")

        def make(plan, taskset="dir_translation", **kw):
            return TrainConfig(**{**conftest.tiny_fields(corpus, plan, taskset), **kw})

        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(json.dumps(recipe_losses(recipe_config(make), tmp / "run"), indent=1) + "\n")
        print(f"wrote {EXPECTED}")
