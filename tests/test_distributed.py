"""Data-parallel training for real: two CPU processes (gloo) launched by `accelerate launch`
train the same run as one process with the same global batch."""

import json
import os
import socket
import subprocess
import sys

import pytest

from paperlib import runs, store

STATIC = {"method": "static", "steps": 8, "rates": [0.4, 0.6]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _evals(run_dir):
    return [r for r in store.read_metrics(run_dir) if "valid_loss" in r]


@pytest.mark.slow
@pytest.mark.parametrize("batching", ["examples", "tokens"])
def test_two_process_ddp_matches_one_process(tiny_cfg, tmp_path, data_dir, batching):
    from paperlib.models import ModelConfig

    # no dropout: with it each rank would draw its own masks and the runs could not agree
    cfg = tiny_cfg(STATIC, model=ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16, dropout=0.0,
                                             attention_dropout=0.0),
                   batching=batching)
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps(cfg.to_dict()))
    one = runs.get_or_train(cfg, runs.Settings(tmp_path / "one", progress=False))

    env = {**os.environ, "PAPERLIB_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
    # accelerate's --cpu launcher needs mpirun for several processes; --multi_gpu is its
    # torchrun launcher, and the config's device "cpu" keeps every rank on the CPU (gloo)
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
           "-m", "paperlib", "train", str(cfg_file), "--runs-dir", str(tmp_path / "two")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = store.run_dir_for(cfg, tmp_path / "two")
    assert (two / "DONE").exists()
    assert store.read_metrics(two)[-1]["processes"] == 2 and store.read_metrics(one.dir)[-1]["processes"] == 1

    a, b = _evals(one.dir), _evals(two)
    assert [r["step"] for r in a] == [r["step"] for r in b] == [0, 4, 8]
    for ra, rb in zip(a, b):
        assert ra["examples_seen"] == rb["examples_seen"]  # global counts, not one rank's
        for key in ("valid_loss", "train_subset_loss") + (("train_loss",) if "train_loss" in ra else ()):
            for task in ra[key]:
                assert rb[key][task] == pytest.approx(ra[key][task], rel=1e-4, abs=1e-5), (key, task, ra["step"])
        if "train_tokens" in ra:
            assert rb["train_tokens"] == ra["train_tokens"]  # each example trained on by exactly one rank
        if "objective" in ra:
            assert rb["objective"] == pytest.approx(ra["objective"], rel=1e-4)
            assert rb["grad_norm"] == pytest.approx(ra["grad_norm"], rel=1e-3)
    # the training loss moved: the comparison is not between two untrained models
    assert a[-1]["valid_loss"] != a[0]["valid_loss"]


def test_batch_must_split_evenly_over_ranks(tiny_cfg, tmp_path):
    from paperlib import train as train_module

    class FakeAccelerator:  # what a 3-process launch reports, without launching one
        is_main_process, process_index, num_processes = True, 0, 3
        device = "cpu"

    cfg = tiny_cfg(STATIC)
    data, plan, _ = store.resolve(cfg)
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        train_module._train_locked([cfg], [tmp_path], data, plan, FakeAccelerator(), False, None, [None])


POISON_RANK_1 = '''
import os
import sys

import paperlib.train as tr

real, calls = tr.per_example_loss, {"n": 0}


def poisoned(*a, **k):  # rank 1 alone, at its 8th step (step 7, the last of the interval 4..8)
    calls["n"] += 1
    out = real(*a, **k)
    if os.environ.get("RANK") == "1" and calls["n"] == 8:
        return (out[0] * float("nan"),) + out[1:]
    return out


tr.per_example_loss = poisoned
from paperlib.cli import main  # noqa: E402

code = main(sys.argv[1:])
if os.environ.get("RANK") == "1":
    import time

    time.sleep(3)  # the launcher ends every rank when one exits: let rank 0 say why it stopped
sys.exit(code)
'''


@pytest.mark.slow
def test_a_nonfinite_loss_on_one_rank_stops_every_rank_at_the_next_evaluation(tiny_cfg, tmp_path, data_dir):
    """Losses are read back only at evaluations: a NaN on rank 1 alone, at the interval's last
    step (so rank 0's own losses stay finite), must still stop both ranks there, with no
    checkpoint or metrics row of the poisoned interval. (A NaN earlier in the interval
    reaches rank 0's parameters through DDP's gradient average, and rank 0 sees its own.)"""
    import torch

    from paperlib.models import ModelConfig

    cfg = tiny_cfg({**STATIC, "steps": 12}, model=ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=16,
                                                               dropout=0.0, attention_dropout=0.0))
    cfg_file, script = tmp_path / "cfg.json", tmp_path / "poisoned_train.py"
    cfg_file.write_text(json.dumps(cfg.to_dict()))
    script.write_text(POISON_RANK_1)
    env = {**os.environ, "PAPERLIB_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
           str(script), "train", str(cfg_file), "--runs-dir", str(tmp_path / "two")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "non-finite loss at step 7" in proc.stderr  # rank 1 names its step
    assert "non-finite loss on another rank by step 7" in proc.stderr  # rank 0 stops as well, and says why
    run = store.run_dir_for(cfg, tmp_path / "two")
    assert torch.load(run / "ckpt" / "last.pt", weights_only=False)["step"] == 4
    assert [r["step"] for r in store.read_metrics(run)] == [0, 4]
