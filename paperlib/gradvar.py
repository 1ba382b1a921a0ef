"""Measured gradient variance of temperature sampling (TS) vs scalarization (S).

At a model checkpoint, draw many mini-batches the way each method does -- TS: every slot's
task ~ p_tau, example uniform within it; S: task ~ p_1 (proportional), example uniform,
loss weight w = p_tau / p_1 -- and compute each mini-batch's gradient with the training
loss (`paperlib.batches.per_example_loss`, mean over the batch). Reported per method:
the gradient norms (paper B Fig. 3 plots their distribution), and the trace of the
mini-batch gradient covariance E||g - E g||^2, the quantity Theorem 2 is about.

Per-task second moments m_i = E_{x in task i} ||grad l(x)||^2 are measured from
single-example gradients, and `paperlib.theory.variance_gap(sizes, tau, m)` predicts the
single-example gap Var_S - Var_TS; for batches of B examples drawn independently the
mini-batch gap is that divided by B. Dropout is off (model.eval()) so that only the
sampling varies between batches. The model may be on a GPU (the batches follow it).

`at_checkpoints` measures at a run's checkpoints and keeps the results in the run's
directory, so that Fig. 3 is redrawn from shipped runs, which have no checkpoints.
"""

from __future__ import annotations

import numpy as np
import torch

from . import theory
from .batches import TaskData, collate, model_inputs, per_example_loss
from .mixing import proportional, temperature


def _grad_vector(model) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])


def _batch_gradient(model, data: TaskData, pairs, weights, label_smoothing: float) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in collate(data, pairs).items()}
    ex, _, _ = per_example_loss(model(**model_inputs(batch)).logits, batch["labels"], label_smoothing)
    (torch.as_tensor(weights, dtype=torch.float32, device=device) * ex).mean().backward()
    return _grad_vector(model).detach().clone()


def second_moments(model, data: TaskData, per_task: int, label_smoothing: float, seed: int = 0) -> dict[str, float]:
    """m_i: mean squared norm of single-example gradients, from `per_task` examples of each task."""
    rng = np.random.default_rng(seed)
    model.eval()
    out = {}
    for task in data.tasks:
        idx = rng.choice(data.size(task), size=min(per_task, data.size(task)), replace=False)
        sq = [float(_batch_gradient(model, data, [(task, int(i))], [1.0], label_smoothing).square().sum()) for i in idx]
        out[task] = float(np.mean(sq))
    return out


def measure(model, data: TaskData, tau: float, batch_size: int, n_batches: int, per_task: int = 32,
            label_smoothing: float = 0.1, seed: int = 0) -> dict:
    """Mini-batch gradient statistics of TS and S at tau, and the theory's prediction."""
    sizes = np.array([data.size(t) for t in data.tasks], dtype=float)
    p_tau, p_1 = temperature(sizes, tau), proportional(sizes)
    w = p_tau / p_1
    rng = np.random.default_rng(seed)
    model.eval()
    out = {"tau": tau, "batch_size": batch_size, "sizes": dict(zip(data.tasks, sizes.tolist()))}
    for name, probs, weights in (("TS", p_tau, np.ones_like(w)), ("S", p_1, w)):
        total = None
        sq_norms = []
        for _ in range(n_batches):
            tasks = rng.choice(len(sizes), size=batch_size, p=probs)
            pairs = [(data.tasks[k], int(rng.integers(sizes[k]))) for k in tasks]
            g = _batch_gradient(model, data, pairs, weights[tasks], label_smoothing)
            total = g.double() if total is None else total + g.double()
            sq_norms.append(float(g.double().square().sum()))
        mean = total / n_batches
        out[name] = {
            "norms": np.sqrt(sq_norms).tolist(),
            "norm_variance": float(np.var(np.sqrt(sq_norms), ddof=1)),
            "trace_cov": float(np.mean(sq_norms) - mean.square().sum()),
        }
    m = second_moments(model, data, per_task, label_smoothing, seed)
    out["second_moments"] = m
    out["gap_measured"] = out["S"]["trace_cov"] - out["TS"]["trace_cov"]
    out["gap_predicted"] = theory.variance_gap(sizes, tau, [m[t] for t in data.tasks]) / batch_size
    out["gap_equal_moments"] = (theory.variance_factor(sizes, tau) - 1) * float(np.dot(p_tau, [m[t] for t in data.tasks])) / batch_size
    return out


def at_checkpoints(checkpoints: dict, tau: float, n_batches: int, per_task: int, seed: int = 0,
                   device: str = "cpu", compute: bool = True) -> dict:
    """{name: `measure` at that checkpoint}. checkpoints: name -> a finished run (its final
    checkpoint) or None (the initialisation of the last run's seed), as
    `experiments.gradient_variance_checkpoints` names them. Each result is kept in the last
    run's directory (`store.keep`), keyed by the checkpoint's run and every parameter here:
    a checkpoint is loaded only when its result is not kept yet. compute=False (figures
    only): nothing is measured or written; a result not kept raises `store.MissingRun`."""
    from . import store
    from .train import new_model

    final = list(checkpoints.values())[-1]
    cfg = final.config

    def params(name, run):
        return {"checkpoint": name, "run": None if run is None else run.dir.name, "tau": tau,
                "n_batches": n_batches, "per_task": per_task, "seed": seed}

    out = {name: store.read_kept(final, NAME, params(name, run)) for name, run in checkpoints.items()}
    missing = [name for name, result in out.items() if result is None]
    if missing and not compute:
        raise store.MissingRun(
            f"run {final.dir.parent.name}/{final.dir.name} ({cfg.plan.method}, seed {cfg.seed}) has no kept gradient "
            f"statistics at {', '.join(missing)} (τ={tau:g}, {n_batches} batches) and a shipped run has no checkpoints "
            f"to measure them at; measure them where the run was trained (its notebook, or benchmarks/gpu_session.py)")
    if missing:
        data, _, _ = store.resolve(cfg)
        train_data = TaskData.load(data, "train", cfg.model.max_len)
    for name in missing:
        run = checkpoints[name]
        torch.manual_seed(cfg.seed)
        model = new_model(cfg, data)
        if run is not None:
            if not run.checkpoint.exists():
                raise FileNotFoundError(f"{run.dir}: no checkpoint to measure at (a shipped run keeps none), and no "
                                        f"result kept for these settings; train the run here to measure it")
            model.load_state_dict(torch.load(run.checkpoint, map_location="cpu", weights_only=False)["model"])
        result = measure(model.to(device), train_data, tau, cfg.batch_size, n_batches, per_task,
                         cfg.optim.label_smoothing, seed)
        out[name] = store.keep(final, NAME, params(name, run), result)
    return out


NAME = "gradient_variance"
"""The name of `at_checkpoints`' kept results (analyses/gradient_variance.json)."""
