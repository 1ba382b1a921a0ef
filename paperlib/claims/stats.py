"""Statistics a claim is decided by: effects with bootstrap confidence intervals.

Validation losses are ratios of sums (nats over target tokens), computed on the same
validation sentences for every run, so comparisons are *paired* over sentences. Runs
also vary with the seed. `loss_gain` resamples both levels: each arm's seeds with
replacement (independently: arms do not share seeds' randomness), then the sentences with
replacement (shared by both arms: the pairing). scipy.stats.bootstrap resamples a single
level, hence the few lines here.

With few seeds a percentile bootstrap is too narrow (resampling 3 values has (3-1)/3 of
their variance and only 10 distinct means): seed deviations from their mean are inflated
by sqrt(S/(S-1)) before resampling, and the interval is estimate ± t × (standard error).

Seeds and sentences are crossed (every run scores every sentence), and a bootstrap that
resamples both counts the seed-by-sentence noise E three times where the statistic has it
once: in the seeds' means, in the sentences' means and in the resampled cells (Owen's
"pigeonhole" bootstrap; its SE was 1.7x too large where that noise dominates, its 95%
intervals covering 100%). With seed variance A and sentence variance B, resampling both
gives A + B + 3E, the seeds alone A + E, the sentences alone B + E, so the statistic's
A + B + E = 2 (seeds alone + sentences alone) - both (`_resampled_se`, three bootstraps of
the same statistic, its choices of a best configuration included; never below the larger
one-level variance, a lower bound of the statistic's that makes it conservative where
the seed-by-sentence noise dominates). The t's degrees of freedom are Welch-Satterthwaite's
on the same components (`_components`), capped at the seeds' pooled ones for Bonferroni
bounds. The A/A tests in tests/test_claims.py check the false-verdict rates (≤ 5%), a
coverage test the intervals.

A corpus score (BLEU, chrF) is no mean over sentences: `score_gain` resamples its seeds the
same way and, where the runs kept their test segments' statistics, the test segments too,
rescoring every resample (its A/A tests: tests/test_claims_order_matters.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_BOOT = 2000


@dataclass(frozen=True)
class Effect:
    """A claimed effect, oriented so that positive means "as the paper says"."""

    estimate: float
    low: float                  # 95% confidence interval
    high: float
    unit: str = "nats/token"
    seeds: tuple[int, ...] = ()  # seeds per compared arm
    sentences: int = 0          # validation sentences the losses average over
    se: float = float("nan")    # bootstrap standard error
    df: float | None = None     # a t-scaled interval's degrees of freedom (inf: normal); None: another kind

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "se": self.se, "unit": self.unit,
                "seeds": list(self.seeds), "sentences": self.sentences,
                "df": "inf" if self.df == float("inf") else self.df}

    @classmethod
    def from_dict(cls, d: dict) -> "Effect":
        """An effect from its record (`to_dict`); a record written before `df` existed has none."""
        df = d.get("df")
        return cls(d["estimate"], d["low"], d["high"], d.get("unit", "nats/token"), tuple(d.get("seeds", ())),
                   d.get("sentences", 0), float("nan") if d.get("se") is None else d["se"],
                   float("inf") if df == "inf" else df)

    def __str__(self) -> str:
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}] {self.unit}"


def _as_arm(nll) -> np.ndarray:
    """(configs, seeds, sentences) from (sentences,), (seeds, sentences) or (configs, seeds, sentences)."""
    a = np.asarray(nll, dtype=np.float64)
    while a.ndim < 3:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"per-example losses must have at most 3 axes (configs, seeds, sentences), got shape {a.shape}")
    return a


def _inflated(arm: np.ndarray) -> np.ndarray:
    s = arm.shape[1]
    if s < 2:
        return arm
    mean = arm.mean(axis=1, keepdims=True)
    return mean + (arm - mean) * np.sqrt(s / (s - 1))


@dataclass(frozen=True)
class Draws:
    """One bootstrap's resamples: of the seeds, of the sentences, or of both."""

    rng: np.random.Generator
    n_boot: int
    seeds: bool = True
    sentences: bool = True

    def weights(self, seeds: int) -> np.ndarray:
        """(n_boot, seeds) each seed's weight in each resample (1/S each when seeds are not resampled)."""
        if not self.seeds:
            return np.full((self.n_boot, seeds), 1 / seeds)
        return self.rng.multinomial(seeds, np.full(seeds, 1 / seeds), size=self.n_boot) / seeds

    def counts(self, n: int) -> np.ndarray:
        """(n_boot, n) how often each of n sentences is drawn in each resample."""
        if not self.sentences:
            return np.ones((self.n_boot, n))
        return self.rng.multinomial(n, np.full(n, 1 / n), size=self.n_boot).astype(np.float64)


