"""Claims of "Upsample or Upweight? Balanced Training on Heavily Imbalanced Datasets" (Li et
al.), each a `Claim` and a function that judges it on a notebook's runs: `fig1_cooldown` (B3),
`theorems` (B0: Fig. 2, Lemma 2.1, Theorems 1-3, exact), `fig3_gradient_variance` (B1),
`fig4_sampling_vs_weighting` (B2: Fig. 4, 8, 9), `table3_one_to_many` (B4),
`table4_multilingual_lm` (B5) and `fig5_7_schedules` (B6)."""

from __future__ import annotations

import dataclasses

import numpy as np

from . import evidence, gates, stats
from .core import FAILS, HOLDS, INCONCLUSIVE, MIN_SEEDS, Claim, Gate, Verdict, judge, too_few_seeds
from .stats import Effect, loss_gain, shifted
from ..labels import (COOLDOWN, COOLDOWN_FIG1, DECREASING, DOREMI, INCREASING, ORDER_MATTERS, SAMPLING, SPARSE, TAU1,
                      TAU5, TAU100, UNIMAX, WEIGHTING)

PAPER = "Upsample or Upweight?"

COOLDOWN_BEATS_TAU5 = Claim(
    "upweight.fig1.cooldown_beats_tau5_lrl", PAPER, "Fig. 1, §4",
    "Using a high temperature leads to overfitting the low-resource direction; COOLDOWN (high temperature, then τ=1) "
    "gets fast convergence without overfitting.",
    "Fig. 1: En-Ro validation loss, COOLDOWN ends below τ=5 (read from the curve, no number given)",
    gates=("learned", "cooldown"), minimum=0.02,
    statistic="final LRL validation loss, τ=5 minus COOLDOWN (paired over sentences, seeds resampled)")
RISE_TOLERANCE = 0.05  # nats/token: "without overfitting" allows this rise after the minimum (as Order Matters' TOLERANCE)
COOLDOWN_NO_OVERFIT = Claim(
    "upweight.fig1.cooldown_does_not_overfit", PAPER, "Fig. 1, §4",
    "Employing a high temperature at the beginning and then decreasing the temperature (COOLDOWN) gets the advantage "
    "of fast convergence without overfitting.",
    "Fig. 1: COOLDOWN's En-Ro validation loss does not rise (read from the curve, no number given)",
    gates=("learned", "cooldown", "exposed"), minimum=0.0,
    statistic=f"COOLDOWN's LRL validation loss at the end minus its minimum before the end (the same runs; the minimum "
              f"chosen again in every resample), subtracted from a tolerance of {RISE_TOLERANCE} nats: holds when the "
              f"rise after the minimum stays below {RISE_TOLERANCE}. Gate `cooldown`: τ=5 overfits, so there is "
              "overfitting for COOLDOWN to avoid. Gate `exposed`: COOLDOWN saw at least as many LRL examples as τ=5 "
              "had seen at its minimum -- below that, τ=5 itself had not yet overfit, and not overfitting shows nothing")
COOLDOWN_BEATS_TAU1 = Claim(
    "upweight.fig1.cooldown_beats_tau1_lrl", PAPER, "Fig. 1, §4.2 / Table 3",
    "Compared to proportional sampling (τ=1), COOLDOWN greatly improves the low-resource languages.",
    "Table 3: +3.1 BLEU on the low-resource average over τ=1",
    gates=("learned",), minimum=0.02,
    statistic="final LRL validation loss, τ=1 minus COOLDOWN")
COOLDOWN_KEEPS_HRL = Claim(
    "upweight.fig1.cooldown_keeps_hrl", PAPER, "§4.2 / Table 3",
    "COOLDOWN improves the low-resource languages while minimally sacrificing the high-resource ones.",
    "Table 3: -0.2 BLEU on the high-resource average vs τ=1",
    gates=("learned",), minimum=0.0,
    statistic="final HRL validation loss, τ=1 minus COOLDOWN, plus a tolerance of 0.05 nats "
              "(holds when COOLDOWN's HRL is not worse than τ=1's by more than 0.05)")
HRL_TOLERANCE = 0.05

CLAIMS = (COOLDOWN_BEATS_TAU5, COOLDOWN_NO_OVERFIT, COOLDOWN_BEATS_TAU1, COOLDOWN_KEEPS_HRL)


def _gain(a_rows, b_rows, task, at="final"):
    a, tokens = evidence.arm(a_rows, task, at)
    b, _ = evidence.arm(b_rows, task, at)
    return loss_gain(a, b, tokens)


def fig1_cooldown(df, hrl: str, lrl: str, methods=(TAU1, TAU5, COOLDOWN_FIG1)) -> list:
    """Fig. 1: τ=1, τ=5 and COOLDOWN on one HRL+LRL pair; df has a 'method' column naming
    the three arms (`methods`, in that order) and one row per seed."""
    tau1, tau5, cd = (df[df.method == m] for m in methods)
    learned = learned_of(tau1, hrl, arm=methods[0])
    overfit = gates.cooldown(lrl, *evidence.minimum_and_end(tau5, lrl))
    # ending below τ=5 is not "without overfitting": a COOLDOWN that overfits less still beats it
    rise, cd_min_step, cd_last_step = evidence.rise_after_minimum(cd, lrl)
    exposed = gates.exposed(lrl, evidence.exposure(cd, lrl), evidence.exposure(tau5, lrl, overfit.numbers["min_step"], least=False),
                            "τ=5's loss")
    return [
        judge(COOLDOWN_BEATS_TAU5, [learned, overfit], _gain(cd, tau5, lrl),
              lrl_cooldown=evidence.mean_final(cd, f"valid_loss.{lrl}"), lrl_tau5=evidence.mean_final(tau5, f"valid_loss.{lrl}")),
        judge(COOLDOWN_NO_OVERFIT, [learned, overfit, exposed], shifted(stats.negated(rise), RISE_TOLERANCE),
              cooldown_min_step=cd_min_step, last_step=cd_last_step, cooldown_rise_after_minimum=rise.estimate),
        judge(COOLDOWN_BEATS_TAU1, [learned], _gain(cd, tau1, lrl),
              lrl_cooldown=evidence.mean_final(cd, f"valid_loss.{lrl}"), lrl_tau1=evidence.mean_final(tau1, f"valid_loss.{lrl}")),
        judge(COOLDOWN_KEEPS_HRL, [learned], shifted(_gain(cd, tau1, hrl), HRL_TOLERANCE),
              hrl_cooldown=evidence.mean_final(cd, f"valid_loss.{hrl}"), hrl_tau1=evidence.mean_final(tau1, f"valid_loss.{hrl}")),
    ]


# ==================================================================================================
# The other figures and tables. Shared conventions (each Claim's statistic says which apply):
#
# - Losses are compared with `stats.loss_gain` (paired over the validation sentences, seeds
#   resampled); the practical minimum of a "better" claim is 0.02 nats/token (as in Fig. 1) and
#   "matches" / "minimal sacrifice" is a non-inferiority margin of HRL_TOLERANCE = 0.05 nats.
# - "Converges faster" is the mean validation loss over the evaluations after step 0 that both
#   arms share (the area under the curve, per sentence: `_over_run`).
# - Translation claims need `learned` on the HRL (1 nat below the source-blind bigram, or BLEU
#   >= 10); language-modelling claims need it against the LM bigram with gates.LM_LEARNED_MARGIN.
# - Helpers that stats/evidence do not have are written here (`_over_run`, `_average`,
#   `_moved_more`, `_two_sample`; contrasts of several gaps are `stats.loss_contrast`).
# ==================================================================================================

MINIMUM = 0.02            # nats/token: the practical minimum of a "better" claim (as in Fig. 1)
EXACT = 1e-12             # floating-point slack of the exact (theory) checks


def _with_arm(gate: Gate, arm: str) -> Gate:
    return dataclasses.replace(gate, measured=f"{arm}: {gate.measured}") if arm else gate


def learned_of(rows, task: str, lm: bool = False, arm: str = "") -> Gate:
    """`gates.learned` on `task` at the end of the rows' runs (mean over seeds): translation
    against the bigram (1 nat) or BLEU >= 10; language modelling (`lm`) against the LM bigram
    with gates.LM_LEARNED_MARGIN. `arm` names the runs in the gate's text."""
    cfg = rows["run_obj"].iloc[0].config
    col = f"bleu.{task}"
    bleu = evidence.mean_final(rows, col) if not lm and col in rows and rows[col].notna().all() else None
    gate = gates.learned(task, evidence.mean_final(rows, f"valid_loss.{task}"), evidence.bigram(cfg)[task], bleu,
                         margin=gates.LM_LEARNED_MARGIN if lm else gates.LEARNED_MARGIN)
    return _with_arm(gate, arm)


def _shared_steps(*frames) -> list[int]:
    """Evaluation steps after 0 at which every run of the frames stored per-sentence losses."""
    from .. import store

    sets = [set(store.example_loss_steps(r.dir)) for f in frames for r in f["run_obj"]]
    steps = sorted(set.intersection(*sets) - {0}) if sets else []
    if not steps:
        raise ValueError("the runs share no evaluation after step 0")
    return steps


