"""Order Matters claims (`paperlib.claims.order_matters`): every judge function on constructed
runs, one scenario per outcome -- the runs show the claim (holds), contradict it (does not
hold), are too noisy to tell (inconclusive), or are not in the paper's regime (out of regime)."""

import zlib
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from paperlib import claims
from paperlib import experiments as E
from paperlib.claims import core, gates, stats
from paperlib.claims import order_matters as om
from claimkit import fake_staged_run, frame

RATES = (0.1, 0.3, 0.5, 0.7, 0.9)
MID = 0.5
FORK = 200      # every constructed run evaluates at 0, 100, ..., 400; pre-training ends at 200
BATCH = 32      # examples per step: LRL examples seen per evaluation interval = rate * 100 * BATCH
LEARNED, UNLEARNED = 6.0, 2.5  # bigram baselines: the HRL curves below end ≥ 1 nat below 6.0, above 2.5


@pytest.fixture
def bigram(monkeypatch):
    def set_to(value):
        monkeypatch.setattr(claims.evidence, "bigram", lambda cfg: defaultdict(lambda: value))
    return set_to


def _statuses(verdicts):
    out = defaultdict(set)
    for v in verdicts:
        out[v.claim.id.split(".", 2)[-1]].add(v.status)
    return dict(out)


def _all(verdicts):
    return {v.status for v in verdicts}


def _run(root, name, curves, seed, noise, **kw):
    return fake_staged_run(root, name, curves, seed=zlib.crc32(f"{name}/{seed}".encode()), noise=noise, **kw)


def nmt_frame(root, taskset, arms, rates=RATES, seeds=(0, 1, 2), noise=(0.05, 0.05), every_rate=True):
    """One row per run. arms: {method: spec(rate, seed) -> {"hrl": curve, "lrl": curve[, "train": LRL
    training-subset curve, "final": end-of-run metrics]} or None}; every method runs every seed at
    every rate (a preset with `seeds_at_every_rate`), or, with every_rate=False, static sampling,
    pre-training and restart run the further seeds at the middle rate only and other methods the
    first seed (the grid of other presets). noise: per-sentence spread of (HRL, LRL)."""
    hrl, lrl = E.hrl_lrl(taskset)
    labelled = []
    for method, spec_of in arms.items():
        for rate in rates:
            seeded = every_rate or (rate == MID and method in (om.STATIC, om.PRETRAIN, om.RESTART))
            for seed in (seeds if seeded else seeds[:1]):
                spec = spec_of(rate, seed)
                if spec is None:
                    continue
                late = method in (om.PRETRAIN, om.FT_ONLY)  # the LRL is first seen after pre-training
                seen = [0 if i <= 2 else rate * 100 * BATCH * (i - 2) for i in range(5)] if late else _static_seen(rate)
                run = _run(root, f"{taskset}-{method}-{rate}-{seed}".replace(" ", "_"), {hrl: spec["hrl"], lrl: spec["lrl"]},
                           seed, {hrl: noise[0], lrl: noise[1]}, fork_at=None if method == om.STATIC else FORK,
                           train={lrl: spec.get("train", [x - 1 for x in spec["lrl"]])}, seen={lrl: seen},
                           final=spec.get("final"))
                labelled.append((run, dict(taskset=taskset, method=method, rate=rate, seed=seed)))
    return frame(labelled)


def _static_seen(rate):
    """LRL examples a static run at `rate` has seen at each evaluation (as nmt_frame's)."""
    return [rate * 100 * BATCH * i for i in range(5)]


STATIC_HRL = [8, 6, 4.0, 3.5, 3.2]
PRETRAIN_HRL = [8, 5, 3.4, 3.3, 3.2]
STATIC_LRL = {0.1: [8, 7.5, 7, 6.5, 6.2], 0.3: [8, 7, 6, 5.2, 4.9], 0.5: [8, 6, 5, 4.6, 4.5],
              0.7: [8, 5.5, 4.5, 4.6, 4.8], 0.9: [8, 5, 4.0, 4.4, 4.8]}  # 0.9 overfits


def _pre(final, before=0.2, init=8):
    """A pre-trained run's LRL curve: untrained during pre-training (`init`: what pre-training
    on the HRL alone gives it), then falling to `final`."""
    return [8, init, init, final + before, final]


# ------------------------------------------------------------------------------ A1, Fig. 1

def hrl_hrl_frame(root, pretrain_t2, noise=0.05, t1_final=2.8, bleu=None, seeds=(0, 1, 2)):
    """bleu: {method: {seed: the second pair's test BLEU}} (Fig. 26), or None: not measured."""
    def final(method, seed):
        return {"final": {"bleu": {"en-it": 20.0, "en-fr": bleu[method][seed]}}} if bleu else {}

    static = lambda r, s: {"hrl": [8, 6, 4, 3.2, 2.8], "lrl": [8, 6, 4, 3.2, 2.8], **final(om.STATIC, s)}
    pre = lambda r, s: {"hrl": [8, 5, 2.8, 2.8, t1_final], "lrl": _pre(pretrain_t2), **final(om.PRETRAIN, s)}
    return nmt_frame(root, "hrl_hrl", {om.STATIC: static, om.PRETRAIN: pre}, rates=(0.2, 0.5, 0.8), noise=(noise, noise),
                     every_rate=False, seeds=seeds)


@pytest.mark.parametrize("t2, t1, noise, bigram_value, status", [
    (3.0, 2.8, 0.05, LEARNED, core.HOLDS),          # pre-training's front is worse on the added task: no gain
    (2.6, 2.6, 0.05, LEARNED, core.FAILS),          # pre-training's front clearly better: the front is pushed
    (2.8, 2.8, 1.5, LEARNED, core.INCONCLUSIVE),    # equal fronts, noisy sentences
    (3.0, 2.8, 0.05, UNLEARNED, core.OUT_OF_REGIME),
])
def test_fig1_hrl_front(tmp_path, bigram, t2, t1, noise, bigram_value, status):
    bigram(bigram_value)
    v, efficiency, every_rate = om.fig1_hrl_fronts(hrl_hrl_frame(tmp_path, t2, noise, t1), "hrl_hrl")  # no BLEU: no Fig. 26
    assert v.status == status and efficiency.claim == om.FIG20_NO_EFFICIENCY_GAIN, v
    assert v.effect.seeds == (3, 3) and v.numbers["rates_static"] == [0.5]  # only the rate with every seed
    # the outer rates have seed 0 alone: the rates-on-the-front claim has one seed per rate, no verdict
    assert every_rate.claim == om.FIG1_EVERY_RATE_ON_FRONT and every_rate.effect.seeds == (1, 1)
    assert every_rate.status in (core.INCONCLUSIVE, core.OUT_OF_REGIME)


def rates_frame(root, finals, noise=0.05):
    """Static sampling on hrl_hrl at three rates, every seed: finals {rate: (en-it, en-fr) final loss}."""
    static = lambda r, s: {"hrl": [8, 6, 4, 3.2, finals[r][0]], "lrl": [8, 6, 4, 3.2, finals[r][1]]}
    pre = lambda r, s: {"hrl": [8, 5, 2.8, 2.8, 2.8], "lrl": _pre(3.0)}
    return nmt_frame(root, "hrl_hrl", {om.STATIC: static, om.PRETRAIN: pre}, rates=(0.2, 0.5, 0.8), noise=(noise, noise))


@pytest.mark.parametrize("finals, noise, bigram_value, status", [
    ({0.2: (2.6, 3.2), 0.5: (2.8, 2.9), 0.8: (3.1, 2.6)}, 0.05, LEARNED, core.HOLDS),     # a trade-off: all on the front
    ({0.2: (2.6, 3.2), 0.5: (2.8, 2.9), 0.8: (3.1, 3.1)}, 0.05, LEARNED, core.FAILS),     # 0.8 worse than 0.5 on both
    ({0.2: (2.8, 2.9), 0.5: (2.8, 2.9), 0.8: (2.8, 2.9)}, 1.5, LEARNED, core.INCONCLUSIVE),
    ({0.2: (2.6, 3.2), 0.5: (2.8, 2.9), 0.8: (3.1, 2.6)}, 0.05, UNLEARNED, core.OUT_OF_REGIME),
])
def test_fig1_every_rate_on_the_front(tmp_path, bigram, finals, noise, bigram_value, status):
    bigram(bigram_value)
    v = om.fig1_hrl_fronts(rates_frame(tmp_path, finals, noise), "hrl_hrl")[-1]
    assert v.claim == om.FIG1_EVERY_RATE_ON_FRONT and v.status == status, (v.status, str(v.effect))
    assert v.numbers["rates"] == [0.2, 0.5, 0.8] and v.effect.seeds == (3, 3)
    if status == core.FAILS:
        assert v.effect.estimate == pytest.approx(-0.2, abs=0.03)  # 0.8 is 0.2 worse than 0.5 on en-fr, 0.3 on en-it


@pytest.mark.parametrize("t2, noise, bigram_value, status", [
    (4.1, 0.05, LEARNED, core.HOLDS),           # at equal en-fr examples pre-training is no better: no efficiency gain
    (3.0, 0.05, LEARNED, core.FAILS),           # 1 nat better at equal examples: pre-training made en-fr efficient
    (4.0, 1.5, LEARNED, core.INCONCLUSIVE),
    (4.1, 0.05, UNLEARNED, core.OUT_OF_REGIME),
])
def test_fig20_hrl_efficiency(tmp_path, bigram, t2, noise, bigram_value, status):
    """Fig. 20 from A1's runs: the second pair's loss of each method's best run at equal
    examples of it seen -- pre-training at its end (2 fine-tuning evaluations at rate 0.5),
    static sampling where it had seen as many (step 200, loss 4.0)."""
    bigram(bigram_value)
    v = om.fig1_hrl_fronts(hrl_hrl_frame(tmp_path, t2, noise), "hrl_hrl")[1]
    assert v.claim == om.FIG20_NO_EFFICIENCY_GAIN and v.status == status, (v, v.effect)
    assert (v.numbers["step_pretrain"], v.numbers["step_static"]) == (400, 200)
    if status != core.OUT_OF_REGIME:
        assert v.effect.estimate == pytest.approx(t2 - 4.0 + om.MINIMUM, abs=0.05 if noise < 1 else 0.5)


