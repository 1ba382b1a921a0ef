"""MixtureSampler: which examples go into each batch.

Every batch slot draws its task from the step's `Mixture` (per example, as the theory in
Upsample or Upweight? assumes) and then the next example of that task's epoch order: a
permutation of the task's examples, fixed by (seed, task, epoch), so examples are drawn
without replacement within an epoch and reshuffled for the next.

Length bucketing: the sampler draws a *pool* of up to `pool_batches` steps at once, sorts
the pool's examples by length, cuts it into batches and shuffles their order, so a batch
holds examples of similar length and little compute goes to padding. A pool never spans a
change of mixture or a phase boundary (nor a `boundary` step such as a fork point), so
every example in a batch was drawn from that batch's own mixture.

Token-based batching (`batching="tokens"`): the pool is cut into batches of about equal
*padded tokens* instead of equal example counts: batches of short sentences hold more
examples, batches of long ones fewer, so every step costs about the same compute and
memory (what fairseq's max_tokens buys) while the pool -- and with it the mixture, the
examples drawn and the number of steps -- stays exactly what example batching draws;
`batch_size` becomes the mean examples per step. A batch holds at least `min_batch`
examples (the trainer passes the number of data-parallel ranks).

Exact resume: `state_dict()` holds the random state as it was when the current pool was
drawn, the pool's first step and the counts; `load_state_dict()` redraws that pool and
continues at the next step, so a resumed run draws exactly what an uninterrupted one
would, across schedule changes and phase boundaries.
"""

from __future__ import annotations

import copy

import numpy as np

from .mixing import Plan


