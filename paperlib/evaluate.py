"""Per-task evaluation: cross-entropy on validation data and on a fixed training subset,
and beam-search translations of the test split (scored by `scores`).

Losses are token-level means (nats per target token) without label smoothing, summed over
all of a task's examples before dividing, so long and short examples count per token."""

from __future__ import annotations

import numpy as np
import torch

from .batches import TaskData, collate, model_inputs, per_example_loss


@torch.no_grad()
def example_nll(model, data: TaskData, device, batch_size: int = 64) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per task: (summed target-token nll of each example in nats, its target tokens), in
    the data's order -- what paired comparisons over validation sentences resample."""
    was_training = model.training
    model.eval()
    out = {}
    for task in data.tasks:
        n = data.size(task)
        order = np.argsort([len(g) + len(s) for s, g in zip(data.src[task], data.tgt[task])], kind="stable")
        nll_sum, tokens = np.zeros(n), np.zeros(n, dtype=np.int64)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            batch = collate(data, [(task, int(j)) for j in idx])
            logits = model(**{k: v.to(device) for k, v in model_inputs(batch).items()}).logits
            _, nll, count = per_example_loss(logits, batch["labels"].to(device))
            nll_sum[idx] = (nll * count).double().cpu().numpy()
            tokens[idx] = count.cpu().numpy()
        out[task] = (nll_sum, tokens)
    model.train(was_training)
    return out


def mean_losses(per_example: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mean nll per target token of each task (the ratio of sums, so every token counts once)."""
    return {t: float(nll.sum() / max(1, tokens.sum())) for t, (nll, tokens) in per_example.items()}


def task_losses(model, data: TaskData, device, batch_size: int = 64) -> dict[str, float]:
    """Mean target-token cross-entropy per task."""
    return mean_losses(example_nll(model, data, device, batch_size))


def fixed_subset(data: TaskData, per_task: int, seed: int = 0) -> TaskData:
    """The same training examples for every evaluation of a run (and across runs)."""
    rng = np.random.default_rng(seed)
    idx = {t: np.sort(rng.permutation(data.size(t))[:per_task]) for t in data.tasks}
    return data.subset(idx)


@torch.no_grad()
def translate(model, data: TaskData, task: str, tokenizer, device, beam: int, max_new_tokens: int,
              max_examples: int, batch_size: int = 32) -> list[str]:
    """Beam-search translations of the first max_examples source segments of `task`."""
    model.eval()
    n = min(max_examples, data.size(task))
    hyps = []
    for i in range(0, n, batch_size):
        batch = collate(data, [(task, j) for j in range(i, min(n, i + batch_size))])
        gen = model.generate(
            input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device),
            num_beams=beam, max_new_tokens=max_new_tokens, decoder_start_token_id=tokenizer.bos_id,
            eos_token_id=tokenizer.eos_id, pad_token_id=tokenizer.pad_id, do_sample=False,
        )
        hyps += [tokenizer.decode(g.tolist()) for g in gen]
    return hyps


