# Set-up and entry points. `make reproduce` and `make test` are the README's quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# empty: `paperlib reproduce` picks gpu where CUDA is available, else mini (and says which)
PRESET ?=
# Where torch comes from (a torch already in .venv is kept: see README, "GPU users"): wheels
# kept on local disk where a machine has them (this one does); else, on a machine without an
# NVIDIA driver, the CPU build from PyTorch's own index -- PyPI's Linux torch bundles CUDA, a
# multi-GB download a CPU machine must never pull; else (a GPU node) PyPI's CUDA build.
TORCH      ?= torch==2.13.0
WHEELS_DIR ?= /opt/wheels
LOCAL_WHEELS := $(if $(wildcard $(WHEELS_DIR)),--find-links $(WHEELS_DIR))
CPU_INDEX  := --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
TORCH_FROM ?= $(or $(LOCAL_WHEELS),$(if $(shell command -v nvidia-smi 2>/dev/null),,$(CPU_INDEX)))

.PHONY: setup reproduce test benchmarks lab lock

$(BIN)/paperlib-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet $(TORCH_FROM) "$(TORCH)"
	$(BIN)/python -m pip install --quiet $(LOCAL_WHEELS) -e ".[dev]"
	# the kernel the notebooks name, inside .venv: JupyterLab and papermill start this environment
	$(BIN)/python -m ipykernel install --sys-prefix --name paperlib --display-name "Python 3 (paperlib)"
	touch $@

setup: $(BIN)/paperlib-installed

reproduce: setup
	$(BIN)/paperlib reproduce $(if $(PRESET),--preset $(PRESET))

test: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q

benchmarks: setup
	$(BIN)/python -m benchmarks

lab: setup  # the repository root: notebooks/, figures/<preset>/REPORT.md and README side by side
	$(BIN)/jupyter lab --notebook-dir=.

# The exact versions of a working environment (the CPU build of torch): regenerate after a
# change of dependencies, from a .venv where `make test` passed
lock: setup
	{ echo "# pip freeze of a .venv where make test passed (torch: the CPU build; on GPUs install the CUDA"; \
	  echo "# build of the same version first). Regenerate with: make lock"; \
	  $(BIN)/pip freeze --exclude-editable; } > requirements-lock.txt
