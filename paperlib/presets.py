"""Preset names. Each notebook maps a preset to its own sizes in its parameters cell's
neighbour (`paperlib.experiments` for training runs), so a preset is just a name here.

smoke  seconds per notebook; CI executes every notebook at this size.
mini   the default: the whole `paperlib reproduce` on a 2-core CPU within the budget.
paper  the papers' own settings, for GPU nodes.
"""

PRESETS = ("smoke", "mini", "paper")
DEFAULT_PRESET = "mini"


def check_preset(name: str) -> str:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return name


# Examples one run draws (steps x batch size), the yardstick for the epochs tables of the
# task sets. mini: 300 steps of 32 examples (one two-task run, ≈1 min on this CPU).
# paper: paper A's NMT fine-tuning scale (50k steps x batch 1024); its pre-training is longer.
EXAMPLES_PER_RUN = {"smoke": 30 * 8, "mini": 300 * 32, "paper": 50_000 * 1024}
