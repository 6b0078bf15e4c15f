"""Command line: ``python -m course_tools COMMAND`` (or ``python -m course_utils COMMAND``). Run
with ``--help`` for the commands."""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
examples:
  python -m course_utils course notebooks/solutions --out build     # what `make course` runs
  python -m course_utils student notebooks/solutions --out student  # what `make student` runs
  python -m course_utils exercises              # regenerate notebooks/exercises/ (make exercises)
  python -m course_utils badges                 # after editing [tool.course] or the version
  python -m course_utils figures --out figures              # what `make figures` runs
  python -m course_utils site build --out build/site        # what `make site` runs
  python -m course_utils slides build --out build/slides    # what `make slides` runs
  python -m course_utils slides --mark          # give new cells their slide type

Run `python -m course_utils COMMAND --help` for the options of one command.
"""


def _argument(*flags: str, **options) -> tuple[tuple[str, ...], dict]:
    return flags, options


FAST = _argument("--fast", action="store_true", help="fast mode (COURSE_FAST=1) sizes")

# Each command: its one-line help, its description (argparse rewraps it), and its arguments.
COMMANDS = {
    "course": (
        "execute every chapter into a folder of executed notebooks (make course, make site, make slides)",
        "Execute every chapter notebook (NN_name.ipynb) in SRC, in order, and write each executed notebook into OUT, where the site and slides commands read them. Prints each chapter's time. Full mode unless --fast.",
        [
            _argument("src", nargs="?", default="notebooks/solutions", help="folder of chapter notebooks (default: notebooks/solutions)"),
            _argument("--out", default="build", help="output folder (default: build)"),
            FAST,
            _argument("--timeout", type=int, default=1800, help="seconds allowed per cell"),
            _argument("--only", nargs="+", metavar="CHAPTER", help="re-execute only these chapters (numbers such as 05, or file names); the others in OUT are kept"),
        ],
    ),
    "student": (
        "write student versions: solutions replaced by stubs, checks kept (make student)",
        "Write the student version of every chapter in SRC into OUT, following nbgrader's conventions: each '# BEGIN SOLUTION' ... '# END SOLUTION' region becomes '# YOUR CODE HERE' plus 'raise NotImplementedError()', written answers become 'YOUR ANSWER HERE', '# BEGIN HIDDEN TESTS' ... '# END HIDDEN TESTS' regions are removed, and outputs are cleared. The sources are never modified. Malformed markers stop the command before anything is written.",
        [
            _argument("src", nargs="?", default="notebooks/solutions", help="folder of chapter notebooks with solutions (default: notebooks/solutions)"),
            _argument("--out", default="student", help="output folder, not inside SRC (default: student)"),
            _argument("--force", action="store_true", help="overwrite student notebooks that already exist in OUT"),
        ],
    ),
    "exercises": (
        "regenerate the exercise edition, notebooks/exercises/, from notebooks/solutions/ (make exercises)",
        "Write the exercise edition of every chapter in ROOT/notebooks/solutions into ROOT/notebooks/exercises: the student version (stubs, checks, no hidden tests, no outputs) with each solution and model answer folded under its exercise in a <details> block, and the edition's own Colab badge. Only files that change are written. Run it after every edit of a chapter; a test fails while an edition is stale.",
        [
            _argument("root", nargs="?", default=".", help="the course's root folder, holding pyproject.toml (default: .)"),
            _argument("--check", action="store_true", help="change nothing; exit with status 1 if any edition is stale"),
        ],
    ),
    "badges": (
        "point every Colab badge and Colab install at the repository and release in pyproject.toml",
        "Read [tool.course] repository and [project] version (the release is the tag v + version) from ROOT/pyproject.toml and rewrite, to match: the 'Open in Colab' badge of every chapter in ROOT/notebooks/solutions (each links to the notebook's own path), the Colab install line of every setup cell, and the badges and clone command in ROOT/README.md; then regenerate the exercise editions. A fork re-points its whole course with this one command.",
        [
            _argument("root", nargs="?", default=".", help="the course's root folder, holding pyproject.toml (default: .)"),
            _argument("--check", action="store_true", help="change nothing; exit with status 1 if any file would change"),
        ],
    ),
    "figures": (
        "regenerate the README's figures from code (make figures)",
        "Train and plot what the README shows (the with/without dropout curves and the mask grid) and save the PNG files into OUT.",
        [
            _argument("--out", default="figures", help="output folder (default: figures)"),
            FAST,
        ],
    ),
    "site": (
        "build the book site from the executed chapters (make site)",
        "Build the course's book site (Sphinx, myst-nb, sphinx-book-theme) into OUT/html from the chapters `make course` executed into EXECUTED: the README's introduction, syllabus and guides as its pages, each chapter with its outputs, solutions folded, a Colab button to its exercise edition. Any Sphinx warning or broken internal link is an error. Offline.",
        [
            _argument("executed", nargs="?", default="build", help="folder of executed chapters (default: build)"),
            _argument("--out", default="build/site", help="output folder (default: build/site)"),
        ],
    ),
    "slides": (
        "render reveal.js decks of the executed chapters, or mark the slide types (make slides)",
        "Render each chapter `make course` executed into EXECUTED as a reveal.js deck, OUT/NAME.slides.html, 1280x720, that works offline. With --mark, write the course's slide type into every cell of notebooks/solutions that has none (a type set by hand is kept) and regenerate nothing else; with --check, exit with status 1 if a cell has none.",
        [
            _argument("executed", nargs="?", default="build", help="folder of executed chapters (default: build)"),
            _argument("--out", default="build/slides", help="output folder (default: build/slides)"),
            _argument("--mark", action="store_true", help="mark the sources' cells instead of rendering"),
            _argument("--check", action="store_true", help="with --mark: change nothing, exit 1 if a cell is unmarked"),
        ],
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils",
        description="Tools for the course 'Dropout in PyTorch': render the course, make the\n"
        "exercise edition and the student versions, point the Colab badges at a repository\n"
        "and release, and regenerate the README's figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, description, arguments) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=description)
        for flags, options in arguments:
            command.add_argument(*flags, **options)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "course":
            from .build import build_course

            build_course(args.src, args.out, fast=args.fast, timeout=args.timeout,
                         only=args.only)
        elif args.command == "student":
            from .student import write_student_versions

            write_student_versions(args.src, args.out, force=args.force)
        elif args.command == "exercises":
            from .exercises import write_exercise_editions

            changed = write_exercise_editions(args.root, check=args.check)
            if args.check and changed:
                return 1
        elif args.command == "badges":
            from .release import rewrite_badges

            changed = rewrite_badges(args.root, check=args.check)
            if args.check and changed:
                return 1
        elif args.command == "figures":
            from .figures import make_figures

            make_figures(args.out, fast=args.fast)
        elif args.command == "site":
            from .site import build_site

            build_site(args.executed, args.out)
        elif args.command == "slides" and args.mark:
            from .slides import write_slide_types

            changed = write_slide_types(".", check=args.check)
            for path in changed:
                print(f"{'unmarked cells in' if args.check else 'marked'} {path}")
            if args.check and changed:
                return 1
        elif args.command == "slides":
            from .slides import build_slides

            build_slides(args.executed, args.out)
    except (ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # an --out inside a file, a folder without write permission, ...
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    return 0

