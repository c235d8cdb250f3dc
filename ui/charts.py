"""Plotly figures built from plain data (histories, probabilities, matrices, images), and the confusion matrix's
coloured table.

No Streamlit here: pages pass the figures to ``st.plotly_chart`` (the table to ``st.dataframe``); tests can build
them too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn import i18n
from cnn.i18n import _, n_

TRAIN_COLOUR, VAL_COLOUR = "#1f77b4", "#ff7f0e"
# One convention for signed values everywhere (lessons, filters, kernels): red positive, blue negative,
# white zero, as cnn.inspection.diverging_rgb draws filters. Plotly's "RdBu" runs the other way round.
DIVERGING = "RdBu_r"


def history_figure(history: dict[str, list[float]] | None = None,
                   batch_points: list[dict[str, float]] | None = None, height: int = 340) -> go.Figure:
    """Loss and accuracy side by side, train and validation, as in the tutorial's history plot.

    ``batch_points`` (fractional epoch, running loss/accuracy) make the curves move during an epoch.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Loss"), _("Accuracy")), horizontal_spacing=0.1)
    history = history or {}
    for col, metric in ((1, "loss"), (2, "accuracy")):
        if batch_points:
            fig.add_trace(go.Scatter(x=[p["epoch"] for p in batch_points], y=[p[metric] for p in batch_points],
                                     mode="lines", name=_("train (running)"), line=dict(color=TRAIN_COLOUR, width=1),
                                     opacity=0.5, legendgroup="running", showlegend=col == 1), 1, col)
        epochs = list(range(1, len(history.get(metric, [])) + 1))
        if epochs:
            fig.add_trace(go.Scatter(x=epochs, y=history[metric], mode="lines+markers", name=_("train"),
                                     line=dict(color=TRAIN_COLOUR), legendgroup="train", showlegend=col == 1), 1, col)
        val = history.get(f"val_{metric}", [])
        if val:
            fig.add_trace(go.Scatter(x=list(range(1, len(val) + 1)), y=val, mode="lines+markers",
                                     name=_("validation"),
                                     line=dict(color=VAL_COLOUR), legendgroup="val", showlegend=col == 1), 1, col)
        fig.update_xaxes(title_text=_("epoch"), row=1, col=col, rangemode="tozero")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return localised(fig)


def localised(fig: go.Figure) -> go.Figure:
    """Axis numbers with the language's decimal mark and group separator ("0,5" and "1.000" in German)."""
    fig.update_layout(separators=i18n.number(1000.5, ",.1f")[-2] + i18n.number(1000.5, ",.1f")[1])
    return fig


def right_to_left(fig: go.Figure) -> go.Figure:
    """The same chart as a right-to-left reader reads it (Arabic): its x axes run from the right (the first epoch, the
    first class on the right), side-by-side charts swap places, and y axes and the legend stand on the right. A figure
    of an image (pixels, a feature map, a filter) stays as the image is: its left is its left in every language."""
    if any(trace.type in ("heatmap", "image") for trace in fig.data):
        return fig
    fig = go.Figure(fig)  # a copy: callers may reuse theirs

    def mirror(axis) -> None:
        if axis.range is not None:
            axis.range = list(axis.range)[::-1]
        else:
            axis.autorange = "reversed"
        if axis.domain is not None:
            axis.domain = [1 - axis.domain[1], 1 - axis.domain[0]]

    fig.for_each_xaxis(mirror)
    fig.update_yaxes(side="right")
    for note in fig.layout.annotations:  # subplot titles follow their charts
        if note.xref == "paper" and note.x is not None:
            note.x = 1 - note.x
    fig.update_layout(legend=dict(x=1, xanchor="right"))
    return fig


def for_projector(fig: go.Figure, scale: float = 1.6) -> go.Figure:
    """The same figure readable from the back of a classroom: every text larger, the figure taller."""
    fig = go.Figure(fig)  # a copy: callers may reuse theirs
    size = int(12 * scale)
    fig.update_layout(font=dict(size=size), legend=dict(font=dict(size=size)),
                      height=int((fig.layout.height or 340) * 1.25))
    fig.update_annotations(font_size=int(size * 1.1))  # subplot titles
    # Axes too: Streamlit's chart theme sets their fonts itself, over the layout's.
    fig.update_xaxes(tickfont_size=size, title_font_size=size)
    fig.update_yaxes(tickfont_size=size, title_font_size=size)
    fig.update_traces(textfont_size=size, selector=dict(type="bar"))
    fig.update_traces(textfont_size=size, selector=dict(type="heatmap"))
    return fig


