"""The README's figures, made from code (``make figures``), never drawn by hand.

Each figure uses the same helpers and settings as the chapter it summarizes, so the README shows
what a student will see: chapter 05's with/without-dropout comparison and chapter 02's masks.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from course_utils.comparison import DROPOUT, NO_DROPOUT, Protocol, comparison_protocol, train_run
from course_utils.config import get_device


def train_with_and_without_dropout(protocol: Protocol, data, *, device=None) -> dict:
    """Chapter 05's controlled comparison, as the chapter runs it: both arms of ``protocol``
    for each of its seeds (the same initial weights and batches per seed).

    Returns ``{name: [History per seed]}``.
    """
    arms = [(NO_DROPOUT, protocol.no_dropout), (DROPOUT, protocol.rates)]
    return {name: [train_run(protocol, data, rates, seed, device=device).history
                   for seed in protocol.seeds] for name, rates in arms}


def _running_mean(values: list[float], window: int) -> list[float]:
    return [statistics.mean(values[max(0, i - window + 1): i + 1]) for i in range(len(values))]


def gap_figure(runs: dict, *, title: str, window: int = 5):
    """The train-minus-validation accuracy gap per epoch, mean ± std over seeds. Each seed's gap
    is first averaged over the last ``window`` epochs, as chapter 05 does, to tame epoch-to-epoch
    noise."""
    from course_utils.plots import plot_sweep

    epochs = range(1, runs[NO_DROPOUT][0].epochs + 1)
    mean, spread = {}, {}
    for name, histories in runs.items():
        smooth = [_running_mean(h.gap, window) for h in histories]
        per_epoch = list(zip(*smooth, strict=True))
        mean[name] = [statistics.mean(g) for g in per_epoch]
        spread[name] = [statistics.pstdev(g) for g in per_epoch]
    return plot_sweep(list(epochs), mean, errors=spread if len(runs[DROPOUT]) > 1 else None,
                      xlabel="epoch", ylabel="train − validation accuracy", title=title)


def mask_grid_figure(images, *, dataset: str, seed: int = 0):
    """Chapter 02's picture: the same images under keep-masks of growing drop rate."""
    from course_utils.plots import plot_image_grid
    from course_utils.widgets import mask_images

    rows = {f"p = {p:.1f}": mask_images(images, p, seed=seed).images
            for p in (0.0, 0.2, 0.5, 0.8)}
    return plot_image_grid(rows, title=f"Dropping pixels of {dataset} images with probability p "
                                       "(dropped pixels are black)")


def make_figures(out: str | Path = "figures", *, fast: bool | None = None, log=print) -> list[Path]:
    """Write ``with_without_dropout.png``, ``dropout_gap.png`` and ``mask_grid.png`` into
    ``out``. Full mode trains chapter 05's protocol, three seeds of each arm (about half a
    minute on a laptop CPU); fast mode its fast-mode sizes, one seed.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, also on a headless server
    import matplotlib.pyplot as plt

    from course_utils.plots import plot_history

    protocol = comparison_protocol(fast)
    device = get_device()
    data = protocol.load(device=device)
    runs = train_with_and_without_dropout(protocol, data, device=device)
    seeds = protocol.seeds
    about = (f"{data.name}, {len(data.y_train):,} training images, "
             f"{protocol.label_noise:.0%} of labels flipped")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "with_without_dropout.png": plot_history(
            {name: histories[0] for name, histories in runs.items()},
            title=f"{about}: the same MLP with and without dropout (seed {seeds[0]})"),
        "dropout_gap.png": gap_figure(
            runs, window=protocol.last,
            title=f"{about}: the generalization gap\n({protocol.last}-epoch running mean; mean ± "
                  f"std over {len(seeds)} seed{'s' if len(seeds) > 1 else ''})"),
        "mask_grid.png": mask_grid_figure(data.X_train[:8].cpu(), dataset=data.name),
    }
    written = []
    for name, figure in figures.items():
        # A fixed dpi and no software tag in the metadata keep re-runs byte-stable for git.
        figure.savefig(out / name, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(figure)
        written.append(out / name)
        log(f"wrote {out / name}")
    for name, histories in runs.items():
        gaps = [statistics.mean(h.gap[-protocol.last:]) for h in histories]
        log(f"  {name}: gap over the last {protocol.last} epochs {statistics.mean(gaps):.3f} "
            f"(per seed: {', '.join(f'{g:.3f}' for g in gaps)})")
    return written
