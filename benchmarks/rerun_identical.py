"""Issue #18's rerun check: the whole `smoke` reproduction, run twice from nothing (two fresh
run stores, one prepared data folder), must give byte-identical claim records -- every
verdict, effect and interval. About 3 minutes a reproduction on 2 cores (179 s and 154 s at ef40930); not part of the
test suite, which checks the same property run by run (tests/test_executors.py: in-process
vs worker; tests/test_train.py: killed and resumed).

    .venv/bin/python -m benchmarks.rerun_identical [--preset smoke]

Prints one JSON object: the records compared, those that differ, and each run's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def reproduce(root: Path, data: Path, preset: str) -> float:
    """Seconds `paperlib reproduce --preset <preset>` took with its own run store under root."""
    env = {**os.environ, "PAPERLIB_ROOT": str(root), "PAPERLIB_DATA": str(data), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1"}
    env.pop("MPLBACKEND", None)  # the kernels draw inline
    start = time.time()
    subprocess.run([sys.executable, "-m", "paperlib", "reproduce", "--preset", preset, "--no-progress"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rerun_identical")
    parser.add_argument("--preset", default="smoke")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rerun-") as tmp:
        tmp = Path(tmp)
        seconds = [reproduce(tmp / name, tmp / "data", args.preset) for name in ("a", "b")]
        records = [tmp / name / "figures" / args.preset / "records" for name in ("a", "b")]
        names = sorted(p.name for p in records[0].glob("*.claims.json"))
        differ = [n for n in names if (records[0] / n).read_bytes() != (records[1] / n).read_bytes()]
        verdicts = sum(len(json.loads((records[0] / n).read_text())["verdicts"]) for n in names)
    print(json.dumps({"preset": args.preset, "claim_records": len(names), "verdicts": verdicts,
                      "records_that_differ": differ, "seconds": [round(s) for s in seconds]}, indent=1))
    sys.exit(1 if differ or not names else 0)


if __name__ == "__main__":
    main()