def _num(v: float) -> str:
    return i18n.number(v, ".3g") if abs(v) >= 1e-3 or v == 0 else i18n.number(v, ".1e")


def describe(fig: go.Figure) -> str:
    """What a chart shows, in a sentence or two, for people who cannot see it (a screen reader's text): each
    line's last and best value, the tallest bar, the size of a heat map."""
    layout = fig.layout
    title = layout.title.text if layout.title and layout.title.text else ""
    xt = layout.xaxis.title.text if layout.xaxis and layout.xaxis.title and layout.xaxis.title.text else "x"
    yt = layout.yaxis.title.text if layout.yaxis and layout.yaxis.title and layout.yaxis.title.text else "value"
    xt = xt if xt != "x" else _("x")
    yt = yt if yt != "value" else _("value")
    parts = [_("Chart: {title}.", title=title) if title else _("Chart.")]
    loss_words = {"loss", _("loss").lower(), _("Loss").lower()}
    for trace in fig.data:
        name = getattr(trace, "name", None) or ""
        if trace.type == "heatmap" and trace.z is not None:
            z = np.asarray(trace.z, float)
            parts.append(_("A heat map of {rows}×{cols} values ({y} by {x}).", rows=z.shape[0], cols=z.shape[1], y=yt,
                           x=xt))
        elif trace.type == "bar" and trace.y is not None and len(trace.y):
            y = np.asarray(trace.y, float)
            x = list(trace.x) if trace.x is not None else list(range(len(y)))
            k = int(np.argmax(y))
            parts.append(_("{n} bars of {y}; the tallest is {x} at {value}.", n=len(y), y=yt, x=x[k],
                           value=_num(float(y[k]))))
        elif trace.type == "scatter" and trace.y is not None and len(trace.y) and name != "cells":
            axis = trace.yaxis or "y"
            panel = 0 if axis == "y" else int(axis[1:]) - 1
            if layout.annotations and panel < len(layout.annotations):  # a panel of subplots: say which
                name = f"{layout.annotations[panel].text}, {name}"
            y = np.asarray(trace.y, float)
            x = list(trace.x) if trace.x is not None else list(range(1, len(y) + 1))
            lowest = any(w in f"{name} {yt}".lower() for w in loss_words)
            best = int(np.nanargmin(y)) if lowest else int(np.nanargmax(y))
            parts.append(n_("{line}: {n} point, last {last}, best {best} at {x} {where}.",
                            "{line}: {n} points, last {last}, best {best} at {x} {where}.", len(y), line=name or yt,
                            last=_num(float(y[-1])), best=_num(float(y[best])), x=xt, where=x[best]))
    return " ".join(parts)


def compare_figure(runs: dict[str, dict[str, list[float]]], metric: str = "accuracy", height: int = 340) -> go.Figure:
    """Several runs on one chart: solid lines for training, dashed for validation."""
    fig = go.Figure()
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
    for i, (label, hist) in enumerate(runs.items()):
        colour = palette[i % len(palette)]
        for key, dash, suffix in ((metric, "solid", _("train")), (f"val_{metric}", "dash", _("validation"))):
            ys = hist.get(key, [])
            if ys:
                fig.add_trace(go.Scatter(x=list(range(1, len(ys) + 1)), y=ys, mode="lines+markers",
                                         name=f"{label} — {suffix}", line=dict(color=colour, dash=dash)))
    fig.update_layout(height=height, xaxis_title=_("epoch"), yaxis_title=_(metric),
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.3))
    return localised(fig)


