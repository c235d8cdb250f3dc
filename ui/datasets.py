"""Datasets on the pages: loaded once per server (cached), with their source always shown."""
from __future__ import annotations

import streamlit as st

from cnn import data


@st.cache_data(max_entries=4, show_spinner="Loading dataset…")
def load_dataset(name: str) -> data.Dataset:
    """Datasets are cached per server (each call gets a copy)."""
    return data.load_dataset(name)


def dataset_ui(name: str) -> data.Dataset | None:
    """Load a dataset, showing its source; a readable error instead of a traceback."""
    try:
        ds = load_dataset(name)
    except data.DatasetError as e:
        st.error(f"Could not load {name}: {e}")
        return None
    note = " Only a sample: put the full dataset in the data folder for real training." if ds.is_sample else ""
    st.caption(f":material/inventory_2: {ds.describe()}.{note}")
    if ds.note:
        st.caption(f":material/cloud_off: {ds.note}")
    return ds


def dataset_picker_ui(key: str, label: str = "Dataset", disabled: bool = False) -> str:
    """A dataset selectbox over every dataset in the registry; its value survives other pages."""
    from ui.state import sticky

    names = list(data.DATASETS)
    return st.selectbox(label, names, key=sticky(key, names[0]), disabled=disabled,
                        format_func=lambda n: data.DATASETS[n].title)
