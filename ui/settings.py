"""The Train page's settings: one widget per entry of the hyperparameter schema, values kept across pages."""
from __future__ import annotations

from typing import Any

import streamlit as st

from cnn import cifar_budget, data, hyperparams, run_config, transfer
from cnn.hyperparams import Param
from cnn.i18n import _, n_
from cnn.run_config import PARAMS
from ui.state import in_language, set_sticky, sticky

ORDER = ("epochs", "batch_size", "optimizer", "learning_rate", "validation_split", "schedule", "augment", "seed")


def summary(values: dict[str, Any]) -> str:
    """The settings in one line (presentation mode's collapsed settings)."""
    limit = values.get("train_limit")
    images = _("all images") if limit is None else n_("{n:,} image", "{n:,} images", limit)
    return n_("{n} epoch, batch {batch}, {optimizer} at {rate:g}, {images}",
              "{n} epochs, batch {batch}, {optimizer} at {rate:g}, {images}", values["epochs"],
              batch=values["batch_size"], optimizer=_(PARAMS["optimizer"].label_of(values["optimizer"])),
              rate=values["learning_rate"], images=images)


def key_of(name: str) -> str:
    """The widget key of a schema setting."""
    return f"tr_{name}"


def load_preset_defaults(arch: str, dataset: str) -> None:
    """Put the recommended settings of the network that will train into the widgets (when the architecture,
    the dataset or the transfer choice changes): the shipped digit model's own recipe when a student's
    drawings start from it, else the preset's; a small dataset of a student's own gets the small-data
    recipe (see cnn.run_config.default_config)."""
    from cnn import userdata

    n_train, shape = None, None
    if data.is_user(dataset):
        try:
            stored = userdata.get(data.user_name(dataset))
            n_train, shape = stored.total * 4 // 5, stored.image_shape
        except userdata.UserDataError:
            pass
    base = transfer.base_for(dataset, shape) if shape else None
    start = base if base and st.session_state["sticky"].get("tr_transfer", True) else None
    config = transfer.recipe(dataset, n_train, start, arch)  # the same recipe as the command line's
    for name, value in run_config.config_values(config).items():
        set_sticky(key_of(name), value)
    if start is None:
        fit_epochs_to_budget(arch, dataset)


def last_cifar_run(dataset: str) -> tuple[int, float] | None:
    """(epochs, seconds) of the last run of the recommended CIFAR preset that finished on this class's servers, which
    corrects this computer's forecast (None off CIFAR-10, before any, or while the database cannot be read)."""
    from cnn import db
    from cnn.jobs import records

    if dataset != "cifar10":
        return None
    try:
        return records.last_run_time(db.database(), cifar_budget.CIFAR_RECOMMENDED, dataset)
    except db.DatabaseError:
        return None


def fit_epochs_to_budget(arch: str, dataset: str, previous: str | None = None) -> None:
    """On CIFAR-10, the recommended preset gets as many epochs as fit 10 minutes on this computer (measured, and
    corrected by the last run of it here); moved from CIFAR-10 (``previous``) to another dataset, it gets its own
    recipe's epochs back."""
    if epochs := cifar_budget.budget_epochs(arch, dataset, last_cifar_run(dataset)):
        set_sticky(key_of("epochs"), epochs)
    elif previous and cifar_budget.budget_epochs(arch, previous):
        set_sticky(key_of("epochs"), int(run_config.default_config(arch, dataset).epochs))


def transfer_ui(dataset: str, image_shape: tuple[int, int, int], disabled: bool = False) -> str | None:
    """For a drawing dataset of a student's own: start from the shipped digit model (fine-tuned)? The base's
    name, or None."""
    base = transfer.base_for(dataset, image_shape)
    if base is None:
        return None
    use = st.checkbox(_("Start from the shipped digit model (transfer learning)"), key=sticky("tr_transfer", True),
                      disabled=disabled, on_change=in_language(_transfer_changed),
                      help=_("Its convolutions already know strokes, curves and corners from 60,000 digits; with a "
                             "few dozen drawings per class that helps a lot. See Lessons > Transfer learning."))
    return base if use else None


