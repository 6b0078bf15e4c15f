"""The book site: the executed chapters as a Sphinx site (myst-nb, sphinx-book-theme).

``make site`` runs :func:`build_site` on the chapters that ``make course`` executed, so a chapter
runs once for both. The site is written from what the repository already has:

- the landing page is the README's introduction, syllabus and "For students"; the instructors'
  page is its "For instructors" (links between them and to the repository's files are rewritten);
- each chapter is its executed notebook, with its outputs from the real data (or from fast mode,
  in the tests), each exercise's solution and model answer folded in a dropdown, the hidden tests
  removed as in the exercise edition, and each figure's description (:mod:`course_tools.alt_text`)
  as its alt text;
- each chapter's Colab button (the theme's launch button) opens its exercise edition at the
  release in ``pyproject.toml``.

Everything the site needs is installed from PyPI (the ``publish`` extra): the theme, its fonts
and MathJax (``jupyter-server-mathjax``) are copied into the site, so it builds and reads offline.
"""

from __future__ import annotations

import copy
import html
import re
import shutil
import time
from pathlib import Path

from .assets import MATHJAX_SCRIPT, copy_mathjax
from .chapters import (
    EXERCISES,
    PREDICTION_TAG,
    SETUP_INDEX,
    SOURCES,
    chapters,
    is_check_cell,
    nbgrader_metadata,
    read_notebook,
)
from .colab import BADGE_LINK, COLAB_URL, CourseRepository, read_course_repository
from .exercises import solution_code
from .student import HIDDEN_TESTS, SOLUTION, _strip_regions

SOLUTION_PROMPT = ("Show the solution (try the exercise and its check first)", "Hide the solution")
SETUP_PROMPT = ("Show the set-up code", "Hide the set-up code")
CHECK_PROMPT = ("Show the check's code", "Hide the check's code")
ANSWER_TITLE = "A model answer (write yours first)"
_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)


def _slug(heading: str) -> str:
    # GitHub's and myst's anchor for a heading: lower case, punctuation dropped, spaces to "-".
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def readme_sections(text: str) -> dict[str, str]:
    """The README cut at its ``## `` headings: {heading: text}, the text before the first one
    under ``""``.

    >>> sorted(readme_sections("# T\\nintro\\n## A\\na\\n## B\\nb\\n"))
    ['', 'A', 'B']
    """
    starts = [(m.start(), m.group(1).strip()) for m in _SECTION.finditer(text)]
    bounds = [(0, "")] + starts + [(len(text), None)]
    return {name: text[start:end] for (start, name), (end, _) in zip(bounds, bounds[1:], strict=False)}


def rewrite_links(text: str, repo: CourseRepository, anchors: set[str]) -> str:
    """README markdown as a site page: a chapter's title links to its page, a file of the
    repository to GitHub at the release, an anchor the page lacks to the README on GitHub.

    >>> repo = CourseRepository("me/course", "v1.0.0")
    >>> rewrite_links("see [the data](data/README.md) and [make](#without-make)", repo, set())
    'see [the data](https://github.com/me/course/blob/v1.0.0/data/README.md) and [make](https://github.com/me/course/blob/v1.0.0/README.md#without-make)'
    """
    blob = f"https://github.com/{repo.repository}/blob/{repo.release}"
    # The badge is an image from the web: a text link reads the same and works offline.
    text = BADGE_LINK.sub(lambda m: f"[Open in Colab]({m.group('url')})", text)
    # The syllabus: "| 01 | [Title](colab link to the exercise edition) |" -> the chapter's page.
    text = re.sub(r"^(\| \d\d \| )\[([^\]]+)\]\(" + COLAB_URL.pattern + r"\)",
                  lambda m: f"{m.group(1)}[{m.group(2)}]({Path(m.group(0)[:-1]).name})",
                  text, flags=re.MULTILINE)

    def link(match: re.Match) -> str:
        target = match.group(2)
        if target.startswith("#"):
            return match.group(0) if target[1:] in anchors else f"{match.group(1)}({blob}/README.md{target})"
        if re.match(r"[a-z]+:", target) or target.endswith(".ipynb") or target.startswith("figures/"):
            return match.group(0)
        return f"{match.group(1)}({blob}/{target})"

    return re.sub(r"(\]|\]:) ?\(([^)\s]+)\)", link, text)


