"""Upsample or Upweight? predicates (notebooks B0-B6) on constructed inputs: every outcome
each judge function can return. The theory checks (B0) are exact, so they only hold or do
not hold; the others also come out inconclusive (noise) and out of regime (nothing learned:
the bigram baseline set below the runs' losses)."""

import collections

import numpy as np
import pandas as pd
import pytest

from claimkit import fake_run, fake_staged_run, frame
from paperlib import claims, labels as L, store, theory
from paperlib.claims import core, gates, upweight

HOLDS, FAILS, INCONCLUSIVE, OUT = core.HOLDS, core.FAILS, core.INCONCLUSIVE, core.OUT_OF_REGIME


@pytest.fixture
def bigram(monkeypatch):
    """Set the bigram baseline of every task (the `learned` gate's reference)."""
    def set_to(value):
        monkeypatch.setattr(claims.evidence, "bigram", lambda cfg: collections.defaultdict(lambda: value))
    return set_to


def short(verdict) -> str:
    return verdict.claim.id.split(".", 1)[1]


def per_claim(verdicts) -> dict[str, set]:
    """{claim id without the paper prefix: the statuses of its verdicts (all scopes)}."""
    out = collections.defaultdict(set)
    for v in verdicts:
        out[short(v)].add(v.status)
    return dict(out)


def test_every_new_claim_is_listed_and_judged_somewhere():
    ids = {c.id for c in upweight.CLAIMS}
    assert len(ids) == len(upweight.CLAIMS) and set(claims.CLAIMS) >= ids
    assert all(c.paper == upweight.PAPER and c.statistic and c.gates for c in upweight.CLAIMS)


# ------------------------------------------------------------------ B3: Fig. 1, COOLDOWN (on constructed runs)

# en-fi examples seen at each evaluation (steps 0-300): τ=5 samples it 10x as often as τ=1, and
# COOLDOWN is τ=5 until its switch at step 200, τ=1 after it
SEEN = {L.TAU1: [0, 100, 200, 300], L.TAU5: [0, 1000, 2000, 3000], L.COOLDOWN_FIG1: [0, 1000, 2000, 2100]}


def cooldown_frame(root, tau1, tau5, cooldown, hrl_final=(3.0, 3.0, 3.02), seeds=(0, 1, 2), seen=SEEN):
    rows = []
    for method, lrl_curve, hrl in zip((L.TAU1, L.TAU5, L.COOLDOWN_FIG1), (tau1, tau5, cooldown), hrl_final):
        for seed in seeds:
            run = fake_staged_run(root, f"{method[:3]}-{seed}", {"en-it": [6, 4, 3.5, hrl], "en-fi": lrl_curve},
                                  seed=seed * 10 + len(rows), seen={"en-fi": seen[method], "en-it": [0, 0, 0, 0]})
            last = store.read_metrics(run.dir)[-1]["valid_loss"]
            rows.append({"method": method, "seed": seed, "run_obj": run,
                         "valid_loss.en-it": last["en-it"], "valid_loss.en-fi": last["en-fi"]})
    return pd.DataFrame(rows)


def _statuses(verdicts):
    return {v.claim.id.split(".")[-1]: v.status for v in verdicts}


def test_cooldown_claims_hold_when_the_runs_show_it(tmp_path, bigram):
    bigram(4.6)  # the HRL ends at 3.0: learned
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.5, 5.2], tau5=[7, 4.5, 4.9, 5.3], cooldown=[7, 4.5, 4.45, 4.4])
    assert _statuses(upweight.fig1_cooldown(df, "en-it", "en-fi")) == {
        "cooldown_beats_tau5_lrl": core.HOLDS, "cooldown_does_not_overfit": core.HOLDS,
        "cooldown_beats_tau1_lrl": core.HOLDS, "cooldown_keeps_hrl": core.HOLDS}


@pytest.mark.parametrize("cooldown, status, rise", [
    ([7, 4.5, 4.4, 4.35], core.HOLDS, -0.05),   # still falling at the end: its minimum before the end is 4.4
    ([7, 4.5, 4.6, 4.7], core.FAILS, 0.2),      # ends below τ=5 (5.3), but rises 0.2 after its minimum: overfits
])
def test_cooldown_does_not_overfit_reads_cooldowns_own_curve(tmp_path, bigram, cooldown, status, rise):
    """Fig. 1: COOLDOWN gets fast convergence *without overfitting*. Ending below τ=5 is not
    that: a COOLDOWN that overfits less than τ=5 still beats it. The rise of COOLDOWN's own LRL
    loss from its minimum before the end to its end must stay below RISE_TOLERANCE."""
    bigram(4.6)
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.5, 5.2], tau5=[7, 4.5, 4.9, 5.3], cooldown=cooldown)
    v = {x.claim.id.split(".")[-1]: x for x in upweight.fig1_cooldown(df, "en-it", "en-fi")}
    assert v["cooldown_beats_tau5_lrl"].status == core.HOLDS
    no_overfit = v["cooldown_does_not_overfit"]
    assert no_overfit.status == status, (no_overfit.status, str(no_overfit.effect))
    assert [g.name for g in no_overfit.gates] == ["learned", "cooldown", "exposed"]
    assert no_overfit.gates[2].numbers == {"task": "en-fi", "seen": 2100.0, "needed": 1000.0}  # τ=5's minimum: step 100
    assert no_overfit.numbers["cooldown_rise_after_minimum"] == pytest.approx(rise, abs=0.03)
    assert no_overfit.effect.estimate == pytest.approx(upweight.RISE_TOLERANCE - rise, abs=0.03)
    assert no_overfit.numbers["last_step"] == 300 and no_overfit.numbers["cooldown_min_step"] < 300


def test_cooldown_not_overfitting_needs_the_exposure_where_tau5_overfit(tmp_path, bigram):
    """Below the LRL examples τ=5 had seen at its minimum, τ=5 itself had not yet overfit: a
    COOLDOWN that stops short of them (a late τ=5 minimum, an early switch) shows nothing by
    not overfitting -- out of regime, whatever its curve; the other claims are judged."""
    bigram(4.6)
    late = {**SEEN, L.COOLDOWN_FIG1: [0, 1000, 1500, 1800]}  # τ=5's minimum at step 200: 2,000 seen
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.5, 5.2], tau5=[7, 4.8, 4.5, 5.0], cooldown=[7, 4.8, 4.45, 4.4],
                        seen=late)
    v = {x.claim.id.split(".")[-1]: x for x in upweight.fig1_cooldown(df, "en-it", "en-fi")}
    assert v["cooldown_does_not_overfit"].status == core.OUT_OF_REGIME
    assert v["cooldown_does_not_overfit"].note == "not judged: en-fi: 1,800 examples seen, 2,000 where τ=5's loss was lowest (0.90x; needs ≥ 1)"
    assert v["cooldown_beats_tau5_lrl"].status == core.HOLDS and v["cooldown_beats_tau1_lrl"].status == core.HOLDS


def test_cooldown_claims_are_out_of_regime_when_nothing_was_learned(tmp_path, bigram):
    bigram(2.5)  # the HRL ends at 3.0, above the bigram
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.5, 5.2], tau5=[7, 4.5, 4.9, 5.3], cooldown=[7, 4.5, 4.6, 4.7])
    assert set(_statuses(upweight.fig1_cooldown(df, "en-it", "en-fi")).values()) == {core.OUT_OF_REGIME}


def test_cooldown_claim_needs_tau5_to_overfit(tmp_path, bigram):
    bigram(4.6)
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.5, 5.2], tau5=[7, 5.0, 4.8, 4.7], cooldown=[7, 5.0, 4.9, 4.85])
    s = _statuses(upweight.fig1_cooldown(df, "en-it", "en-fi"))
    assert s["cooldown_beats_tau5_lrl"] == core.OUT_OF_REGIME and s["cooldown_beats_tau1_lrl"] == core.HOLDS
    assert s["cooldown_does_not_overfit"] == core.OUT_OF_REGIME  # no overfitting to avoid: nothing to show


def test_cooldown_claims_do_not_hold_when_the_runs_contradict_them(tmp_path, bigram):
    bigram(4.6)
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.0, 4.5], tau5=[7, 4.5, 4.9, 5.3], cooldown=[7, 4.5, 5.2, 5.6],
                        hrl_final=(3.0, 3.0, 3.3))
    assert _statuses(upweight.fig1_cooldown(df, "en-it", "en-fi")) == {
        "cooldown_beats_tau5_lrl": core.FAILS, "cooldown_does_not_overfit": core.FAILS,
        "cooldown_beats_tau1_lrl": core.FAILS, "cooldown_keeps_hrl": core.FAILS}