def _resampled_se(replicates, n_boot: int, seed: int) -> np.ndarray | float:
    """The standard error of a statistic of seeds crossed with sentences, its seed-by-sentence
    noise counted once: sqrt(2 (V_seeds + V_sentences) - V_both) from three bootstraps of it
    (`replicates(draws)` -> (n_boot, ...) resampled values), never below the larger one-level
    variance (each is part of the statistic's). Elementwise over the trailing axes."""
    rng = np.random.default_rng(seed)
    both, seeds, sentences = (np.var(replicates(Draws(rng, n_boot, *mode)), axis=0, ddof=1)
                              for mode in ((True, True), (True, False), (False, True)))
    se = np.sqrt(np.maximum(2 * (seeds + sentences) - both, np.maximum(seeds, sentences)))
    return float(se) if np.ndim(se) == 0 else se


def seed_mean_losses(nll, tokens) -> np.ndarray:
    """Each configuration's seed-mean loss (ratio of sums), without resampling."""
    return _as_arm(nll).mean(axis=1).sum(axis=1) / np.sum(tokens)


def _config_losses(arm: np.ndarray, tokens: np.ndarray, sentence_counts: np.ndarray, draws: Draws,
                   seed_weights=None) -> np.ndarray:
    """(n_boot, configs) each configuration's loss per resample: the seed-averaged,
    sentence-resampled ratio of sums. seed_weights: None (drawn here, per configuration),
    one (n_boot, seeds) array for every configuration, or a list of one per configuration."""
    n_boot = sentence_counts.shape[0]
    arm = _inflated(arm)
    denominator = sentence_counts @ tokens
    out = np.empty((n_boot, arm.shape[0]))
    for k, config in enumerate(arm):  # (seeds, sentences)
        weights = (draws.weights(config.shape[0]) if seed_weights is None
                   else seed_weights[k] if isinstance(seed_weights, list) else seed_weights)
        per_sentence = weights @ config  # (n_boot, sentences): seed-resampled mean nll
        out[:, k] = (sentence_counts * per_sentence).sum(axis=1) / denominator
    return out


def _arm_losses(arm: np.ndarray, tokens: np.ndarray, sentence_counts: np.ndarray, draws: Draws,
                seed_weights=None) -> np.ndarray:
    """(n_boot,) the arm's loss per resample: its best configuration (lowest loss)."""
    return _config_losses(arm, tokens, sentence_counts, draws, seed_weights).min(axis=1)


