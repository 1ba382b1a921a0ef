"""Claims of "Order Matters in the Presence of Dataset Imbalance for Multilingual Learning"
(Choi et al., NeurIPS 2023), each a `Claim` and a function that judges it on a notebook's runs.

One judge function per notebook (A1-A8). Each reads the DataFrame the notebook already has
(one row per run: its labels -- method, rate, seed, taskset, pretrain -- its final metrics
and the `Run` in `run_obj`) and returns `Verdict`s built with `judge`.

Regime gates (see `gates`):
    learned      the high-resource task is learned at the end of the baseline's runs (its
                 best rate: lowest seed-mean final HRL loss), against the bigram baseline
                 of the run's data, or BLEU >= 10 where BLEU was measured
    pretrained   `learned` on the loss at the end of pre-training: the prefix run is the run
                 at step `fork_at`, whose per-sentence losses every fork copies
    overfits     static sampling at the highest LRL rate overfits the LRL (its minimum
                 before 80% of training, then a rise >= 3 SE): the imbalance regime whose
                 overfitting the paper's argument rests on
    falling      the high-resource loss still falls at the end of the longest pre-training
                 (pre-training length claims: longer pre-training has something to add)

Fronts: a method's front is an arm of shape (configs, seeds, sentences), one configuration
per sampling rate, and `stats.loss_gain` compares the best configuration of each front
(chosen again in every resample). Only the rates that have every seed both compared arms
have are used (the seeds both arms share); where one seed exists the Effect says so through
its `seeds`. Points are final measurements, as in the paper (App. A.1).

Statistics not in `stats`, kept here because only these claims need them:
    `_mixed`        the equal-weight mean of two tasks' losses as one arm (a front compared
                    as a whole: the point where the front meets the diagonal scalarization)
    `_mean_gain`    training-subset losses are stored as means only: a paired difference
                    per rate, with a t-interval over the rates
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..labels import FT_ONLY, LM_PRETRAIN, PRETRAIN, RESTART, STATIC, temperature, with_dropout
from . import evidence, gates
from .core import Claim, Gate, judge
from .stats import (SCORE_INTERVAL, Effect, best_value_gap, domination_margin, loss_gain, negated, paired_t_quantile,
                    point_loss, score_gain, seed_mean_losses, shifted)

PAPER = "Order Matters"

MINIMUM = 0.02       # nats per token: the smallest loss difference that counts as an effect
TOLERANCE = 0.05     # nats per token: "not worse" / "no overfitting" allows this much
FORGETTING = 0.1     # nats per token: the smallest HRL rise called forgetting
SCORE_MINIMUM = 0.5  # BLEU / chrF points
BEST_OVER_RUN = ("(the lowest evaluation of the seed-mean curve -- a pre-trained run's after its fork, its "
                 "fine-tuning; chosen again in every resample of seeds and sentences)")

# ------------------------------------------------------------------------------ the claims

FIG1_FRONT_NOT_IMPROVED = Claim(
    "order.fig1.hrl_front_not_improved", PAPER, "§4.1.1, Fig. 1",
    "The trade-off front from pre-training does not improve upon the trade-off front from fully static sampling "
    "when all tasks are high-resource.",
    "Fig. 1: the fronts coincide (read from the figure, no number given)",
    gates=("learned", "pretrained"), minimum=0.0,
    statistic="equal-weight mean of both tasks' final validation losses at each front's best rate among the rates "
              "every seed ran (the middle rate alone where the preset seeds only that one: then one point per method, "
              f"not a front), pre-training minus static, plus a tolerance of {MINIMUM} nats (holds when pre-training is "
              f"not better than static by {MINIMUM} or more on that mean; a point better on one pair and worse on the "
              "other by as much passes)")

FIG20_NO_EFFICIENCY_GAIN = Claim(
    "order.fig20.no_hrl_efficiency_gain", PAPER, "App. A.4, Fig. 20",
    "For the 3-layer model, pre-training does not provide any significant gains in training efficiency for En→Zh "
    "when pre-training on En→Fr.",
    "Fig. 20: the curves coincide towards the end of training (read from the figure, no number given)",
    gates=("learned", "pretrained"), minimum=0.0,
    statistic="the second pair's validation loss of each method's best configuration (best seed-mean final loss on "
              "it, among the rates every seed ran: the middle rate where the preset seeds only that one) at equal "
              "examples of it seen (as order.fig3.more_data_efficient), pre-training minus static, plus a tolerance of "
              f"{MINIMUM} nats (holds when pre-training is not more data-efficient by {MINIMUM} or more)")

FIG26_BLEU_ON_PAR = Claim(
    "order.fig26.hrl_bleu_on_par", PAPER, "App. A.5, Fig. 26",
    "Pre-training was able to improve the En→Zh BLEU score to be on par with the score of joint training.",
    "Fig. 26: read from the figure, no number given",
    gates=("learned", "pretrained", "scored"), minimum=0.0,
    statistic="best seed-mean test BLEU of the second pair (beam 4) over each front's rates that every seed ran (the "
              "middle rate where the preset seeds only that one), pre-training minus static, plus a tolerance of "
              f"{SCORE_MINIMUM} BLEU (holds when pre-training's best is not worse by {SCORE_MINIMUM} or more); "
              f"interval: {SCORE_INTERVAL}. Gate `scored`: both fronts' best BLEU ≥ 10 "
              "(nearer its floor BLEU moves by whole points on a few segments)")

FIG2_PRETRAIN_BEATS_STATIC = Claim(
    "order.fig2.pretrain_beats_static", PAPER, "§4.1.2, Fig. 2 (and 12)",
    "In the data-imbalanced case, the trade-off front from pre-training yields better low-resource task performance "
    "than the trade-off front of scalarization.",
    "Fig. 2: En→Ro best loss clearly lower with pre-training (read from the figure, no number given)",
    gates=("learned", "pretrained", "overfits"), minimum=MINIMUM,
    statistic="final LRL validation loss at each front's best rate, static minus pre-training")

FIG2_RESTART = Claim(
    "order.fig2.restart_does_not_explain", PAPER, "§4.1.2, Fig. 2 (and 12)",
    "The poor performance of the restart baseline shows that the resetting of states is not why pre-training and "
    "fine-tuning performs well.",
    "Fig. 2: restart points above the pre-training front (read from the figure, no number given)",
    gates=("learned", "pretrained", "overfits"), minimum=MINIMUM,
    statistic="final LRL validation loss at each front's best rate, restart minus pre-training (restart runs the "
              "same rate grid as static)")

FIG2_REGULARISATION = Claim(
    "order.fig2.pretrain_worse_lrl_training_loss", PAPER, "§4.1.3, Fig. 2 right",
    "Pre-training results in a noticeably worse performance on the training set.",
    "Fig. 2 right: the pre-training front lies above static's on the LRL training loss (no number given)",
    gates=("learned", "pretrained", "overfits"), minimum=MINIMUM,
    statistic="final LRL training-subset loss, pre-training minus static at equal rates, mean over the rates, per "
              "seed; 95% t-interval over the seeds every rate of both methods ran (training losses are stored per task, "
              "not per sentence, so the seeds are the only replicates). The paper goes on: 'hinting that pre-training "
              "has a regularization effect'; that reading is not judged here -- at the same rate the pre-trained runs "
              "see the LRL in fine-tuning only, so far fewer LRL examples (the ratio is shown), and less exposure alone "
              "leaves a higher training loss. Whether regularization explains the gain is Fig. 5's claim")

FIG2_HIGHER_RATE = Claim(
    "order.fig2.higher_rate_without_overfitting", PAPER, "§4.1.3, Fig. 2 / App. A.3, Fig. 16",
    "Pre-training allows sampling En→Ro at a higher rate without overfitting, than without pre-training.",
    "§4.1.3: the best En→Ro rate is 0.5 with pre-training, 0.4 without",
    gates=("learned", "pretrained", "overfits", "exposed"), minimum=0.0,
    statistic="at the highest rate (where static sampling overfits: gate), pre-training's LRL validation loss at the "
              f"end minus its minimum before the end during fine-tuning (same runs), subtracted from a tolerance of {TOLERANCE} nats: "
              f"holds when the rise after the minimum stays below {TOLERANCE}. Gate `exposed`: fine-tuning saw at least as "
              "many LRL examples as static sampling at that rate had seen at its LRL minimum -- a shorter fine-tuning "
              "cannot show that it avoids the overfitting static sampling met")

FIG1_EVERY_RATE_ON_FRONT = Claim(
    "order.fig1.every_rate_on_the_front", PAPER, "§4.1.1, Fig. 1",
    "We can also observe interference between the two tasks from how all 9 different sampling rates form the "
    "trade-off frontier.",
    "Fig. 1: all 9 rates on the front (read from the figure, no number given)",
    gates=("learned",), minimum=0.0,
    statistic="static sampling's rates as points (final validation loss of each task, seed mean): the smallest margin "
              "by which any rate escapes domination by another -- min over rates k and other rates j of max over the "
              "two tasks of (loss_j - loss_k); holds when it is positive: every rate is on the front. Bootstrap over "
              "each rate's seeds (shared by the tasks) and each task's sentences, on the seeds every rate ran (a "
              "preset that seeds only the middle rate leaves one: no interval, inconclusive)")

FIG2_FRONT_SUBSET = Claim(
    "order.fig2.lrl_front_is_a_subset_of_rates", PAPER, "§4.1.2, Fig. 2 caption",
    "Note that the trade-off fronts consist of only a subset of the sampling ratios due to overfitting, which is "
    "different from the fully high-resource setting.",
    "Fig. 2: static sampling's front leaves out its highest En→Ro rates (read from the figure, no number given)",
    gates=("learned", "overfits", "overshoot"), minimum=MINIMUM,
    statistic="static sampling's rates as points (final HRL and LRL validation loss, seed mean): minus the smallest "
              "domination margin (as order.fig1.every_rate_on_the_front): positive when some rate is worse than "
              "another on both tasks, by that much -- off the front; judged on the preset's rate grid. Gate "
              "`overshoot`: the grid has a rate above static sampling's best LRL rate -- overfitting can push only such "
              "rates off the front; where the highest rate is still the LRL's best, every rate is on the front by "
              "construction of the grid, whatever overfitting does")

FIG16_HIGHER_BEST_RATE = Claim(
    "order.fig16.pretrain_best_lrl_rate_higher", PAPER, "§4.1.3; App. A.3, Figs. 16-19",
    "In all but one case, the model that performs the best in the low-resource language pair samples the low-resource "
    "language pair at a higher rate than the baselines that do not use pre-training.",
    "§4.1.3: the best En→Ro rate is 0.5 with pre-training, 0.4 without (Fig. 16); not so for En→{Hi, Fr} with "
    "6-layer models (Fig. 19)",
    gates=("learned", "pretrained", "overfits", "headroom"), minimum=0.0,
    statistic="the LRL rate of pre-training's best run (lowest final LRL validation loss, seed mean) minus static "
              "sampling's, each chosen again in every resample of seeds and sentences (the seeds both fronts have), "
              "minus half a grid step; percentile interval (a grid value): holds when at least 97.5% of resamples put "
              "pre-training's best rate higher, does not hold when at least 97.5% put it no higher -- a tie is the "
              "paper's exception (Fig. 19), not its claim. Gate `headroom`: the grids can order the two best rates "
              "(a best rate at its grid's top is a lower bound: 'higher' needs static sampling's best inside its "
              "grid, 'not higher' pre-training's)")

FIG2_NO_EARLY_STOP = Claim(
    "order.fig2.static_cannot_early_stop", PAPER, "§1, §6 (Conclusion)",
    "A major weak point of scalarization in this regime is that it overfits on the low-resource task, being unable to "
    "early stop due to the high-resource task not converging.",
    "", gates=("learned", "overfits"), minimum=MINIMUM,
    statistic="static sampling at the highest LRL rate (where it overfits: gate): HRL validation loss at the LRL's "
              "seed-mean minimum minus at the end (same runs, paired over sentences): holds when the HRL still "
              "improves after the step early stopping on the LRL would pick")

FIG3_DATA_EFFICIENT = Claim(
    "order.fig3.better_with_fewer_lrl_examples", PAPER, "App. A.4, Fig. 22 (and Fig. 3)",
    "Even with less overall examples seen in En→Ro, we can perform better than the baselines that did not use "
    "pre-training.",
    "Fig. 3 / 22: read from the curves, no number given",
    gates=("learned", "pretrained", "fewer"), minimum=MINIMUM,
    statistic="final LRL validation loss of each method's best run (best final LRL loss: Fig. 3's lines), static "
              "minus pre-training. Gate `fewer`: pre-training's run saw fewer LRL examples by its end than static "
              "sampling's (the sentence's premise; its fine-tuning alone sees the LRL)")

FIG3_MORE_EFFICIENT = Claim(
    "order.fig3.more_data_efficient", PAPER, "§4.1.3, Fig. 3",
    "Figure 3 confirms that indeed after pre-training, fine-tuning on En→Ro is more data-efficient than not "
    "pre-training.",
    "Fig. 3: read from the curves, no number given",
    gates=("learned", "pretrained"), minimum=MINIMUM,
    statistic="LRL validation loss of each method's best run (as order.fig3.better_with_fewer_lrl_examples) at equal "
              "LRL examples seen -- as many as the run that saw fewer by its end (pre-training, usually) had seen: each "
              "run's per-sentence losses interpolated between its two evaluations around that count (the first "
              "evaluation having seen as many would give one arm up to an evaluation interval's examples more); static "
              "minus pre-training")

FIG3_BETTER_INIT = Claim(
    "order.fig3.better_initialization", PAPER, "§4.1.3 (first mechanism), Fig. 3",
    "Pre-training utilizes positive transfer between tasks, and initializes the fine-tuning phase at a better "
    "starting point than random initialization.",
    "Fig. 3: the pre-trained curves start lower (read from the figure, no number given)",
    gates=("learned", "pretrained"), minimum=MINIMUM,
    statistic="LRL validation loss before any LRL example is seen: each method's best run (as Fig. 3's claim) at "
              "the end of pre-training (its fork) and static sampling at step 0 (its random initialisation); static "
              "minus pre-training, paired over sentences (the LRL's bigram baseline is shown beside it: a better start "
              "than a random model is not yet a good one)")

FIG4_FASTER = Claim(
    "order.fig4.higher_rates_train_faster", PAPER, "§4.1.3, Fig. 4",
    "The rate at which the training loss decreases is slower for lower En→Ro sampling rates than for higher "
    "sampling rates.",
    "Fig. 4: read from the curves, no number given",
    gates=("learned",), minimum=MINIMUM,
    statistic="static sampling's LRL training-subset loss at equal LRL examples seen (the lowest rate's total, "
              "interpolated along each rate's curve): per seed, its least-squares decrease per step of the grid "
              "(from each rate to the next higher one; every rate counts, not only the two ends); 95% t-interval over "
              "the seeds every rate ran")

FIG4_OVERFITS = Claim(
    "order.fig4.high_rate_overfits", PAPER, "§4.1.3, Fig. 4",
    "At higher sampling rates, overfitting starts to happen.",
    "Fig. 4: read from the curves, no number given",
    gates=("learned",), minimum=MINIMUM,
    statistic="static sampling at the highest rate: LRL validation loss at the end minus at the minimum of its "
              "seed-mean curve before the end (same runs; negative while the loss still falls)")

FIG5_DROPOUT = Claim(
    "order.fig5.dropout_does_not_replace_pretraining", PAPER, "§4.1.3, Fig. 5",
    "Pre-training joint fine-tuning has a regularization effect, but cannot be replaced by simply increasing "
    "regularization strength.",
    "Fig. 5: dropout 0.1 with pre-training vs more dropout without (read from the figure, no number given)",
    gates=("learned", "pretrained", "overfits"), minimum=MINIMUM,
    statistic="final LRL validation loss at each front's best rate, static sampling with more dropout minus "
              "pre-training. Gate `learned` on both static arms (a dropout too strong to learn with would make the "
              "claim hold for nothing); the dropout arm's LRL training-subset loss against static sampling's, rate by "
              "rate, is shown (above zero: the extra dropout did regularise)")

FIG6_FORGETS = Claim(
    "order.fig6.lrl_only_forgets_hrl", PAPER, "§4.1.3, Fig. 6",
    "Fine-tuning solely on the low-resource task (En → Ro) leads to catastrophic forgetting of the pre-trained task "
    "(En → Fr).",
    "Fig. 6: read from the curves, no number given",
    gates=("learned", "pretrained"), minimum=FORGETTING,
    statistic="HRL validation loss of the LRL-only run at its end minus at the end of pre-training (same run)")

FIG6_JOINT_BETTER = Claim(
    "order.fig6.joint_beats_lrl_only", PAPER, "§4.1.3, Fig. 6",
    "Fine-tuning solely on the low-resource task leads to worse low-resource task performance than fine-tuning on "
    "all tasks (En → {Ro, Fr}).",
    "Fig. 6: read from the curves, no number given",
    gates=("learned", "pretrained"), minimum=MINIMUM,
    statistic="final LRL validation loss, fine-tuning on the LRL only minus joint fine-tuning at its best rate")

FIG7_BEATS_TEMPERATURE = Claim(
    "order.fig7.pretrain_beats_temperature_lrl", PAPER, "§4.2, Fig. 7, 8",
    "Pre-training on English and joint fine-tuning on all 5 languages leads to better optima for Gujarati, Gaelic "
    "and Swahili, the 3 low-resource languages.",
    "Fig. 7: best in 4 of 5 languages, with significant improvements in the low-resource ones (no numbers in the text)",
    gates=("learned", "pretrained", "overfits"), minimum=MINIMUM,
    statistic="per low-resource language, the best validation loss over the run (the optimum each run reaches) "
              + BEST_OVER_RUN + ", temperature sampling minus pre-training")

FIG7_RESTART = Claim(
    "order.fig7.pretrain_beats_restart_lrl", PAPER, "§4.2, Fig. 7, 8",
    "While a learning rate schedule restart helps performance, pre-training joint fine-tuning yields the best results "
    "on the low-resource tasks.",
    "Fig. 7: read from the figure, no number given",
    gates=("learned", "pretrained"), minimum=MINIMUM,
    statistic="per low-resource language, the best validation loss over the run " + BEST_OVER_RUN
              + ", restart minus pre-training")

FIG7_ENGLISH = Claim(
    "order.fig7.english_slight_enhancement", PAPER, "§4.2, Fig. 7",
    "It not only improves the performance on Gujarati, Gaelic, and Swahili, but also shows a slight enhancement on "
    "English.",
    "Fig. 7: a slight enhancement (no number given)",
    gates=("learned", "pretrained"), minimum=0.0,
    statistic="English best validation loss over the run " + BEST_OVER_RUN + ", temperature sampling minus "
              "pre-training (a slight enhancement: no practical minimum beyond the interval excluding zero). Before "
              "its fork a pre-trained run has trained on English alone: its best English there is the English-only "
              "model's, which the paper's Fig. 7 does not compare")

FIG7_RESTART_HELPS = Claim(
    "order.fig7.restart_helps_lrl", PAPER, "§4.2, Fig. 7, 8",
    "While a learning rate schedule restart helps performance, pre-training joint fine-tuning yields the best results "
    "on the low-resource tasks. [the first half: the restart against temperature sampling]",
    "Fig. 7: read from the figure, no number given",
    gates=("learned",), minimum=MINIMUM,
    statistic="per low-resource language, temperature sampling's best validation loss over its run minus the restart "
              "baseline's best after its reset (the same static mixture, its optimizer and LR schedule reset half-way; "
              "before the reset it is temperature sampling's own run, so only its evaluations after it count; each "
              "arm's minimum chosen again in every resample)")

FIG7_OVERFITS_FIRST = Claim(
    "order.fig7.lrl_overfits_before_english_converges", PAPER, "§4.2",
    "Due to the vast dataset imbalance, the temperature sampling baseline overfits on the low-resource tasks before "
    "English has a chance to converge.",
    "", gates=("learned", "overfits"), minimum=MINIMUM,
    statistic="temperature sampling, per low-resource language: English validation loss at that language's minimum "
              "(of the seed-mean curve) minus at the end, the same runs at two evaluations (paired over seeds and "
              "sentences): holds when English still improves after the step early stopping on the language would "
              "pick; gates: English learned, and the language overfits (`gates.overfits`)")

FIG9_LM_LRL = Claim(
    "order.fig9.lm_longer_pretraining_helps_lrl", PAPER, "§4.3, Fig. 9 left",
    "Longer pre-training improves best achievable performance on the low-resource tasks of Gujarati, Gaelic, and "
    "Swahili. This is despite the fact that the number of fine-tuning steps decreased due to the fixed total step "
    "budget.",
    "Fig. 9 left: read from the figure, no number given",
    gates=("learned", "pretrained", "falling"), minimum=MINIMUM,
    statistic="per low-resource language, the best validation loss over the run (total steps fixed) "
              + BEST_OVER_RUN + ", shortest minus longest pre-training")

FIG9_LM_HRL = Claim(
    "order.fig9.lm_longer_pretraining_costs_hrl", PAPER, "§4.3, Fig. 9 left",
    "On the other hand, performance on English and Hindi worsens with increased pre-training length.",
    "Fig. 9 left: read from the figure, no number given",
    gates=("learned", "pretrained", "falling"), minimum=MINIMUM,
    statistic="per high- and mid-resource language, the best validation loss over the run (total steps fixed) "
              + BEST_OVER_RUN + ", longest minus shortest pre-training: before its fork a run has trained on "
              "English alone, and the paper's reading (the reset's warm-up worsens English before it improves) is "
              "about what comes after")

FIG9_NMT = Claim(
    "order.fig9.nmt_longer_pretraining_better_front", PAPER, "§4.3, Fig. 9 right",
    "In the NMT experiments, pre-training longer on En→Fr translates to better overall trade-off fronts, not just "
    "for the low-resource task.",
    "Fig. 9 right: read from the figure, no number given",
    gates=("learned", "pretrained", "falling"), minimum=MINIMUM,
    statistic="per task (two scopes, HRL and LRL: 'not just for the low-resource task' needs both -- an equal-"
              "weight mean would let an LRL gain pay for an HRL loss), the final validation loss at each front's best "
              "rate for that task (fine-tuning length fixed), shortest minus longest pre-training")

FIG27_BLEU = Claim(
    "order.fig27.pretrain_beats_static_bleu", PAPER, "App. A.5, Fig. 27, 28",
    "Our proposed pre-training scheme improves upon the best BLEU score for En→Ro without pre-training.",
    "Fig. 27 / 28: read from the figures, no number given (larger for En→Hi than for En→Ro)",
    gates=("learned", "pretrained", "scored"), minimum=SCORE_MINIMUM,
    statistic="best LRL test BLEU over each front's rates (beam 4), pre-training minus static; interval: "
              f"{SCORE_INTERVAL}. Gate "
              "`scored`: both fronts' best LRL BLEU ≥ 10 (nearer its floor BLEU moves by whole points on a few "
              "segments, and the LRL is barely translated)")

FIG27_CHRF = Claim(
    "order.fig27.pretrain_beats_static_chrf", PAPER, "§4.1.2 / App. A.5",
    "[We provide BLEU score evaluations,] validating that the improvements in loss translate to downstream metrics "
    "(here chrF, more sensitive than BLEU for small models).",
    "",
    gates=("learned", "pretrained", "scored"), minimum=SCORE_MINIMUM,
    statistic="best LRL test chrF over each front's rates, pre-training minus static; interval as for BLEU. Gate "
              "`scored` as for BLEU (both fronts' best LRL BLEU ≥ 10): chrF resolves smaller differences, but the "
              "claim is about translations, and below BLEU 10 the outputs barely are")

CLAIMS = (FIG1_FRONT_NOT_IMPROVED, FIG2_PRETRAIN_BEATS_STATIC, FIG2_RESTART, FIG2_REGULARISATION, FIG2_HIGHER_RATE,
          FIG2_NO_EARLY_STOP,
          FIG3_DATA_EFFICIENT, FIG3_MORE_EFFICIENT, FIG3_BETTER_INIT, FIG4_FASTER, FIG4_OVERFITS, FIG5_DROPOUT, FIG6_FORGETS, FIG6_JOINT_BETTER,
          FIG7_BEATS_TEMPERATURE, FIG7_RESTART, FIG7_ENGLISH, FIG7_RESTART_HELPS, FIG7_OVERFITS_FIRST,
          FIG16_HIGHER_BEST_RATE, FIG1_EVERY_RATE_ON_FRONT, FIG2_FRONT_SUBSET, FIG9_LM_LRL, FIG9_LM_HRL, FIG9_NMT, FIG20_NO_EFFICIENCY_GAIN,
          FIG26_BLEU_ON_PAR, FIG27_BLEU, FIG27_CHRF)


# ------------------------------------------------------------------------------ reading fronts

def _tasks(taskset: str) -> tuple[str, str]:
    from ..experiments import hrl_lrl

    return hrl_lrl(taskset)


def _seeds(rows) -> set | None:
    """The seeds of the rows (None: the runs carry no seed label, one run per configuration)."""
    return set(rows["seed"]) if "seed" in rows else None


def _common_seeds(*arms) -> set | None:
    seeds = [_seeds(a) for a in arms]
    return None if any(s is None for s in seeds) else set.intersection(*seeds)


def _configs(rows, seeds=None, key: str = "rate") -> list:
    """[(rate, rows of that rate, one per seed in seed order)] for every rate that has all of
    `seeds` (default: every seed of the rows); rows without a `key` column are one configuration."""
    seeds = _seeds(rows) if seeds is None else seeds
    groups = rows.groupby(key, sort=True) if key in rows else [(None, rows)]
    out = []
    for value, g in groups:
        if seeds is not None:
            g = g[g["seed"].isin(seeds)].sort_values("seed")
            if sorted(g["seed"]) != sorted(seeds):
                continue
        out.append((value, g))
    if not out:
        raise ValueError(f"no configuration has every seed {sorted(seeds)}")
    return out


def _mixed(per_task: list) -> tuple[np.ndarray, np.ndarray]:
    """The equal-weight mean of several tasks' losses as one arm: each task's sentences
    scaled so that the ratio of sums is the mean of the tasks' ratios. per_task: [(nll
    (..., sentences), tokens)]."""
    nll, tokens = [], []
    for x, t in per_task:
        scale = 1.0 / (len(per_task) * float(np.sum(t)))
        nll.append(np.asarray(x, dtype=np.float64) * scale)
        tokens.append(np.asarray(t, dtype=np.float64) * scale)
    return np.concatenate(nll, axis=-1), np.concatenate(tokens)


def _arm(rows, task, at="final") -> tuple[np.ndarray, np.ndarray]:
    """evidence.arm for one task, or the equal-weight mean of a tuple of tasks."""
    if isinstance(task, tuple):
        return _mixed([evidence.arm(rows, t, at) for t in task])
    return evidence.arm(rows, task, at)


def _front(rows, task, at="final", seeds=None, key: str = "rate"):
    """(nll (configs, seeds, sentences), tokens, config values) of one method's front."""
    configs = _configs(rows, seeds, key)
    arms = [_arm(g, task, at) for _, g in configs]
    return np.stack([a for a, _ in arms]), arms[0][1], [v for v, _ in configs]


