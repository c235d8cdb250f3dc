"""Charts on the pages: one call that also makes them readable on a projector in presentation mode."""
from __future__ import annotations

import html
from typing import Any

import streamlit as st

from ui import charts


def plot(where: Any, fig, **kwargs: Any):
    """``where.plotly_chart(fig, ...)``, with the figure's text enlarged in presentation mode (and no toolbar
    floating over its titles)."""
    # Screen readers get what the chart shows in words, just before it (off screen for everyone else).
    where.markdown(f'<span class="cnnlab-sr-only">{html.escape(charts.describe(fig))}</span>', unsafe_allow_html=True)
    if st.session_state.get("present"):
        fig = charts.for_projector(fig)
        kwargs.setdefault("config", {"displayModeBar": False})
    else:  # the toolbar runs down the right edge: across the top it covered the titles (on a phone, once tapped)
        fig.update_layout(modebar={"orientation": "v"})
    return where.plotly_chart(fig, **kwargs)