def _over_run(rows, task: str, steps) -> tuple[np.ndarray, np.ndarray]:
    """(nll per sentence summed over the evaluations `steps`, one row per seed; tokens times
    len(steps)): its ratio of sums is the mean validation loss over those evaluations, the
    area under the learning curve -- how fast a run converges, paired over sentences."""
    per, tokens = [], None
    for run in rows["run_obj"]:
        evals = evidence.at_steps(run, task, *steps)
        tokens = evals[0][1] if tokens is None else tokens
        if any(not np.array_equal(t, tokens) for _, t in evals):
            raise ValueError(f"the runs were evaluated on different {task} sentences")
        per.append(np.sum([nll for nll, _ in evals], axis=0))
    return np.stack(per), np.asarray(tokens) * len(steps)


def _average(rows, tasks, at="final") -> tuple[np.ndarray, np.ndarray]:
    """(nll, tokens) over the sentences of several tasks, each task's nll and tokens divided by
    its total tokens: the ratio of sums is then the unweighted mean of the tasks' losses (the
    tables' "HRL avg" / "LRL avg"), still resampled sentence by sentence."""
    nlls, toks = [], []
    for task in tasks:
        nll, tok = evidence.arm(rows, task, at)
        nlls.append(nll / tok.sum())
        toks.append(tok / tok.sum())
    return np.concatenate(nlls, axis=-1), np.concatenate(toks)


def _best_of(groups, tasks, at="final") -> tuple[np.ndarray, np.ndarray]:
    """(configs, seeds, sentences) of several methods (one DataFrame each) on the average of
    `tasks`: `loss_gain` compares against the best of them, chosen again in every resample."""
    arms = [_average(g, tasks, at) for g in groups]
    if len({nll.shape for nll, _ in arms}) != 1:  # e.g. runs of one method missing from a figures-only store
        raise ValueError(f"every method needs the same seeds and sentences, got (seeds, sentences) "
                         f"{[nll.shape for nll, _ in arms]}")
    return np.stack([nll for nll, _ in arms]), arms[0][1]


def _moved_more(lo: dict, hi: dict, more: str, less: str, n_boot: int = stats.N_BOOT, seed: int = 0) -> Effect:
    """|move of `more`| - |move of `less`|, a task's move its loss at one setting minus at
    another (e.g. the smallest and the largest τ), both tasks scored on the SAME runs.
    lo, hi: {task: (nll (seeds, sentences), tokens)} of the two settings' runs, the seeds in the
    same order for every task.

    A seed's overall quality moves both tasks' losses, so the two moves M (of `more`) and N are
    correlated and their SEs do not add in quadrature: one bootstrap draws each setting's seeds
    once for both tasks (the same runs, as `stats.domination_margin` does) and each task's
    sentences (its own pairing of the two settings). The absolute values are not bootstrapped
    directly: near a sign change of a move, |.| clips the resamples and shrinks the SE (an A/A
    simulation gave 7-8% false 'holds'). Instead |M| - |N| = min(sM - N, sM + N) with s the sign
    of M's estimate, and each of the two linear contrasts gets estimate +- t x bootstrap SE (t on
    the contrast's components, `stats._components`): `low` is the smaller lower bound (both
    contrasts positive: an intersection-union test, as `domination_margin`), `high` the upper
    bound of max over s of min(sM - N, sM + N) from both contrasts' two-sided Bonferroni bounds
    (the sign of M unknown)."""
    arms = {}
    for task in (more, less):
        (a, tokens), (b, tokens_b) = lo[task], hi[task]
        a, b, tokens = stats._as_arm(a), stats._as_arm(b), np.asarray(tokens, dtype=np.float64)
        if a.shape[0] != 1 or b.shape[0] != 1 or not (a.shape[2] == b.shape[2] == len(tokens)) \
                or not np.array_equal(tokens, np.asarray(tokens_b, dtype=np.float64)):
            raise ValueError(f"{task}: both settings must be scored on the same sentences: {a.shape}, {b.shape}")
        arms[task] = (a, b, tokens)
    lo_seeds, hi_seeds = {arms[t][0].shape[1] for t in arms}, {arms[t][1].shape[1] for t in arms}
    if len(lo_seeds) != 1 or len(hi_seeds) != 1:
        raise ValueError(f"both tasks must come from the same runs: seeds {lo_seeds} and {hi_seeds}")
    s_lo, s_hi = lo_seeds.pop(), hi_seeds.pop()
    points = {task: stats.point_loss(a, tokens) - stats.point_loss(b, tokens) for task, (a, b, tokens) in arms.items()}
    m, n = points[more], points[less]
    sign = 1.0 if m >= 0 else -1.0
    signs = {"difference": -1.0, "sum": 1.0}  # M - N and M + N
    contrasts = {k: m + c * n for k, c in signs.items()}

    def replicates(draws):  # (n_boot, 2): both contrasts
        w_lo, w_hi = draws.weights(s_lo), draws.weights(s_hi)  # once for both tasks: the same runs
        moves = {}
        for task, (a, b, tokens) in arms.items():
            counts = draws.counts(len(tokens))
            moves[task] = (stats._config_losses(a, tokens, counts, draws, w_lo)[:, 0]
                           - stats._config_losses(b, tokens, counts, draws, w_hi)[:, 0])
        return np.stack([moves[more] + c * moves[less] for c in signs.values()], axis=1)

    se = dict(zip(signs, stats._resampled_se(replicates, n_boot, seed)))
    t_one, t_both = {}, {}
    for k, c in signs.items():
        terms = [(w, setting, task, arms[task][i][0], arms[task][2])  # the settings' runs span both tasks
                 for task, w_task in ((more, 1.0), (less, c)) for i, (setting, w) in enumerate((("lo", w_task), ("hi", -w_task)))]
        t_one[k] = stats.t_isf(0.025, stats._components(terms)[1])
        t_both[k] = stats.t_isf(0.0125, stats._components(terms, capped=True)[1])  # a Bonferroni bound
    oriented = {k: sign * est for k, est in contrasts.items()}  # s(M - N), s(M + N): sM ∓ N, min |M| - |N|
    low = min(est - t_one[k] * se[k] for k, est in oriented.items())
    lower = {k: est - t_both[k] * se[k] for k, est in contrasts.items()}
    upper = {k: est + t_both[k] * se[k] for k, est in contrasts.items()}
    high = max(min(upper.values()), -max(lower.values()))
    binding = min(oriented, key=oriented.get)
    return Effect(float(abs(m) - abs(n)), float(low), float(high), seeds=(s_lo, s_hi),
                  sentences=sum(len(t) for _, _, t in arms.values()), se=se[binding])


def _every_beats(loser, others: dict, tokens, n_boot: int = stats.N_BOOT, seed: int = 0) -> tuple[Effect, dict]:
    """Whether EVERY arm of `others` ({name: nll (seeds, sentences)}) has a lower loss than
    `loser` (same sentences, `tokens`): per arm, loss(loser) - loss(arm) by `loss_gain`, and
    (the Effect, {name: that gap}). The estimate is the smallest gap (the closest arm); `low`
    the smallest per-arm lower bound (every gap positive: an intersection-union test, valid
    without a multiplicity correction) and `high` the smallest per-arm upper bound at a
    Bonferroni-corrected level (some gap below the minimum: a union over the arms), as
    `stats.domination_margin` does for its pairs; `core.decide` then keeps both false verdicts
    at most 2.5% (the A/A test in tests/test_claims_upweight.py). The best of the arms against
    `loser` would answer another question: whether SOME arm beats it."""
    gaps = {name: loss_gain(nll, loser, tokens, n_boot=n_boot, seed=seed) for name, nll in others.items()}
    k = len(gaps)

    def upper(e):  # one-sided 1 - 0.025/k bound: Student's t on the gap's df, at most the seeds' pooled (Bonferroni's tail)
        return e.estimate + stats.t_isf(0.025 / k, min(e.df or np.inf, stats.t_df(*e.seeds))) * e.se

    closest = min(gaps, key=lambda name: gaps[name].estimate)
    effect = Effect(gaps[closest].estimate, min(e.low for e in gaps.values()), min(upper(e) for e in gaps.values()),
                    seeds=(gaps[closest].seeds[1], *(e.seeds[0] for e in gaps.values())),
                    sentences=gaps[closest].sentences, se=gaps[closest].se)
    return effect, gaps


def _two_sample(statistic, a, b, unit: str, n_boot: int = stats.N_BOOT, seed: int = 0) -> Effect | None:
    """statistic(a, b) with a 95% percentile bootstrap interval, a and b resampled
    independently (scipy.stats.bootstrap); None when either sample has fewer than 3 values
    or the statistic or the interval is not finite (a resample of equal values has no
    variance; the standard error is over the finite resamples)."""
    import warnings

    from scipy.stats import bootstrap

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if min(len(a), len(b)) < 3:
        return None
    with np.errstate(all="ignore"):
        estimate = float(statistic(a, b, axis=-1))
        if not np.isfinite(estimate):
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bootstrap((a, b), statistic, n_resamples=n_boot, method="percentile", vectorized=True, random_state=seed)
    low, high = (float(x) for x in res.confidence_interval)
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    replicates = res.bootstrap_distribution[np.isfinite(res.bootstrap_distribution)]
    return Effect(estimate, low, high, unit=unit, se=float(replicates.std(ddof=1)))  # no seeds or sentences: batches


# ------------------------------------------------------------------ Fig. 2, Lemma 2.1, Theorems 1-3 (B0)

EXACT_CHECK = "exact computation, no runs: no regime gate"
SKEW_ALPHA_MAX = 8.0  # the 'any skew' scope of VARIANCE_GROWS_WITH_SKEW searches Zipf exponents up to this