def test_fig20_reads_static_sampling_at_pretrainings_examples_not_at_its_next_evaluation(tmp_path, bigram):
    """Static sampling's second pair at 4.10 after 3,190 examples, 3.85 after 4,790; pre-training
    ends at 4.02 after 3,200: 0.08 nats MORE data-efficient, so 'no efficiency gain' does not
    hold. Read at static's first evaluation with as many examples (4,790: 50% more) it held at
    +0.195 (the auditor's case); interpolated at 3,200 examples static is at ≈ 4.10."""
    import zlib

    from claimkit import fake_staged_run

    bigram(9.0)
    t1, t2 = E.hrl_lrl("hrl_hrl")
    static = {t1: [8, 5, 4.5, 4.2, 4.0], t2: [8, 5.0, 4.10, 3.85, 3.70]}
    s_seen = {t1: [0, 1600, 3200, 4800, 6400], t2: [0, 1590, 3190, 4790, 6390]}
    pre = {t1: [8, 4.5, 4.0, 4.1, 4.0], t2: [8, 8, 8, 5.0, 4.02]}
    p_seen = {t1: [0, 3200, 6400, 8000, 9600], t2: [0, 0, 0, 1600, 3200]}
    df = frame([(fake_staged_run(tmp_path, f"{m}-{s}", c, seed=zlib.crc32(f"{m}/{s}".encode()), noise=0.05,
                                 fork_at=f, seen=sn), {"method": m, "rate": 0.5, "seed": s})
                for m, c, sn, f in ((om.STATIC, static, s_seen, None), (om.PRETRAIN, pre, p_seen, FORK)) for s in (0, 1, 2)])
    [v] = [x for x in om.fig1_hrl_fronts(df, "hrl_hrl") if x.claim == om.FIG20_NO_EFFICIENCY_GAIN]
    assert v.status == core.FAILS, (v.status, str(v.effect))
    assert v.numbers["examples_seen"] == 3200 and v.numbers["step_static"] == pytest.approx(200 + 100 * 10 / 1600)
    assert v.effect.estimate == pytest.approx(4.02 - 4.10 + om.MINIMUM, abs=0.02)


@pytest.mark.parametrize("pre, static, seeds, status", [
    ({0: 12.0, 1: 12.4, 2: 12.2}, {0: 12.1, 1: 12.3, 2: 12.2}, (0, 1, 2), core.HOLDS),   # on par
    ({0: 18.0, 1: 18.3, 2: 18.1}, {0: 22.0, 1: 22.4, 2: 22.2}, (0, 1, 2), core.FAILS),  # 4 BLEU behind
    ({0: 8.0, 1: 8.3, 2: 8.1}, {0: 12.0, 1: 12.4, 2: 12.2}, (0, 1, 2), core.OUT_OF_REGIME),  # pre-training below BLEU 10
    ({0: 9.0, 1: 15.0, 2: 10.0}, {0: 12.0, 1: 12.5, 2: 12.2}, (0, 1, 2), core.INCONCLUSIVE),
    ({0: 12.0}, {0: 12.1}, (0,), core.INCONCLUSIVE),                                     # one seed: no interval
])
def test_fig26_hrl_bleu_on_par(tmp_path, bigram, pre, static, seeds, status):
    bigram(LEARNED)
    verdicts = om.fig1_hrl_fronts(hrl_hrl_frame(tmp_path, 3.0, bleu={om.PRETRAIN: pre, om.STATIC: static}, seeds=seeds),
                                  "hrl_hrl")
    [v] = [x for x in verdicts if x.claim == om.FIG26_BLEU_ON_PAR]
    assert len(verdicts) == 4 and v.status == status, (v, v.effect)
    assert v.numbers["best_bleu_pretrain"] == pytest.approx(np.mean(list(pre.values())))
    if len(seeds) == 1:
        assert v.effect is None and "one seed" in v.note
    else:
        assert v.effect.unit == "bleu" and v.effect.estimate == pytest.approx(
            np.mean(list(pre.values())) - np.mean(list(static.values())) + om.SCORE_MINIMUM)


# ------------------------------------------------------------------------------ A2, Fig. 2

def fronts_frame(root, outcome, taskset="hrl_lrl_fi", seeds=(0, 1, 2), every_rate=True):
    if outcome == "holds":
        pre_final = {0.1: 5.5, 0.3: 4.8, 0.5: 4.2, 0.7: 4.15, 0.9: 4.1}
        pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(pre_final[r]),
                            "train": [7, 7, 7, 4, 3.0 + 0.05 * RATES.index(r)]}
        static = lambda r, s: {"hrl": STATIC_HRL, "lrl": STATIC_LRL[r], "train": [7, 5, 3, 2.5, 2.0]}
        restart = lambda r, s: {"hrl": STATIC_HRL, "lrl": [8, 6, 5, 4.7, 4.6]}
        noise = (0.05, 0.05)
    elif outcome == "fails":
        # best at a lower rate (0.3) than static's (0.5), and still worse than static's best
        pre_lrl = {0.1: _pre(6.0), 0.3: _pre(4.55), 0.5: _pre(5.0), 0.7: _pre(4.9), 0.9: [8, 8, 8, 4.0, 4.6]}
        pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": pre_lrl[r], "train": [7, 7, 7, 3, 1.0 - 0.05 * RATES.index(r)]}
        static = lambda r, s: {"hrl": STATIC_HRL, "lrl": STATIC_LRL[r], "train": [7, 5, 3, 2.5, 2.0]}
        restart = lambda r, s: {"hrl": STATIC_HRL, "lrl": [8, 6, 5, 4.4, 4.3]}
        noise = (0.05, 0.05)
    elif outcome == "noise":
        static_lrl = {**STATIC_LRL, 0.9: [8, 5, 3.5, 4.5, 5.5]}  # overfits well beyond the noise
        gaps = dict.fromkeys(RATES, 0.05)  # the same gap at every rate: an interval over rates would have no width
        pre_lrl = {**{r: _pre(static_lrl[r][-1]) for r in RATES}, 0.9: [8, 8, 8, 4.0, 4.0]}
        by_seed = {0: 0.4, 1: -0.4, 2: 0.05}  # ... but it differs by seed far more than its mean
        pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": pre_lrl[r], "train": [7, 7, 7, 3, 2.0 + gaps[r] + by_seed[s]]}
        static = lambda r, s: {"hrl": STATIC_HRL, "lrl": static_lrl[r], "train": [7, 5, 3, 2.5, 2.0]}
        restart = lambda r, s: {"hrl": STATIC_HRL, "lrl": pre_lrl[r] if r < 0.9 else _pre(4.0)}
        noise = (0.05, 3.0)  # each run's own noise per sentence (at 1.5, pre-training's 0.4-nat lead holds)
    return nmt_frame(root, taskset, {om.STATIC: static, om.PRETRAIN: pre, om.RESTART: restart}, seeds=seeds, noise=noise,
                     every_rate=every_rate)


FIG2 = ("pretrain_beats_static", "restart_does_not_explain", "pretrain_worse_lrl_training_loss",
        "higher_rate_without_overfitting", "pretrain_best_lrl_rate_higher")


@pytest.mark.parametrize("outcome, status", [("holds", core.HOLDS), ("fails", core.FAILS), ("noise", core.INCONCLUSIVE)])
def test_fig2_fronts(tmp_path, bigram, outcome, status):
    bigram(LEARNED)
    verdicts = [v for v in om.fig2_fronts(fronts_frame(tmp_path, outcome), ["hrl_lrl_fi"])
                if v.claim not in (om.FIG2_NO_EARLY_STOP, om.FIG2_FRONT_SUBSET)]  # each has its own test below
    assert _statuses(verdicts) == {c: {status} for c in FIG2}, [(v.claim.id, v.status, str(v.effect)) for v in verdicts]
    training = next(v for v in verdicts if v.claim == om.FIG2_REGULARISATION)
    assert sorted(training.numbers["gap_per_seed"]) == [0, 1, 2] and training.effect.seeds == (3, 3)
    # the exposure behind the gap: fine-tuning sees the LRL for 2 of 4 evaluation intervals
    assert training.numbers["lrl_examples_seen_pretrain_over_static"] == pytest.approx({r: 0.5 for r in RATES})
    if outcome == "noise":  # the seeds' gaps, not the rates': 0.05 + (0.4, -0.4, 0.05)
        assert training.numbers["gap_per_seed"] == pytest.approx({0: 0.45, 1: -0.35, 2: 0.1}, abs=1e-9)


def test_fig16_without_two_fully_seeded_rates_gives_no_verdict(tmp_path, bigram):
    """Where only the middle rate has every seed (the grid of most presets) there is no best
    rate to choose: inconclusive, saying so -- not a tie."""
    bigram(LEARNED)
    [v] = [x for x in om.fig2_fronts(fronts_frame(tmp_path, "holds", every_rate=False), ["hrl_lrl_fi"])
           if x.claim == om.FIG16_HIGHER_BEST_RATE]
    assert v.status == core.INCONCLUSIVE and v.effect is None and "no best rate to choose" in v.note
    assert v.numbers["rates"] == [MID]


