"""Shared Streamlit helpers for the pages: caching, session state, model picking, images.

Functions that draw UI end in ``_ui``. Session-state keys live in ``DEFAULTS``.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from cnn import data, store

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _keep_keras_session() -> None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Streamlit does that for apps that rebuild models on each rerun. CNN Lab keeps models across
    reruns and trains in a background thread while a fragment redraws the charts every 0.5 s:
    clearing the session (a full garbage collection with TensorFlow loaded) that often made live
    training about 20× slower. No public option exists, hence this guarded patch.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return
    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = lambda: None


_keep_keras_session()

# Every per-user session-state key, with its initial value.
DEFAULTS: dict[str, Any] = {
    "session_models": {},  # label -> {"model": keras.Model, "meta": dict}; this browser session only
    "last_drawing": None,  # (1, 28, 28, 1) float32 from the Draw page, for Inspect
    "train_result": None,  # last finished cnn.training.TrainResult
    "present": False,  # classroom presentation mode
    "spec": None,  # the layer editor's current spec
}


def init_state() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value.copy() if isinstance(value, dict) else value)


PRESENT_CSS = """
<style>
html, body, [class*="css"], .stMarkdown p, .stMarkdown li { font-size: 1.3rem !important; }
h1 { font-size: 3rem !important; } h2 { font-size: 2.3rem !important; } h3 { font-size: 1.9rem !important; }
[data-testid="stMetricValue"] { font-size: 3rem !important; }
.present-hide { display: none; }
</style>
"""


_warm_lock = threading.Lock()
_warm_started = False


def warm_up_tensorflow() -> None:
    """Import TensorFlow once per server in a background thread: Home stays instant and the first
    page that needs a model does not wait the ~5 s of the import."""
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True

    def _import() -> None:
        time.sleep(2.0)  # let the first page reach the browser before competing for the CPU
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

    threading.Thread(target=_import, name="warm-up-tensorflow", daemon=True).start()


def page_setup_ui(title: str, icon: str = "🧠", wide: bool = True) -> None:
    """Page config, session state, and the sidebar's presentation toggle (also ?present=1)."""
    st.set_page_config(page_title=f"{title} · CNN Lab", page_icon=icon, layout="wide" if wide else "centered")
    init_state()
    warm_up_tensorflow()
    if st.query_params.get("present") in ("1", "true", "yes"):
        st.session_state["present"] = True
    with st.sidebar:
        st.toggle("Presentation mode", key="present",
                  help="Larger text and fewer controls, for a classroom projector.")
    if st.session_state["present"]:
        st.markdown(PRESENT_CSS, unsafe_allow_html=True)


def presenting() -> bool:
    return bool(st.session_state.get("present"))


@st.cache_data(max_entries=3, show_spinner="Loading dataset…")
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
    st.caption(f"📦 {ds.describe()}.{note}")
    return ds


@st.cache_resource(max_entries=8, show_spinner="Loading model…")
def _load_saved(path: str, mtime: float):
    """Saved models are shared by all sessions (never mutate them); keyed by path and mtime."""
    del mtime  # part of the cache key only: a re-saved file is loaded afresh
    return store.load_keras_file(Path(path))


def model_choices(require_shape: tuple[int, ...] | None = None) -> dict[str, dict]:
    """label -> {"kind": "session"|"saved", ...} for every model this user may pick."""
    choices: dict[str, dict] = {}
    for label, entry in st.session_state["session_models"].items():
        shape = tuple(entry["meta"].get("input_shape", ()))
        if require_shape is None or shape == tuple(require_shape):
            choices[f"{label} (this session)"] = {"kind": "session", "label": label, "meta": entry["meta"]}
    for e in store.list_models():
        shape = tuple(e.meta.get("input_shape", ()))
        if require_shape is None or shape == tuple(require_shape):
            acc = e.test_accuracy
            tag = f" — {e.dataset}, {acc:.1%}" if acc is not None else f" — {e.dataset}"
            choices[f"{e.name}{tag}"] = {"kind": "saved", "entry": e, "meta": e.meta}
    return choices


def load_choice(choice: dict):
    """The Keras model behind a choice from :func:`model_choices`."""
    if choice["kind"] == "session":
        return st.session_state["session_models"][choice["label"]]["model"]
    entry: store.ModelEntry = choice["entry"]
    return _load_saved(str(entry.path), entry.mtime)


