"""Figures used across the chapters. Each function returns its matplotlib Figure.

matplotlib is imported inside the functions, so ``import course_utils`` stays fast.

Every argument is checked before anything is drawn, with the wording of
:mod:`course_utils._validate`: a careless call (the whole ``axes`` array as ``ax``, a scalar
where a list of numbers goes, flattened images) gets a message naming the argument and the fix,
not a matplotlib error from deep inside the drawing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

from ._modes import eval_mode, model_device
from ._validate import boolean, module, number, positive_int, tensor
from .training import History, cannot_take, finite

# --- the checks the plots share --------------------------------------------------------------


def _shown(value: object) -> str:
    # What was given, short: "tuple ('a', 'b')" tells the student what they passed.
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _text(name: str, value: object, *, optional: bool = True) -> str | None:
    """``value`` if it is a str (or ``None`` when ``optional``): a title or an axis label.

    A stray comma turns a title into a tuple, which matplotlib would print as "('a', 'b')".
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        allowed = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {allowed}, got {_shown(value)}")
    return value


def _axes(ax: object):
    """``ax`` if it is ``None`` or one matplotlib Axes; the whole array from ``plt.subplots``
    is the usual slip."""
    if ax is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        shape = getattr(ax, "shape", None)
        of = f" of shape {tuple(shape)}" if shape is not None else ""
        raise TypeError(f"ax must be one matplotlib Axes (e.g. axes[0]), got "
                        f"{type(ax).__name__}{of}")
    return ax


def _numbers(name: str, values: object, allowed: str) -> list[float]:
    """``values`` as a list of finite floats: a list, tuple, range, or 1-D tensor or array.

    Each entry is checked with :func:`~course_utils._validate.number`, so a bad one is named
    with its position: ``series['acc'][2] must be a finite number, got nan``.
    """
    if isinstance(values, Tensor) or (hasattr(values, "ndim") and hasattr(values, "tolist")):
        if values.ndim == 0:  # one number (a 0-d tensor, a NumPy scalar), not one per x
            raise TypeError(f"{name} must be {allowed}, got {type(values).__name__} "
                            f"{values.tolist()!r}")
        if values.ndim != 1:
            raise ValueError(f"{name} must be {allowed}, got a {type(values).__name__} of "
                             f"shape {tuple(values.shape)}")
        values = (values.detach().cpu() if isinstance(values, Tensor) else values).tolist()
    elif isinstance(values, (str, bytes, Mapping, set, frozenset)) or not isinstance(
            values, Iterable):
        # A set has no order, a dict's values are not the numbers, a str is not a list.
        raise TypeError(f"{name} must be {allowed}, got {type(values).__name__}")
    return [number(f"{name}[{i}]", v) for i, v in enumerate(values)]


def _per_x(name: str, values: object, n: int, allowed: str) -> list[float]:
    """:func:`_numbers`, and exactly one per x position."""
    values = _numbers(name, values, allowed)
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} values for {n} x positions: it needs one "
                         f"per x")
    return values