def _front_gain(a_rows, b_rows, task, at="final", key: str = "rate", names=("a", "b")) -> tuple[Effect, dict]:
    """loss(B's best configuration) - loss(A's), on the seeds both fronts have; with the
    numbers a reader needs (each front's best configuration and its loss)."""
    seeds = _common_seeds(a_rows, b_rows)
    a, tokens, a_values = _front(a_rows, task, at, seeds, key)
    b, _, b_values = _front(b_rows, task, at, seeds, key)
    numbers = {}
    for name, nll, values in ((names[0], a, a_values), (names[1], b, b_values)):
        losses = seed_mean_losses(nll, tokens)
        numbers[f"best_{key}_{name}"] = values[int(np.argmin(losses))]
        numbers[f"loss_{name}"] = float(losses.min())
        numbers[f"{key}s_{name}"] = values
    return loss_gain(a, b, tokens), numbers


def _domination(rows, tasks) -> tuple[Effect, list]:
    """`stats.domination_margin` of the rows' rates on `tasks`, on the seeds every rate has
    (where a preset seeds only its middle rate, that is one seed: no verdict)."""
    seeds = set.intersection(*(set(g["seed"]) for _, g in rows.groupby("rate"))) if "seed" in rows else None
    fronts = [_front(rows, t, seeds=seeds) for t in tasks]
    return domination_margin([(nll, tokens) for nll, tokens, _ in fronts]), fronts[0][2]


