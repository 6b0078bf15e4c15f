"""The README's syllabus matches the chapters, and the commands it tells people to run exist."""

import re
from pathlib import Path

from course_tools.chapters import EXERCISES, SOURCES, chapter_info, chapters
from course_tools.cli import build_parser
from course_tools.colab import read_course_repository

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_syllabus_opens_the_exercise_edition_with_a_link_to_the_solutions():
    # The chapter's name opens the edition in Colab too, not in GitHub's notebook viewer, which
    # may show the folded solutions unfolded (see the closing note of issue 27).
    repo = read_course_repository(ROOT)
    rows = re.findall(r"^\| (\d\d) \| \[[^\]]+\]\(([^)]+)\) \| .+ \| (\d+) \| (.+) \|$", README, re.M)
    paths = chapters(ROOT / SOURCES)
    assert len(rows) == len(paths), "one syllabus row per chapter"
    for (number, link, minutes, links), chapter in zip(rows, paths, strict=True):
        info = chapter_info(chapter)
        edition = f"{EXERCISES.as_posix()}/{chapter.name}"
        assert number == chapter.name[:2]
        assert link == repo.colab_url(edition)
        assert int(minutes) == info.minutes, (
            f"{chapter.name}: the README says {minutes} minutes, the chapter says {info.minutes}")
        solutions = repo.colab_url(f"{SOURCES.as_posix()}/{chapter.name}")
        assert links == f"{repo.badge(edition)}<br><sub>[with solutions]({solutions})</sub>"


def test_every_make_target_the_readme_mentions_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    mentioned = set(re.findall(r"`make ([a-z][a-z0-9-]*)", README))
    assert mentioned, "the README should name its make targets"
    assert mentioned <= targets, f"not in the Makefile: {sorted(mentioned - targets)}"


def test_every_course_utils_command_the_readme_mentions_exists():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    mentioned = set(re.findall(r"python -m course_utils ([a-z]+)", README))
    assert mentioned and mentioned <= commands, f"unknown: {sorted(mentioned - commands)}"
