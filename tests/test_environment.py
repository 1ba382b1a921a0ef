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
