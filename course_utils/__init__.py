"""course_utils: the helper package of the hands-on course "Dropout in PyTorch".

One module per lesson (``dropout``, ``dropconnect``, ``mc_dropout``, ``comparison``, the
``checks`` package) and per helper (``data``, ``training``, ``models``, ``plots``, ``widgets``,
``config``, ``timing``); ``_validate`` and ``_modes`` hold the argument checks and the train/eval
handling they share. The instructor tools live beside it, in ``course_tools``. This file
re-exports the public API the notebooks use::

    from course_utils import set_seed, get_device, load_dataset, fit, plot_history

Importing it has no side effects: it seeds nothing, downloads nothing, and leaves torchvision,
scikit-learn, matplotlib and tqdm unimported until a function needs them.
"""

from .checks import Checklist, CheckResult, check_dropconnect, check_dropout_layer
from .config import data_dir, fast_mode, get_device, set_seed
from .data import (
    DATASET_NAMES,
    Dataset,
    DatasetFallbackWarning,
    DatasetUnavailableError,
    load_dataset,
)
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
from .models import mlp
from .plots import plot_decision_boundary, plot_history, plot_image_grid, plot_sweep
from .timing import seconds_per_call
from .training import History, batches, evaluate, fit
from .widgets import MaskedImages, mask_explorer, mask_images

__version__ = "0.1.0"

__all__ = [
    "DATASET_NAMES",
    "CheckResult",
    "Checklist",
    "Dataset",
    "DatasetFallbackWarning",
    "DatasetUnavailableError",
    "DropConnectLinear",
    "Dropout",
    "History",
    "MCPrediction",
    "MaskedImages",
    "StandardDropout",
    "batches",
    "bernoulli_mask",
    "check_dropconnect",
    "check_dropout_layer",
    "check_p",
    "data_dir",
    "dropout_layer",
    "evaluate",
    "fast_mode",
    "fit",
    "get_device",
    "load_dataset",
    "mask_explorer",
    "mask_images",
    "mc_predict",
    "mlp",
    "plot_decision_boundary",
    "plot_history",
    "plot_image_grid",
    "plot_sweep",
    "seconds_per_call",
    "set_seed",
    "standard_dropout",
]