def _transfer_changed() -> None:
    set_sticky("tr_transfer", st.session_state["tr_transfer"])
    load_preset_defaults(st.session_state["tr_arch"], st.session_state["tr_ds"])


def preset_advice(arch: str, dataset: str = "cifar10") -> str:
    """The Train page's line on CIFAR-10 from this computer's measured minutes (cnn.cifar_budget.advice), in the
    student's words; "" when there is nothing to say."""
    said = cifar_budget.advice(arch, dataset, last_cifar_run(dataset))
    if said is None:
        return ""
    small = said.minutes[cifar_budget.CIFAR_RECOMMENDED]
    if said.case == "small too slow":
        return _("Measured on this computer: **CIFAR small** trains in about {small:.0f} minutes for its {own} "
                 "epochs, more than 10. With fewer epochs a run is shorter, but it gets more photos wrong.",
                 small=small, own=said.own)
    if said.case == "small more epochs":  # and what they read: below 88% where 10 minutes hold fewer than 16
        acc = cifar_budget.expected_accuracy(said.epochs)
        if said.epochs >= cifar_budget.CIFAR_MAX_EPOCHS:
            return _("Measured on this computer: 10 minutes hold {n} epochs of **CIFAR small**, the number Epochs "
                     "starts at: about {acc:.1%} of the test photos right, the most it was measured to reach.",
                     n=said.epochs, acc=acc)
        return _("Measured on this computer: 10 minutes hold {n} epochs of **CIFAR small**, the number Epochs "
                 "starts at: about {acc:.1%} of the test photos right. More epochs read more (88% after 16, 88.5% "
                 "after 24), but take longer than 10 minutes here.", n=said.epochs, acc=acc)
    measured = _("Measured on this computer: **CIFAR** trains its {cifar_epochs} epochs in about {cifar:.0f} minutes, "
                 "**CIFAR small** its {small_epochs} in about {small:.0f}.", cifar=said.minutes["cifar"],
                 small=small, cifar_epochs=said.cifar_epochs, small_epochs=said.own)
    if said.case == "neither fits":
        return measured + " " + _("Neither fits 10 minutes here: **CIFAR small** is the quicker one. With fewer "
                                  "epochs a run is shorter, but it gets a few more photos wrong.")
    return measured + " " + _("**CIFAR small** reads more photos right within 10 minutes: it trains with airbench's "
                              "recipe, which needs fewer epochs.")


def show_run(config: Any, job_id: str) -> None:
    """A run of this student trains (started before a reload, or in another tab): the locked settings show its own
    (dataset, network, every hyperparameter), once per run, so that the page says what is training and a Train
    pressed after it trains what she had set, not the defaults of a fresh page."""
    if st.session_state.get("tr_shows_run") == job_id:
        return
    st.session_state["tr_shows_run"] = job_id
    set_sticky("tr_ds", config.dataset)
    set_sticky("tr_arch", config.arch)
    if config.arch == "custom" and config.spec:
        st.session_state["spec"] = config.spec
    if data.is_user(config.dataset):
        set_sticky("tr_transfer", bool(config.start_from))
    for name, value in run_config.config_values(config).items():
        set_sticky(key_of(name), value)


def ensure_defaults(arch: str, dataset: str) -> None:
    """First visit: the preset's settings."""
    if key_of("epochs") not in st.session_state["sticky"]:
        load_preset_defaults(arch, dataset)


