#!/usr/bin/env bash
# The command the `device` tool runs on a lent GPU (see benchmarks/gpu_session.py):
#   run(command="bash benchmarks/gpu_session.sh 500 --no-diagnostics", carry=[".gpu"], timeout_s=580)
# and, at once (the machine stays warm ~30 s and keeps its runs and checkpoints), to continue:
#   run(command="bash benchmarks/gpu_session.sh 420 --no-measure --groups order_matters_fig2,cooldown_fig1", ...)
# It expects, carried beside the working tree in .gpu/ (git-ignored through .git/info/exclude;
# together with the tree under the tool's 64 MiB):
#   whl/  datasets, dill and multiprocess wheels (the GPU image lacks them; its pyarrow, 25.0.1
#         on 2026-11-30, is new enough -- otherwise add pyarrow>=24 here):
#         pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#           --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl \
#           datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
#   data.tar.xz  the prepared task sets, so that run identities match this machine's:
#         paperlib data prepare --tasks hrl_lrl_es1k hrl_lrl_es --preset gpu
#         tar -cf - data/prepared/ddtp/hrl_lrl_es1k-gpu data/prepared/ddtp/hrl_lrl_es-gpu | xz -9e > .gpu/data.tar.xz
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
python3 -m benchmarks.gpu_session --out "$OUT" --budget "$budget" $extra 2>&1 | tee "$OUT/log.txt"
