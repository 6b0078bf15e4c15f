"""Figures used across the chapters. Each function returns its matplotlib Figure.

matplotlib is imported inside the functions, so ``import course_utils`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from ._modes import eval_mode, model_device
from ._validate import module, number, positive_int, tensor
from .training import History


def plot_history(histories: Mapping[str, History] | History, *, title: str | None = None):
    """The 2×2 grid of training curves: train loss, validation loss, train accuracy, validation
    accuracy, with one line per run in the same colour in all four panels.

    Shared y-axes within each row make "which run fits the training data better, which one
    generalizes better" readable at a glance.

    >>> h = History([1.0, 0.5], [0.6, 0.8], [1.1, 0.9], [0.5, 0.7], [0.1, 0.1])
    >>> fig = plot_history({"no dropout": h})
    >>> len(fig.axes)
    4
    """
    if isinstance(histories, History):
        histories = {"run": histories}
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("histories must be a History or a non-empty dict {label: History}")
    for label, h in histories.items():
        if not isinstance(h, History):
            raise TypeError(f"histories[{label!r}] is a {type(h).__name__}, not a History")
        if h.epochs == 0:
            raise ValueError(f"histories[{label!r}] has no epochs to plot")

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, sharey="row")
    panels = [
        (axes[0, 0], "train_loss", "training loss"),
        (axes[0, 1], "val_loss", "validation loss"),
        (axes[1, 0], "train_acc", "training accuracy"),
        (axes[1, 1], "val_acc", "validation accuracy"),
    ]
    for i, (label, h) in enumerate(histories.items()):
        epochs = range(1, h.epochs + 1)
        for ax, key, _ in panels:
            ax.plot(epochs, getattr(h, key), color=f"C{i}", label=label, linewidth=1.8)
    for ax, _, name in panels:
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("cross-entropy")
    axes[1, 0].set_ylabel("accuracy")
    from matplotlib.ticker import MaxNLocator

    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 2.5"
    axes[0, 1].legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@torch.no_grad()
def plot_decision_boundary(
    model: nn.Module,
    X: Tensor,
    y: Tensor,
    *,
    ax=None,
    title: str | None = None,
    resolution: int = 200,
    margin: float = 0.5,
):
    """Colour the plane by the class ``model`` predicts, and scatter the 2-D points ``(X, y)`` on top.

    The model runs in eval mode (dropout off) and is given back in the mode it was in.
    Pass ``ax`` to draw several boundaries side by side.

    >>> model = nn.Linear(2, 2)
    >>> X, y = torch.randn(20, 2), torch.randint(0, 2, (20,))
    >>> fig = plot_decision_boundary(model, X, y, title="a linear model")
    >>> fig.axes[0].get_title()
    'a linear model'
    """
    module("model", model)
    if tensor("X", X).dim() != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be a tensor of 2-D points, shape (N, 2); got {tuple(X.shape)}")
    if len(X) == 0:
        raise ValueError("X is empty: there are no points to plot")
    if len(tensor("y", y)) != len(X):
        raise ValueError("y must be a tensor with one label per point in X")
    positive_int("resolution", resolution, minimum=2)
    margin = number("margin", margin, low=0.0, high=None)

    import matplotlib.pyplot as plt

    points = X.detach().cpu().float()
    labels = y.detach().cpu()
    lo = points.min(dim=0).values - margin
    hi = points.max(dim=0).values + margin
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)

    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    with eval_mode(model):
        logits = model(grid.to(device=model_device(model), dtype=dtype))
    if logits.dim() != 2 or logits.shape[1] < 2:
        raise ValueError(
            f"the model gives outputs of shape {tuple(logits.shape[1:])} per point; the plot "
            "colours the class with the largest logit, so it needs one logit per class, shape "
            "(N, classes) with 2 or more. For a one-logit model (BCE), z = model(x), plot a "
            "module whose forward returns torch.cat([-z, z], dim=1): its largest logit is "
            "class 1 exactly where z > 0")
    pred = logits.argmax(dim=1).cpu()

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4.2))
    else:
        fig = ax.figure
    num_classes = int(max(int(labels.max()), int(pred.max())) + 1)
    cmap = plt.get_cmap("coolwarm" if num_classes == 2 else "tab10")
    # One filled band per class: boundaries halfway between the integer class ids.
    levels = [k - 0.5 for k in range(num_classes + 1)]
    ax.contourf(
        gx.numpy(), gy.numpy(), pred.reshape(gx.shape).numpy(),
        levels=levels, cmap=cmap, alpha=0.25, vmin=0, vmax=num_classes - 1,
    )
    ax.scatter(points[:, 0], points[:, 1], c=labels.numpy(), cmap=cmap, vmin=0,
               vmax=num_classes - 1, s=18, edgecolors="k", linewidths=0.4)
    ax.set_xlim(float(lo[0]), float(hi[0]))
    ax.set_ylim(float(lo[1]), float(hi[1]))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig


def plot_sweep(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    logx: bool = False,
    errors: Mapping[str, Sequence[float]] | None = None,
    ax=None,
):
    """Line plot of one or more measured quantities against a swept setting, with markers.

    ``errors`` (same keys as ``series``) draws error bars, e.g. a standard deviation over seeds
    or a standard error.

    >>> fig = plot_sweep([10, 100, 1000], {"gap": [0.3, 0.2, 0.05]},
    ...                  xlabel="training examples", ylabel="accuracy", logx=True)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    x = list(x)
    if not x:
        raise ValueError("x is empty: nothing to plot")
    if not isinstance(series, Mapping) or not series:
        raise TypeError("series must be a non-empty dict {label: values}")
    for label, values in series.items():
        if len(values) != len(x):
            raise ValueError(f"series {label!r} has {len(values)} values for {len(x)} x positions")
    errors = dict(errors or {})
    for label, values in errors.items():
        if label not in series:
            raise ValueError(f"errors has a key {label!r} that is not in series {list(series)}")
        if len(values) != len(x):
            raise ValueError(f"errors {label!r} has {len(values)} values for {len(x)} x positions")

    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for i, (label, values) in enumerate(series.items()):
        if label in errors:
            ax.errorbar(x, list(values), yerr=list(errors[label]), marker="o", color=f"C{i}",
                        label=label, capsize=3)
        else:
            ax.plot(x, list(values), marker="o", color=f"C{i}", label=label)
    if logx:
        ax.set_xscale("log")
        # Label the swept values themselves rather than powers of ten.
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def plot_image_grid(
    rows: Mapping[str, Tensor],
    *,
    max_images: int = 8,
    title: str | None = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
):
    """Grayscale images, one labelled row per entry of ``rows``: e.g. the same images under
    masks of several drop rates.

    Each value is a batch shaped ``(N, 1, H, W)`` or ``(N, H, W)``; the first ``max_images`` are
    drawn. Values are shown on a fixed ``[vmin, vmax]`` scale so rows stay comparable (a dropped
    pixel is black in every row).

    >>> fig = plot_image_grid({"original": torch.rand(3, 1, 8, 8), "noisy": torch.rand(3, 8, 8)})
    >>> len(fig.axes)
    6
    """
    if not isinstance(rows, Mapping) or not rows:
        raise TypeError("rows must be a non-empty dict {label: images}")
    positive_int("max_images", max_images)
    batches = {}
    for label, images in rows.items():
        if not isinstance(images, Tensor):
            raise TypeError(f"rows[{label!r}] is a {type(images).__name__}, not a tensor")
        if images.dim() == 4 and images.shape[1] == 1:
            images = images[:, 0]
        if images.dim() != 3 or len(images) == 0:
            raise ValueError(
                f"rows[{label!r}] must be a non-empty batch shaped (N, 1, H, W) or (N, H, W), "
                f"got {tuple(images.shape)}"
            )
        batches[label] = images[:max_images].detach().float().cpu()

    import matplotlib.pyplot as plt

    ncols = max(len(b) for b in batches.values())
    fig, axes = plt.subplots(
        len(batches), ncols, figsize=(1.3 * ncols + 1.2, 1.4 * len(batches) + 0.4), squeeze=False
    )
    for r, (label, images) in enumerate(batches.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images):
                ax.imshow(images[c].numpy(), cmap="gray", vmin=vmin, vmax=vmax)
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