def _components(terms, capped: bool = False) -> tuple[float, float]:
    """The variance of a linear statistic sum c × loss(run, task) by its variance components,
    and its Welch-Satterthwaite degrees of freedom. terms: (c, run, task,
    nll (seeds, sentences), tokens (sentences,)); terms of one run share its seeds (in order),
    terms of one task its sentences. A seed's loss is a ratio of sums; resampling sentences
    moves it by the mean of u = (nll - its loss × tokens) / mean tokens over the drawn ones (a
    per-token offset of the seed moves none), so the seeds' spread is that of their losses and
    the sentences' and the interaction are those of u.

    variance = sum over runs of var(seed means)/S (the seeds' spread, S - 1 df) + sum over tasks
    of var(sentence means)/n (n - 1 df) - sum over run-and-task cells of the interaction
    sum(residual²)/((S - 1) S n²) ((S - 1)(n - 1) df), which the sentence means carry once more
    than the statistic does; what `_resampled_se` estimates by resampling. Degrees of freedom
    inf when a run has one seed (no spread to estimate: a normal quantile).

    capped: at most the runs' pooled sum of (S - 1), for bounds far in the tail (Bonferroni's
    over many pairs). With 3 seeds, a spread estimated low by chance raises Satterthwaite's
    df with it; at the 97.5% quantile that costs little (simulated coverage 95%), at
    1 - 0.025/72 much (domination_margin's A/A test: 5-7% false "dominated" uncapped, 0%
    capped)."""
    seeds, sentences, cells = {}, {}, {}
    for c, run, task, nll, tokens in terms:
        nll, tokens = np.asarray(nll, dtype=np.float64), np.asarray(tokens, dtype=np.float64)
        per_seed = nll.sum(axis=1) / tokens.sum()  # each seed's loss: the ratio of sums
        u = c * (nll - per_seed[:, None] * tokens) / tokens.mean()
        seeds[run] = seeds.get(run, 0.0) + c * per_seed
        sentences[task] = sentences.get(task, 0.0) + u.mean(axis=0)
        cells[run, task] = cells.get((run, task), 0.0) + u
    parts = [(v.var(ddof=1) / len(v), len(v) - 1) for v in [*seeds.values(), *sentences.values()] if len(v) > 1]
    interaction = 0.0
    for u in cells.values():
        s, n = u.shape
        if s > 1:
            residual = u - u.mean(axis=0) - u.mean(axis=1, keepdims=True) + u.mean()
            cell = float((residual ** 2).sum() / ((s - 1) * s * n * n))
            interaction += cell
            parts.append((-cell, (s - 1) * (n - 1)))
    variance = max(sum(v for v, _ in parts), interaction)
    spread = sum(v * v / df for v, df in parts)
    if any(len(v) < 2 for v in seeds.values()):
        return float(variance), float("inf")
    pooled = sum(len(v) - 1 for v in seeds.values())
    df = pooled if spread == 0 else max(1.0, variance * variance / spread)
    return float(variance), float(min(df, pooled) if capped else df)


def _gain_terms(a: np.ndarray, b: np.ndarray, tokens, k: int, j: int, same_runs: bool = False) -> list:
    """`_components` terms of loss(B's configuration j) - loss(A's k), on one task."""
    return [(-1.0, "a", 0, a[k], tokens), (1.0, "a" if same_runs else "b", 0, b[j], tokens)]


def point_loss(nll, tokens) -> float:
    """The arm's loss without resampling: best configuration of the seed-mean ratio of sums."""
    arm = _as_arm(nll)
    return float(min(c.mean(axis=0).sum() / np.sum(tokens) for c in arm))