VARIANCE_FACTOR_AT_LEAST_ONE = Claim(
    "upweight.lemma2_1.variance_factor_at_least_one", PAPER, "App. B, Lemma 2.1; Fig. 2",
    "Σ_i p(i;τ)² / p(i;1) ≥ 1 holds true when ∀j, D_j ≥ 0.",
    "Fig. 2: F(τ) = 1 at τ = 1 and grows with τ and with the skew of the sizes",
    gates=(EXACT_CHECK,), minimum=0.0,
    statistic="F(τ) = Σ p(i;τ)²/p(i;1) on every size set (Zipf α > 0 and the papers' own mC4 sizes) and every τ "
              "of the grid, computed exactly: holds when min F ≥ 1 and F(1) = 1 (to 1e-12), does not hold otherwise")
FULL_GRADIENT_EQUIVALENCE = Claim(
    "upweight.thm1.full_gradient_equivalence", PAPER, "§3.1, Theorem 1",
    "For any sampling temperature τ, there exists a set of weights w_τ for the Scalarization loss such that this loss "
    "is equivalent to the Temperature Sampling loss, both computed based on the whole data D.",
    "", gates=(EXACT_CHECK,), minimum=0.0,
    statistic="full-batch gradient of temperature sampling vs scalarization with w = p(·;τ)/p(·;1) on a toy K-task "
              "least-squares problem (`theory.check_theorem_1`): holds when they agree to 1e-9 relative, at every τ checked")
SCALARIZATION_VARIANCE_LARGER = Claim(
    "upweight.thm2.scalarization_variance_at_least_ts", PAPER, "§3.1, Theorem 2; App. B",
    "Var(∇L_S(x; w_τ)) ≥ Var(∇L_TS(x; τ)).",
    "", gates=(EXACT_CHECK,), minimum=0.0,
    statistic="the exact gap Var_S − Var_TS = Σ_i p(i;τ)(w_i − 1) m_i (`theory.variance_gap`). Scope 'equal second "
              "moments' (the assumption the paper's proof makes): m_i = 1 for every task. Scope 'any per-task second "
              "moments' (the theorem as stated): the gap is linear in m ≥ 0, so it is ≥ 0 for every m exactly when it "
              "is for every m = e_i; holds when the smallest such gap over the size sets and τ ≥ 1 is ≥ 0 (to 1e-12), "
              "does not hold otherwise (a counterexample; `theory.negative_gap_example` is another)")
GAP_FORMULA_EXACT = Claim(
    "upweight.thm2.gap_formula_matches_exact_variances", PAPER, "beyond the paper: App. B, Theorem 2's proof corrected",
    "With per-task gradient second moments m_i, Var_S − Var_TS = Σ_i p(i;τ)(w_i − 1) m_i.",
    "", gates=(EXACT_CHECK,), minimum=0.0,
    statistic="exact single-example gradient variances of both estimators on the toy least-squares problem "
              "(`theory.exact_variances`) against `theory.variance_gap` with that problem's m_i, at every τ checked: "
              "holds when they agree to 1e-9 of the variances")
VARIANCE_GAP_GROWS = Claim(
    "upweight.thm3.variance_gap_grows_with_tau", PAPER, "§3.1, Theorem 3; App. C",
    "The difference Δ = Var(∇L_S(x; w_τ)) − Var(∇L_TS(x; τ)) monotonically increases when τ ≥ 1.",
    "Fig. 2: F(τ) increasing in τ for every α > 0", gates=(EXACT_CHECK,), minimum=0.0,
    statistic="Scope 'equal second moments': F(τ) non-decreasing over the sorted τ ≥ 1 grid on every size set, and "
              "the corrected derivative d log F/ds (s = 1/τ, `theory.d_log_f_ds`) ≤ 0 at the derivative τs, agreeing "
              "with a central finite difference (rtol 1e-4) -- the paper's own derivative holds x_j = D_j^(1/τ) fixed. "
              "Scope 'any per-task second moments': Δ is linear in m ≥ 0, so it is non-decreasing for every m exactly "
              "when it is for every m = e_i; holds when each such Δ is non-decreasing on the grid")

VARIANCE_GROWS_WITH_SKEW = Claim(
    "upweight.fig2.variance_grows_with_skew", PAPER, "§1, §3.1, Fig. 2",
    "The variance induced by scalarization increases as the approximated temperature increases or the domain "
    "distribution's skewness increases.",
    "Fig. 2: F(τ) larger for every larger Zipf exponent α (read from the figure)", gates=(EXACT_CHECK,), minimum=0.0,
    statistic="F(τ) = Σ p(i;τ)²/p(i;1) for K Zipf sizes D_i ∝ i^(-α), computed exactly: non-decreasing in α at "
              "every τ ≥ 1 of the grid (to 1e-12). Scope 'our α grid a–b, K=k': the exponents "
              "and number of tasks B0 draws Fig. 2 with, our choice (the paper gives neither). Scope 'any skew': α "
              f"from 0 to {SKEW_ALPHA_MAX:g} by 0.25. As one task takes all the data (α → ∞), F's terms i ≥ 2 go as "
              "(D_i/D_1)^(2/τ − 1): F → 1 for τ < 2, F → K at τ = 2, and F grows without bound for τ > 2 -- so for "
              "1 < τ < 2 the growth must stop somewhere; the first decrease found is the counterexample")

THEORY_CLAIMS = (VARIANCE_FACTOR_AT_LEAST_ONE, FULL_GRADIENT_EQUIVALENCE, SCALARIZATION_VARIANCE_LARGER, GAP_FORMULA_EXACT,
                 VARIANCE_GAP_GROWS, VARIANCE_GROWS_WITH_SKEW)


def _exact(claim: Claim, ok: bool, scope: str = "", note: str = "", **numbers) -> Verdict:
    """A verdict decided by an exact check: holds or does not hold (no gates, no interval)."""
    return Verdict(claim, HOLDS if ok else FAILS, None, (), numbers, note, scope)


def _vertex_gaps(sizes, tau: float) -> np.ndarray:
    """Var_S − Var_TS at m = e_i for every task i: p(i;τ)(w_i − 1)."""
    from .. import theory

    k = len(sizes)
    return np.array([theory.variance_gap(sizes, tau, np.eye(k)[i]) for i in range(k)])


def _skew_decrease(alphas, num_tasks: int, taus) -> tuple[float, float, float, float] | None:
    """The first (previous α, α, τ, fall of F) where F(τ) of Zipf(α) sizes falls from the
    previous α of the sorted grid to α, or None where it never does."""
    from .. import theory

    alphas = sorted(float(a) for a in alphas)
    f = np.array([[theory.variance_factor(theory.zipf_sizes(num_tasks, a), t) for t in taus] for a in alphas])
    falls = np.argwhere(np.diff(f, axis=0) < -EXACT)
    if not len(falls):
        return None
    i, j = falls[0]
    return alphas[i], alphas[i + 1], float(taus[j]), float(f[i, j] - f[i + 1, j])


def skew_scope(alphas, num_tasks: int) -> str:
    """The scope of `VARIANCE_GROWS_WITH_SKEW` on our own α grid: the paper gives neither its
    Fig. 2's exponents nor its K, so the label says which we chose."""
    return f"our α grid {min(alphas):g}–{max(alphas):g}, K={num_tasks}"


def skew_verdicts(alphas, num_tasks: int, taus) -> list:
    """Fig. 2's second statement, on our α grid (`skew_scope`) and on any skew
    (`VARIANCE_GROWS_WITH_SKEW`)."""
    up = sorted({float(t) for t in taus if t >= 1})
    verdicts = []
    for scope, grid in ((skew_scope(alphas, num_tasks), alphas), ("any skew", np.arange(0.0, SKEW_ALPHA_MAX + 1e-9, 0.25))):
        found = _skew_decrease(grid, num_tasks, up)
        note = "" if found is None else (f"counterexample: F(τ={found[2]:.3g}) falls by {found[3]:.3g} from α={found[0]:g} "
                                         f"to α={found[1]:g} (K={num_tasks})")
        verdicts.append(_exact(VARIANCE_GROWS_WITH_SKEW, found is None, scope, note, num_tasks=num_tasks,
                               alphas=[float(min(grid)), float(max(grid))], first_decrease=found))
    return verdicts


