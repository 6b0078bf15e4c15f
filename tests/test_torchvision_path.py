"""The chapters' online code path, run offline.

Students in Colab get FashionMNIST and MNIST from torchvision, and chapter 05 then takes a
different branch (the real `torchvision.datasets.FashionMNIST` in its DataLoader timing). CI has
no network, so nbval only ever runs the offline
fallback. Here we write full-size MNIST/FashionMNIST IDX files made of the bundled digits
(60,000 training and 10,000 test images, like the real files) and execute chapter 05 in fast
mode against them, so the branch students actually run is executed in every CI run too.
"""

from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from course_tools.idx import write_idx

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def full_size_idx(tmp_path):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = torch.nn.functional.interpolate(images, size=(20, 20), mode="bilinear")
    pixels = (torch.nn.functional.pad(images.clamp(0, 1), (4, 4, 4, 4)).squeeze(1) * 255).round()
    pixels = pixels.to(torch.uint8)
    labels = torch.as_tensor(bunch.target).to(torch.uint8)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    train = order.repeat(60_000 // len(order) + 1)[:60_000]
    test = order.repeat(10_000 // len(order) + 1)[:10_000]
    for folder in ("MNIST", "FashionMNIST"):
        raw = tmp_path / folder / "raw"
        write_idx(raw / "train-images-idx3-ubyte", pixels[train])
        write_idx(raw / "train-labels-idx1-ubyte", labels[train])
        write_idx(raw / "t10k-images-idx3-ubyte", pixels[test])
        write_idx(raw / "t10k-labels-idx1-ubyte", labels[test])
    return tmp_path


def test_chapter_05_runs_on_the_torchvision_path(full_size_idx, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(full_size_idx))
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    path = ROOT / "notebooks" / "solutions" / "05_with_without_dropout.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={
        "metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert "dataset: fashion-mnist" in printed, "the notebook should have loaded the IDX files"
    assert "DatasetFallbackWarning" not in printed
    assert "the in-memory path is" in printed
