"""Where the course lives on GitHub: the Colab badges and the Colab install of ``course_utils``.

The repository and branch are set once, in ``pyproject.toml``::

    [tool.course]
    repository = "owner/name"
    branch = "main"

Every chapter's badge opens that chapter from there, and every setup cell pip-installs the
helpers from there when it runs in Colab. ``python -m course_utils badges`` rewrites both, and
the README's badges and clone command, from the setting, so a fork re-points the whole course with one command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .chapters import chapters, read_notebook

_COLAB_URL = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"'<>]+?\.ipynb")
_INSTALL = re.compile(r"course-utils @ git\+https://github\.com/[^\s\"'@]+@[^\s\"']+")
_CLONE = re.compile(r"git clone https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(?:\.git)?"
                    r"(?P<cd>\s+&&\s+cd\s+[A-Za-z0-9_.-]+)?(?=\s|$)")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


@dataclass(frozen=True)
class CourseRepository:
    """The GitHub repository and branch the badges and the Colab install point at.

    >>> repo = CourseRepository("me/dropout", "spring")
    >>> repo.colab_url("notebooks/02_bernoulli_mask.ipynb")
    'https://colab.research.google.com/github/me/dropout/blob/spring/notebooks/02_bernoulli_mask.ipynb'
    >>> repo.install_requirement
    'course-utils @ git+https://github.com/me/dropout@spring'
    """

    repository: str
    branch: str

    def __post_init__(self):
        if not isinstance(self.repository, str) or not _REPOSITORY.fullmatch(self.repository):
            raise ValueError(f"[tool.course] repository must look like 'owner/name', "
                             f"got {self.repository!r}")
        if not isinstance(self.branch, str) or not self.branch or any(c.isspace() for c in self.branch):
            raise ValueError(f"[tool.course] branch must be a branch name such as 'main', "
                             f"got {self.branch!r}")

    def colab_url(self, path: str) -> str:
        """The Colab link that opens ``path`` (relative to the repository root)."""
        return f"https://colab.research.google.com/github/{self.repository}/blob/{self.branch}/{path}"

    def badge(self, path: str) -> str:
        """The markdown "Open in Colab" badge for ``path``."""
        return f"[![Open In Colab]({BADGE_IMAGE})]({self.colab_url(path)})"

    @property
    def install_requirement(self) -> str:
        """What the setup cell gives ``pip install`` in Colab."""
        return f"course-utils @ git+https://github.com/{self.repository}@{self.branch}"


def read_course_repository(root: str | Path = ".") -> CourseRepository:
    """The ``[tool.course]`` setting of ``root/pyproject.toml``.

    >>> read_course_repository(".").repository
    'dropout-course/dropout-in-pytorch'
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        raise ValueError(f"no pyproject.toml in {Path(root).resolve()}; run this from the "
                         "course's root folder or pass it as ROOT")
    settings = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("course")
    if not settings or "repository" not in settings:
        raise ValueError(f"{path} has no [tool.course] table with repository = \"owner/name\" "
                         "and branch = \"main\"")
    return CourseRepository(settings["repository"], settings.get("branch", "main"))


def _point_text(text: str, repo: CourseRepository, path: str | None) -> str:
    """``text`` with every Colab link, Colab install and ``git clone`` line pointing at ``repo``.

    A link keeps its notebook path unless ``path`` says which notebook the text belongs to.
    """
    def colab(match: re.Match) -> str:
        if path is not None:
            return repo.colab_url(path)
        tail = re.search(r"/(notebooks/[^/]+\.ipynb)$", match.group(0))
        return repo.colab_url(tail.group(1)) if tail else match.group(0)

    def clone(match: re.Match) -> str:
        cd = f" && cd {repo.repository.split('/')[1]}" if match.group("cd") else ""
        return f"git clone https://github.com/{repo.repository}{cd}"

    text = _COLAB_URL.sub(colab, text)
    text = _CLONE.sub(clone, text)
    return _INSTALL.sub(repo.install_requirement, text)


def rewrite_badges(root: str | Path = ".", *, check: bool = False, log=print) -> list[Path]:
    """Point every chapter's badge and Colab install, and the README's badges, at the
    repository in ``root/pyproject.toml``. A chapter whose title cell has no badge gets one
    under its title.

    Returns the files that changed (with ``check=True``, the files that would change, and
    nothing is written).
    """
    import nbformat


    root = Path(root)
    repo = read_course_repository(root)
    # Every file is read and re-pointed in memory first: one unreadable notebook (a merge
    # conflict) then stops the command before anything is written, as `student` does.
    notebooks = []  # (path, re-pointed notebook) of each chapter that changes
    for path in chapters(root / "notebooks"):
        nb = read_notebook(path)
        relative = path.relative_to(root).as_posix()
        before = [cell.source for cell in nb.cells]
        title = nb.cells[0] if nb.cells else None
        if title is None or title.cell_type != "markdown":
            raise ValueError(f"{path}: the first cell should be the markdown title cell; "
                             "nothing was written")
        if not _COLAB_URL.search(title.source):
            head, _, rest = title.source.partition("\n")
            title.source = f"{head}\n\n{repo.badge(relative)}\n{rest}"
        title.source = _point_text(title.source, repo, relative)
        for cell in nb.cells[1:]:
            cell.source = _point_text(cell.source, repo, None)
        if [cell.source for cell in nb.cells] != before:
            notebooks.append((path, nb))
    readme, readme_text = root / "README.md", None
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        pointed = _point_text(text, repo, None)
        readme_text = pointed if pointed != text else None
    changed = [path for path, _ in notebooks] + ([readme] if readme_text is not None else [])
    if not check:
        for path, nb in notebooks:
            nbformat.write(nb, path)
        if readme_text is not None:
            readme.write_text(readme_text, encoding="utf-8")
    verb = "would change" if check else "rewrote"
    where = f"github.com/{repo.repository} (branch {repo.branch})"
    log(f"{verb} {len(changed)} file(s) to point at {where}"
        + "".join(f"\n  {p.relative_to(root).as_posix()}" for p in changed))
    return changed