def test_fig16_cannot_find_a_higher_best_rate_above_the_grids_top(tmp_path, bigram):
    """Static sampling best at the grid's highest rate: no higher rate exists on the grid, so
    "pre-training's best rate is higher" is out of regime (gate `headroom`), not "does not
    hold" by construction (mini's two temperatures: both fronts best at τ=5)."""
    bigram(LEARNED)
    df = fronts_frame(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    top = df[(df.method == om.STATIC) & (df.rate == 0.9)].index
    runs = [_run(tmp_path, f"static-0.9-best-{seed}", {hrl: STATIC_HRL, lrl: [8, 5, 3.5, 3.6, 3.7]}, seed,
                 {hrl: 0.05, lrl: 0.05}, seen={lrl: _static_seen(0.9)}) for seed in df.loc[top, "seed"]]
    df.loc[top, "run_obj"] = pd.Series(runs, index=top)
    [v] = [x for x in om.fig2_fronts(df, ["hrl_lrl_fi"]) if x.claim == om.FIG16_HIGHER_BEST_RATE]
    assert v.status == core.OUT_OF_REGIME and v.numbers["best_rate_static"] == 0.9, (v.status, v.note)
    room = next(g for g in v.gates if g.name == "headroom")
    assert not room.passed and "both best rates are the grid's highest (0.9)" in room.measured
    assert all(g.passed for g in v.gates if g is not room)  # the only reason


@pytest.mark.parametrize("best_a, top_a, best_b, top_b, decided", [
    (0.5, 0.9, 0.3, 0.9, True),    # both inside the grid
    (0.9, 0.9, 0.5, 0.9, True),    # a higher than b's inner optimum: higher still beyond the top
    (0.3, 0.9, 0.9, 0.9, True),    # a's exact optimum below b's lower bound: not higher, however far b's goes
    (0.9, 0.9, 0.9, 0.9, False),   # both at the top: either may lie beyond
    (0.7, 0.9, 0.5, 0.5, False),   # b's grid stops at its best, below a's: b's optimum may pass a's
    (0.5, 0.5, 0.7, 0.9, False),   # a's grid stops at its best, below b's: a's optimum may pass b's
])
def test_headroom_says_when_rate_grids_can_order_two_best_rates(best_a, top_a, best_b, top_b, decided):
    g = gates.headroom("pre-training", best_a, top_a, "static", best_b, top_b)
    assert g.passed is decided and g.name == "headroom" and g.measured


def subset_frame(root, lrl_finals, top_curve, hrl_finals=(3.0, 3.1, 3.2, 3.3, 3.4)):
    """Static sampling whose HRL worsens with the LRL rate (as in real runs, by default), LRL
    finals per rate and the top rate's whole LRL curve; pre-training as in the "holds" fronts."""
    hrl_final = dict(zip(RATES, hrl_finals))
    lrl = {r: [8, 6, 5, 4.5 + (f - 4.5) / 2, f] for r, f in zip(RATES, lrl_finals)}
    lrl[0.9] = top_curve
    static = lambda r, s: {"hrl": [8, 6, 4, 3.5, hrl_final[r]], "lrl": lrl[r]}
    pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(4.2)}
    return nmt_frame(root, "hrl_lrl_fi", {om.STATIC: static, om.PRETRAIN: pre})


MONOTONE_HRL, PEAKED_HRL = (3.0, 3.1, 3.2, 3.3, 3.4), (3.0, 3.1, 3.4, 3.3, 3.2)


@pytest.mark.parametrize("lrl_finals, top_curve, hrl_finals, status, failed", [
    ((6.2, 4.9, 4.5, 4.8, 4.8), [8, 5, 4.0, 4.4, 4.8], MONOTONE_HRL, core.HOLDS, []),  # 0.7, 0.9 worse than 0.5 on both
    # past the LRL's best rate (0.5) the HRL improves again: every rate still trades off
    ((6.2, 4.9, 4.5, 4.6, 4.7), [8, 5, 4.0, 4.35, 4.7], PEAKED_HRL, core.FAILS, []),
    # the LRL still improves at the top rate despite overfitting over time: no rate above its
    # best for overfitting to push off, every rate on the front by construction of the grid
    ((6.2, 4.9, 4.5, 4.3, 4.1), [8, 5, 4.0, 4.05, 4.1], MONOTONE_HRL, core.OUT_OF_REGIME, ["overshoot"]),
    ((6.2, 4.9, 4.5, 4.8, 4.8), [8, 6, 5, 4.9, 4.8], MONOTONE_HRL, core.OUT_OF_REGIME, ["overfits"]),  # never overfits
])
def test_fig2_front_is_a_subset_of_rates(tmp_path, bigram, lrl_finals, top_curve, hrl_finals, status, failed):
    bigram(LEARNED)
    [v] = [x for x in om.fig2_fronts(subset_frame(tmp_path, lrl_finals, top_curve, hrl_finals), ["hrl_lrl_fi"])
           if x.claim == om.FIG2_FRONT_SUBSET]
    assert v.status == status, (v.status, str(v.effect), v.note)
    assert [g.name for g in v.gates if not g.passed] == failed
    assert v.numbers["rates"] == list(RATES)
    if status == core.HOLDS:
        assert v.effect.estimate == pytest.approx(0.2, abs=0.02)  # 0.9 vs 0.5: 0.2 worse on the HRL, 0.3 on the LRL