def test_cooldown_claims_are_inconclusive_on_noise(tmp_path, bigram):
    bigram(4.6)
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.0, 4.7], tau5=[7, 4.5, 4.6, 4.7], cooldown=[7, 4.5, 4.6, 4.7])
    s = _statuses(upweight.fig1_cooldown(df, "en-it", "en-fi"))
    assert s["cooldown_beats_tau1_lrl"] == core.INCONCLUSIVE or s["cooldown_beats_tau1_lrl"] == core.FAILS
    assert s["cooldown_beats_tau1_lrl"] != core.HOLDS


# ------------------------------------------------------------------ B0: Fig. 2, Lemma 2.1, Theorems 1-3 (exact)

SIZES = {"Zipf α=1": theory.zipf_sizes(10, 1.0), "mC4": [2733, 162, 39, 1]}
TAUS = np.linspace(1.0, 10.0, 25)
TOY = [40, 7, 3]


def scoped(verdicts) -> dict:
    return {(short(v), v.scope): v.status for v in verdicts}


def test_theorems_hold_where_proved_and_fail_for_arbitrary_second_moments():
    assert scoped(upweight.theorems(SIZES, TAUS, TOY)) == {
        ("lemma2_1.variance_factor_at_least_one", ""): HOLDS,
        ("thm1.full_gradient_equivalence", ""): HOLDS,
        ("thm2.scalarization_variance_at_least_ts", "equal second moments"): HOLDS,
        ("thm2.scalarization_variance_at_least_ts", "any per-task second moments"): FAILS,
        ("thm2.gap_formula_matches_exact_variances", ""): HOLDS,
        ("thm3.variance_gap_grows_with_tau", "equal second moments"): HOLDS,
        ("thm3.variance_gap_grows_with_tau", "any per-task second moments"): FAILS,
    }


def test_theorems_hold_for_any_second_moments_when_all_tasks_are_equal():
    verdicts = upweight.theorems({"equal": [5.0, 5.0, 5.0]}, TAUS, TOY)
    assert {v.status for v in verdicts} == {HOLDS}
    assert all(not v.gates and v.effect is None for v in verdicts)  # exact: no gate, no interval


def test_the_counterexample_is_named():
    v = {(short(v), v.scope): v for v in upweight.theorems(SIZES, TAUS, TOY)}
    thm2 = v["thm2.scalarization_variance_at_least_ts", "any per-task second moments"]
    assert "counterexample" in thm2.note and thm2.numbers["worst_gap"] < 0 and thm2.numbers["example"]["gap"] < 0


def test_the_variance_grows_with_skew_on_our_alphas_but_not_for_any_skew():
    """Fig. 2: F(τ) grows with the Zipf exponent α over our α grid (0-2, K = 10: the paper
    gives neither) at every τ; it cannot for any skew (for 1 < τ < 2, F → 1 as one task takes
    all the data): it first falls beyond α = 2 for τ near 1. From τ = 2 on, it grows all the
    way to α = 8."""
    verdicts = upweight.theorems(SIZES, TAUS, TOY, skew=([0, 0.5, 1, 1.5, 2], 10))
    v = {(short(v), v.scope): v for v in verdicts if short(v) == "fig2.variance_grows_with_skew"}
    assert set(v) == {("fig2.variance_grows_with_skew", s) for s in ("our α grid 0–2, K=10", "any skew")}
    assert v["fig2.variance_grows_with_skew", "our α grid 0–2, K=10"].status == HOLDS
    any_skew = v["fig2.variance_grows_with_skew", "any skew"]
    assert any_skew.status == FAILS and "counterexample" in any_skew.note
    before, alpha, tau, fall = any_skew.numbers["first_decrease"]
    assert 2.5 <= alpha <= 4 and 1 < tau < 2 and fall > 0  # where depends on the τ grid (2.5 at τ = 1.045 on 200 points)
    assert before == alpha - 0.25 and f"from α={before:g} to α={alpha:g}" in any_skew.note
    assert {v.status for v in upweight.skew_verdicts([0, 1, 2], 10, np.linspace(2.0, 10.0, 9))} == {HOLDS}
    assert len(upweight.theorems(SIZES, TAUS, TOY)) == 7  # without an α grid: no skew verdict


def test_the_skew_claim_states_how_f_behaves_as_one_task_takes_all_the_data():
    """As Zipf α → ∞ (one task takes all the data), F(τ)'s terms i ≥ 2 go as
    (D_i/D_1)^(2/τ − 1): F → 1 for τ < 2, F → K at τ = 2, and F grows without bound for
    τ > 2. The claim's statistic says so -- it said "F → 1" at every τ, false from τ = 2 on
    (at τ = 5, K = 10 Zipf sizes with α = 8 already give F ≈ 4e4)."""
    k = 10

    def f(alpha, tau):
        return theory.variance_factor(theory.zipf_sizes(k, alpha), tau)

    for tau in (1.0, 1.5, 1.75):
        assert f(128, tau) == pytest.approx(1.0, abs=1e-3)
    assert f(64, 2.0) == pytest.approx(k, rel=1e-3)
    for tau in (2.5, 3.0, 5.0):
        assert f(16, tau) < f(32, tau) < f(64, tau) and f(64, tau) > 1e6
    text = upweight.VARIANCE_GROWS_WITH_SKEW.statistic
    assert all(limit in text for limit in ("F → 1 for τ < 2", "F → K at τ = 2", "without bound for τ > 2"))


def test_theorem_checks_do_not_hold_when_a_computation_is_wrong(monkeypatch):
    monkeypatch.setattr(theory, "variance_factor", lambda sizes, tau: 2.0 / tau)  # below 1 and falling
    monkeypatch.setattr(theory, "full_gradients", lambda *a, **k: (np.ones(3), np.zeros(3)))
    monkeypatch.setattr(theory, "exact_variances", lambda sizes, tau, *a, **k: (1.0, 3.0, np.ones(len(sizes))))
    s = scoped(upweight.theorems(SIZES, TAUS, TOY))
    assert s["lemma2_1.variance_factor_at_least_one", ""] == FAILS
    assert s["thm1.full_gradient_equivalence", ""] == FAILS
    assert s["thm2.gap_formula_matches_exact_variances", ""] == FAILS
    assert s["thm3.variance_gap_grows_with_tau", "equal second moments"] == FAILS



def _patch_f(monkeypatch, f):
    """theory.variance_factor := f(τ) for every size set, and the closed-form derivative
    d log F / ds (s = 1/τ) := that of f, so only the property under test is broken."""
    h = 1e-7
    monkeypatch.setattr(theory, "variance_factor", lambda sizes, tau: float(f(tau)))
    monkeypatch.setattr(theory, "d_log_f_ds", lambda sizes, s: float(
        (np.log(f(1 / (s + h))) - np.log(f(1 / (s - h)))) / (2 * h)))


@pytest.mark.parametrize("f, why", [
    (lambda tau: 2.0 + 0 * tau, "F ≥ 1 everywhere but F(1) = 2: not the lemma's F"),
    (lambda tau: 1.0 / tau, "F(1) = 1 but F < 1 beyond it"),
])
def test_lemma_needs_both_f_at_least_one_and_f_of_one_equal_one(monkeypatch, f, why):
    """Lemma 2.1 (F(τ) ≥ 1) with its anchor F(1) = 1 (Fig. 2): each half alone can fail."""
    _patch_f(monkeypatch, f)
    assert scoped(upweight.theorems(SIZES, TAUS, TOY))["lemma2_1.variance_factor_at_least_one", ""] == FAILS, why


def test_theorem3_fails_on_any_one_of_its_three_checks(monkeypatch):
    """Theorem 3 (Δ non-decreasing for τ ≥ 1), equal moments: F non-decreasing on the grid,
    d log F/ds ≤ 0 at the derivative τs, and the closed form agreeing with a finite
    difference. Each broken alone turns the verdict, so none of them is decorative."""
    key = ("thm3.variance_gap_grows_with_tau", "equal second moments")
    grid = [1.0, 2.0, 5.0, 7.0, 8.0, 100.0]  # the derivative τs (1, 1.43, 2, 3.33, 5, 100) mostly off it
    # F rises on the grid but dips around τ = 3.33 (between grid points): only the derivative sees it
    _patch_f(monkeypatch, lambda tau: tau + 2 * np.exp(-(tau - 3.0) ** 2 / 0.1))
    assert scoped(upweight.theorems(SIZES, grid, TOY))[key] == FAILS
    # F falls from τ = 7 to 8 (on the grid) and rises at every derivative τ: only the grid sees it
    _patch_f(monkeypatch, lambda tau: tau - 3 * np.exp(-(tau - 8.0) ** 2 / 0.1))
    assert scoped(upweight.theorems(SIZES, grid, TOY))[key] == FAILS
    # the true F, but a closed-form derivative that is negative and wrong: only the agreement sees it
    monkeypatch.undo()
    monkeypatch.setattr(theory, "d_log_f_ds", lambda sizes, s: -1.0)
    assert scoped(upweight.theorems(SIZES, grid, TOY))[key] == FAILS
    monkeypatch.undo()
    assert scoped(upweight.theorems(SIZES, grid, TOY))[key] == HOLDS  # all three on the true F hold

