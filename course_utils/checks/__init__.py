"""Auto-checkers for student code: a ✓/✗ checklist with a hint for each failure.

- ``battery``: the runner every checker shares (``CheckResult``, ``Checklist``, the ✓/✗
  printing, the hints for errors the student's code raised);
- ``stats``: sigma bands, neighbour agreement and the ratio-to-hint tables;
- ``trials``: experiments several checkers run (a device that exposes CPU-built masks, bad
  values of p, a second call that must draw a new mask);
- ``dropout_layer``: ``check_dropout_layer``, chapter 03's 15 checks, one function each;
- ``dropconnect``: ``check_dropconnect``, chapter 06's 12 checks, one function each;
- ``drop_path``: ``check_drop_path``, chapter 08's 15 checks of stochastic depth;
- ``attention``: ``check_attention_dropout``, chapter 08's checks of dropout on attention
  weights, including the eval-mode trap of ``scaled_dot_product_attention``.

Each checker prints one line per check and raises ``AssertionError`` if any check failed, so a
notebook cell stops loudly.
"""

from .attention import check_attention_dropout
from .battery import Checklist, CheckResult
from .drop_path import check_drop_path
from .dropconnect import check_dropconnect
from .dropout_layer import check_dropout_layer

__all__ = ["CheckResult", "Checklist", "check_attention_dropout", "check_dropconnect",
           "check_drop_path", "check_dropout_layer"]
