"""The environment files agree with the package's declared dependencies."""

import importlib.metadata
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_file_pins_every_declared_dependency():
    # the installed package's own metadata: pyproject's dependencies and the dev extra
    declared = {_name(r) for r in importlib.metadata.requires("paperlib")}
    pinned = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements-lock.txt: {line!r} is not pinned with =="
            pinned[_name(name)] = version
    missing = sorted(declared - set(pinned))
    assert not missing, f"declared but not in requirements-lock.txt (run `make lock`): {missing}"
    assert pinned["torch"].endswith("+cpu")  # never a CUDA build on CPU machines


def test_one_cuda_wheel_index_everywhere():
    indexes = {m for f in ("README.md", "environment.yml")
               for m in re.findall(r"download\.pytorch\.org/whl/(cu\d+)", (ROOT / f).read_text())}
    assert len(indexes) == 1, indexes


def _torch_install_line(tmp_path, wheels_dir, nvidia_smi: bool) -> str:
    """The set-up's torch command as make would run it, on a machine with or without local
    wheels and an NVIDIA driver (a stand-in nvidia-smi on PATH)."""
    import os
    import shutil
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("make", "sh"):
        (bin_dir / tool).unlink(missing_ok=True)
        (bin_dir / tool).symlink_to(shutil.which(tool))
    smi = bin_dir / "nvidia-smi"
    smi.unlink(missing_ok=True)
    if nvidia_smi:
        smi.write_text("#!/bin/sh\n")
        smi.chmod(0o755)
    out = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), f"WHEELS_DIR={wheels_dir}", ".venv/bin/paperlib-installed"],
                         capture_output=True, text=True, check=True, env={**os.environ, "PATH": str(bin_dir)}).stdout
    return next(line for line in out.splitlines() if "pip install" in line and "torch==" in line)


def test_setup_never_pulls_a_cuda_torch_on_a_machine_without_a_gpu(tmp_path):
    cpu_index = "--index-url https://download.pytorch.org/whl/cpu"
    local = _torch_install_line(tmp_path, tmp_path, nvidia_smi=False)  # wheels on local disk: taken from there
    assert f"--find-links {tmp_path}" in local and "--index-url" not in local
    assert cpu_index in _torch_install_line(tmp_path, tmp_path / "none", nvidia_smi=False)
    gpu = _torch_install_line(tmp_path, tmp_path / "none", nvidia_smi=True)  # a GPU node: PyPI's CUDA build
    assert "--index-url" not in gpu and "--find-links" not in gpu
