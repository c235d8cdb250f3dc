"""Train: pick data and an architecture, set hyperparameters, train with live charts, stop, save."""
import io
import json
import tempfile
import time
from pathlib import Path

import streamlit as st

import ui
from cnn import architectures as arch
from cnn import charts, data, inspection, store, training
from ui import classroom, editor, live

ui.page_setup_ui("Train", "🏋️")
st.title("🏋️ Train a network")
CUSTOM = "custom"


def _preset_defaults() -> None:
    """When the architecture changes, load its recommended hyperparameters into the widgets."""
    a = st.session_state["tr_arch"]
    if a == CUSTOM:
        if not st.session_state.get("spec"):
            st.session_state["spec"] = arch.preset(st.session_state.get("tr_last_preset", "fast"))
        return
    st.session_state["tr_last_preset"] = a
    cfg = training.default_config(a, st.session_state["tr_ds"])
    for key, value in (("tr_epochs", cfg.epochs), ("tr_batch", cfg.batch_size), ("tr_opt", cfg.optimizer),
                       ("tr_lr", cfg.learning_rate), ("tr_val", cfg.validation_split), ("tr_aug", cfg.augment),
                       ("tr_sched", cfg.schedule)):
        st.session_state[key] = value


st.session_state.setdefault("tr_ds", "mnist")
st.session_state.setdefault("tr_arch", "fast")
st.session_state.setdefault("tr_seed", 42)
for bad in classroom.apply_query_params(_preset_defaults):
    st.warning(f"Ignored the link setting `{bad}`: it is not a valid value.")
if "tr_epochs" not in st.session_state:
    _preset_defaults()

c1, c2 = st.columns(2)
ds_name = c1.selectbox("Dataset", list(data.DATASETS), key="tr_ds", format_func=lambda n: data.DATASETS[n].title)
arch_name = c2.selectbox("Architecture", list(arch.PRESETS) + [CUSTOM], key="tr_arch", on_change=_preset_defaults,
                         format_func=lambda a: arch.PRESET_TITLES.get(a, "Custom: build your own in the layer editor"))
if arch_name in arch.PRESET_NOTES:
    c2.caption(arch.PRESET_NOTES[arch_name])
ds = ui.dataset_ui(ds_name)
if ds is None:
    st.stop()

if arch_name == CUSTOM:
    with st.expander("🧱 Layer editor", expanded=True):
        spec, valid = editor.layer_editor_ui(ds.image_shape, ds.num_classes)
else:
    spec = arch.preset(arch_name)
    try:
        arch.validate(spec, ds.image_shape, ds.num_classes)
        valid = True
    except arch.SpecError as e:
        st.error(f"The {arch_name} preset does not fit {ds_name} images: {e}")
        valid = False
    st.caption("Want to change it? Choose **custom** to edit these layers.")


@st.cache_data(max_entries=32, show_spinner="Building the model…")
def summary_rows(spec_json: str, shape: tuple, k: int) -> list[dict]:
    return inspection.layer_table(arch.build_model(json.loads(spec_json), shape, k))


st.subheader("Hyperparameters")
h = st.columns(4)
epochs = h[0].number_input("Epochs", 1, 500, key="tr_epochs", help="Passes over the training data.")
batch = h[1].number_input("Batch size", 1, 8192, key="tr_batch", help="Images per weight update.")
opt = h[2].selectbox("Optimizer", training.OPTIMIZERS, key="tr_opt")
lr = h[3].number_input("Learning rate", 0.0, 10.0, key="tr_lr", format="%.4f", step=0.0005)
h = st.columns(4)
val = h[0].slider("Validation split", 0.0, 0.5, key="tr_val", step=0.05,
                  help="Fraction of training images held out to watch for overfitting.")
sched = h[1].selectbox("Learning-rate schedule", training.SCHEDULES, key="tr_sched",
                       help="cosine: warm up, then decay smoothly to zero; usually faster to a good model.")
aug = h[2].checkbox("Data augmentation", key="tr_aug", help="Random rotation, shift and zoom: see the Data page.")
seed = h[3].number_input("Seed", 0, 1_000_000, key="tr_seed", help="Same seed, same run (on the CPU).")
limit = st.select_slider("Training images to use", ["all", 10000, 5000, 2000, 1000, 500], key="tr_limit",
                         help="Fewer images: faster, less accurate. Handy for a quick demo.")
config = training.TrainConfig(dataset=ds_name, arch=arch_name, spec=spec if arch_name == CUSTOM else None,
                              epochs=int(epochs), batch_size=int(batch), optimizer=opt, learning_rate=float(lr),
                              schedule=sched, validation_split=float(val), augment=bool(aug), seed=int(seed),
                              train_limit=None if limit == "all" else int(limit))

