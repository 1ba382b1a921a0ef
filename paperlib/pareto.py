"""Pareto tools for two-task trade-off fronts (losses: lower is better in both).

points  array (n, 2): (loss on task 1, loss on task 2), e.g. (HRL loss, LRL loss).
"""

from __future__ import annotations

import numpy as np


def _as_points(points) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"front points must be finite, got {p.tolist()}")
    return p


def non_dominated(points) -> np.ndarray:
    """Boolean mask of points no other point dominates (<= in both, < in one)."""
    p = _as_points(points)
    mask = np.ones(len(p), dtype=bool)
    for i in range(len(p)):
        dominated_by = np.all(p <= p[i], axis=1) & np.any(p < p[i], axis=1)
        mask[i] = not dominated_by.any()
    return mask


def front(points) -> np.ndarray:
    """The non-dominated points sorted by the first loss (then the second, descending)."""
    p = _as_points(points)[non_dominated(points)]
    p = np.unique(p, axis=0)
    return p[np.lexsort((-p[:, 1], p[:, 0]))]


def hypervolume(points, reference) -> float:
    """Area dominated by the points and bounded by the reference point (both losses
    below the reference count). Larger is better."""
    ref = np.asarray(reference, dtype=np.float64)
    f = front(points)
    f = f[np.all(f < ref, axis=1)]
    area, prev_y = 0.0, ref[1]
    for x, y in f:  # x increasing, y decreasing along the front
        area += (ref[0] - x) * (prev_y - y)
        prev_y = y
    return float(area)


def hypervolume_gain(front_a, front_b, reference) -> float:
    """How far front A extends past front B: HV(A ∪ B) − HV(B) >= 0 (0: A adds nothing)."""
    both = np.vstack([_as_points(front_a), _as_points(front_b)])
    return hypervolume(both, reference) - hypervolume(front_b, reference)


def best_second_within(points, first_max: float) -> float:
    """Best (lowest) task-2 loss among points whose task-1 loss is <= first_max (inf if none):
    'the best LRL loss reachable without giving up more than this on the HRL'."""
    p = _as_points(points)
    ok = p[:, 0] <= first_max
    return float(p[ok, 1].min()) if ok.any() else float("inf")


def shared_reference(*point_sets, margin: float = 0.05) -> np.ndarray:
    """A reference point slightly worse than the worst point of every set in each loss."""
    p = np.vstack([_as_points(s) for s in point_sets])
    span = p.max(axis=0) - p.min(axis=0)
    return p.max(axis=0) + margin * np.where(span > 0, span, 1.0)
