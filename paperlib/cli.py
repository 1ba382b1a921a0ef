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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reproduce", help="execute the notebooks (papermill) and write figures")
    rep.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, help="size of every run (default: %(default)s)")
    rep.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (see --list)")
    rep.add_argument("--list", action="store_true", help="list the notebooks and exit")
    rep.add_argument("--no-progress", action="store_true", help="no per-cell progress bars")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


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
