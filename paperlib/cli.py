"""paperlib: reproduce the figures and claims of "Order Matters" (Choi et al., 2023) and
"Upsample or Upweight?" (Li et al.) -- train the runs, execute the notebooks, write the report."""

from __future__ import annotations

import argparse
import sys

from .presets import DEFAULT_PRESET, PRESETS
from .presets import choose as choose_preset


def _cmd_reproduce(args) -> int:
    from . import reproduce as rp

    if args.list:
        for name, path in rp.list_notebooks().items():
            print(f"{name:32s} {rp.notebook_title(path)}")
        return 0
    if args.dry_run and args.figures_only:
        raise ValueError("--dry-run costs the runs a reproduction would train, and --figures-only trains none: leave one out")
    # whole names from here on (--only takes prefixes and comma lists); an unknown one is a one-line error
    args.only = list(rp.select(args.only, rp.list_notebooks())) if args.only else None
    executor = _executor(args)
    args.preset, why = choose_preset(args.preset, _gpu_name())
    print(why)
    corpus = _corpus(args)
    source = _source_kind(args)
    if args.dry_run:
        from . import costs

        if corpus is not None:  # a bad folder or roles file fails here as it would without --dry-run
            print(corpus.describe_roles(corpus.roles())
                  + "\ncosts below are for the preset's DDTP task sets; `paperlib data info --source dir "
                  f"{corpus.folder}` shows your tasks' sizes and epochs")
        from .experiments import HUB_PARAMETERS

        parameters = HUB_PARAMETERS if source == "hub" and corpus is None else None
        print(costs.describe(args.preset, args.only, executor, parameters))
        return 0
    results = rp.reproduce(args.preset, args.only, progress=not args.no_progress, executor=executor,
                           figures_only=args.figures_only, log_with=args.log_with, corpus=corpus,
                           source=None if corpus is not None else source)
    print()
    print(rp.summary_table(results))
    failed = [r for r in results if r.status not in ("ok", rp.NOT_SHIPPED)]
    for r in failed:
        print(f"\n{r.name} failed:\n{r.error}", file=sys.stderr)
    return 1 if failed else 0


def _source_kind(args) -> str:
    """ddtp, hub or dir as --source names it, else the preset's default (`reproduce.default_source`)."""
    from .reproduce import default_source

    given = getattr(args, "source", None)
    return _parse_source(given)[0] if given else default_source(args.preset)


def _corpus(args):
    """The researcher's corpus `reproduce --source dir PATH` names (None: DDTP or the hub)."""
    from .reproduce import Corpus

    source, path = _parse_source(getattr(args, "source", None) or ["ddtp"])
    for flag in ("hrl", "lrl"):
        value = getattr(args, flag, None)
        if value is not None and not value.strip():
            raise ValueError(f"--{flag} is empty; name a translation pair of your corpus, e.g. --{flag} en-de")
    if source != "dir" and (getattr(args, "hrl", None) or getattr(args, "lrl", None)):
        raise ValueError("--hrl and --lrl name pairs of your corpus: use them with --source dir PATH")
    return Corpus(path, args.hrl, args.lrl) if source == "dir" else None