def site_pages(readme: str, repo: CourseRepository) -> dict[str, str]:
    """{file name: markdown} of the site's own pages, cut from the README."""
    parts = readme_sections(readme)
    needed = ["Syllabus", "For students", "For instructors"]
    missing = [name for name in needed if name not in parts]
    if missing:
        raise ValueError(f"README.md has no '## {missing[0]}' section; the site's pages are cut "
                         f"from its sections {needed}")
    references = "\n".join(line for line in readme.splitlines()
                           if re.match(r"^\[[^\]]+\]: \S+$", line))
    landing = parts[""] + parts["Syllabus"] + parts["For students"]
    instructors = "# For instructors\n" + parts["For instructors"].split("\n", 1)[1]
    pages = {}
    for name, text in [("index.md", landing), ("instructors.md", instructors)]:
        anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
        # The README's reference definitions ("[nbgrader]: https://...") go where they are missing.
        extra = "\n".join(r for r in references.splitlines() if r not in text)
        pages[name] = rewrite_links(text, repo, anchors) + "\n" + extra + "\n"
    return pages


def _hide(cell, prompt: tuple[str, str]) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if "hide-input" not in tags:
        tags.append("hide-input")
    cell.metadata["mystnb"] = {"code_prompt_show": prompt[0], "code_prompt_hide": prompt[1]}


def _without_hidden_tests(source: str, where: str) -> str:
    kept, _ = _strip_regions(source.splitlines(), HIDDEN_TESTS, (), SOLUTION, where)
    return "\n".join(kept)


def _alt_text(cell) -> str | None:
    # The kernel of `make course` wrote each figure's description as its text/plain.
    texts = [out.get("data", {}).get("text/plain", "") for out in cell.get("outputs", [])
             if "image/png" in out.get("data", {})]
    texts = [t for t in texts if t and not t.startswith("<Figure")]
    return " ".join(texts) if texts else None


def _widget_note(cell) -> None:
    # A widget needs a kernel; the page says where it runs instead of loading scripts from a CDN.
    for out in cell.get("outputs", []):
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
            out["data"] = {"text/markdown": "*An interactive widget: run this cell in Colab or "
                                            "JupyterLab to use it.*"}


def site_chapter(nb, repo: CourseRepository, name: str):
    """An executed chapter as a site page (a copy; ``nb`` is unchanged): solutions folded,
    hidden tests removed, the set-up cell folded, "Your prediction" cells removed (nothing to
    write on a web page), the badge replaced by a link to the exercise edition in Colab, a
    widget's output replaced by a note (it needs a kernel), and each figure's alt text set."""
    nb = copy.deepcopy(nb)
    cells = []
    for index, cell in enumerate(nb.cells):
        grading = nbgrader_metadata(cell)
        if PREDICTION_TAG in cell.metadata.get("tags", []):
            continue
        if index == 0:
            link = repo.colab_url((EXERCISES / name).as_posix())
            cell.source = BADGE_LINK.sub(f"**Try it:** [open this chapter's exercise edition in "
                                     f"Colab]({link}) (the exercises without their solutions).",
                                     cell.source)
        elif cell.cell_type == "code" and index == SETUP_INDEX:
            _hide(cell, SETUP_PROMPT)
        if cell.cell_type == "code" and grading.get("solution"):
            cell.source = solution_code(cell.source)
            _hide(cell, SOLUTION_PROMPT)
        elif cell.cell_type == "markdown" and grading.get("solution"):
            cell.source = f":::{{dropdown}} {ANSWER_TITLE}\n{cell.source}\n:::"
        elif cell.cell_type == "code" and is_check_cell(cell):
            cell.source = _without_hidden_tests(cell.source, f"{name}, cell {index + 1}")
            _hide(cell, CHECK_PROMPT)  # its ✓ or hint stays in view
        if cell.cell_type == "code":
            _widget_note(cell)
            alt = _alt_text(cell)
            if alt:
                cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt}
        cell.metadata.pop("nbgrader", None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)  # the widgets' saved state: nothing on the page uses it
    return nb


CONF = """\
# Written by course_tools/site.py for each build; edit that file, not this one.
project = "Dropout in PyTorch"
html_title = "Dropout in PyTorch: a hands-on course"
extensions = ["myst_nb", "sphinx_design"]
exclude_patterns = ["_build"]
nb_execution_mode = "off"  # the chapters were executed by `make course`
nb_merge_streams = True
nb_ipywidgets_js = {{}}  # no widget scripts from a CDN: the site works offline
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
myst_update_mathjax = False
# MathJax 2 from the jupyter-server-mathjax package, copied into _static/: no CDN.
mathjax_path = "mathjax/{mathjax_script}"
# The package ships MathJax's STIX-Web fonts only.
mathjax2_config = {{"showMathMenu": False, "messageStyle": "none", "HTML-CSS": {{
    "availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web", "webFont": "STIX-Web",
    "imageFont": None}}}}
html_static_path = ["_static"]
html_theme = "sphinx_book_theme"
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {{
    "repository_url": "https://github.com/{repository}",
    "repository_branch": "{release}",
    "path_to_docs": "{exercises}",  # the Colab button opens the exercise edition
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "launch_buttons": {{"colab_url": "https://colab.research.google.com"}},
}}
"""


