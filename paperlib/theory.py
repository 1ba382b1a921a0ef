"""Closed-form variance theory of paper B (Li et al., "Upsample or Upweight?").

Setting: K tasks of sizes D_i. Temperature sampling (TS) draws task i with probability
p_tau,i and an example uniformly within it; scalarization (S) draws an example uniformly
from all data (task i with p_1,i) and multiplies its gradient by w_i = p_tau,i / p_1,i.
Both are unbiased for the same full gradient (Theorem 1 / Corollary 1.1), so their
variance gap is the gap of their second moments.

With m_i = E_{x in task i} ||grad L(x)||^2 (per-task gradient second moment):
    E_S ||g||^2  = sum_i p_1,i w_i^2 m_i = sum_i p_tau,i w_i m_i
    E_TS ||g||^2 = sum_i p_tau,i m_i
    Var_S - Var_TS = sum_i p_tau,i (w_i - 1) m_i                      (gap)
which is (F(tau) - 1) * m when every m_i = m, with F(tau) = sum_i p_tau,i^2 / p_1,i.

Paper B's Theorem 2 proof pulls the gradient out of the task sum, i.e. it silently
assumes equal second moments across tasks. Without that assumption the gap can be
negative: see `negative_gap_example`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mixing import _as_sizes, proportional, temperature


def variance_factor(sizes, tau: float) -> float:
    """F(tau) = sum_i p(i; tau)^2 / p(i; 1) (paper B Fig. 2, Lemma 2.1). F >= 1."""
    pt = temperature(sizes, tau)
    p1 = proportional(sizes)
    return float(np.sum(pt**2 / p1))


def variance_gap(sizes, tau: float, second_moments) -> float:
    """Var_S - Var_TS = sum_i p_tau,i (w_i - 1) m_i for per-task second moments m_i >= 0."""
    pt = temperature(sizes, tau)
    p1 = proportional(sizes)
    m = np.asarray(second_moments, dtype=np.float64)
    if m.shape != pt.shape:
        raise ValueError(f"second_moments has {m.size} entries but there are {pt.size} tasks")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError(f"second moments are squared norms and must be finite and >= 0, got {m.tolist()}")
    w = pt / p1
    return float(np.sum(pt * (w - 1.0) * m))


def negative_gap_example() -> tuple[np.ndarray, float, np.ndarray]:
    """(sizes, tau, second_moments) for which scalarization has *lower* variance than
    temperature sampling: the large task has noisy gradients (m=1), the small one almost
    none (m=0.001). Scalarization down-weights the noisy task (w < 1), which shrinks its
    second moment more than up-weighting the quiet task grows it."""
    return np.array([100.0, 1.0]), 5.0, np.array([1.0, 0.001])


# --------------------------------------------------------------------------------------
# checks callable from tests and notebooks


@dataclass(frozen=True)
class Check:
    name: str
    holds: bool
    detail: str


def check_lemma_2_1(sizes, taus) -> Check:
    """Lemma 2.1: F(tau) >= 1 for every tau."""
    values = [variance_factor(sizes, t) for t in taus]
    worst = min(values)
    return Check("Lemma 2.1: F(tau) >= 1", worst >= 1.0 - 1e-12, f"min F over {len(values)} taus = {worst:.6g}")


def check_theorem_3(sizes, taus) -> Check:
    """Theorem 3: F is non-decreasing in tau for tau >= 1 (checked on a sorted grid)."""
    grid = sorted(t for t in taus if t >= 1)
    if not grid:
        raise ValueError(f"Theorem 3 is about tau >= 1, and none of the taus given is: {list(taus)!r}")
    values = np.array([variance_factor(sizes, t) for t in grid])
    steps = np.diff(values)
    worst = float(steps.min()) if steps.size else 0.0
    return Check(
        "Theorem 3: F non-decreasing for tau >= 1",
        worst >= -1e-12 * max(1.0, float(values.max())),
        f"smallest increment over {len(grid)} taus in [{grid[0]:g}, {grid[-1]:g}] = {worst:.3g}",
    )


def toy_least_squares(sizes, dim: int = 3, seed: int = 0):
    """A K-task least-squares problem: task i has sizes[i] rows (X_i, y_i).
    Loss of one example: 0.5 * (x . theta - y)^2. Returns (tasks, theta)."""
    d = _as_sizes(sizes).astype(int)
    rng = np.random.default_rng(seed)
    tasks = []
    for i, n in enumerate(d):
        X = rng.normal(loc=i, size=(n, dim))
        y = X @ rng.normal(size=dim) + rng.normal(size=n)
        tasks.append((X, y))
    return tasks, rng.normal(size=dim)


def _example_grads(X, y, theta):
    return (X @ theta - y)[:, None] * X  # (n, dim): gradient of 0.5 (x.theta - y)^2


def full_gradients(sizes, tau: float, dim: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Exact expected gradient under temperature sampling and under scalarization with
    w = p_tau / p_1, on the toy least-squares problem (Theorem 1)."""
    tasks, theta = toy_least_squares(sizes, dim, seed)
    pt, p1 = temperature(sizes, tau), proportional(sizes)
    w = pt / p1
    g_ts = sum(pt[i] * _example_grads(X, y, theta).mean(axis=0) for i, (X, y) in enumerate(tasks))
    # scalarization: uniform over all N examples, each multiplied by its task's weight
    all_g = np.concatenate([w[i] * _example_grads(X, y, theta) for i, (X, y) in enumerate(tasks)])
    g_s = all_g.mean(axis=0)
    return g_ts, g_s