def widget_ui(param: Param, container: Any = st, disabled: bool = False) -> Any:
    """The widget of one schema setting, bounded and explained by the schema."""
    key = sticky(key_of(param.name))
    common = dict(key=key, help=_(param.help), disabled=disabled)
    label = _(param.label)
    if param.kind is bool:
        return container.checkbox(label, **common)
    if param.name == "train_limit":
        return container.select_slider(label, list(param.choices), format_func=lambda c: _(str(c)), **common)
    if param.choices:
        return container.selectbox(label, list(param.choices), format_func=lambda c: _(param.label_of(c)), **common)
    if param.name == "validation_split":
        return container.slider(label, float(param.lo), float(param.hi), step=param.step, **common)
    if param.kind is int:
        return container.number_input(label, int(param.lo), int(param.hi), step=1, **common)
    lo = 0.0 if param.name == "learning_rate" else float(param.lo)  # typed 0 gets the schema's message
    return container.number_input(label, lo, float(param.hi), step=param.step, format=param.format, **common)


def settings_ui(disabled: bool = False, per_row: int = 4) -> dict[str, Any]:
    """All Train settings, ``per_row`` to a row, then the training-set size; returns TrainConfig fields."""
    values: dict[str, Any] = {}
    for start in range(0, len(ORDER), per_row):
        row = ORDER[start:start + per_row]
        for col, name in zip(st.columns(per_row), row, strict=False):
            values[name] = widget_ui(PARAMS[name], col, disabled)
    values["train_limit"] = hyperparams.limit_value(widget_ui(PARAMS["train_limit"], st, disabled))
    with st.expander(_("More settings"), icon=":material/tune:"):
        values["label_smoothing"] = widget_ui(PARAMS["label_smoothing"], st, disabled)
        values["precision"] = widget_ui(PARAMS["precision"], st, disabled)
        values["crop_share"] = widget_ui(PARAMS["crop_share"], st, disabled)
    values["epochs"], values["batch_size"], values["seed"] = (int(values["epochs"]), int(values["batch_size"]),
                                                              int(values["seed"]))
    return values


def preset_about_ui(name: str, dataset: str, container: Any = st) -> None:
    """Under the Architecture box: what the preset is for and what it costs, in a student's words; what it took
    on this class's servers with the current number of epochs, when it has been trained here (the benchmark
    diaries behind the captions are in bench/README.md, not on a student's page)."""
    from cnn import data, db, presets
    from cnn.jobs import records
    from ui.runs import fmt_seconds

    preset = presets.get(name)
    container.caption(_(preset.caption))
    epochs = st.session_state["sticky"].get(key_of("epochs"))
    try:
        here = records.measured_here(db.database(), name, dataset, int(epochs)) if epochs else None
    except (db.DatabaseError, TypeError, ValueError):
        here = None  # the page says once elsewhere when the class database cannot be read
    if here is not None:
        accuracy = _(", {acc:.1%} of the test images right", acc=here.test_accuracy) \
            if here.test_accuracy is not None else ""
        runs = _("one run") if here.runs == 1 else _("the median of {n} runs", n=here.runs)
        container.caption(n_("**Measured here:** {time} of training for {n} epoch on {title}{accuracy} ({runs}).",
                             "**Measured here:** {time} of training for {n} epochs on {title}{accuracy} ({runs}).",
                             int(epochs), time=fmt_seconds(here.seconds), title=data.title(dataset),
                             accuracy=accuracy, runs=runs))


def cifar_timing_ui(where, arch: str, dataset: str) -> None:
    """Until this computer is measured, a button that times both CIFAR presets here (about 20 s, once per
    computer) so the page can say which one to use and how many epochs fit 10 minutes (set at once)."""
    minutes = cifar_budget.cifar_minutes(measure=False)
    if minutes is not None:
        where.caption(_("Measured on this computer: CIFAR trains in about {cifar:.0f} minutes, CIFAR small in about "
                        "{cifar_small:.0f}.", cifar=minutes["cifar"], cifar_small=minutes["cifar_small"]))
        return
    if where.button(_("How many CIFAR epochs fit 10 minutes here? Measure this computer (about 20 s)"),
                    key="tr_measure_cifar", icon=":material/timer:"):
        with where.spinner(_("Timing a few training steps of each CIFAR preset…")):
            cifar_budget.cifar_minutes(measure=True)
        fit_epochs_to_budget(arch, dataset)
        st.rerun()
