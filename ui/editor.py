"""The layer editor: add, remove, reorder and edit layers, validated as you edit.

Every widget comes from the layer registry (:mod:`cnn.layers`): a kind's fields give the inputs, their
labels and bounds, so the editor and validation never disagree.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from cnn import architectures as arch
from cnn.i18n import _
from cnn.layers import KINDS, Field
from ui.state import in_language


def _bump() -> None:
    st.session_state["spec_version"] += 1


def _move(i: int, delta: int) -> None:
    spec = st.session_state["spec"]
    j = i + delta
    if 0 <= j < len(spec):
        spec[i], spec[j] = spec[j], spec[i]
        _bump()


def _remove(i: int) -> None:
    st.session_state["spec"].pop(i)
    _bump()


def _add() -> None:
    st.session_state["spec"].append(arch.new_layer(st.session_state["editor_new_type"]))
    _bump()


def _field_ui(field: Field, value: Any, key: str, col, disabled: bool) -> Any:
    """One input for one field of a layer, bounded as the registry says (its "?" says what it does, in plain words)."""
    common = dict(key=key, disabled=disabled, help=_(field.help) if field.help else None)
    if field.choices:
        index = field.choices.index(value) if value in field.choices else field.choices.index(field.default)
        return col.selectbox(_(field.label), field.choices, index=index, **common)
    if field.kind is int:
        safe = int(value) if isinstance(value, (int, float)) and field.lo <= value <= field.hi else field.default
        return int(col.number_input(_(field.label), int(field.lo), int(field.hi), safe, 1, **common))
    safe = float(value) if isinstance(value, (int, float)) and field.lo <= value <= field.hi else field.default
    return float(col.number_input(_(field.label), float(field.lo), float(field.hi), safe, field.step, **common))


def _layer_ui(layer: dict, key: str, disabled: bool) -> dict:
    """Inline inputs for one layer's fields; returns the edited layer."""
    kind = KINDS.get(layer.get("type"))
    if kind is None:
        st.caption(_("Unknown layer type {type!r}: remove it.", type=layer.get('type')))
        return layer
    if not kind.fields:
        st.caption(_(kind.help))
        return {"type": kind.type}
    out = {"type": kind.type}
    for col, field in zip(st.columns(len(kind.fields)), kind.fields, strict=True):
        out[field.name] = _field_ui(field, layer.get(field.name, field.default), f"{key}_{field.name}", col, disabled)
    return out


def layer_editor_ui(input_shape: tuple[int, int, int], num_classes: int,
                    disabled: bool = False) -> tuple[list[dict], bool]:
    """Edit ``st.session_state['spec']`` in place; returns (spec, is_valid). Errors sit by their layer."""
    spec = st.session_state["spec"]
    version = st.session_state["spec_version"]
    names = arch.layer_names(spec)
    st.caption(_("Input: {h}×{w}×{c} image. The output layer (Dense {k}, softmax) is added after your layers.",
                 h=input_shape[0], w=input_shape[1], c=input_shape[2], k=num_classes))
    slots = []
    for i, layer in enumerate(spec):
        key = f"ed{version}_{i}"
        kind = KINDS.get(layer.get("type"))
        with st.container(border=True):
            head, body, up, down, rm = st.columns([1.8, 6, 0.45, 0.45, 0.45], vertical_alignment="bottom")
            head.markdown(f"**{i + 1}. {names[i]}**  \n{_(kind.title) if kind else layer.get('type')}")
            with body:
                spec[i] = _layer_ui(layer, key, disabled)
            up.button("", key=f"{key}_up", on_click=in_language(_move), args=(i, -1),
                      disabled=disabled or i == 0, help=_("Move up"), icon=":material/arrow_upward:")
            down.button("", key=f"{key}_down", on_click=in_language(_move), args=(i, 1),
                        disabled=disabled or i == len(spec) - 1, help=_("Move down"), icon=":material/arrow_downward:")
            rm.button("", key=f"{key}_rm", on_click=in_language(_remove), args=(i,), disabled=disabled,
                      help=_("Remove this layer"), icon=":material/delete:")
            slots.append(st.empty())
    add_col, btn_col = st.columns([3, 1], vertical_alignment="bottom")
    add_col.selectbox(_("Layer to add"), list(KINDS), key="editor_new_type", disabled=disabled,
                      format_func=lambda t: f"{_(KINDS[t].title)} — {_(KINDS[t].help)}")
    btn_col.button(_("Add layer"), on_click=in_language(_add), width="stretch", disabled=disabled,
                   icon=":material/add:")
    try:
        arch.validate(spec, input_shape, num_classes)
    except arch.SpecError as e:
        if e.index is not None and e.index < len(slots):
            slots[e.index].error(str(e), icon=":material/warning:")
        else:
            st.error(str(e), icon=":material/warning:")
        return spec, False
    return spec, True
