"""Command line: ``python -m course_utils COMMAND``. Run with ``--help`` for the commands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils",
        description="Tools for the course 'Dropout in PyTorch'.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    course = commands.add_parser(
        "course",
        help="execute every chapter and render it to HTML (what `make course` runs)",
        description="Execute every chapter notebook (NN_name.ipynb) in SRC, in order, and write "
        "the executed notebook and its HTML rendering into OUT. Full mode unless --fast.",
    )
    course.add_argument("src", nargs="?", default="notebooks", help="folder of chapter notebooks")
    course.add_argument("--out", default="build", help="output folder (default: build)")
    course.add_argument("--fast", action="store_true", help="fast mode (COURSE_FAST=1) sizes")
    course.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")

    args = parser.parse_args(argv)
    if args.command == "course":
        from .course import build_course

        try:
            build_course(args.src, args.out, fast=args.fast, timeout=args.timeout)
        except (ValueError, RuntimeError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