def _cmd_advise(args) -> int:
    """Fit the mixture law on the runs of a grid (the Order Matters fronts' rates, Upsample
    or Upweight?'s τ grid, COOLDOWN's switch, Order Matters' pre-training lengths) and
    recommend a plan."""
    from . import advise, claims, experiments as E, paths, runs, store
    from .data.tasksets import get_taskset, short_name
    from .presets import check_preset
    from .experiments import HUB_PARAMETERS

    check_preset(args.preset)
    _check_folder("--runs-dir", args.runs_dir, must_exist=True)
    corpus = _corpus(args)
    if corpus is not None and args.taskset:
        raise ValueError("--taskset or --source dir PATH, not both (the corpus's pair is its --hrl and --lrl)")
    # the notebook whose runs each axis reads, and its parameter naming the pair
    notebook, key = {"rate": ("A2_fig02_hrl_lrl_fronts", "tasksets"), "tau": ("B2_fig04_sampling_vs_weighting", "tasksets"),
                     "switch": ("B3_fig01_cooldown_lrl", "taskset"),
                     "pretrain": ("A7_fig09_pretraining_length", "nmt_taskset")}[args.over]
    if corpus is None and not args.taskset and _source_kind(args) == "hub":
        given = HUB_PARAMETERS[notebook][key]  # the pair the hub's reproduction trains these runs on
        args.taskset = given[0] if isinstance(given, list) else given
    taskset = corpus.roles()["pair"] if corpus is not None else E.pair(args.preset, args.taskset)
    if taskset is None:
        raise ValueError(f"{corpus.folder} has fewer than two translation pairs: nothing to mix")
    hub = get_taskset(taskset).source == "hub"  # the pair's own source, whatever the preset's default
    hrl, lrl = E.hrl_lrl(taskset)
    if args.over == "tau":  # the τ grid's runs with gradient clipping (Fig. 4's main comparison)
        grid = [(c, labels) for c, labels in E.sampling_vs_weighting_runs(args.preset, [taskset])
                if labels["clipping"] == "1.0"]
        what = "τ grid"
    elif args.over == "switch":  # τ = 1, COOLDOWN and τ = 5: three points on the switch axis
        grid, what = E.cooldown_runs(args.preset, taskset), "COOLDOWN runs"
    elif args.over == "pretrain":
        grid, what = E.pretraining_length_runs(args.preset, nmt_taskset=taskset)[1], "pre-training lengths"
    else:
        grid = E.order_matters_nmt_grid(args.preset, [taskset], with_restart=False)
        what = "fronts"
    roots = [args.runs_dir] if args.runs_dir else [paths.runs_dir(), paths.shipped_runs_dir(args.preset)]
    found = []
    if hub and not _prepared(grid[0][0].data):
        roots = []  # its data were never prepared here (no run can exist), and advise downloads nothing
    for root in roots:  # the runs trained here or the ones shipped with the repository: the fuller
        try:
            found.append((runs.train_labelled(grid, runs.Settings(runs_root=root, progress=False, train_missing=False)),
                          root))
        except runs.MissingRun:
            continue
    df, root = max(found, key=lambda f: len(f[0])) if found else (None, None)
    if df is None:
        where = f"in {' or '.join(map(str, roots))}" if roots else "here (their data were never prepared)"
        raise ValueError(f"no runs of the {taskset} {what} at the {args.preset} preset {where}; "
                         f"train them: paperlib reproduce --preset {args.preset} --only {notebook}"
                         + (" --source hub" if hub else f" --source dir {corpus.folder}" if corpus is not None else ""))
    print(f"{short_name(taskset)} ({hrl} high-, {lrl} low-resource), preset {args.preset}: {len(df)} runs from {root}")
    sizes = store.resolve(df.run_obj.iloc[0].config)[0].sizes("train") if args.over == "tau" else None
    if args.over == "tau":
        advice, key = advise.recommend(advise.points_from_taus(df, hrl, lrl, sizes), args.tolerance), "tau"
    elif args.over == "switch":  # ranked against the paper's switch at half the run
        advice = advise.recommend(advise.points_from_switch(df, hrl, lrl), args.tolerance, reference=(advise.COOLDOWN, 0.5))
        key = None  # three runs of one method: the gate on all of them
    elif args.over == "pretrain":
        advice, key = advise.recommend(advise.points_from_pretrain(df, hrl, lrl), args.tolerance), "pretrain"
    else:
        df, key = E.front_points(df), "rate"  # each point at its best learning rate, as the law sees it
        advice = advise.recommend(advise.points_from(df, hrl, lrl), args.tolerance)
    # the claims' learned gate on the runs the law is fitted to (where the HRL is learned best, as
    # for the claims): advice from untrained models is unreliable, however well the law fits them
    learned = claims.order_matters.learned_gate(df, hrl, key=key)
    print(advise.describe(advise.in_regime(advice, learned), hrl, lrl, args.tolerance, sizes))
    if args.over == "pretrain":
        print(f"(each run then fine-tunes {E.scale(args.preset).finetune:,} steps: longer pre-training costs more "
              "steps in all, as in Order Matters Fig. 9 right)")
    return 0