def pick_model_ui(key: str, require_shape: tuple[int, ...] | None = None, default: str | None = None,
                  label: str = "Model") -> tuple[Any, dict, str] | None:
    """A model selectbox (session models first, then saved); returns (model, meta, label) or None."""
    choices = model_choices(require_shape)
    if not choices:
        st.info("No model yet. Train one on the **Train** page, or upload a `.keras` file below.")
        return None
    labels = list(choices)
    index = next((i for i, lab in enumerate(labels) if default and lab.startswith(default)), 0)
    picked = st.selectbox(label, labels, index=index, key=key)
    try:
        model = load_choice(choices[picked])
    except store.StoreError as e:
        st.error(str(e))
        return None
    return model, choices[picked]["meta"], picked


def model_section_ui(key: str, default: str | None = None) -> tuple[Any, dict, str] | None:
    """The model picker with an "Upload a model" expander under it (Evaluate, Inspect)."""
    picked = pick_model_ui(f"{key}_model", default=default)
    with st.expander("Upload a model"):
        upload_model_ui(f"{key}_upload")
    return picked


def upload_model_ui(key: str) -> None:
    """Let the user add a .keras file to this session (safe mode, size limit, clear refusals)."""
    up = st.file_uploader("Upload a .keras model", type=["keras"], key=key,
                          help=f"Keras 3 format, at most {store.MAX_UPLOAD_BYTES // 2**20} MB. Loaded in safe "
                               "mode: models carrying code (Lambda layers, custom objects) are refused.")
    if up is None:
        return
    marker = f"{up.name}:{up.size}"
    if st.session_state.get(f"{key}_done") == marker:
        return
    if up.size > store.MAX_UPLOAD_BYTES:
        st.error(f"{up.name}: {up.size / 2**20:.0f} MB is over the {store.MAX_UPLOAD_BYTES // 2**20} MB limit.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(up.name).stem[:40] + ".keras")
        path.write_bytes(up.getvalue())
        try:
            model = store.load_keras_file(path)
            meta = model_meta_from_keras(model, up.name)
        except (store.StoreError, ValueError) as e:
            st.error(str(e))
            return
    label = f"upload {Path(up.name).stem[:40]}"
    st.session_state["session_models"][label] = {"model": model, "meta": meta}
    st.session_state[f"{key}_done"] = marker
    st.success(f"Loaded {up.name} as “{label}”: input {tuple(meta['input_shape'])}, "
               f"{meta['num_classes']} classes.")


def model_meta_from_keras(model, filename: str) -> dict:
    """Metadata for a model that came without any (an upload): shapes and a guessed dataset."""
    from cnn.predict import model_input_shape, model_num_classes

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"{filename}: CNN Lab needs a model with one image input and one output.")
    shape = model_input_shape(model)
    if len(shape) != 3:
        raise ValueError(f"{filename}: the model's input {shape} is not an image (height, width, channels).")
    guess = {(28, 28, 1): "mnist", (32, 32, 3): "cifar10"}.get(tuple(shape))
    k = model_num_classes(model)
    names = list(data.DATASETS[guess].class_names) if guess and k == 10 else [str(i) for i in range(k)]
    return {"dataset": guess, "input_shape": list(shape), "num_classes": k, "class_names": names,
            "made_by": f"uploaded file {filename}", "history": {}}


def pixels(image: np.ndarray, size: int = 112) -> Image.Image:
    """A small float or uint8 image, upscaled with crisp pixels for display."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    img = Image.fromarray(arr)
    scale = max(1, size // max(img.size))
    return img.resize((img.size[0] * scale, img.size[1] * scale), Image.Resampling.NEAREST)


def image_grid_ui(images, captions: list[str] | None = None, cols: int = 8, size: int = 84) -> None:
    """Images in rows of ``cols`` columns, each upscaled crisply with an optional caption."""
    captions = captions or [""] * len(images)
    for start in range(0, len(images), cols):
        columns = st.columns(cols)
        for col, img, cap in zip(columns, images[start:start + cols], captions[start:start + cols]):
            col.image(pixels(img, size), caption=cap or None)