# ------------------------------------------------------------------ B1: Fig. 3, gradient variance measured

def measured(rng, n, sd_ts, sd_s, predicted_factor=1.0, mean=10.0):
    """A `gradvar.measure` result for one checkpoint, the norms drawn around `mean`."""
    ts, s = np.abs(rng.normal(mean, sd_ts, n)), np.abs(rng.normal(mean, sd_s, n))
    gap = float(np.mean(s ** 2) - np.mean(ts ** 2))
    return {"TS": {"norms": ts.tolist(), "norm_variance": float(np.var(ts, ddof=1)), "trace_cov": float(np.var(ts))},
            "S": {"norms": s.tolist(), "norm_variance": float(np.var(s, ddof=1)), "trace_cov": float(np.var(s))},
            "gap_measured": gap, "gap_predicted": gap * predicted_factor, "gap_equal_moments": gap,
            "second_moments": {"en-it": 1.0, "en-fi": 2.0}}


@pytest.fixture
def tau5_run(tmp_path):
    return fake_run(tmp_path, "tau5", [7, 5, 4.5], [6, 4, 3.0], seed=0)  # the HRL (en-it) ends at 3.0


FIG3 = ("fig3.scalarization_norms_vary_more", "thm2.measured_gradient_variance_gap", "fig3.gap_matches_per_task_moments")


@pytest.mark.parametrize("n, sd_ts, sd_s, predicted_factor, expected", [
    (2000, 0.5, 3.0, 1.0, (HOLDS, HOLDS, HOLDS)),          # S's norms vary more; the prediction is right
    (2000, 3.0, 0.5, 10.0, (FAILS, FAILS, FAILS)),         # the opposite; the prediction is 10x off
    (20, 1.0, 1.0, 1.0, (INCONCLUSIVE, INCONCLUSIVE, INCONCLUSIVE)),  # 20 batches of equal spread
])
def test_fig3_outcomes(tau5_run, bigram, n, sd_ts, sd_s, predicted_factor, expected):
    bigram(4.6)
    results = {"step 300": measured(np.random.default_rng(0), n, sd_ts, sd_s, predicted_factor)}
    verdicts = upweight.fig3_gradient_variance(results, tau5_run, "en-it")
    assert tuple(v.status for v in verdicts) == expected and [short(v) for v in verdicts] == list(FIG3)
    assert verdicts[0].scope == "step 300" and verdicts[0].effect.unit.startswith("log variance ratio")


def test_fig3_without_a_prediction_or_with_too_few_batches_is_inconclusive(tau5_run, bigram):
    bigram(4.6)
    rng = np.random.default_rng(1)
    results = {"init": measured(rng, 200, 0.5, 3.0, predicted_factor=0.0), "step 6": measured(rng, 2, 0.5, 3.0)}
    s = scoped(upweight.fig3_gradient_variance(results, tau5_run, "en-it"))
    assert s["fig3.gap_matches_per_task_moments", "init"] == INCONCLUSIVE
    assert {s[c, "step 6"] for c in FIG3} == {INCONCLUSIVE}


def test_fig3_is_out_of_regime_when_the_run_learned_nothing(tau5_run, bigram):
    bigram(2.5)
    results = {"init": measured(np.random.default_rng(0), 2000, 0.5, 3.0)}
    assert {v.status for v in upweight.fig3_gradient_variance(results, tau5_run, "en-it")} == {OUT}


def test_fig3_learned_gate_says_it_was_measured_at_the_runs_end(tau5_run, bigram):
    """`learned` is read at the τ=5 run's end (step 200) and carried by every checkpoint's
    verdicts: at init (a random model) its text must say it was not measured there."""
    bigram(4.6)
    rng = np.random.default_rng(2)
    results = {"init": measured(rng, 50, 0.5, 3.0), "step 200": measured(rng, 50, 0.5, 3.0)}
    texts = {(v.scope, g.measured) for v in upweight.fig3_gradient_variance(results, tau5_run, "en-it") for g in v.gates}
    assert {(scope, text.split(": ")[0]) for scope, text in texts} == {
        ("init", "τ=5 run at its end (step 200), not at init"), ("step 200", "τ=5 run at its end (step 200)")}


def test_fig3_norm_variance_aa_false_holds_at_most_five_percent():
    """A/A: both methods' norms from one (skewed) distribution: 'holds' is a false verdict."""
    rng = np.random.default_rng(7)
    false = 0
    trials = 200
    for t in range(trials):
        a, b = rng.lognormal(0, 0.5, 60), rng.lognormal(0, 0.5, 60)
        e = upweight._two_sample(upweight._log_variance_ratio, a, b, "log ratio", n_boot=500, seed=t)
        false += core.decide(upweight.NORMS_VARY_MORE, [], e) == HOLDS
    assert false / trials <= 0.05


# ------------------------------------------------------------------ B2: Fig. 4, 8, 9 (sampling vs weighting)

TS, S = "temperature sampling", "scalarization"
PAIRS = {"hrl_lrl_fi": ("en-it", "en-fi")}
FALLING_HRL, SLOWER_HRL = [7, 5, 4, 3.5, 3.0], [7, 5.3, 4.3, 3.8, 3.3]


def fig4_frame(root, cells, unclipped=None, seeds=(0, 1, 2), noise=0.05, draws=0):
    """cells: {(τ, method): (LRL curve, HRL curve)}, each trained with every seed and clipping;
    unclipped: {method: (LRL, HRL)} at the largest τ, every seed, without clipping; draws: the
    first run's noise seed (the others count up from it)."""
    runs = []
    for (tau, method), (lrl, hrl) in cells.items():
        for seed in seeds:
            run = fake_run(root, f"{method[:5]}-{tau:g}-{seed}", lrl, hrl, seed=draws + len(runs), noise=noise)
            runs.append((run, dict(taskset="hrl_lrl_fi", tau=tau, method=method, clipping="1.0", seed=seed)))
    for method, (lrl, hrl) in (unclipped or {}).items():
        for seed in seeds:
            run = fake_run(root, f"{method[:5]}-off-{seed}", lrl, hrl, seed=draws + len(runs), noise=noise)
            runs.append((run, dict(taskset="hrl_lrl_fi", tau=max(t for t, _ in cells), method=method, clipping="off",
                                   seed=seed)))
    return frame(runs)


AS_THE_PAPER_SAYS = {
    (2.0, TS): ([7, 5.5, 5.0, 4.8, 4.7], FALLING_HRL), (2.0, S): ([7, 5.8, 5.3, 5.1, 5.0], SLOWER_HRL),
    (5.0, TS): ([7, 4.5, 4.2, 4.5, 4.8], FALLING_HRL), (5.0, S): ([7, 6.0, 5.6, 5.4, 5.2], SLOWER_HRL),
}
CONTRADICTED = {  # weighting converges faster, its lead shrinks... grows the wrong way, no overfitting, τ moves the HRL
    (2.0, TS): ([7, 5.8, 5.3, 5.1, 5.0], SLOWER_HRL), (2.0, S): ([7, 5.5, 5.0, 4.8, 4.7], FALLING_HRL),
    (5.0, TS): ([7, 5.8, 5.3, 5.1, 5.0], [7, 6, 5, 4.5, 3.5]), (5.0, S): ([7, 5.2, 4.7, 4.5, 4.4], FALLING_HRL),
}
FIG4 = ("fig4.sampling_converges_faster", "fig4.sampling_beats_weighting", "fig4.gap_grows_with_tau",
        "fig4.large_tau_overfits_lrl", "fig4.hrl_improving_when_lrl_overfits",
        "fig4.sampling_beats_weighting_without_clipping", "fig9.tau_moves_lrl_more_than_hrl")


SAME_LOSS = "fig4.same_loss_given_compute"


def without_same_loss(verdicts) -> dict[str, set]:
    """per_claim, the equivalence claim set aside: on curves still moving at their end it is
    out of regime ('given enough training iterations'); it has its own tests below."""
    s = per_claim(verdicts)
    assert s.pop(SAME_LOSS) == {OUT}
    return s