def _prepared(data) -> bool:
    """Whether a run's data (its `DataConfig`) are prepared here."""
    from .data import load_prepared
    from .data.errors import DataError

    try:
        load_prepared(data.taskset, data.preset, data.source, data.source_path)
    except DataError:
        return False
    return True


def _gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else None


def _parse_source(values: list[str]) -> tuple[str, str | None]:
    kind, rest = values[0], values[1:]
    if kind == "dir" and len(rest) == 1:
        return "dir", rest[0]
    if kind in ("ddtp", "hub") and not rest:
        return kind, None
    raise ValueError(f"--source takes 'ddtp', 'hub' or 'dir PATH', got {' '.join(values)!r}")


def _tasksets_for(args, source: str, path: str | None):
    from .data import TASKSETS, sources, tasksets
    from .data.pipeline import named_taskset

    if args.tasks:
        for name in args.tasks:  # an unknown name is one line here, before anything is fetched or written
            named_taskset(name, source, path)
        return args.tasks
    if source == "dir":
        return tasksets.from_corpus(sources.load_dir(path))
    return [name for name, ts in TASKSETS.items() if ts.source == source]


def _cmd_data_prepare(args) -> int:
    from .data import prepare

    source, path = _parse_source(args.source)
    if args.mirror is not None and source != "ddtp":
        raise ValueError(f"--mirror is where the DDTP files are fetched from; --source {source} does not use it")
    if args.mirror is not None and not args.mirror.startswith(("http://", "https://", "file://")):
        raise ValueError(f"--mirror takes a Debian archive URL (http://, https:// or file://), got {args.mirror!r}")
    _check_folder("--data-dir", args.data_dir)
    for ts in _tasksets_for(args, source, path):
        prepared = prepare(ts, args.preset, source, path, args.vocab_size, data_dir=args.data_dir, mirror=args.mirror)
        print(f"{prepared.root}: {', '.join(prepared.tasks)}")
    return 0


def _check_folder(flag: str, value, must_exist: bool = False) -> None:
    """A folder option: a file there, or (must_exist) nothing there, is a one-line error."""
    from pathlib import Path

    if value is None:
        return
    if Path(value).exists() and not Path(value).is_dir():
        raise ValueError(f"{flag} {value} is a file; give a folder")
    if must_exist and not Path(value).exists():
        raise ValueError(f"{flag} {value} does not exist")


def _cmd_data_info(args) -> int:
    from .data import load_prepared
    from .data.errors import DataError
    from .data.info import describe

    source, path = _parse_source(args.source)
    _check_folder("--data-dir", args.data_dir)
    corpus = roles = None
    if source == "dir" and not args.tasks:  # a corpus: the task sets its roles fill, which reproduce prepares
        from .data import sources, tasksets

        from . import paths, presets, reproduce as rp

        corpus = sources.load_dir(path)
        roles = tasksets.corpus_roles(corpus, path)
        # what `reproduce` at this preset would prepare on it: its notebooks' task sets on the roles
        runs_here = [n for n in rp.NOTEBOOKS if presets.get(args.preset).runs_notebook(n)]
        params = rp.corpus_parameters(runs_here, roles)[0]
        names = [tasksets.short_name(q) for q in rp.needed_tasksets(args.preset, list(params), params)]
        whole = [ts.name for ts in tasksets.from_corpus(corpus)]  # `data prepare`'s sets, for `train`: shown if there
    else:
        names, whole = [ts if isinstance(ts, str) else ts.name for ts in _tasksets_for(args, source, path)], []
    missing = []
    for name in names + whole:
        try:
            data = load_prepared(name, args.preset, source, path, args.data_dir)
        except DataError as e:  # not prepared (or damaged): said at the end, the rest still shown
            why = str(e).splitlines()[0]
            if corpus is not None and "is not prepared" in why:
                if name in whole:
                    continue
                why = (f"not prepared yet (`paperlib reproduce --preset {args.preset} --source dir {path}` prepares it"
                       + (f"; it reads {paths.data_dir()}, not --data-dir" if args.data_dir else "") + ")")
            missing.append((name, why))
            continue
        print(describe(data, args.preset))
        print()
    for name, why in missing:
        print(f"{name}: not ready for preset {args.preset}: {why}")
    if corpus is not None:  # the corpus itself, prepared or not: the regime in advance
        from .data.info import describe_corpus

        print(("\n" if missing else "") + describe_corpus(corpus, path, roles, args.preset))
    return 0