def _rows_at(rows, key: str, value):
    return rows[rows[key] == value]


def _verdict(claim, gate_list, effect, scope, why_no_effect: str = "", **numbers):
    """`judge`, saying why there is no effect when the gates passed but no interval exists
    (a failed gate's own explanation is kept otherwise)."""
    note = why_no_effect if effect is None and all(g.passed for g in gate_list) else ""
    return judge(claim, gate_list, effect, scope=scope, note=note, **numbers)


# ------------------------------------------------------------------------------ statistics kept here

def _score_gain(pre, static, task: str, metric: str, seeds) -> tuple[Effect | None, dict]:
    """Best seed-mean end-of-run score (BLEU, chrF) of `task` over pre-training's front minus
    static's, over the rates every one of `seeds` ran (`stats.score_gain`), with each front's best
    rate and score."""
    scores, numbers, groups = {}, {}, {}
    for name, rows in (("pretrain", pre), ("static", static)):
        configs = _configs(rows, seeds)
        groups[name] = [g for _, g in configs]
        scores[name] = np.array([g[f"{metric}.{task}"].to_numpy(dtype=float) for g in groups[name]])  # (rates, seeds)
        means = scores[name].mean(axis=1)
        numbers[f"best_rate_{name}"] = configs[int(np.argmax(means))][0]
        numbers[f"best_{metric}_{name}"] = float(means.max())
    term = evidence.test_segments(groups["pretrain"], groups["static"], task, metric)
    effect = score_gain(scores["pretrain"], scores["static"], unit=metric, segments=term and [term])
    numbers["test_segments_resampled"] = effect is not None and term is not None
    return effect, numbers


