"""Claims of "Upsample or Upweight? Balanced Training on Heavily Imbalanced Datasets" (Li et
al.), each a `Claim` and a function that judges it on a notebook's runs."""

from __future__ import annotations

from . import evidence, gates
from .core import Claim, judge
from .stats import loss_gain, shifted

PAPER = "Upsample or Upweight?"

COOLDOWN_BEATS_TAU5 = Claim(
    "upweight.fig1.cooldown_beats_tau5_lrl", PAPER, "Fig. 1, §4",
    "Using a high temperature leads to overfitting the low-resource direction; COOLDOWN (high temperature, then τ=1) "
    "gets fast convergence without overfitting.",
    "Fig. 1: En-Ro validation loss, COOLDOWN ends below τ=5 (read from the curve, no number given)",
    gates=("learned", "cooldown"), minimum=0.02,
    statistic="final LRL validation loss, τ=5 minus COOLDOWN (paired over sentences, seeds resampled)")
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

CLAIMS = (COOLDOWN_BEATS_TAU5, COOLDOWN_BEATS_TAU1, COOLDOWN_KEEPS_HRL)


def learned_gate(rows, hrl: str):
    """`gates.learned` on the HRL at the end of the rows' runs (mean over seeds)."""
    cfg = rows["run_obj"].iloc[0].config
    bleu = evidence.mean_final(rows, f"bleu.{hrl}") if f"bleu.{hrl}" in rows else None
    return gates.learned(hrl, evidence.mean_final(rows, f"valid_loss.{hrl}"), evidence.bigram(cfg)[hrl], bleu)


def _gain(a_rows, b_rows, task, at="final"):
    a, tokens = evidence.arm(a_rows, task, at)
    b, _ = evidence.arm(b_rows, task, at)
    return loss_gain(a, b, tokens)


def fig1_cooldown(df, hrl: str, lrl: str, methods=("τ=1 (proportional)", "τ=5", "COOLDOWN (5→1)")) -> list:
    """Fig. 1: τ=1, τ=5 and COOLDOWN on one HRL+LRL pair; df has a 'method' column naming
    the three arms (`methods`, in that order) and one row per seed."""
    tau1, tau5, cd = (df[df.method == m] for m in methods)
    learned = learned_gate(tau1, hrl)
    overfit = gates.cooldown(lrl, *evidence.minimum_and_end(tau5, lrl))
    return [
        judge(COOLDOWN_BEATS_TAU5, [learned, overfit], _gain(cd, tau5, lrl),
              lrl_cooldown=evidence.mean_final(cd, f"valid_loss.{lrl}"), lrl_tau5=evidence.mean_final(tau5, f"valid_loss.{lrl}")),
        judge(COOLDOWN_BEATS_TAU1, [learned], _gain(cd, tau1, lrl),
              lrl_cooldown=evidence.mean_final(cd, f"valid_loss.{lrl}"), lrl_tau1=evidence.mean_final(tau1, f"valid_loss.{lrl}")),
        judge(COOLDOWN_KEEPS_HRL, [learned], shifted(_gain(cd, tau1, hrl), HRL_TOLERANCE),
              hrl_cooldown=evidence.mean_final(cd, f"valid_loss.{hrl}"), hrl_tau1=evidence.mean_final(tau1, f"valid_loss.{hrl}")),
    ]