def _config_source(name: str, runs_dir):
    """A config file or run folder as given, else a run as `paperlib runs ls` names it
    (experiment/run) in the runs folder."""
    from pathlib import Path

    from . import store

    path, root = Path(name), store.root_of(runs_dir)
    if path.exists():
        return path
    if (root / name.strip("/") / "config.json").is_file():
        return root / name.strip("/")
    if "/" in name.strip("/") and not name.endswith((".yaml", ".yml", ".json")):
        raise ValueError(f"{name} is neither a config file nor a run of {root} "
                         "(`paperlib runs ls` names its runs experiment/run; --runs-dir for another folder)")
    return path  # load_config says the file is missing


def _cmd_train(args) -> int:
    from . import config, executors, runs, store

    cfgs = [config.with_overrides(config.load_config(_config_source(name, args.runs_dir)), args.set or [])
            for name in args.config]
    executor = _executor(args)
    if args.dry_run:  # prepares, trains and writes nothing
        from .data import load_prepared
        from .data.errors import DataError
        from .data.tasksets import taskset_of

        listed = set()
        for path, cfg in zip(args.config, cfgs):
            d = cfg.data
            taskset_of(d)  # a misspelled one: an error, not "prepare it"
            try:
                request = load_prepared(d.taskset, d.preset, d.source, d.source_path).manifest["request"]
                other = [f"{k} {request[k]} (the config's: {getattr(d, k)})" for k in ("vocab_size", "block_size")
                         if getattr(d, k) is not None and getattr(d, k) != request[k]]
                if other:
                    raise DataError(f"its data are prepared with another {', '.join(other)}; "
                                    f"`paperlib data prepare` with the config's settings first")
            except DataError as exc:  # a run's directory names its data: unknown until they are prepared
                print(f"{path}: {cfg.plan.method}; its run directory is known once its data are prepared: {exc}")
                continue
            stack = config.stack_configs(cfg)  # a run of a stack trains with its stack: every run of it is listed, once
            for c in stack:
                directory = store.run_dir_for(c, args.runs_dir)
                if directory not in listed:
                    listed.add(directory)
                    beside = f" (seed {c.seed} of a stack of {len(stack)})" if len(stack) > 1 else ""
                    print(f"{directory}  {c.plan.method}{beside}")
        if executor and executor.kind == "slurm":
            print("\n" + executors.sbatch_script(executor, executors.job_folder(executor, args.runs_dir), "paperlib-runs"))
        return 0
    # a run of a stack (stack_seeds) trains with its stack: every run of it is reported
    every = list(dict.fromkeys(c for cfg in cfgs for c in config.stack_configs(cfg)))
    for run in runs.get_or_train_many(every, runs.Settings(runs_root=args.runs_dir, executor=executor,
                                                           log_with=args.log_with)):
        print(f"{run.dir}: done")
        for task, loss in (run.summary.get("valid_loss") or {}).items():
            print(f"  {task:12s} valid loss {loss:.3f}")
    return 0


def _executor(args):
    """The --executor options as an Executor (None: this process, one run at a time)."""
    from .executors import Executor, default_workers

    if args.executor == "local":
        workers = default_workers() if args.workers == "auto" else int(args.workers)
        return Executor(workers=workers) if workers > 1 else None
    return Executor(kind=args.executor, folder=args.jobs_dir, partition=args.partition, account=args.account,
                    gpus_per_node=args.gpus_per_node, nodes=args.nodes, cpus_per_task=args.cpus_per_task,
                    mem_gb=args.mem_gb, timeout_min=args.time, setup=tuple(args.setup or ()))


