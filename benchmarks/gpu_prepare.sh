#!/usr/bin/env bash
# Builds .gpu/, what benchmarks/gpu_session.sh needs carried to a lent GPU, on this (CPU)
# machine, before the device is started: lent GPU minutes are few, and the GPU image has no
# internet. Idempotent: a part already built is kept. Then, on the device tool:
#   run(command="bash benchmarks/gpu_session.sh 560 --measure decision --stack-seeds auto", carry=[".gpu"], timeout_s=600)
#
#   bash benchmarks/gpu_prepare.sh            # uses .venv (make setup) for `paperlib data prepare`
#
# .gpu/whl       datasets, dill, multiprocess wheels for the image's Python (3.12 on 2026-11-30);
#                the image's own pyarrow (25.0.1) is new enough. PYARROW=1 adds a pyarrow wheel
#                (55 MB: over the carry limit of 64 MiB together with the data) for an image whose is not
# .gpu/data.tar.xz  the gpu preset's prepared first pair and hrl_lrl_es, prepared here so
#                that run identities (data fingerprints) match this machine's shipped runs
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
GPU_PYTHON=${GPU_PYTHON:-3.12}
mkdir -p .gpu/whl
packages="datasets dill multiprocess${PYARROW:+ pyarrow}"
missing=
for p in $packages; do ls .gpu/whl/$p-*.whl >/dev/null 2>&1 || missing=1; done
if [ -n "$missing" ]; then
  # the versions this machine's .venv runs, so both sides read the prepared data alike
  versions=$("$PY" -c "import importlib.metadata as m, sys; print(' '.join(f'{p}=={m.version(p)}' for p in sys.argv[1:]))" $packages)
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$GPU_PYTHON" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl $versions
fi
if [ ! -s .gpu/data.tar.xz ]; then
  pair=$("$PY" -c "from paperlib import experiments as E; print(E.pair('gpu'))")
  "$PY" -m paperlib data prepare --tasks "$pair" hrl_lrl_es --preset gpu
  tar -cf - "data/prepared/ddtp/$pair-gpu" data/prepared/ddtp/hrl_lrl_es-gpu | xz -9e > .gpu/data.tar.xz.tmp
  mv .gpu/data.tar.xz.tmp .gpu/data.tar.xz
fi
du -sh .gpu/whl .gpu/data.tar.xz
echo "carry .gpu to the device (under the tool's 64 MiB with the tree): see benchmarks/gpu_session.sh"
