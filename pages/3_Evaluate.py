"""Evaluate: test accuracy, a confusion matrix linked to its images, mistakes, one test image."""
import hashlib

import numpy as np
import streamlit as st

from cnn import data, dataset_sources, evaluation, store
from cnn.i18n import _, n_, number
from cnn.predict import TTA_WORDS, top_k, tta_level
from ui import charts, chrome, datasets, figures, images, models, runs
from ui.export import export_ui

chrome.page_setup_ui("Evaluate")
chrome.title_ui("Evaluate")
st.markdown(_("How good is the model on images it has **never seen**? And where does it go wrong?"))

picked = models.model_section_ui("ev")
if picked is None:
    st.stop()
model, meta, choice = picked
names = dataset_sources.dataset_names()
ds_default = meta.get("dataset") if meta.get("dataset") in names else names[0]
ds_name = st.selectbox(_("Test dataset"), names, index=names.index(ds_default), key=f"ev_ds_{choice['id']}",
                       format_func=data.title)
ds = datasets.dataset_ui(ds_name)
if ds is None:
    st.stop()
try:
    ev = models.evaluation_of(choice, model, ds)
except (evaluation.CompatibilityError, store.StoreError) as e:
    st.error(str(e))
    st.stop()
view = hashlib.sha1(f"{choice['token']}|{ds_name}".encode()).hexdigest()[:10]  # widgets of this model and data

classes = data.class_titles(ds.name, ds.class_names)
m = st.columns(3)
m[0].metric(_("Test accuracy"), number(ev.accuracy, ".2%"))
m[1].metric(_("Test loss"), chrome.loss_text(ev.loss))
m[2].metric(_("Test images"), number(ev.n, ","))
level = tta_level(meta)
if level and not chrome.presenting():
    st.caption(_("Test-time augmentation: {tta_words}, as the model was trained on such images too. The command "
                 "line's `evaluate` does the same.", tta_words=_(TTA_WORDS[level])))
if meta.get("dataset") and meta.get("dataset") != ds_name:
    st.warning(_("This model was trained on {dataset}, not {ds_name}: expect nonsense.",
                 dataset=meta['dataset'], ds_name=ds_name))

export_ui(model, choice["token"], choice.get("label") or choice["id"].split(":", 1)[1], ds)

st.subheader(_("Confusion matrix"))
st.caption(_("Rows: the true class. Columns: what the model said. The diagonal is right; everything else is a "
             "mistake. **Click or tap a cell** (or pick its two classes) to see its images."))
cm = ev.confusion()


TRUE, PRED = f"ev_true_{view}", f"ev_pred_{view}"


def _cell_clicked() -> None:
    cells = st.session_state["ev_cm"].selection.get("cells", [])
    if cells and cells[0][1] in classes:  # (row position, column name): row = true class, column = predicted
        st.session_state[TRUE], st.session_state[PRED] = int(cells[0][0]), classes.index(cells[0][1])


if TRUE not in st.session_state:  # start on the most frequent mistake
    off = cm.copy()
    np.fill_diagonal(off, -1)
    t, p = np.unravel_index(int(off.argmax()), off.shape)
    st.session_state[TRUE], st.session_state[PRED] = int(t), int(p)
left, right = st.columns([3, 2])
with left:
    if figures.html_tables():  # a plain table (projector, right to left); cells are picked beside it
        st.table(charts.confusion_table(cm, classes))
    else:
        width = 18 + 8 * max(len(str(int(cm.max()))), *(len(c) for c in classes))  # all columns in view if they fit
        st.dataframe(charts.confusion_table(cm, classes), key="ev_cm", on_select=_cell_clicked,
                     selection_mode="single-cell", height=38 + 35 * len(classes),
                     column_config={"_index": st.column_config.TextColumn(width=max(56, width)),
                                    **{c: st.column_config.NumberColumn(width=width) for c in classes}})
with right:
    s1, s2 = st.columns(2)
    true_c = s1.selectbox(_("True class"), range(len(classes)), key=TRUE, format_func=lambda i: classes[i])
    pred_c = s2.selectbox(_("Predicted as"), range(len(classes)), key=PRED, format_func=lambda i: classes[i])
    idx = ev.pair_indices(true_c, pred_c)
    st.markdown(n_("**{n}** test image of **{true}** predicted as **{predicted}**",
                   "**{n}** test images of **{true}** predicted as **{predicted}**", len(idx),
                   true=classes[true_c], predicted=classes[pred_c]) + (_(" (correct)") if true_c == pred_c else ""))
    shown = idx[:24]
    images.image_grid_ui([ds.test_images[i] for i in shown],
                     [f"#{i} · " + ", ".join(f"{c} {number(p, '.0%')}" for c, p in top_k(ev.probs[i], classes, 2))
                      for i in shown], cols=4,
                     alts=[_("Test image #{i}, a {true}, predicted {predicted}", i=i, true=classes[true_c],
                             predicted=classes[pred_c]) for i in shown])

