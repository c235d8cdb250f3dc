"""Train: pick data and an architecture, set hyperparameters, train with live charts, stop, save."""
import json
import time

import streamlit as st

from cnn import architectures as arch
from cnn import cifar_budget, data, inspection, keras_files, presets, run_config, store, transfer
from cnn.i18n import N_, _, headed
from cnn.jobs import JobRequest
from ui import chrome, classroom, datasets, editor, figures, results, runs, settings, state
from ui.notebook import notebook_ui
from ui.state import in_language, sticky

chrome.page_setup_ui("Train")
chrome.title_ui("Train", _("Train a network"))
CUSTOM = "custom"
CUSTOM_TITLE = N_("Custom: build your own in the layer editor")
running = runs.is_running("train")
if running and st.session_state.get("train_config") is not None:  # a reload while it trains: its settings, locked
    settings.show_run(st.session_state["train_config"], runs.group("train").jobs[0].id)

for problem in classroom.apply_share_link():
    st.warning(_("Ignored the link setting {problem}", problem=problem), icon=":material/link_off:")


def _arch_changed() -> None:
    """A new architecture brings its recommended hyperparameters."""
    a = st.session_state["tr_arch"]
    if a == CUSTOM:
        if not st.session_state["spec"]:
            st.session_state["spec"] = arch.preset(st.session_state["sticky"].get("tr_last_preset", "fast"))
        return
    st.session_state["sticky"]["tr_last_preset"] = a
    settings.load_preset_defaults(a, st.session_state["tr_ds"])


def _dataset_changed() -> None:
    """To or from a small dataset of a student's own: settings that fit it (batch, epochs, augmentation). To or from
    CIFAR-10: the epochs that fit 10 minutes here, as the page's advice says."""
    new, old = st.session_state["tr_ds"], st.session_state["sticky"].get("tr_ds", "")
    if data.is_user(new) or data.is_user(old):
        settings.load_preset_defaults(st.session_state["tr_arch"], new)
    else:  # only the recommended CIFAR preset has a budget: any other architecture keeps its epochs
        settings.fit_epochs_to_budget(st.session_state["tr_arch"], new, old)


c1, c2 = st.columns(2)
with c1:
    ds_name = datasets.dataset_picker_ui("tr_ds", disabled=running, on_change=in_language(_dataset_changed))
arch_name = c2.selectbox(_("Architecture"), [*presets.PRESETS, CUSTOM], key=sticky("tr_arch", "fast"),
                         on_change=in_language(_arch_changed), disabled=running,
                         format_func=lambda a: _(presets.PRESETS[a].title) if a in presets.PRESETS
                         else _(CUSTOM_TITLE))
settings.ensure_defaults(arch_name if arch_name != CUSTOM else "fast", ds_name)
if arch_name in presets.PRESETS and not chrome.presenting():
    settings.preset_about_ui(arch_name, ds_name, c2)
if advice := settings.preset_advice(arch_name, ds_name):
    c2.info(advice, icon=":material/speed:")
elif arch_name in cifar_budget.CIFAR_PRESETS and ds_name == "cifar10" and not running:
    settings.cifar_timing_ui(c2, arch_name, ds_name)
ds = datasets.dataset_ui(ds_name)
if ds is None:
    st.stop()
start_from = settings.transfer_ui(ds_name, ds.image_shape, disabled=running)

if start_from:
    base_meta = store.read_meta(start_from)
    arch_name, spec, valid = base_meta.get("arch", "vgg"), base_meta.get("spec"), True
    st.caption(_("The network is **{start_from}**'s layers, all still learning but its batch normalization, which "
                 "keeps the digits' statistics, with a new head for your {num_classes} classes (the Architecture box "
                 "does not apply; the settings below are that network's).",
                 start_from=start_from, num_classes=ds.num_classes))
elif arch_name == CUSTOM:
    with st.expander(_("Layer editor"), expanded=not running, icon=":material/stacks:"):
        spec, valid = editor.layer_editor_ui(ds.image_shape, ds.num_classes, disabled=running)
else:
    spec = arch.preset(arch_name)
    try:
        arch.validate(spec, ds.image_shape, ds.num_classes)
        valid = True
    except arch.SpecError as e:
        st.error(_("The {arch_name} preset does not fit {ds_name} images: {e}",
                   arch_name=arch_name, ds_name=ds_name, e=e))
        valid = False
    st.caption(_("Want to change it? Choose **{custom}** under Architecture to edit these layers.",
                 custom=_("Custom")))  # the first word of the option's title


@st.cache_data(max_entries=32, show_spinner=False)
def summary_rows(spec_json: str, shape: tuple, k: int, base: str | None) -> list[dict]:
    """The model summary: from the spec alone (no TensorFlow: a fresh server's first Train page is ready seconds
    sooner), or read from the Keras model a transfer run starts from."""
    if base:
        return inspection.layer_table(transfer.transfer_model(store.load_model(base), k, freeze=False))
    return arch.summary(json.loads(spec_json), shape, k)


if chrome.presenting():  # on a projector: the Train button first, the settings folded under it
    buttons = st.container()
    with st.expander(_("Settings"), icon=":material/tune:"):
        values = settings.settings_ui(disabled=running, per_row=2)
    buttons.markdown(f"**{settings.summary(values)}**")
