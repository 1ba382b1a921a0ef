"""DoReMi (Xie et al., 2023): domain weights learned with a small proxy model.

1. Reference run: the model trained with uniform domain weights (a normal run of the store).
2. Proxy run: a fresh model, batches sampled uniformly over domains. At every step the
   per-domain excess loss  lambda_i = sum over domain-i tokens of max(l_proxy - l_ref, 0)
   / (domain-i tokens in the batch)  drives an exponentiated-gradient (group DRO) update
       alpha <- normalise(alpha * exp(eta * lambda));  alpha <- (1 - c) alpha + c / K,
   and the proxy takes a gradient step on  sum_i alpha_i * (mean token loss of domain i).
3. The average of alpha over the proxy run is the static mixture for the main run.

This is the one place with a second training loop: the proxy's objective (weights that
move every step against a reference model) is not a mixture plan. It reuses the sampler,
batching, model and LR schedule of the main loop.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import files, methods, runs, store
from .batches import TaskData, collate, model_inputs, token_nll
from .config import TrainConfig, build_plan, config_hash
from .lr import learning_rate
from .sampler import MixtureSampler
from .train import new_model, new_optimizer


def doremi_update(alpha: np.ndarray, excess: np.ndarray, eta: float = 1.0, smoothing: float = 1e-3) -> np.ndarray:
    """One exponentiated-gradient step on domain weights with uniform smoothing (pure)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    logits = np.log(alpha) + eta * np.asarray(excess, dtype=np.float64)
    w = np.exp(logits - logits.max())
    w /= w.sum()
    return (1 - smoothing) * w + smoothing / len(w)


def reference_config(cfg: TrainConfig, steps: int, tasks: int) -> TrainConfig:
    """The reference model's run: cfg with uniform domain weights for `steps` steps, alone (the
    weights are learned once, from one proxy: a stack of its seeds would train models no one
    reads). Its LR schedule is cfg's: the proxy, which follows this plan, and the reference
    train as the runs they serve."""
    return dataclasses.replace(cfg, plan=methods.Static(steps, (1.0 / tasks,) * tasks, lr_schedule=cfg.plan.lr_schedule),
                               fork_at=None, prefix_forks=(), stop_at=None, stack_seeds=())


def _cache(ref: store.Run, cfg: TrainConfig, steps: int, eta: float, smoothing: float) -> Path:
    """Where learned weights are kept: beside their reference run, named by what they depend on."""
    key = config_hash({"ref": ref.dir.name, "steps": steps, "eta": eta, "c": smoothing, "seed": cfg.seed})
    return Path(ref.dir) / f"doremi-{key}.json"


def learned_weights(cfg: TrainConfig, steps: int, eta: float = 1.0, smoothing: float = 1e-3,
                    runs_root: Path | None = None) -> dict[str, float] | None:
    """The weights `learn_weights` returns where they were learned already, else None;
    trains nothing."""
    ref = store.find_done(reference_config(cfg, steps, len(store.resolve(cfg)[0].tasks)), runs_root)
    cache = None if ref is None else _cache(ref, cfg, steps, eta, smoothing)
    return json.loads(cache.read_text())["weights"] if cache is not None and cache.exists() else None


def learn_weights(cfg: TrainConfig, steps: int, eta: float = 1.0, smoothing: float = 1e-3,
                  settings: runs.Settings | None = None) -> dict[str, float]:
    """DoReMi domain weights for cfg's data and model (reference and proxy both `steps`
    long). Cached next to the reference run as doremi-<hash>.json."""
    settings = settings or runs.Settings()
    progress = settings.progress
    data, _, _ = store.resolve(cfg)
    tasks = data.tasks
    ref = runs.get_or_train(reference_config(cfg, steps, len(tasks)), settings)
    cache = _cache(ref, cfg, steps, eta, smoothing)
    if cache.exists():
        return json.loads(cache.read_text())["weights"]

    device = torch.device("cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu")
    reference = new_model(cfg, data).to(device)
    reference.load_state_dict(torch.load(ref.checkpoint, map_location=device, weights_only=False)["model"])
    reference.eval()
    torch.manual_seed(cfg.seed)
    proxy = new_model(cfg, data).to(device)
    opt = new_optimizer(proxy, cfg)
    train_data = TaskData.load(data, "train", cfg.model.max_len)
    plan = build_plan(reference_config(cfg, steps, len(tasks)), data.sizes("train"))
    sampler = MixtureSampler(plan, train_data.lengths(), cfg.batch_size, cfg.seed + 1, cfg.pool_batches)
    alpha = np.full(len(tasks), 1.0 / len(tasks))
    history = []
    for step in tqdm(range(steps), desc="DoReMi proxy", disable=not progress):
        slots = sampler.batch(step)
        batch = collate(train_data, [(tasks[k], int(i)) for k, i in slots])
        inputs = {k: v.to(device) for k, v in model_inputs(batch).items()}
        labels = batch["labels"].to(device)
        nll, mask, _ = token_nll(proxy(**inputs).logits, labels)
        with torch.no_grad():
            ref_nll, _, _ = token_nll(reference(**inputs).logits, labels)
        task_of = torch.as_tensor(slots[:, 0], device=device)
        tokens = torch.zeros(len(tasks), device=device).index_add_(0, task_of, mask.sum(1).float())
        excess_sum = torch.zeros(len(tasks), device=device).index_add_(0, task_of, (nll.detach() - ref_nll).clamp(min=0).sum(1))
        present = (tokens > 0).cpu().numpy()
        excess = np.where(present, (excess_sum / tokens.clamp(min=1)).cpu().numpy(), 0.0)
        alpha = doremi_update(alpha, excess, eta, smoothing)
        history.append(alpha)
        loss_sum = torch.zeros(len(tasks), device=device).index_add_(0, task_of, nll.sum(1))
        objective = (torch.as_tensor(alpha, dtype=torch.float32, device=device) * loss_sum / tokens.clamp(min=1)).sum()
        for g in opt.param_groups:
            local, length, kind = plan.lr_segment(step)
            g["lr"] = learning_rate(kind, local, length, cfg.optim.lr, cfg.optim.warmup)
        objective.backward()
        if cfg.optim.clip_norm:
            torch.nn.utils.clip_grad_norm_(proxy.parameters(), cfg.optim.clip_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
    mean = np.mean(history, axis=0)
    weights = {t: float(w) for t, w in zip(tasks, mean / mean.sum())}
    files.atomic_write(cache, json.dumps({"weights": weights, "history": np.asarray(history).tolist(),
                                         "reference_run": str(ref.dir), "eta": eta, "smoothing": smoothing}))
    return weights
