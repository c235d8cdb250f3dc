"""Classroom links: a teacher's Train settings travel in the URL's query parameters.

Which parameters exist and what values they may take comes from the hyperparameter schema
(:mod:`cnn.hyperparams`), like the Train widgets and the command line.
"""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from cnn import dataset_sources, hyperparams, presets, run_config
from cnn.i18n import _
from ui.settings import key_of, load_preset_defaults
from ui.state import set_sticky


def apply_share_link() -> list[str]:
    """Once per session: dataset and architecture from the URL, that preset's defaults, then the URL's
    settings on top. Returns a message for each setting that was ignored."""
    if st.session_state["share_applied"] or not any(k in st.query_params for k in ("dataset", "arch",
                                                                                   *run_config.BY_QUERY)):
        return []
    st.session_state["share_applied"] = True
    problems: list[str] = []
    ds = st.query_params.get("dataset")
    arch = st.query_params.get("arch")
    if ds is not None and ds not in dataset_sources.dataset_names():
        problems.append(_("dataset={ds}: Dataset must be one of {names}.", ds=ds,
                          names=", ".join(dataset_sources.dataset_names())))
        ds = None
    if arch is not None:
        try:
            presets.get(arch)
        except presets.SpecError as e:
            problems.append(f"arch={arch}: {e}")
            arch = None
    kept = st.session_state["sticky"]
    ds = ds or kept.get("tr_ds", "mnist")
    arch = arch or kept.get("tr_arch", "fast")
    set_sticky("tr_ds", ds)
    set_sticky("tr_arch", arch)
    load_preset_defaults(arch, ds)
    for name, raw in st.query_params.items():
        param = run_config.BY_QUERY.get(name)
        if param is None:
            continue
        try:
            set_sticky(key_of(param.name), param.parse(raw))
        except hyperparams.HyperparamError as e:
            problems.append(f"{name}={raw}: {e}")
    return problems


def share_link(config: run_config.TrainConfig, present: bool = False) -> str:
    """A URL of this Train page that reproduces ``config`` (preset architectures only)."""
    values = run_config.config_values(config)
    params = {"dataset": config.dataset, "arch": config.arch}
    for p in run_config.SCHEMA:
        value = values[p.name]
        params[p.query] = int(value) if isinstance(value, bool) else (f"{value:g}" if isinstance(value, float)
                                                                        else value)
    if present:
        params["present"] = 1
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:
        base = ""
    if not base.rstrip("/").endswith("Train"):
        base = base.rstrip("/").rsplit("/", 1)[0] + "/Train" if base else "/Train"
    return f"{base}?{urlencode(params)}"
