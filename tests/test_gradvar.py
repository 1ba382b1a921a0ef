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
