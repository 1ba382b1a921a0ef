#!/usr/bin/env bash
# The command the `device` tool runs on a lent GPU (see benchmarks/gpu_session.py). It
# expects, carried beside the working tree in .gpu/: whl/ (datasets, dill, multiprocess and
# pyarrow wheels: the GPU image lacks them) and data.tar.xz (data/prepared/ddtp/hrl_lrl_es-gpu,
# prepared here with `paperlib data prepare --tasks hrl_lrl_es --preset gpu`).
set -o pipefail
budget=${1:-480}
shift; extra="$@"   # e.g. --no-diagnostics
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
  .gpu/whl/datasets-*.whl .gpu/whl/dill-*.whl .gpu/whl/multiprocess-*.whl || exit 1
# the image's pyarrow, unless it is older than datasets needs
python3 -c "import pyarrow, sys; sys.exit(int(pyarrow.__version__.split('.')[0]) < 24)" \
  || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/pyarrow-*.whl \
  || exit 1
export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1
tar -xJf .gpu/data.tar.xz || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, transformers, datasets, accelerate, pyarrow; print(torch.__version__, transformers.__version__, datasets.__version__, accelerate.__version__, pyarrow.__version__)" || exit 1
python3 -m benchmarks.gpu_session --out "$OUT" --budget "$budget" --workers 8 $extra 2>&1 | tee "$OUT/log.txt"