def _scored(task: str, numbers: dict, metric: str):
    """`gates.scored` on the best seed-mean BLEU of each front, from `_score_gain`'s numbers."""
    return gates.scored(f"{task} best {metric.upper()} of each front",
                        {PRETRAIN: numbers[f"best_{metric}_pretrain"], STATIC: numbers[f"best_{metric}_static"]})


def _mean_gain(differences, unit: str, seeds=()) -> Effect | None:
    """The mean of paired differences with a 95% t-interval over them; None for fewer than two."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2:
        return None
    se = float(d.std(ddof=1) / np.sqrt(len(d)))
    half = paired_t_quantile(len(d)) * se
    return Effect(float(d.mean()), float(d.mean() - half), float(d.mean() + half), unit=unit, seeds=tuple(seeds), se=se,
                  df=float(len(d) - 1))


def _seed_mean_gain(per_seed: dict, unit: str) -> Effect | None:
    """`_mean_gain` over seeds (per_seed: seed -> that seed's contrast, from the seeds every
    configuration ran); None for fewer than two. An interval over configurations instead
    would ignore the seed spread, so one seed gives no verdict (core.MIN_SEEDS applies)."""
    return _mean_gain(list(per_seed.values()), unit, seeds=(len(per_seed), len(per_seed)))


def _by_rate_and_seed(rows, values) -> dict:
    """{rate: {seed: value}} from rows with 'rate' and (optionally) 'seed' columns; values:
    one number per row, in row order."""
    seeds = rows["seed"] if "seed" in rows else [0] * len(rows)
    out = {}
    for rate, seed, v in zip(rows["rate"], seeds, values):
        out.setdefault(float(rate), {})[seed] = float(v)
    return out


def _common(tables: list) -> list:
    """The seeds every rate of every {rate: {seed: value}} table has."""
    sets = [set(per_seed) for t in tables for per_seed in t.values()]
    return sorted(set.intersection(*sets)) if sets else []


def _rate_means(table: dict, seeds: list) -> dict:
    """{rate: mean over `seeds` (all of the rate's seeds when fewer than two are common)}."""
    return {r: float(np.mean([v for s, v in per_seed.items() if len(seeds) < 2 or s in seeds]))
            for r, per_seed in table.items()}


# ------------------------------------------------------------------------------ gates

def _with_context(gate, context: str):
    return dataclasses.replace(gate, measured=f"{context}: {gate.measured}")


def learned_gate(rows, task: str, key: str = "rate", compared=None, margin: float = gates.LEARNED_MARGIN):
    """`gates.learned` on `task` at the end of the rows' runs: the configuration with the
    lowest seed-mean final loss (with its BLEU where measured).

    The gate asks whether the setup learns the task at all, so it is decided where the task is
    learned best. A claim's effect may compare another configuration (Fig. 2's best LRL rate,
    where the HRL gets fewer examples -- the trade-off itself, not a failure to learn): with
    `compared` (that configuration's `key` value) its loss and distance from the bigram are
    printed beside the decision, so that a reader sees both. margin: `gates.LM_LEARNED_MARGIN`
    for language models (no source sentence to add what the translation margin asks)."""
    column = f"valid_loss.{task}"
    chosen, where = rows, "end of training"
    if key is not None and key in rows and rows[key].notna().any():
        value = rows.groupby(key)[column].mean().idxmin()
        chosen, where = rows[rows[key] == value], f"end of training, {key} {value:g}"
    if "method" in chosen and chosen["method"].nunique() == 1:  # which arm licensed the verdict
        where = f"{chosen['method'].iloc[0]}, {where}"
    if "seed" in chosen:
        where += f", {chosen['seed'].nunique()} seed(s)"
    bleu_column = f"bleu.{task}"
    bleu = float(chosen[bleu_column].mean()) if bleu_column in chosen and chosen[bleu_column].notna().all() else None
    cfg = chosen["run_obj"].iloc[0].config
    bigram = evidence.bigram(cfg)[task]
    gate = _with_context(gates.learned(task, evidence.mean_final(chosen, column), bigram, bleu, margin), where)
    if compared is not None and key in rows and compared != chosen[key].iloc[0]:
        loss = evidence.mean_final(rows[rows[key] == compared], column)
        gate = dataclasses.replace(gate, measured=f"{gate.measured}; at the compared {key} {compared:g}: {task} loss "
                                                  f"{loss:.3f}, {bigram - loss:.2f} nats below the bigram",
                                   numbers={**gate.numbers, "compared": float(compared), "compared_loss": loss})
    return gate


def pretrained_gate(rows, task: str, margin: float = gates.LEARNED_MARGIN):
    """`gates.learned` (named pretrained) on `task` at the end of pre-training: step
    `fork_at` of the rows' runs, one run per seed (each seed has its own pre-training)."""
    runs = list(rows.drop_duplicates("seed")["run_obj"] if "seed" in rows else rows["run_obj"].iloc[:1])
    losses, steps = [], set()
    for run in runs:
        nll, tokens = evidence.at_steps(run, task, run.config.fork_at)[0]
        losses.append(float(nll.sum() / tokens.sum()))
        steps.add(run.config.fork_at)
    gate = gates.learned(task, float(np.mean(losses)), evidence.bigram(runs[0].config)[task], margin=margin,
                         name="pretrained")
    return _with_context(gate, f"end of pre-training (step {', '.join(map(str, sorted(steps)))})")


def overfits_gate(static_rows, task: str):
    """`gates.overfits` on static sampling at its highest LRL rate."""
    rate = static_rows["rate"].max()
    gate = gates.overfits(task, *evidence.minimum_and_end(_rows_at(static_rows, "rate", rate), task))
    return _with_context(gate, f"static sampling at rate {rate:g}")


def falling_gate(rows, task: str):
    """`gates.falling` on `task` at the end of the rows' pre-training (step fork_at), on the
    mean over seeds of their curves (one run per seed: a seed's runs share that pre-training)."""
    one_per_seed = rows.drop_duplicates("seed") if "seed" in rows else rows.iloc[:1]
    curves = [dict(zip(*evidence.curve(run, task))) for run in one_per_seed["run_obj"]]
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    losses = [float(np.mean([c[s] for c in curves])) for s in steps]
    fork_at = one_per_seed["run_obj"].iloc[0].config.fork_at
    context = "end of the longest pre-training" + (f", mean over {len(curves)} seeds" if len(curves) > 1 else "")
    if fork_at not in steps:  # a seed without an evaluation there: nothing shows the loss still falling
        return Gate("falling", False, f"{task}: no evaluation at step {fork_at} in every seed ({context})",
                    {"task": task, "step": fork_at})
    return _with_context(gates.falling(task, steps, losses, fork_at), context)


# ------------------------------------------------------------------------------ judges, one per notebook

def fig1_hrl_fronts(df, taskset: str) -> list:
    """A1, Fig. 1 (and Figs. 20, 26 from the same runs): HRL+HRL fronts with and without
    pre-training (method: static sampling / pre-train + joint FT; rate; seed); the second
    pair's data efficiency; its BLEU where the runs measured it."""
    t1, t2 = _tasks(taskset)
    static, pre = df[df.method == STATIC], df[df.method == PRETRAIN]
    gate_list = [learned_gate(static, t1), learned_gate(static, t2), pretrained_gate(pre, t1)]
    effect, numbers = _front_gain(static, pre, (t1, t2), names=("static", "pretrain"))
    verdicts = [judge(FIG1_FRONT_NOT_IMPROVED, gate_list, shifted(effect, MINIMUM), scope=taskset, **numbers)]

    seeds = _common_seeds(static, pre)
    (rate_p, best_p), (rate_s, best_s) = _best_config(pre, t2, seeds), _best_config(static, t2, seeds)
    (b, tokens, at_p), (a, _, at_s), seen = _at_equal_examples(best_p, best_s, t2)
    verdicts.append(judge(FIG20_NO_EFFICIENCY_GAIN, gate_list, shifted(loss_gain(a, b, tokens), MINIMUM), scope=taskset,
                          rate_pretrain=rate_p, rate_static=rate_s, step_pretrain=at_p, step_static=at_s,
                          examples_seen=seen))
    if f"bleu.{t2}" in df:
        effect, numbers = _score_gain(pre, static, t2, "bleu", seeds)
        verdicts.append(_verdict(FIG26_BLEU_ON_PAR, gate_list + [_scored(t2, numbers, "bleu")],
                                 effect and shifted(effect, SCORE_MINIMUM), taskset,
                                 "one seed per arm: a corpus score has no interval without seeds",
                                 seeds=sorted(seeds) if seeds else None, **numbers))
    if static["rate"].nunique() > 1:
        margin, rates = _domination(static, (t1, t2))
        verdicts.append(judge(FIG1_EVERY_RATE_ON_FRONT, gate_list[:2], margin, scope=taskset, rates=rates))
    return verdicts


def fig2_fronts(df, tasksets) -> list:
    """A2, Fig. 2 / 12: per HRL+LRL task set, the fronts of static sampling, pre-training ->
    joint fine-tuning and the restart baseline."""
    verdicts = []
    for ts in tasksets:
        hrl, lrl = _tasks(ts)
        d = df[df.taskset == ts]
        static, pre, restart = (d[d.method == m] for m in (STATIC, PRETRAIN, RESTART))
        # each method's best LRL rate (lowest seed-mean final loss): where the LRL effects compare
        best = {m: float(rows.groupby("rate")[f"valid_loss.{lrl}"].mean().idxmin())
                for m, rows in ((PRETRAIN, pre), (STATIC, static))}
        learned = learned_gate(static, hrl, compared=best[STATIC])
        pretrained, overfit = pretrained_gate(pre, hrl), overfits_gate(static, lrl)

        effect, numbers = _front_gain(pre, static, lrl, names=("pretrain", "static"))
        verdicts.append(judge(FIG2_PRETRAIN_BEATS_STATIC, [learned, pretrained, overfit], effect, scope=ts, **numbers))

        if len(restart):
            effect, numbers = _front_gain(pre, restart, lrl, names=("pretrain", "restart"))
            verdicts.append(judge(FIG2_RESTART, [learned, pretrained, overfit], effect, scope=ts, **numbers))

        column = f"train_subset_loss.{lrl}"
        tables = [_by_rate_and_seed(rows, rows[column]) for rows in (pre, static)]
        rates = sorted(set(tables[0]) & set(tables[1]))
        tables = [{r: t[r] for r in rates} for t in tables]
        seeds = _common(tables)
        means = [_rate_means(t, seeds) for t in tables]  # on the seeds the interval uses
        gaps = [means[0][r] - means[1][r] for r in rates]
        per_seed = {s: float(np.mean([tables[0][r][s] - tables[1][r][s] for r in rates])) for s in seeds}
        effect = _seed_mean_gain(per_seed, "nats/token (training subset)")
        seen = [_rate_means(_by_rate_and_seed(rows, [evidence.series(r, "examples_seen", lrl)[1][-1] for r in rows["run_obj"]]), seeds)
                for rows in (pre, static)]  # the exposure behind the gap
        verdicts.append(_verdict(FIG2_REGULARISATION, [learned, pretrained, overfit], effect, ts,
                                 "fewer than two seeds ran every rate of both methods: no interval over seeds",
                                 rates=rates, train_loss_gap_pretrain_minus_static=dict(zip(rates, gaps)),
                                 gap_per_seed=per_seed,
                                 lrl_examples_seen_pretrain_over_static={r: seen[0][r] / seen[1][r] for r in rates}))

        if static["rate"].nunique() > 1:
            margin, rates = _domination(static, (hrl, lrl))
            verdicts.append(judge(FIG2_FRONT_SUBSET, [learned, overfit, gates.overshoot(lrl, best[STATIC], rates)],
                                  negated(margin), scope=ts, rates=rates, best_lrl_rate_static=best[STATIC]))

        top = static["rate"].max()
        high = _rows_at(pre, "rate", top)
        fork = int(high["run_obj"].iloc[0].config.fork_at)
        rise, min_step, last_step = evidence.rise_after_minimum(high, lrl, after=fork)
        overfitting = _rows_at(static, "rate", top)  # where the overfits gate looks
        lrl_steps, lrl_curve = evidence.mean_curve(overfitting, lrl)
        stop = lrl_steps[int(np.argmin(lrl_curve))]  # where early stopping on the LRL would stop
        verdicts.append(judge(FIG2_NO_EARLY_STOP, [learned, overfit], evidence.fall_after(overfitting, hrl, stop),
                              scope=ts, rate=top, lrl_min_step=stop, last_step=lrl_steps[-1]))
        seeds = _common_seeds(pre, static)
        (a, tokens, a_rates), (b, _, b_rates) = _front(pre, lrl, seeds=seeds), _front(static, lrl, seeds=seeds)
        compared = len(a_rates) > 1 and len(b_rates) > 1  # a best rate is chosen among two or more
        half_step = float(np.min(np.diff(sorted(set(a_rates) | set(b_rates))))) / 2 if compared else 0.0
        gap = best_value_gap(a, b, tokens, a_rates, b_rates, "LRL rate") if compared else None
        best_pretrain = a_rates[int(np.argmin(seed_mean_losses(a, tokens)))]
        best_static = b_rates[int(np.argmin(seed_mean_losses(b, tokens)))]
        room = [gates.headroom("pre-training", best_pretrain, max(a_rates), "static sampling", best_static,
                               max(b_rates))] if compared else []  # one rate: no best to choose
        verdicts.append(_verdict(FIG16_HIGHER_BEST_RATE, [learned, pretrained, overfit, *room],
                                 gap and shifted(gap, -half_step, "LRL rate, minus half a grid step"), ts,
                                 f"only rate {a_rates[0]:g} has every seed both fronts have: no best rate to choose",
                                 best_rate_pretrain=best_pretrain, best_rate_static=best_static,
                                 rate_gap=gap.estimate if gap else None, rates=sorted(set(a_rates))))
        exposed = gates.exposed(lrl, evidence.exposure(high, lrl), evidence.exposure(overfitting, lrl, stop, least=False),
                                f"static sampling's loss at rate {top:g}")
        verdicts.append(judge(FIG2_HIGHER_RATE, [learned, pretrained, overfit, exposed], shifted(negated(rise), TOLERANCE),
                              scope=ts, rate=top, pretrain_min_step=min_step, pretrain_last_step=last_step,
                              pretrain_rise_after_minimum=rise.estimate, best_rate_pretrain=best[PRETRAIN],
                              best_rate_static=best[STATIC]))
    return verdicts


def _best_config(rows, task, seeds):
    """(rate, its rows) of the configuration with the lowest seed-mean final loss of `task`."""
    configs = _configs(rows, seeds)
    return min(configs, key=lambda c: c[1][f"valid_loss.{task}"].mean())


def _at_examples(rows, task, examples: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(nll (seeds, sentences), tokens, step) of the rows' runs where each had seen `examples`
    of the task: between the two evaluations around that count, linearly in the examples (per
    run: seeds see slightly different counts); the step is the seed mean of where it falls.
    The first evaluation with as many would give a run up to one evaluation interval's examples
    more than the other arm -- on gpu a quarter more -- and tilt the comparison."""
    nll, steps, tokens = [], [], None
    for run in rows["run_obj"]:
        at, seen = evidence.series(run, "examples_seen", task)
        k = next((i for i, e in enumerate(seen) if e >= examples), len(seen) - 1)
        if k == 0 or seen[k] <= examples:  # an evaluation at that count (or the run's last)
            [(loss, tokens)] = evidence.at_steps(run, task, at[k])
            nll.append(loss)
            steps.append(at[k])
            continue
        w = (examples - seen[k - 1]) / (seen[k] - seen[k - 1])
        (after, tokens), (before, _) = evidence.at_steps(run, task, at[k], at[k - 1])
        nll.append(w * after + (1 - w) * before)
        steps.append(w * at[k] + (1 - w) * at[k - 1])
    return np.stack(nll), tokens, float(np.mean(steps))


def _seen_by_end(rows, task) -> float:
    """The task's examples the rows' runs had seen by their ends (the fewest of the seeds)."""
    return float(min(evidence.series(r, "examples_seen", task)[1][-1] for r in rows["run_obj"]))


def _at_equal_examples(best_p, best_s, task, examples: float | None = None) -> tuple[tuple, tuple, float]:
    """Pre-training's and static sampling's best runs where both had seen as many of the
    task's examples (default: the fewer of the two runs' ends -- pre-training's, usually: it
    sees the task in fine-tuning only). ((nll, tokens, step) of each, the examples)."""
    if examples is None:
        examples = min(_seen_by_end(best_p, task), _seen_by_end(best_s, task))
    return _at_examples(best_p, task, examples), _at_examples(best_s, task, examples), examples


def fig3_efficiency(df, tasksets) -> list:
    """A3, Fig. 3 and 4: data efficiency on the LRL (the runs of A2)."""
    verdicts = []
    for ts in tasksets:
        hrl, lrl = _tasks(ts)
        d = df[df.taskset == ts]
        static, pre = d[d.method == STATIC], d[d.method == PRETRAIN]
        # Fig. 3: each method's best run, compared at their ends and at equal LRL examples seen
        seeds = _common_seeds(static, pre)
        (rate_p, best_p), (rate_s, best_s) = _best_config(pre, lrl, seeds), _best_config(static, lrl, seeds)
        learned, pretrained = learned_gate(static, hrl, compared=rate_s), pretrained_gate(pre, hrl)
        seen_p, seen_s = _seen_by_end(best_p, lrl), _seen_by_end(best_s, lrl)
        fewer = gates.fewer(lrl, seen_p, seen_s, f"static sampling's best run (rate {rate_s:g})")
        a, tokens = evidence.arm(best_p, lrl, "final")
        b, _ = evidence.arm(best_s, lrl, "final")
        verdicts.append(judge(FIG3_DATA_EFFICIENT, [learned, pretrained, fewer], loss_gain(a, b, tokens), scope=ts,
                              rate_pretrain=rate_p, rate_static=rate_s, lrl_examples_pretrain=seen_p,
                              lrl_examples_static=seen_s))
        (a, tokens, at_p), (b, _, at_s), seen = _at_equal_examples(best_p, best_s, lrl, min(seen_p, seen_s))
        verdicts.append(judge(FIG3_MORE_EFFICIENT, [learned, pretrained], loss_gain(a, b, tokens), scope=ts,
                              rate_pretrain=rate_p, rate_static=rate_s, step_pretrain=at_p, step_static=at_s,
                              lrl_examples=seen))
        fork = int(best_p["run_obj"].iloc[0].config.fork_at)  # the pre-trained model, no LRL example seen yet
        a, tokens = evidence.arm(best_p, lrl, fork)
        b, _ = evidence.arm(best_s, lrl, 0)
        verdicts.append(judge(FIG3_BETTER_INIT, [learned, pretrained], loss_gain(a, b, tokens), scope=ts,
                              rate_pretrain=rate_p, rate_static=rate_s, step_pretrain=fork, step_static=0,
                              lrl_loss_pretrained=float(seed_mean_losses(a[None], tokens)[0]),
                              lrl_loss_random_init=float(seed_mean_losses(b[None], tokens)[0]),
                              lrl_bigram=evidence.bigram(best_p["run_obj"].iloc[0].config)[lrl]))

        # Fig. 4: static sampling per rate, LRL training loss at equal LRL examples seen
        curves = [(evidence.series(r, "examples_seen", lrl)[1], evidence.series(r, "train_subset_loss", lrl)[1]) for r in static["run_obj"]]
        common = min(seen[-1] for seen, _ in curves)
        table = _by_rate_and_seed(static, [np.interp(common, seen, loss) for seen, loss in curves])
        seeds = _common([table])
        at_equal = _rate_means(table, seeds)
        rates = sorted(at_equal)
        # per seed, the least-squares slope of the loss over the grid's positions: every rate counts
        # (a mean of the steps between neighbours would telescope to the two ends)
        per_seed = {s: -float(np.polyfit(np.arange(len(rates)), [table[r][s] for r in rates], 1)[0])
                    for s in seeds} if len(rates) > 1 else {}
        effect = _seed_mean_gain(per_seed, "nats/token (training subset) per rate step")
        verdicts.append(_verdict(FIG4_FASTER, [learned_gate(static, hrl)], effect, ts,
                                 "fewer than two rates, or fewer than two seeds ran every rate: no interval over seeds",
                                 lrl_examples=common, train_loss_at_equal_examples=at_equal, step_per_seed=per_seed))

        top = static["rate"].max()
        high = _rows_at(static, "rate", top)
        rise, min_step, last_step = evidence.rise_after_minimum(high, lrl)
        lrl_end = evidence.mean_final(high, f"valid_loss.{lrl}")
        verdicts.append(judge(FIG4_OVERFITS, [learned_gate(static, hrl, compared=top)], rise, scope=ts, rate=top,
                              min_step=min_step, last_step=last_step, lrl_min=lrl_end - rise.estimate, lrl_end=lrl_end))
    return verdicts


def fig5_regularisation(df, taskset: str, dropout: float) -> list:
    """A4, Fig. 5: static sampling with more dropout vs pre-training -> joint fine-tuning."""
    hrl, lrl = _tasks(taskset)
    static, pre, drop = (df[df.method == m] for m in (STATIC, PRETRAIN, with_dropout(dropout)))
    gate_list = [learned_gate(static, hrl), _with_context(learned_gate(drop, hrl), f"dropout {dropout:g}"),
                 pretrained_gate(pre, hrl), overfits_gate(static, lrl)]  # the dropout arm learns too
    effect, numbers = _front_gain(pre, drop, lrl, names=("pretrain", "dropout"))
    static_best = float(static.groupby("rate")[f"valid_loss.{lrl}"].mean().min())
    # did more dropout regularise? its LRL training-subset loss against static sampling's, rate by rate
    column = f"train_subset_loss.{lrl}"
    shared = sorted(set(drop["rate"]) & set(static["rate"]))
    regularised = {float(r): float(_rows_at(drop, "rate", r)[column].mean() - _rows_at(static, "rate", r)[column].mean())
                   for r in shared} if column in drop and column in static else {}
    return [judge(FIG5_DROPOUT, gate_list, effect, scope=taskset, dropout=dropout, best_lrl_loss_static=static_best,
                  lrl_train_loss_dropout_minus_static=regularised, **numbers)]


def fig6_finetune_only(df, taskset: str) -> list:
    """A5, Fig. 6: fine-tuning on the LRL only vs joint fine-tuning (same pre-training)."""
    hrl, lrl = _tasks(taskset)
    joint, only = df[df.method == PRETRAIN], df[df.method == FT_ONLY]
    gate_list = [learned_gate(joint, hrl), pretrained_gate(joint, hrl)]
    fork = only["run_obj"].iloc[0].config.fork_at
    at_fork, tokens = evidence.arm(only, hrl, fork)  # (seeds, sentences): every seed's fine-tune-only run
    at_end, _ = evidence.arm(only, hrl, "final")
    forgetting = loss_gain(at_fork, at_end, tokens, same_runs=True)  # loss(end) - loss(end of pre-training)
    effect, numbers = _front_gain(joint, only, lrl, names=("joint", "lrl_only"))
    joint_best = _rows_at(joint, "rate", numbers["best_rate_joint"])
    if (seeds := _common_seeds(joint, only)) is not None:  # the seeds both arms' effect uses
        joint_best = joint_best[joint_best["seed"].isin(seeds)]
    # the paper's Fig. 6 compares the runs' ends (fine-tuning only overfits, then ends worse);
    # fine-tuning only's best evaluation, what early stopping would keep, is shown beside it
    _, only_curve = evidence.mean_curve(only, lrl, after=fork)
    return [
        judge(FIG6_FORGETS, gate_list, forgetting, scope=taskset,
              hrl_loss_after_pretraining=float(seed_mean_losses(at_fork[None], tokens)[0]),
              hrl_loss_after_lrl_only=float(seed_mean_losses(at_end[None], tokens)[0]),
              hrl_loss_joint=evidence.mean_final(joint_best, f"valid_loss.{hrl}"),
              rate_joint=numbers["best_rate_joint"]),
        judge(FIG6_JOINT_BETTER, gate_list, effect, scope=taskset,
              best_lrl_loss_lrl_only_during_run=float(np.min(only_curve)),
              best_rate_joint=numbers["best_rate_joint"], loss_joint=numbers["loss_joint"],
              loss_lrl_only=numbers["loss_lrl_only"]),
    ]


def fig7_multilingual_lm(df, taskset: str, tau: float) -> list:
    """A6, Fig. 7 and 8: temperature sampling, the restart baseline and pre-training on the
    first language -> joint fine-tuning, one run per seed each; languages after the second are the
    low-resource ones (the second is mid-resource)."""
    from ..data import get_taskset

    langs = list(get_taskset(taskset).tasks)
    hrl, low = langs[0], langs[2:]
    temp, restart, pre = (df[df.method == m] for m in (temperature(tau), RESTART, LM_PRETRAIN))
    lm = gates.LM_LEARNED_MARGIN  # language models: no source sentence
    learned, pretrained = learned_gate(temp, hrl, margin=lm), pretrained_gate(pre, hrl, margin=lm)

    def gain(a_rows, b_rows, lang, names):
        """loss(B) - loss(A) at each arm's best evaluation over its run (pre-training's after its
        fork), with both best losses named."""
        a, tokens = evidence.over_run(a_rows, lang, after_fork=True)
        b, _ = evidence.over_run(b_rows, lang)
        return loss_gain(a, b, tokens, evaluations=True), {f"best_loss_{names[0]}": point_loss(a, tokens),
                                                          f"best_loss_{names[1]}": point_loss(b, tokens)}

    verdicts = []
    for lang in low:
        effect, best = gain(pre, temp, lang, ("pretrain", "temperature"))
        verdicts.append(judge(FIG7_BEATS_TEMPERATURE, [learned, pretrained, overfits_lm(temp, lang)], effect, scope=lang,
                              **best))
    for lang in low:
        effect, best = gain(pre, restart, lang, ("pretrain", "restart"))
        verdicts.append(judge(FIG7_RESTART, [learned, pretrained], effect, scope=lang, **best))
    effect, best = gain(pre, temp, hrl, ("pretrain", "temperature"))
    verdicts.append(judge(FIG7_ENGLISH, [learned, pretrained], effect, scope=hrl, **best))
    for lang in low:  # the restart's own evaluations only: before its fork it is temperature sampling's run
        fork = int(restart["run_obj"].iloc[0].config.fork_at)
        a, tokens = evidence.over_run(restart, lang, after_fork=True)
        b, _ = evidence.over_run(temp, lang)  # both minima chosen again in every resample
        verdicts.append(judge(FIG7_RESTART_HELPS, [learned], loss_gain(a, b, tokens, evaluations=True), scope=lang,
                              restart_fork=fork,
                              best_loss_restart_after_fork=point_loss(a, tokens),
                              best_loss_temperature=point_loss(b, tokens)))
    for lang in low:  # where early stopping on the language would stop, English still improves
        steps, curve = evidence.mean_curve(temp, lang)
        stop = steps[int(np.argmin(curve))]
        verdicts.append(judge(FIG7_OVERFITS_FIRST, [learned, overfits_lm(temp, lang)], evidence.fall_after(temp, hrl, stop),
                              scope=lang, lrl_min_step=stop, last_step=steps[-1]))
    return verdicts


def overfits_lm(rows, lang: str):
    """`gates.overfits` on one language of the temperature-sampling baseline."""
    return _with_context(gates.overfits(lang, *evidence.minimum_and_end(rows, lang)), "temperature sampling")


def fig9_pretraining_length(lm_df, nmt_df, lm_taskset: str, nmt_taskset: str) -> list:
    """A7, Fig. 9: LM with a fixed total budget (rows per pre-training length, column
    'pretrain') and NMT with a fixed fine-tuning length (rows per pre-training length and
    rate); the shortest and the longest pre-training are compared. lm_df None: the NMT half
    alone (no LM task set)."""
    verdicts = [] if lm_df is None else _fig9_lm(lm_df, lm_taskset)
    return verdicts + _fig9_nmt(nmt_df, nmt_taskset)


def _fig9_lm(lm_df, lm_taskset: str) -> list:
    from ..data import get_taskset

    verdicts = []
    langs = list(get_taskset(lm_taskset).tasks)
    short, long = min(lm_df["pretrain"]), max(lm_df["pretrain"])
    s_rows, l_rows = _rows_at(lm_df, "pretrain", short), _rows_at(lm_df, "pretrain", long)
    lm = gates.LM_LEARNED_MARGIN  # language models: no source sentence
    lm_gates = [learned_gate(s_rows, langs[0], margin=lm), pretrained_gate(s_rows, langs[0], margin=lm),
                falling_gate(l_rows, langs[0])]
    for claim, group, (better, worse) in ((FIG9_LM_LRL, langs[2:], (long, short)),
                                          (FIG9_LM_HRL, langs[:2], (short, long))):
        for lang in group:
            # each run's best after its fork: before it, a run is its pre-training (English alone)
            arms = {p: evidence.over_run(rows, lang, after_fork=True) for p, rows in ((short, s_rows), (long, l_rows))}
            (a, tokens), (b, _) = arms[better], arms[worse]
            verdicts.append(judge(claim, lm_gates, loss_gain(a, b, tokens, evaluations=True), scope=f"LM {lang}",
                                  pretrain_steps=[short, long],
                                  best_loss={int(p): point_loss(*arm) for p, arm in arms.items()}))
    return verdicts


def _fig9_nmt(nmt_df, nmt_taskset: str) -> list:
    verdicts = []
    hrl, lrl = _tasks(nmt_taskset)
    short, long = min(nmt_df["pretrain"]), max(nmt_df["pretrain"])
    s_rows, l_rows = _rows_at(nmt_df, "pretrain", short), _rows_at(nmt_df, "pretrain", long)
    nmt_gates = [learned_gate(s_rows, hrl), pretrained_gate(s_rows, hrl), falling_gate(l_rows, hrl)]
    for task in (hrl, lrl):
        effect, numbers = _front_gain(l_rows, s_rows, task, names=("longest", "shortest"))
        verdicts.append(judge(FIG9_NMT, nmt_gates, effect, scope=f"NMT {nmt_taskset} {task}",
                              pretrain_steps=[int(short), int(long)], **numbers))
    return verdicts


def fig27_bleu_fronts(df, tasksets) -> list:
    """A8, Fig. 27 / 28: the LRL's best BLEU and chrF over each front (the runs of A2)."""
    verdicts = []
    for ts in tasksets:
        hrl, lrl = _tasks(ts)
        d = df[df.taskset == ts]
        static, pre = d[d.method == STATIC], d[d.method == PRETRAIN]
        seeds = _common_seeds(static, pre)
        gains = {metric: _score_gain(pre, static, lrl, metric, seeds) for metric in ("bleu", "chrf")}
        bleu = gains["bleu"][1]
        gate_list = [learned_gate(static, hrl, compared=bleu["best_rate_static"]), pretrained_gate(pre, hrl)]
        scored = _scored(lrl, bleu, "bleu")
        for claim, metric in ((FIG27_BLEU, "bleu"), (FIG27_CHRF, "chrf")):
            effect, numbers = gains[metric]
            verdicts.append(_verdict(claim, gate_list + [scored], effect, ts, "one seed per arm: a corpus score has no "
                                     "interval without seeds", seeds=sorted(seeds) if seeds else None, **numbers))
    return verdicts