def probability_bars(probs: np.ndarray, class_names, highlight: int | None = None, height: int = 260) -> go.Figure:
    """Horizontal-free bar chart of all class probabilities; the top class stands out."""
    top = int(np.argmax(probs)) if highlight is None else highlight
    colours = ["#2ca02c" if i == top else "#9ecae1" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=[str(c) for c in class_names], y=[float(p) for p in probs], marker_color=colours,
                           text=[i18n.number(p, ".0%") if p >= 0.01 else "" for p in probs], textposition="outside"))
    fig.update_layout(height=height, yaxis=dict(range=[0, 1.1], tickformat=".0%", title=_("probability")),
                      xaxis=dict(type="category"), margin=dict(l=10, r=10, t=10, b=10))
    return localised(fig)


def readable_ink(fill: tuple[float, float, float]) -> str:
    """White or the page's near-black text, whichever reads better on ``fill`` (WCAG contrast)."""
    def luminance(rgb) -> float:
        c = np.asarray(rgb, float) / 255
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])

    on = luminance(fill)
    white, black = 1.05 / (on + 0.05), (on + 0.05) / (luminance((14, 17, 23)) + 0.05)
    return "#ffffff" if white > black else "#0e1117"


def confusion_table(cm: np.ndarray, class_names) -> pd.io.formats.style.Styler:
    """The confusion matrix as a table of counts (rows: true class, columns: predicted), coloured like a heat map:
    a cell is picked by a click, a tap or the keyboard (st.dataframe's cell selection), where a Plotly heat map read
    a phone's tap as the cell tapped before it."""
    names = [str(c) for c in class_names]
    frame = pd.DataFrame(cm.astype(int), index=pd.Index(names, name=_("true ↓")), columns=names)
    # Log-like colour so that small mistake counts remain visible next to the large diagonal.
    level = np.log1p(cm.astype(float))
    level = level / level.max() if level.max() > 0 else level
    fills = plotly.colors.sample_colorscale("Blues", level.reshape(-1).tolist())
    css = [f"background-color: {fill}; color: {readable_ink(plotly.colors.unlabel_rgb(fill))}" for fill in fills]
    styles = pd.DataFrame(np.array(css).reshape(cm.shape), index=frame.index, columns=frame.columns)
    return frame.style.apply(lambda _frame: styles, axis=None)


def activation_figure(functions: dict, z: np.ndarray) -> go.Figure:
    """Activation functions plotted over z."""
    fig = go.Figure()
    for name, fn in functions.items():
        fig.add_trace(go.Scatter(x=z, y=fn(z), mode="lines", name=name))
    fig.update_layout(height=320, xaxis_title=_("input z"), yaxis_title="f(z)", margin=dict(l=10, r=10, t=10, b=10))
    return localised(fig)


def heatmap(values: np.ndarray, title: str = "", centre_zero: bool = False, height: int = 260,
            colorscale: str | None = None, text: bool = False) -> go.Figure:
    """One 2-D array as a heatmap (image orientation); diverging (red positive, blue negative) and centred on
    zero if asked."""
    v = np.asarray(values, float)
    kw = {}
    if centre_zero:
        m = float(np.abs(v).max()) or 1.0
        kw = dict(zmin=-m, zmax=m, colorscale=colorscale or DIVERGING, zmid=0)
    else:
        kw = dict(colorscale=colorscale or "gray")
    fig = go.Figure(go.Heatmap(z=v, text=np.round(v, 2) if text else None,
                               texttemplate="%{text}" if text else None, **kw))
    fig.update_layout(title=title, height=height, margin=dict(l=5, r=5, t=30 if title else 5, b=5),
                      yaxis=dict(autorange="reversed", scaleanchor="x", showticklabels=False),
                      xaxis=dict(showticklabels=False))
    return fig


def bar_counts(labels, counts, title: str = "", height: int = 280) -> go.Figure:
    fig = go.Figure(go.Bar(x=[str(x) for x in labels], y=list(counts)))
    fig.update_layout(title=title, height=height, xaxis=dict(type="category"), margin=dict(l=10, r=10, t=40, b=10))
    return localised(fig)


def histogram(values: np.ndarray, title: str = "", height: int = 280) -> go.Figure:
    counts, edges = np.histogram(values, bins=32, range=(0.0, 1.0))
    fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=1 / 32))
    fig.update_layout(title=title, height=height, xaxis_title=_("pixel value (0 = black, 1 = white)"),
                      yaxis_title=_("pixels"), yaxis_type="log", margin=dict(l=10, r=10, t=40, b=10))
    return localised(fig)