@pytest.mark.parametrize("hrl_curve, noise, lrl_top, status", [
    ([8, 6, 4.0, 3.5, 3.2], 0.05, [8, 5, 4.0, 4.4, 4.8], core.HOLDS),          # en-it still falls after en-fi's minimum
    ([8, 6, 3.2, 3.2, 3.2], 0.02, [8, 5, 4.0, 4.4, 4.8], core.FAILS),          # converged when en-fi turned: early stop
    ([8, 6, 3.25, 3.25, 3.2], 1.5, [8, 5, 4.0, 4.4, 4.8], core.INCONCLUSIVE),
    ([8, 6, 4.0, 3.5, 3.2], 0.05, [8, 6, 5, 4.7, 4.6], core.OUT_OF_REGIME),    # static never overfits en-fi
])
def test_fig2_static_cannot_early_stop(tmp_path, bigram, hrl_curve, noise, lrl_top, status):
    """Order Matters §1/§6: static sampling at its highest rate overfits the LRL while the HRL
    has not converged -- the HRL's loss at the LRL's minimum (step 200) against at the end."""
    bigram(LEARNED)
    df = fronts_frame(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    top = df[(df.method == om.STATIC) & (df.rate == 0.9)].index
    runs = [_run(tmp_path, f"static-0.9-{seed}", {hrl: hrl_curve, lrl: lrl_top}, seed, {hrl: noise, lrl: 0.05},
                 seen={lrl: _static_seen(0.9)}) for seed in df.loc[top, "seed"]]
    df.loc[top, "run_obj"] = pd.Series(runs, index=top)
    [v] = [v for v in om.fig2_fronts(df, ["hrl_lrl_fi"]) if v.claim == om.FIG2_NO_EARLY_STOP]
    assert v.status == status, (v, v.effect)
    if status != core.OUT_OF_REGIME:
        assert (v.numbers["lrl_min_step"], v.numbers["last_step"]) == (200, 400)


def test_fig2_fronts_out_of_regime_when_nothing_was_learned(tmp_path, bigram):
    bigram(UNLEARNED)
    verdicts = om.fig2_fronts(fronts_frame(tmp_path, "holds"), ["hrl_lrl_fi"])
    assert _all(verdicts) == {core.OUT_OF_REGIME} and all("not judged" in v.note for v in verdicts)


def test_fig2_front_claims_need_static_to_overfit(tmp_path, bigram):
    bigram(LEARNED)
    df = fronts_frame(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    no_overfit = df[(df.method == om.STATIC) & (df.rate == 0.9)].index
    run = _run(tmp_path, "static-0.9-steady", {hrl: STATIC_HRL, lrl: [8, 6, 5, 4.7, 4.6]}, 0, 0.05, seen={lrl: _static_seen(0.9)})
    df.loc[no_overfit, "run_obj"] = pd.Series([run] * len(no_overfit), index=no_overfit)
    s = _statuses(om.fig2_fronts(df, ["hrl_lrl_fi"]))
    assert s["pretrain_beats_static"] == s["restart_does_not_explain"] == {core.OUT_OF_REGIME}


def test_fig2_higher_rate_needs_as_many_lrl_examples_as_static_overfit_after(tmp_path, bigram):
    """Fine-tuning that stops before seeing as many LRL examples as static sampling had seen
    at its LRL minimum cannot show that it avoids overfitting: out of regime (gate `exposed`)."""
    bigram(LEARNED)
    df = fronts_frame(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    top = df[(df.method == om.STATIC) & (df.rate == 0.9)].index
    late_minimum = [8, 6, 5, 3.6, 4.4]  # lowest at step 300: 3 intervals of examples, fine-tuning sees 2
    runs = [_run(tmp_path, f"static-0.9-late-{seed}", {hrl: STATIC_HRL, lrl: late_minimum}, seed, 0.05,
                 seen={lrl: _static_seen(0.9)}) for seed in df.loc[top, "seed"]]
    df.loc[top, "run_obj"] = pd.Series(runs, index=top)
    [v] = [v for v in om.fig2_fronts(df, ["hrl_lrl_fi"]) if v.claim == om.FIG2_HIGHER_RATE]
    assert v.status == core.OUT_OF_REGIME, (v.status, v.note)
    exposed = next(g for g in v.gates if g.name == "exposed")
    assert not exposed.passed and exposed.numbers["seen"] / exposed.numbers["needed"] == pytest.approx(2 / 3)
    assert gates.exposed("en-ro", 300, 200, "static").passed and not gates.exposed("en-ro", 199, 200, "static").passed
    assert not gates.exposed("en-ro", 300, 0, "static").passed  # a reference that never overfit shows nothing


def test_fig2_compares_the_rates_with_every_seed(tmp_path, bigram):
    bigram(LEARNED)
    verdicts = om.fig2_fronts(fronts_frame(tmp_path, "holds", every_rate=False), ["hrl_lrl_fi"])
    front, restart = verdicts[0], verdicts[1]
    assert front.numbers["rates_static"] == front.numbers["rates_pretrain"] == [MID] and front.effect.seeds == (3, 3)
    assert restart.numbers["rates_restart"] == [MID] and restart.effect.seeds == (3, 3)
    # with every seed at every rate the whole fronts are compared, seed by seed
    every = om.fig2_fronts(fronts_frame(tmp_path / "every", "holds"), ["hrl_lrl_fi"])[0]
    assert every.numbers["rates_static"] == list(RATES) and every.effect.seeds == (3, 3)
    assert front.scope == "hrl_lrl_fi"


# ------------------------------------------------------------------------------ A3, Fig. 3 and 4

def efficiency_frame(root, outcome):
    if outcome == "holds":
        pre_mid, slopes, top = 4.2, (0.1, 0.21, 0.3, 0.42, 0.5), [8, 5, 4.0, 4.4, 4.8]
    elif outcome == "fails":
        pre_mid, slopes, top = 6.3, (0.5, 0.42, 0.3, 0.21, 0.1), [8, 6, 5, 4.6, 4.5]
    else:
        pre_mid, slopes, top = 5.0, (0.3, 0.1, 0.3, 0.1, 0.3), [8, 5, 3.6, 4.5, 3.7]
    slope = dict(zip(RATES, slopes))
    lrl = {**STATIC_LRL, 0.9: top}
    # static's LRL training-subset loss falls linearly with the LRL examples seen, at `slope` per 1000
    # noise: the top rate's training loss also differs by seed, more than the mean step
    jitter = {0: 0.8, 1: -0.8, 2: 0.1} if outcome == "noise" else {0: 0.0, 1: 0.0, 2: 0.0}
    static = lambda r, s: {"hrl": STATIC_HRL, "lrl": lrl[r],
                           "train": [8 - slope[r] * r * 100 * BATCH * i / 1000 + (jitter[s] if r == 0.9 else 0) for i in range(5)]}
    other = 6.3 if outcome == "fails" else 4.5  # pre-training's other rates: no better than its middle one
    init = {"holds": 7.0, "fails": 8.0, "noise": 7.9}[outcome]  # the LRL loss pre-training alone leaves (random: 8)
    pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(pre_mid if r == MID else other, init=init)}
    return nmt_frame(root, "hrl_lrl_fi", {om.STATIC: static, om.PRETRAIN: pre},
                     noise=(0.05, 3.0 if outcome == "noise" else 0.05))


def test_fig4_two_rates_with_seeds_give_an_interval(tmp_path, bigram):
    """Two rates (mini's grid) with three seeds each: the step between them gets a t-interval
    over the seeds -- higher rate worse at equal examples is 'does not hold', not 'no interval'."""
    bigram(LEARNED)
    slope = {0.1: 0.5, 0.5: 0.1}  # the lower rate's training loss falls faster per example
    jitter = {0: 0.02, 1: -0.02, 2: 0.0}
    static = lambda r, s: {"hrl": STATIC_HRL, "lrl": STATIC_LRL[r],
                           "train": [8 - slope[r] * r * 100 * BATCH * i / 1000 + jitter[s] * i for i in range(5)]}
    pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(4.2)}
    df = nmt_frame(tmp_path, "hrl_lrl_fi", {om.STATIC: static, om.PRETRAIN: pre}, rates=(0.1, 0.5))
    [v] = [v for v in om.fig3_efficiency(df, ["hrl_lrl_fi"]) if v.claim == om.FIG4_FASTER]
    assert v.effect is not None and v.effect.seeds == (3, 3) and v.status == core.FAILS, (v.status, str(v.effect), v.note)
    assert sorted(v.numbers["step_per_seed"]) == [0, 1, 2]


@pytest.mark.parametrize("outcome, status", [("holds", core.HOLDS), ("fails", core.FAILS), ("noise", core.INCONCLUSIVE)])
def test_fig3_efficiency(tmp_path, bigram, outcome, status):
    bigram(LEARNED)
    verdicts = om.fig3_efficiency(efficiency_frame(tmp_path, outcome), ["hrl_lrl_fi"])
    assert _statuses(verdicts) == {c: {status} for c in ("better_with_fewer_lrl_examples", "more_data_efficient",
                                                         "better_initialization", "higher_rates_train_faster",
                                                         "high_rate_overfits")}, \
        [(v.claim.id, str(v.effect)) for v in verdicts]
    init = next(v for v in verdicts if v.claim == om.FIG3_BETTER_INIT)
    assert (init.numbers["step_pretrain"], init.numbers["step_static"]) == (FORK, 0)  # no LRL example seen by either


def test_fig3_compares_at_equal_lrl_examples(tmp_path, bigram):
    bigram(LEARNED)
    verdicts = om.fig3_efficiency(efficiency_frame(tmp_path, "holds"), ["hrl_lrl_fi"])
    [v] = [x for x in verdicts if x.claim == om.FIG3_MORE_EFFICIENT]
    # pre-training at rate 0.5 saw 3,200 LRL examples by its end; static at 0.5 had seen as many at step 200
    assert (v.numbers["step_pretrain"], v.numbers["step_static"]) == (400, 200)
    assert v.numbers["lrl_examples"] == 3200
    # Fig. 22's sentence: the two runs' ends, pre-training with fewer LRL examples (3,200 against 6,400)
    [fewer] = [x for x in verdicts if x.claim == om.FIG3_DATA_EFFICIENT]
    assert (fewer.numbers["lrl_examples_pretrain"], fewer.numbers["lrl_examples_static"]) == (3200, 6400)
    assert fewer.effect.estimate == pytest.approx(4.5 - 4.2, abs=0.03)


def test_fig3_fewer_examples_claim_needs_pretraining_to_have_seen_fewer(tmp_path, bigram):
    """'Even with less overall examples seen': when pre-training's best run saw at least as many
    LRL examples as static sampling's, the sentence's premise is missing -- out of regime."""
    bigram(LEARNED)
    df = efficiency_frame(tmp_path, "holds")
    lrl = E.hrl_lrl("hrl_lrl_fi")[1]
    best = df[(df.method == om.PRETRAIN) & (df.rate == MID)].index
    runs = [_run(tmp_path, f"pre-long-{seed}", {E.hrl_lrl("hrl_lrl_fi")[0]: PRETRAIN_HRL, lrl: _pre(4.2, init=7.0)}, seed,
                 0.05, fork_at=FORK, seen={lrl: [0, 0, 0, 5000, 10000]}) for seed in df.loc[best, "seed"]]
    df.loc[best, "run_obj"] = pd.Series(runs, index=best)
    [v] = [x for x in om.fig3_efficiency(df, ["hrl_lrl_fi"]) if x.claim == om.FIG3_DATA_EFFICIENT]
    assert v.status == core.OUT_OF_REGIME and [g.name for g in v.gates if not g.passed] == ["fewer"], v.note


def test_a_curve_still_falling_at_its_end_gets_a_negative_rise_with_an_interval(tmp_path, bigram):
    """The highest static rate's LRL curve is lowest at its last evaluation ("fails": 4.6 then
    4.5): the rise is measured from the best earlier evaluation, so the effect is about -0.1
    with a real interval, not a zero-width 0 from the end to itself."""
    bigram(LEARNED)
    v = [v for v in om.fig3_efficiency(efficiency_frame(tmp_path, "fails"), ["hrl_lrl_fi"])
         if v.claim.id == "order.fig4.high_rate_overfits"][0]
    # the numbers name the point the rise is measured from: step 300, one evaluation before the end
    assert v.status == core.FAILS and (v.numbers["min_step"], v.numbers["last_step"]) == (300, 400)
    assert v.numbers["lrl_min"] == pytest.approx(4.6, abs=0.03) and v.numbers["lrl_end"] == pytest.approx(4.5, abs=0.03)
    assert v.effect.estimate == pytest.approx(-0.1, abs=0.03) and v.effect.low < v.effect.high < 0


def test_fig3_efficiency_out_of_regime(tmp_path, bigram):
    bigram(UNLEARNED)
    assert _all(om.fig3_efficiency(efficiency_frame(tmp_path, "holds"), ["hrl_lrl_fi"])) == {core.OUT_OF_REGIME}


# ------------------------------------------------------------------------------ A4, Fig. 5

def dropout_frame(root, pretrain_best, dropout_best, noise=0.05):
    pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(pretrain_best if r == 0.9 else pretrain_best + 0.3)}
    static = lambda r, s: {"hrl": STATIC_HRL, "lrl": STATIC_LRL[r] if noise < 1 else {**STATIC_LRL, 0.9: [8, 5, 3.5, 4.5, 5.5]}[r]}
    drop = lambda r, s: {"hrl": STATIC_HRL, "lrl": _pre(dropout_best)} if r in (0.3, 0.5) else None
    return nmt_frame(root, "hrl_lrl_fi", {om.STATIC: static, om.PRETRAIN: pre, f"{om.STATIC}, dropout 0.3": drop},
                     noise=(0.05, noise))


@pytest.mark.parametrize("pre, drop, noise, bigram_value, status", [
    (4.1, 4.5, 0.05, LEARNED, core.HOLDS),
    (4.8, 4.4, 0.05, LEARNED, core.FAILS),
    (4.4, 4.4, 1.5, LEARNED, core.INCONCLUSIVE),
    (4.1, 4.5, 0.05, UNLEARNED, core.OUT_OF_REGIME),
])
def test_fig5_regularisation(tmp_path, bigram, pre, drop, noise, bigram_value, status):
    bigram(bigram_value)
    [v] = om.fig5_regularisation(dropout_frame(tmp_path, pre, drop, noise), "hrl_lrl_fi", 0.3)
    assert v.status == status, (v.status, str(v.effect))
    assert v.numbers["rates_dropout"] == [0.3, 0.5]


def test_fig5_needs_the_dropout_arm_to_learn_and_shows_whether_it_regularised(tmp_path, bigram):
    """A dropout so strong that static sampling no longer learns its HRL (5.5 against a 6.0
    bigram) would make 'pre-training beats more dropout' hold for nothing: out of regime."""
    bigram(LEARNED)
    [v] = om.fig5_regularisation(dropout_frame(tmp_path, 4.1, 4.5), "hrl_lrl_fi", 0.3)
    assert v.status == core.HOLDS and set(v.numbers["lrl_train_loss_dropout_minus_static"]) == {0.3, 0.5}
    pre = lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(4.1 if r == 0.9 else 4.4)}
    static = lambda r, s: {"hrl": STATIC_HRL, "lrl": STATIC_LRL[r]}
    drop = lambda r, s: {"hrl": [8, 7, 6, 5.7, 5.5], "lrl": _pre(4.5)} if r in (0.3, 0.5) else None
    df = nmt_frame(tmp_path / "strong", "hrl_lrl_fi", {om.STATIC: static, om.PRETRAIN: pre, f"{om.STATIC}, dropout 0.3": drop})
    [v] = om.fig5_regularisation(df, "hrl_lrl_fi", 0.3)
    assert v.status == core.OUT_OF_REGIME and [g.name for g in v.gates if not g.passed] == ["learned"], v.note
    assert "dropout 0.3" in v.note