def loss_gain(a_nll, b_nll, tokens, n_boot: int = N_BOOT, seed: int = 0, same_runs: bool = False,
              evaluations: bool = False) -> Effect:
    """How much lower arm A's validation loss is than arm B's: loss(B) - loss(A), > 0 when
    A is better, with a 95% interval: estimate ± t × bootstrap standard error.

    a_nll, b_nll: summed nll per validation sentence, shaped (sentences,), (seeds,
    sentences) or (configs, seeds, sentences); an arm with several configurations is
    represented by its best one (e.g. the best rate of a front), chosen again in every
    resample so that the choice's luck is part of the interval. That holds its error rates
    where both arms choose among as many configurations (their choices' biases cancel: A/A
    false "holds" at most 0.5% at 2 against 2 and 9 against 9); where the counts differ the
    bias favours the arm with more (10% false "holds" at 9 against 1), and
    `_best_of_configurations` bounds it instead. tokens: target tokens per sentence (the same
    sentences for both arms).

    same_runs: A and B are the same runs (seeds in the same order) at different evaluations,
    e.g. a curve's end against its minimum: each resample draws the seeds once for both, and
    the interval uses Student's t on the seeds' S - 1 degrees of freedom (a paired design:
    the seeds are the replicates once, not twice). An arm may then hold several evaluations
    (configs = evaluations): its best, e.g. the curve's minimum, is chosen again in every
    resample, so that picking the lowest point does not shrink the rise after it.

    evaluations: each arm's configurations are evaluations of one set of runs (its curve), not
    different runs: its seeds are drawn once for all of them, and its best -- the curve's
    minimum, "the best over the run" -- is chosen again in every resample."""
    a, b = _as_arm(a_nll), _as_arm(b_nll)
    tokens = np.asarray(tokens, dtype=np.float64)
    if a.shape[2] != b.shape[2] or a.shape[2] != tokens.shape[0]:
        raise ValueError(f"both arms must be scored on the same sentences: shapes {a.shape}, {b.shape}, tokens {tokens.shape}")
    if same_runs and a.shape[1:] != b.shape[1:]:
        raise ValueError(f"same_runs compares one set of runs at different evaluations; got shapes {a.shape}, {b.shape}")
    if not (same_runs or evaluations) and a.shape[0] != b.shape[0]:  # the choice's bias favours the arm with more
        return _best_of_configurations(a, b, tokens, n_boot, seed)
    n = tokens.shape[0]

    def gains(draws):
        counts = draws.counts(n)  # shared sentences: the pairing
        if same_runs:  # one draw of seeds for every evaluation: the same runs
            wa = wb = draws.weights(a.shape[1])
        elif evaluations:  # each arm's seeds drawn once for all its evaluations
            wa, wb = draws.weights(a.shape[1]), draws.weights(b.shape[1])
        else:  # every configuration its own runs
            wa = wb = None
        return _arm_losses(b, tokens, counts, draws, wb) - _arm_losses(a, tokens, counts, draws, wa)

    k, j = int(np.argmin(seed_mean_losses(a, tokens))), int(np.argmin(seed_mean_losses(b, tokens)))
    _, df = _components(_gain_terms(a, b, tokens, k, j, same_runs))  # at the chosen configurations
    estimate = point_loss(b, tokens) - point_loss(a, tokens)
    se = _resampled_se(gains, n_boot, seed)
    half = t_isf(0.025, df) * se
    return Effect(float(estimate), float(estimate - half), float(estimate + half), seeds=(a.shape[1], b.shape[1]),
                  sentences=n, se=se, df=df)


def _best_of_configurations(a: np.ndarray, b: np.ndarray, tokens: np.ndarray, n_boot: int, seed: int) -> Effect:
    """`loss_gain` of arms of different runs with unequal numbers of configurations (e.g. a
    front's rates against one fine-tuning-only run): best(B) - best(A) = max over A's k of
    min over B's j of gain(k, j). Its interval is not one around that estimate, which picking
    the best of K noisy configurations biases towards A (an A/A test with 9 configurations
    against one gave 10-12% false "holds" from a bootstrap that picks the best again in every
    resample). As
    `domination_margin` does: `low` is max_k min_j of the pairs' lower bounds at a
    Bonferroni-corrected level alpha/K -- "A beats B" holds when some k beats every j (a
    union over k, an intersection over j) -- and `high` max_k min_j of their upper bounds at
    alpha/J -- "does not hold" when every k is below the minimum against some j. Pairs share
    the sentences (paired) and resample each arm's seeds; bounds are t-scaled as in
    `loss_gain`, so the interval is asymmetric and its standard error is the chosen pair's."""
    point = seed_mean_losses(b, tokens)[None, :] - seed_mean_losses(a, tokens)[:, None]  # (K, J): B's j minus A's k

    def pairs(draws):  # (n_boot, K, J)
        counts = draws.counts(tokens.shape[0])
        return _config_losses(b, tokens, counts, draws)[:, None, :] - _config_losses(a, tokens, counts, draws)[:, :, None]

    configs_a, configs_b = point.shape
    se, df = _resampled_se(pairs, n_boot, seed), np.empty(point.shape)
    for k, j in np.ndindex(point.shape):
        df[k, j] = _components(_gain_terms(a, b, tokens, k, j), capped=True)[1]  # Bonferroni's tail
    k = int(np.argmax(point.min(axis=1)))  # A's best and B's best: the estimate's pair
    j = int(np.argmin(point[k]))
    low = float((point - t_isf(0.025 / configs_a, df) * se).min(axis=1).max())
    high = float((point + t_isf(0.025 / configs_b, df) * se).min(axis=1).max())
    return Effect(float(point[k, j]), low, high, seeds=(a.shape[1], b.shape[1]), sentences=tokens.shape[0],
                  se=float(se[k, j]))