if valid:
    rows = summary_rows(arch.spec_json(spec), ds.image_shape, ds.num_classes)
    total = sum(r["params"] for r in rows)
    with st.expander(f"📋 Model summary: {len(rows)} layers, {total:,} parameters", expanded=not ui.presenting()):
        st.dataframe(rows, hide_index=True, width="stretch")
    with st.expander("🐍 Show Keras code"):
        st.code(training.keras_code(config, ds.image_shape, ds.num_classes), language="python")
    e1, e2 = st.columns([1, 3], vertical_alignment="center")
    if e1.button("⏱ Estimate time per epoch", key="tr_estimate_btn"):
        with st.spinner("Timing a few training steps…"):
            try:
                st.session_state["tr_estimate"] = (training.estimate_epoch_seconds(config, ds), config.batch_size)
            except Exception as e:
                st.session_state["tr_estimate"] = None
                st.error(f"Could not time it: {e}")
    est = st.session_state.get("tr_estimate")
    if est:
        e2.info(f"About **{est[0]:.0f} s per epoch** on this machine ({training.device_description()}), "
                f"so about {est[0] * config.epochs / 60:.1f} min for {config.epochs} epochs.")

if arch_name != CUSTOM and not ui.presenting():
    with st.expander("🔗 Share these settings (classroom link)"):
        st.code(classroom.share_link(config), language=None)
        st.caption("Students who open this link get this dataset, architecture and hyperparameters. "
                   "Add `&present=1` for presentation mode.")

state = live.poll("train_runs")
running = live.is_running("train_runs")
b1, b2, _ = st.columns([1, 1, 3])
start = b1.button("▶ Train", type="primary", key="tr_start", disabled=running or not valid, width="stretch")
if b2.button("⏹ Stop", key="tr_stop", disabled=not running, width="stretch",
             help="Ends after the current batch, keeping the weights and curves so far."):
    live.stop("train_runs")

if start and not running:
    try:
        n = min(len(ds.train_images), config.train_limit or len(ds.train_images))
        training.check_config(config, n, ds.image_shape)
    except (training.TrainingError, arch.SpecError) as e:
        st.error(str(e))
    else:
        label = f"{config.arch}-{ds_name}-{time.strftime('%H%M%S')}"
        live.start_runs("train_runs", [(label, config, ds, None)])
        st.session_state["train_registered"] = False
        st.rerun()  # redraw the buttons: Train off, Stop on

if running:
    live.progress_ui("train_runs")
elif state and state["done"]:
    if state["error"]:
        st.error(state["error"])
if state and state["done"] and not st.session_state.get("train_registered"):
    st.session_state["train_registered"] = True  # this session's model: usable on every page at once
    for label, result in state["results"]:
        meta = training.result_metadata(result, ds.class_names, ds.image_shape, "CNN Lab Train page")
        st.session_state["session_models"][label] = {"model": result.model, "meta": meta}
        st.session_state["train_result"] = (label, result, meta)

if st.session_state["train_result"]:
    label, result, meta = st.session_state["train_result"]
    st.subheader(f"Result: {label}")
    if result.status == "nan":
        st.error(result.message)
    elif result.status == "stopped":
        st.warning(result.message + " The weights and curves so far are kept.")
    else:
        st.success(f"Finished {result.epochs_done} epochs in {result.seconds:.1f} s.")
    m = st.columns(3)
    m[0].metric("Test accuracy", f"{result.test_accuracy:.2%}" if result.test_accuracy == result.test_accuracy else "—")
    m[1].metric("Test loss", f"{result.test_loss:.4f}" if result.test_loss == result.test_loss else "—")
    m[2].metric("Training time", f"{result.seconds:.1f} s")
    st.plotly_chart(charts.history_figure(result.history, result.batch_history), key="final_chart")
    st.caption("This model is ready on the **Evaluate**, **Inspect** and **Draw** pages in this browser session, "
               "saved or not.")
    with st.form("save_form", border=True):
        name = st.text_input("Save as", value=f"{result.config.arch}-{ds_name}", max_chars=64,
                             help="Letters, digits, - and _. Saved models are shared with everyone on this server.")
        if st.form_submit_button("💾 Save model"):
            try:
                entry = store.save_model(result.model, name, meta)
                st.success(f"Saved as **{entry.name}** in models/. It now appears in every model list.")
            except store.StoreError as e:
                st.error(str(e))
    d1, d2 = st.columns(2)
    if d1.button("Prepare .keras download"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            result.model.save(path)
            st.session_state["tr_download"] = (label, path.read_bytes())
    dl = st.session_state.get("tr_download")
    if dl and dl[0] == label:
        d1.download_button("⬇ Download model (.keras)", dl[1], file_name=f"{label}.keras")
    buf = io.StringIO()
    keys = list(result.history)
    buf.write("epoch," + ",".join(keys) + "\n")
    for i in range(result.epochs_done):
        buf.write(f"{i + 1}," + ",".join(f"{result.history[k][i]:.6f}" for k in keys if i < len(result.history[k]))
                  + "\n")
    d2.download_button("⬇ Download history (.csv)", buf.getvalue(), file_name=f"{label}-history.csv", mime="text/csv")