def test_lm_claims_gate_on_the_lm_margin(tmp_path, bigram):
    """A language model has no source sentence: the LM claims' learned and pretrained gates ask
    0.5 nats below the bigram (gates.LM_LEARNED_MARGIN), not translation's 1 nat -- English
    0.7 below its bigram is learned."""
    bigram(3.2 + 0.7)  # temperature sampling's English ends at 3.2; pre-training's reaches 3.4 at its fork
    verdicts = om.fig7_multilingual_lm(lm_frame(tmp_path, "holds"), LM, 3.33)
    assert all(g.passed for v in verdicts for g in v.gates if g.name in ("learned", "pretrained")), \
        [g.measured for v in verdicts[:1] for g in v.gates]


# ------------------------------------------------------------------------------ A5, Fig. 6

def finetune_only_frame(root, only_hrl, only_lrl, noise=0.05):
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    df = nmt_frame(root, "hrl_lrl_fi", {om.PRETRAIN: lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(4.1 if r == 0.9 else 4.5)}},
                   noise=(noise, noise))
    only = [(_run(root, f"lrl-only-{seed}", {hrl: only_hrl, lrl: only_lrl}, seed, noise, fork_at=FORK),
             dict(method=om.FT_ONLY, rate=1.0, seed=seed)) for seed in (0, 1, 2)]
    return pd.concat([df, frame(only)], ignore_index=True)


@pytest.mark.parametrize("only_hrl, only_lrl, noise, bigram_value, status", [
    ([8, 5, 3.4, 4.0, 4.6], _pre(4.8), 0.05, LEARNED, core.HOLDS),     # HRL forgotten, LRL worse than joint FT
    ([8, 5, 3.4, 3.4, 3.4], _pre(3.8), 0.05, LEARNED, core.FAILS),     # HRL kept, LRL better than joint FT
    ([8, 5, 3.4, 3.4, 3.35], _pre(4.1), 1.5, LEARNED, core.INCONCLUSIVE),  # the HRL about kept, in each run's own noise
    ([8, 5, 3.4, 4.0, 4.6], _pre(4.8), 0.05, UNLEARNED, core.OUT_OF_REGIME),
])
def test_fig6_finetune_only(tmp_path, bigram, only_hrl, only_lrl, noise, bigram_value, status):
    bigram(bigram_value)
    verdicts = om.fig6_finetune_only(finetune_only_frame(tmp_path, only_hrl, only_lrl, noise), "hrl_lrl_fi")
    assert _statuses(verdicts) == {"lrl_only_forgets_hrl": {status}, "joint_beats_lrl_only": {status}}, \
        [(v.claim.id, str(v.effect)) for v in verdicts]
    forgets, joint = verdicts
    # the record's losses are seed means (they were once sums over the three seeds)
    tol = 0.05 + noise / 3  # 120 sentences of per-sentence spread `noise`
    assert forgets.numbers["hrl_loss_after_pretraining"] == pytest.approx(only_hrl[2], abs=tol)
    assert forgets.numbers["hrl_loss_after_lrl_only"] == pytest.approx(only_hrl[-1], abs=tol)
    assert forgets.numbers["hrl_loss_joint"] == pytest.approx(PRETRAIN_HRL[-1], abs=tol)
    assert joint.numbers["best_lrl_loss_lrl_only_during_run"] == pytest.approx(min(only_lrl[2:]), abs=tol)


# ------------------------------------------------------------------------------ A6, Fig. 7 and 8

LM = "lm_order_matters"  # en, es (mid-resource), fi, zh_CN, sv (low-resource)


def lm_frame(root, outcome, tau=3.33):
    en, es, *low = ("en", "es", "fi", "zh_CN", "sv")
    if outcome == "holds":  # ... and English under temperature sampling still falls after the LRLs' minimum
        temp_low, pre_low, restart_low, pre_en = [8, 5, 4.0, 4.4, 4.8], _pre(3.5), [8, 5, 4.2, 3.8, 3.7], [8, 4.5, 3.4, 3.1, 3.0]
        temp_en = [8, 5, 4, 3.5, 3.2]
    elif outcome == "fails":  # ... and English has converged (then worsens) by the LRLs' minimum
        temp_low, pre_low, restart_low, pre_en = [8, 5, 4.0, 4.4, 4.8], _pre(4.5), [8, 5, 4.2, 4.1, 4.2], [8, 4.5, 3.6, 3.5, 3.45]
        temp_en = [8, 5, 3.2, 3.25, 3.3]
    else:
        temp_low, pre_low, restart_low, pre_en = [8, 5, 3.0, 4.5, 6.0], _pre(3.0), [8, 5, 3.0, 3.0, 3.1], [8, 4.5, 3.4, 3.3, 3.2]
        temp_en = [8, 5, 3.22, 3.22, 3.2]
    noise = {en: 0.3, es: 0.3, **{lang: 1.5 for lang in low}} if outcome == "noise" else 0.05
    runs = {
        f"temperature τ={tau:g}": ({en: temp_en, es: [8, 5, 4.5, 4.3, 4.2], **{l: temp_low for l in low}}, None),
        om.RESTART: ({en: [8, 5, 4, 3.5, 3.2], es: [8, 5, 4.5, 4.3, 4.2], **{l: restart_low for l in low}}, FORK),
        om.LM_PRETRAIN: ({en: pre_en, es: _pre(4.4), **{l: pre_low for l in low}}, FORK),
    }
    return frame([(_run(root, f"lm-{i}-{seed}", curves, seed, noise, fork_at=fork), {"method": m, "seed": seed})
                  for i, (m, (curves, fork)) in enumerate(runs.items()) for seed in (0, 1, 2)])


@pytest.mark.parametrize("outcome, status", [("holds", core.HOLDS), ("fails", core.FAILS), ("noise", core.INCONCLUSIVE)])
def test_fig7_multilingual_lm(tmp_path, bigram, outcome, status):
    bigram(LEARNED)
    verdicts = om.fig7_multilingual_lm(lm_frame(tmp_path, outcome), LM, 3.33)
    assert _statuses(verdicts) == {c: {status} for c in ("pretrain_beats_temperature_lrl", "pretrain_beats_restart_lrl",
                                                         "english_slight_enhancement", "restart_helps_lrl",
                                                         "lrl_overfits_before_english_converges")}, \
        [(v.claim.id, v.scope, str(v.effect)) for v in verdicts]
    assert [v.scope for v in verdicts] == ["fi", "zh_CN", "sv"] * 2 + ["en"] + ["fi", "zh_CN", "sv"] * 2  # no average


def test_fig7_out_of_regime(tmp_path, bigram):
    bigram(UNLEARNED)
    assert _all(om.fig7_multilingual_lm(lm_frame(tmp_path, "holds"), LM, 3.33)) == {core.OUT_OF_REGIME}


def test_fig7_compares_the_best_over_the_run(tmp_path, bigram):
    """The paper compares optima ("better optima", "superior lower bound performance"): the
    temperature baseline that overfits is judged at its minimum, not at its end."""
    bigram(LEARNED)
    v = om.fig7_multilingual_lm(lm_frame(tmp_path, "holds"), LM, 3.33)[0]
    assert v.numbers["best_loss_temperature"] == pytest.approx(4.0, abs=0.02)
    assert v.effect.estimate == pytest.approx(0.5, abs=0.03)  # 4.0 - 3.5, not 4.8 - 3.5


def test_a_pretrained_runs_best_english_is_its_fine_tunings_not_its_pretrainings(tmp_path, bigram):
    """English-only pre-training reaches 3.0 at the fork (step 200); after joint fine-tuning the
    multilingual model ends at 3.4, worse than temperature sampling's 3.2. The best over the run
    is the fine-tuning's (3.4): 'a slight enhancement on English' does not hold (it held at
    +0.2 when the fork's English-only model counted)."""
    bigram(LEARNED)
    df = lm_frame(tmp_path, "holds")
    pre = df[df.method == om.LM_PRETRAIN].index
    low = {lang: _pre(3.5) for lang in ("fi", "zh_CN", "sv")}
    runs = [_run(tmp_path, f"lm-en-{seed}", {"en": [8, 4.0, 3.0, 3.6, 3.4], "es": _pre(4.4), **low}, seed, 0.05,
                 fork_at=FORK) for seed in df.loc[pre, "seed"]]
    df.loc[pre, "run_obj"] = pd.Series(runs, index=pre)
    [v] = [x for x in om.fig7_multilingual_lm(df, LM, 3.33) if x.claim == om.FIG7_ENGLISH]
    assert v.status == core.FAILS and v.effect.estimate == pytest.approx(3.2 - 3.4, abs=0.03), (v.status, str(v.effect))
    assert v.numbers["best_loss_pretrain"] == pytest.approx(3.4, abs=0.03)


# ------------------------------------------------------------------------------ A7, Fig. 9

