"""Classroom links: a teacher's settings travel in the URL's query parameters."""
from __future__ import annotations

from typing import Callable
from urllib.parse import urlencode

import streamlit as st

from cnn import architectures, data, training

# query parameter -> (session-state key of the Train page widget, parser)
TRAIN_PARAMS = {
    "dataset": ("tr_ds", lambda v: v if v in data.DATASETS else None),
    "arch": ("tr_arch", lambda v: v if v in architectures.PRESETS else None),
    "epochs": ("tr_epochs", lambda v: int(v) if v.isdigit() and 1 <= int(v) <= 500 else None),
    "batch": ("tr_batch", lambda v: int(v) if v.isdigit() and 1 <= int(v) <= 8192 else None),
    "lr": ("tr_lr", lambda v: _float_in(v, 1e-6, 10.0)),
    "optimizer": ("tr_opt", lambda v: v if v in training.OPTIMIZERS else None),
    "val": ("tr_val", lambda v: _float_in(v, 0.0, 0.9)),
    "augment": ("tr_aug", lambda v: v.lower() in ("1", "true", "yes")),
    "seed": ("tr_seed", lambda v: int(v) if v.isdigit() else None),
    "limit": ("tr_limit", lambda v: "all" if v == "all" else (int(v) if v in ("10000", "5000", "2000", "1000", "500")
                                                             else None)),
}


def _float_in(v: str, lo: float, hi: float) -> float | None:
    try:
        f = float(v)
    except ValueError:
        return None
    return f if lo <= f <= hi else None


def apply_query_params(load_preset_defaults: Callable[[], None]) -> list[str]:
    """Once per session: dataset and architecture from the URL, then that preset's defaults, then
    the URL's hyperparameters on top. Returns the settings that were ignored as invalid."""
    if st.session_state.get("qp_applied"):
        return []
    st.session_state["qp_applied"] = True
    ignored, values = [], {}
    for name, value in st.query_params.items():
        if name not in TRAIN_PARAMS:
            continue
        key, parse = TRAIN_PARAMS[name]
        parsed = parse(str(value))
        if parsed is None:
            ignored.append(f"{name}={value}")
        else:
            values[key] = parsed
    for key in ("tr_ds", "tr_arch"):
        if key in values:
            st.session_state[key] = values.pop(key)
    load_preset_defaults()
    st.session_state.update(values)
    return ignored


def share_link(config: training.TrainConfig, present: bool = False) -> str:
    """A URL of this Train page that reproduces ``config`` (preset architectures only)."""
    params = {"dataset": config.dataset, "arch": config.arch, "epochs": config.epochs, "batch": config.batch_size,
              "lr": f"{config.learning_rate:g}", "optimizer": config.optimizer, "val": f"{config.validation_split:g}",
              "augment": int(config.augment), "seed": config.seed, "limit": config.train_limit or "all"}
    if present:
        params["present"] = 1
    base = ""
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:
        base = ""
    if not base.rstrip("/").endswith("Train"):
        base = base.rstrip("/").rsplit("/", 1)[0] + "/Train" if base else "/Train"
    return f"{base}?{urlencode(params)}"