def test_fig4_claims_hold_when_the_runs_show_them(tmp_path, bigram):
    bigram(4.6)
    df = fig4_frame(tmp_path, AS_THE_PAPER_SAYS,
                    unclipped={TS: ([7, 4.6, 4.3, 4.6, 4.9], FALLING_HRL), S: ([7, 6.1, 5.7, 5.5, 5.3], SLOWER_HRL)})
    verdicts = upweight.fig4_sampling_vs_weighting(df, PAIRS, [2.0, 5.0])
    assert without_same_loss(verdicts) == {c: {HOLDS} for c in FIG4}
    assert len(verdicts) == 2 + 4 + 4 + 1 + 1 + 1 + 1 + 1  # per τ; per τ and task (twice); once; τ=5 only (twice); clipping; Fig. 9


def test_fig4_claims_do_not_hold_when_the_runs_contradict_them(tmp_path, bigram):
    bigram(4.6)
    df = fig4_frame(tmp_path, CONTRADICTED,
                    unclipped={TS: ([7, 5.8, 5.3, 5.1, 5.0], SLOWER_HRL), S: ([7, 5.2, 4.7, 4.5, 4.4], FALLING_HRL)})
    s = without_same_loss(upweight.fig4_sampling_vs_weighting(df, PAIRS, [2.0, 5.0]))
    assert s == {**{c: {FAILS} for c in FIG4}, "fig4.hrl_improving_when_lrl_overfits": {OUT}}  # no overfitting to judge it by


def test_fig4_hrl_not_improving_after_the_lrl_overfits(tmp_path, bigram):
    bigram(4.6)
    cells = {**AS_THE_PAPER_SAYS, (5.0, TS): ([7, 4.5, 4.2, 4.5, 4.8], [7, 4, 3.2, 3.3, 3.4])}  # the HRL gets worse too
    s = per_claim(upweight.fig4_sampling_vs_weighting(fig4_frame(tmp_path, cells), PAIRS, [2.0, 5.0]))
    assert s["fig4.large_tau_overfits_lrl"] == {HOLDS} and s["fig4.hrl_improving_when_lrl_overfits"] == {FAILS}
    assert "fig4.sampling_beats_weighting_without_clipping" not in s  # no unclipped runs: not judged


def test_fig4_claims_are_inconclusive_on_noise(tmp_path, bigram):
    bigram(4.6)
    flat = ([7, 5, 4.6, 4.6, 4.6], FALLING_HRL)
    cells = {(tau, m): flat for tau in (2.0, 5.0) for m in (TS, S)}
    cells[5.0, TS] = ([7, 5, 4.6, 4.55, 4.65], FALLING_HRL)  # a rise within the noise
    # one draw of noise: each of these ~10 verdicts on (nearly) null effects is decided a few %
    # of the time with calibrated intervals, so about one draw in five decides one. From seed 0,
    # τ=2's en-it comparison of two alike arms came out 2.4 SE apart ("holds"); from 100, none.
    df = fig4_frame(tmp_path, cells, unclipped={TS: flat, S: flat}, noise=1.0, draws=100)
    s = per_claim(upweight.fig4_sampling_vs_weighting(df, PAIRS, [2.0, 5.0]))
    assert s.pop("fig4.hrl_improving_when_lrl_overfits") == {OUT}  # a rise within the noise is no overfitting
    assert s.pop(SAME_LOSS) == {OUT}  # the HRL still falls at the end; noise this large moves even the flat LRL past "settled"
    assert s == {c: {INCONCLUSIVE} for c in FIG4 if c != "fig4.hrl_improving_when_lrl_overfits"}


def test_fig4_hrl_improvement_inconclusive_on_noise(tmp_path, bigram):
    bigram(4.6)
    cells = {**AS_THE_PAPER_SAYS, (5.0, TS): ([7, 4.5, 4.2, 4.7, 5.2], [7, 4, 3.2, 3.2, 3.21])}
    df = fig4_frame(tmp_path, cells, noise=0.3)
    s = per_claim(upweight.fig4_sampling_vs_weighting(df, PAIRS, [2.0, 5.0]))
    assert s["fig4.hrl_improving_when_lrl_overfits"] == {INCONCLUSIVE}


SETTLED_HRL = [7, 4.5, 3.6, 3.5, 3.5, 3.5, 3.51, 3.5, 3.5]


def same_loss_cells(ts_lrl, s_lrl, ts_hrl=SETTLED_HRL, s_hrl=SETTLED_HRL):
    return {(5.0, TS): (ts_lrl, ts_hrl), (5.0, S): (s_lrl, s_hrl)}


def same_loss_verdicts(df) -> dict:
    return {v.scope: v for v in upweight.fig4_sampling_vs_weighting(df, PAIRS, [5.0]) if short(v) == SAME_LOSS}


def test_same_loss_holds_when_both_methods_settle_at_one_loss(tmp_path, bigram):
    bigram(4.6)
    # sampling gets there first; both end flat at the same loss
    cells = same_loss_cells([7, 4.4, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3], [7, 5.6, 4.8, 4.4, 4.32, 4.3, 4.31, 4.3, 4.3])
    v = same_loss_verdicts(fig4_frame(tmp_path, cells, noise=0.05))
    assert {scope: x.status for scope, x in v.items()} == {"hrl_lrl_fi τ=5 en-it": HOLDS, "hrl_lrl_fi τ=5 en-fi": HOLDS}
    lrl = v["hrl_lrl_fi τ=5 en-fi"]
    assert -0.05 < lrl.effect.low < lrl.effect.high < 0.05 and lrl.effect.seeds == (3, 3)
    assert {g.name for g in lrl.gates} == {"learned", "settled"}


def test_same_loss_does_not_hold_when_they_settle_apart(tmp_path, bigram):
    bigram(4.6)
    cells = same_loss_cells([7, 4.4, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3], [7, 5.6, 4.9, 4.7, 4.6, 4.6, 4.6, 4.6, 4.6])
    v = same_loss_verdicts(fig4_frame(tmp_path, cells, noise=0.05))
    assert v["hrl_lrl_fi τ=5 en-fi"].status == FAILS and v["hrl_lrl_fi τ=5 en-fi"].effect.low > 0.05
    assert v["hrl_lrl_fi τ=5 en-it"].status == HOLDS


def test_same_loss_inconclusive_on_noise_or_a_single_seed(tmp_path, bigram):
    bigram(4.6)
    flat = [7, 4.4, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3]
    # each run settled, but the runs of one method end 0.15 nats apart from seed to seed: the
    # interval of the difference is wider than the band
    runs = [(fake_run(tmp_path / "spread", f"{m[:5]}-{seed}", [x + off for x in flat], SETTLED_HRL, seed=10 * i + seed),
             dict(taskset="hrl_lrl_fi", tau=5.0, method=m, clipping="1.0", seed=seed))
            for i, m in enumerate((TS, S)) for seed, off in enumerate((-0.15, 0.0, 0.15) if i else (0.1, -0.1, 0.0))]
    noisy = same_loss_verdicts(frame(runs))["hrl_lrl_fi τ=5 en-fi"]
    assert noisy.status == INCONCLUSIVE and noisy.effect.high - noisy.effect.low > 0.1, (noisy.status, str(noisy.effect))
    one = same_loss_verdicts(fig4_frame(tmp_path / "one", same_loss_cells(flat, flat), seeds=(0,)))
    assert {x.status for x in one.values()} == {INCONCLUSIVE}
    assert "a verdict needs ≥ 3" in one["hrl_lrl_fi τ=5 en-fi"].note


def test_same_loss_out_of_regime_while_a_run_still_moves(tmp_path, bigram):
    bigram(4.6)
    cells = same_loss_cells([7, 4.4, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3, 4.3], [7, 6, 5.5, 5.2, 5, 4.8, 4.6, 4.45, 4.3])
    v = same_loss_verdicts(fig4_frame(tmp_path, cells, noise=0.05))
    lrl = v["hrl_lrl_fi τ=5 en-fi"]
    assert lrl.status == OUT and [g.measured.split(":")[0] for g in lrl.gates if not g.passed] == ["S"]
    assert v["hrl_lrl_fi τ=5 en-it"].status == HOLDS


def test_settled_gate():
    assert gates.settled("en", [0, 100, 200, 300, 400], [5, 4, 3.6, 3.55, 3.56], 0.05).passed
    moving = gates.settled("en", [0, 100, 200, 300, 400], [5, 4, 3.6, 3.5, 3.4], 0.05)
    assert not moving.passed and moving.numbers["from_step"] == 300 and abs(moving.numbers["moved"] + 0.1) < 1e-12
    assert not gates.settled("en", [0, 100], [5, 5], 0.05).passed  # no evaluation in the last quarter before the end


