"""The Train page's "Open as a notebook": the run (the settings on the page, or a finished run's) as a Jupyter
notebook in plain Keras (:mod:`cnn.notebook`), made when the button is pressed."""
from __future__ import annotations

import streamlit as st

from cnn import data, i18n, notebook
from cnn.i18n import _
from cnn.run_config import TrainConfig


def notebook_ui(config: TrainConfig, ds: data.Dataset, key: str, title: str = "") -> None:
    """A download button for the run's notebook (a zip with the images for a student's own dataset), or why a run
    cannot be one."""
    why = notebook.refusal(config)
    if why:
        st.caption(_("No notebook for this run: {why}.", why=why))
        return
    lang = i18n.language()

    def build() -> bytes:  # Streamlit calls it on another thread, when the button is pressed
        i18n.set_language(lang)
        return notebook.export(config, ds, title)[1]

    own = data.is_user(config.dataset)
    stem = (title or f"{config.arch}-{config.dataset}").replace(":", "-")
    st.download_button(_("Open as a notebook (.zip with your images)") if own else _("Open as a notebook (.ipynb)"),
                       build, file_name=f"{stem}.zip" if own else f"{stem}.ipynb",
                       mime="application/zip" if own else "application/x-ipynb+json", key=key,
                       icon=":material/description:", on_click="ignore",
                       help=_("A Jupyter notebook that trains this run again in plain Keras, step by step: load the "
                              "data, preprocess, build the layers, compile, train, evaluate, save, plot, predict. "
                              "Open it in Jupyter or Colab and choose Run all."))
