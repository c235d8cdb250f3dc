"""Picking a model on Evaluate, Inspect and Draw: this session's models, saved ones, uploads.

A model is identified by an id: ``session:LABEL`` (trained or uploaded in this browser session,
not saved) or ``saved:NAME`` (a file in models/). The session's *current* model
(``st.session_state["current_model"]``) is what every picker opens on: the newest run, the
last upload, or whatever the student picked on another page. Caches of results are keyed by a
model's *token* (file path + mtime, a job id, or an upload's content hash), never by its label.
"""
from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import streamlit as st

from cnn import data, db, evaluation, export, index, keras_files, store
from cnn.i18n import _, number
from cnn.jobs import records
from cnn.predict import model_input_shape, model_num_classes, tta_level
from cnn.reader import QuickReader
from ui.state import in_language

SHIPPED_DEFAULT = "saved:mnist"


@st.cache_resource(max_entries=8, show_spinner=False)  # the callers' spinners speak the student's language
def load_saved(path: str, mtime: float):
    """Saved models are shared by all sessions (never mutate them); keyed by path and mtime."""
    del mtime  # part of the cache key only: a re-saved file is loaded afresh
    return keras_files.load_keras_file(Path(path))


@st.cache_resource(max_entries=8, show_spinner=False)
def _reader(token: str, _model) -> QuickReader:
    del token  # the cache key: a model file's path and mtime, or a session model's own token
    return QuickReader(_model)


def quick_reader(choice: dict[str, Any], model) -> QuickReader:
    """The Draw page's fast reader of one drawing (:class:`cnn.reader.QuickReader`), made once per model."""
    with st.spinner(_("Getting the model ready to read drawings…")):
        return _reader(choice["token"], model)


STATIC = Path(__file__).resolve().parent.parent / "static"  # served at app/static/ (server.enableStaticServing)


def static_url() -> str:
    """The URL path of the app's static files, under the server's base path."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/" if base else "/app/static/"


def browser_model(choice: dict[str, Any], reader: QuickReader, classes: list[str], title: str
                  ) -> tuple[dict[str, Any] | None, str]:
    """What the Draw pad needs to read drawings in the browser (the model's ONNX file, published once under
    ``static/models``), or None and why the server reads them instead."""
    if not reader.onnx:
        return None, _("it could not be converted to run in the browser ({why})", why=reader.why)
    if not (STATIC / "ort" / "ort-wasm-simd-threaded.wasm").is_file():
        return None, _("the in-browser runtime is not installed on this server")
    if not st.get_option("server.enableStaticServing"):
        return None, _("this server does not serve the files the browser would need (server.enableStaticServing)")
    try:
        name = export.publish(reader.onnx, STATIC / "models", f'{choice["token"]}:{reader.FORMAT}')
    except OSError as e:
        return None, _("its file for the browser cannot be written here ({why})", why=e.strerror or e)
    return {"url": f"{static_url()}models/{name}", "static": static_url(), "classes": list(classes),
            "title": title}, ""


def model_choices(require_shape: tuple[int, ...] | None = None) -> dict[str, dict[str, Any]]:
    """id -> {"kind", "title", "meta", "token", ...} for every model this session may pick."""
    choices: dict[str, dict[str, Any]] = {}
    for label, entry in st.session_state["session_models"].items():
        if entry.get("saved_as") and not saved_model_gone(entry):
            continue  # listed once, as the saved model
        shape = tuple(entry["meta"].get("input_shape", ()))
        if require_shape is None or shape == tuple(require_shape):
            choices[f"session:{label}"] = {"kind": "session", "label": label, "meta": entry["meta"],
                                           "token": entry["token"],
                                           "title": _("{label} (this session, not saved)", label=label)}
    for e in store.list_models():
        shape = tuple(e.meta.get("input_shape", ()))
        if require_shape is None or shape == tuple(require_shape):
            acc = e.test_accuracy
            tag = f" — {e.dataset}, {number(acc, '.1%')}" if isinstance(acc, int | float) else f" — {e.dataset}"
            choices[f"saved:{e.name}"] = {"kind": "saved", "entry": e, "meta": e.meta, "title": f"{e.name}{tag}",
                                          "token": f"saved:{e.name}:{e.sha}"}
    return choices


def load_choice(choice: dict[str, Any]):
    """The Keras model behind a choice from :func:`model_choices`."""
    if choice["kind"] == "session":
        return st.session_state["session_models"][choice["label"]]["model"]
    entry: store.ModelEntry = choice["entry"]
    with st.spinner(_("Loading the model…")):
        return load_saved(str(entry.path), entry.mtime)


def _picked(key: str) -> None:
    st.session_state["current_model"] = st.session_state[key]
    st.session_state[f"{key}__follows"] = st.session_state[key]


def pick_model_ui(key: str, require_shape: tuple[int, ...] | None = None,
                  label: str = "") -> tuple[Any, dict, dict] | None:
    """A model selectbox that opens on the session's current model; returns (model, meta, choice) or None."""
    choices = model_choices(require_shape)
    if not choices:
        st.info(_("No model yet. Train one on the **Train** page, or upload a `.keras` file below."))
        return None
    ids = list(choices)
    current = st.session_state["current_model"]
    want = current if current in ids else (SHIPPED_DEFAULT if SHIPPED_DEFAULT in ids else ids[0])
    follows = f"{key}__follows"
    if st.session_state.get(key) not in ids or st.session_state.get(follows) != current:
        st.session_state[key] = want  # follow the session's current model (a new run, another page's pick)
        st.session_state[follows] = current
    picked = st.selectbox(label or _("Model"), ids, key=key, format_func=lambda i: choices[i]["title"],
                          on_change=in_language(_picked), args=(key,))
    try:
        model = load_choice(choices[picked])
    except store.StoreError as e:
        st.error(str(e))
        return None
    return model, choices[picked]["meta"], {"id": picked, **choices[picked]}


