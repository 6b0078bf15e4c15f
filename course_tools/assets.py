"""What the site and the decks copy from installed packages, so that they work offline: MathJax
2 from ``jupyter-server-mathjax`` and reveal.js from ``sphinx-revealjs`` (the ``publish`` extra).

>>> (package_folder("jupyter_server_mathjax", "static") / "MathJax.js").is_file()
True
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

# The one MathJax configuration the package ships (with its STIX-Web fonts only).
MATHJAX_SCRIPT = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def package_folder(module: str, *parts: str) -> Path:
    """The folder ``parts`` inside the installed package ``module``, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {module} is missing: install the course's publish extra "
                           "(pip install -e '.[publish]', which make does)")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def copy_mathjax(dest: Path) -> None:
    """MathJax 2 into ``dest`` (9.6 MB): load ``dest/MATHJAX_SCRIPT``."""
    shutil.copytree(package_folder("jupyter_server_mathjax", "static"), dest)


def copy_revealjs(dest: Path) -> None:
    """reveal.js into ``dest``, laid out as nbconvert expects (``dist/``, ``plugin/``)."""
    shutil.copytree(package_folder("sphinx_revealjs", "_static", "revealjs"), dest,
                    ignore=shutil.ignore_patterns("*.map", "*.esm.js", "*.scss"))