def exact_variances(sizes, tau: float, dim: int = 3, seed: int = 0) -> tuple[float, float, np.ndarray]:
    """Exact single-example gradient variances (trace of covariance) of TS and S on the toy
    problem, and the per-task second moments m_i; used to check `variance_gap`."""
    tasks, theta = toy_least_squares(sizes, dim, seed)
    pt, p1 = temperature(sizes, tau), proportional(sizes)
    w = pt / p1
    grads = [_example_grads(X, y, theta) for X, y in tasks]
    m = np.array([np.mean(np.sum(g**2, axis=1)) for g in grads])
    mean = sum(pt[i] * g.mean(axis=0) for i, g in enumerate(grads))
    var_ts = float(np.sum(pt * m) - mean @ mean)
    var_s = float(np.sum(p1 * w**2 * m) - mean @ mean)
    return var_ts, var_s, m


def check_theorem_1(sizes, taus, dim: int = 3, seed: int = 0) -> Check:
    """Theorem 1: the full-batch gradient of TS equals that of S with w = p_tau / p_1."""
    worst = 0.0
    for t in taus:
        g_ts, g_s = full_gradients(sizes, t, dim, seed)
        worst = max(worst, float(np.max(np.abs(g_ts - g_s)) / max(1e-12, float(np.max(np.abs(g_ts))))))
    return Check("Theorem 1: equal full-batch gradients", worst < 1e-9, f"max relative difference = {worst:.2e}")


def d_log_f_ds(sizes, s: float) -> float:
    """d log F / ds with s = 1/tau, from the corrected argument:
    with Z(t) = sum_i D_i^t and q_t ∝ D^t, log F = log Z(2s-1) + log Z(1) - 2 log Z(s), so
    d log F / ds = 2 (E_{q_{2s-1}}[log D] - E_{q_s}[log D]). E_{q_t}[log D] is
    non-decreasing in t (its derivative is Var_{q_t}[log D]) and 2s-1 <= s when s <= 1,
    so the derivative is <= 0 for tau >= 1: F grows with tau."""
    logd = np.log(_as_sizes(sizes))

    def mean_log(t):
        a = t * logd
        q = np.exp(a - a.max())
        q /= q.sum()
        return float(q @ logd)

    return 2.0 * (mean_log(2 * s - 1) - mean_log(s))


def zipf_sizes(k: int, alpha: float) -> np.ndarray:
    """D_i ∝ i^(-alpha), i = 1..k (paper B appendix C, Fig. 2)."""
    return np.arange(1, k + 1, dtype=np.float64) ** (-float(alpha))


# Size vectors quoted by the papers.
PAPER_SIZES = {
    # paper A Table 2: mC4 characters (billions) En/Hi/Gu/Gd/Sw (the paper counts characters)
    "order-matters mC4 (En/Hi/Gu/Gd/Sw)": {"en": 13396, "hi": 75, "gu": 3.6, "gd": 0.8, "sw": 4.1},
    # paper B Table 2: mC4 tokens (billions) En/It/Zh/Sw
    "upsample-or-upweight mC4 (En/It/Zh/Sw)": {"en": 2733, "it": 162, "zh": 39, "sw": 1},
}
