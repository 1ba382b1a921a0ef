"""The prepared GPU session (benchmarks/gpu_session.py) runs rarely, on a lent GPU whose
minutes are few: its phases that can run on a CPU are run here, at the smoke size, so that
a change elsewhere cannot break it unseen."""

import json
import sys
import tarfile

import pytest

from paperlib import experiments as E
from paperlib import paths

sys.path.insert(0, str(paths.PACKAGE_ROOT))
gpu_session = pytest.importorskip("benchmarks.gpu_session")


@pytest.mark.slow
def test_the_stacked_phase_checks_stacked_against_separate_steps_and_times_each_stack():
    out = gpu_session.stacked_throughput("smoke", E.pair("smoke"), 1e11, stacks=(1, 2), steps=5, device="cpu")
    check = out["matches_separate_steps"]
    assert "error" not in check, check
    assert check["max_loss_difference"] < 1e-5 and check["max_parameter_difference"] < 1e-5
    for k in (1, 2):
        assert "error" not in out[k], out[k]
        assert out[k]["run_steps_per_s"] == pytest.approx(k * out[k]["stack_steps_per_s"])
    json.dumps(out)  # what gpu_session.json holds


@pytest.mark.slow
def test_the_trainer_phase_times_both_mask_forms_and_its_runs_stay_out_of_the_shipped_tarball(tmp_path):
    runs_root = tmp_path / "runs"
    out = gpu_session.trainer_alone("smoke", E.pair("smoke"), runs_root, steps=8)
    assert out["steps_per_s"] > 0 and out["steps_per_s_2d_masks"] > 0
    shipped = runs_root / "order_matters_nmt-smoke" / "abc"
    shipped.mkdir(parents=True)
    (shipped / "metrics.jsonl").write_text("{}\n")
    (shipped / "ckpt").mkdir()
    (shipped / "ckpt" / "last.pt").write_bytes(b"x")
    gpu_session.pack_runs(runs_root, tmp_path)
    with tarfile.open(tmp_path / "runs.tar.xz") as tar:
        assert tar.getnames() == ["runs/order_matters_nmt-smoke/abc/metrics.jsonl"]


def test_both_groups_plan_runs_at_every_preset_size():
    for name in gpu_session.GROUPS:
        assert gpu_session.group_configs(name, "smoke", E.pair("smoke"))