def theorems(size_sets: dict, taus, toy_sizes, toy_taus=(1.0, 2.0, 5.0, 100.0),
             derivative_taus=(1.0, 1.43, 2.0, 3.33, 5.0, 100.0), skew=None) -> list:
    """B0: Lemma 2.1 and Theorems 1-3, checked exactly. size_sets: {name: task sizes}; taus:
    the τ grid (values ≥ 1 are used for the monotonicity checks); toy_sizes: the toy
    least-squares problem of Theorem 1 and of the gap formula; skew: (the Zipf exponents and
    K that B0 draws Fig. 2 with, our choice) for the growth of F with the skew of the sizes."""
    from .. import theory

    sets = {name: np.asarray(s, dtype=np.float64) for name, s in size_sets.items()}
    grid = sorted({float(t) for t in taus} | {1.0})
    up = [t for t in grid if t >= 1]
    verdicts = []

    # Lemma 2.1
    f_min = {name: min(theory.variance_factor(s, t) for t in grid) for name, s in sets.items()}
    f_at_1 = {name: theory.variance_factor(s, 1.0) for name, s in sets.items()}
    verdicts.append(_exact(
        VARIANCE_FACTOR_AT_LEAST_ONE,
        all(v >= 1 - EXACT for v in f_min.values()) and all(abs(v - 1) <= EXACT for v in f_at_1.values()),
        min_f_over_taus=f_min, f_at_tau_1=f_at_1, taus=[grid[0], grid[-1]]))

    # Theorem 1
    t1 = theory.check_theorem_1(toy_sizes, toy_taus)
    verdicts.append(_exact(FULL_GRADIENT_EQUIVALENCE, t1.holds, toy_sizes=list(toy_sizes), taus=list(toy_taus),
                           detail=t1.detail))

    # Theorem 2: equal moments, then any moments (worst vertex m = e_i)
    equal = {name: min(theory.variance_gap(s, t, np.ones(len(s))) for t in up) for name, s in sets.items()}
    verdicts.append(_exact(SCALARIZATION_VARIANCE_LARGER, all(v >= -EXACT for v in equal.values()),
                           "equal second moments", smallest_gap_per_unit_moment=equal))
    worst = {name: min((float(_vertex_gaps(s, t).min()), t) for t in up) for name, s in sets.items()}
    name, (gap, tau) = min(worst.items(), key=lambda kv: kv[1][0])
    ex_sizes, ex_tau, ex_m = theory.negative_gap_example()
    verdicts.append(_exact(
        SCALARIZATION_VARIANCE_LARGER, gap >= -EXACT, "any per-task second moments",
        "" if gap >= -EXACT else f"counterexample: {name} at τ={tau:g} with all second moment on task "
                                 f"{int(np.argmin(_vertex_gaps(sets[name], tau)))} (the largest weight w_i < 1)",
        worst_gap=gap, worst_sizes=name, worst_tau=tau,
        example={"sizes": ex_sizes.tolist(), "tau": ex_tau, "m": ex_m.tolist(),
                 "gap": theory.variance_gap(ex_sizes, ex_tau, ex_m)}))

    # the general gap formula against the exact variances of the toy problem
    rel = []
    for t in toy_taus:
        var_ts, var_s, m = theory.exact_variances(toy_sizes, t)
        predicted = theory.variance_gap(toy_sizes, t, m)
        rel.append(abs((var_s - var_ts) - predicted) / max(var_s, var_ts))  # relative to the variances
    verdicts.append(_exact(GAP_FORMULA_EXACT, max(rel) <= 1e-9, toy_sizes=list(toy_sizes), taus=list(toy_taus),
                           max_relative_difference=max(rel)))

    # Theorem 3: equal moments (F non-decreasing, corrected derivative), then any moments
    mono = {name: theory.check_theorem_3(s, up) for name, s in sets.items()}
    deriv, agree = {}, True
    for name, s in sets.items():
        closed = []
        for t in derivative_taus:
            x, h = 1.0 / t, 1e-6
            fd = (np.log(theory.variance_factor(s, 1 / (x + h))) - np.log(theory.variance_factor(s, 1 / (x - h)))) / (2 * h)
            c = theory.d_log_f_ds(s, x)
            agree &= bool(np.isclose(c, fd, rtol=1e-4, atol=1e-6))
            closed.append(c)
        deriv[name] = max(closed)
    verdicts.append(_exact(
        VARIANCE_GAP_GROWS, all(c.holds for c in mono.values()) and all(v <= EXACT for v in deriv.values()) and agree,
        "equal second moments", smallest_increment={n: c.detail for n, c in mono.items()},
        largest_d_log_f_ds=deriv, closed_form_matches_finite_difference=agree))
    falls = {}
    for name, s in sets.items():
        per_vertex = np.array([_vertex_gaps(s, t) for t in up])  # (taus, tasks)
        falls[name] = float(np.diff(per_vertex, axis=0).min()) if len(up) > 1 else 0.0
    name = min(falls, key=falls.get)
    verdicts.append(_exact(
        VARIANCE_GAP_GROWS, falls[name] >= -EXACT, "any per-task second moments",
        "" if falls[name] >= -EXACT else f"counterexample: on {name} Δ falls by {-falls[name]:.3g} between two "
                                         f"grid τs for one m = e_i",
        largest_fall_per_size_set=falls))
    if skew is not None:
        verdicts += skew_verdicts(skew[0], skew[1], up)
    return verdicts


# ------------------------------------------------------------------ Fig. 3: gradient variance, measured (B1)

NORM_VARIANCE_MINIMUM = float(np.log(1.5))

NORMS_VARY_MORE = Claim(
    "upweight.fig3.scalarization_norms_vary_more", PAPER, "§3.2, Fig. 3",
    "Scalarization induces a larger variance (2.25 > 0.62) between mini-batch gradient norms compared to Temperature "
    "Sampling.",
    "Fig. 3 (En-{Cs, Ro}): variance of mini-batch gradient norms 2.25 under scalarization, 0.62 under temperature sampling",
    gates=("learned",), minimum=NORM_VARIANCE_MINIMUM,
    statistic="log(variance of the mini-batch gradient norms under scalarization / under temperature sampling) at one "
              "checkpoint of a τ=5 run (scope), the batches drawn as each method draws them (`gradvar.measure`); 95% "
              "percentile bootstrap over the measured norms (scipy.stats.bootstrap, the two methods' batches resampled "
              "independently); practical minimum log 1.5 (a 50% larger variance; the paper's ratio is 3.6): a variance "
              "of skewed norms is a noisy statistic: in an A/A simulation (normal, lognormal and t3 norms, 6-200 batches "
              "a method) false 'holds' came out in 0-5% of trials for normal-like norms and up to 7% for strongly "
              "skewed ones. Gate: the run the checkpoints come from learned the HRL, measured at its end for every "
              "checkpoint (the init one, a random model, included: the gate is on the run, not on the checkpoint)")
SECOND_MOMENT_GAP = Claim(
    "upweight.thm2.measured_gradient_variance_gap", PAPER, "§3.1, Theorem 2 (measured at Fig. 3's checkpoints)",
    "Var(∇L_S(x; w_τ)) ≥ Var(∇L_TS(x; τ)).",
    "", gates=("learned",), minimum=0.0,
    statistic="(E‖g_S‖² − E‖g_TS‖²) / E‖g_TS‖² over the measured mini-batch gradients: both estimators are unbiased for "
              "the same gradient (Corollary 1.1), so the gap of second moments is the gap of the covariance traces "
              "(Theorem 2's quantity; the traces themselves are in the numbers); 95% percentile bootstrap over the "
              "batches; minimum 0 (the theorem is an inequality)")
GAP_MATCHES_MOMENTS = Claim(
    "upweight.fig3.gap_matches_per_task_moments", PAPER, "beyond the paper: Theorem 2 with per-task moments, Fig. 3",
    "The measured variance gap is the one predicted from the per-task gradient second moments m_i "
    "(Σ_i p(i;τ)(w_i − 1) m_i / batch size), not necessarily (F(τ) − 1)·m.",
    "", gates=("learned",), minimum=0.0,
    statistic="measured gap (E‖g_S‖² − E‖g_TS‖², bootstrap over the batches) / predicted gap (`theory.variance_gap` "
              "with the measured m_i, divided by the batch size). Two-sided: holds when the 95% interval lies within "
              "[1/2, 2], does not hold when it lies outside it, inconclusive otherwise (the prediction's own sampling "
              "error, from a few single-example gradients per task, is not in the interval)")
MATCH_BAND = (0.5, 2.0)

FIG3_CLAIMS = (NORMS_VARY_MORE, SECOND_MOMENT_GAP, GAP_MATCHES_MOMENTS)


def _log_variance_ratio(a, b, axis=-1):
    return np.log(np.var(a, ddof=1, axis=axis) / np.var(b, ddof=1, axis=axis))


def _relative_second_moment_gap(a, b, axis=-1):
    sb = np.mean(np.square(b), axis=axis)
    return (np.mean(np.square(a), axis=axis) - sb) / sb


def _within(claim: Claim, gate_list, effect: Effect | None, band, scope: str, note: str = "", **numbers) -> Verdict:
    """Two-sided decision: holds when the interval lies inside `band`, does not hold when it
    lies outside it, inconclusive otherwise (gates first, as in `core.decide`)."""
    if any(not g.passed for g in gate_list):
        return judge(claim, gate_list, effect, scope, **numbers)  # out of regime, with the failed gates as the note
    if effect is None or too_few_seeds(effect):
        status = INCONCLUSIVE
        if effect is not None:
            note = "; ".join(filter(None, [note, f"{min(effect.seeds)} seed(s) in an arm: a verdict needs ≥ {MIN_SEEDS}"]))
    elif band[0] <= effect.low and effect.high <= band[1]:
        status = HOLDS
    elif effect.high < band[0] or effect.low > band[1]:
        status = FAILS
    else:
        status = INCONCLUSIVE
    if effect is not None:  # two one-sided tests against a band, not one test: outside `core.multiplicity`'s family
        effect = dataclasses.replace(effect, df=None)
    return Verdict(claim, status, effect, tuple(gate_list), numbers, note, scope)