def test_fig4_claims_are_out_of_regime_when_nothing_was_learned(tmp_path, bigram):
    bigram(2.5)
    df = fig4_frame(tmp_path, AS_THE_PAPER_SAYS, unclipped={TS: AS_THE_PAPER_SAYS[5.0, TS], S: AS_THE_PAPER_SAYS[5.0, S]})
    assert {v.status for v in upweight.fig4_sampling_vs_weighting(df, PAIRS, [2.0, 5.0])} == {OUT}


FIG9 = "fig9.tau_moves_lrl_more_than_hrl"


def test_fig9_moves_of_the_same_runs_are_not_added_in_quadrature(tmp_path, bigram):
    """τ=5 lowers the LRL by 0.2 and raises the HRL by 0.2 (true |L| - |H| = 0), and each run's
    overall quality shifts both of its tasks alike: seeds at -0.05, 0, +0.05, and the τ=2 runs
    0.095 worse on average. Both moves then carry the same +0.095, so |L| - |H| comes out
    +0.19 -- the two moves are correlated, and adding their SEs in quadrature (SE 0.058,
    interval [+0.03, +0.35]) would call that 'holds'; the joint bootstrap (SE ≈ 0.082) does not."""
    bigram(4.6)
    lrl = {2.0: [7, 5.5, 5.0, 4.8, 4.7], 5.0: [7, 5.3, 4.8, 4.6, 4.5]}
    hrl = {2.0: FALLING_HRL, 5.0: [7, 5.2, 4.2, 3.7, 3.2]}
    runs = []
    for tau, shift in ((2.0, 0.095), (5.0, 0.0)):
        for method in (TS, S):
            for seed, u in enumerate((-0.05, 0.0, 0.05)):
                off = shift + u
                run = fake_run(tmp_path, f"{method[:5]}-{tau:g}-{seed}", [v + off for v in lrl[tau]],
                               [v + off for v in hrl[tau]], seed=len(runs))
                runs.append((run, dict(taskset="hrl_lrl_fi", tau=tau, method=method, clipping="1.0", seed=seed)))
    verdict, = (v for v in upweight.fig4_sampling_vs_weighting(frame(runs), PAIRS, [2.0, 5.0]) if short(v) == FIG9)
    assert (verdict.status, round(verdict.effect.estimate, 2)) == (INCONCLUSIVE, 0.19), verdict.effect
    assert verdict.effect.se == pytest.approx(0.082, abs=0.01)


def _moves(rng, seeds, lrl, hrl, run_sd, n=200):
    """{task: (nll (seeds, sentences), tokens)} at one τ: each run's offset shared by its tasks."""
    tokens = np.full(n, 10.0)
    u = rng.normal(0, run_sd, seeds)
    return {task: (np.stack([tokens * (loss + ui + rng.normal(0, 0.3, n)) for ui in u]), tokens)
            for task, loss in (("lrl", lrl), ("hrl", hrl))}


@pytest.mark.parametrize("lrl_move, hrl_move", [(0.2, -0.2), (0.2, 0.2), (0.0, 0.0)])
def test_fig9_aa_false_holds_at_most_five_percent(lrl_move, hrl_move):
    """A/A: |L| = |H| (true |L| - |H| = 0, so 'holds' is false), 5 seeds a τ, each run's overall
    quality (sd 0.2 nats) shared by its two tasks. Measured with 600 trials: 2.0% false 'holds'
    for opposite moves (SE 0.226 against a spread of 0.222); adding the SEs in quadrature gave
    5.8% (SE 0.177); bootstrapping |L| - |H| itself, the seeds drawn once, 7.7% (|.| clips the
    resamples near a sign change: SE 0.193)."""
    rng = np.random.default_rng(5)
    trials, false = 300, 0
    for t in range(trials):
        lo, hi = _moves(rng, 5, 4.0 + lrl_move, 3.2 + hrl_move, 0.2), _moves(rng, 5, 4.0, 3.2, 0.2)
        e = upweight._moved_more(lo, hi, "lrl", "hrl", n_boot=300, seed=t)
        false += core.decide(upweight.TAU_MOVES_LRL_MORE, [], e) == HOLDS
    assert false / trials <= 0.05, false


def test_fig9_moved_more_holds_and_fails_where_it_should():
    """A clear LRL move with a still HRL holds; the HRL moving more does not hold; the interval
    contains the estimate."""
    rng = np.random.default_rng(6)
    lo, hi = _moves(rng, 3, 4.6, 3.2, 0.05), _moves(rng, 3, 4.0, 3.2, 0.05)
    e = upweight._moved_more(lo, hi, "lrl", "hrl", n_boot=500)
    assert e.low <= e.estimate <= e.high and e.estimate == pytest.approx(0.6, abs=0.05)
    assert core.decide(upweight.TAU_MOVES_LRL_MORE, [], e) == HOLDS
    e = upweight._moved_more(lo, hi, "hrl", "lrl", n_boot=500)
    assert e.low <= e.estimate <= e.high and core.decide(upweight.TAU_MOVES_LRL_MORE, [], e) == FAILS
    with pytest.raises(ValueError, match="same runs"):
        upweight._moved_more({**lo, "hrl": (lo["hrl"][0][:2], lo["hrl"][1])}, hi, "lrl", "hrl")


# ------------------------------------------------------------------ B4: Table 3 (one-to-many translation)

HRLS, LRLS = ("en-it", "en-de"), ("en-ja", "en-uk")
METHODS = ("τ=1 (proportional)", "τ=5", "τ=100 (≈uniform)", "UniMax", "Order Matters", "COOLDOWN", "DoReMi")


def table_frame(root, finals, noise=0.05, bleu=None, seeds=(0, 1, 2)):
    """finals: {method: {task: final validation loss}}; bleu: {task: BLEU} for every method, or
    {method: {task: BLEU}}; seed s scores 0.1 x s BLEU more (a spread for the seed bootstrap)."""
    def scores(method, seed):
        if not bleu:
            return None
        per_task = bleu[method] if method in bleu else bleu
        return {"bleu": {t: b + 0.1 * seed for t, b in per_task.items()}}

    return frame([(fake_staged_run(root, f"m{i}-{seed}", {t: [7.0, v] for t, v in losses.items()}, seed=2 * i + seed,
                                   noise=noise, final=scores(method, seed)), {"method": method, "seed": seed})
                  for i, (method, losses) in enumerate(finals.items()) for seed in seeds])


def t3(hrl, lrl):
    return {**{t: hrl for t in HRLS}, **{t: lrl for t in LRLS}}


TABLE3_AS_THE_PAPER_SAYS = dict(zip(METHODS, (t3(3.0, 5.0), t3(3.5, 4.5), t3(3.8, 4.4), t3(3.5, 4.52), t3(3.5, 4.52),
                                              t3(3.02, 4.5), t3(3.1, 4.5))))
TABLE3_CONTRADICTED = {**TABLE3_AS_THE_PAPER_SAYS, "COOLDOWN": t3(3.6, 5.2)}
TABLE3 = ("table3.cooldown_improves_lrl_over_tau1", "table3.cooldown_keeps_hrl_vs_tau1", "table3.cooldown_beats_tau5_hrl",
          "table3.cooldown_matches_tau5_lrl", "table3.cooldown_beats_dynamic_hrl", "table3.cooldown_matches_dynamic_lrl",
          "table3.cooldown_matches_doremi")


def loss_and_bleu(verdicts):
    """(statuses per claim on validation loss, statuses of every BLEU-scoped verdict)."""
    loss = per_claim([v for v in verdicts if v.scope.endswith("validation loss")])
    return loss, {v.status for v in verdicts if v.scope.endswith("BLEU")}


@pytest.mark.parametrize("finals, noise, expected", [
    (TABLE3_AS_THE_PAPER_SAYS, 0.05, HOLDS),
    (TABLE3_CONTRADICTED, 0.05, FAILS),
    ({**{m: t3(3.0, 5.0) for m in METHODS}, "COOLDOWN": t3(2.98, 4.98)}, 1.0, INCONCLUSIVE),  # a minimum-sized lead in noise
])
def test_table3_outcomes(tmp_path, bigram, finals, noise, expected):
    bigram(4.6)
    df = table_frame(tmp_path, finals, noise, bleu={t: 12.0 for t in HRLS + LRLS})
    loss, _ = loss_and_bleu(upweight.table3_one_to_many(df, HRLS, LRLS))
    assert loss == {c: {expected} for c in TABLE3}


