"""The `paperlib` command. argparse lives here and nowhere else in the library."""

from __future__ import annotations

import argparse
import sys

from .presets import DEFAULT_PRESET, PRESETS


def _cmd_reproduce(args) -> int:
    from . import reproduce as rp

    if args.list:
        for name, path in rp.list_notebooks().items():
            print(f"{name:32s} {rp.notebook_title(path)}")
        return 0
    results = rp.reproduce(args.preset, args.only, progress=not args.no_progress)
    print()
    print(rp.summary_table(results))
    failed = [r for r in results if r.status != "ok"]
    for r in failed:
        print(f"\n{r.name} failed:\n{r.error}", file=sys.stderr)
    return 1 if failed else 0


def _parse_source(values: list[str]) -> tuple[str, str | None]:
    kind, rest = values[0], values[1:]
    if kind == "dir" and len(rest) == 1:
        return "dir", rest[0]
    if kind in ("ddtp", "hub") and not rest:
        return kind, None
    raise ValueError(f"--source takes 'ddtp', 'hub' or 'dir PATH', got {' '.join(values)!r}")


def _tasksets_for(args, source: str, path: str | None):
    from .data import TASKSETS, sources, tasksets

    if args.tasks:
        return args.tasks
    if source == "dir":
        return tasksets.from_corpus(sources.load_dir(path))
    return list(TASKSETS)


def _cmd_data_prepare(args) -> int:
    from .data import prepare

    source, path = _parse_source(args.source)
    for ts in _tasksets_for(args, source, path):
        prepared = prepare(ts, args.preset, source, path, args.vocab_size, data_dir=args.data_dir)
        print(f"{prepared.root}: {', '.join(prepared.tasks)}")
    return 0


def _cmd_data_info(args) -> int:
    from .data import load_prepared
    from .data.info import describe

    source, path = _parse_source(args.source)
    for ts in _tasksets_for(args, source, path):
        name = ts if isinstance(ts, str) else ts.name
        print(describe(load_prepared(name, args.preset, source, path, args.data_dir), args.preset))
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reproduce", help="execute the notebooks (papermill) and write figures")
    rep.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, help="size of every run (default: %(default)s)")
    rep.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (see --list)")
    rep.add_argument("--list", action="store_true", help="list the notebooks and exit")
    rep.add_argument("--no-progress", action="store_true", help="no per-cell progress bars")
    rep.set_defaults(func=_cmd_reproduce)

    data = sub.add_parser("data", help="prepare and inspect the task data").add_subparsers(dest="data_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--source", nargs="+", default=["ddtp"], metavar="SOURCE",
                        help="ddtp (Debian's translations, default) | dir PATH (your corpus) | hub (needs internet)")
    common.add_argument("--tasks", nargs="+", metavar="SET", help="task sets (default: all; see `paperlib data info`)")
    common.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, help="default: %(default)s")
    common.add_argument("--data-dir", default=None, help="default: <repo>/data or $PAPERLIB_DATA")
    prep = data.add_parser("prepare", parents=[common], help="fetch, split, train the tokenizer, tokenize",
                           description=sources_doc())
    prep.add_argument("--vocab-size", type=int, default=None, help="tokenizer vocabulary (default by preset)")
    prep.set_defaults(func=_cmd_data_prepare)
    info = data.add_parser("info", parents=[common], help="tasks, sizes, tokens, imbalance, epochs per run")
    info.set_defaults(func=_cmd_data_info)
    return parser


def sources_doc() -> str:
    from .data import sources

    return sources.__doc__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        # bad input: one line that says what to fix, no traceback
        print(f"paperlib: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