def fig3_gradient_variance(results: dict, run, hrl: str) -> list:
    """B1: results = {checkpoint name: `gradvar.measure(...)` output}; run: the τ=5 run the
    checkpoints come from (its end is what `learned` is measured on: a condition on the run,
    which every checkpoint's verdicts carry, the init one's included; its text says so)."""
    import pandas as pd

    from .. import store

    final = store.final_metrics(run)
    rows = pd.DataFrame([{"run_obj": run, **final}])
    at_end = learned_of(rows, hrl)
    last = f"step {int(final['step'])}"
    verdicts = []
    for name, v in results.items():
        learned = _with_arm(at_end, f"τ=5 run at its end ({last})" + ("" if name == last else f", not at {name}"))
        ts_norms, s_norms = np.asarray(v["TS"]["norms"]), np.asarray(v["S"]["norms"])
        ratio = _two_sample(_log_variance_ratio, s_norms, ts_norms, "log variance ratio (S / TS)")
        verdicts.append(judge(NORMS_VARY_MORE, [learned], ratio, name,
                              note="" if ratio is not None else "fewer than 3 batches or a zero variance: no interval",
                              norm_variance_s=v["S"]["norm_variance"], norm_variance_ts=v["TS"]["norm_variance"],
                              ratio=v["S"]["norm_variance"] / v["TS"]["norm_variance"] if v["TS"]["norm_variance"] else None,
                              trace_cov_s=v["S"]["trace_cov"], trace_cov_ts=v["TS"]["trace_cov"], batches=len(ts_norms)))
        gap = _two_sample(_relative_second_moment_gap, s_norms, ts_norms, "fraction of E‖g_TS‖²")
        verdicts.append(judge(SECOND_MOMENT_GAP, [learned], gap, name,
                              second_moment_s=float(np.mean(s_norms ** 2)), second_moment_ts=float(np.mean(ts_norms ** 2)),
                              trace_cov_s=v["S"]["trace_cov"], trace_cov_ts=v["TS"]["trace_cov"]))
        predicted = v["gap_predicted"]
        match = None
        if predicted:
            def to_prediction(a, b, axis=-1, p=predicted):
                return (np.mean(np.square(a), axis=axis) - np.mean(np.square(b), axis=axis)) / p
            match = _two_sample(to_prediction, s_norms, ts_norms, "measured / predicted gap")
        verdicts.append(_within(GAP_MATCHES_MOMENTS, [learned], match, MATCH_BAND, name,
                                "" if predicted else "the predicted gap is 0 (equal task sizes: the two methods coincide)",
                                gap_measured_trace=v["gap_measured"], gap_predicted=predicted,
                                gap_equal_moments=v["gap_equal_moments"], second_moments=v["second_moments"]))
    return verdicts


# ------------------------------------------------------------------ Fig. 4, 8, 9: sampling vs weighting (B2)

LARGE_TAUS = (3.0, 5.0)   # "when using a large temperature (τ = 3, 5)"
OVERFIT_MINIMUM = 0.05    # nats: the rise is measured from the curve's selected minimum, biased upward

SAMPLING_CONVERGES_FASTER = Claim(
    "upweight.fig4.sampling_converges_faster", PAPER, "§3.2, Fig. 4 (Fig. 8)",
    "TS consistently converges faster than scalarization across all temperatures we experimented with.",
    "Fig. 4/8 curves, τ ∈ {2, 3, 5} (no number given)", gates=("learned",), minimum=MINIMUM,
    statistic="mean LRL validation loss over the evaluations both runs share after step 0 (area under the curve), "
              "scalarization minus temperature sampling, per task pair and τ (scope), paired over sentences; gate: "
              "both runs learned the HRL")
SAMPLING_BEATS_WEIGHTING = Claim(
    "upweight.fig4.sampling_beats_weighting", PAPER, "Fig. 4 caption",
    "Temperature Sampling (dashed) converges faster compared to Scalarization (solid), leading to better performance "
    "on both the HRL and the LRL.",
    "Fig. 4 curves (no number given)", gates=("learned",), minimum=MINIMUM,
    statistic="best validation loss of each run (its lowest evaluation: early stopping, which the paper pairs with "
              "large τ), scalarization minus temperature sampling, per task pair, τ and task (scope); gate: both runs "
              "learned the HRL")
GAP_GROWS_WITH_TAU = Claim(
    "upweight.fig4.gap_grows_with_tau", PAPER, "§3.2, Fig. 4; Theorem 3",
    "Notably, the larger the temperature, the greater the gap in convergence speed between TS and Scalarization.",
    "", gates=("learned",), minimum=MINIMUM,
    statistic="[scalarization − temperature sampling mean LRL loss over the run] at the largest τ minus the same at the "
              "smallest τ, per task pair; the four runs' sentences resampled jointly; gate: every run learned the HRL")
LARGE_TAU_OVERFITS = Claim(
    "upweight.fig4.large_tau_overfits_lrl", PAPER, "§3.2",
    "We observed that the model overfits the low-resource direction (Ro) when using a large temperature (τ = 3, 5).",
    "", gates=("learned",), minimum=OVERFIT_MINIMUM,
    statistic="temperature sampling at τ ∈ {3, 5}: LRL validation loss at the end minus at the minimum of the "
              "seed-mean curve before the end, the same runs at two evaluations (paired over seeds and sentences); minimum 0.05 nats "
              "because selecting the minimum biases the rise upward; gate: the run learned the HRL")
HRL_STILL_IMPROVING = Claim(
    "upweight.fig4.hrl_improving_when_lrl_overfits", PAPER, "§3.2",
    "However, the high-resource direction has not yet converged when this overfitting occurs.",
    "", gates=("learned", "overfits"), minimum=MINIMUM,
    statistic="temperature sampling at τ ∈ {3, 5}: HRL validation loss at the LRL's minimum minus at the end (same "
              "runs, paired); gates: learned, and the LRL overfits (`gates.overfits`)")
WITHOUT_CLIPPING = Claim(
    "upweight.fig4.sampling_beats_weighting_without_clipping", PAPER, "Fig. 4 caption; App. D (no gradient clipping)",
    "Temperature Sampling (dashed) converges faster compared to Scalarization (solid), leading to better performance "
    "on both the HRL and the LRL. [judged on runs without gradient clipping, as the paper trains]",
    "", gates=("learned",), minimum=MINIMUM,
    statistic="best LRL validation loss, scalarization minus temperature sampling, on the runs trained without gradient "
              "clipping (the paper's fairseq setting; ours clip at 1.0) at the largest τ of the first pair; the same "
              "comparison on the clipped runs of that cell is in the numbers: when both hold, the verdict of "
              "sampling_beats_weighting does not depend on clipping; gate: both runs learned the HRL")
TAU_MOVES_LRL_MORE = Claim(
    "upweight.fig9.tau_moves_lrl_more_than_hrl", PAPER, "App. E, Fig. 9",
    "Adjusting the sampling temperature has little impact on the high-resource language but a high impact on the "
    "low-resource language.",
    "Fig. 9 curves (no number given)", gates=("learned",), minimum=0.05,
    statistic="|effect of τ on the LRL| − |effect of τ on the HRL|, each the mean validation loss over the run at the "
              "smallest minus at the largest τ (temperature sampling, clipped runs), per task pair. Both moves come from the "
              "same runs, and a seed's overall quality moves both tasks, so they are correlated (their SEs do not add "
              "in quadrature): one bootstrap draws each τ's seeds once for both tasks and each task's sentences. "
              "|L| − |H| = min(sL − H, sL + H), s the sign of L's estimate: holds when both contrasts' lower bounds "
              "(estimate − t × bootstrap SE, t on the seeds) are above 0 (intersection-union; |.| itself is not "
              "bootstrapped: near a sign change it clips the resamples and shrinks the SE) and the estimate is at "
              "least 0.05 nats; does not hold when the upper bound, from both contrasts' Bonferroni bounds, is below "
              "0.05; gate: both runs learned the HRL")

EQUIVALENCE_BAND = 0.05  # nats: "the same validation loss" allows this much either way
SAME_LOSS_GIVEN_COMPUTE = Claim(
    "upweight.fig4.same_loss_given_compute", PAPER, "§3.2, Fig. 4; Theorem 1",
    "[Temperature Sampling and Scalarization] eventually converge to the same validation loss given enough training "
    "iterations, which corresponds to their equivalency under full gradient descent.",
    "Fig. 4 curves (no number given)", gates=("learned", "settled"), minimum=0.0,
    statistic=f"final validation loss, scalarization minus temperature sampling, per task pair, τ and task (scope), "
              f"paired over sentences. Two-sided (an equivalence): holds when the 95% interval lies within "
              f"±{EQUIVALENCE_BAND:g} nats, does not hold when it lies outside that band, inconclusive otherwise; "
              f"gates: both runs learned the HRL, and both runs' loss on the task moved by less than "
              f"{EQUIVALENCE_BAND / 2:g} nats (half the band) over the last quarter of training (settled: 'given enough training "
              f"iterations' -- where a run is still moving, where it ends is not where it converges)")

FIG4_CLAIMS = (SAMPLING_CONVERGES_FASTER, SAMPLING_BEATS_WEIGHTING, GAP_GROWS_WITH_TAU, LARGE_TAU_OVERFITS,
               HRL_STILL_IMPROVING, WITHOUT_CLIPPING, TAU_MOVES_LRL_MORE, SAME_LOSS_GIVEN_COMPUTE)


def _same_loss(t_rows, s_rows, task: str, learned: list, scope: str) -> Verdict:
    """SAME_LOSS_GIVEN_COMPUTE on one cell: final loss, scalarization minus temperature
    sampling, against the two-sided band, each arm first checked for having settled."""
    settled = []
    for name, rows in (("TS", t_rows), ("S", s_rows)):
        steps, curve = evidence.mean_curve(rows, task)
        settled.append(_with_arm(gates.settled(task, steps, curve, EQUIVALENCE_BAND / 2), name))
    (a, tokens), (b, _) = evidence.arm(t_rows, task, "final"), evidence.arm(s_rows, task, "final")
    return _within(SAME_LOSS_GIVEN_COMPUTE, learned + settled, loss_gain(a, b, tokens),
                   (-EQUIVALENCE_BAND, EQUIVALENCE_BAND), scope,
                   final_ts=evidence.mean_final(t_rows, f"valid_loss.{task}"),
                   final_s=evidence.mean_final(s_rows, f"valid_loss.{task}"))