@pytest.mark.parametrize("others, lrl_bleu, hrl_bleu, seeds, improves, keeps", [
    (12.0, 14.0, 11.8, (0, 1, 2), HOLDS, HOLDS),          # the paper's: LRL +2 over τ=1, HRL -0.2 (within its band)
    (12.0, 14.0, 11.4, (0, 1, 2), HOLDS, HOLDS),          # HRL -0.6: inside the 1-BLEU band, though beyond the 0.5 minimum
    (12.0, 12.2, 10.5, (0, 1, 2), FAILS, FAILS),          # +0.2 is below the 0.5 minimum; HRL -1.5 is outside the band
    (12.0, 14.0, 11.8, (0,), INCONCLUSIVE, INCONCLUSIVE),  # one seed per method: a corpus score has no interval
    (3.0, 5.0, 3.0, (0, 1, 2), OUT, OUT),                 # BLEU near its floor: not judged on BLEU ('scored')
])
def test_table3_bleu_is_judged_over_the_seeds(tmp_path, bigram, others, lrl_bleu, hrl_bleu, seeds, improves, keeps):
    """BLEU, the paper's metric, has no per-sentence values: its interval comes from the seeds
    (`stats.score_gain`), with a minimum of 0.5 BLEU and the paper's 1-BLEU band as tolerance,
    and only where both methods score BLEU ≥ 10 (`gates.scored`)."""
    bigram(4.6)
    bleu = {m: {**{t: others for t in HRLS}, **{t: others for t in LRLS}} for m in METHODS}
    bleu["COOLDOWN"] = {**{t: hrl_bleu for t in HRLS}, **{t: lrl_bleu for t in LRLS}}
    verdicts = upweight.table3_one_to_many(table_frame(tmp_path, TABLE3_AS_THE_PAPER_SAYS, bleu=bleu, seeds=seeds),
                                           HRLS, LRLS)
    on_bleu = {short(v): v for v in verdicts if v.scope in ("LRL average: BLEU", "HRL average: BLEU")
               and v.numbers["compared_with"] == "τ=1 (proportional)"}
    assert on_bleu["table3.cooldown_improves_lrl_over_tau1"].status == improves
    assert on_bleu["table3.cooldown_keeps_hrl_vs_tau1"].status == keeps
    if len(seeds) == 1:
        assert on_bleu["table3.cooldown_improves_lrl_over_tau1"].note == upweight.BLEU_NOTE
    else:
        assert on_bleu["table3.cooldown_improves_lrl_over_tau1"].effect.estimate == pytest.approx(lrl_bleu - others)
        assert on_bleu["table3.cooldown_improves_lrl_over_tau1"].claim.minimum == upweight.BLEU_MINIMUM


def test_table3_bleu_resamples_the_test_segments_runs_kept(tmp_path, bigram):
    """Where every run kept its test segments' BLEU statistics, Table 3's BLEU intervals
    resample them too (and say so); one run without them leaves the seeds alone."""
    from paperlib import scores, store

    bigram(4.6)
    df = table_frame(tmp_path, TABLE3_AS_THE_PAPER_SAYS, bleu={t: 12.0 for t in HRLS + LRLS})
    refs = ["the cat sat on the mat", "a dog ran in the park", "it rains today"]
    for i, run in zip(df.index, df["run_obj"]):
        hyps = ["the cat sat on a mat", "a dog ran" + " fast" * (i % 3), "it rains today"]
        store.write_test_segments(run.dir, {t: scores.segment_statistics(hyps, refs, t.split("-")[1]) for t in HRLS + LRLS})
        for t in HRLS + LRLS:  # the rows report the scores the kept statistics give
            df.loc[i, f"bleu.{t}"] = scores.bleu_chrf(hyps, refs, t.split("-")[1])["bleu"]

    def first_bleu(verdicts):
        return next(v for v in verdicts if short(v) == "table3.cooldown_improves_lrl_over_tau1" and v.scope.endswith("BLEU"))
    v = first_bleu(upweight.table3_one_to_many(df, HRLS, LRLS))
    assert v.numbers["test_segments_resampled"] and v.effect.sentences == 3 * len(LRLS)
    (df["run_obj"].iloc[0].dir / "examples" / "test-segments.npz").unlink()
    v = first_bleu(upweight.table3_one_to_many(df, HRLS, LRLS))
    assert not v.numbers["test_segments_resampled"] and v.effect.sentences == 0


def test_table3_compares_the_averages_and_reports_bleu(tmp_path, bigram):
    bigram(4.6)
    df = table_frame(tmp_path, TABLE3_AS_THE_PAPER_SAYS, bleu={t: 12.0 for t in HRLS + LRLS})
    verdicts = upweight.table3_one_to_many(df, HRLS, LRLS)
    first = [v for v in verdicts if short(v) == "table3.cooldown_improves_lrl_over_tau1"]
    assert [v.scope for v in first] == ["LRL average: BLEU", "LRL average: validation loss"]
    assert first[0].numbers["bleu_difference"] == 0.0 and first[0].effect.estimate == 0.0  # over the seeds
    assert first[1].effect.estimate == pytest.approx(0.5, abs=0.02)  # τ=1's LRL average 5.0 minus COOLDOWN's 4.5


@pytest.mark.parametrize("mid_cooldown, status", [(4.5, HOLDS), (5.2, FAILS)])
def test_table3_judges_the_mid_group_where_there_is_one(tmp_path, bigram, mid_cooldown, status):
    """Table 3's text: COOLDOWN improves 'the mid and low-resource languages' over τ=1 and
    matches τ=5 on them: both claims judged on the mid average too."""
    bigram(4.6)
    finals = {m: {**losses, "en-sk": losses["en-ja"]} for m, losses in TABLE3_AS_THE_PAPER_SAYS.items()}
    finals["COOLDOWN"]["en-sk"] = mid_cooldown  # τ=1: 5.0, τ=5: 4.5
    verdicts = upweight.table3_one_to_many(table_frame(tmp_path, finals), HRLS, LRLS, mids=("en-sk",))
    mid = {short(v): v.status for v in verdicts if v.scope == "mid average: validation loss"}
    assert mid == {"table3.cooldown_improves_lrl_over_tau1": status, "table3.cooldown_matches_tau5_lrl": status}
    assert len(verdicts) == len(upweight.table3_one_to_many(table_frame(tmp_path / "x", TABLE3_AS_THE_PAPER_SAYS),
                                                            HRLS, LRLS)) + 4  # two claims, BLEU and loss each


def test_table3_is_out_of_regime_when_nothing_was_learned(tmp_path, bigram):
    bigram(2.5)
    df = table_frame(tmp_path, TABLE3_AS_THE_PAPER_SAYS, bleu={t: 4.0 for t in HRLS + LRLS})
    assert {v.status for v in upweight.table3_one_to_many(df, HRLS, LRLS)} == {OUT}


def test_table3_learned_by_bleu(tmp_path, bigram):
    bigram(2.5)  # far below the losses, but BLEU ≥ 10 shows the HRLs were learned
    df = table_frame(tmp_path, TABLE3_AS_THE_PAPER_SAYS, bleu={t: 12.0 for t in HRLS + LRLS})
    assert OUT not in {v.status for v in upweight.table3_one_to_many(df, HRLS, LRLS)}


# ------------------------------------------------------------------ B5: Table 4 (multilingual LM)

LANGS = ("en", "pl", "fi", "hu")


def t4(en, rest):
    return {"en": en, **{t: rest for t in LANGS[1:]}}


TABLE4_AS_THE_PAPER_SAYS = dict(zip(METHODS, (t4(3.0, 5.0), t4(3.3, 4.3), t4(3.5, 4.2), t4(3.4, 4.3), t4(3.2, 4.4),
                                              t4(3.05, 4.0), t4(3.6, 3.9))))  # DoReMi ahead on the LRLs, as in the paper


@pytest.mark.parametrize("finals, noise, expected, tau1_trades", [
    (TABLE4_AS_THE_PAPER_SAYS, 0.05, HOLDS, HOLDS),
    ({**TABLE4_AS_THE_PAPER_SAYS, "COOLDOWN": t4(3.6, 4.5)}, 0.05, FAILS, HOLDS),  # τ=1 still best on en, worst elsewhere
    ({"τ=1 (proportional)": t4(3.0, 4.5), "τ=5": t4(3.0, 4.5), "COOLDOWN": t4(2.98, 4.48)}, 1.0, INCONCLUSIVE, INCONCLUSIVE),
    ({"τ=1 (proportional)": t4(3.5, 4.0), "τ=5": t4(3.3, 4.3), "COOLDOWN": t4(3.4, 4.2)}, 0.05, FAILS, FAILS),
])
def test_table4_outcomes(tmp_path, bigram, finals, noise, expected, tau1_trades):
    bigram(4.6 if finals["τ=1 (proportional)"]["en"] < 3.5 else 4.1)  # τ=1 learned English in every row
    verdicts = upweight.table4_multilingual_lm(table_frame(tmp_path, finals, noise), "en", LANGS[1:])
    assert per_claim(verdicts) == {"table4.cooldown_best_on_lrls": {expected}, "table4.cooldown_second_on_english": {expected},
                                   "table4.tau1_trades_others_for_english": {tau1_trades}}
    assert [v.scope for v in verdicts] == ["pl", "fi", "hu", "en", "en", "pl", "fi", "hu"]