def _workers(value: str):
    if value == "auto" or (value.isdigit() and int(value) >= 1):
        return value
    raise argparse.ArgumentTypeError(f"--workers takes a positive number or 'auto', not {value!r}")


def _executor_options() -> argparse.ArgumentParser:
    ex = _Parser(add_help=False)
    g = ex.add_argument_group("where to run (submitit)")
    g.add_argument("--executor", default="local", choices=("local", "local-jobs", "slurm"),
                   help="local: this machine (default; see --workers); local-jobs: one process per job; slurm: one Slurm job per run/notebook")
    g.add_argument("--workers", default="auto", type=_workers,
                   help="local: runs trained side by side, splitting the CPU cores (default auto: "
                        "one per core up to 8 on a CPU machine, 1 with a GPU)")
    g.add_argument("--partition", help="Slurm partition")
    g.add_argument("--account", help="Slurm account")
    g.add_argument("--gpus-per-node", type=_positive_int, default=1, help="GPUs per job; >1 trains data-parallel (default: 1)")
    g.add_argument("--nodes", type=_positive_int, default=1, help="nodes per job (default: 1)")
    g.add_argument("--cpus-per-task", type=_positive_int, default=8)
    g.add_argument("--mem-gb", type=_positive_int, default=None)
    g.add_argument("--time", type=_positive_int, default=24 * 60, help="job time limit in minutes; a job that reaches it is requeued and resumes")
    g.add_argument("--setup", nargs="+", metavar="LINE", help='shell lines run first in each job, e.g. "source .venv/bin/activate"')
    g.add_argument("--jobs-dir", default=None, help="submitit logs (default: <runs>/_jobs)")
    ex.add_argument("--log-with", default=None, metavar="TRACKER",
                    help="also report every run's metrics to this accelerate tracker (tensorboard, wandb, mlflow, ...; "
                         "its package installed); off by default")
    g.add_argument("--dry-run", action="store_true", help="print what would run (and the sbatch script for slurm); run nothing")
    return ex


def _cmd_runs_ls(args) -> int:
    from . import store

    _check_folder("--runs-dir", args.runs_dir, must_exist=True)
    root = store.root_of(args.runs_dir)
    dirs = sorted(p.parent for p in root.glob(f"{args.experiment or '*'}/*/config.json"))
    if not dirs:
        print("no runs" + (f" in experiment {args.experiment!r}" if args.experiment else "") + f" in {root}")
        return 0
    found = {r.dir: r for r in store.find_runs(args.experiment, args.runs_dir)}
    rows = [("experiment/run", "method", "mixture", "seed", "status", "steps", "final valid loss per task")]
    for d in dirs:
        problem, r = store.damage(d), found.get(d)
        status = (f"damaged: {problem}" if problem else "done" if r.done else
                  "running" if store.is_locked(d) else "unfinished")
        if ((args.method and (r is None or r.config.plan.method != args.method))
                or (args.seed is not None and (r is None or r.config.seed != args.seed))
                or (args.status and status.split(":")[0] != args.status)):
            continue
        evals = [m for m in store.read_metrics(d) if "valid_loss" in m] if not problem else []
        losses = " ".join(f"{t}={v:.3f}" for t, v in (evals[-1]["valid_loss"] if evals else {}).items())
        rows.append((f"{d.parent.name}/{d.name}", r.config.plan.method if r else "?", store.mixture_label(r.config) if r else "?",
                     str(r.config.seed) if r else "?", status, str(evals[-1]["step"] if evals else 0), losses))
    if len(rows) == 1:
        print("no runs match " + " ".join(f"--{k} {v}" for k, v in (("method", args.method), ("seed", args.seed),
                                                                    ("status", args.status)) if v is not None))
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:6], widths)) + "  " + row[6])
    return 0


