"""The Train page's after-training view: how the run ended, its curves, save and downloads."""
from __future__ import annotations

import io
import math
import re

import streamlit as st

from cnn import cifar_budget, data, keras_files, run_config, run_results, store, training
from cnn.i18n import _, n_, number, said
from ui import charts, chrome, datasets, figures, models
from ui.export import export_ui
from ui.notebook import notebook_ui


def estimate_ui(config: run_config.TrainConfig, ds: data.Dataset) -> None:
    """"Estimate time per epoch": a few real training steps on this machine, scaled to an epoch."""
    e1, e2 = st.columns([2, 3] if chrome.presenting() else [1, 3], vertical_alignment="center")  # big letters
    if e1.button(_("Estimate time per epoch"), key="tr_estimate_btn", icon=":material/timer:"):
        with st.spinner(_("Timing a few training steps…")):
            try:
                st.session_state["estimate"] = (cifar_budget.estimate_epoch_seconds(config, ds), config)
            except Exception as e:  # a spec Keras refuses, memory...: a message, never a traceback
                st.session_state["estimate"] = None
                st.error(_("Could not time it: {e}", e=e))
    est = st.session_state["estimate"]
    if est and est[1].dataset == config.dataset and est[1].batch_size == config.batch_size:
        seconds = est[0]
        e2.info(n_("About **{seconds:.0f} s per epoch** on this machine ({device}), so about {minutes:.1f} min for "
                   "{n} epoch.", "About **{seconds:.0f} s per epoch** on this machine ({device}), so about "
                   "{minutes:.1f} min for {n} epochs.", config.epochs, seconds=seconds,
                   device=training.device_description(), minutes=seconds * config.epochs / 60))


def history_csv(history: dict[str, list[float]]) -> str:
    """The per-epoch history as CSV (epoch, then one column per metric)."""
    buf = io.StringIO()
    keys = list(history)
    n = max((len(v) for v in history.values()), default=0)
    buf.write("epoch," + ",".join(keys) + "\n")
    for i in range(n):
        buf.write(f"{i + 1}," + ",".join(f"{history[k][i]:.6f}" if i < len(history[k]) else "" for k in keys) + "\n")
    return buf.getvalue()


def result_ui(label: str, result: run_results.TrainResult, meta: dict) -> None:
    """How the run ended, its test metrics and curves; save it, download it."""
    st.subheader(_("Result: {label}", label=label))
    verdict = run_results.verdict(result)
    if result.status == "nan":
        st.error(said(result.message))
    elif result.status == "stopped":
        st.warning(said(result.message) + " " + _("The weights and curves so far are kept."))
    elif verdict:
        st.error(_(verdict), icon=":material/trending_up:")
    else:
        n = result.epochs_done
        st.success(n_("Finished {n} epoch in {seconds:.1f} s.", "Finished {n} epochs in {seconds:.1f} s.", n,
                      seconds=result.seconds))
    m = st.columns(3)
    acc, loss = result.test_accuracy, result.test_loss
    m[0].metric(_("Test accuracy"), "—" if math.isnan(acc) else number(acc, ".2%"))
    m[1].metric(_("Test loss"), chrome.loss_text(loss))
    m[2].metric(_("Training time"), number(result.seconds, ".1f") + " s")
    figures.plot(st, charts.history_figure(result.history, result.batch_history), key="final_chart")
    entry = st.session_state["session_models"].get(label, {})
    models.saved_model_gone(entry)
    if entry.get("deleted_as"):
        who = {"teacher": _("your teacher"), "owner": _("you")}.get(entry.get("deleted_by", ""), _("someone"))
        st.warning(_("You saved this model as **{name}**, but {who} deleted it since. It is still here in your "
                     "browser; save it again below to keep it.", name=entry["deleted_as"], who=who),
                   icon=":material/delete_forever:")
    if entry.get("saved_as"):
        st.success(_("Saved as **{name}**: it is in every model list.", name=entry["saved_as"]), icon=":material/save:")
    else:
        st.caption(_("This model is ready on the **Evaluate**, **Inspect** and **Draw** pages in this browser, "
                     "saved or not."))
        if verdict:
            st.caption(_("You can still save it (to compare it with a better run, say), but it predicts no better "
                         "than guessing: the Leaderboard will show that."))
        save_ui(label, result, meta)
    model = entry.get("model") or result.model
    ds = None
    if model is not None:
        try:
            ds = datasets.load_dataset(result.config.dataset)
        except data.DatasetError:
            ds = None
        export_ui(model, entry.get("token", label), label, ds)
    d1, d2 = st.columns(2)
    if d1.button(_("Prepare .keras download"), icon=":material/package_2:"):
        model = entry.get("model") or result.model
        st.session_state["download"] = (label, keras_files.model_to_bytes(keras_files.portable(model)))
    dl = st.session_state["download"]
    if dl and dl[0] == label:
        d1.download_button(_("Download model (.keras)"), dl[1], file_name=f"{label}.keras", icon=":material/download:")
    d2.download_button(_("Download history (.csv)"), history_csv(result.history), file_name=f"{label}-history.csv",
                       mime="text/csv", icon=":material/download:")
    if ds is not None:
        notebook_ui(result.config, ds, f"notebook_{label}", title=label)


def default_save_name(config: run_config.TrainConfig) -> str:
    """A valid model name from the run's architecture and dataset ("vgg-user-shapes" for "user:shapes")."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{config.arch}-{config.dataset}").strip("-_")[:store.MAX_NAME] or "model"


def save_ui(label: str, result: run_results.TrainResult, meta: dict) -> None:
    """Save the session's model under a validated name (never overwriting someone else's)."""
    with st.form("save_form", border=True):
        name = st.text_input(_("Save as"), value=default_save_name(result.config),
                             help=_("Letters, digits, - and _, at most {max_name} characters. Saved models are "
                                    "shared with everyone on this server.", max_name=store.MAX_NAME))
        replace = st.checkbox(_("Replace my own model of that name"), key="tr_replace",
                              help=_("Only models you saved (in this browser, under your identity) can be replaced."))
        if st.form_submit_button(_("Save model"), icon=":material/save:"):
            model = st.session_state["session_models"].get(label, {}).get("model") or result.model
            meta = {**meta, "owner": st.session_state["owner"], "owner_name": st.session_state["display_name"]}
            try:
                entry = store.save_model(model, name, meta, overwrite=replace, actor=chrome.actor())
            except store.StoreError as e:
                st.error(str(e))
            else:
                models.mark_saved(label, entry.name)
                st.rerun()
