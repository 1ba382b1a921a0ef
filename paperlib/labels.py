"""The method labels of the run tables: `experiments` writes them into each run's row, and
claims, `advise`, plotting and the notebooks select rows by them. One spelling each, here,
so that a row written under one name is never looked for under another (a mismatch selects
no rows: an empty arm, not an error)."""

# Order Matters
STATIC = "static sampling"
PRETRAIN = "pre-train + joint FT"
LM_PRETRAIN = "pre-train en + joint FT"  # Fig. 7: pre-training on English, the HRL of the LM set
RESTART = "restart"
FT_ONLY = "fine-tune on LRL only"

# Upsample or Upweight?
TAU1 = "τ=1 (proportional)"
TAU5 = "τ=5"
TAU100 = "τ=100 (≈uniform)"
COOLDOWN = "COOLDOWN"
COOLDOWN_FIG1 = "COOLDOWN (5→1)"  # Fig. 1 names its switch; Tables 3 and 4 do not
UNIMAX = "UniMax"
ORDER_MATTERS = "Order Matters"
DOREMI = "DoReMi"
SAMPLING = "temperature sampling"  # Fig. 4's two ways of mixing: sampled by temperature ...
WEIGHTING = "scalarization"        # ... or drawn proportionally and re-weighted in the loss

# Upsample or Upweight? Figs. 5-7: the temperature schedules (the rows' "schedule" column)
DECREASING = "decreasing 5→1"
INCREASING = "increasing 1→5"
SPARSE = "sparse (5, then 1)"
DENSE_EVERY_STEP = "dense, every step"
DENSE_EVERY_TENTH = "dense, every 10%"


def temperature(tau: float) -> str:
    """Order Matters Fig. 7's static arm: temperature sampling at τ."""
    return f"temperature τ={tau:g}"


def with_dropout(dropout: float) -> str:
    """Order Matters Fig. 5's regularised static arm."""
    return f"{STATIC}, dropout {dropout}"
