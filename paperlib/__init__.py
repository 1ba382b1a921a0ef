"""paperlib: reproductions of 'Order Matters' (Choi et al., NeurIPS 2023) and
'Upsample or Upweight?' (Li et al.) on heavily imbalanced multilingual data."""

__version__ = "0.1.0"
