"""Shared fixtures: an offline network, MNIST-format files written by the tests, quiet plots, and
the real FashionMNIST for the tests of the chapters' teaching effects."""

from __future__ import annotations

import os
import socket

import matplotlib
import pytest
import torch

from course_tools.build import environment as _environment
from course_tools.idx import write_idx
from course_utils.config import require_real_data, system_data_dir
from course_utils.data import DatasetUnavailableError, load_dataset

matplotlib.use("Agg")  # this process only; nbval's kernels keep their inline backend

# Where the real data is, read before any fixture hides it. The effect tests need it; every other
# test runs as if it were absent, so that no test depends on what this machine has installed.
_REAL_DATA_ENV = {
    name: os.environ.get(name)
    for name in ("COURSE_SYSTEM_DATA_DIR", "COURSE_DATA_DIR", "COURSE_REQUIRE_REAL_DATA")
}
# CI sets COURSE_REQUIRE_REAL_DATA=1: then a missing real data set fails the effect tests. The
# other tests run without it, since many of them test the fallback on purpose.
_REQUIRE_REAL_DATA = require_real_data()


def pytest_report_header(config):
    # Said once per run, so a laptop without the data knows why the effect tests skip.
    try:
        with _environment(_REAL_DATA_ENV):
            where = load_dataset("fashion-mnist", download=False, fallback=None).source
        return f"real data: fashion-mnist ({where})"
    except DatasetUnavailableError:
        need = "they fail: COURSE_REQUIRE_REAL_DATA=1" if _REQUIRE_REAL_DATA else "they skip"
        system = system_data_dir()
        debian = f"no Debian package in {system}" if system else "COURSE_SYSTEM_DATA_DIR=none"
        return (f"real data: FashionMNIST not found (no copy in the data folder, {debian}); "
                f"the effect tests need it and {need}. The notebooks run on the offline digits "
                f"fallback. See the README's 'Offline classroom'.")


@pytest.fixture(autouse=True)
def _quiet_and_isolated(monkeypatch, tmp_path):
    # No progress bars in test logs, and never touch the repository's data/ cache.
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_SYSTEM_DATA_DIR", "none")
    monkeypatch.delenv("COURSE_REQUIRE_REAL_DATA", raising=False)
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

    from course_tools.cli import main

    def run(*args):
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


@pytest.fixture(scope="session")
def fashion_mnist():
    """``load_dataset("fashion-mnist", **sizes)`` on the real data, never the fallback.

    Where the real data is missing, a test that uses it skips, or fails under
    ``COURSE_REQUIRE_REAL_DATA=1`` (CI), so a digits run can never pass for a real-data run.
    """

    def load(**kwargs):
        try:
            with _environment(_REAL_DATA_ENV):
                return load_dataset("fashion-mnist", download=False, fallback=None, **kwargs)
        except DatasetUnavailableError as err:
            if _REQUIRE_REAL_DATA:
                pytest.fail(f"COURSE_REQUIRE_REAL_DATA=1 but the real data is missing: {err}")
            pytest.skip("the real FashionMNIST is not installed here (see the README's "
                        "'Offline classroom')")

    return load


@pytest.fixture
def real_data_env(monkeypatch):
    """Undo the hiding of the real data for this test, for the kernels and subprocesses it starts.

    Such a child process loads the chapters' data itself, as nbval does; under
    ``COURSE_REQUIRE_REAL_DATA=1`` it must find the same real data, not fall back.
    """
    for name, value in _REAL_DATA_ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