def _optional_dict(name: str, value: object, shape: str, series=None) -> Mapping:
    """``value`` as a dict ({} for None): one of plot_sweep's optional ``{label: ...}``
    arguments. With ``series``, every key must be one of its labels."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be {shape} or None; got {type(value).__name__}")
    for label in value if series is not None else ():
        if label not in series:
            raise ValueError(f"{name} has a key {label!r} that is not in series {list(series)}")
    return value


def _image_batch(name: str, images: object) -> Tensor:
    """``images`` as an ``(N, H, W)`` batch if it is a non-empty, finite batch of grayscale
    images shaped ``(N, 1, H, W)`` or ``(N, H, W)`` with floating-point (or bool) pixels.

    The message for a wrong shape says how to fix the usual ones: flattened images
    (``(N, 784)``), a single image, colour or multi-channel images.
    """
    if not isinstance(images, Tensor):
        fix = (": stack them first, torch.stack(images)" if isinstance(images, (list, tuple))
               else "")
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}{fix}")
    shape = tuple(images.shape)
    batch = images[:, 0] if images.dim() == 4 and shape[1] == 1 else images
    if batch.dim() != 3:
        raise ValueError(f"{name} must be (N, 1, H, W) or (N, H, W), got {shape}"
                         f"{_shape_hint(shape)}")
    if batch.numel() == 0:
        raise ValueError(f"{name} is empty, shape {shape}: there are no images to draw")
    if not (images.is_floating_point() or images.dtype == torch.bool):
        raise TypeError(
            f"{name} must be a floating-point tensor of pixel values, got dtype {images.dtype}; "
            f"convert it first, e.g. images.float() / 255 for pixels in 0..255 (pixels are "
            f"drawn on a fixed scale, [0, 1] by default, where 1 and above is white)")
    finite(name, images)
    return batch


def _shape_hint(shape: tuple[int, ...]) -> str:
    side = math.isqrt(shape[-1]) if shape and shape[-1] > 0 else 0
    flattened = side >= 8 and side * side == shape[-1]  # 784 = 28 * 28; not a 3 x 3 toy
    if len(shape) == 2 and flattened:
        return f": reshape with images.view(-1, 1, {side}, {side})"
    if len(shape) == 1 and flattened:
        return f": for one flattened image, reshape with images.view(1, 1, {side}, {side})"
    if len(shape) == 2:
        return ": for one image (H, W), add the batch dimension with images[None]"
    if len(shape) == 4:
        return (f": these have {shape[1]} channels and the images are drawn in grayscale; "
                f"take one channel, images[:, :1], or their mean, images.mean(1)")
    return ""


# --- the plots -------------------------------------------------------------------------------


# Each run gets its own line style and marker as well as its own colour, so that the lines stay
# apart in greyscale, on a washed-out projector and for a colour-blind reader.
LINE_STYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++"]  # for filled areas: bars, class regions


def series_style(i: int) -> dict:
    """Colour, line style and marker of the ``i``-th series of a figure: the course's figures
    draw series ``i`` the same way, so "dropout" looks alike in every panel.

    >>> series_style(1)
    {'color': 'C1', 'linestyle': '--', 'marker': 's'}
    """
    return {"color": f"C{i % 10}", "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def _runs(label: str, value: object) -> list[History]:
    """One History, or the Histories of several seeds of one configuration, as a list."""
    several = isinstance(value, (list, tuple))
    runs = list(value) if several else [value]
    if not runs:
        raise ValueError(f"histories[{label!r}] is an empty list: give one History per seed")
    for k, h in enumerate(runs):
        where = f"histories[{label!r}]" + (f"[{k}]" if several else "")
        if not isinstance(h, History):
            fix = (": fit returns the History; pass that, not the model"
                   if isinstance(h, nn.Module) else "")
            raise TypeError(f"{where} is a {type(h).__name__}, not a History{fix}")
        if h.epochs == 0:
            raise ValueError(f"{where} has no epochs to plot")
    if len({h.epochs for h in runs}) > 1:
        raise ValueError(f"histories[{label!r}] holds runs of different lengths "
                         f"{sorted({h.epochs for h in runs})} epochs: the seeds of one "
                         f"configuration must train for the same number of epochs")
    return runs


def plot_seed_curves(ax, x: Sequence[float], runs: Sequence[Sequence[float]], *, label: str,
                     style: int = 0, **line) -> list[float]:
    """The mean over seeds of one configuration's curves, drawn in ``series_style(style)``, and
    a band from the lowest to the highest seed when there are several. ``runs`` holds one curve
    (a list of numbers, one per ``x``) per seed; ``line`` overrides the line's look, e.g.
    ``markevery=5``. Returns the mean curve.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> plot_seed_curves(ax, [1, 2], [[1.0, 0.5], [0.8, 0.3]], label="dropout")
    [0.9, 0.4]
    """
    if ax is None:  # the curves go into a figure the caller lays out
        raise TypeError("ax must be one matplotlib Axes (e.g. axes[0]), got None")
    _axes(ax)
    x = _numbers("x", x, "a list of numbers, the x positions")
    if isinstance(runs, (str, bytes, Mapping)) or not isinstance(runs, Iterable):
        raise TypeError(f"runs must be a list of curves, one per seed, got {type(runs).__name__}")
    runs = [_per_x(f"runs[{k}]", curve, len(x), "a list of numbers, one per x")
            for k, curve in enumerate(runs)]
    if not runs:
        raise ValueError("runs is empty: give one curve per seed")
    _text("label", label, optional=False)
    values = torch.tensor(runs, dtype=torch.float64)
    mean = values.mean(dim=0).tolist()
    look = {**series_style(style), **line}
    ax.plot(x, mean, label=label, **look)
    if len(runs) > 1:
        ax.fill_between(x, values.min(dim=0).values.tolist(), values.max(dim=0).values.tolist(),
                        color=look["color"], alpha=0.2, linewidth=0)
    return mean


def plot_history(histories: Mapping[str, History | Sequence[History]] | History, *,
                 title: str | None = None, mark_best: bool = False):
    """The 2×2 grid of training curves: train loss, validation loss, train accuracy, validation
    accuracy, with one line per run in the same colour, line style and marker in all four panels.

    A value may be one History or a list of them, the seeds of one configuration: the line is
    then their mean and a band spans the lowest to the highest seed, so a difference between
    configurations can be judged against the seeds' spread. ``mark_best`` marks, on each line,
    the epoch with the lowest validation loss (of the mean, for several seeds) with a star.
    Shared y-axes within each row make "which run fits the training data better, which one
    generalizes better" readable at a glance.

    >>> h = History([1.0, 0.5], [0.6, 0.8], [1.1, 0.9], [0.5, 0.7], [0.1, 0.1])
    >>> fig = plot_history({"no dropout": h, "dropout": [h, h]}, mark_best=True)
    >>> len(fig.axes)
    4
    """
    if isinstance(histories, History):
        histories = {"run": histories}
    if not isinstance(histories, Mapping) or not histories:
        got = "an empty dict" if isinstance(histories, Mapping) else type(histories).__name__
        raise TypeError(f"histories must be a History or a non-empty dict {{label: History}} "
                        f"(or {{label: [History per seed]}}), got {got}")
    runs = {label: _runs(label, value) for label, value in histories.items()}
    _text("title", title)
    mark_best = boolean("mark_best", mark_best)

    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, sharey="row")
    panels = [
        (axes[0, 0], "train_loss", "training loss"),
        (axes[0, 1], "val_loss", "validation loss"),
        (axes[1, 0], "train_acc", "training accuracy"),
        (axes[1, 1], "val_acc", "validation accuracy"),
    ]
    spread = False
    for i, (label, seeds) in enumerate(runs.items()):
        n = seeds[0].epochs
        epochs = list(range(1, n + 1))
        color = series_style(i)["color"]
        # About ten markers per line: enough to tell the lines apart, not so many they blur.
        markevery = max(1, n // 10)
        name = label if len(seeds) == 1 else f"{label} (mean of {len(seeds)} seeds)"
        best = None
        if mark_best:
            val = torch.tensor([h.val_loss for h in seeds]).mean(dim=0)
            best = int(val.argmin()) + 1
        spread = spread or len(seeds) > 1
        for ax, key, _ in panels:
            mean = plot_seed_curves(ax, epochs, [getattr(h, key) for h in seeds], label=name,
                                    style=i, linewidth=1.8, markersize=4, markevery=markevery)
            if best is not None and key.startswith("val"):
                ax.plot(best, mean[best - 1], marker="*", markersize=14, color=color,
                        markeredgecolor="black", linestyle="none",
                        label="lowest validation loss" if i == 0 else None)
    for ax, _, name in panels:
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("cross-entropy")
    axes[1, 0].set_ylabel("accuracy")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 2.5"
    axes[0, 1].legend(loc="best", fontsize="small")
    if title or spread:
        band = "shaded: lowest to highest seed" if spread else ""
        fig.suptitle("\n".join(t for t in (title, band) if t))
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
    Pass ``ax`` (one Axes, e.g. ``axes[0]``) to draw several boundaries side by side. ``y``
    holds class indices 0, 1, ... in any dtype. NaN points, and a model that cannot take
    2-feature points (one built for images), are refused with the messages ``fit`` gives.

    >>> model = nn.Linear(2, 2)
    >>> X, y = torch.randn(20, 2), torch.randint(0, 2, (20,))
    >>> fig = plot_decision_boundary(model, X, y, title="a linear model")
    >>> fig.axes[0].get_title()
    'a linear model'
    """
    module("model", model)
    if tensor("X", X).dim() != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be a tensor of 2-D points, shape (N, 2); got {tuple(X.shape)} "
                         f"(the plot colours a plane, so it draws 2-feature data such as "
                         f"load_dataset('moons'))")
    if len(X) == 0:
        raise ValueError("X is empty: there are no points to plot")
    if tensor("y", y).dim() != 1:
        raise ValueError(f"y must hold one class index per point, a 1-D tensor; got shape "
                         f"{tuple(y.shape)} (for one-hot labels, pass y.argmax(1))")
    if len(y) != len(X):
        raise ValueError(f"y must be a tensor with one label per point in X: {len(X)} points but "
                         f"{len(y)} labels")
    labels = y.detach().cpu()
    bad = labels < 0
    if labels.is_floating_point():  # 0.0 and 1.0 are classes; 0.5 and NaN are not
        bad |= labels.isnan() | (labels != labels.round())
    if bad.any():
        raise ValueError(f"y must hold class indices 0, 1, 2, ..., got {labels[bad][0].item()!r}")
    finite("X", X)
    positive_int("resolution", resolution, minimum=2)
    margin = number("margin", margin, low=0.0, high=None)
    _text("title", title)
    _axes(ax)

    points = X.detach().cpu().float()
    lo = points.min(dim=0).values - margin
    hi = points.max(dim=0).values + margin
    for i, coordinate in enumerate(("first", "second")):
        if lo[i] == hi[i]:
            raise ValueError(f"every point in X has the same {coordinate} coordinate and margin "
                             f"is 0: there is no area to colour; pass margin > 0, e.g. 0.5")
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)

    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    grid_in = grid.to(device=model_device(model), dtype=dtype)
    with eval_mode(model):
        # Two points first: a model for other inputs (784 pixels) is named as such, with the
        # shapes of two points rather than of the whole grid.
        try:
            model(grid_in[:2])
        except RuntimeError as err:
            raise ValueError(f"{cannot_take(X, err)}; plot_decision_boundary needs a model that "
                             f"takes 2-feature points, such as one trained on "
                             f"load_dataset('moons')") from err
        logits = model(grid_in)
    if not isinstance(logits, Tensor):
        raise TypeError(f"the model returned a {type(logits).__name__}; the plot needs its "
                        f"logits, one tensor of shape (N, classes)")
    if logits.dim() != 2 or logits.shape[1] < 2:
        raise ValueError(
            f"the model gives outputs of shape {tuple(logits.shape[1:])} per point; the plot "
            "colours the class with the largest logit, so it needs one logit per class, shape "
            "(N, classes) with 2 or more. For a one-logit model (BCE), z = model(x), plot a "
            "module whose forward returns torch.cat([-z, z], dim=1): its largest logit is "
            "class 1 exactly where z > 0")
    pred = logits.argmax(dim=1).cpu()

    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4.2))
    else:
        fig = ax.figure
    num_classes = int(max(int(labels.max()), int(pred.max())) + 1)
    cmap = plt.get_cmap("coolwarm" if num_classes == 2 else "tab10")
    # One filled band per class: boundaries halfway between the integer class ids.
    levels = [k - 0.5 for k in range(num_classes + 1)]
    # Hatches and markers as well as hues: the classes stay apart in greyscale.
    ax.contourf(
        gx.numpy(), gy.numpy(), pred.reshape(gx.shape).numpy(),
        levels=levels, cmap=cmap, alpha=0.25, vmin=0, vmax=num_classes - 1,
        hatches=[HATCHES[k % len(HATCHES)] for k in range(num_classes)],
    )
    for k in range(num_classes):
        mine = labels == k
        if mine.any():
            ax.scatter(points[mine, 0], points[mine, 1], color=cmap(k / max(1, num_classes - 1)),
                       marker=MARKERS[k % len(MARKERS)], s=22, edgecolors="k", linewidths=0.5,
                       label=f"class {k}")
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
    colors: Mapping[str, str] | None = None,
    theory: Mapping[str, Sequence[float]] | None = None,
    ax=None,
):
    """Line plot of one or more measured quantities against a swept setting, with markers.

    ``errors`` (same keys as ``series``) draws error bars, e.g. a standard deviation over seeds
    or a standard error. ``colors`` (some keys of ``series``) overrides a line's colour, for a
    chapter whose own colours already mean something else. ``theory`` adds curves drawn as
    dashed black lines without markers, on top of the measurements, so that a measurement lying
    on its theory hides neither. ``x`` and every list of values may be a list, a tuple or a 1-D tensor
    or array of numbers; with ``logx`` every ``x`` must be > 0. An ``x`` out of order warns:
    each line joins its points in the order given.

    >>> fig = plot_sweep([10, 100, 1000], {"gap": [0.3, 0.2, 0.05]},
    ...                  xlabel="training examples", ylabel="accuracy", logx=True)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    x = _numbers("x", x, "a list of numbers, the swept values")
    if not x:
        raise ValueError("x is empty: nothing to plot")
    n = len(x)
    one_per_x = f"a list of numbers, one per x ({n} x value{'s' * (n != 1)})"
    if not isinstance(series, Mapping) or not series:
        got = "an empty dict" if isinstance(series, Mapping) else type(series).__name__
        raise TypeError(f"series must be a non-empty dict {{label: list of numbers}}, e.g. "
                        f"{{'accuracy': values}}, got {got}")
    series = {label: _per_x(f"series[{label!r}]", values, n, one_per_x)
              for label, values in series.items()}
    errors = _optional_dict("errors", errors, "a dict like series, {name: list of numbers},", series)
    errors = {label: _per_x(f"errors[{label!r}]", values, n, one_per_x)
              for label, values in errors.items()}
    for label, values in errors.items():
        for i, e in enumerate(values):
            if e < 0:
                raise ValueError(f"errors[{label!r}] must be >= 0 (an error bar is a length, such "
                                 f"as a standard deviation), got {e!r} at position {i}")
    theory = _optional_dict("theory", theory, "a dict {name: list of numbers}")
    theory = {label: _per_x(f"theory[{label!r}]", values, n, one_per_x)
              for label, values in theory.items()}
    colors = _optional_dict("colors", colors, "a dict {name: matplotlib colour}", series)
    for label, color in colors.items():
        _text(f"colors[{label!r}]", color, optional=False)
    _text("xlabel", xlabel, optional=False)
    _text("ylabel", ylabel, optional=False)
    _text("title", title)
    if boolean("logx", logx) and min(x) <= 0:
        raise ValueError(f"logx needs every x > 0, got {min(x)!r}: a log axis cannot show it; "
                         f"drop that point or pass logx=False")
    _axes(ax)
    steps = [b - a for a, b in zip(x, x[1:], strict=False)]
    if not (all(d > 0 for d in steps) or all(d < 0 for d in steps)):
        warnings.warn(f"x = {x} is not in increasing (or decreasing) order, or repeats a value: "
                      f"each line joins its points in the order given, so it doubles back; "
                      f"sort x and each series together", stacklevel=2)

    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for i, (label, values) in enumerate(series.items()):
        style = series_style(i)
        style["color"] = colors.get(label, style["color"])
        if label in errors:
            ax.errorbar(x, values, yerr=errors[label], label=label, capsize=4, elinewidth=1.5,
                        **style)
        else:
            ax.plot(x, values, label=label, **style)
    for k, (label, values) in enumerate(theory.items()):
        ax.plot(x, values, color="black", linestyle=["--", ":", "-."][k % 3], linewidth=1.5,
                label=label, zorder=3)
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


def plot_bars(
    values: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    ylabel: str,
    title: str | None = None,
    ax=None,
):
    """Grouped bars of a measurement repeated over seeds: the bar is the mean, each dot one seed.

    ``values`` maps each group on the x-axis to ``{series: one number per seed}``; every group
    holds the same series, drawn in the same colour and hatch everywhere, so the bars read in
    greyscale. The dots show the spread a difference must be judged against.

    >>> fig = plot_bars({"accuracy": {"scaled": [0.85, 0.86], "forgotten": [0.85, 0.85]},
    ...                  "confidence": {"scaled": [0.85, 0.86], "forgotten": [0.94, 0.95]}},
    ...                 ylabel="test set, mean over images")
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['accuracy', 'confidence']
    """
    if not isinstance(values, Mapping) or not values:
        got = "an empty dict" if isinstance(values, Mapping) else type(values).__name__
        raise TypeError(f"values must be a non-empty dict {{group: {{series: values per seed}}}}, "
                        f"got {got}")
    series = None
    table = {}
    for group, row in values.items():
        if not isinstance(row, Mapping) or not row:
            raise TypeError(f"values[{group!r}] must be a non-empty dict {{series: values per "
                            f"seed}}, got {type(row).__name__}")
        if series is None:
            series = list(row)
        elif list(row) != series:
            raise ValueError(f"values[{group!r}] has the series {list(row)}, the first group "
                             f"{series}: every group needs the same series, in the same order")
        table[group] = {}
        for label, numbers in row.items():
            numbers = _numbers(f"values[{group!r}][{label!r}]", numbers,
                               "a list of numbers, one per seed")
            if not numbers:
                raise ValueError(f"values[{group!r}][{label!r}] is empty: give one number per "
                                 f"seed")
            table[group][label] = numbers
    _text("ylabel", ylabel, optional=False)
    _text("title", title)
    _axes(ax)

    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(2 + 2 * len(table) * max(1, len(series) / 2), 4))
    else:
        fig = ax.figure
    width = 0.8 / len(series)
    for j, label in enumerate(series):
        style = series_style(j)
        xs = [g + (j - (len(series) - 1) / 2) * width for g in range(len(table))]
        means = [sum(row[label]) / len(row[label]) for row in table.values()]
        ax.bar(xs, means, width=width * 0.95, color=style["color"], alpha=0.55,
               hatch=HATCHES[j % len(HATCHES)], edgecolor="black", linewidth=0.8, label=label)
        for x, row in zip(xs, table.values(), strict=True):
            ax.plot([x] * len(row[label]), row[label], linestyle="none", marker=style["marker"],
                    color="black", markersize=4)
    ax.set_xticks(range(len(table)), list(table))
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    n = max(len(v) for row in table.values() for v in row.values())
    ax.legend(loc="best", fontsize="small",
              title=f"bar: mean; dots: {n} seeds" if n > 1 else None, title_fontsize="small")
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
    pixel is black in every row, a value above ``vmax`` is white). Pixels must be floating-point
    (or bool): integer images such as 0..255 ``uint8`` are refused with a hint
    (``images.float() / 255``), since on the fixed scale every nonzero pixel would be white.

    >>> fig = plot_image_grid({"original": torch.rand(3, 1, 8, 8), "noisy": torch.rand(3, 8, 8)})
    >>> len(fig.axes)
    6
    """
    if not isinstance(rows, Mapping) or not rows:
        got = "an empty dict" if isinstance(rows, Mapping) else type(rows).__name__
        fix = "; for one batch, pass {'images': images}" if isinstance(rows, Tensor) else ""
        raise TypeError(f"rows must be a non-empty dict {{label: images}}, got {got}{fix}")
    positive_int("max_images", max_images)
    vmin = number("vmin", vmin, high=None)
    vmax = number("vmax", vmax, high=None)
    if vmin >= vmax:
        raise ValueError(f"vmin must be < vmax (the darkest and the brightest value shown), got "
                         f"vmin={vmin!r} and vmax={vmax!r}")
    _text("title", title)
    batches = {}
    for label, images in rows.items():
        images = _image_batch(f"rows[{label!r}]", images)
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
