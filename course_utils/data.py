"""Datasets as in-memory tensors: FashionMNIST and MNIST, bundled digits offline, and moons.

FashionMNIST comes from the first of these that has it: the data folder (torchvision's layout),
Debian's ``dataset-fashion-mnist`` package, a torchvision download, and only then the bundled
digits, with one warning line. ``Dataset.source`` says which one it was.

Every image dataset comes out the same way, so notebook code never depends on which one it got:
``float32`` tensors of shape ``(N, 1, 28, 28)`` with pixels in ``[0, 1]`` (what torchvision's
``ToTensor`` gives), and ``int64`` labels. The conversion happens once, on the whole stored
``uint8`` tensor, not per sample through PIL.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import shutil
import socket
import tempfile
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from ._validate import boolean, fraction, number, optional_positive_int
from ._validate import path as check_path
from ._validate import seed as check_seed
from .config import data_dir, offline, require_real_data, resolve_device, system_data_dir

DATASET_NAMES = ("fashion-mnist", "mnist", "digits", "moons")

_TORCHVISION_CLASSES = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
# Folders under system_data_dir() holding a dataset's four .gz files (Debian's dataset-* packages).
_SYSTEM_FOLDERS = {"fashion-mnist": "fashion-mnist"}
_SYSTEM_PACKAGES = {"fashion-mnist": "dataset-fashion-mnist"}
_DEFAULT_VAL_SIZE = {"fashion-mnist": 5000, "mnist": 5000, "digits": 300, "moons": 500}
_DIGITS_TEST_SIZE = 360  # a fixed 20% of scikit-learn's 1,797 digits, like MNIST's fixed test set
_MOONS_DEFAULT_TRAIN = 200
_MOONS_TEST_SIZE = 1000
_MOONS_DEFAULT_NOISE = 0.3
_FIXED_SPLIT_SEED = 20140101  # test sets must not move when the student changes `seed`
_DOWNLOAD_TIMEOUT_S = 30  # a dead mirror should cost seconds, not hang the notebook
_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetUnavailableError(RuntimeError):
    """A torchvision dataset could not be loaded and no fallback was allowed."""


class DatasetFallbackWarning(UserWarning):
    """The requested dataset could not be loaded, so the offline fallback is used instead."""


@dataclass(repr=False)
class Dataset:
    """Train, validation and test tensors plus what a notebook needs to know about them.

    >>> data = load_dataset("moons", train_size=50)
    >>> data.X_train.shape, data.num_classes, data.input_shape
    (torch.Size([50, 2]), 2, (2,))
    """

    name: str
    X_train: Tensor
    y_train: Tensor
    X_val: Tensor
    y_val: Tensor
    X_test: Tensor
    y_test: Tensor
    classes: list[str]
    input_shape: tuple[int, ...]
    source: str = "given"

    def __post_init__(self) -> None:
        # A hand-built Dataset is checked here, where it is made, not in a later fit or repr.
        for split in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
            value = getattr(self, split)
            if not isinstance(value, Tensor):
                hint = " (convert with torch.as_tensor)" if hasattr(value, "__array__") or \
                    isinstance(value, (list, tuple)) else ""
                raise TypeError(f"Dataset.{split} must be a torch.Tensor, got "
                                f"{type(value).__name__}{hint}")
        if isinstance(self.classes, str) or not isinstance(self.classes, (list, tuple)):
            raise TypeError(f"Dataset.classes must be a list of class names, one per class "
                            f"(e.g. ['cat', 'dog']), got {type(self.classes).__name__} "
                            f"{self.classes!r}")
        self.classes = list(self.classes)
        shape = self.input_shape
        if not (isinstance(shape, (tuple, list, torch.Size)) and all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)):
            raise TypeError(f"Dataset.input_shape must be one example's shape, a tuple of "
                            f"positive ints such as (1, 28, 28), got {shape!r}")
        self.input_shape = tuple(shape)

    @property
    def description(self) -> str:
        """The dataset's name and where it came from, for a notebook's setup line.

        >>> load_dataset("moons", train_size=10).description
        'moons (generated)'
        """
        return f"{self.name} ({self.source})"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def device(self) -> torch.device:
        return self.X_train.device

    def to(self, device: torch.device | str) -> Dataset:
        """A copy with every tensor on ``device`` (no copy for tensors already there).

        >>> load_dataset("moons", train_size=10).to("cpu").device.type
        'cpu'
        """
        device = resolve_device(device)
        values = {
            f.name: getattr(self, f.name).to(device)
            if isinstance(getattr(self, f.name), Tensor)
            else getattr(self, f.name)
            for f in fields(self)
        }
        return Dataset(**values)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train={len(self.y_train)}, val={len(self.y_val)}, "
            f"test={len(self.y_test)}, input_shape={self.input_shape}, "
            f"classes={self.num_classes}, device={self.device})"
        )


def load_dataset(
    name: str,
    *,
    train_size: int | None = None,
    val_size: int | None = None,
    label_noise: float = 0.0,
    seed: int = 0,
    root: str | Path | None = None,
    download: bool = True,
    fallback: str | None = "digits",
    device: torch.device | str | None = None,
    noise: float | None = None,
) -> Dataset:
    """Load a dataset as in-memory tensors, split into train, validation and test.

    Args:
        name: ``"fashion-mnist"`` or ``"mnist"`` (torchvision, downloaded into ``root``),
            ``"digits"`` (scikit-learn's bundled handwritten digits, framed like MNIST:
            resized to 20×20 and centred on a 28×28 canvas), or ``"moons"`` (2-D synthetic).
        train_size: number of training examples, drawn at random (``seed``) from what is left
            after the validation split. ``None`` takes all of it (moons: 200).
        val_size: validation examples split off the training pool. ``None`` picks a default
            (5,000 for the torchvision sets, 300 for digits, 500 for moons).
        label_noise: fraction of *training* labels replaced by a different, random class.
            Validation and test labels stay clean, so they measure what the model learnt.
        seed: chooses the train/validation split, the subset and the noisy labels. The test set
            never depends on it.
        root: where torchvision datasets live (default :func:`course_utils.data_dir`).
        download: let torchvision download missing files.
        fallback: ``"digits"`` (default) to use the bundled digits when a torchvision dataset
            cannot be loaded, with one warning line; ``None`` to raise
            :class:`DatasetUnavailableError` instead.
        device: put every tensor there (default: the CPU).
        noise: moons only: standard deviation of the noise added to the points (default 0.3).

    Returns:
        A :class:`Dataset`. Check ``Dataset.name``: after a fallback it says ``"digits"``, and
        ``Dataset.source`` says ``"offline fallback"``.

    Where FashionMNIST and MNIST come from, first hit wins: ``root`` (torchvision's layout,
    ``root/FashionMNIST/raw/``), then Debian's ``dataset-fashion-mnist`` package in
    :func:`course_utils.config.system_data_dir`, then a download into ``root`` (unless
    ``download=False`` or ``COURSE_OFFLINE=1``), then the fallback. With
    ``COURSE_REQUIRE_REAL_DATA=1`` the fallback raises :class:`DatasetUnavailableError` instead.

    >>> data = load_dataset("digits", train_size=500, seed=1)
    >>> data.name, tuple(data.X_train.shape), len(data.y_val), len(data.y_test)
    ('digits', (500, 1, 28, 28), 300, 360)
    >>> float(data.X_train.min()), float(data.X_train.max())
    (0.0, 1.0)
    """
    name = _normalize_name(name)
    train_size = optional_positive_int("train_size", train_size)
    val_size = optional_positive_int("val_size", val_size)
    label_noise = fraction("label_noise", label_noise)
    seed = check_seed("seed", seed)
    boolean("download", download)
    if root is not None:
        check_path("root", root)
    if fallback not in (None, "digits"):
        raise ValueError(f"fallback must be 'digits' or None, got {fallback!r}")
    if noise is not None and name != "moons":
        raise ValueError(f"noise= sets the moons' point noise; it does not apply to {name!r}")

    pool, name, source, train_size, val_size = _find_pool(
        name, root, download, fallback, train_size, val_size, seed, noise)
    val_size = _DEFAULT_VAL_SIZE[name] if val_size is None else val_size
    X_train, y_train, X_val, y_val = _split(pool.X, pool.y, train_size, val_size, seed, name)
    if label_noise > 0:
        _warn_label_noise(label_noise, len(y_train), len(pool.classes))
        y_train = _corrupt_labels(y_train, label_noise, len(pool.classes), seed)

    data = Dataset(
        name=name,
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        X_test=pool.X_test,
        y_test=pool.y_test,
        classes=list(pool.classes),
        input_shape=tuple(X_train.shape[1:]),
        source=source,
    )
    return data.to(device) if device is not None else data


# --- argument checks -------------------------------------------------------------------------


def _normalize_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, one of {DATASET_NAMES}")
    key = name.strip().lower().replace("_", "-")
    if key == "fashionmnist":
        key = "fashion-mnist"
    if key not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    return key


# --- sources ---------------------------------------------------------------------------------


class _Pool(NamedTuple):
    """The examples a split is drawn from, and the fixed test set beside them."""

    X: Tensor
    y: Tensor
    X_test: Tensor
    y_test: Tensor
    classes: list[str]


def _find_pool(name, root, download, fallback, train_size, val_size, seed, noise):
    """The pool for ``name``, the name and source it really came from, and the sizes to split
    it with (capped to fit the digits after a fallback)."""
    if name == "moons":
        noise = _MOONS_DEFAULT_NOISE if noise is None else noise
        return _Pool(*_moons_pool(train_size, val_size, seed, noise)), name, "generated", \
            train_size, val_size
    if name == "digits":
        pool = _Pool(*_digits_pool())
        return pool, name, f"{len(pool.y):,} images, bundled with scikit-learn", train_size, val_size
    root = Path(root).expanduser() if root is not None else data_dir()
    try:
        found, where = _real_pool(name, root, download)
    except Exception as err:  # noqa: BLE001 - any failure (network, files, import) means "not here"
        return _fall_back(name, root, fallback, err, train_size, val_size)
    pool = _Pool(*found)
    return pool, name, f"{len(pool.y):,} images, {where}", train_size, val_size


def _fall_back(name, root, fallback, err, train_size, val_size):
    """The digits in place of a dataset that could not be loaded, with one warning; or the
    error, when the fallback is off or ``COURSE_REQUIRE_REAL_DATA=1`` forbids it."""
    reason = _one_line(err)
    if fallback is None or require_real_data():
        message = _unavailable_message(name, root, reason)
        if fallback is not None:
            message = f"COURSE_REQUIRE_REAL_DATA=1 forbids the digits fallback: {message}"
        raise DatasetUnavailableError(message) from err
    pool = _Pool(*_digits_pool())
    train_size, val_size, capped = _cap_for_fallback(train_size, val_size, len(pool.y))
    note = " (train_size/val_size capped to fit it)" if capped else ""
    warnings.warn(
        f"could not load {name!r} ({reason}); using the bundled 'digits' dataset "
        f"instead{note}. See the README's Troubleshooting section.",
        DatasetFallbackWarning,
        stacklevel=4,  # the student's load_dataset call: _fall_back < _find_pool < load_dataset
    )
    return pool, "digits", "offline fallback", train_size, val_size


def _real_pool(name: str, root: Path, download: bool):
    """The pool from the first place that has the files, and a few words on which place it was."""
    folder = root / _TORCHVISION_CLASSES[name] / "raw"
    try:
        return _torchvision_pool(name, root, download=False), "local copy"
    except RuntimeError as err:
        if "not found" not in str(err):
            raise  # a copy that is there but broken: say so rather than quietly download
    failures = [f"no copy in {folder}"]
    system = _system_copy(name)
    if system is not None:
        with tempfile.TemporaryDirectory() as tmp:
            # torchvision reads unpacked IDX files; the package ships them gzipped and read-only,
            # so unpack a copy (a fifth of a second) and leave /usr/share untouched.
            _gunzip_idx(system, Path(tmp) / _TORCHVISION_CLASSES[name] / "raw")
            return _torchvision_pool(name, Path(tmp), download=False), (
                f"Debian package {_SYSTEM_PACKAGES[name]}"
            )
    if system_data_dir() is not None and name in _SYSTEM_PACKAGES:
        failures.append(f"no {_SYSTEM_PACKAGES[name]} package in {system_data_dir()}")
    if not download or offline():
        why = "download=False" if not download else "COURSE_OFFLINE=1"
        raise FileNotFoundError(f"not found: {'; '.join(failures)}; no download ({why})")
    return _torchvision_pool(name, root, download=True), "downloaded"


def _system_copy(name: str) -> Path | None:
    base = system_data_dir()
    if base is None or name not in _SYSTEM_FOLDERS:
        return None
    folder = base / _SYSTEM_FOLDERS[name]
    return folder if all((folder / f"{file}.gz").is_file() for file in _IDX_FILES) else None


def _gunzip_idx(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for file in _IDX_FILES:
        with gzip.open(source / f"{file}.gz", "rb") as packed, open(target / file, "wb") as out:
            shutil.copyfileobj(packed, out, 1 << 20)


def _torchvision_pool(name: str, root: Path, download: bool):
    import torchvision  # lazy: importing it costs about two seconds

    cls = getattr(torchvision.datasets, _TORCHVISION_CLASSES[name])
    # torchvision prints download chatter, and one "Failed to download" line per mirror when
    # offline; keep it out of the notebook so a failure shows as the single fallback warning.
    chatter = io.StringIO()
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            train = cls(str(root), train=True, download=download)
            test = cls(str(root), train=False, download=download)
    finally:
        socket.setdefaulttimeout(previous_timeout)

    def to_float(images: Tensor) -> Tensor:
        # One vectorised conversion of the stored uint8 tensor: same values as ToTensor().
        return images.unsqueeze(1).to(torch.float32).div_(255.0)

    return (
        to_float(train.data),
        train.targets.to(torch.int64),
        to_float(test.data),
        test.targets.to(torch.int64),
        list(train.classes),
    )


def _digits_pool():
    from sklearn.datasets import load_digits  # lazy: scikit-learn is slow to import

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    # MNIST centres each digit in a 20x20 box on a 28x28 canvas; do the same so the pictures,
    # the input size and the pixel range all match the torchvision datasets.
    images = torch.nn.functional.interpolate(
        images, size=(20, 20), mode="bilinear", align_corners=False
    )
    images = torch.nn.functional.pad(images.clamp_(0.0, 1.0), (4, 4, 4, 4))
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(_FIXED_SPLIT_SEED))
    test_idx, pool_idx = order[:_DIGITS_TEST_SIZE], order[_DIGITS_TEST_SIZE:]
    classes = [str(d) for d in range(10)]
    return images[pool_idx], labels[pool_idx], images[test_idx], labels[test_idx], classes


def _moons_pool(train_size: int | None, val_size: int | None, seed: int, noise: float):
    number("noise", noise, low=0.0)
    from sklearn.datasets import make_moons

    n_pool = (train_size or _MOONS_DEFAULT_TRAIN) + (val_size or _DEFAULT_VAL_SIZE["moons"])
    X, y = make_moons(n_samples=n_pool, noise=noise, random_state=seed)
    X_test, y_test = make_moons(
        n_samples=_MOONS_TEST_SIZE, noise=noise, random_state=_FIXED_SPLIT_SEED
    )
    return (
        torch.as_tensor(X, dtype=torch.float32),
        torch.as_tensor(y, dtype=torch.int64),
        torch.as_tensor(X_test, dtype=torch.float32),
        torch.as_tensor(y_test, dtype=torch.int64),
        ["upper moon", "lower moon"],
    )


# --- splitting and noise ---------------------------------------------------------------------


def _split(X: Tensor, y: Tensor, train_size, val_size: int, seed: int, name: str):
    available = len(y) - val_size
    if available < 1:
        raise ValueError(
            f"val_size={val_size} leaves no training data: {name!r} has {len(y)} examples "
            f"to split into training and validation"
        )
    if train_size is None:
        train_size = available
    elif train_size > available:
        raise ValueError(
            f"train_size={train_size} is larger than the data: {name!r} has {available} "
            f"training examples left after a validation split of {val_size}"
        )
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    val_idx = order[:val_size]
    train_idx = order[val_size : val_size + train_size]
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]


def _warn_label_noise(fraction: float, n: int, num_classes: int) -> None:
    """Warn about a legal label_noise that almost certainly does not do what was meant."""
    if round(fraction * n) == 0:
        warnings.warn(f"label_noise={fraction} of {n} training labels rounds to 0: no label "
                      f"is changed; use at least {0.5 / n:.2g}", stacklevel=3)
    elif fraction > (num_classes - 1) / num_classes:
        # Each wrong label is one of the other C - 1 classes: at (C - 1) / C every label is a
        # coin flip (chapter 01's point), beyond it a wrong class is likelier than the true one.
        limit = (num_classes - 1) / num_classes
        warnings.warn(f"label_noise={fraction} with {num_classes} classes is past "
                      f"{limit:.3g}, where the labels are pure chance: each image's label is "
                      "now more often a given wrong class than its true one, so the labels "
                      "are inverted, not noisy", stacklevel=3)


def _corrupt_labels(y: Tensor, fraction: float, num_classes: int, seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed + 1)
    n_noisy = round(fraction * len(y))
    idx = torch.randperm(len(y), generator=g)[:n_noisy]
    # Adding 1..C-1 modulo C always lands on a *different* class, so exactly n_noisy labels are wrong.
    shift = torch.randint(1, num_classes, (n_noisy,), generator=g)
    noisy = y.clone()
    noisy[idx] = (noisy[idx] + shift) % num_classes
    return noisy


def _cap_for_fallback(train_size, val_size, pool: int):
    # Sizes chosen for a 60,000-image dataset cannot all fit in the digits; shrink them rather
    # than fail, because the point of the fallback is that the notebook still runs offline.
    capped = False
    if val_size is not None and val_size > _DEFAULT_VAL_SIZE["digits"]:
        val_size, capped = _DEFAULT_VAL_SIZE["digits"], True
    left = pool - (val_size or _DEFAULT_VAL_SIZE["digits"])
    if train_size is not None and train_size > left:
        train_size, capped = left, True
    return train_size, val_size, capped


# --- messages --------------------------------------------------------------------------------


def _one_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    # torchvision's download error ends with the real cause ("<urlopen error ...>").
    detail = lines[-1] if lines else "no details"
    return f"{type(err).__name__}: {detail}"


def _unavailable_message(name: str, root: Path, reason: str) -> str:
    folder = root / _TORCHVISION_CLASSES[name] / "raw"
    files = ", ".join(_IDX_FILES)
    package = _SYSTEM_PACKAGES.get(name)
    install = f"install Debian's {package} package (apt install {package}), or " if package else ""
    return (
        f"could not load {name!r} ({reason}). To use it without a network, {install}put its "
        f"four unpacked IDX files ({files}) into {folder} and call again, or pass "
        f"fallback='digits' to use the bundled handwritten digits instead."
    )