TRADES = "table4.tau1_trades_others_for_english"


def test_table4_tau1_trades_needs_every_other_method_ahead(tmp_path, bigram):
    """'τ=1 ... sacrificing performance on all other languages': on pl, Order Matters is a little
    worse than τ=1 (5.03 against 5.0) while every other method is far ahead -- the best of the
    others beating τ=1 is not 'every other method'. Does not hold on pl, Order Matters named the
    closest; the other languages, where every method is ahead, still hold."""
    bigram(4.6)
    finals = {**TABLE4_AS_THE_PAPER_SAYS, "Order Matters": {**TABLE4_AS_THE_PAPER_SAYS["Order Matters"], "pl": 5.03}}
    verdicts = {v.scope: v for v in upweight.table4_multilingual_lm(table_frame(tmp_path, finals), "en", LANGS[1:])
                if short(v) == TRADES}
    assert {scope: v.status for scope, v in verdicts.items()} == {"en": HOLDS, "pl": FAILS, "fi": HOLDS, "hu": HOLDS}
    assert verdicts["pl"].numbers["closest"] == "Order Matters" and verdicts["fi"].numbers["closest"] == "Order Matters"
    assert verdicts["pl"].effect.estimate == pytest.approx(-0.03, abs=0.02)
    assert set(verdicts["fi"].numbers["gap_by_method"]) == set(METHODS) - {"τ=1 (proportional)"}
    assert verdicts["en"].numbers["closest"] == "COOLDOWN"  # the other method nearest τ=1 on English (3.05)


def _lm_arms(rng, losses, n=200, seeds=3, seed_sd=0.05, noise_sd=0.3):
    """([(seeds, sentences) summed nll per method], tokens): the methods' runs on one language,
    as tests/test_claims.py's `_sim` (sentence difficulty shared, an offset per run, noise per
    sentence); method k's loss is losses[k]."""
    tokens = rng.integers(5, 30, n).astype(float)
    base = tokens * rng.normal(0, 1, n)
    return [np.stack([base + tokens * (loss + rng.normal(0, seed_sd)) + rng.normal(0, noise_sd, n) * np.sqrt(tokens)
                      for _ in range(seeds)]) for loss in losses], tokens


@pytest.mark.parametrize("gaps, wrong", [
    ((0.0, 0.5, 0.5, 0.5, 0.5, 0.5), HOLDS),          # one method no better than τ=1: 'every method beats it' is false
    ((0.02, 0.02, 0.02, 0.02, 0.02, 0.02), FAILS),    # every method ahead by the minimum: 'does not hold' is false
])
def test_table4_every_method_beats_aa_false_verdicts_at_most_five_percent(gaps, wrong):
    """A/A at the boundary of 'every other method beats τ=1' (six methods, 3 seeds each): with
    one method tied, the best of the six (the old statistic) beats τ=1 in every trial; the
    per-method intersection-union rule says 'holds' at most 5% of the time, and with every
    method ahead by exactly the minimum says 'does not hold' at most 5% (Bonferroni over the
    methods). Measured with 600 trials: 1.3% and 1.2% (the best of six: 100% false 'holds');
    at minimum 0 (one tie / every gap 0) the same."""
    rng = np.random.default_rng(8)
    trials, false = 200, 0
    for t in range(trials):
        (t1, *others), tokens = _lm_arms(rng, [4.0, *(4.0 - g for g in gaps)], n=150)
        effect, _ = upweight._every_beats(t1, {f"m{i}": o for i, o in enumerate(others)}, tokens, n_boot=300, seed=t)
        false += core.decide(upweight.TAU1_TRADES, [], effect) == wrong
    assert false / trials <= 0.05, false


def test_table4_cooldown_second_on_english_counts_doremi_but_best_on_lrls_does_not(tmp_path, bigram):
    """'On the only HRL English, COOLDOWN is only behind τ=1': every row of the table, DoReMi's
    included (the paper's is behind, 2.89 vs 2.75); 'best on all three LRLs' leaves DoReMi out
    (the paper's own table has it ahead there)."""
    bigram(4.6)
    finals = {**TABLE4_AS_THE_PAPER_SAYS, "DoReMi": t4(2.9, 3.9)}  # ahead of COOLDOWN (3.05) on en
    verdicts = upweight.table4_multilingual_lm(table_frame(tmp_path, finals), "en", LANGS[1:])
    assert per_claim(verdicts)["table4.cooldown_second_on_english"] == {FAILS}
    assert per_claim(verdicts)["table4.cooldown_best_on_lrls"] == {HOLDS}


@pytest.mark.parametrize("bigram_loss, status", [(3.6, HOLDS), (3.4, OUT), (2.5, OUT)])
def test_table4_lm_learned_margin(tmp_path, bigram, bigram_loss, status):
    """τ=1's English ends at 3.0: 0.6 nats below a 3.6 bigram passes the LM margin (0.5), which
    the translation margin (1 nat) would not; 0.4 below does not."""
    bigram(bigram_loss)
    verdicts = upweight.table4_multilingual_lm(table_frame(tmp_path, TABLE4_AS_THE_PAPER_SAYS), "en", LANGS[1:])
    assert {v.status for v in verdicts} == {status}


def test_table4_methods_with_different_seeds_are_a_one_line_error(tmp_path, bigram):
    """A method whose runs are missing a seed (a figures-only store that ships part of them)
    cannot be compared sentence by sentence and seed by seed with the others: said so."""
    bigram(3.6)
    df = table_frame(tmp_path, TABLE4_AS_THE_PAPER_SAYS)
    df = df[~((df.method == "UniMax") & (df.seed == 2))]
    with pytest.raises(ValueError, match="every method needs the same seeds and sentences"):
        upweight.table4_multilingual_lm(df, "en", LANGS[1:])


# ------------------------------------------------------------------ B6: Fig. 5-7 (schedules)

def schedule_frames(root, dec, inc, sparse, dense, noise=0.05):
    """dec/inc: (LRL curve, HRL curve) of the MT runs; sparse/dense: {language: LM curve}."""
    mt = frame([(fake_run(root, f"{name}-{seed}", *curves, seed=2 * i + seed, noise=noise), {"schedule": label, "seed": seed})
                for i, (name, label, curves) in enumerate((("dec", "decreasing 5→1", dec), ("inc", "increasing 1→5", inc)))
                for seed in (0, 1, 2)])
    lm = frame([(fake_staged_run(root, f"{name}-{seed}", curves, seed=10 + 2 * i + seed, noise=noise),
                 {"schedule": label, "seed": seed})
                for i, (name, label, curves) in enumerate((("sparse", "sparse (5, then 1)", sparse),
                                                            ("dense1", "dense, every step", dense[0]),
                                                            ("dense10", "dense, every 10%", dense[1])))
                for seed in (0, 1, 2)])
    return mt, lm


def lm_curves(en, rest):
    return {"en": [7, 5, en], **{t: [7, 6, rest] for t in LANGS[1:]}}


FAST_LRL, SLOW_LRL = [7, 4.5, 4.3, 4.2], [7, 5.5, 5.0, 4.6]
HRL_A, HRL_B = [7, 4, 3.5, 3.0], [7, 3.8, 3.3, 2.98]
FIG5_7 = ("fig7.decreasing_beats_increasing_lrl", "fig7.decreasing_converges_faster_lrl", "fig7.decreasing_keeps_hrl",
          "fig6.sparse_beats_dense")


@pytest.mark.parametrize("dec, inc, sparse, dense, noise, expected", [
    ((FAST_LRL, HRL_A), (SLOW_LRL, HRL_B), lm_curves(3.0, 4.0), (lm_curves(3.3, 4.3), lm_curves(3.5, 4.5)), 0.05, HOLDS),
    ((SLOW_LRL, [7, 4, 3.5, 3.3]), (FAST_LRL, HRL_B), lm_curves(3.5, 4.5), (lm_curves(3.3, 4.3), lm_curves(3.0, 4.0)),
     0.05, FAILS),
    ((FAST_LRL, HRL_A), (FAST_LRL, [7, 4, 3.5, 3.05]), lm_curves(3.0, 4.0), (lm_curves(3.0, 4.0), lm_curves(3.0, 4.0)),
     1.0, INCONCLUSIVE),  # each run's own noise per sentence (at 0.5, "keeps the HRL" holds: the noise is counted once)
])
def test_fig5_7_outcomes(tmp_path, bigram, dec, inc, sparse, dense, noise, expected):
    bigram(4.6)
    mt, lm = schedule_frames(tmp_path, dec, inc, sparse, dense, noise)
    verdicts = upweight.fig5_7_schedules(mt, lm, "en-it", "en-fi", LANGS)
    assert per_claim(verdicts) == {c: {expected} for c in FIG5_7}
    assert [v.scope for v in verdicts if short(v) == "fig6.sparse_beats_dense"] == list(LANGS)


def test_fig5_7_out_of_regime_when_nothing_was_learned(tmp_path, bigram):
    bigram(2.5)
    mt, lm = schedule_frames(tmp_path, (FAST_LRL, HRL_A), (SLOW_LRL, HRL_B), lm_curves(3.0, 4.0),
                             (lm_curves(3.3, 4.3), lm_curves(3.5, 4.5)))
    assert {v.status for v in upweight.fig5_7_schedules(mt, lm, "en-it", "en-fi", LANGS)} == {OUT}


def test_verdicts_record_and_tabulate(tmp_path, bigram):
    bigram(4.6)
    mt, lm = schedule_frames(tmp_path, (FAST_LRL, HRL_A), (SLOW_LRL, HRL_B), lm_curves(3.0, 4.0),
                             (lm_curves(3.3, 4.3), lm_curves(3.5, 4.5)))
    verdicts = upweight.fig5_7_schedules(mt, lm, "en-it", "en-fi", LANGS) + upweight.theorems(SIZES, TAUS, TOY)
    claims.record("B6", "smoke", "t", verdicts, out_dir=tmp_path / "claims")
    saved = claims.load("smoke", tmp_path / "claims")["B6"]["verdicts"]
    assert len(saved) == len(verdicts) == len(claims.table(verdicts))


# ------------------------------------------------------------------ which runs and evaluations a verdict reads

def test_cooldown_is_compared_with_each_baseline_and_gated_on_tau5(tmp_path, bigram):
    """Fig. 1: τ=5 overfits (4.5 then up to 5.3), COOLDOWN keeps falling (4.35) and τ=1 ends
    lower still (4.3). COOLDOWN beats τ=5 (holds: τ=5's own overfitting is the gate) and does
    not overfit (holds: its own curve), but not τ=1 (does not hold): each claim reads its own
    runs."""
    bigram(4.6)
    df = cooldown_frame(tmp_path, tau1=[7, 6, 5.0, 4.3], tau5=[7, 4.5, 4.9, 5.3], cooldown=[7, 4.5, 4.4, 4.35],
                        hrl_final=(3.0, 3.0, 3.0))
    tau5, no_overfit, tau1, hrl = upweight.fig1_cooldown(df, "en-it", "en-fi")
    assert tau5.status == HOLDS and tau5.effect.estimate == pytest.approx(5.3 - 4.35, abs=0.03), (tau5.status, tau5.note)
    assert no_overfit.claim == upweight.COOLDOWN_NO_OVERFIT and no_overfit.status == HOLDS
    assert tau1.status == FAILS and tau1.effect.estimate == pytest.approx(4.3 - 4.35, abs=0.03)
    assert hrl.status == HOLDS


def test_sampling_beats_weighting_on_each_runs_best_evaluation(tmp_path, bigram):
    """Fig. 4's 'better performance' is read at each run's best evaluation (early stopping, as
    the paper pairs with large τ): τ=5 sampling's LRL reaches 4.2 then overfits to 4.8;
    scalarization ends at its best, 4.5. Sampling is better by 0.3 (holds), though its last
    evaluation is worse."""
    bigram(4.6)
    cells = {**AS_THE_PAPER_SAYS, (5.0, S): ([7, 6, 5, 4.6, 4.5], SLOWER_HRL)}
    verdicts = upweight.fig4_sampling_vs_weighting(fig4_frame(tmp_path, cells), PAIRS, [2.0, 5.0])
    [v] = [v for v in verdicts if v.claim == upweight.SAMPLING_BEATS_WEIGHTING and v.scope == "hrl_lrl_fi τ=5 en-fi"]
    assert v.status == HOLDS and v.effect.estimate == pytest.approx(0.3, abs=0.03), (v.status, str(v.effect))


def test_hrl_improvement_is_measured_from_the_lrl_minimum(tmp_path, bigram):
    """§3.2: 'the high-resource direction has not yet converged when this overfitting occurs'.
    τ=5's LRL is lowest at step 100; the HRL falls 1.8 nats after it (5.0 -> 3.2), though it is
    flat over the last two evaluations: the HRL improves after the LRL's minimum -- holds."""
    bigram(4.6)
    cells = {**AS_THE_PAPER_SAYS, (5.0, TS): ([7, 4.2, 4.5, 4.8, 5.1], [7, 5, 3.5, 3.2, 3.2])}
    verdicts = upweight.fig4_sampling_vs_weighting(fig4_frame(tmp_path, cells), PAIRS, [2.0, 5.0])
    [v] = [v for v in verdicts if v.claim == upweight.HRL_STILL_IMPROVING]
    assert v.numbers["lrl_min_step"] == 100 and v.status == HOLDS, (v.status, str(v.effect))
    assert v.effect.estimate == pytest.approx(5.0 - 3.2, abs=0.03)


def test_large_tau_rise_is_from_the_minimum_before_the_end(tmp_path, bigram):
    """A τ=5 LRL curve still falling at its end (5.1 then 5.0): the rise is measured from the
    lowest evaluation before the end, about -0.1 with a real interval -- not the end against
    itself (a zero-width 0)."""
    bigram(4.6)
    verdicts = upweight.fig4_sampling_vs_weighting(fig4_frame(tmp_path, CONTRADICTED), PAIRS, [2.0, 5.0])
    [v] = [v for v in verdicts if v.claim == upweight.LARGE_TAU_OVERFITS]
    assert v.status == FAILS and v.effect.estimate == pytest.approx(-0.1, abs=0.03)
    assert v.effect.low < v.effect.high < 0


def test_table3_needs_every_hrl_learned(tmp_path, bigram):
    """Table 3's gate: τ=1 learned every HRL. With en-de at 4.0 against a bigram of 4.6 (0.6
    nats below, no BLEU), the table's comparisons are out of regime, though en-it is learned."""
    bigram(4.6)
    finals = {**TABLE3_AS_THE_PAPER_SAYS, "τ=1 (proportional)": {**TABLE3_AS_THE_PAPER_SAYS["τ=1 (proportional)"], "en-de": 4.0}}
    verdicts = upweight.table3_one_to_many(table_frame(tmp_path, finals), HRLS, LRLS)
    assert {v.status for v in verdicts} == {OUT} and all("en-de" in v.note for v in verdicts)


def test_decreasing_converges_faster_even_where_both_end_alike(tmp_path, bigram):
    """'Converges faster' is the mean loss over the evaluations after step 0, not where the run
    ends: the decreasing schedule is ahead by 1.0 and 0.5 and both end at 4.2 -- faster holds
    (0.5 on average), 'better performance' (final loss) does not."""
    bigram(4.6)
    mt, lm = schedule_frames(tmp_path, ([7, 4.5, 4.3, 4.2], HRL_A), ([7, 5.5, 4.8, 4.2], HRL_B), lm_curves(3.0, 4.0),
                             (lm_curves(3.3, 4.3), lm_curves(3.5, 4.5)))
    v = {v.claim: v for v in upweight.fig5_7_schedules(mt, lm, "en-it", "en-fi", LANGS)}
    faster, better = v[upweight.DECREASING_FASTER], v[upweight.DECREASING_BEATS_INCREASING]
    assert faster.status == HOLDS and faster.effect.estimate == pytest.approx((1.0 + 0.5 + 0.0) / 3, abs=0.03)
    assert better.status == FAILS


def test_sparse_is_compared_with_the_better_dense_schedule(tmp_path, bigram):
    """Fig. 6: one dense schedule worse than the sparse one, the other better: sparse updates
    do not 'perform better than dense updates' -- judged against the better dense schedule."""
    bigram(4.6)
    mt, lm = schedule_frames(tmp_path, (FAST_LRL, HRL_A), (SLOW_LRL, HRL_B), lm_curves(3.2, 4.2),
                             (lm_curves(3.5, 4.5), lm_curves(3.0, 4.0)))
    sparse = [v for v in upweight.fig5_7_schedules(mt, lm, "en-it", "en-fi", LANGS) if v.claim == upweight.SPARSE_BEATS_DENSE]
    assert [v.status for v in sparse] == [FAILS] * len(LANGS)
    assert [v.effect.estimate for v in sparse] == pytest.approx([-0.2] * len(LANGS), abs=0.03)
