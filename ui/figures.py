"""Charts and tables on the pages: one call each that also makes them readable on a projector in presentation mode
and right to left in Arabic."""
from __future__ import annotations

import html
from typing import Any

import streamlit as st

from cnn import i18n
from ui import charts


def plot(where: Any, fig, **kwargs: Any):
    """``where.plotly_chart(fig, ...)``, with the figure's text enlarged in presentation mode (and no toolbar
    floating over its titles)."""
    # Screen readers get what the chart shows in words, just before it (off screen for everyone else).
    where.markdown(f'<span class="cnnlab-sr-only">{html.escape(charts.describe(fig))}</span>', unsafe_allow_html=True)
    if i18n.direction() == "rtl":
        fig = charts.right_to_left(fig)
    if st.session_state.get("present"):
        fig = charts.for_projector(fig)
        kwargs.setdefault("config", {"displayModeBar": False})
    else:  # the toolbar runs down the right edge: across the top it covered the titles (on a phone, once tapped)
        fig.update_layout(modebar={"orientation": "v"})
    return where.plotly_chart(fig, **kwargs)


def html_tables() -> bool:
    """Whether tables are plain HTML tables rather than Streamlit's data grid: on the projector (their text grows with
    presentation mode's fonts) and right to left (the grid draws its columns left to right in every language)."""
    return bool(st.session_state.get("present")) or i18n.direction() == "rtl"


def table(where: Any, rows: Any, **kwargs: Any):
    """``where.dataframe(rows, ...)``, or an HTML table where :func:`html_tables` says so."""
    if html_tables():
        return where.table(rows, border="horizontal")
    return where.dataframe(rows, **kwargs)