def _cmd_runs_ship(args) -> int:
    from . import paths, store

    _check_folder("--runs-dir", args.runs_dir, must_exist=True)
    dest = paths.shipped_runs_dir(args.preset)
    copied = store.ship(args.preset, dest, args.runs_dir)
    from . import experiments as E

    # and the data lengths of every run the preset plans (where prepared here): a fresh clone's
    # dry run then counts the FLOPs of runs not shipped yet at their real lengths too
    store.ship_data_lengths(args.preset, dest, [c for planned in E.notebook_runs(args.preset).values() for c, _ in planned])
    print(f"{len(copied)} finished {args.preset} runs copied to {dest} (without checkpoints)"
          + ("" if copied else f"; none found in {store.root_of(args.runs_dir)}"))
    return 0


def _cmd_runs_rm(args) -> int:
    """Delete runs (as `runs ls` names them: experiment/run), so that the next reproduce
    trains them again; a run a process is training now is refused."""
    import shutil

    from . import store

    _check_folder("--runs-dir", args.runs_dir, must_exist=True)
    root = store.root_of(args.runs_dir)
    args.run = list(dict.fromkeys(name.strip("/") for name in args.run))  # the same run named twice: removed once
    dirs = [root / name for name in args.run]
    for d, name in zip(dirs, args.run):
        if not (d / "config.json").exists() or d.parent.parent != root:
            raise ValueError(f"no run {name!r} in {root}; `paperlib runs ls` lists them as experiment/run")
        if store.is_locked(d):
            raise ValueError(f"run {name!r} is being trained by another process; stop it first")
    for d, name in zip(dirs, args.run):
        shutil.rmtree(d)
        print(f"removed {name}")
    return 0


def _claims_matching(text: str | None) -> list:
    """The claims whose id, paper or reference contains `text` (any case), in paper and id order
    ("fig2" before "fig16")."""
    import re

    from . import claims

    def natural(claim):
        return claim.paper, [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", claim.id)]

    wanted = (text or "").lower()
    return sorted((c for c in claims.CLAIMS.values()
                   if wanted in c.id.lower() or wanted in c.paper.lower() or wanted in c.reference.lower()), key=natural)


def _cmd_claims_list(args) -> int:
    found = _claims_matching(args.match)
    if not found:
        raise ValueError(f"no claim's id, paper or reference contains {args.match!r}; `paperlib claims list` lists them all")
    for c in found:
        print(f"{c.id}\n    {c.paper}, {c.reference}: {c.statement}\n    gates: {', '.join(c.gates) or 'none'}; "
              f"practical minimum {c.minimum:g}; statistic: {c.statistic}" + (f"\n    paper: {c.paper_number}" if c.paper_number else ""))
    return 0


def _cmd_claims_show(args) -> int:
    """One claim (an id, or text naming one), and its verdict in every report that judged it."""
    from . import claims, paths

    matching = _claims_matching(args.claim)
    found = [c for c in matching if c.id == args.claim] or matching  # an exact id wins over text it contains
    if len(found) != 1:
        raise ValueError(f"{args.claim!r} names {len(found)} claims" + (f": {', '.join(c.id for c in found[:8])}"
                         + (" ..." if len(found) > 8 else "") if found else "; `paperlib claims list` lists them"))
    c = found[0]
    print(f"{c.id}\n{c.paper}, {c.reference}: {c.statement}" + (f"\npaper: {c.paper_number}" if c.paper_number else "")
          + f"\ngates: {', '.join(c.gates) or 'none'}; practical minimum {c.minimum:g}\nstatistic: {c.statistic}")
    judged = 0
    for folder in sorted((paths.root() / "figures").glob("*/records")):
        for notebook, record in claims.load(folder.parent.name, folder).items():
            for v in (v for v in record["verdicts"] if v["id"] == c.id):
                judged += 1
                e = v.get("effect")
                effect = f"{e['estimate']:+.3f} [{e['low']:+.3f}, {e['high']:+.3f}] {e['unit']}" if e else "no effect"
                print(f"\n{folder.parent.name} ({notebook}{', ' + v['scope'] if v.get('scope') else ''}): "
                      f"{v['status'].upper()}, {effect}")
                for g in v.get("gates", []):
                    print(f"  {'✓' if g['passed'] else '✗'} {g['name']}: {g['measured']}")
                if v.get("note"):
                    print(f"  note: {v['note']}")
    if not judged:
        print("\nno report here judged it (its notebook did not run at the presets whose reports are here)")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (the usage block is what --help is for)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(value: str) -> int:
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"takes a positive whole number, not {value!r}")


