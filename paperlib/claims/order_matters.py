"""Claims of "Order Matters in the Presence of Dataset Imbalance for Multilingual Learning"
(Choi et al., NeurIPS 2023), each a `Claim` and a function that judges it on a notebook's runs."""

from __future__ import annotations

PAPER = "Order Matters"

CLAIMS = ()
