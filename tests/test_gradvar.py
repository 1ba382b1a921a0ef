import numpy as np
import torch

from paperlib import gradvar
from paperlib.batches import TaskData
from paperlib.models import ModelConfig, build_model


def test_measured_gap_matches_theory_on_a_tiny_model(data_dir, monkeypatch):
    import json

    from paperlib.data.pipeline import PreparedData

    prepared = next(data_dir.glob("prepared/*/dir_translation-mini"))
    data = PreparedData(prepared, json.loads((prepared / "manifest.json").read_text()))
    td = TaskData.load(data, "train", 16)
    td = td.subset({"en-it": np.arange(200), "en-fi": np.arange(10)})  # 20x imbalance
    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=16, layers=1, heads=2, ffn=32, max_len=16), "translation", data.tokenizer.vocab_size, 0, 2, 3)
    out = gradvar.measure(model, td, tau=5.0, batch_size=4, n_batches=400, per_task=10, seed=0)
    assert out["S"]["trace_cov"] > out["TS"]["trace_cov"]  # Theorem 2 on real gradients
    assert len(out["TS"]["norms"]) == 400 and set(out["second_moments"]) == {"en-it", "en-fi"}
    # the measured mini-batch gap agrees with the per-task-moment prediction within sampling error
    assert 0.5 < out["gap_measured"] / out["gap_predicted"] < 2.0


def test_fig3_statistics_are_kept_with_the_run_and_read_back_without_checkpoints(tiny_cfg, tmp_path):
    """Measured once at each checkpoint and kept in the run's directory: after the checkpoints
    are gone (a shipped run has none) the same numbers come back; other parameters need them."""
    import shutil

    import pytest

    from paperlib import runs
    from paperlib.config import prefix_at

    cfg = tiny_cfg({"method": "temperature", "steps": 12, "tau": 5}, fork_at=6)
    settings = runs.Settings(tmp_path, progress=False)
    final = runs.get_or_train(cfg, settings)
    half = runs.get_or_train(prefix_at(cfg, 6), settings)
    points = {"init": None, "step 6": half, "step 12": final}
    first = gradvar.at_checkpoints(points, 5.0, n_batches=4, per_task=2)
    assert list(first) == list(points) and len(first["init"]["TS"]["norms"]) == 4
    assert first["init"]["TS"]["norms"] != first["step 12"]["TS"]["norms"]  # three different models
    for run in (final, half):
        shutil.rmtree(run.dir / "ckpt")  # what `paperlib runs ship` leaves out
    assert gradvar.at_checkpoints(points, 5.0, n_batches=4, per_task=2) == first
    assert (final.dir / "analyses" / "gradient_variance.json").exists()
    with pytest.raises(FileNotFoundError, match="no checkpoint to measure at"):
        gradvar.at_checkpoints({"step 12": final}, 5.0, n_batches=5, per_task=2)  # not kept: needs the checkpoint
    # figures only: what is kept is read; what is not is a missing run (the report's "no shipped
    # runs", naming it), and nothing is measured or written
    assert gradvar.at_checkpoints(points, 5.0, n_batches=4, per_task=2, compute=False) == first
    kept_file = final.dir / "analyses" / "gradient_variance.json"
    before = kept_file.read_text()
    with pytest.raises(runs.MissingRun, match=rf"run test/{final.dir.name} \(temperature, seed 0\) has no kept"):
        gradvar.at_checkpoints({"init": None, "step 12": final}, 5.0, n_batches=3, per_task=2, compute=False)
    assert kept_file.read_text() == before
