"""Training configuration: frozen dataclasses validated on construction.

A config is plain data (JSON/YAML-able). `from_dict` rejects unknown keys and lists the
valid ones; `with_overrides` applies `--set a.b=value` strings. The plan is a method spec
(`paperlib.methods`); `build_plan` turns it into a `mixing.Plan` once the task sizes are
known.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields

from . import methods, mixing
from .checks import check_name, check_types, coerce
from .files import load_yaml
from .models import ModelConfig
from .presets import MIN_VOCAB_SIZE, PRESETS


@dataclass(frozen=True)
class DataConfig:
    """Which prepared task set to train on (see `paperlib data info`)."""

    taskset: str = "hrl_lrl_fi"
    preset: str = "mini"            # data scale: smoke | mini | gpu | paper
    source: str = "ddtp"            # ddtp | dir | hub
    source_path: str | None = None  # the folder for source "dir"
    vocab_size: int | None = None   # default by preset
    block_size: int | None = None   # LM block length; default by preset

    def __post_init__(self):
        check_types(self, "data.")
        check_name(self.taskset, "data.taskset")
        if self.preset not in PRESETS:
            raise ValueError(f"data.preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if self.source not in ("ddtp", "dir", "hub"):
            raise ValueError(f"data.source must be ddtp, dir or hub, got {self.source!r}")
        if self.source == "dir" and not self.source_path:
            raise ValueError("data.source 'dir' needs data.source_path (the corpus folder)")
        # an LM block holds its language tag and at least one piece; a vocabulary needs room beyond byte fallback
        for name, least in (("vocab_size", MIN_VOCAB_SIZE), ("block_size", 2)):
            if getattr(self, name) is not None and getattr(self, name) < least:
                raise ValueError(f"data.{name} must be >= {least} or null (the preset's), got {getattr(self, name)!r}")


@dataclass(frozen=True)
class OptimConfig:
    """Adam(W) and the LR schedule's base. Paper B: betas (0.9, 0.98), eps 1e-6."""

    lr: float = 3e-3                 # DESIGN.md pilot for the mini model
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    weight_decay: float = 0.0
    warmup: int = 30                 # warmup steps (constant stretch for constant_then_inverse_sqrt)
    clip_norm: float | None = 1.0    # global gradient-norm clipping; None turns it off
    label_smoothing: float = 0.1     # both papers

    def __post_init__(self):
        object.__setattr__(self, "betas", tuple(float(b) if isinstance(b, int) and not isinstance(b, bool) else b
                                                for b in self.betas))
        check_types(self, "optim.")
        if not self.lr > 0:
            raise ValueError(f"optim.lr must be > 0, got {self.lr!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"optim.betas must be two numbers in [0, 1), got {self.betas!r}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ValueError(f"optim.clip_norm must be > 0 or null (off), got {self.clip_norm!r}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"optim.label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if self.warmup < 0:
            raise ValueError(f"optim.warmup must be >= 0, got {self.warmup!r}")
        for name in ("eps", "weight_decay"):  # what torch's Adam refuses, refused before any data is prepared
            if getattr(self, name) < 0:
                raise ValueError(f"optim.{name} must be >= 0, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class EvalConfig:
    """What to measure and how often."""

    every: int = 50                  # steps between evaluations (and checkpoints)
    train_subset: int = 128          # fixed training examples per task for the training loss
    max_valid: int | None = None     # cap on validation examples per task (None: all)
    bleu: bool = False               # BLEU/chrF with beam search on the test split at the end
    beam: int = 4                    # paper A appendix A.5
    bleu_max_examples: int = 100     # test segments per task for BLEU (beam search is slow on CPU)
    max_new_tokens: int = 64

    def __post_init__(self):
        check_types(self, "eval.")
        if self.every < 1 or self.train_subset < 0 or self.beam < 1:
            raise ValueError(f"eval.every and eval.beam must be >= 1 and eval.train_subset >= 0, got every={self.every}, "
                             f"beam={self.beam}, train_subset={self.train_subset}")
        # no examples to evaluate on: losses and BLEU of nothing (null keeps every validation example)
        for name in ("max_valid", "bleu_max_examples", "max_new_tokens"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"eval.{name} must be >= 1{' or null (all)' if name == 'max_valid' else ''}, "
                                 f"got {getattr(self, name)!r}")


# what a run directory holds; bumped when that changes, so runs stored in the old format are
# trained again instead of reused (2: per-sentence validation losses for the claims' statistics)
RUN_FORMAT = 2


@dataclass(frozen=True)
class TrainConfig:
    """One training run. `plan` is a method spec of `paperlib.methods` (in files:
    {"method": name, **its fields})."""

    experiment: str = "default"
    data: DataConfig = field(default_factory=DataConfig)
    plan: methods.Method | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    batch_size: int = 32             # examples per step (the theory's unit is the example)
    pool_batches: int = 16           # length-bucketing pool, in batches
    seed: int = 0
    fork_at: int | None = None       # start from the run that shares this plan's first fork_at steps
    prefix_forks: tuple[int, ...] = ()
    """Earlier steps (before fork_at) at which that shared prefix itself forks: a chain of
    prefixes, so a run that shares only the first k steps (COOLDOWN at its switch) and one that
    shares the first fork_at (the restart baseline) both continue this run's own steps.
    Every run of such a family names the same points: they cut its sampler's pools."""
    stop_at: int | None = None       # train only the plan's first stop_at steps (a shared prefix run)
    stack_seeds: tuple[int, ...] = ()
    """The seeds this run trains beside, as one stack (`paperlib.stacked`: one vmapped step for
    all of them, which on a launch-bound GPU costs about what one run's step does). Empty: the
    run trains alone. With dropout, a stack draws the masks of all its runs from one generator,
    so a stacked run is a realization of its own: the stack is part of its identity, and its
    runs are trained together (`paperlib.train.train_stack`): a seed that diverges stops its
    whole stack, whose other seeds cannot then be trained alone as the same runs."""
    device: str = "auto"             # auto | cpu | cuda
    precision: str = "fp32"          # fp32 | bf16 (bf16 only pays off on GPUs)
    batching: str = "examples"       # examples | tokens (equal padded tokens per step; see sampler)

    def __post_init__(self):
        if isinstance(self.plan, dict):
            object.__setattr__(self, "plan", methods.from_dict(self.plan))
        if self.plan is None:
            raise ValueError("a config needs a plan, e.g. plan: {method: temperature, steps: 600, tau: 1}; "
                             f"methods: {', '.join(methods.METHODS)}")
        if not isinstance(self.plan, tuple(methods.METHODS.values())):
            raise ValueError(f"plan must be a method spec of paperlib.methods, got {type(self.plan).__name__}")
        check_types(self)
        if self.batch_size < 1 or self.pool_batches < 1:
            raise ValueError(f"batch_size and pool_batches must be >= 1, got {self.batch_size}, {self.pool_batches}")
        end = self.stop_at or self.plan.total_steps
        if self.stop_at is not None and not 0 < self.stop_at <= self.plan.total_steps:
            raise ValueError(f"stop_at must be a step in (0, {self.plan.total_steps}], got {self.stop_at!r}")
        if self.fork_at is not None and not 0 < self.fork_at < end:
            raise ValueError(f"fork_at must be a step >= 1 before the end of the plan ({end} steps) or null, "
                             f"got {self.fork_at!r}")
        if self.prefix_forks:
            if self.fork_at is None:
                raise ValueError(f"prefix_forks {list(self.prefix_forks)} needs fork_at: they are fork points of the "
                                 "shared prefix this run continues")
            if list(self.prefix_forks) != sorted(set(self.prefix_forks)) or not 0 < self.prefix_forks[0] \
                    or not self.prefix_forks[-1] < self.fork_at:
                raise ValueError(f"prefix_forks must be increasing steps >= 1 before fork_at ({self.fork_at}), "
                                 f"got {list(self.prefix_forks)}")
        if self.stack_seeds:
            if list(self.stack_seeds) != sorted(set(self.stack_seeds)) or len(self.stack_seeds) < 2 \
                    or self.seed not in self.stack_seeds:
                raise ValueError(f"stack_seeds must be two or more increasing seeds, this run's seed ({self.seed}) "
                                 f"among them, or empty (the run trains alone); got {list(self.stack_seeds)}")
            if self.batching != "examples":
                raise ValueError("stack_seeds needs batching 'examples': the runs of a stack step on batches of "
                                 "one size")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.batching not in ("examples", "tokens"):
            raise ValueError(f"batching must be examples or tokens, got {self.batching!r}")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, got {self.precision!r}")
        check_name(self.experiment, "experiment")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["plan"] = methods.to_dict(self.plan)
        return d

    def identity(self, plan: mixing.Plan | None = None, data_fingerprint: dict | None = None) -> dict:
        """What determines the run's results: everything but the experiment folder and the
        plan spec's spelling, with the resolved plan's identity in its place (which holds
        stop_at as its end) and the prepared data's fingerprint (tokenizer and dataset
        hashes), so re-prepared data never reuses runs trained on the old data."""
        d = self.to_dict()
        d.pop("experiment")
        # fields added after runs were stored: at their default they leave the identity
        # (and so the hashes of the runs already in the store) unchanged
        for key, default in (("batching", "examples"), ("stop_at", None), ("prefix_forks", ()),
                             ("stack_seeds", ())):
            if d.get(key) == default:
                d.pop(key)
        if plan is not None:
            d["plan"] = plan.identity()
            d.pop("stop_at", None)
        if data_fingerprint is not None:
            d["data_fingerprint"] = data_fingerprint
        d["run_format"] = RUN_FORMAT
        return json.loads(json.dumps(d, default=str))  # as stored: tuples become lists


def config_hash(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:12]


def build_plan(cfg: TrainConfig, sizes: dict[str, int]) -> mixing.Plan:
    """The run's Plan for the given task sizes (checked against the data's tasks)."""
    plan = cfg.plan.plan(sizes, cfg.batch_size)
    return plan.truncated(cfg.stop_at) if cfg.stop_at is not None else plan


def total_steps(cfg: TrainConfig) -> int:
    """The step cfg's run ends at, without building its plan (no data needed)."""
    return cfg.stop_at or cfg.plan.total_steps


def stack_configs(cfg: TrainConfig) -> list[TrainConfig]:
    """The configs of the runs cfg's run trains with (itself among them): one per seed of its
    stack, or [cfg] for a run that trains alone."""
    return [dataclasses.replace(cfg, seed=seed) for seed in cfg.stack_seeds] or [cfg]


def parent_config(cfg: TrainConfig) -> TrainConfig:
    """The run sharing cfg's first fork_at steps: the same config, its plan stopped there
    (itself continuing the prefix at the last of `prefix_forks`, if any)."""
    if cfg.fork_at is None:
        raise ValueError("parent_config: the config does not continue another run (fork_at is null)")
    *earlier, last = (None, *cfg.prefix_forks)
    return dataclasses.replace(cfg, stop_at=cfg.fork_at, fork_at=last, prefix_forks=tuple(earlier[1:]))


def prefix_at(cfg: TrainConfig, step: int) -> TrainConfig:
    """The shared prefix of cfg's run that stops at `step`: one of its fork points (the chain
    of `parent_config`), whose final checkpoint is cfg's run at that step."""
    chain = cfg
    while chain.fork_at is not None:
        chain = parent_config(chain)
        if chain.stop_at == step:
            return chain
    points = [p for p in (cfg.fork_at, *cfg.prefix_forks) if p is not None]
    raise ValueError(f"the run forks at {sorted(points) or 'no step'}, not at step {step}: no prefix ends there")


def pool_boundaries(cfg: TrainConfig, stop_at: int | None) -> tuple[int, ...]:
    """Steps the sampler's pools never span: where this run forks, ends early, and where its
    shared prefix forks."""
    return tuple(b for b in (cfg.fork_at, stop_at, *cfg.prefix_forks) if b is not None)


# ------------------------------------------------------------------------------ dict I/O

def _from_dict(cls, data: dict, where: str):
    if not isinstance(data, dict):
        raise ValueError(f"{where.rstrip('.') or 'config'} must be a mapping of keys to values, got {type(data).__name__}")
    names = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"unknown config key(s) {', '.join(where + k for k in unknown)}; valid: {', '.join(where + n for n in names)}")
    kwargs = {}
    for k, v in data.items():
        sub = {"data": DataConfig, "model": ModelConfig, "optim": OptimConfig, "eval": EvalConfig}.get(k) if cls is TrainConfig else None
        if cls is TrainConfig and k == "plan":
            kwargs[k] = methods.from_dict(v, "plan")
        else:
            kwargs[k] = _from_dict(sub, v, f"{where}{k}.") if sub else coerce(names[k].type, v, where + k)
    return cls(**kwargs)


def _parse_value(key: str, raw: str):
    import yaml

    try:
        return json.loads(raw)  # numbers (1e-3), true/false/null, lists, objects
    except json.JSONDecodeError:
        pass
    try:
        return load_yaml(raw)
    except yaml.YAMLError:
        raise ValueError(f"--set {key}={raw}: not a value; write a number, true/false, null, a word, or a list "
                         f"such as {key}=[0.5,0.5]") from None


def from_dict(data: dict) -> TrainConfig:
    return _from_dict(TrainConfig, data, "")


def with_overrides(cfg: TrainConfig, assignments: list[str]) -> TrainConfig:
    """Apply ["optim.lr=1e-3", "plan.tau=5", ...]; values are parsed as JSON, else YAML."""
    d = cfg.to_dict()
    for item in assignments:
        key, _, raw = item.partition("=")
        if not key.strip() or "=" not in item:
            raise ValueError(f"--set expects key=value, e.g. optim.lr=1e-3, got {item!r}")
        node = d
        parts = key.split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ValueError(f"unknown config key {key!r} (no section {p!r})")
            node = node[p]
        value = _parse_value(key, raw)
        if isinstance(node.get(parts[-1]), list) and not isinstance(value, list):
            raise ValueError(f"--set {key} takes a list, e.g. {key}=[{','.join(map(str, node[parts[-1]]))}], got {raw!r}")
        node[parts[-1]] = value
    return from_dict(d)


def load_config(path) -> TrainConfig:
    """A config from a YAML or JSON file, or from a run (its folder or its config.json, as
    `paperlib runs ls` and the shipped results/<preset>/runs name them): a run of a preset's
    sizes to start from, changed with --set. A missing, unreadable or malformed file is a
    one-line error naming the file."""
    import yaml

    from pathlib import Path

    path = Path(path)
    if path.is_dir() and (path / "config.json").is_file():  # a run's folder
        path = path / "config.json"
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a config file (YAML or JSON), e.g. configs/mini_hrl_lrl_fi.yaml, "
                         "or a run's folder (one holding config.json)")
    if not path.exists():
        raise ValueError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else load_yaml(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else (f" (line {exc.lineno})" if hasattr(exc, "lineno") else "")
        raise ValueError(f"{path}{line}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                         f"{str(getattr(exc, 'problem', None) or exc).splitlines()[0]}") from None
    if data is None:
        raise ValueError(f"{path} is empty; a config needs at least a plan, e.g. plan: {{method: temperature, steps: 600, tau: 1}}")
    if isinstance(data, dict) and isinstance(data.get("config"), dict) and "identity" in data:
        data = data["config"]  # a run's record (`store`): the config it was trained from
    return from_dict(data)


def diff(a: dict, b: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two config dicts."""
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}")
    return out
