"""Datasets on the pages: the built-in ones and the students' own, loaded once (cached), source always shown."""
from __future__ import annotations

import streamlit as st

from cnn import data, dataset_sources
from cnn.i18n import _
from ui.state import sticky


# Spinners are the callers' (st.spinner shows only what takes over half a second): a decorator's text could not be
# in the student's language.
def _fingerprinted(name: str) -> data.Dataset:
    """The dataset, fingerprinted once as loaded: every copy the cache hands out carries it (cnn.data.fingerprint)."""
    ds = dataset_sources.load_dataset(name)
    data.fingerprint(ds)
    return ds


@st.cache_data(max_entries=4, show_spinner=False)
def _load_builtin(name: str) -> data.Dataset:
    return _fingerprinted(name)


@st.cache_data(max_entries=8, show_spinner=False)
def _load_user(name: str, signature: tuple) -> data.Dataset:
    del signature  # part of the key only: any added or removed example loads it afresh
    return _fingerprinted(name)


def load_dataset(name: str) -> data.Dataset:
    """Datasets are cached per server (each call gets a copy); a student's own is reloaded when it changes."""
    with st.spinner(_("Loading the dataset…")):
        if data.is_user(name):
            return _load_user(name, dataset_sources.user_signature(name))
        return _load_builtin(name)


def dataset_ui(name: str) -> data.Dataset | None:
    """Load a dataset, showing its source; a readable error instead of a traceback."""
    try:
        ds = load_dataset(name)
    except data.DatasetError as e:
        st.error(_("Could not load {title}: {e}", title=data.title(name), e=e))
        return None
    line = _("{sentence}.", sentence=ds.describe())  # the full stop is the language's: 。 in Chinese, । in Hindi
    if ds.is_sample:
        line = _("{first} {second}", first=line,
                 second=_("Only a sample: put the full dataset in the data folder for real training."))
    st.caption(f":material/inventory_2: {line}")
    if ds.note:
        icon = ":material/warning:" if data.is_user(name) else ":material/cloud_off:"
        st.caption(f"{icon} {ds.note}")
    return ds


def dataset_picker_ui(key: str, label: str = "", disabled: bool = False,
                      shape: tuple[int, int, int] | None = None, on_change=None) -> str:
    """A dataset selectbox over the built-in datasets and the students' own ("My data: …"), optionally only those
    of one image shape; its value survives other pages."""
    names = dataset_sources.dataset_names()
    if shape is not None:
        names = [n for n in names if _shape(n) == tuple(shape)]
    k = sticky(key, names[0])
    if st.session_state.get(k) not in names:  # a dataset that was deleted meanwhile
        st.session_state[k] = names[0]
    return st.selectbox(label or _("Dataset"), names, key=k, disabled=disabled, format_func=data.title,
                        on_change=on_change)


def _shape(name: str) -> tuple[int, int, int] | None:
    try:
        return dataset_sources.info(name).image_shape
    except data.DatasetError:
        return None
