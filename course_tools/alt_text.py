"""Alt text for the course's figures, written from what each figure draws.

A chapter's figures carry their meaning in their titles, axis labels and legends, which the
chapter's code computes. When ``make course`` executes a chapter, its kernel loads this module as
an IPython extension: a figure's plain-text form (the ``text/plain`` beside its PNG in the executed
notebook) becomes a description built from those parts, in place of matplotlib's
``<Figure size 650x360 with 1 Axes>``. The book site (:mod:`course_tools.site`) puts it into the
image's ``alt`` attribute. A student's own kernel never loads it.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> _ = ax.plot([0, 1], [1, 0], label="no dropout"); _ = ax.plot([0, 1], [1, 1], label="p=0.5")
>>> _ = ax.set(title="Validation loss", xlabel="epoch", ylabel="loss"); _ = ax.legend()
>>> print(describe(fig))
Figure: Validation loss (x: epoch; y: loss; lines: no dropout, p=0.5).
>>> plt.close(fig)
"""

from __future__ import annotations

_MAX_LABELS = 6  # more legend entries than this are summarised by their count


def _panel(ax) -> str:
    parts = []
    if ax.get_xlabel():
        parts.append(f"x: {ax.get_xlabel()}")
    if ax.get_ylabel():
        parts.append(f"y: {ax.get_ylabel()}")
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()] if legend is not None else []
    if len(labels) > _MAX_LABELS:
        parts.append(f"{len(labels)} series: {', '.join(labels[:_MAX_LABELS])}, ...")
    elif labels:
        parts.append(f"lines: {', '.join(labels)}")
    if not parts and ax.images:
        parts.append("an image")
    title = ax.get_title() or "a panel"
    return f"{title} ({'; '.join(parts)})" if parts else title


def describe(fig) -> str:
    """One sentence naming the figure's title and, for each panel with something to say, its
    title, axis labels and legend. Colour bars and empty panels are left out."""
    def labelled(ax) -> bool:
        return bool(ax.get_title() or ax.get_xlabel() or ax.get_ylabel() or ax.get_legend())

    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"
              and (labelled(ax) or ax.images or ax.lines or ax.patches or ax.collections)]
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    described = [_panel(ax) for ax in panels if labelled(ax)]
    if len(panels) > 1:
        head = f"Figure with {len(panels)} panels"
        head += f": {suptitle}" if suptitle else ""
        body = "; ".join(f"{i}. {text}" for i, text in enumerate(described, 1))
        return f"{head}. {body}." if body else f"{head}."
    text = described[0] if described else (suptitle or "an image")
    if suptitle and described:
        text = f"{suptitle}: {text}"
    return f"Figure: {text}."


def load_ipython_extension(ip) -> None:
    """Make a figure's plain-text form its description (``--IPKernelApp.extensions=`` this)."""
    from matplotlib.figure import Figure

    def register(*_):
        ip.display_formatter.formatters["text/plain"].for_type(
            Figure, lambda fig, printer, cycle: printer.text(describe(fig)))

    # Turning on the inline backend removes every formatter of Figure, and recent IPython turns it
    # on at a chapter's first figure, in the middle of a cell: turn it on now (what the chapters
    # get anyway), and put this formatter back before each cell and before its figures show.
    ip.enable_matplotlib("inline")
    register()
    ip.events.register("pre_execute", register)
    ip.events.register("post_execute", register)
