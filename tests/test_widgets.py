"""The mask explorer: its pure function, and the widget shell around it."""

import math
import os

import pytest
import torch

from course_utils import MaskedImages, mask_explorer, mask_images, plot_image_grid


def test_mask_images_drops_about_p_of_the_pixels():
    images = torch.rand(8, 1, 28, 28) + 0.1  # no black pixels, so zero means dropped
    for p in (0.0, 0.3, 0.7, 1.0):
        view = mask_images(images, p, seed=0)
        assert isinstance(view, MaskedImages) and view.p == p
        assert view.images.shape == images.shape
        n = images.numel()
        assert abs(view.kept_fraction - (1 - p)) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12
        assert view.kept_fraction == pytest.approx((view.images != 0).float().mean().item())
        kept = view.mask.bool()
        assert torch.equal(view.images[kept], images[kept])  # no rescaling by default


def test_mask_images_is_reproducible_and_resamples_with_the_seed():
    images = torch.rand(4, 1, 28, 28)
    a, b = mask_images(images, 0.5, seed=3), mask_images(images, 0.5, seed=3)
    assert torch.equal(a.mask, b.mask)
    assert not torch.equal(a.mask, mask_images(images, 0.5, seed=4).mask)


def test_mask_images_rescale_matches_inverted_dropout():
    images = torch.full((2, 1, 6, 6), 0.4)
    view = mask_images(images, 0.5, seed=1, rescale=True)
    kept = view.mask.bool()
    assert torch.allclose(view.images[kept], torch.tensor(0.8)) and (view.images[~kept] == 0).all()
    assert mask_images(images, 1.0, seed=1, rescale=True).images.abs().sum() == 0


def test_mask_images_rejects_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        mask_images(torch.zeros(2, 2, dtype=torch.uint8), 0.5)
    with pytest.raises(ValueError, match="drop probability"):
        mask_images(torch.rand(2, 4, 4), 1.2)
    with pytest.raises(TypeError, match="seed"):
        mask_images(torch.rand(2, 4, 4), 0.2, seed=1.5)
    with pytest.raises(ValueError, match="empty"):
        mask_images(torch.rand(0, 4, 4), 0.2)


def test_explorer_updates_readout_on_slider_and_button():
    pytest.importorskip("ipywidgets")
    images = torch.rand(3, 1, 28, 28) + 0.1
    box = mask_explorer(images, p=0.2, seed=0)
    (slider, button), readout = box.children[0].children, box.children[1]
    assert f"{mask_images(images, 0.2, seed=0).kept_fraction:.3f}" in readout.value
    slider.value = 0.9
    assert f"{mask_images(images, 0.9, seed=0).kept_fraction:.3f}" in readout.value
    button.click()
    assert "mask seed 1" in readout.value
    assert f"{mask_images(images, 0.9, seed=1).kept_fraction:.3f}" in readout.value


def test_explorer_validates_before_building():
    with pytest.raises(ValueError):
        mask_explorer(torch.rand(2, 1, 8, 8), p=-1)


def test_plot_image_grid_shapes_and_errors():
    fig = plot_image_grid({"a": torch.rand(10, 1, 8, 8), "b": torch.rand(2, 8, 8)}, max_images=4)
    assert len(fig.axes) == 8
    assert fig.axes[0].get_ylabel() == "a"
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        plot_image_grid({"a": torch.rand(8, 8)})
    with pytest.raises(TypeError):
        plot_image_grid({})


def test_runs_against_the_expected_ipywidgets():
    # `make test-ipywidgets7` sets COURSE_EXPECT_IPYWIDGETS=7.7.1 (Colab's version) and puts that
    # version first on the path; this proves the step really tested it and not the 8.x of .venv.
    import ipywidgets

    expected = os.environ.get("COURSE_EXPECT_IPYWIDGETS")
    if expected is None:
        assert int(ipywidgets.__version__.split(".")[0]) >= 7
    else:
        assert ipywidgets.__version__ == expected
