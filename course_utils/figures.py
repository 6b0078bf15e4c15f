"""The README's figures, made from code (``make figures``), never drawn by hand.

Each figure uses the same helpers and settings as the chapter it summarizes, so the README shows
what a student will see: chapter 05's with/without-dropout comparison and chapter 02's masks.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from .config import fast_mode, get_device, set_seed

NO_DROPOUT, DROPOUT = "no dropout", "dropout 0.5/0.5"


def train_with_and_without_dropout(data, *, epochs: int, seeds, device=None) -> dict:
    """Chapter 05's controlled comparison: the 784-256-256-10 MLP without dropout and with 0.5
    after each hidden layer, the same initial weights and batches per seed, SGD at 0.1.

    Returns ``{name: [History per seed]}``.
    """
    from .models import mlp
    from .training import fit

    runs = {NO_DROPOUT: [], DROPOUT: []}
    for seed in seeds:
        for name, rates in [(NO_DROPOUT, [0.0, 0.0]), (DROPOUT, [0.5, 0.5])]:
            set_seed(seed)  # the same initial weights for both networks
            model = mlp(data.input_shape, [256, 256], data.num_classes, dropout=rates)
            runs[name].append(fit(model, data, epochs=epochs, lr=0.1, batch_size=32, seed=seed,
                                  device=device, progress=False))
    return runs


def _running_mean(values: list[float], window: int) -> list[float]:
    return [statistics.mean(values[max(0, i - window + 1): i + 1]) for i in range(len(values))]


def gap_figure(runs: dict, *, title: str, window: int = 5):
    """The train-minus-validation accuracy gap per epoch, mean ± std over seeds. Each seed's gap
    is first averaged over the last ``window`` epochs, as chapter 05 does, to tame SGD noise."""
    from .plots import plot_sweep

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
    from .plots import plot_image_grid
    from .widgets import mask_images

    rows = {f"p = {p:.1f}": mask_images(images, p, seed=seed).images
            for p in (0.0, 0.2, 0.5, 0.8)}
    return plot_image_grid(rows, title=f"Dropping pixels of {dataset} images with probability p "
                                       "(dropped pixels are black)")


def make_figures(out: str | Path = "figures", *, fast: bool | None = None, log=print) -> list[Path]:
    """Write ``with_without_dropout.png``, ``dropout_gap.png`` and ``mask_grid.png`` into
    ``out``. Full mode trains three seeds (about half a minute on a laptop CPU); fast mode one
    seed for a quarter of the epochs.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, also on a headless server
    import matplotlib.pyplot as plt

    from .data import load_dataset
    from .plots import plot_history

    fast = fast_mode() if fast is None else fast
    device = get_device()
    data = load_dataset("fashion-mnist", train_size=2000 if fast else 10_000, seed=0,
                        device=device)
    # Chapter 05's budget: about 1,400 updates on the 1,137 offline digits, 4,700 online.
    epochs = (40 if data.name == "digits" else 15) // (4 if fast else 1)
    seeds = [0] if fast else [0, 1, 2]
    runs = train_with_and_without_dropout(data, epochs=epochs, seeds=seeds, device=device)
    about = f"{data.name}, {len(data.y_train)} training images"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "with_without_dropout.png": plot_history(
            {name: histories[0] for name, histories in runs.items()},
            title=f"{about}: the same MLP with and without dropout (seed {seeds[0]})"),
        "dropout_gap.png": gap_figure(
            runs, title=f"{about}: the generalization gap\n(5-epoch running mean; mean ± std over "
                       f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''})"),
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
        gaps = [statistics.mean(h.gap[-5:]) for h in histories]
        log(f"  {name}: gap over the last 5 epochs {statistics.mean(gaps):.3f} "
            f"(per seed: {', '.join(f'{g:.3f}' for g in gaps)})")
    return written