def fig4_sampling_vs_weighting(df, pairs: dict, taus, clipped: str = "1.0", unclipped: str = "off") -> list:
    """B2: df has one row per run with 'taskset', 'tau', 'method' (temperature sampling |
    scalarization), 'clipping' and 'seed' columns; pairs = {taskset: (hrl, lrl)}."""
    taus = sorted(taus)
    main = df[df.clipping == clipped]
    verdicts = []

    def arms(frame, ts, tau):
        cell = frame[(frame.taskset == ts) & (frame.tau == tau)]
        return cell[cell.method == SAMPLING], cell[cell.method == WEIGHTING]

    for ts, (hrl, lrl) in pairs.items():
        learned = {}
        for tau in taus:
            t_rows, s_rows = arms(main, ts, tau)
            learned[tau] = [learned_of(t_rows, hrl, arm=f"TS τ={tau:g}"), learned_of(s_rows, hrl, arm=f"S τ={tau:g}")]
            steps = _shared_steps(t_rows, s_rows)
            (a, tokens), (b, _) = _over_run(t_rows, lrl, steps), _over_run(s_rows, lrl, steps)
            verdicts.append(judge(SAMPLING_CONVERGES_FASTER, learned[tau], loss_gain(a, b, tokens), f"{ts} τ={tau:g}",
                                  evaluations=len(steps)))
            for task in (hrl, lrl):
                (a, tokens), (b, _) = evidence.arm(t_rows, task, "best"), evidence.arm(s_rows, task, "best")
                verdicts.append(judge(SAMPLING_BEATS_WEIGHTING, learned[tau], loss_gain(a, b, tokens), f"{ts} τ={tau:g} {task}",
                                      best_ts=evidence.mean_final(t_rows, f"best_valid_loss.{task}"),
                                      best_s=evidence.mean_final(s_rows, f"best_valid_loss.{task}")))
                verdicts.append(_same_loss(t_rows, s_rows, task, learned[tau], f"{ts} τ={tau:g} {task}"))
        # the gap grows with τ: smallest vs largest τ
        lo, hi = taus[0], taus[-1]
        (t_lo, s_lo), (t_hi, s_hi) = arms(main, ts, lo), arms(main, ts, hi)
        steps = _shared_steps(t_lo, s_lo, t_hi, s_hi)
        (a_hi, tokens), (b_hi, _), (a_lo, _), (b_lo, _) = (_over_run(r, lrl, steps) for r in (t_hi, s_hi, t_lo, s_lo))
        by_tau = {}
        for tau in taus:
            t_rows, s_rows = arms(main, ts, tau)
            st = _shared_steps(t_rows, s_rows)
            by_tau[f"{tau:g}"] = (stats.point_loss(*_over_run(s_rows, lrl, st)) - stats.point_loss(*_over_run(t_rows, lrl, st)))
        verdicts.append(judge(GAP_GROWS_WITH_TAU, learned[lo] + learned[hi],
                              stats.loss_contrast([(1.0, a_hi, b_hi), (-1.0, a_lo, b_lo)], tokens), f"{ts} τ={hi:g} vs τ={lo:g}",
                              mean_lrl_gap_by_tau=by_tau))
        # large τ overfits the LRL while the HRL still improves
        for tau in (t for t in taus if t in LARGE_TAUS):
            t_rows, _ = arms(main, ts, tau)
            steps, mean, at_min, at_end = evidence.minimum_and_end(t_rows, lrl)
            best = steps[int(np.argmin(mean))]
            rise, before_end_step, last_step = evidence.rise_after_minimum(t_rows, lrl)
            verdicts.append(judge(LARGE_TAU_OVERFITS, learned[tau][:1], rise, f"{ts} τ={tau:g}",
                                  lrl_min_step=before_end_step, last_step=last_step))
            overfit = gates.overfits(lrl, steps, mean, at_min, at_end)
            verdicts.append(judge(HRL_STILL_IMPROVING, [learned[tau][0], overfit], evidence.fall_after(t_rows, hrl, best),
                                  f"{ts} τ={tau:g}", lrl_min_step=best))
        # Fig. 9: τ moves the LRL more than the HRL
        (t_lo, _), (t_hi, _) = arms(main, ts, lo), arms(main, ts, hi)
        steps = _shared_steps(t_lo, t_hi)
        at_lo, at_hi = ({task: _over_run(rows, task, steps) for task in (hrl, lrl)} for rows in (t_lo, t_hi))
        moved = {task: loss_gain(at_hi[task][0], at_lo[task][0], at_hi[task][1]) for task in (hrl, lrl)}  # smallest τ minus largest
        verdicts.append(judge(TAU_MOVES_LRL_MORE, [learned[lo][0], learned[hi][0]], _moved_more(at_lo, at_hi, lrl, hrl),
                              f"{ts} τ={lo:g} vs τ={hi:g}", lrl_effect=str(moved[lrl]), hrl_effect=str(moved[hrl])))
    # gradient clipping: the largest τ on the first pair, without clipping
    ts, (hrl, lrl) = next(iter(pairs.items()))
    t_rows, s_rows = arms(df[df.clipping == unclipped], ts, taus[-1])
    if len(t_rows) and len(s_rows):
        (a, tokens), (b, _) = evidence.arm(t_rows, lrl, "best"), evidence.arm(s_rows, lrl, "best")
        tc, sc = arms(main, ts, taus[-1])
        (ac, ctokens), (bc, _) = evidence.arm(tc, lrl, "best"), evidence.arm(sc, lrl, "best")
        verdicts.append(judge(WITHOUT_CLIPPING,
                              [learned_of(t_rows, hrl, arm="TS, no clipping"), learned_of(s_rows, hrl, arm="S, no clipping")],
                              loss_gain(a, b, tokens), f"{ts} τ={taus[-1]:g}, no clipping",
                              clipped_effect=str(loss_gain(ac, bc, ctokens))))
    return verdicts


# ------------------------------------------------------------------ Table 3: one-to-many translation (B4)

BLEU_MINIMUM = 0.5    # BLEU points: the smallest difference that counts (Order Matters' SCORE_MINIMUM)
BLEU_TOLERANCE = 1.0  # BLEU points: the paper's own "close" band (Table 3 colours scores within 1 of the best)
TABLE3_BASIS = (" Judged twice (scope): on sacreBLEU, the paper's metric -- the average of each seed's corpus BLEU "
                f"over the group's tasks; interval: {stats.SCORE_INTERVAL} (so inconclusive with one seed per "
                f"method), minimum {BLEU_MINIMUM} BLEU, tolerance {BLEU_TOLERANCE} BLEU where the loss has one; "
                "gate 'scored': both methods' BLEU ≥ 10 on the group -- and on "
                "validation loss (the tasks' losses averaged with equal weight, paired over sentences). Gate: τ=1 "
                "learned every HRL (1 nat below the bigram or BLEU ≥ 10)")

LRL_OVER_TAU1 = Claim(
    "upweight.table3.cooldown_improves_lrl_over_tau1", PAPER, "§4.2, Table 3",
    "Compared to proportional sampling (τ = 1), COOLDOWN is able to greatly improve the mid and low-resource languages "
    "(+0.7 and 3.1 BLEU).",
    "Table 3 LRL average: τ=1 30.4, COOLDOWN 32.4 BLEU", gates=("learned", "scored"), minimum=MINIMUM,
    statistic="LRL average, τ=1 minus COOLDOWN (loss; BLEU: COOLDOWN minus τ=1); the mid-resource average too "
              "(scope) where the task set has a mid group (the text's +0.7 BLEU; Table 3's own gl and hi columns average 23.0 "
              "for both τ=1 and COOLDOWN)." + TABLE3_BASIS)
HRL_VS_TAU1 = Claim(
    "upweight.table3.cooldown_keeps_hrl_vs_tau1", PAPER, "§4.2, Table 3",
    "... while minimally sacrificing the performance of high-resource languages (-0.2 BLEU).",
    "Table 3 HRL average: τ=1 28.3, COOLDOWN 28.1 BLEU", gates=("learned", "scored"), minimum=0.0,
    statistic=f"HRL average, τ=1 minus COOLDOWN plus a tolerance of {HRL_TOLERANCE} nats (holds when COOLDOWN is not "
              "worse by more than that; BLEU: the paper's 'close' band is 1 BLEU)." + TABLE3_BASIS)
HRL_OVER_TAU5 = Claim(
    "upweight.table3.cooldown_beats_tau5_hrl", PAPER, "§4.2, Table 3",
    "Compared to static up-sampling τ = 5, COOLDOWN ... [improves] the performance of high-resource languages by 1.5 BLEU.",
    "Table 3 HRL average: τ=5 26.6, COOLDOWN 28.1 BLEU", gates=("learned", "scored"), minimum=MINIMUM,
    statistic="HRL average, τ=5 minus COOLDOWN." + TABLE3_BASIS)
LRL_VS_TAU5 = Claim(
    "upweight.table3.cooldown_matches_tau5_lrl", PAPER, "§4.2, Table 3",
    "Compared to static up-sampling τ = 5, COOLDOWN matches the performance of mid- and low-resource languages.",
    "Table 3 LRL average: τ=5 32.4, COOLDOWN 32.4 BLEU", gates=("learned", "scored"), minimum=0.0,
    statistic=f"LRL average, τ=5 minus COOLDOWN plus a tolerance of {HRL_TOLERANCE} nats; the mid-resource average "
              "too (scope) where the task set has a mid group." + TABLE3_BASIS)
