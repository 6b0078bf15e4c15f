"""Interactive explorers for the notebooks.

Each explorer is a thin ipywidgets shell over a pure function that the tests call directly, so
the numbers a student sees while dragging a slider are the numbers the tests check. ipywidgets
is imported only when an explorer is built; the code works with ipywidgets 7.7.1 (Colab) and 8.x.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ._validate import boolean, check_p, positive_int, tensor
from ._validate import seed as check_seed
from .dropout import bernoulli_mask
from .plots import _image_batch


@dataclass(frozen=True)
class MaskedImages:
    """What the mask explorer shows for one setting of the slider."""

    images: Tensor  # the masked images: dropped pixels are 0, kept ones unchanged (or rescaled)
    mask: Tensor  # the keep-mask, 1 = kept
    p: float
    kept_fraction: float  # measured share of ones in the mask; about 1 - p


def mask_images(images: Tensor, p: float, *, seed: int = 0, rescale: bool = False) -> MaskedImages:
    """Drop each pixel of ``images`` with probability ``p``, with a mask drawn from ``seed``.

    The pure computation behind :func:`mask_explorer`. With ``rescale=True`` the kept pixels are
    divided by ``1 - p``, as inverted dropout does (a plot with a fixed colour scale then clips
    them to white).

    >>> view = mask_images(torch.ones(2, 1, 4, 4), 0.25, seed=0)
    >>> view.images.shape, round(view.kept_fraction, 3)
    (torch.Size([2, 1, 4, 4]), 0.781)
    """
    tensor("images", images, floating=True)
    if images.numel() == 0:
        raise ValueError("images is empty: pass at least one image")
    p = check_p(p)
    seed = check_seed("seed", seed)
    boolean("rescale", rescale)
    generator = torch.Generator(device=images.device).manual_seed(seed)
    mask = bernoulli_mask(images, p, generator=generator)
    masked = images * mask
    if rescale and p < 1.0:
        masked = masked / (1.0 - p)
    return MaskedImages(masked, mask, p, mask.mean().item())


def mask_explorer(images: Tensor, *, p: float = 0.5, seed: int = 0, max_images: int = 8):
    """A slider for the drop probability ``p`` and a "resample" button that draws a new mask,
    redrawing the masked images and the measured kept fraction. Returns the widget; display it
    by leaving it as the last expression of a cell.

    ``images`` is a batch of grayscale images, ``(N, 1, H, W)`` or ``(N, H, W)``, with
    floating-point pixels in [0, 1]; every argument is checked before any widget is built.

    >>> box = mask_explorer(torch.rand(4, 1, 28, 28), p=0.3)  # doctest: +SKIP
    """
    # Checked here, before any widget or import, and the images first: a flattened batch is
    # named as `images`, not as the row label the figure would give it.
    _image_batch("images", images)
    images = images[:positive_int("max_images", max_images)]
    p = check_p(p)  # a plain float for the slider, even from torch.tensor(0.5)
    seed = check_seed("seed", seed)
    mask_images(images, p, seed=seed)  # the remaining checks: floating-point pixels

    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .plots import plot_image_grid

    slider = widgets.FloatSlider(
        value=p, min=0.0, max=1.0, step=0.05, description="p (drop)",
        continuous_update=False, readout_format=".2f",
    )
    button = widgets.Button(description="resample", tooltip="draw a new mask")
    readout = widgets.HTML()
    canvas = widgets.Output()
    state = {"seed": seed}

    def redraw(*_):
        view = mask_images(images, slider.value, seed=state["seed"])
        readout.value = (
            f"kept fraction: <b>{view.kept_fraction:.3f}</b> "
            f"(expected 1 − p = {1 - view.p:.2f}; mask seed {state['seed']})"
        )
        with canvas:
            canvas.clear_output(wait=True)
            fig = plot_image_grid({f"p = {view.p:.2f}": view.images}, max_images=max_images)
            display(fig)
            plt.close(fig)  # shown once inside the widget, not again by the inline backend

    def resample(_button):
        state["seed"] = (state["seed"] + 1) % 2**32  # the seed range: 2**32 - 1 wraps to 0
        redraw()

    slider.observe(redraw, names="value")
    button.on_click(resample)
    redraw()
    return widgets.VBox([widgets.HBox([slider, button]), readout, canvas])