def one_sided_p(effect: Effect, threshold: float, above: bool) -> float | None:
    """The one-sided p-value of the test a verdict on `effect` made: of "the effect is at most
    `threshold`" (above: a "holds", whose interval lies above 0) or "at least `threshold`" (a
    "does not hold", below the practical minimum), on the Student's t (normal at df = inf) its
    t-scaled interval used. None for any other interval (`Effect.df` None: a percentile
    interval, a best-of-configurations or union bound, an exact check)."""
    from scipy.stats import norm, t

    if effect.df is None or not (np.isfinite(effect.se) and effect.se > 0):
        return None
    score = (effect.estimate - threshold) / effect.se
    dist = norm() if effect.df == float("inf") else t(effect.df)
    return float(dist.sf(score) if above else dist.cdf(score))


def holm(pvalues, alpha: float) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected at family-wise level `alpha` (the
    smallest p-value against alpha/m, the next against alpha/(m-1), ... until one is not)."""
    order = np.argsort(pvalues, kind="stable")
    rejected = [False] * len(order)
    for rank, i in enumerate(order):
        if pvalues[i] > alpha / (len(order) - rank):
            break
        rejected[i] = True
    return rejected


def negated(effect: Effect) -> Effect:
    """The effect in the other direction (e.g. a rise as a fall)."""
    import dataclasses

    return dataclasses.replace(effect, estimate=-effect.estimate, low=-effect.high, high=-effect.low)


def shifted(effect: Effect, by: float, unit: str | None = None) -> Effect:
    """The effect plus a constant (a non-inferiority margin: "not worse by more than δ")."""
    import dataclasses

    return dataclasses.replace(effect, estimate=effect.estimate + by, low=effect.low + by, high=effect.high + by,
                               unit=unit or effect.unit)


def t_df(seeds_a: int, seeds_b: int | None = None) -> float:
    """Degrees of freedom of `t_quantile` (seeds_b None: of `paired_t_quantile`); inf where
    an arm has a single seed (a normal quantile)."""
    if seeds_b is None:
        return float(seeds_a - 1) if seeds_a > 1 else float("inf")
    return float(seeds_a + seeds_b - 2) if seeds_a > 1 and seeds_b > 1 else float("inf")


def t_isf(alpha: float, df):
    """The one-sided upper `alpha` quantile of Student's t on `df` degrees of freedom (a float
    or an array of them; inf: the normal's)."""
    from scipy.stats import norm, t

    df = np.asarray(df, dtype=np.float64)
    q = np.where(np.isinf(df), norm.isf(alpha), t.isf(alpha, np.where(np.isinf(df), 1.0, df)))
    return float(q) if q.ndim == 0 else q


def t_quantile(seeds_a: int, seeds_b: int) -> float:
    """The 97.5% quantile of a comparison of two arms' seed means (`score_gain`): Student's t
    on the pooled seeds (`t_df`), a normal quantile when an arm has a single seed and the
    between-seed spread cannot be estimated at all."""
    return t_isf(0.025, t_df(seeds_a, seeds_b))