else:
    st.subheader(_("Hyperparameters"))
    if not chrome.presenting():
        st.caption(_("Hyperparameters are the settings you choose before training: how long, in what steps, how fast. "
                     "The network learns its weights by itself; these it cannot learn. Each **?** says what one "
                     "does."))
    values = settings.settings_ui(disabled=running)
    buttons = st.container()
config = run_config.TrainConfig(dataset=ds_name, arch=arch_name, spec=spec if arch_name == CUSTOM else None,
                              start_from=start_from, **values)

if valid and not running and not start_from:
    runs.get_ready(config, ds)  # an idle worker builds and traces this model now: Train answers at once


def submit(config: run_config.TrainConfig, ds, start_from: str | None) -> str:
    """Start this run ("" when it started; else why not, for the page to say)."""
    try:
        n = min(len(ds.train_images), config.train_limit or len(ds.train_images))
        run_config.check_config(config, n, ds.image_shape)
        initial = None
        if start_from:  # the transfer model travels to the worker (a Ray machine has no models folder) as a file
            initial = keras_files.model_to_bytes(transfer.starting_model(start_from, ds.num_classes, ds.image_shape,
                                                                   config.freeze, config.seed))
    except (run_config.TrainingError, arch.SpecError, store.StoreError, transfer.TransferError) as e:
        return str(e)
    label = f"{config.arch}-{ds.name.replace('user:', '')}-{time.strftime('%H%M%S')}"
    runs.start("train", [JobRequest(config, ds, label=label, initial_model=initial)], register=True)
    st.session_state["train_config"] = config
    return ""


def _pressed() -> None:
    """Train pressed: submit before the page runs again, with the run this page showed, when nothing changed since
    (a setting typed and Train clicked at once come together: then the page submits after its run, as it used to).
    The first batch comes 0.15-0.2 s sooner."""
    st.session_state["train_keeps_focus"] = True  # from now on the page keeps Train's and Stop's focus (keep_focus_ui)
    shown = st.session_state.get("tr_shown")
    if shown is None or runs.is_running("train") or shown[3] != widget_values():
        return
    state.speak_session_language()
    st.session_state["tr_error"] = submit(shown[0], datasets.load_dataset(shown[1]), shown[2])


def widget_values() -> dict:
    """What the Train page's settings are now (its widgets' values and the layer editor's layers)."""
    return {**{k: v for k, v in st.session_state.items() if k.startswith("tr_") and k not in ("tr_start", "tr_stop",
                                                                                             "tr_shown", "tr_error")},
            "spec": json.dumps(st.session_state.get("spec"), sort_keys=True, default=str)}


st.session_state["tr_shown"] = (config, ds_name, start_from, widget_values()) if valid and not running else None
b1, b2, b3 = buttons.columns([1, 1, 3], vertical_alignment="center")
start = b1.button(_("Train"), type="primary", key="tr_start", disabled=running or not valid, width="stretch",
                  icon=":material/play_arrow:", on_click=in_language(_pressed))
if b2.button(_("Stop"), key="tr_stop", disabled=not running, width="stretch", icon=":material/stop:",
             help=_("Ends after the current batch, keeping the weights and curves so far.")):
    st.session_state["train_keeps_focus"] = True
    runs.stop("train")
    st.rerun()
if st.session_state.get("train_keeps_focus"):
    chrome.keep_focus_ui("tr_stop", "tr_start")  # Stop while it trains, Train once it ended
if running:
    b3.caption(_("Settings are locked while this run trains. You can open any other page: it keeps training, "
                 "and the sidebar shows how far it is."))

if start and st.session_state.get("tr_error"):  # the press's own submit (_pressed) was refused
    st.error(st.session_state.pop("tr_error"))
elif start and not running:
    if why := submit(config, ds, start_from):
        st.error(why)
    else:
        st.rerun()  # redraw the controls: locked while it trains

if running:
    runs.progress_ui("train")
else:
    group = runs.group("train")
    for message in group.errors() if group else []:
        st.error(message)

if valid:
    with st.spinner(_("Building the model…")):
        rows = summary_rows(arch.spec_json(spec), ds.image_shape, ds.num_classes, start_from)
    total = sum(r["params"] for r in rows)
    with st.expander(_("Model summary: {n} layers, {total:,} parameters", n=len(rows), total=total),
                     icon=":material/table_rows:"):
        figures.table(st, headed(rows), hide_index=True, width="stretch")
    with st.expander(_("Show Keras code"), icon=":material/code:"):
        st.code(run_config.keras_code(config, ds.image_shape, ds.num_classes), language="python")
        notebook_ui(config, ds, "tr_notebook")
    results.estimate_ui(config, ds)
if arch_name != CUSTOM and not chrome.presenting():
    with st.expander(_("Share these settings (classroom link)"), icon=":material/share:"):
        st.code(classroom.share_link(config), language=None)
        st.caption(_("Students who open this link get this dataset, architecture and hyperparameters. "
                     "Add `&present=1` for presentation mode."))

if st.session_state["train_result"] and not running:
    results.result_ui(*st.session_state["train_result"])
runs.your_runs_ui("tr_your_runs")
