"""The layer editor: add, remove, reorder and edit layers, validated as you edit."""
from __future__ import annotations

import streamlit as st

from cnn import architectures as arch

PARAM_WIDGETS = {
    "filters": ("Filters", 1, 1024, 1),
    "kernel": ("Kernel", 1, 15, 1),
    "stride": ("Stride", 1, 8, 1),
    "size": ("Pool size", 1, 8, 1),
    "units": ("Units", 1, 8192, 1),
}


def _bump() -> None:
    st.session_state["spec_version"] = st.session_state.get("spec_version", 0) + 1


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


def _params_ui(layer: dict, key: str, disabled: bool = False) -> dict:
    """Inline inputs for one layer's parameters; returns the edited layer."""
    t = layer["type"]
    defaults = arch.LAYER_TYPES[t][0]
    out = {"type": t}
    names = list(defaults)
    if not names:
        st.caption(arch.LAYER_TYPES[t][1])
        return out
    cols = st.columns(len(names))
    for col, p in zip(cols, names):
        value = layer.get(p, defaults[p])
        if p in PARAM_WIDGETS:
            label, lo, hi, step = PARAM_WIDGETS[p]
            safe = int(value) if isinstance(value, (int, float)) and lo <= value <= hi else defaults[p]
            out[p] = int(col.number_input(label, lo, hi, safe, step, key=f"{key}_{p}", disabled=disabled))
        elif p == "rate":
            safe = float(value) if isinstance(value, (int, float)) and 0 <= value < 1 else 0.25
            out[p] = float(col.number_input("Rate", 0.0, 0.95, safe, 0.05, key=f"{key}_{p}", disabled=disabled))
        elif p == "padding":
            out[p] = col.selectbox("Padding", arch.PADDINGS, arch.PADDINGS.index(value) if value in arch.PADDINGS
                                   else 0, key=f"{key}_{p}", disabled=disabled)
        elif p == "activation":
            out[p] = col.selectbox("Activation", arch.ACTIVATIONS, arch.ACTIVATIONS.index(value)
                                   if value in arch.ACTIVATIONS else 0, key=f"{key}_{p}", disabled=disabled)
    return out


def layer_editor_ui(input_shape: tuple[int, int, int], num_classes: int,
                    disabled: bool = False) -> tuple[list[dict], bool]:
    """Edit ``st.session_state['spec']`` in place; returns (spec, is_valid). Errors sit by their layer."""
    spec = st.session_state["spec"]
    version = st.session_state.setdefault("spec_version", 0)
    names = arch.layer_names(spec)
    st.caption(f"Input: {input_shape[0]}×{input_shape[1]}×{input_shape[2]} image. The output layer "
               f"(Dense {num_classes}, softmax) is added after your layers.")
    slots = []
    for i, layer in enumerate(spec):
        key = f"ed{version}_{i}"
        with st.container(border=True):
            head, body, up, down, rm = st.columns([1.6, 6, 0.5, 0.5, 0.5], vertical_alignment="bottom")
            head.markdown(f"**{i + 1}. {names[i]}**  \n`{layer['type']}`")
            with body:
                spec[i] = _params_ui(layer, key, disabled)
            up.button("↑", key=f"{key}_up", on_click=_move, args=(i, -1), disabled=i == 0, help="Move up")
            down.button("↓", key=f"{key}_down", on_click=_move, args=(i, 1), disabled=i == len(spec) - 1,
                        help="Move down")
            rm.button("✕", key=f"{key}_rm", on_click=_remove, args=(i,), help="Remove this layer")
            slots.append(st.empty())
    add_col, btn_col = st.columns([3, 1], vertical_alignment="bottom")
    add_col.selectbox("Layer to add", list(arch.LAYER_TYPES), key="editor_new_type",
                      format_func=lambda t: f"{t} — {arch.LAYER_TYPES[t][1]}")
    btn_col.button("➕ Add layer", on_click=_add, width="stretch")
    try:
        arch.validate(spec, input_shape, num_classes)
    except arch.SpecError as e:
        if e.index is not None and e.index < len(slots):
            slots[e.index].error(str(e), icon="⚠️")
        else:
            st.error(str(e), icon="⚠️")
        return spec, False
    return spec, True
