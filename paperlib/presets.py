"""Presets: the one table of sizes. Everything that differs between `smoke`, `mini` and
`paper` -- model, steps, batch, learning rate, evaluation sizes, task-set subsampling,
seeds, rate grids, vocabulary -- is a field of `Preset` here, and every other module
reads it from `get(name)`.

smoke  seconds per notebook; CI executes every notebook at this size (out of regime by design).
mini   the default without a GPU, in regime: Order Matters Fig. 2 and the figures that reuse
       its runs (Figs. 3-4, 6, 27), Upsample or Upweight? Fig. 1 on the same runs (the fronts
       sample at τ=1 and τ=5) plus the theory figure, three seeds at every point: 83.6 min
       of training (one schedule, 2 workers) + 1.1 min of notebooks on 2 CPU cores, measured
       2026-11-30; the other notebooks are left to gpu (`Preset.notebooks`).
gpu    one GPU: full-size DDTP pairs (the first with a 1,000-pair LRL), bf16, three seeds,
       every figure: 341k steps, 0.93 GPU-hours at the measured rate of runs side by side.
paper  the papers' own settings and data (`--source hub`, its default: WMT, OPUS-100, mC4), for GPU nodes.
gpu6, paper6  the 6+6-layer variants of gpu and paper for Order Matters' 6-layer appendix figures.

`--source hub` runs any preset on the papers' own corpora (`HUB_FRACTIONS` scale them).

The sizing arithmetic of each preset -- FLOPs per step, runs, epochs per task, measured
rates and wall time -- is in the comment above its entry. FLOPs are counted by
torch.utils.flop_counter (`costs.flops_per_example`): the d=128 2+2-layer model (1.45M
parameters, vocab 4k) costs 10.9 GFLOP per step of 32 translation examples at the full 64
tokens a side; the d=256 3+3-layer gpu model (vocab 8k) 0.39 TFLOP per step of 128.

Deviations from the papers, all stated in the report (its scale table): one learning rate
(no sweep) outside `paper`; warmup + inverse-sqrt LR outside `paper` (paper A's NMT uses cosine
decay, which would stop the restart baseline from sharing the static run's prefix); causal
LM instead of span corruption; DDTP instead of WMT/OPUS-100/mC4 (unless `--source hub`). The
`paper` preset carries the papers' own settings (model, batch 1024, steps, cosine, LR sweep)
and reads their corpora from the hub by default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .models import ModelConfig


@dataclass(frozen=True)
class Preset:
    """Every size of one preset."""

    name: str
    model: ModelConfig
    """The model of every run (translation and LM)."""
    batch_size: int
    """Examples per step."""
    lr: float
    """Peak learning rate (the paper preset sweeps `lr_grid` for Order Matters' NMT grids)."""
    warmup: int
    """Warm-up steps of every LR schedule."""
    steps: int
    """Steps of a two-task NMT run (paper A: N; paper B §3.2 runs)."""
    pretrain: int
    """Order Matters' pre-training length N1; the restart baseline's reset point."""
    lm_steps: int
    """Steps of a language-modelling run."""
    lm_pretrain: int
    """Pre-training length of the LM runs."""
    eval_every: int
    """Steps between evaluations (and checkpoints)."""
    max_valid: int | None
    """Validation examples per task (None: all)."""
    train_subset: int
    """Fixed training examples per task for the training-loss curves."""
    bleu_max_examples: int
    """Test segments per task for BLEU/chrF."""
    vocab_size: int
    """SentencePiece vocabulary of the prepared data."""
    block_size: int
    """Tokens per language-modelling example."""
    rate_grid: tuple[float, ...]
    """LRL sampling rates of Order Matters' HRL+LRL fronts."""
    hrl_hrl_rates: tuple[float, ...]
    """Sampling rates of the second task on Order Matters' two-HRL front (Fig. 1)."""
    fractions: dict = field(default_factory=dict)
    """Task set name -> fraction of its training data kept (1 when absent)."""
    max_train: int | None = None
    """Cap on the largest task's training examples; the others keep their share of it, at
    least a tenth of the cap (`data.tasksets.capped_counts`; None: no cap)."""
    max_eval: int | None = None
    """Cap on every task's validation and test segments (None: the task set's n_eval)."""
    lr_schedule: str = "inverse_sqrt"
    """LR schedule of translation runs."""
    lm_lr_schedule: str = "constant_then_inverse_sqrt"
    """LR schedule of language-modelling runs."""
    seeds: tuple[int, ...] = (0,)
    """Seeds of comparisons that depend on the seed."""
    lr_grid: tuple[float, ...] = ()
    """Learning rates swept for paper A's NMT grids (empty: just `lr`)."""
    doremi_fraction: float = 1.0
    """DoReMi's reference and proxy length, as a fraction of a run."""
    gradvar_batches: int = 60
    """Mini-batches per method and checkpoint for the measured gradient variance (Fig. 3)."""
    gradvar_per_task: int = 16
    """Single examples per task for the per-task gradient second moments."""
    theory_grid: int = 200
    """Points of the τ axis of the closed-form variance figures (Fig. 2)."""
    seeds_at_every_rate: bool = False
    """Order Matters' fronts: every seed at every rate (a front compared by its best rate
    with seed intervals); otherwise the further seeds run at the middle rate only (every
    rate, and every pair, where the preset stacks its seeds: `stack_seeds`)."""
    precision: str = "fp32"
    """Training precision: fp32, or bf16 autocast (pays off on GPUs only)."""
    notebooks: tuple[str, ...] | None = None
    """The notebooks `paperlib reproduce` runs at this preset (None: every one). A preset too
    small for a figure's regime leaves it out rather than shrink its runs below learning:
    the report says "not run at this size" and points to a larger preset."""
    front_taus: tuple[float, ...] = ()
    """Temperatures at which Order Matters' HRL+LRL fronts sample instead of `rate_grid`
    (empty: the rates). With 1 and 5 among them, their static runs are Upsample or Upweight?
    Fig. 1's τ=1 and τ=5 runs too, and COOLDOWN continues τ=5's at the switch: one set of runs
    serves both papers' figures (`experiments.cooldown_runs`)."""
    hrl_lrl_sets: tuple[str, ...] = ("hrl_lrl_fi", "hrl_lrl_sv")
    """The HRL+LRL task sets of the two-task figures; figures of one pair use the first.
    A preset names pairs whose low-resource side its models can learn."""
    stack_seeds: bool = False
    """Train the seeds of every configuration as one stack (`TrainConfig.stack_seeds`,
    `paperlib.stacked`): on a GPU that one small run leaves mostly idle, a stack of K seeds
    steps in about one run's time, so a configuration read at one seed gets all `seeds`
    nearly free: the notebooks' single-seed arms (tables, Order Matters Figs. 1 and 7-9 and
    the fronts' other points and pairs, Upsample or Upweight? Fig. 4's smaller τ and Figs.
    5-7) then read every seed (`experiments.arm_seeds`). A stacked run is another draw than
    the unstacked one (dropout), so turning this on changes the runs' identities: ship the
    preset's runs again."""
    varies: str | None = None
    """The preset this one is a variant of (the 6-layer presets): where no throughput of its
    own was measured, `costs` charges that preset's measured FLOP rate."""

    @property
    def finetune(self) -> int:
        return self.steps - self.pretrain

    @property
    def switch(self) -> int:
        """COOLDOWN's switch: half the run (paper B: 30k of 60k MT, 50k of 100k LM steps)."""
        return self.steps // 2

    @property
    def examples_per_run(self) -> int:
        """Examples one two-task run draws: the yardstick of the task sets' epochs tables."""
        return self.steps * self.batch_size

    def __post_init__(self):
        if self.stack_seeds and len(self.seeds) < 2:
            raise ValueError(f"preset {self.name}: stack_seeds stacks the seeds of a configuration, but it has "
                             f"{len(self.seeds)}")
        if self.block_size != self.model.max_len:
            raise ValueError(f"preset {self.name}: LM blocks of {self.block_size} tokens but model.max_len "
                             f"{self.model.max_len}: the rest of every block would be cut off")

    def runs_notebook(self, notebook: str) -> bool:
        """Whether `paperlib reproduce` runs this notebook at this preset (see `notebooks`)."""
        return self.notebooks is None or notebook in self.notebooks

    def fraction(self, taskset: str) -> float:
        return self.fractions.get(taskset, 1.0)


# `--source hub` below the paper preset: the papers' corpora (`data.tasksets.HUB_TASKSETS`)
# scaled by one factor per task set, which keeps their ratios -- mini: en-fr 40.9k pairs with
# en-ro 610 (as many as mini's DDTP en-es), OPUS-100 es 20k down to ug 1.5k; gpu: en-fr 409k,
# en-ro 6.1k, OPUS-100 200k down to 15k. En→{Hi, Fr} is ≈1,240× on the hub (wmt14 hi-en has
# 32,863 pairs, the paper's En-Hi 313,748), so it keeps 10x more: en-hi 329 at mini (en-fr
# 409k), 3.3k at gpu (en-fr 4.1M). mC4 fractions apply to the documents the task sets name
# (mini: 200 Gaelic documents, gpu: 2,000).
_WMT = ("wmt_fr_zh", "wmt_fr_ro", "wmt_cs_ro", "wmt_zh_ro")
HUB_FRACTIONS = {
    "mini": {**dict.fromkeys(_WMT, 0.001), "wmt_fr_hi": 0.01, "opus100_table3": 0.02, "mc4_order_matters": 0.01,
             "mc4_table4": 0.01},
    "gpu": {**dict.fromkeys(_WMT, 0.01), "wmt_fr_hi": 0.1, "opus100_table3": 0.2, "mc4_order_matters": 0.1,
            "mc4_table4": 0.1},
}

_PRESETS = (
    Preset(
        "smoke", model=ModelConfig(d_model=32, layers=1, heads=2, ffn=64, max_len=32),
        batch_size=8, lr=3e-3, warmup=2, steps=12, pretrain=8, lm_steps=12, lm_pretrain=8,
        eval_every=4, max_valid=16, train_subset=8, bleu_max_examples=4, vocab_size=2000, block_size=32,
        rate_grid=(0.3, 0.7), hrl_hrl_rates=(0.3, 0.7), max_train=400, max_eval=20, seeds=(0, 1),
        gradvar_batches=6, gradvar_per_task=2, theory_grid=20,
    ),
    Preset(
        # two CPU cores, in regime: Order Matters Fig. 2 and what reuses its runs (Figs. 3-4, 6,
        # 27), Upsample or Upweight? Fig. 1 on the same runs, and the theory of its Fig. 2.
        # The fronts sample at τ=1 and τ=5 (`front_taus`), so their static runs are Fig. 1's
        # arms and COOLDOWN is three forks at the switch (step 1,500). Sized by pilots on 2
        # cores (2026-11-30, this model, batch 32, lr 1e-3 with 200 warm-up steps, en-it at 15%
        # = 15.9k pairs): with 652 en-es pairs τ=5 (rate 0.35) never overfit (4.39 at 2,750 and
        # 3,000); with 400 (hrl_lrl_es400, ≈40×; τ=5 samples en-es at 0.32, τ=1 at 0.025) it
        # reached its minimum 4.81 at step 2,250 and rose to 4.87 by 3,000 (the `overfits` and
        # `cooldown` gates), while 500 steps of joint fine-tuning at τ=5 after 2,500 of
        # pre-training (en-it 3.35, 1.1 nats below its bigram: the `pretrained` gate) reached
        # 4.44. A step is 11 GFLOP at full length (flop_counter); two runs side by side make
        # about 4 steps/s each, evaluation included. Runs: per seed (3) a pre-training of
        # 2,500, static τ=1 and τ=5 of 3,000 (each in three pieces: 0-1,500, 1,500-2,500,
        # 2,500-3,000), and continuations of 500 (joint fine-tuning and restart at each τ,
        # fine-tune-only) and of 1,500 (COOLDOWN): 37,500 steps, 83.6 min on 2 cores (shipped
        # runs, 2026-11-30: τ=5's en-es minimum 4.825 at 2,250, +0.032 by 3,000, 3.5 SE; en-it
        # 1.24 nats below its bigram at τ=1, 0.90 at τ=5). Upsample or Upweight? Fig. 4
        # would add scalarization runs of whole length (and its learned gate fails for
        # τ=5-like rates at this length); `notebooks` leaves it and the others to gpu.
        "mini", model=ModelConfig(d_model=128, layers=2, heads=4, ffn=512, max_len=64),
        batch_size=32, lr=1e-3, warmup=200, steps=3000, pretrain=2500, lm_steps=300, lm_pretrain=200,
        eval_every=250, max_valid=None, train_subset=64, bleu_max_examples=50, vocab_size=4000, block_size=64,
        rate_grid=(0.1, 0.5), hrl_hrl_rates=(0.2, 0.5, 0.8), seeds=(0, 1, 2), doremi_fraction=0.5, seeds_at_every_rate=True,
        front_taus=(1.0, 5.0), hrl_lrl_sets=("hrl_lrl_es400",),
        notebooks=("A2_fig02_hrl_lrl_fronts", "A3_fig03_efficiency", "A5_fig06_finetune_only",
                   "A8_fig26_bleu_fronts", "B0_fig02_variance_theory", "B3_fig01_cooldown_lrl",
                   "C1_advise_sampling_plan"),
        # hrl_lrl_es at 15%: few enough en-es pairs to overfit at rate 0.5 within a run; the
        # other sets serve the notebooks run at this size only with --only (out of regime)
        fractions={"hrl_hrl": 0.25, "hrl_lrl_fi": 0.15, "hrl_lrl_sv": 0.3, "hrl_lrl_es": 0.15, "hrl_lrl_es400": 0.15, "one_to_many": 0.02,
                   "one_to_many_extreme": 0.3, **HUB_FRACTIONS["mini"]},
    ),
    Preset(
        # one GPU (H100/H200 class): full-size DDTP pairs, a 2x wider, deeper model than mini, bf16,
        # three seeds. Measured on an H200 (benchmarks/results_gpu_h200.json, 2026-11-29/30):
        # 0.39 TFLOP per step of 128 examples at full length (flop_counter); the step is
        # launch-bound -- 39 steps/s for one run alone (MFU 1.9%) -- so runs train side by side:
        # 8-9 at once gave 102-111 steps/s together, evaluation and BLEU included (23 runs in
        # 550 s); `--dry-run` charges that rate (341k steps: 0.93 GPU-h).
        # In regime (2026-11-30, 4,000 steps): en-it valid 1.68-2.09 vs its bigram's 4.43, BLEU
        # 23-28; en-es (4.3k pairs) 2.48-3.07 vs 5.00, BLEU 11-16 -- but en-es never overfit (its
        # minimum at the last step at 59 epochs), so the claims resting on LRL overfitting were
        # out of regime: the first pair is now hrl_lrl_es1k (1,000 en-es pairs: 128 epochs by
        # COOLDOWN's switch, 256 by the end at rate 0.5; en-it 4.3 epochs at rate 0.9). A CPU
        # pilot of mini's model on 652 en-es pairs overfit from 49 epochs on.
        "gpu", model=ModelConfig(d_model=256, layers=3, heads=4, ffn=1024, max_len=64),
        batch_size=128, lr=1e-3, warmup=200, steps=4000, pretrain=3000, lm_steps=4000, lm_pretrain=2000,
        eval_every=250, max_valid=None, train_subset=128, bleu_max_examples=200, vocab_size=8000, block_size=64,
        rate_grid=(0.1, 0.3, 0.5), hrl_hrl_rates=(0.2, 0.5, 0.8), seeds=(0, 1, 2), doremi_fraction=0.5,
        gradvar_batches=100, gradvar_per_task=32, theory_grid=200, precision="bf16", seeds_at_every_rate=True,
        hrl_lrl_sets=("hrl_lrl_es1k", "hrl_lrl_es"),
        fractions=HUB_FRACTIONS["gpu"],
    ),
    Preset(
        # Order Matters Table 3 (3+3 layers, d 512, FFN 2048, 8 heads) and Table 4 (En→{Ro, Fr}:
        # 400k base + 50k fine-tune), batch 1024, warmup 40k, cosine decay
        "paper", model=ModelConfig(d_model=512, layers=3, heads=8, ffn=2048, max_len=256),
        batch_size=1024, lr=2.5e-3, warmup=40_000, steps=450_000, pretrain=400_000,
        lm_steps=500_000, lm_pretrain=250_000, eval_every=5_000, max_valid=None, train_subset=2048,
        bleu_max_examples=2000, vocab_size=32000, block_size=256, lr_schedule="cosine", seeds=(0, 1, 2),
        rate_grid=tuple(i / 10 for i in range(1, 10)), hrl_hrl_rates=tuple(i / 10 for i in range(1, 10)),
        lr_grid=(2.5e-4, 5e-4, 2.5e-3, 5e-3, 7.5e-3),  # Order Matters §4: best LR per point
        gradvar_batches=200, gradvar_per_task=64, theory_grid=400,
    ),
)


# Order Matters Appendix A.2 repeats the NMT figures with 6+6-layer models (Figs. 10-11, 13,
# 15, 17, 19, 21, 23, 25 and the right panels of Figs. 27-28). A 6-layer preset is its
# 3-layer one with the deeper model, running only the notebooks of those figures; their
# figures and report go to figures/<name>/ beside the 3-layer ones (`paperlib reproduce
# --preset gpu6`). paper6 takes Table 4's 6-layer En→{Ro, Fr} length: 300k base + 50k.
# Sizing (flop_counter, full-length sequences): gpu6 0.67 TFLOP per step of 128 against gpu's
# 0.39; its 118k steps (A1, A2, A3, A8's grids) cost 0.64 GPU-h in the dry run, charged at
# gpu's measured side-by-side steps/s halved (twice the layers' kernels: launch-bound; not yet
# measured). paper6: 102 TFLOP per step of 1024, 700 runs; its dry run, like paper's, is an
# upper bound until the data are prepared (sequences counted at 256 tokens).
SIX_LAYER_NOTEBOOKS = ("A1_fig01_hrl_hrl_fronts", "A2_fig02_hrl_lrl_fronts", "A3_fig03_efficiency",
                       "A8_fig26_bleu_fronts")


def six_layer(p: Preset, **changes) -> Preset:
    """The 6+6-layer variant of preset p (name p.name + "6")."""
    return dataclasses.replace(p, name=f"{p.name}6", model=dataclasses.replace(p.model, layers=6),
                               notebooks=SIX_LAYER_NOTEBOOKS, varies=p.name, **changes)


# SentencePiece's byte fallback alone takes 259 ids (256 bytes and 3 specials): a vocabulary
# smaller than this has almost no room for pieces learned from the text
MIN_VOCAB_SIZE = 300

_BY_NAME = {p.name: p for p in _PRESETS}
_PRESETS += (six_layer(_BY_NAME["gpu"]), six_layer(_BY_NAME["paper"], steps=350_000, pretrain=300_000))
PRESETS = {p.name: p for p in _PRESETS}
DEFAULT_PRESET = "mini"


def choose(asked: str | None, gpu: str | None) -> tuple[str, str]:
    """(preset, why) for `paperlib reproduce`: the one asked for, else `gpu` where a CUDA
    device is seen (`gpu` is its name) and `mini` otherwise."""
    if asked is not None:
        return check_preset(asked), f"preset {asked} (asked for)"
    if gpu:
        return "gpu", f"preset gpu: a CUDA device is there ({gpu}); --preset mini for the CPU size"
    return DEFAULT_PRESET, f"preset {DEFAULT_PRESET}: no CUDA device; --preset gpu on a GPU machine"


def check_preset(name: str) -> str:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return name


def get(name: str) -> Preset:
    """The preset called `name` (a one-line error listing the valid ones otherwise)."""
    return PRESETS[check_preset(name)]