def write_site_source(executed: str | Path, src: str | Path, root: str | Path = ".") -> list[str]:
    """Write the Sphinx source of the site into ``src`` from the executed chapters in
    ``executed`` (``make course``'s output) and the course at ``root``. Returns the chapters'
    page names. A chapter not executed, or older than its source, is an error."""
    import nbformat

    root, executed, src = Path(root), Path(executed), Path(src)
    repo = read_course_repository(root)
    sources = chapters(root / SOURCES)
    missing = [p.name for p in sources if not (executed / p.name).is_file()]
    if missing:
        raise ValueError(f"{executed} has no executed {missing[0]}: run `make course` (or "
                         f"python -m course_utils course --out {executed}) first")
    stale = [p.name for p in sources if (executed / p.name).stat().st_mtime < p.stat().st_mtime]
    if stale:
        raise ValueError(f"{executed / stale[0]} is older than its source: run `make course` again")
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    copy_mathjax(src / "_static" / "mathjax")
    if (root / "figures").is_dir():
        shutil.copytree(root / "figures", src / "figures",
                        ignore=shutil.ignore_patterns("*.md", "*.txt"))
    pages = site_pages((root / "README.md").read_text(encoding="utf-8"), repo)
    names = [p.stem for p in sources]
    pages["index.md"] += ("\n:::{toctree}\n:hidden:\n:caption: Chapters\n\n" + "\n".join(names)
                          + "\n:::\n\n:::{toctree}\n:hidden:\n:caption: Teaching\n\ninstructors\n:::\n")
    for name, text in pages.items():
        (src / name).write_text(text, encoding="utf-8")
    for path in sources:
        nb = site_chapter(read_notebook(executed / path.name), repo, path.name)
        nbformat.write(nb, src / path.name)
    (src / "conf.py").write_text(CONF.format(repository=repo.repository, release=repo.release,
                                             exercises=EXERCISES.as_posix(),
                                             mathjax_script=MATHJAX_SCRIPT), encoding="utf-8")
    return names


def build_site(executed: str | Path = "build", out: str | Path = "build/site", *,
               root: str | Path = ".", log=print) -> float:
    """Build the book site into ``out/html`` from the chapters ``make course`` executed into
    ``executed``; any Sphinx warning is an error. Returns the seconds Sphinx took."""
    import subprocess
    import sys

    out = Path(out)
    src = out / "source"
    write_site_source(executed, src, root)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
                          "-q", "-d", str(out / "doctrees"), str(src), str(out / "html")],
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(f"the site did not build cleanly:\n{run.stderr.strip() or run.stdout}")
    broken = broken_links(out / "html")
    if broken:
        raise RuntimeError(f"{len(broken)} internal link(s) lead nowhere, first: {broken[0]}")
    log(f"site: {len(list((out / 'html').glob('*.html')))} pages in {seconds:.1f} s; "
        f"open {out / 'html' / 'index.html'}")
    return seconds


_HREF = re.compile(r"""(?:href|src)=["']([^"']+)["']""")


def broken_links(html_dir: str | Path) -> list[str]:
    """Every relative link or image of the pages in ``html_dir`` whose file, or whose anchor in
    that file, does not exist: ["page.html -> target", ...]."""
    html_dir = Path(html_dir)
    ids: dict[Path, set[str]] = {}

    def anchors(page: Path) -> set[str]:
        if page not in ids:
            ids[page] = set(re.findall(r"""\bid=["']([^"']+)["']""",
                                       page.read_text(encoding="utf-8", errors="replace")))
        return ids[page]

    broken = []
    # The site's pages; _static/ holds the theme's template macros, which are not pages.
    for page in sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts):
        text = page.read_text(encoding="utf-8", errors="replace")
        for target in _HREF.findall(text):
            target = html.unescape(target)
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
                continue
            path, _, anchor = target.partition("#")
            path = path.split("?")[0]
            file = (page.parent / path).resolve() if path else page.resolve()
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                broken.append(f"{page.relative_to(html_dir)} -> {target}")
            elif anchor and file.suffix == ".html" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(html_dir)} -> {target}")
    return broken
