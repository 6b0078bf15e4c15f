"""course_utils: the helper package of the hands-on course "Dropout in PyTorch".

One module per lesson (``dropout``, ``dropconnect``, ``mc_dropout``, ``comparison``,
``attention``, ``drop_path``, the
``checks`` package) and per helper (``data``, ``training``, ``models``, ``plots``, ``widgets``,
``config``, ``timing``, ``stubs``); ``_validate`` and ``_modes`` hold the argument checks and the train/eval
handling they share. The instructor tools live beside it, in ``course_tools``. This file
re-exports the public API the notebooks use::

    from course_utils import set_seed, get_device, load_dataset, fit, plot_history

Importing it has no side effects: it seeds nothing, downloads nothing, and leaves torchvision,
scikit-learn, matplotlib and tqdm unimported until a function needs them.
"""

from .attention import attention
from .checks import (
    Checklist,
    CheckResult,
    check_attention_dropout,
    check_drop_path,
    check_dropconnect,
    check_dropout_layer,
)
from .config import data_dir, fast_mode, get_device, set_seed, set_threads
from .data import (
    DATASET_NAMES,
    Dataset,
    DatasetFallbackWarning,
    DatasetUnavailableError,
    load_dataset,
)
from .drop_path import DropPath, Residual, drop_path, linear_drop_rates
from .dropconnect import DropConnectLinear
from .dropout import (
    Dropout,
    StandardDropout,
    bernoulli_mask,
    check_p,
    dropout_layer,
    standard_dropout,
)
from .mc_dropout import MCPrediction, mc_predict
from .models import CNN_SLOTS, mlp, small_cnn
from .plots import (
    plot_bars,
    plot_decision_boundary,
    plot_history,
    plot_image_grid,
    plot_seed_curves,
    plot_sweep,
    series_style,
)
from .stubs import short_stub_errors
from .timing import seconds_per_call
from .training import History, batches, evaluate, fit
from .widgets import MaskedImages, mask_explorer, mask_images

__version__ = "0.3.0"  # = pyproject.toml's version; the release tag is v0.3.0

__all__ = [
    "CNN_SLOTS",
    "DATASET_NAMES",
    "CheckResult",
    "Checklist",
    "Dataset",
    "DatasetFallbackWarning",
    "DatasetUnavailableError",
    "DropConnectLinear",
    "DropPath",
    "Dropout",
    "History",
    "MCPrediction",
    "MaskedImages",
    "Residual",
    "StandardDropout",
    "attention",
    "batches",
    "bernoulli_mask",
    "check_attention_dropout",
    "check_drop_path",
    "check_dropconnect",
    "check_dropout_layer",
    "check_p",
    "data_dir",
    "drop_path",
    "dropout_layer",
    "evaluate",
    "fast_mode",
    "fit",
    "get_device",
    "linear_drop_rates",
    "load_dataset",
    "mask_explorer",
    "mask_images",
    "mc_predict",
    "mlp",
    "plot_bars",
    "plot_decision_boundary",
    "plot_history",
    "plot_image_grid",
    "plot_seed_curves",
    "plot_sweep",
    "seconds_per_call",
    "series_style",
    "set_seed",
    "set_threads",
    "short_stub_errors",
    "small_cnn",
    "standard_dropout",
]