def paired_t_quantile(seeds: int) -> float:
    """`t_quantile` for the mean of paired differences over seeds: Student's t on seeds - 1
    degrees of freedom, normal with a single seed."""
    return t_isf(0.025, t_df(seeds))


SCORE_INTERVAL = ("t-scaled bootstrap over the seeds and the test segments (each resample rescored from the "
                  "segments' statistics; where a run kept none -- no examples/test-segments.npz -- over the seeds alone, "
                  "which leaves out the test set's sampling error: test_segments_resampled says which), none with one seed")


def score_gain(a, b, unit: str, n_boot: int = N_BOOT, seed: int = 0, segments=None) -> Effect | None:
    """Best configuration's mean of A minus B's for a corpus score where higher is better (BLEU,
    chrF). a, b: (configs, seeds) values. A seed bootstrap as in `loss_gain` (deviations
    inflated by sqrt(S/(S-1)), the best configuration chosen again in each resample, the
    standard error scaled by Student's t on the pooled seeds).

    segments: the test segments' statistics, when every run kept them (`scores`): one (A's,
    B's, score) per task, A's (configs, seeds, segments, statistics) in a's order, score(summed
    statistics) -> the corpus score; a run's value is the mean over the tasks, as `a` and `b`
    must be. The test segments are then resampled too, shared by both arms (the pairing), and
    the standard error counts their interaction with the seeds once (`_resampled_se`). Without
    them the interval leaves out the test set's sampling error.

    None when an arm has a single seed, a score that is not finite, or (seeds alone) seeds
    that all scored alike: an interval of zero width would claim a certainty that a few test
    segments cannot give."""
    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[1] < 2 or b.shape[1] < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    segments = [(np.asarray(sa), np.asarray(sb), score) for sa, sb, score in segments or ()]
    for sa, sb, _ in segments:
        if sa.shape[:2] != a.shape or sb.shape[:2] != b.shape or sa.shape[2:] != sb.shape[2:]:
            raise ValueError(f"segment statistics shaped {sa.shape} and {sb.shape} (configs, seeds, segments, statistics) "
                             f"for scores shaped {a.shape} and {b.shape}: both arms need one row per run, on the same test "
                             "segments (as many of them: the same eval.bleu_max_examples)")

    def best(x, draws):  # x (n_boot or 1, configs, seeds) -> (n_boot,) the best configuration's seed mean
        s = x.shape[2]
        mean = x.mean(axis=2, keepdims=True)
        x = mean + (x - mean) * np.sqrt(s / (s - 1))
        w = np.stack([draws.weights(s) for _ in range(x.shape[1])], axis=1)  # (n_boot, configs, seeds)
        return (w * x).sum(axis=2).max(axis=1)

    def replicates(draws):
        if not segments or not draws.sentences:
            return best(a[None], draws) - best(b[None], draws)
        xa = xb = 0.0
        for sa, sb, score in segments:  # each task's test set: its own segments, shared by both arms
            counts = draws.counts(sa.shape[2])
            xa = xa + _rescored(sa, counts, score) / len(segments)
            xb = xb + _rescored(sb, counts, score) / len(segments)
        return best(xa, draws) - best(xb, draws)

    estimate = float(a.mean(axis=1).max() - b.mean(axis=1).max())
    if segments:
        se = _resampled_se(replicates, n_boot, seed)
    else:
        se = float(replicates(Draws(np.random.default_rng(seed), n_boot, sentences=False)).std(ddof=1))
    if se == 0:
        return None
    half = t_quantile(a.shape[1], b.shape[1]) * se
    # unequal numbers of configurations: the choice's bias favours one arm (as in `loss_gain`),
    # which no call makes today (BLEU fronts against fronts); such an effect is no t-test
    return Effect(estimate, estimate - half, estimate + half, unit=unit, seeds=(a.shape[1], b.shape[1]),
                  sentences=sum(sa.shape[2] for sa, _, _ in segments), se=se,
                  df=t_df(a.shape[1], b.shape[1]) if a.shape[0] == b.shape[0] else None)


