"""The input pipeline most PyTorch tutorials use: the reference that row 1 of ``bench.py`` times.

``torchvision.datasets.FashionMNIST`` turns every image into a PIL image in ``__getitem__``,
``ToTensor`` and ``Normalize`` then run once per image, and a ``DataLoader`` collates the images
into batches. This is written the way tutorials write it, on purpose: it is what the course's
in-memory tensors are compared with, not a straw man. The training step is the same as
``course_utils.fit``'s, so the two differ only in how the batches are made.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms

# FashionMNIST's pixel mean and standard deviation, as the tutorials hard-code them.
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


def tutorial_loaders(root, batch_size: int, *, val_size: int):
    """A shuffled training loader and a validation loader over the FashionMNIST files in
    ``root`` (``ROOT/FashionMNIST/raw``), with ``val_size`` images held out."""
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((FASHION_MNIST_MEAN,), (FASHION_MNIST_STD,))]
    )
    full = datasets.FashionMNIST(str(root), train=True, download=False, transform=transform)
    train_set, val_set = random_split(
        full, [len(full) - val_size, val_size], generator=torch.Generator().manual_seed(0)
    )
    return (
        DataLoader(train_set, batch_size=batch_size, shuffle=True),
        DataLoader(val_set, batch_size=1000),
    )


def tutorial_epoch(model, optimizer, train_loader, val_loader, device) -> tuple[float, float]:
    """One epoch as tutorials write it: train, then measure validation accuracy.
    Returns the mean training loss and the validation accuracy."""
    model.train()
    running_loss = 0.0
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in val_loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    return running_loss / len(train_loader), correct / len(val_loader.dataset)
