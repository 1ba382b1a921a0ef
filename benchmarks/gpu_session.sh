#!/usr/bin/env bash
# The command the `device` tool runs on a lent GPU (see benchmarks/gpu_session.py). A task's
# device time is 15 minutes in all, the machine's start included, and one command runs at most
# 600 s, so the first call gets nearly all of it, and measures only what the stack decision
# needs (one run alone, a stack of 4 seeds: about a minute), leaving the rest to the groups:
#   run(command="bash benchmarks/gpu_session.sh 560 --measure decision --stack-seeds auto", carry=[".gpu"], timeout_s=600)
# `--stack-seeds auto`: the groups' seeds train as stacks when this call's trainer_stacked phase
# made --stack-ratio (2.5) times trainer_alone's steps/s (gpu_session.json says which, and why;
# stacked runs are other runs than unstacked ones: the preset must then say stack_seeds=True for
# notebooks to find them). A stacked group that fails before training a step is trained again
# alone (gpu_session.json: groups_alone; a warm continuation keeps it so). The groups go cheapest first, so
# that one finishes: cooldown_fig1 (30k run-steps at the gpu preset), then order_matters_fig2
# (66k; 96k in all: about 940 s at the 102 steps/s measured side by side unstacked, so both fit
# in one lending only as stacks).
# Then, at once, with the device time still left, if `status` says the machine is still warm
# (it keeps its runs, checkpoints and the stack decision ~30 s; a cut run resumes; a finished
# group costs only its child's start):
#   run(command="bash benchmarks/gpu_session.sh <left - 40> --measure none --stack-seeds auto",
#       carry=[".gpu"], timeout_s=<left - 30>)
# If it went cold, a fresh machine has none of that (auto is then refused): name the groups the
# first call did not finish and its decision (gpu_session.json: stack_seeds), with 5 min left:
#   ... gpu_session.sh <left - 100> --measure none [--stack-seeds] --groups order_matters_fig2
# Afterwards, on the CPU machine: untar runs.tar.xz into runs/; if the runs were stacked, set
# stack_seeds=True on the gpu preset *before* `paperlib runs ship --preset gpu` and `paperlib
# report --preset gpu` (they look the runs up by identities that name the stack; the unstacked
# runs shipped before are then no longer read; a group in groups_alone trained unstacked and
# is read only by a preset that does not stack), all in one commit; gpu_session.json's
# `side_by_side` (or `side_by_side_stacked`) entry is the finished groups' measured rate: copy
# it into benchmarks/results_gpu_h200.json, where `paperlib.costs` charges from it (joining two
# calls' entries by adding steps, flops and wall_s).
# `--measure all` (the default) also measures the model's MFU, host syncs, stacks of 1-16 and
# the step breakdown (~3 min; --no-diagnostics skips the last), for a lending with time to spare.
# A later session on a fresh machine goes on with the notebooks not yet shipped, by name:
#   ... gpu_session.sh 420 --measure none [--stack-seeds] --groups B4_table3_one_to_many,B5_table4_multilingual_lm
# It expects .gpu/ carried beside the working tree (git-ignored), built on the CPU machine
# before the device starts by `bash benchmarks/gpu_prepare.sh` (~3 min; a new checkout has none):
#   whl/  datasets, dill and multiprocess wheels (the GPU image lacks them; its pyarrow, 25.0.1
#         on 2026-11-30, is new enough -- otherwise PYARROW=1 bash benchmarks/gpu_prepare.sh)
#   data.tar.xz  the prepared task sets, so that run identities match this machine's
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
# the budget counts from this script's start: what the setup above took ($SECONDS) is spent
python3 -m benchmarks.gpu_session --out "$OUT" --budget "$((budget - SECONDS))" $extra 2>&1 | tee "$OUT/log.txt"