def _rescored(statistics: np.ndarray, counts: np.ndarray, score) -> np.ndarray:
    """(n_boot, configs, seeds) each run's corpus score on each resample of its test
    segments: statistics (configs, seeds, segments, statistics), counts (n_boot, segments)."""
    summed = np.einsum("bn,csnd->bcsd", counts, statistics.astype(np.float64))
    return np.apply_along_axis(score, -1, summed)


def loss_contrast(terms, tokens, n_boot: int = N_BOOT, seed: int = 0) -> Effect:
    """sum of c * (loss(B) - loss(A)) over terms (c, a_nll, b_nll) -- e.g. whether a gap grows
    from one setting to another -- every arm scored on the same sentences: the sentences are
    resampled jointly (the same resamples in every term) and each arm's seeds independently,
    as in `loss_gain`; interval estimate +- t x bootstrap SE."""
    tokens = np.asarray(tokens, dtype=np.float64)
    n = tokens.shape[0]
    terms = [(c, _as_arm(a), _as_arm(b)) for c, a, b in terms]
    estimate, seeds, linear = 0.0, [], []
    for i, (c, a, b) in enumerate(terms):
        estimate += c * (point_loss(b, tokens) - point_loss(a, tokens))
        seeds += [a.shape[1], b.shape[1]]
        k, j = int(np.argmin(seed_mean_losses(a, tokens))), int(np.argmin(seed_mean_losses(b, tokens)))
        linear += [(-c, ("a", i), 0, a[k], tokens), (c, ("b", i), 0, b[j], tokens)]  # each arm its own runs

    def contrast(draws):
        counts = draws.counts(n)
        return sum(c * (_arm_losses(b, tokens, counts, draws) - _arm_losses(a, tokens, counts, draws)) for c, a, b in terms)

    df = _components(linear)[1]
    se = _resampled_se(contrast, n_boot, seed)
    half = t_isf(0.025, df) * se
    return Effect(float(estimate), float(estimate - half), float(estimate + half), seeds=tuple(seeds), sentences=n, se=se,
                  df=df)


def best_value_gap(a_nll, b_nll, tokens, a_values, b_values, unit: str, n_boot: int = N_BOOT, seed: int = 0) -> Effect:
    """The setting (e.g. sampling rate) of arm A's best configuration minus arm B's, each
    chosen again in every resample of seeds and sentences as in `loss_gain`. The statistic
    is discrete (a grid value), so the interval is the percentile interval of the resamples,
    not a t-scaled standard error: it excludes zero only when at least 97.5% of the resamples
    order the two choices the same way. It resamples seeds and sentences together, so it
    counts their interaction more than once (conservative: see the module's docstring)."""
    a, b = _as_arm(a_nll), _as_arm(b_nll)
    tokens = np.asarray(tokens, dtype=np.float64)
    a_values, b_values = np.asarray(a_values, dtype=np.float64), np.asarray(b_values, dtype=np.float64)
    if len(a_values) != a.shape[0] or len(b_values) != b.shape[0]:
        raise ValueError(f"one value per configuration: {len(a_values)} for {a.shape[0]}, {len(b_values)} for {b.shape[0]}")
    if a.shape[2] != b.shape[2] or a.shape[2] != tokens.shape[0]:
        raise ValueError(f"both arms must be scored on the same sentences: shapes {a.shape}, {b.shape}, tokens {tokens.shape}")
    draws = Draws(np.random.default_rng(seed), n_boot)
    n = tokens.shape[0]
    counts = draws.counts(n)
    gaps = (a_values[_config_losses(a, tokens, counts, draws).argmin(axis=1)]
            - b_values[_config_losses(b, tokens, counts, draws).argmin(axis=1)])
    point = [values[int(np.argmin(seed_mean_losses(arm, tokens)))] for arm, values in ((a, a_values), (b, b_values))]
    low, high = np.percentile(gaps, [2.5, 97.5])
    return Effect(float(point[0] - point[1]), float(low), float(high), unit=unit, seeds=(a.shape[1], b.shape[1]),
                  sentences=n, se=float(gaps.std(ddof=1)))


