"""Seeds, device choice and the environment switches the whole course reads.

Environment variables (all optional):

- ``COURSE_FAST=1``: fast mode. Notebooks shrink epochs and subsets; ``make test`` sets it.
- ``COURSE_DEVICE``: force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
- ``COURSE_DATA_DIR``: where datasets are cached and looked for.
- ``COURSE_SYSTEM_DATA_DIR``: where system-wide dataset packages live (default
  ``/usr/share/datasets``, where Debian's ``dataset-fashion-mnist`` puts FashionMNIST); ``none``
  stops the loader from looking there.
- ``COURSE_OFFLINE=1``: never try to download; use local copies or the offline fallback.
- ``COURSE_REQUIRE_REAL_DATA=1``: a dataset that would fall back to the digits raises instead.
  CI sets it, so a run on the fallback can never pass for a run on the real data.
- ``COURSE_PROGRESS=0``: turn off the progress bars of :func:`course_utils.fit`.
- ``COURSE_THREADS``: how many CPU threads :func:`set_threads` gives torch (``all`` for torch's
  default), instead of leaving one core free.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

from ._validate import positive_int
from ._validate import seed as check_seed

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_flag(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable, refusing values that are neither.

    A typo such as ``COURSE_FAST=ture`` raises instead of silently meaning "off".

    >>> env_flag("COURSE_SURELY_UNSET_FLAG", default=True)
    True
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"environment variable {name}={raw!r} is not a yes/no value; "
        f"use one of {sorted(_TRUE)} or {sorted(_FALSE - {''})}"
    )


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random number generators (all devices).

    Call it once at the top of a notebook: model initialisation, data shuffling and dropout
    masks then repeat exactly on every re-run on the same machine.

    >>> set_seed(0); a = torch.rand(2)
    >>> set_seed(0); b = torch.rand(2)
    >>> torch.equal(a, b)
    True
    """
    seed = check_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    # torch.manual_seed also seeds every CUDA and MPS device.
    torch.manual_seed(seed)


def resolve_device(value: object, label: str = "device") -> torch.device:
    """``value`` (a name such as ``"cuda"`` or a ``torch.device``) as a device that exists here.

    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
        ...
    ValueError: device='gpu' is not a device name; use cpu, cuda, cuda:N or mps
    """
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{label} must be a device name such as 'cpu' or 'cuda', or a "
                        f"torch.device, got {type(value).__name__} {value!r}")
    try:
        device = torch.device(value.strip().lower() if isinstance(value, str) else value)
    except RuntimeError as err:
        raise ValueError(
            f"{label}={value!r} is not a device name; use cpu, cuda, cuda:N or mps") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{label}={value!r} but CUDA is not available here")
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"{label}={value!r} but MPS is not available here")
    return device


def get_device() -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU.

    ``COURSE_DEVICE`` overrides the choice, for example to compare a GPU run with the CPU.

    >>> get_device().type in {"cuda", "mps", "cpu"}
    True
    """
    override = os.environ.get("COURSE_DEVICE", "").strip()
    if override:
        return resolve_device(override, "COURSE_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def fast_mode() -> bool:
    """True when ``COURSE_FAST=1``: notebooks use fewer epochs and smaller subsets.

    Fast mode changes sizes only, never which code runs, so a green fast run means the full run
    executes the same lines.

    >>> isinstance(fast_mode(), bool)
    True
    """
    return env_flag("COURSE_FAST")


def data_dir() -> Path:
    """Where datasets are cached: ``COURSE_DATA_DIR``, else the repository's ``data/``, else ``./data``.

    >>> data_dir().name
    'data'
    """
    override = os.environ.get("COURSE_DATA_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    # An editable install (make lab / make test) runs from the checkout, which has data/ beside
    # the package; a pip install from git (Colab) does not, so fall back to the working folder.
    repo_data = Path(__file__).resolve().parent.parent / "data"
    if repo_data.is_dir():
        return repo_data
    return Path.cwd() / "data"


DEFAULT_SYSTEM_DATA_DIR = Path("/usr/share/datasets")


def system_data_dir() -> Path | None:
    """Where system-wide dataset packages live, or ``None`` when the loader must not look there.

    Debian's ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist/``.
    ``COURSE_SYSTEM_DATA_DIR`` points elsewhere; ``COURSE_SYSTEM_DATA_DIR=none`` hides it, which is
    how the tests and CI run the course as if the package were not installed.

    >>> system_data_dir() in (None, DEFAULT_SYSTEM_DATA_DIR) or "COURSE_SYSTEM_DATA_DIR" in os.environ
    True
    """
    raw = os.environ.get("COURSE_SYSTEM_DATA_DIR")
    if raw is None:
        return DEFAULT_SYSTEM_DATA_DIR
    if raw.strip().lower() in {"", "none"}:
        return None
    return Path(raw.strip()).expanduser()


def offline() -> bool:
    """True when ``COURSE_OFFLINE=1``: datasets come from local copies only, never a download.

    >>> isinstance(offline(), bool)
    True
    """
    return env_flag("COURSE_OFFLINE")


def require_real_data() -> bool:
    """True when ``COURSE_REQUIRE_REAL_DATA=1``: falling back to the digits is an error.

    >>> isinstance(require_real_data(), bool)
    True
    """
    return env_flag("COURSE_REQUIRE_REAL_DATA")


_TORCH_DEFAULT_THREADS: int | None = None  # torch's own choice, read before set_threads changes it


def set_threads(threads: int | str | None = None) -> int:
    """Set how many CPU threads torch computes with, and return the number.

    By default it leaves one core free: torch's default minus one, at least 1. In class the
    kernel shares the laptop with a browser and a video call, and torch's threads wait for one
    another by spinning, so a busy neighbour on one core slows every step: on 2 cores, a fit
    took 4.4x as long beside one busy process with torch's 2 threads, and 1.2x with 1 thread
    (benchmarks/README.md, row 7). Colab and Kaggle run the kernel on a machine of its own, so
    there it keeps torch's default. ``threads`` (or ``COURSE_THREADS``) sets a number, or
    ``"all"`` for torch's default; ``OMP_NUM_THREADS``, when set, is left as it is.

    Calling it again starts from torch's default, not from the last count.

    >>> n = set_threads(1); n, torch.get_num_threads()
    (1, 1)
    >>> set_threads("all") >= 1
    True
    """
    global _TORCH_DEFAULT_THREADS
    if _TORCH_DEFAULT_THREADS is None:
        _TORCH_DEFAULT_THREADS = torch.get_num_threads()
    name = "threads"
    if threads is None and os.environ.get("COURSE_THREADS", "").strip():
        name, threads = "COURSE_THREADS", os.environ["COURSE_THREADS"].strip()
    if threads is None:
        if os.environ.get("OMP_NUM_THREADS", "").strip() or _runs_on_its_own_machine():
            threads = _TORCH_DEFAULT_THREADS
        else:
            threads = max(1, _TORCH_DEFAULT_THREADS - 1)
    elif isinstance(threads, str) and threads.strip().lower() == "all":
        threads = _TORCH_DEFAULT_THREADS
    elif isinstance(threads, str) and threads.strip().isdigit():
        threads = int(threads)
    elif isinstance(threads, str):
        raise ValueError(f"{name} must be a positive whole number of threads or 'all', "
                         f"got {threads!r}")
    threads = positive_int(name, threads)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def _runs_on_its_own_machine() -> bool:
    # A hosted kernel shares no cores with the student's browser.
    return "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ
