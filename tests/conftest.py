"""Shared fixtures: an offline network, MNIST-format files written by the tests, quiet plots."""

from __future__ import annotations

import socket

import matplotlib
import pytest
import torch

from course_utils.data import write_idx

matplotlib.use("Agg")  # this process only; nbval's kernels keep their inline backend


@pytest.fixture(autouse=True)
def _quiet_and_isolated(monkeypatch, tmp_path):
    # No progress bars in test logs, and never touch the repository's data/ cache.
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def network_down(monkeypatch):
    """Every new connection fails, as on a train or in an exam room without Wi-Fi."""

    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable (simulated by the test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def mnist_files(tmp_path):
    """A root folder holding MNIST *and* FashionMNIST raw IDX files made from the digits.

    The images are the bundled digits framed at 28x28 (so the test needs no network), split into
    600 "training" and 200 "test" images.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images[:800], dtype=torch.float32).unsqueeze(1) / 16.0
    images = torch.nn.functional.interpolate(images, size=(20, 20), mode="bilinear")
    images = torch.nn.functional.pad(images.clamp(0, 1), (4, 4, 4, 4))
    pixels = (images.squeeze(1) * 255).round().to(torch.uint8)
    labels = torch.as_tensor(bunch.target[:800], dtype=torch.uint8)
    root = tmp_path / "idx"
    for folder in ("MNIST", "FashionMNIST"):
        raw = root / folder / "raw"
        write_idx(raw / "train-images-idx3-ubyte", pixels[:600])
        write_idx(raw / "train-labels-idx1-ubyte", labels[:600])
        write_idx(raw / "t10k-images-idx3-ubyte", pixels[600:])
        write_idx(raw / "t10k-labels-idx1-ubyte", labels[600:])
    return root, pixels, labels


@pytest.fixture
def course_cli(capsys):
    """Run ``python -m course_utils ARGS`` in this process and return its exit code and output.

    The same ``main`` as the real command; a subprocess would spend two seconds importing torch
    on every call. tests/test_course_build.py runs the real entry point in a subprocess.
    """
    from types import SimpleNamespace

    from course_utils.__main__ import main

    def run(*args):
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run
