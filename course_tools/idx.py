"""Write datasets in the MNIST file format, so tests and benchmarks can make a FashionMNIST
folder from generated pixels without a network."""

from __future__ import annotations

import struct
from pathlib import Path

import torch
from torch import Tensor


def write_idx(path: str | Path, array: Tensor) -> Path:
    """Write a ``uint8`` tensor as an IDX file, the format of the MNIST and FashionMNIST files.

    Four such files in ``ROOT/FashionMNIST/raw/`` (or ``ROOT/MNIST/raw/``) are a dataset that
    :func:`course_utils.load_dataset` and torchvision read without a network: images of shape
    ``(N, 28, 28)`` and labels of shape ``(N,)``, named like the files in ``course_utils.data._IDX_FILES``. The
    tests and the benchmarks use it to make such datasets from generated pixels.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_idx(Path(tmp) / "labels-idx1-ubyte", torch.tensor([3, 1], dtype=torch.uint8))
    ...     path.read_bytes()
    b'\\x00\\x00\\x08\\x01\\x00\\x00\\x00\\x02\\x03\\x01'
    """
    if not isinstance(array, Tensor):
        raise TypeError(f"write_idx needs a torch.Tensor, got {type(array).__name__}")
    if array.dtype != torch.uint8:
        # Converting here would wrap 256 to 0 or truncate 0.7 to 0 without a word.
        raise TypeError(
            f"write_idx writes uint8 data (pixels 0-255, labels 0-9), got dtype {array.dtype}; "
            f"convert first, e.g. (images * 255).round().to(torch.uint8)"
        )
    if not 1 <= array.dim() <= 255:
        raise ValueError(f"an IDX file holds 1 to 255 dimensions, got shape {tuple(array.shape)}")
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim())  # 0x08: unsigned bytes
    header += struct.pack(f">{array.dim()}I", *array.shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + array.cpu().contiguous().numpy().tobytes())
    return path