def domination_margin(per_task, n_boot: int = N_BOOT, seed: int = 0) -> Effect:
    """How far the configurations of one front stand from being dominated by one another:
    m_kj = max over tasks of (loss_j - loss_k) for every ordered pair of configurations (k is
    not dominated by j when m_kj > 0); the estimate is the smallest m_kj. Positive: every
    configuration is on the front (by that margin at least); negative: some configuration
    is worse than another on every task, by that much.

    The smallest of many pairs' estimates is biased low, so the interval is not one around
    it: `low` is the smallest per-pair lower bound (every pair positive -- an intersection-
    union test, valid without a multiplicity correction) and `high` the smallest per-pair
    upper bound at a Bonferroni-corrected level (some pair negative: a union over the pairs).
    `decide` on it keeps both false verdicts at most 2.5% (the A/A test in tests/test_claims.py).

    per_task: [(nll (configs, seeds, sentences), tokens)], one per task, configurations in the
    same order and with the same seeds. Each configuration's seeds are resampled once for all
    tasks (the same runs), each task's sentences once for all configurations (the pairing);
    per-pair bounds are estimate +- t x standard error, as in `loss_gain` (each pair's
    components read on the task its margin is taken on)."""
    arms = [(_as_arm(nll), np.asarray(tokens, dtype=np.float64)) for nll, tokens in per_task]
    configs, seeds = arms[0][0].shape[:2]
    if any(a.shape[:2] != (configs, seeds) for a, _ in arms) or configs < 2:
        raise ValueError(f"every task needs the same >= 2 configurations and seeds: {[a.shape for a, _ in arms]}")
    if any(a.shape[2] != len(t) for a, t in arms):
        raise ValueError(f"each task's losses must cover its sentences: {[(a.shape, len(t)) for a, t in arms]}")
    def replicates(draws):
        weights = [draws.weights(seeds) for _ in range(configs)]  # each configuration's seeds shared by the tasks
        return pairs(np.stack([_config_losses(nll, tokens, draws.counts(len(tokens)), draws, weights)
                               for nll, tokens in arms], axis=-1))

    def pairs(losses):  # (..., configs, tasks) -> (..., ordered pairs): max_i L_j,i - L_k,i for k != j
        worse_by = (losses[..., None, :, :] - losses[..., :, None, :]).max(axis=-1)
        return worse_by[..., ~np.eye(configs, dtype=bool)]

    losses = np.stack([seed_mean_losses(nll, tokens) for nll, tokens in arms], axis=-1)  # (configs, tasks)
    estimate, se, df = pairs(losses), _resampled_se(replicates, n_boot, seed), np.empty(configs * (configs - 1))
    for p, (k, j) in enumerate(zip(*np.nonzero(~np.eye(configs, dtype=bool)))):  # the order of `pairs`
        task = int(np.argmax(losses[j] - losses[k]))  # the task the pair's margin is read on
        nll, tokens = arms[task]
        df[p] = _components([(1.0, j, task, nll[j], tokens), (-1.0, k, task, nll[k], tokens)], capped=True)[1]

    low = float(np.min(estimate - t_isf(0.025, df) * se))
    high = float(np.min(estimate + t_isf(0.025 / len(estimate), df) * se))
    k = int(np.argmin(estimate))
    return Effect(float(estimate[k]), low, high, seeds=(seeds, seeds), sentences=sum(len(t) for _, t in arms),
                  se=float(se[k]))
