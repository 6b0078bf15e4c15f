"""Where the course lives on GitHub: the Colab badges and the Colab install of ``course_utils``.

Both point at a **release**: the git tag ``v`` + the version in ``pyproject.toml``. The
repository is set once, in the same file::

    [project]
    version = "0.2.0"          # the release is the tag v0.2.0

    [tool.course]
    repository = "owner/name"

A student who clicks a badge gets the chapter and the helper package of the same release, so a
change pushed to ``main`` mid-semester reaches nobody's open notebook until the next release is
cut. ``python -m course_utils badges`` (:mod:`course_tools.release`) rewrites every badge,
every setup cell's install, the README's badges and clone command, and regenerates the exercise
editions, from the setting: a fork re-points the whole course with one command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

COLAB_URL = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"'<>]+?\.ipynb")
_INSTALL = re.compile(r"course-utils @ git\+https://github\.com/[^\s\"'@]+@[^\s\"']+")
_CLONE = re.compile(r"git clone https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(?:\.git)?"
                    r"(?P<cd>\s+&&\s+cd\s+[A-Za-z0-9_.-]+)?(?=\s|$)")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_VERSION = re.compile(r"\d+(\.\d+){1,2}")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# A whole badge in markdown, as CourseRepository.badge writes it; its link is the group "url".
BADGE_LINK = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\((?P<url>[^)]*)\)")


@dataclass(frozen=True)
class CourseRepository:
    """The GitHub repository and release tag the badges and the Colab install point at.

    >>> repo = CourseRepository("me/dropout", "v1.2.0")
    >>> repo.colab_url("notebooks/exercises/02_bernoulli_mask.ipynb")
    'https://colab.research.google.com/github/me/dropout/blob/v1.2.0/notebooks/exercises/02_bernoulli_mask.ipynb'
    >>> repo.install_requirement
    'course-utils @ git+https://github.com/me/dropout@v1.2.0'
    """

    repository: str
    release: str

    def __post_init__(self):
        if not isinstance(self.repository, str) or not _REPOSITORY.fullmatch(self.repository):
            raise ValueError(f"[tool.course] repository must look like 'owner/name', "
                             f"got {self.repository!r}")
        if (not isinstance(self.release, str) or not self.release.startswith("v")
                or not _VERSION.fullmatch(self.release[1:])):
            raise ValueError(f"the release must be a tag such as 'v0.2.0' (made from [project] "
                             f"version = \"0.2.0\"), got {self.release!r}")

    def colab_url(self, path: str) -> str:
        """The Colab link that opens ``path`` (relative to the repository root) at the release."""
        return f"https://colab.research.google.com/github/{self.repository}/blob/{self.release}/{path}"

    def badge(self, path: str) -> str:
        """The markdown "Open in Colab" badge for ``path``."""
        return f"[![Open In Colab]({BADGE_IMAGE})]({self.colab_url(path)})"

    @property
    def install_requirement(self) -> str:
        """What the setup cell gives ``pip install`` in Colab: the helpers at the release."""
        return f"course-utils @ git+https://github.com/{self.repository}@{self.release}"


def read_course_repository(root: str | Path = ".") -> CourseRepository:
    """The repository of ``[tool.course]`` and the release ``v`` + ``[project] version``, from
    ``root/pyproject.toml``.

    >>> repo = read_course_repository(".")
    >>> repo.repository, repo.release.startswith("v")
    ('dropout-course/dropout-in-pytorch', True)
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        raise ValueError(f"no pyproject.toml in {Path(root).resolve()}; run this from the "
                         "course's root folder or pass it as ROOT")
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path} is not valid TOML: {err}") from None
    settings = config.get("tool", {}).get("course")
    if not settings or "repository" not in settings:
        raise ValueError(f"{path} has no [tool.course] table with repository = \"owner/name\"")
    if "branch" in settings:
        raise ValueError(f"{path}: [tool.course] branch is no longer read; the badges and the "
                         "Colab install follow the release tag 'v' + [project] version. Remove "
                         "the branch line (the README's 'Cutting a release' says how to publish "
                         "a release)")
    version = config.get("project", {}).get("version")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise ValueError(f"{path}: [project] version must be a plain release number such as "
                         f"\"0.2.0\" (its tag is v0.2.0), got {version!r}")
    return CourseRepository(settings["repository"], f"v{version}")


def point_text(text: str, repo: CourseRepository, path: str | None) -> str:
    """``text`` with every Colab link, Colab install and ``git clone`` line pointing at ``repo``.

    A link keeps its notebook path unless ``path`` says which notebook the text belongs to.
    """
    def colab(match: re.Match) -> str:
        if path is not None:
            return repo.colab_url(path)
        tail = re.search(r"/blob/[^/]+/(notebooks/\S+\.ipynb)$", match.group(0))
        return repo.colab_url(tail.group(1)) if tail else match.group(0)

    def clone(match: re.Match) -> str:
        cd = f" && cd {repo.repository.split('/')[1]}" if match.group("cd") else ""
        return f"git clone https://github.com/{repo.repository}{cd}"

    text = COLAB_URL.sub(colab, text)
    text = _CLONE.sub(clone, text)
    return _INSTALL.sub(repo.install_requirement, text)