class MixtureSampler:
    def __init__(
        self, plan: Plan, lengths: dict[str, np.ndarray], batch_size: int, seed: int,
        pool_batches: int = 16, boundaries: tuple[int, ...] = (), batching: str = "examples", min_batch: int = 1,
    ):
        missing = [t for t in plan.tasks if t not in lengths]
        if missing:
            raise ValueError(f"the data has no task(s) {missing}; available: {', '.join(lengths)}")
        if batch_size < 1 or pool_batches < 1:
            raise ValueError(f"batch_size and pool_batches must be >= 1, got {batch_size}, {pool_batches}")
        self.plan = plan
        self.tasks = plan.tasks
        self.lengths = [np.asarray(lengths[t]) for t in plan.tasks]
        self.sizes = np.array([len(l) for l in self.lengths])
        if np.any(self.sizes == 0):
            raise ValueError(f"every task needs at least one example, sizes {dict(zip(self.tasks, self.sizes))}")
        if batching not in ("examples", "tokens"):
            raise ValueError(f"batching must be 'examples' or 'tokens', got {batching!r}")
        if not 1 <= min_batch <= batch_size:
            raise ValueError(f"min_batch must be between 1 and batch_size ({batch_size}), got {min_batch}")
        self.batch_size = batch_size
        self.batching, self.min_batch = batching, min_batch
        self.seed = seed
        self.pool_batches = pool_batches
        self.boundaries = tuple(sorted({b for b in boundaries if b is not None}))
        self.rng = np.random.default_rng(seed)
        self.epoch = np.zeros(len(self.tasks), dtype=np.int64)   # current epoch per task
        self.pos = np.zeros(len(self.tasks), dtype=np.int64)     # position within that epoch
        self.seen = np.zeros(len(self.tasks), dtype=np.int64)    # examples handed out per task
        self._orders: dict[int, np.ndarray] = {}
        self._pool: list[np.ndarray] = []
        self._pool_start = 0
        self._snapshot = None
        self._next_step = 0

    # ---------------------------------------------------------------------------- drawing

    def _order(self, k: int) -> np.ndarray:
        if k not in self._orders or self._orders[k][0] != self.epoch[k]:
            perm = np.random.default_rng([self.seed, k, int(self.epoch[k])]).permutation(self.sizes[k])
            self._orders[k] = (self.epoch[k], perm)
        return self._orders[k][1]

    def _take(self, k: int, n: int) -> np.ndarray:
        """The next n examples of task k's epoch order, wrapping into new epochs."""
        out = []
        while n:
            order = self._order(k)
            chunk = order[self.pos[k]: self.pos[k] + n]
            out.append(chunk)
            n -= len(chunk)
            self.pos[k] += len(chunk)
            if self.pos[k] == self.sizes[k]:
                self.epoch[k] += 1
                self.pos[k] = 0
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def _pool_end(self, step: int) -> int:
        limit = min(step + self.pool_batches, self.plan.end_step)
        for b in self.boundaries:
            if step < b < limit:
                limit = b
        return next(iter(self.plan.segments(step, limit)))[1]

    def _draw_pool(self, step: int) -> None:
        self._snapshot = {"rng": copy.deepcopy(self.rng.bit_generator.state), "epoch": self.epoch.copy(), "pos": self.pos.copy()}
        self._pool_start = step
        n_steps = self._pool_end(step) - step
        mixture = self.plan.mixture_at(step)
        slots = n_steps * self.batch_size
        task_of_slot = self.rng.choice(len(self.tasks), size=slots, p=mixture.p)
        example_of_slot = np.empty(slots, dtype=np.int64)
        for k in range(len(self.tasks)):
            where = np.flatnonzero(task_of_slot == k)  # slot order = draw order within the task
            if where.size:
                example_of_slot[where] = self._take(k, where.size)
        length = np.array([self.lengths[k][i] for k, i in zip(task_of_slot, example_of_slot)])
        by_length = np.argsort(length, kind="stable")
        if self.batching == "tokens":
            bounds = token_balanced_bounds(length[by_length], n_steps, self.min_batch)
        else:
            bounds = [j * self.batch_size for j in range(n_steps + 1)]
        batches = [by_length[bounds[j]:bounds[j + 1]] for j in range(n_steps)]
        order = self.rng.permutation(n_steps)
        self._pool = [np.stack([task_of_slot[batches[j]], example_of_slot[batches[j]]], axis=1) for j in order]

    def batch(self, step: int) -> np.ndarray:
        """(batch_size, 2) array (token batching: a varying number of rows) of (task index, example index) for global step `step`.
        Steps must be asked for in order (the sampler is a stream)."""
        if step != self._next_step:
            raise ValueError(f"sampler expected step {self._next_step}, got {step} (steps must be consecutive)")
        if not self._pool or step >= self._pool_start + len(self._pool):
            self._draw_pool(step)
        out = self._pool[step - self._pool_start]
        self.seen += np.bincount(out[:, 0], minlength=len(self.tasks))
        self._next_step = step + 1
        return out

    # ---------------------------------------------------------------------------- counts

    def examples_seen(self) -> dict[str, int]:
        return {t: int(n) for t, n in zip(self.tasks, self.seen)}

    def epochs_seen(self) -> dict[str, float]:
        """Examples handed out / task size: how many times each task was seen."""
        return {t: float(n / s) for t, n, s in zip(self.tasks, self.seen, self.sizes)}

    # ---------------------------------------------------------------------------- resume

    def state_dict(self) -> dict:
        if self._snapshot is None:  # nothing drawn yet
            snap = {"rng": copy.deepcopy(self.rng.bit_generator.state), "epoch": self.epoch.copy(), "pos": self.pos.copy()}
        else:
            snap = copy.deepcopy(self._snapshot)
        return {
            "seed": self.seed, "tasks": list(self.tasks), "snapshot": snap,
            "pool_start": self._pool_start, "next_step": self._next_step, "seen": self.seen.copy(),
            "drawn": self._snapshot is not None,
        }

    def load_state_dict(self, state: dict) -> None:
        if list(state["tasks"]) != list(self.tasks) or state["seed"] != self.seed:
            raise ValueError("sampler state is for different tasks or seed; cannot resume")
        snap = state["snapshot"]
        self.rng.bit_generator.state = copy.deepcopy(snap["rng"])
        self.epoch, self.pos = np.array(snap["epoch"]), np.array(snap["pos"])
        self._orders.clear()
        self._pool, self._snapshot = [], None
        if state["drawn"]:
            self._draw_pool(state["pool_start"])  # redraw exactly the pool in use
        self._next_step = state["next_step"]
        self.seen = np.array(state["seen"])


def token_balanced_bounds(sorted_lengths: np.ndarray, n: int, min_size: int = 1) -> list[int]:
    """Cut points splitting ascending lengths into n contiguous batches, each of at least
    min_size examples, minimising the largest padded size (examples x longest length).
    Pure; binary search over the padded-token budget with a greedy fill."""
    lengths = np.asarray(sorted_lengths)
    total = len(lengths)
    if n < 1 or n * min_size > total:
        raise ValueError(f"cannot cut {total} examples into {n} batches of at least {min_size}")

    def greedy(budget: int) -> list[int] | None:
        bounds, start = [0], 0
        for j in range(n):
            left = n - j - 1                      # batches still to fill after this one
            end = start + min_size
            while end < total - left * min_size and (end + 1 - start) * lengths[end] <= budget:
                end += 1
            if j == n - 1:
                end = total
                if (end - start) * lengths[end - 1] > budget:
                    return None
            bounds.append(end)
            start = end
        return bounds

    lo, hi = int(lengths.max()), int(total * lengths.max())
    while lo < hi:
        mid = (lo + hi) // 2
        if greedy(mid) is None:
            lo = mid + 1
        else:
            hi = mid
    return greedy(lo)