st.subheader(_("Per-class precision and recall"))
per_class = [{_("class"): c, _("precision"): number(r["precision"], ".1%"), _("recall"): number(r["recall"], ".1%"),
              _("test images"): r["support"]} for c, r in zip(classes, ev.per_class(), strict=True)]
figures.table(st, per_class, hide_index=True)
st.caption(_("Precision: of the images the model called this class, how many were. Recall: of the images of "
             "this class, how many the model found."))

st.subheader(_("The most confident mistakes"))
worst = ev.confident_mistakes(16)
if len(worst):
    images.image_grid_ui([ds.test_images[i] for i in worst],
                     [f"#{i}: {classes[ev.y_true[i]]} → {classes[ev.y_pred[i]]} ({number(ev.probs[i].max(), '.0%')})"
                      for i in worst], cols=8,
                     alts=[_("Test image #{i}, a {true}, predicted {predicted} with {p:.0%} certainty", i=i,
                             true=classes[ev.y_true[i]], predicted=classes[ev.y_pred[i]], p=ev.probs[i].max())
                           for i in worst])
else:
    st.success(_("No mistakes at all on this test set."))

st.subheader(_("One test image"))
c1, c2 = st.columns([1, 2])
with c1:
    i = images.test_image_ui(classes, ev.y_true, f"ev_one_{view}", _("Pick by class (or by index below)"))
if i is not None:
    c1.image(images.pixels(ds.test_images[i], 196), alt=_("Test image #{i}: actual {true}, predicted {predicted}",
                                                           i=i, true=classes[ev.y_true[i]],
                                                           predicted=classes[ev.y_pred[i]]))
    ok = ev.y_pred[i] == ev.y_true[i]
    c1.markdown(_("Test image #{i}  \nActual: **{true}**  \nPredicted: **{predicted}** ", i=i,
                  true=classes[ev.y_true[i]], predicted=classes[ev.y_pred[i]])
                + (_(" :green[:material/check_circle: right]") if ok else _(" :red[:material/cancel: wrong]")))
    figures.plot(c2, charts.probability_bars(ev.probs[i], classes), key="ev_one_bars")

st.subheader(_("Training curves"))
if meta.get("history"):
    figures.plot(st, charts.history_figure(meta["history"]), key="ev_hist")
else:
    st.caption(_("This model has no stored training history."))
saved = store.list_models()
mine = [r for r in runs.my_runs() if r.finished and r.history.get("loss")]  # kept over reloads and restarts
curves = {e.name: e.meta.get("history", {}) for e in saved}
curves.update({_("{label} (your run)", label=r.label): r.history for r in mine if r.label not in curves})
if len(curves) >= 2:
    st.subheader(_("Compare models and runs"))
    default = [_("{label} (your run)", label=r.label) for r in mine[:2]] or [e.name for e in saved[:2]]
    chosen = st.multiselect(_("Models and your runs"), list(curves), default=[c for c in default if c in curves],
                            key="ev_cmp")
    metric = st.radio(_("Metric"), ["accuracy", "loss"], horizontal=True, key="ev_cmp_metric", format_func=_)
    figures.plot(st, charts.compare_figure({c: curves[c] for c in chosen}, metric), key="ev_cmp_chart")
    by_name = {e.name: e for e in saved}
    by_run = {_("{label} (your run)", label=r.label): r for r in mine}
    rows = []
    for c in chosen:
        if c in by_name:
            e = by_name[c]
            rows.append({_("model"): c, _("dataset"): e.dataset, _("architecture"): e.meta.get("arch", "?"),
                         _("parameters"): number(e.meta.get("params", 0), ","),
                         _("epochs"): len(curves[c].get("loss", [])),
                         _("test accuracy"): number(e.test_accuracy, ".2%") if e.test_accuracy is not None else "—",
                         _("training time"): number(e.meta.get("training_seconds", 0), ".0f") + " s"})
        else:
            r = by_run[c]
            acc, seconds = r.test_accuracy, r.result.get("seconds")
            rows.append({_("model"): c, _("dataset"): r.dataset, _("architecture"): r.arch, _("parameters"): "—",
                         _("epochs"): len(curves[c].get("loss", [])),
                         _("test accuracy"): number(acc, ".2%") if acc is not None else "—",
                         _("training time"): number(seconds, ".0f") + " s" if isinstance(seconds, (int, float))
                         else "—"})
    figures.table(st, rows, hide_index=True)
