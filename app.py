"""CNN Lab: the home page (what the lab is, where to start, data and models) and the page menu."""
# pandas first, whole: Plotly looks pandas up in sys.modules without waiting for an import in progress, so
# a chart drawn while another thread of a fresh server was still importing it failed with "partially
# initialized module 'pandas'" (seen on the Data page). Every page runs after this line.
import pandas  # noqa: F401
import streamlit as st

from cnn import data, dataset_sources, db, store
from cnn.i18n import N_, _, number
from ui import chrome, models, runs


def delete_model_ui(entries: list) -> None:
    """Delete one of your saved models, after an explicit confirmation (others' and shipped ones are protected)."""
    actor = chrome.actor()
    own = [e.name for e in entries if not e.meta.get("shipped") and actor.may_change(e.meta)]
    others = [e for e in entries if not e.meta.get("shipped") and not actor.may_change(e.meta)]
    if not own:
        if others:
            st.caption(_("Models saved by others can be deleted only by them or by your teacher."))
        return
    with st.expander(_("Delete a model you saved"), icon=":material/delete:"):
        models.delete_model_ui(own, actor, "del", warning=N_("Deleting **{name}** removes it for everyone "
                               "on this server. This cannot be undone."))


def home() -> None:
    """What CNN Lab is, the path through it, and the state of data and models."""
    chrome.page_setup_ui("Home")
    chrome.title_ui("Home", "CNN Lab")
    st.markdown(
        _("Learn **convolutional neural networks** by doing them. Look at the data, build a network layer by "
          "layer, train it and watch the curves move, then open it up: its filters, its feature maps, what it "
          "gets wrong, and what it makes of a digit **you** draw. Everything runs on this computer, no internet "
          "needed.")
    )

    st.subheader(_("Where to start"))
    steps = [
        ("pages/1_Data.py", "Data", _("Meet the images: samples, classes, pixels, augmentation.")),
        ("pages/2_Train.py", "Train", _("Pick an architecture, train it, watch loss and accuracy live.")),
        ("pages/3_Evaluate.py", "Evaluate", _("Confusion matrix, mistakes, one test image at a time.")),
        ("pages/4_Inspect.py", "Inspect", _("Filters, feature maps and Grad-CAM: what the network sees.")),
        ("pages/5_Draw.py", "Draw", _("Draw a digit and watch the network read it.")),
        ("pages/6_Lessons.py", "Lessons", _("Convolution, pooling, activations, dropout, batch norm, augmentation, "
                                            "transfer learning: try each.")),
    ]
    for row in range(0, len(steps), 3):  # one row of columns at a time: a phone stacks them as 1, 2, 3, 4, 5, 6
        for col, (i, (page, title, text)) in zip(st.columns(3), enumerate(steps[row:row + 3], row), strict=False):
            with col.container(border=True):
                st.page_link(page, label=f"**{i + 1} · {_(title)}**", icon=ICONS[title])
                st.caption(text)

    st.info(_("New here? Go to **5 · Draw** and draw a digit: a trained network is already included. "
              "Then follow the steps from **1 · Data** to build your own."), icon=":material/waving_hand:")
    if not chrome.presenting():
        teachers = st.columns([1, 2])
        teachers[0].page_link("pages/9_Class.py", label=_("Class page (for teachers)"), icon=ICONS["Class"])
        teachers[1].caption(_("Every run of the class live, stopping runs, the challenge and the leaderboard; it asks "
                              "for the teacher passphrase. Its address is this one with /Class at the end."))

    left, right = st.columns(2)
    with left:
        st.subheader(_("Datasets"))
        for name, meta in data.DATASETS.items():
            st.markdown(f"**{meta.title}** — {dataset_sources.source_status(name)}")
        st.caption(_("Local data folder: `{data_dir}` (set `CNN_DATA_DIR` to change it).",
                     data_dir=dataset_sources.data_dir()))
    with right:
        st.subheader(_("Saved models"))
        entries = store.list_models()
        if entries:
            st.dataframe(
                [{_("name"): e.name, _("student"): e.meta.get("owner_name") or "", _("dataset"): e.dataset,
                  _("test accuracy"): number(e.test_accuracy, ".2%") if e.test_accuracy is not None else "—",
                  _("parameters"): number(e.meta.get("params", 0), ","), _("saved"): e.meta.get("saved", "")}
                 for e in entries],
                hide_index=True, width="stretch")
            delete_model_ui(entries)
        else:
            st.write(_("None yet: train one on the Train page."))
        unsaved = [label for label, entry in st.session_state["session_models"].items() if not entry["saved_as"]]
        if unsaved:
            st.caption(_("Trained or uploaded in this browser, not saved (a reload keeps them, a server restart "
                         "does not): {models}", models=", ".join(unsaved)))
    runs.your_runs_ui("home_your_runs")


ICONS = chrome.PAGE_ICONS
st.set_page_config(page_icon=str(chrome.FAVICON))  # before the menu: else the page's Material icon is the tab's
page = chrome.navigation(home)
try:
    page.run()
except db.DatabaseError as e:  # the class database went away in the middle of a page: say so, plainly
    chrome.database_unavailable_ui(e)
except store.StoreError as e:  # a saved model the database cannot give now
    st.error(str(e), icon=":material/database:")
finally:
    chrome.page_done()