def length_frames(root, outcome):
    en, es, *low = ("en", "es", "fi", "zh_CN", "sv")
    noise = 0.05
    short = {en: [8, 3.8, 3.4, 3.2, 3.0], es: [8, 8, 4.5, 4.3, 4.2], **{l: [8, 8, 4.5, 4.3, 4.2] for l in low}}
    if outcome == "holds":
        long = {en: [8, 3.8, 3.4, 3.3, 3.3], es: [8, 8, 8, 4.6, 4.5], **{l: _pre(3.8) for l in low}}
        nmt_long = ([8, 3.8, 3.4, 3.2, 3.0], _pre(4.0))
    elif outcome == "fails":
        long = {en: [8, 3.8, 3.4, 3.0, 2.8], es: [8, 8, 8, 4.0, 3.9], **{l: _pre(4.5) for l in low}}
        nmt_long = ([8, 3.8, 3.4, 3.3, 3.4], _pre(4.8))
    else:
        long = {en: [8, 3.8, 3.4, 3.2, 3.0], es: [8, 8, 8, 4.3, 4.2], **{l: _pre(4.2) for l in low}}
        nmt_long = ([8, 4.5, 4.0, 3.2, 3.3], _pre(4.4))
        noise = {en: 0.5, es: 1.5, **{l: 1.5 for l in low}}
    lm = frame([(_run(root, f"lm-{p}-{seed}", curves, seed, noise, fork_at=p), {"pretrain": p, "seed": seed})
                for p, curves in ((100, short), (200, long)) for seed in (0, 1, 2)])
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    nmt_noise = 0.05 if outcome != "noise" else 1.5
    nmt_curves = {100: ([8, 3.8, 3.5, 3.4, 3.3], [8, 8, 5, 4.6, 4.4]), 200: ([8, 3.8, 3.4, 3.3, 3.2], _pre(4.3)), 300: nmt_long}
    nmt = frame([(_run(root, f"nmt-{p}-{r}-{seed}", {hrl: h, lrl: [x + (r - 0.5) ** 2 for x in l]}, seed, nmt_noise,
                       fork_at=p), {"pretrain": p, "rate": r, "seed": seed})
                 for p, (h, l) in nmt_curves.items() for r in (0.3, 0.5, 0.7) for seed in (0, 1, 2)])
    return lm, nmt


@pytest.mark.parametrize("outcome, status", [("holds", core.HOLDS), ("fails", core.FAILS), ("noise", core.INCONCLUSIVE)])
def test_fig9_pretraining_length(tmp_path, bigram, outcome, status):
    bigram(LEARNED)
    verdicts = om.fig9_pretraining_length(*length_frames(tmp_path, outcome), LM, "hrl_lrl_fi")
    assert _statuses(verdicts) == {c: {status} for c in ("lm_longer_pretraining_helps_lrl", "lm_longer_pretraining_costs_hrl",
                                                         "nmt_longer_pretraining_better_front")}, \
        [(v.claim.id, v.scope, str(v.effect)) for v in verdicts]
    assert [v.scope for v in verdicts] == ["LM fi", "LM zh_CN", "LM sv", "LM en", "LM es", "NMT hrl_lrl_fi en-it",
                                           "NMT hrl_lrl_fi en-fi"]