HRL_OVER_DYNAMIC = Claim(
    "upweight.table3.cooldown_beats_dynamic_hrl", PAPER, "§4.2, Table 3",
    "Our method also outperforms the performance of Unimax and Order Matters scheduling while being easier to implement.",
    "Table 3 HRL average: UniMax 26.7, Order Matters 26.7, COOLDOWN 28.1 BLEU", gates=("learned", "scored"), minimum=MINIMUM,
    statistic="HRL average, UniMax (scope) or Order Matters (scope) minus COOLDOWN -- the average on which the paper's "
              "table shows COOLDOWN ahead (+1.4 BLEU); its LRL lead (+0.3/+0.1) is cooldown_matches_dynamic_lrl."
              + TABLE3_BASIS)
LRL_VS_DYNAMIC = Claim(
    "upweight.table3.cooldown_matches_dynamic_lrl", PAPER, "§4.2, Table 3",
    "Our method also outperforms the performance of Unimax and Order Matters scheduling while being easier to implement.",
    "Table 3 LRL average: UniMax 32.1, Order Matters 32.3, COOLDOWN 32.4 BLEU (within the paper's 1-BLEU 'close' band)",
    gates=("learned", "scored"), minimum=0.0,
    statistic=f"LRL average, UniMax (scope) or Order Matters (scope) minus COOLDOWN plus a tolerance of {HRL_TOLERANCE} "
              "nats: the paper's LRL lead is within its own 'close' band, so not being worse is what its table shows."
              + TABLE3_BASIS)
MATCHES_DOREMI = Claim(
    "upweight.table3.cooldown_matches_doremi", PAPER, "§4.2, Table 3",
    "COOLDOWN is able to match the performance of DoReMi without having to train multiple proxy models.",
    "Table 3: HRL average DoReMi 26.7, COOLDOWN 28.1; LRL average 32.4 both", gates=("learned", "scored"), minimum=0.0,
    statistic=f"HRL average (scope) and LRL average (scope), DoReMi minus COOLDOWN plus a tolerance of {HRL_TOLERANCE} "
              "nats." + TABLE3_BASIS)

BLEU_NOTE = "one seed per method: the BLEU difference is reported without an interval"

TABLE3_CLAIMS = (LRL_OVER_TAU1, HRL_VS_TAU1, HRL_OVER_TAU5, LRL_VS_TAU5, HRL_OVER_DYNAMIC, LRL_VS_DYNAMIC, MATCHES_DOREMI)


def table3_one_to_many(df, hrls, lrls, mids=()) -> list:
    """B4: df has one row per run ('method' column: τ=1 (proportional), τ=5, τ=100
    (≈uniform), UniMax, Order Matters, COOLDOWN, DoReMi; one run per seed) with final valid_loss.*
    and bleu.* columns; hrls / lrls: the tasks of the HRL and LRL averages; mids: the mid-resource tasks
    (Table 3's 500K-1M group), whose average the paper's mid/low claims are judged on too."""
    by = {m: df[df.method == m] for m in df.method.unique()}
    learned = [learned_of(by[TAU1], t, arm="τ=1") for t in hrls]
    groups = {"HRL average": list(hrls), "LRL average": list(lrls), "mid average": list(mids)}
    verdicts = []

    def in_seed_order(method):
        rows = by[method]
        return rows.sort_values("seed") if "seed" in rows else rows

    def bleu_per_seed(method, tasks):
        """(1, seeds): each seed's BLEU averaged over `tasks`, in seed order; None without BLEU."""
        rows, cols = in_seed_order(method), [f"bleu.{t}" for t in tasks]
        if not all(c in rows for c in cols):
            return None
        return rows[cols].to_numpy(dtype=float).mean(axis=1)[None, :]

    def bleu_segments(method, other, tasks):
        """`stats.score_gain`'s segments: per task, both methods' test segments' BLEU statistics
        (rows in `bleu_per_seed`'s order); None when a run kept none."""
        rows = [[in_seed_order(m)] for m in (method, other)]
        terms = [evidence.test_segments(*rows, task, "bleu") for task in tasks]
        return None if any(t is None for t in terms) else terms

    def both(claim, other, average, tolerance=None, scope=""):
        tasks = groups[average]
        (a, tokens), (b, _) = _average(by[COOLDOWN], tasks), _average(by[other], tasks)
        gain = loss_gain(a, b, tokens)
        loss_effect = shifted(gain, tolerance) if tolerance is not None else gain
        label = scope or average
        cd_b, other_b = bleu_per_seed(COOLDOWN, tasks), bleu_per_seed(other, tasks)
        segments = bleu_segments(COOLDOWN, other, tasks)
        bleu_gain = (None if cd_b is None or other_b is None
                     else stats.score_gain(cd_b, other_b, unit="BLEU", segments=segments))
        if bleu_gain is not None and tolerance is not None:
            bleu_gain = shifted(bleu_gain, BLEU_TOLERANCE)
        bleu_numbers = dict(bleu_cooldown=None if cd_b is None else float(cd_b.mean()),
                            bleu_other=None if other_b is None else float(other_b.mean()),
                            bleu_difference=None if cd_b is None or other_b is None else float(cd_b.mean() - other_b.mean()),
                            test_segments_resampled=bleu_gain is not None and segments is not None)
        bleu_gates = learned if cd_b is None or other_b is None else \
            learned + [gates.scored(label, {COOLDOWN: float(cd_b.mean()), other: float(other_b.mean())})]
        in_regime = all(g.passed for g in bleu_gates)
        # "not worse" claims (a tolerance) keep minimum 0; "better" ones need BLEU_MINIMUM points
        on_bleu = claim if tolerance is not None else dataclasses.replace(claim, minimum=BLEU_MINIMUM)
        verdicts.append(judge(on_bleu, bleu_gates, bleu_gain, f"{label}: BLEU",
                              note=BLEU_NOTE if in_regime and bleu_gain is None else "",
                              compared_with=other, **bleu_numbers))
        verdicts.append(judge(claim, learned, loss_effect, f"{label}: validation loss", compared_with=other,
                              loss_cooldown=stats.point_loss(a, tokens), loss_other=stats.point_loss(b, tokens)))

    both(LRL_OVER_TAU1, TAU1, "LRL average")
    both(HRL_VS_TAU1, TAU1, "HRL average", HRL_TOLERANCE)
    both(HRL_OVER_TAU5, TAU5, "HRL average")
    both(LRL_VS_TAU5, TAU5, "LRL average", HRL_TOLERANCE)
    if mids:  # "the mid and low-resource languages (+0.7 and 3.1 BLEU)", "matches ... mid- and low-resource"
        both(LRL_OVER_TAU1, TAU1, "mid average")
        both(LRL_VS_TAU5, TAU5, "mid average", HRL_TOLERANCE)
    for other in (UNIMAX, ORDER_MATTERS):
        both(HRL_OVER_DYNAMIC, other, "HRL average", scope=f"{other}, HRL average")
    for other in (UNIMAX, ORDER_MATTERS):
        both(LRL_VS_DYNAMIC, other, "LRL average", HRL_TOLERANCE, scope=f"{other}, LRL average")
    if DOREMI in by:
        for average in ("HRL average", "LRL average"):
            both(MATCHES_DOREMI, DOREMI, average, HRL_TOLERANCE)
    return verdicts


# ------------------------------------------------------------------ Table 4: multilingual language modelling (B5)

TEMPERATURE_METHODS = (TAU1, TAU5, TAU100, ORDER_MATTERS, UNIMAX)
LM_GATE_TEXT = (f"gate: τ=1 learned English, {gates.LM_LEARNED_MARGIN} nats below the LM bigram (`gates.LM_LEARNED_MARGIN`: an LM "
                "has no source, so the translation margin of 1 nat does not carry over)")

BEST_ON_LRLS = Claim(
    "upweight.table4.cooldown_best_on_lrls", PAPER, "§4.2, Table 4",
    "COOLDOWN achieves the best performance on all three LRLs (IT, ZH, and SW).",
    "Table 4: COOLDOWN IT 2.63, ZH 2.56, SW 2.94; best other temperature method IT 2.76, ZH 2.76, SW 3.01 "
    "(DoReMi: 2.63, 2.51, 2.89)", gates=("learned",), minimum=MINIMUM,
    statistic="per non-English language (scope): the best of the other temperature-sampling methods (τ=1, τ=5, "
              "τ=100, Order Matters, UniMax; re-chosen in every resample) minus COOLDOWN, final validation loss. DoReMi "
              "(the paper's 'with proxy model training' row, which its own table shows ahead on ZH and SW) is not in "
              "the comparison; its loss is in the numbers. " + LM_GATE_TEXT)
SECOND_ON_ENGLISH = Claim(
    "upweight.table4.cooldown_second_on_english", PAPER, "§4.2, Table 4",
    "On the only HRL English, COOLDOWN is only behind proportional sampling (τ=1).",
    "Table 4 EN: τ=1 2.67, COOLDOWN 2.75, next Order Matters 2.77", gates=("learned",), minimum=0.0,
    statistic="English: the best of τ=5, τ=100, Order Matters, UniMax and DoReMi (every row of the table but τ=1; "
              "the paper's own DoReMi is behind COOLDOWN there, 2.89 vs 2.75) minus COOLDOWN, final validation loss; "
              "minimum 0 (a ranking; the paper's own margin over the next method is 0.02 nats); the τ=1 gap is in the "
              "numbers. " + LM_GATE_TEXT)