def _finite_float(value: str) -> float:
    import math

    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0:
        raise argparse.ArgumentTypeError(f"takes a finite number >= 0 (nats), not {value!r}")
    return x


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .methods import METHODS

    parser = _Parser(prog="paperlib", description=__doc__)
    parser.add_argument("--version", action="version", version=f"paperlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    exec_opts = _executor_options()
    corpus_opts = _Parser(add_help=False)  # a researcher's corpus: reproduce and advise
    corpus_opts.add_argument("--source", nargs="+", default=None, metavar="SOURCE",
                             help="ddtp (default; hub at --preset paper) | dir PATH: your corpus (layout: `paperlib "
                                  "data prepare --help`), figures and report in figures/<preset>-<folder name>/ | hub: "
                                  "the papers' own WMT, OPUS-100 and mC4 data at the preset's fractions (needs "
                                  "internet), in figures/<preset>-hub/")
    corpus_opts.add_argument("--hrl", default=None, metavar="PAIR",
                             help="with --source dir: the high-resource pair (default: hrl in the folder's roles.yaml, else the largest)")
    corpus_opts.add_argument("--lrl", default=None, metavar="PAIR",
                             help="with --source dir: the low-resource pair (default: lrl in the folder's roles.yaml, else the smallest)")
    rep = sub.add_parser("reproduce", parents=[exec_opts, corpus_opts], help="execute the notebooks (papermill) and write figures")
    rep.add_argument("--preset", default=None, choices=PRESETS,
                     help=f"size of every run (default: gpu where CUDA is available, else {DEFAULT_PRESET})")
    rep.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                     help="run only these notebooks (see --list; a unique prefix such as A2 is enough; repeatable)")
    rep.add_argument("--list", action="store_true", help="list the notebooks and exit")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars (training and notebook cells)")
    rep.add_argument("--figures-only", action="store_true",
                     help="redraw figures and claims from the runs shipped in results/<preset>/runs; train nothing")
    rep.set_defaults(func=_cmd_reproduce)

    rpt = sub.add_parser("report", help="redraw a preset's figures, claims and report from its shipped runs "
                                        "(results/<preset>/runs); trains nothing")
    rpt.add_argument("--preset", default=None, choices=PRESETS,
                     help=f"default: gpu where CUDA is available, else {DEFAULT_PRESET}")
    rpt.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                     help="only these notebooks (a unique prefix such as A2 is enough; repeatable)")
    rpt.add_argument("--no-progress", action="store_true", help="no progress bars (training and notebook cells)")
    rpt.set_defaults(func=_cmd_reproduce, figures_only=True, list=False, dry_run=False, executor="local", workers="1",
                     log_with=None)

    data = sub.add_parser("data", help="prepare and inspect the task data").add_subparsers(dest="data_command", required=True)
    common = _Parser(add_help=False)
    common.add_argument("--source", nargs="+", default=["ddtp"], metavar="SOURCE",
                        help="ddtp (Debian's translations, default) | dir PATH (your corpus) | hub (needs internet)")
    common.add_argument("--tasks", nargs="+", metavar="SET", help="task sets (default: all; see `paperlib data info`)")
    common.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, help="default: %(default)s")
    common.add_argument("--data-dir", default=None, help="default: <repo>/data or $PAPERLIB_DATA")
    prep = data.add_parser("prepare", parents=[common], help="fetch, split, train the tokenizer, tokenize",
                           description=sources_doc())
    prep.add_argument("--vocab-size", type=_positive_int, default=None, help="tokenizer vocabulary (default by preset)")
    prep.add_argument("--mirror", default=None, metavar="URL",
                      help="a Debian archive mirror for the DDTP files (default https://deb.debian.org/debian); "
                           "they are checked against the same pinned sha256 sums from any mirror")
    prep.set_defaults(func=_cmd_data_prepare)
    info = data.add_parser("info", parents=[common], help="tasks, sizes, tokens, imbalance, epochs per run")
    info.set_defaults(func=_cmd_data_info)

    tr = sub.add_parser("train", parents=[exec_opts], help="train runs from config files (JSON or YAML)")
    tr.add_argument("config", nargs="+", help="config file(s), keys as in paperlib.config.TrainConfig, or runs to start "
                    "from: a run folder (e.g. a shipped one under results/) or experiment/run as `paperlib runs ls` names it")
    tr.add_argument("--set", nargs="+", metavar="KEY=VALUE", help="override config keys, e.g. optim.lr=1e-3 plan.steps=1000 seed=3")
    tr.add_argument("--runs-dir", default=None, help="default: <repo>/runs")
    tr.set_defaults(func=_cmd_train)

    rn = sub.add_parser("runs", help="inspect the run store").add_subparsers(dest="runs_command", required=True)
    ls = rn.add_parser("ls", help="runs with status, steps and final per-task losses")
    ls.add_argument("experiment", nargs="?", default=None, help="only this experiment (e.g. order_matters_nmt-mini)")
    ls.add_argument("--method", default=None, choices=sorted(METHODS), help="only runs of this method")
    ls.add_argument("--seed", type=int, default=None, help="only runs with this seed")
    ls.add_argument("--status", default=None, choices=("done", "running", "unfinished", "damaged"), help="only runs in this state")
    ls.add_argument("--runs-dir", default=None)
    ls.set_defaults(func=_cmd_runs_ls)
    sh = rn.add_parser("ship", help="copy a preset's finished runs (no checkpoints) to results/<preset>/runs, to commit")
    sh.add_argument("--preset", required=True, choices=PRESETS)
    sh.add_argument("--runs-dir", default=None)
    sh.set_defaults(func=_cmd_runs_ship)
    rm = rn.add_parser("rm", help="delete runs (experiment/run, as runs ls names them) to train them again")
    rm.add_argument("run", nargs="+")
    rm.add_argument("--runs-dir", default=None)
    rm.set_defaults(func=_cmd_runs_rm)

    adv = sub.add_parser("advise", parents=[corpus_opts],
                         help="recommend a sampling plan for a pair from the runs of its fronts "
                              "(a mixture law fit, with its held-out prediction error)")
    adv.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, help="default: %(default)s")
    adv.add_argument("--taskset", default=None,
                     help="the HRL+LRL pair (default: the preset's first; en-de+en-sw@PATH for your corpus)")
    adv.add_argument("--tolerance", type=_finite_float, default=0.05,
                     help="nats the HRL validation loss may exceed the best one the runs reached (default %(default)s)")
    adv.add_argument("--over", default="rate", choices=("rate", "tau", "switch", "pretrain"),
                     help="rate: static sampling vs pre-training over the LRL rate (Order Matters' fronts, default); "
                          "tau: temperature sampling vs scalarization over τ (Upsample or Upweight?'s τ grid); "
                          "switch: when COOLDOWN drops τ from 5 to 1 (Upsample or Upweight? Fig. 1's runs); "
                          "pretrain: Order Matters' pre-training length (Fig. 9's NMT runs)")
    adv.add_argument("--runs-dir", default=None, help="default: <repo>/runs, else results/<preset>/runs")
    adv.set_defaults(func=_cmd_advise)

    cl = sub.add_parser("claims", help="the papers' claims this package checks").add_subparsers(dest="claims_command", required=True)
    cl_list = cl.add_parser("list", help="every claim: id, reference, regime gates, statistic")
    cl_list.add_argument("match", nargs="?", help="only claims whose id, paper or reference contains this (e.g. fig2, cooldown)")
    cl_list.set_defaults(func=_cmd_claims_list)
    cl_show = cl.add_parser("show", help="one claim and its verdict in every report here (figures/<preset>/records)")
    cl_show.add_argument("claim", help="its id (paperlib claims list), or text that names one claim")
    cl_show.set_defaults(func=_cmd_claims_show)
    return parser


def sources_doc() -> str:
    from .data import sources

    return sources.__doc__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # bad input: one line that says what to fix, no traceback
        print(f"paperlib: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