def test_fig9_nmt_front_is_judged_on_each_task_not_on_their_mean(tmp_path, bigram):
    """'Better overall trade-off fronts, not just for the low-resource task': the longest
    pre-training 0.4 better on en-fi but 0.1 worse on en-it holds for en-fi and does not
    for en-it (their equal-weight mean, +0.15, held as a whole)."""
    bigram(LEARNED)
    lm, nmt = length_frames(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    longest = nmt.pretrain == 300
    runs = [_run(tmp_path, f"nmt-300-mixed-{r}-{seed}", {hrl: [8, 3.8, 3.4, 3.3, 3.4], lrl: [x + (r - 0.5) ** 2 for x in _pre(4.0)]},
                 seed, 0.05, fork_at=300) for r, seed in zip(nmt.loc[longest, "rate"], nmt.loc[longest, "seed"])]
    nmt.loc[longest, "run_obj"] = pd.Series(runs, index=nmt.index[longest])
    got = {v.scope: v.status for v in om.fig9_pretraining_length(lm, nmt, LM, "hrl_lrl_fi") if v.claim == om.FIG9_NMT}
    assert got == {"NMT hrl_lrl_fi en-it": core.FAILS, "NMT hrl_lrl_fi en-fi": core.HOLDS}


def test_fig9_out_of_regime_when_pretraining_has_stopped_falling(tmp_path, bigram):
    bigram(LEARNED)
    lm, nmt = length_frames(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    flat = _run(tmp_path, "nmt-300-flat", {hrl: [8, 3.8, 3.2, 3.3, 3.0], lrl: _pre(4.0)}, 0, 0.05, fork_at=300)
    nmt.loc[nmt.pretrain == 300, "run_obj"] = [flat] * 9  # the HRL no longer falls at the end of pre-training
    v = om.fig9_pretraining_length(lm, nmt, LM, "hrl_lrl_fi")[-1]
    assert v.status == core.OUT_OF_REGIME and "falling" in {g.name for g in v.gates if not g.passed}
    bigram(UNLEARNED)
    assert _all(om.fig9_pretraining_length(*length_frames(tmp_path / "b", "holds"), LM, "hrl_lrl_fi")) == {core.OUT_OF_REGIME}


def test_fig9_falling_gate_reads_the_mean_over_seeds(tmp_path, bigram):
    """One seed's pre-training that stalls at its end does not put the claim out of regime
    when the mean over seeds still falls there (nor does one seed decide the other way)."""
    bigram(LEARNED)
    lm, nmt = length_frames(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    flat = _run(tmp_path, "nmt-300-flat", {hrl: [8, 3.8, 3.2, 3.3, 3.0], lrl: _pre(4.0)}, 0, 0.05, fork_at=300)
    nmt.loc[(nmt.pretrain == 300) & (nmt.seed == 0), "run_obj"] = [flat] * 3
    gate = next(g for g in om.fig9_pretraining_length(lm, nmt, LM, "hrl_lrl_fi")[-1].gates if g.name == "falling")
    assert gate.passed and "mean over 3 seeds" in gate.measured


# ------------------------------------------------------------------------------ A8, Fig. 27 / 28

def bleu_frame(root, taskset, pre, static, seeds=(0, 1, 2), hrl_bleu=5.0):
    """pre / static: {seed: (LRL BLEU, LRL chrF)} at the middle rate (other rates 2 points lower)."""
    hrl, lrl = E.hrl_lrl(taskset)

    def spec(scores, curve):
        def of(rate, seed):
            bleu, chrf = scores[seed]
            off = 0 if rate == MID else 2
            return {"hrl": STATIC_HRL, "lrl": curve,
                    "final": {"bleu": {hrl: hrl_bleu, lrl: bleu - off}, "chrf": {hrl: 30.0, lrl: chrf - off}}}
        return of
    return nmt_frame(root, taskset, {om.STATIC: spec(static, STATIC_LRL[0.5]), om.PRETRAIN: spec(pre, _pre(4.2))}, seeds=seeds)


@pytest.mark.parametrize("pre, static, bigram_value, status, failed", [
    ({0: (22.0, 50.0), 1: (22.4, 51.0), 2: (22.2, 50.6)}, {0: (18.0, 45.0), 1: (18.3, 45.5), 2: (18.1, 45.2)}, LEARNED, core.HOLDS, []),
    ({0: (18.0, 45.0), 1: (18.3, 45.5), 2: (18.1, 45.2)}, {0: (22.0, 50.0), 1: (22.4, 51.0), 2: (22.2, 50.6)}, LEARNED, core.FAILS, []),
    ({0: (20.0, 48.0), 1: (23.0, 52.0), 2: (20.5, 48.5)}, {0: (21.0, 49.0), 1: (21.5, 50.0), 2: (21.2, 49.5)}, LEARNED, core.INCONCLUSIVE, []),
    ({0: (22.0, 50.0), 1: (22.4, 51.0), 2: (22.2, 50.6)}, {0: (18.0, 45.0), 1: (18.3, 45.5), 2: (18.1, 45.2)}, UNLEARNED, core.OUT_OF_REGIME,
     ["learned", "pretrained"]),
    # a clear chrF and BLEU lead, but static sampling barely translates the LRL (BLEU 8): not judged
    ({0: (12.0, 40.0), 1: (12.4, 41.0), 2: (12.2, 40.6)}, {0: (8.0, 35.0), 1: (8.3, 35.5), 2: (8.1, 35.2)}, LEARNED, core.OUT_OF_REGIME,
     ["scored"]),
])
def test_fig27_bleu_fronts(tmp_path, bigram, pre, static, bigram_value, status, failed):
    bigram(bigram_value)
    verdicts = om.fig27_bleu_fronts(bleu_frame(tmp_path, "hrl_lrl_fi", pre, static), ["hrl_lrl_fi"])
    assert _statuses(verdicts) == {"pretrain_beats_static_bleu": {status}, "pretrain_beats_static_chrf": {status}}, \
        [(v.claim.id, str(v.effect)) for v in verdicts]
    assert all([g.name for g in v.gates if not g.passed] == failed for v in verdicts)
    assert all(v.effect.unit in ("bleu", "chrf") and v.effect.seeds == (3, 3) for v in verdicts)


REFS = ["the cat sat on the mat", "a dog ran in the park", "it rains today", "we eat bread and cheese",
        "the sun is hot", "my house is small"]


def _keep_segments(df, segments=len(REFS)):
    """Every run of df keeps its LRL test segments' statistics (some words dropped, by run),
    and df's BLEU and chrF columns become the scores they give."""
    from paperlib import scores, store

    lrl = "en-fi"
    for i, row in df.iterrows():
        hyps = [" ".join(w for k, w in enumerate(r.split()) if (k + i + j) % 4) for j, r in enumerate(REFS[:segments])]
        stats = scores.segment_statistics(hyps, REFS[:segments], "fi")
        store.write_test_segments(row["run_obj"].dir, {lrl: stats})
        for metric, value in scores.bleu_chrf(hyps, REFS[:segments], "fi").items():
            df.loc[i, f"{metric}.{lrl}"] = value
    return df


def test_fig27_resamples_the_test_segments_the_runs_kept(tmp_path, bigram):
    """With every run's segments kept, Fig. 27/28's intervals resample them (and say so); a
    run whose file does not give its reported score, or arms scored on test sets of different
    sizes, leave the seeds alone."""
    from paperlib import store

    bigram(LEARNED)
    seeds = {0: (22.0, 50.0), 1: (22.4, 51.0), 2: (22.2, 50.6)}
    df = _keep_segments(bleu_frame(tmp_path, "hrl_lrl_fi", seeds, seeds))
    verdicts = om.fig27_bleu_fronts(df, ["hrl_lrl_fi"])
    assert all(v.numbers["test_segments_resampled"] and v.effect.sentences == len(REFS) for v in verdicts)
    stale = df.copy()
    stale.loc[stale.index[0], "bleu.en-fi"] += 1.0  # the file no longer gives the row's score
    v = om.fig27_bleu_fronts(stale, ["hrl_lrl_fi"])[0]
    assert not v.numbers["test_segments_resampled"] and v.effect.sentences == 0
    static = df[df.method == om.STATIC]
    _keep_segments(static, segments=len(REFS) - 1)  # another test-set size (eval.bleu_max_examples)
    df.update(static)
    v = om.fig27_bleu_fronts(df, ["hrl_lrl_fi"])[0]
    assert not v.numbers["test_segments_resampled"]
    assert store.read_test_segments(static["run_obj"].iloc[0].dir, "en-fi", "bleu").shape[0] == len(REFS) - 1


def test_fig27_one_seed_gives_no_interval(tmp_path, bigram):
    bigram(LEARNED)
    verdicts = om.fig27_bleu_fronts(bleu_frame(tmp_path, "hrl_lrl_sv", {0: (22.0, 50.0)}, {0: (18.0, 45.0)}, seeds=(0,)),
                                    ["hrl_lrl_sv"])
    assert _all(verdicts) == {core.INCONCLUSIVE} and all(v.effect is None and "one seed" in v.note for v in verdicts)
    assert verdicts[0].numbers["best_bleu_pretrain"] == 22.0


def test_learned_gate_prints_the_compared_rate_beside_its_decision(tmp_path, bigram):
    """The gate is decided where the HRL is learned best (rate 0.1: 3.0 nats), and a claim
    comparing rate 0.9 (HRL 3.4) shows that rate's loss beside it: 6.0 - 3.4 = 2.6 below."""
    bigram(LEARNED)
    df = subset_frame(tmp_path, (6.2, 4.9, 4.5, 4.8, 4.8), [8, 5, 4.0, 4.4, 4.8])
    static = df[df.method == om.STATIC]
    gate = om.learned_gate(static, "en-it", compared=0.9)
    assert gate.passed and "rate 0.1" in gate.measured and "at the compared rate 0.9" in gate.measured
    assert gate.numbers["compared_loss"] == pytest.approx(3.4, abs=0.02) and "2.6" in gate.measured
    assert "compared" not in om.learned_gate(static, "en-it", compared=0.1).measured  # the decided rate itself


def test_learned_gate_accepts_bleu(tmp_path, bigram):
    bigram(UNLEARNED)  # the loss is above the bigram, but BLEU >= 10 counts as learned
    df = bleu_frame(tmp_path, "hrl_lrl_fi", {0: (12.0, 40.0), 1: (12.4, 41.0), 2: (12.2, 40.6)},
                    {0: (8.0, 35.0), 1: (8.3, 35.5), 2: (8.1, 35.2)},
                    hrl_bleu=15.0)
    gate = om.learned_gate(df[df.method == om.STATIC], "en-it")
    assert gate.passed and "BLEU 15.0" in gate.measured


# ------------------------------------------------------------------------------ the claims themselves

def test_every_order_matters_claim_is_registered_and_judged_somewhere():
    ids = {c.id for c in om.CLAIMS}
    assert ids <= set(claims.CLAIMS) and len(ids) == len(om.CLAIMS)
    assert all(c.paper == om.PAPER and c.id.startswith("order.") and c.statement and c.gates for c in om.CLAIMS)
    assert all("learned" in c.gates for c in om.CLAIMS)
    # claims about the baselines alone (static / temperature sampling, the restart) need no pre-trained model
    baselines_alone = {om.FIG4_FASTER, om.FIG4_OVERFITS, om.FIG2_NO_EARLY_STOP, om.FIG7_RESTART_HELPS,
                       om.FIG7_OVERFITS_FIRST, om.FIG1_EVERY_RATE_ON_FRONT, om.FIG2_FRONT_SUBSET}
    assert all("pretrained" in c.gates for c in om.CLAIMS if c not in baselines_alone)
    assert all("falling" in c.gates for c in om.CLAIMS if ".fig9." in c.id)


def test_statistics_kept_here():
    mixed, tokens = om._mixed([(np.full((2, 3), 20.0), np.full(3, 10.0)), (np.full((2, 5), 40.0), np.full(5, 10.0))])
    assert mixed.sum(axis=-1)[0] / tokens.sum() == pytest.approx((2.0 + 4.0) / 2)  # the two tasks' mean, not pooled
    assert stats.score_gain([[10.0]], [[8.0, 8.5]], "bleu") is None
    assert stats.score_gain([[8.0, 8.0]], [[8.0, 8.0]], "bleu") is None  # alike on every seed: no zero-width interval
    assert stats.score_gain([[8.0, float("nan")]], [[8.0, 8.5]], "bleu") is None
    e = stats.score_gain([[12.0, 12.4], [9.0, 9.1]], [[8.0, 8.3]], "bleu")  # the best configuration of A counts
    assert e.estimate == pytest.approx(12.2 - 8.15) and e.low > 0
    e = om._mean_gain([0.1, 0.12, 0.11], "nats")
    assert e.estimate == pytest.approx(0.11) and e.low > 0
    assert om._mean_gain([0.1], "nats") is None


@pytest.mark.parametrize("seeds", [2, 3])
def test_seed_gain_aa_false_verdict_rate_is_at_most_five_percent(seeds):
    """A/A for the corpus-score statistic: both arms the same configuration, so "A beats B"
    is false; "holds" (interval above zero) must come out at most 5% of the time in either
    direction. Measured with 2,000 trials: 3.3% per direction with 2 seeds, 2-3% with 3."""
    rng = np.random.default_rng(seeds)
    trials, false = 300, [0, 0]
    for t in range(trials):
        a, b = rng.normal(10, 1, (1, seeds)), rng.normal(10, 1, (1, seeds))
        for direction, (x, y) in enumerate(((a, b), (b, a))):
            false[direction] += stats.score_gain(x, y, "bleu", n_boot=300, seed=t).low > 0
    assert max(false) / trials <= 0.05, false


def _segment_arm(rng, quality, seeds, seed_sd=0.002):
    """(1, seeds, segments, 2) toy corpus-score statistics (matches, total) of one method: each
    segment's match rate is the method's `quality` there, each seed adds its own small offset."""
    totals = np.full(len(quality), 20)
    rates = np.clip(quality[None, :] + rng.normal(0, seed_sd, (seeds, 1)), 0, 1)
    return np.stack([rng.binomial(totals, rates), np.broadcast_to(totals, rates.shape)], axis=-1)[None]


def _toy_score(summed):
    return 100 * summed[0] / summed[1]


def test_score_gain_resamples_the_test_segments():
    """Two methods equal in expectation, whose seeds agree closely, scored on 60 test segments
    where each method has its own strengths: a difference in their scores is test-set luck.
    Resampling the seeds alone gives an interval as narrow as the seeds' agreement, so "A
    beats B" comes out often (29% here); resampling the segments as well keeps it at most 5%
    (1.3%)."""
    rng = np.random.default_rng(31)
    trials, false = 150, {"seeds": 0, "segments": 0}
    for t in range(trials):
        sa, sb = (_segment_arm(rng, rng.uniform(0.2, 0.6, 60), 3) for _ in range(2))
        a, b = (np.apply_along_axis(_toy_score, -1, x.sum(axis=2)) for x in (sa, sb))  # (1, 3) each run's score
        if a.mean() < b.mean():
            a, b, sa, sb = b, a, sb, sa  # A the luckier: the claim "A beats B" is false in expectation
        false["seeds"] += stats.score_gain(a, b, "score", n_boot=300, seed=t).low > 0
        e = stats.score_gain(a, b, "score", n_boot=300, seed=t, segments=[(sa, sb, _toy_score)])
        false["segments"] += e.low > 0
        assert e.sentences == 60 and e.estimate == pytest.approx(a.mean() - b.mean())
    assert false["segments"] / trials <= 0.05 and false["seeds"] / trials > 0.2, false


def test_score_gain_segments_with_sacrebleu_and_runs(tmp_path):
    """Real BLEU statistics: kept per run (`store.write_test_segments`), read back by
    `evidence.test_segments` in the rows' order (None when a run kept none), and rescored by
    `scores.corpus_score`; mismatched shapes are refused."""
    from paperlib import scores, store
    from paperlib.claims import evidence
    from paperlib.store import Run

    refs = ["the cat sat on the mat", "a dog ran in the park", "it rains today", "we eat bread and cheese"]
    outputs = {0: ["the cat sat on a mat", "a dog ran in a park", "it rains", "we eat bread"],
               1: ["the cat sat on the mat", "the dog ran", "it rains today", "we eat cheese and bread"]}
    rows = []
    for seed, hyps in outputs.items():
        d = tmp_path / f"run{seed}"
        store.write_test_segments(d, {"en-it": scores.segment_statistics(hyps, refs, "it")})
        rows.append({"seed": seed, "run_obj": Run(d, None), "bleu.en-it": scores.bleu_chrf(hyps, refs, "it")["bleu"]})
    g = pd.DataFrame(rows)
    stats_a, stats_b, score = evidence.test_segments([g], [g], "en-it", "bleu")
    assert stats_a.shape[:3] == (1, 2, 4) and score(stats_a[0, 1].sum(axis=0)) == pytest.approx(rows[1]["bleu.en-it"])
    a = g["bleu.en-it"].to_numpy()[None]
    e = stats.score_gain(a, a - 1.0, "bleu", n_boot=200, segments=[(stats_a, stats_a, score)])
    assert e.sentences == 4 and e.estimate == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same test segments"):
        stats.score_gain(a, a - 1.0, "bleu", segments=[(stats_a[:, :1], stats_a, score)])
    empty = pd.DataFrame([{"seed": 0, "run_obj": Run(tmp_path / "old", None), "bleu.en-it": 10.0}])
    assert evidence.test_segments([empty], [g], "en-it", "bleu") is None  # trained before runs kept them


# ------------------------------------------------------------------------------ what a verdict rests on

def test_fig1_equal_fronts_hold_by_the_tolerance(tmp_path, bigram):
    """Fig. 1: equal fronts are "not improved": the statistic is pre-training minus static
    plus MINIMUM, so two identical fronts give about +MINIMUM, an interval above zero."""
    bigram(LEARNED)
    v = om.fig1_hrl_fronts(hrl_hrl_frame(tmp_path, 2.8, t1_final=2.8), "hrl_hrl")[0]
    assert v.claim == om.FIG1_FRONT_NOT_IMPROVED and v.status == core.HOLDS, (v.status, str(v.effect))
    assert v.effect.estimate == pytest.approx(om.MINIMUM, abs=0.01)


def test_fig1_claims_need_a_pretrained_model(tmp_path, bigram):
    """Pre-training that had not learned the first pair by its end (5.5 nats at the fork, a
    bigram of 6.0) pushes no front: Fig. 1, 20 and 26 are out of regime on the 'pretrained'
    gate alone, though both fronts end learned."""
    bigram(LEARNED)
    static = lambda r, s: {"hrl": [8, 6, 4, 3.2, 2.8], "lrl": [8, 6, 4, 3.2, 2.8],
                           "final": {"bleu": {"en-it": 20.0, "en-fr": 12.0 + 0.1 * s}}}
    pre = lambda r, s: {"hrl": [8, 7, 5.5, 3.0, 2.8], "lrl": _pre(3.0),
                        "final": {"bleu": {"en-it": 20.0, "en-fr": 12.0 + 0.2 * s}}}
    df = nmt_frame(tmp_path, "hrl_hrl", {om.STATIC: static, om.PRETRAIN: pre}, rates=(0.2, 0.5, 0.8), every_rate=False)
    judged = {v.claim: v for v in om.fig1_hrl_fronts(df, "hrl_hrl")}
    for claim in (om.FIG1_FRONT_NOT_IMPROVED, om.FIG20_NO_EFFICIENCY_GAIN, om.FIG26_BLEU_ON_PAR):
        v = judged[claim]
        assert v.status == core.OUT_OF_REGIME and [g.name for g in v.gates if not g.passed] == ["pretrained"], \
            (claim.id, v.status, [(g.name, g.passed) for g in v.gates])


def _notebook_verdicts(notebook, root):
    """Each judge function on its 'holds' scenario of this file."""
    if notebook == "A1":
        bleu = {m: {0: 12.0, 1: 12.4, 2: 12.2} for m in (om.STATIC, om.PRETRAIN)}
        return om.fig1_hrl_fronts(hrl_hrl_frame(root, 3.0, bleu=bleu), "hrl_hrl")
    if notebook == "A2":
        return om.fig2_fronts(fronts_frame(root, "holds"), ["hrl_lrl_fi"])
    if notebook == "A3":
        return om.fig3_efficiency(efficiency_frame(root, "holds"), ["hrl_lrl_fi"])
    if notebook == "A4":
        return om.fig5_regularisation(dropout_frame(root, 4.1, 4.5), "hrl_lrl_fi", 0.3)
    if notebook == "A5":
        return om.fig6_finetune_only(finetune_only_frame(root, [8, 5, 3.4, 4.0, 4.6], _pre(4.8)), "hrl_lrl_fi")
    if notebook == "A6":
        return om.fig7_multilingual_lm(lm_frame(root, "holds"), LM, 3.33)
    if notebook == "A7":
        return om.fig9_pretraining_length(*length_frames(root, "holds"), LM, "hrl_lrl_fi")
    return om.fig27_bleu_fronts(bleu_frame(root, "hrl_lrl_fi", {0: (12.0, 40.0), 1: (12.4, 41.0), 2: (12.2, 40.6)},
                                           {0: (8.0, 35.0), 1: (8.3, 35.5), 2: (8.1, 35.2)}), ["hrl_lrl_fi"])


@pytest.mark.parametrize("notebook", ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"])
def test_every_verdict_is_judged_on_the_gates_its_claim_declares(tmp_path, bigram, notebook):
    """A claim's `gates` are what a reader is told its verdict rests on: a judge function that
    leaves one out (say `overfits`, the regime the paper's argument rests on) would give a
    verdict outside that regime without saying so."""
    bigram(LEARNED)
    for v in _notebook_verdicts(notebook, tmp_path):
        assert {g.name for g in v.gates} == set(v.claim.gates), (v.claim.id, v.scope, [g.name for g in v.gates])


def test_learned_gate_reads_the_baselines_best_rate(tmp_path, bigram):
    """`learned`: the HRL is learned at the end of the baseline's runs at its best rate (lowest
    seed-mean final HRL loss). Static sampling's HRL ends at 3.0 at LRL rate 0.1 and 3.4 at 0.9;
    against a bigram of 4.25, rate 0.1 is 1.25 nats below (learned), rate 0.9 only 0.85: the
    gate passes, read at rate 0.1, and the front claim is judged."""
    bigram(4.25)
    df = subset_frame(tmp_path, (6.2, 4.9, 4.5, 4.8, 4.8), [8, 5, 4.0, 4.4, 4.8])
    gate = om.learned_gate(df[df.method == om.STATIC], "en-it")
    assert gate.passed and "rate 0.1" in gate.measured and gate.numbers["loss"] == pytest.approx(3.0, abs=0.02), gate
    [v] = [x for x in om.fig2_fronts(df, ["hrl_lrl_fi"]) if x.claim == om.FIG2_FRONT_SUBSET]
    assert v.status == core.HOLDS, (v.status, v.note)


@pytest.mark.parametrize("rise, status", [(0.03, core.HOLDS), (0.12, core.FAILS)])
def test_fig2_higher_rate_allows_a_rise_below_the_tolerance(tmp_path, bigram, rise, status):
    """'Without overfitting' at the top rate: pre-training's LRL loss may rise after its
    fine-tuning minimum by less than TOLERANCE (0.05 nats) -- a 0.03 rise holds, 0.12 does not
    (against MINIMUM, 0.02, the first would not hold)."""
    bigram(LEARNED)
    df = fronts_frame(tmp_path, "holds")
    hrl, lrl = E.hrl_lrl("hrl_lrl_fi")
    top = df[(df.method == om.PRETRAIN) & (df.rate == 0.9)].index
    seen = [0 if i <= 2 else 0.9 * 100 * BATCH * (i - 2) for i in range(5)]
    runs = [_run(tmp_path, f"pre-0.9-rise-{seed}", {hrl: PRETRAIN_HRL, lrl: [8, 8, 8, 4.0, 4.0 + rise]}, seed, 0.02,
                 fork_at=FORK, seen={lrl: seen}) for seed in df.loc[top, "seed"]]
    df.loc[top, "run_obj"] = pd.Series(runs, index=top)
    [v] = [x for x in om.fig2_fronts(df, ["hrl_lrl_fi"]) if x.claim == om.FIG2_HIGHER_RATE]
    assert v.status == status, (v.status, str(v.effect), v.note)
    assert v.numbers["pretrain_rise_after_minimum"] == pytest.approx(rise, abs=0.01)
    assert v.effect.estimate == pytest.approx(om.TOLERANCE - rise, abs=0.01)


def test_fig16_a_tie_of_best_rates_does_not_hold(tmp_path, bigram):
    """Both fronts best at the same inner rate (0.5): the paper's own exception (Fig. 19, 'the
    same rate as the baseline') is the claim not holding -- not 'inconclusive', and never
    'holds': the gap of 0 minus half a grid step (0.1) is below zero in every resample."""
    bigram(LEARNED)
    pre_final = {0.1: 5.5, 0.3: 4.8, 0.5: 4.2, 0.7: 4.4, 0.9: 4.6}
    df = nmt_frame(tmp_path, "hrl_lrl_fi", {om.STATIC: lambda r, s: {"hrl": STATIC_HRL, "lrl": STATIC_LRL[r]},
                                            om.PRETRAIN: lambda r, s: {"hrl": PRETRAIN_HRL, "lrl": _pre(pre_final[r])}})
    [v] = [x for x in om.fig2_fronts(df, ["hrl_lrl_fi"]) if x.claim == om.FIG16_HIGHER_BEST_RATE]
    assert (v.numbers["best_rate_pretrain"], v.numbers["best_rate_static"]) == (0.5, 0.5)
    assert v.status == core.FAILS and v.effect.estimate == pytest.approx(-0.1), (v.status, str(v.effect), v.note)


def test_fig7_restart_is_judged_on_its_evaluations_after_the_reset(tmp_path, bigram):
    """Before its reset the restart baseline is temperature sampling's own run (same minimum,
    4.0 at step 200); after it the loss never gets back below 4.2. 'A restart helps' is judged
    on the evaluations after the reset: 4.0 - 4.2, it does not hold -- not temperature
    sampling's minimum against itself."""
    bigram(LEARNED)
    df = lm_frame(tmp_path, "holds")
    low = ("fi", "zh_CN", "sv")
    curves = {"en": [8, 5, 4, 3.5, 3.2], "es": [8, 5, 4.5, 4.3, 4.2], **{l: [8, 5, 4.0, 4.3, 4.2] for l in low}}
    rows = df[df.method == om.RESTART].index
    df.loc[rows, "run_obj"] = pd.Series([_run(tmp_path, f"restart-shared-{s}", curves, s, 0.05, fork_at=FORK)
                                         for s in df.loc[rows, "seed"]], index=rows)
    helps = [v for v in om.fig7_multilingual_lm(df, LM, 3.33) if v.claim == om.FIG7_RESTART_HELPS]
    assert [v.scope for v in helps] == list(low)
    for v in helps:
        assert v.numbers["best_loss_restart_after_fork"] == pytest.approx(4.2, abs=0.02)
        assert v.status == core.FAILS and v.effect.estimate == pytest.approx(-0.2, abs=0.03), (v.status, str(v.effect))