TAU1_TRADES = Claim(
    "upweight.table4.tau1_trades_others_for_english", PAPER, "§4.2, Table 4 caption",
    "On the only HRL English, COOLDOWN is only behind proportional sampling (τ = 1), which is heavily optimized "
    "towards performance on English by sacrificing performance on all other languages.",
    "Table 4: τ=1 EN 2.67 (best), IT 3.10, ZH 4.23, SW 4.09 (worst of every method on IT, ZH and SW)",
    gates=("learned",), minimum=MINIMUM,
    statistic="scope English: the best of every other method (τ=5, τ=100, Order Matters, UniMax, COOLDOWN, DoReMi; "
              "re-chosen in every resample) minus τ=1 -- τ=1 best on English; scope each other language: τ=1 minus each "
              "of those methods -- EVERY one of them beats τ=1 there ('sacrificing performance on all other languages'; "
              "the paper's τ=1 is the worst row on IT, ZH and SW): holds when every per-method lower bound is above 0 "
              "(an intersection-union test) and the smallest gap is at least the minimum, does not hold when some "
              "method's upper bound (Bonferroni over the methods) is below the minimum; the estimate is the smallest "
              "gap, the closest method and every gap are in the numbers; final validation loss. " + LM_GATE_TEXT)

TABLE4_CLAIMS = (BEST_ON_LRLS, SECOND_ON_ENGLISH, TAU1_TRADES)


def table4_multilingual_lm(df, english: str, lrls) -> list:
    """B5: df has one row per run ('method' column as in Table 3; one run per seed) with final valid_loss.*;
    english: the one high-resource language; lrls: the others."""
    by = {m: df[df.method == m] for m in df.method.unique()}
    learned = [learned_of(by[TAU1], english, lm=True, arm="τ=1")]
    verdicts = []
    others = [m for m in TEMPERATURE_METHODS if m in by]
    for lang in lrls:
        (b, tokens), (a, _) = _best_of([by[m] for m in others], [lang]), _average(by[COOLDOWN], [lang])
        verdicts.append(judge(BEST_ON_LRLS, learned, loss_gain(a, b, tokens), lang,
                              loss_by_method={m: evidence.mean_final(by[m], f"valid_loss.{lang}") for m in by}))
    rest = [m for m in by if m not in (TAU1, COOLDOWN)]  # "only behind τ=1": DoReMi's row included
    if rest:
        (b, tokens), (a, _) = _best_of([by[m] for m in rest], [english]), _average(by[COOLDOWN], [english])
        verdicts.append(judge(SECOND_ON_ENGLISH, learned, loss_gain(a, b, tokens), english,
                              loss_by_method={m: evidence.mean_final(by[m], f"valid_loss.{english}") for m in by}))
    balanced = [m for m in by if m != TAU1]  # every other method of the table
    if TAU1 in by and balanced:
        (b, tokens), (t1, _) = _best_of([by[m] for m in balanced], [english]), _average(by[TAU1], [english])
        losses = {m: float(s) for m, s in zip(balanced, stats.seed_mean_losses(b, tokens))}
        verdicts.append(judge(TAU1_TRADES, learned, loss_gain(t1, b, tokens), english,
                              loss_tau1=stats.point_loss(t1, tokens), best_other=stats.point_loss(b, tokens),
                              closest=min(losses, key=losses.get), loss_by_method=losses))
        for lang in lrls:  # "sacrificing performance on all other languages": every other method beats τ=1
            t1, tokens = _average(by[TAU1], [lang])
            effect, gaps = _every_beats(t1, {m: _average(by[m], [lang])[0] for m in balanced}, tokens)
            closest = min(gaps, key=lambda m: gaps[m].estimate)
            verdicts.append(judge(TAU1_TRADES, learned, effect, lang, loss_tau1=stats.point_loss(t1, tokens),
                                  closest=closest, closest_gap=str(gaps[closest]),
                                  gap_by_method={m: e.estimate for m, e in gaps.items()}))
    return verdicts


# ------------------------------------------------------------------ Fig. 5-7: temperature schedules (B6)


DECREASING_BEATS_INCREASING = Claim(
    "upweight.fig7.decreasing_beats_increasing_lrl", PAPER, "§4.3, Fig. 7 (the text's Figure 8)",
    "A decreasing schedule (dashed) converges faster and results in better performance on the LRL compared to an "
    "increasing schedule (solid).",
    "Fig. 7 curves, En-{Zh, Ro} (no number given)", gates=("learned",), minimum=MINIMUM,
    statistic="final LRL validation loss, increasing (1 then 5) minus decreasing (5 then 1); gate: both runs learned "
              "the HRL")
DECREASING_FASTER = Claim(
    "upweight.fig7.decreasing_converges_faster_lrl", PAPER, "§4.3, Fig. 7 (the text's Figure 8)",
    "A decreasing schedule (dashed) converges faster and results in better performance on the LRL compared to an "
    "increasing schedule (solid).",
    "Fig. 7 curves (no number given)", gates=("learned",), minimum=MINIMUM,
    statistic="mean LRL validation loss over the evaluations both runs share after step 0, increasing minus "
              "decreasing; gate: both runs learned the HRL")
DECREASING_KEEPS_HRL = Claim(
    "upweight.fig7.decreasing_keeps_hrl", PAPER, "§4.3, Fig. 7",
    "A decreasing temperature schedule outperforms an increasing one on the LRL with minimal sacrifice on the HRL.",
    "Fig. 7 curves (no number given)", gates=("learned",), minimum=0.0,
    statistic=f"final HRL validation loss, increasing minus decreasing, plus a tolerance of {HRL_TOLERANCE} nats "
              "(holds when the decreasing schedule is not worse by more than that); gate: both runs learned the HRL")
SPARSE_BEATS_DENSE = Claim(
    "upweight.fig6.sparse_beats_dense", PAPER, "§4.3, Fig. 5-6",
    "Sparse updates perform better than dense updates.",
    "Fig. 6 (mC4): COOLDOWN EN 2.59, IT 2.63, ZH 2.56, SW 2.94; dense updates EN 3.17/3.31, IT 2.89/3.02, "
    "ZH 2.85/3.35, SW 3.11/3.16", gates=("learned",), minimum=MINIMUM,
    statistic="per language (scope): the better of the dense schedules (re-chosen in every resample) minus the sparse "
              f"one, final validation loss; gate: every run learned English ({gates.LM_LEARNED_MARGIN} nats below the LM "
              "bigram)")

SCHEDULE_CLAIMS = (DECREASING_BEATS_INCREASING, DECREASING_FASTER, DECREASING_KEEPS_HRL, SPARSE_BEATS_DENSE)


def fig5_7_schedules(mt, lm, hrl: str, lrl: str, langs) -> list:
    """B6: mt has one row per run with a 'schedule' column (decreasing 5→1 | increasing 1→5);
    lm likewise (sparse (5, then 1) | dense ...); langs: the LM's languages, English first."""
    dec, inc = mt[mt.schedule == DECREASING], mt[mt.schedule == INCREASING]
    learned = [learned_of(dec, hrl, arm=DECREASING), learned_of(inc, hrl, arm=INCREASING)]
    (a, tokens), (b, _) = evidence.arm(dec, lrl), evidence.arm(inc, lrl)
    verdicts = [judge(DECREASING_BEATS_INCREASING, learned, loss_gain(a, b, tokens), lrl,
                      lrl_decreasing=evidence.mean_final(dec, f"valid_loss.{lrl}"),
                      lrl_increasing=evidence.mean_final(inc, f"valid_loss.{lrl}"))]
    steps = _shared_steps(dec, inc)
    (a, tokens), (b, _) = _over_run(dec, lrl, steps), _over_run(inc, lrl, steps)
    verdicts.append(judge(DECREASING_FASTER, learned, loss_gain(a, b, tokens), lrl, evaluations=len(steps)))
    (a, tokens), (b, _) = evidence.arm(dec, hrl), evidence.arm(inc, hrl)
    verdicts.append(judge(DECREASING_KEEPS_HRL, learned, shifted(loss_gain(a, b, tokens), HRL_TOLERANCE), hrl,
                          hrl_decreasing=evidence.mean_final(dec, f"valid_loss.{hrl}"),
                          hrl_increasing=evidence.mean_final(inc, f"valid_loss.{hrl}")))
    sparse = lm[lm.schedule == SPARSE]
    dense = {s: lm[lm.schedule == s] for s in lm.schedule.unique() if s != SPARSE}
    lm_learned = [learned_of(sparse, langs[0], lm=True, arm=SPARSE)] + [learned_of(d, langs[0], lm=True, arm=s)
                                                                      for s, d in dense.items()]
    for lang in langs:
        (b, tokens), (a, _) = _best_of(dense.values(), [lang]), _average(sparse, [lang])
        verdicts.append(judge(SPARSE_BEATS_DENSE, lm_learned, loss_gain(a, b, tokens), lang,
                              loss_by_schedule={s: evidence.mean_final(r, f"valid_loss.{lang}") for s, r in
                                                {SPARSE: sparse, **dense}.items()}))
    return verdicts


CLAIMS = CLAIMS + THEORY_CLAIMS + FIG3_CLAIMS + FIG4_CLAIMS + TABLE3_CLAIMS + TABLE4_CLAIMS + SCHEDULE_CLAIMS