def apply_model_link() -> None:
    """A link with ``?model=NAME`` (the teacher's "open on the projector") opens that saved model, once."""
    name = st.query_params.get("model")
    if name and st.session_state["model_link"] != name:
        st.session_state["model_link"] = name
        try:
            known = store.exists(name)
        except store.StoreError:
            known = False
        if known:
            st.session_state["current_model"] = f"saved:{name}"
        else:
            from ui.chrome import plain

            st.warning(_("The link asks for a model named “{name}”, which is not saved on this server.",
                         name=plain(name)),
                       icon=":material/link_off:")


def model_section_ui(key: str) -> tuple[Any, dict, dict] | None:
    """The model picker with an "Upload a model" expander under it (Evaluate, Inspect)."""
    apply_model_link()
    with st.expander(_("Upload a model"), icon=":material/upload_file:"):
        upload_model_ui(f"{key}_upload")
    return pick_model_ui(f"{key}_model")


def upload_model_ui(key: str) -> None:
    """Let the user add a .keras file to this session (safe mode, size limit, clear refusals)."""
    up = st.file_uploader(_("Upload a .keras model"), type=["keras"], key=key,
                          help=_("Keras 3 format, at most {max_upload_bytes} MB. Loaded in safe mode: models "
                                 "carrying code (Lambda layers, custom objects) are refused.",
                                 max_upload_bytes=keras_files.MAX_UPLOAD_BYTES // 2**20))
    if up is None:
        return
    if up.size > keras_files.MAX_UPLOAD_BYTES:
        st.error(_("{name}: {size:.0f} MB is over the {max_upload_bytes} MB limit.",
                   name=up.name, size=up.size / 2**20, max_upload_bytes=keras_files.MAX_UPLOAD_BYTES // 2**20))
        return
    raw = up.getvalue()
    token = "upload:" + hashlib.sha256(raw).hexdigest()
    label = f"upload {Path(up.name).stem[:40]}"
    entry = st.session_state["session_models"].get(label)
    if entry is not None and entry["token"] == token:
        return  # this very file is loaded already
    try:
        model = keras_files.load_keras_bytes(raw, up.name)
        meta = meta_from_keras(model, up.name)
    except (store.StoreError, ValueError) as e:
        st.error(str(e))
        return
    st.session_state["session_models"][label] = {"model": model, "meta": meta, "token": token, "saved_as": ""}
    st.session_state["current_model"] = f"session:{label}"
    st.success(_("Loaded {name} as “{label}”: input {shape}, {k} classes.",
                 name=up.name, label=label, shape=tuple(meta["input_shape"]), k=meta["num_classes"]))


def meta_from_keras(model, filename: str) -> dict:
    """Metadata for a model that came without any (an upload): shapes and a guessed dataset."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(_("{file}: CNN Lab needs a model with one image input and one output.", file=filename))
    shape = model_input_shape(model)
    if len(shape) != 3:
        raise ValueError(_("{file}: the model's input {shape} is not an image (height, width, channels).",
                           file=filename, shape=shape))
    guess = {(28, 28, 1): "mnist", (32, 32, 3): "cifar10"}.get(tuple(shape))
    k = model_num_classes(model)
    names = list(data.DATASETS[guess].class_names) if guess and k == 10 else [str(i) for i in range(k)]
    return {"dataset": guess, "input_shape": list(shape), "num_classes": k, "class_names": names,
            "made_by": f"uploaded file {filename}", "history": {}}


@st.cache_data(max_entries=8, show_spinner=False)
def _saved_evaluation(path: str, mtime: float, ds_name: str, tta: int) -> evaluation.Evaluation:
    from ui.datasets import load_dataset

    return evaluation.evaluate(load_saved(path, mtime), load_dataset(ds_name), tta=tta)


def evaluation_of(choice: dict[str, Any], model, ds: data.Dataset) -> evaluation.Evaluation:
    """Predictions of a model on a test set, computed once per model identity and dataset."""
    tta = tta_level(choice["meta"])
    if choice["kind"] == "saved":
        with st.spinner(_("Predicting every test image…")):
            return _saved_evaluation(str(choice["entry"].path), choice["entry"].mtime, ds.name, tta)
    cache = st.session_state["ev_cache"]
    key = (choice["token"], ds.name)
    if key not in cache:
        with st.spinner(_("Predicting every test image…")):
            cache[key] = evaluation.evaluate(model, ds, tta=tta)
    return cache[key]


def saved_model_gone(entry: dict[str, Any]) -> str:
    """For a session model that was saved: "" while its file is there, else who deleted it ("teacher", "owner" or
    "someone"); the entry then counts as unsaved again, so it can be saved anew."""
    name = entry.get("saved_as")
    try:
        if not name or store.exists(name):
            return ""
    except store.StoreError:
        return ""
    status = index.model_status(name) or {}
    entry["saved_as"], entry["deleted_as"] = "", name
    entry["deleted_by"] = str(status.get("deleted_by") or "someone")
    return entry["deleted_by"]


def mark_saved(label: str, name: str) -> None:
    """A session model was saved as ``name``: list it once, as the saved model, and keep it current."""
    entry = st.session_state["session_models"].get(label)
    if entry is None:
        return
    entry["saved_as"] = name
    entry.pop("deleted_as", None)
    if entry.get("run"):
        with contextlib.suppress(db.DatabaseError):
            records.mark_saved(db.database(), entry["run"], name)
    if st.session_state["current_model"] == f"session:{label}":
        st.session_state["current_model"] = f"saved:{name}"


def delete_model_ui(names: list[str], actor: store.Actor, prefix: str, label: str = "",
                    warning: str = "") -> str:
    """Pick one of ``names`` and delete it after an explicit confirmation (a checkbox naming it, then Delete);
    returns the picked name. Keys: ``{prefix}_name``, ``{prefix}_sure_{name}``, ``{prefix}_go``."""
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    name = c1.selectbox(label or _("Model"), names, key=f"{prefix}_name")
    if warning:
        st.warning(_(warning, name=name))
    sure = c2.checkbox(_("Yes, delete {name}", name=name), key=f"{prefix}_sure_{name}")
    if sure and c2.button(_("Delete"), type="primary", key=f"{prefix}_go", icon=":material/delete:"):
        try:
            store.delete_model(name, actor=actor)
        except store.StoreError as e:
            st.error(str(e))
        else:
            st.toast(_("Deleted {name}.", name=name))
            st.rerun()
    return name
