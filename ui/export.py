"""Take the model home (Train after a run, Evaluate): LiteRT and ONNX files, each checked before it is offered."""
from __future__ import annotations

import re

import streamlit as st

from cnn import data, export
from cnn.i18n import _
from ui import chrome

CHECK_IMAGES = 2000


def export_ui(model, token: str, label: str, ds: data.Dataset | None) -> None:
    """Export ``model`` (identified by ``token`` for the cache) and check it on ``ds``'s test images."""
    with st.expander(_("Take the model home: LiteRT (phones, microcontrollers) and ONNX"), icon=":material/ios_share:"):
        if ds is None:
            st.info(_("Pick the model's test dataset above: the files are checked on its test images."))
            return
        absent = sorted({p for fmt in export.FORMATS for p in export.missing(fmt)})
        if absent:
            st.info(_("Exporting needs {join}, not installed on this server. Whoever runs CNN Lab can add them with "
                      "`pip install -r requirements-export.txt`.", join=', '.join(absent)), icon=":material/extension:")
        formats = [f for f in export.FORMATS if not export.missing(f)]
        if not formats:
            return
        st.caption(_("Each file is run by its own runtime on {check_images:,} test images and offered only if it "
                     "answers as Keras does (int8: on at least 99 in 100 of them).",
                     check_images=min(CHECK_IMAGES, len(ds.test_images))))
        cols = st.columns(len(formats))
        results = st.session_state["exports"]
        for col, fmt in zip(cols, formats, strict=True):
            key = (token, fmt)
            if col.button(export.FORMATS[fmt], key=f"export_{fmt}_{re.sub(r'[^0-9a-z]', '', token)[-24:]}",
                          icon=":material/build:", width="stretch"):
                with st.spinner(_("Converting to {formats} and checking it…", formats=export.FORMATS[fmt])):
                    x, y = ds.x_test[:CHECK_IMAGES], ds.y_test[:CHECK_IMAGES]
                    try:
                        results[key] = export.export_checked(model, fmt, x, y, calibration=ds.x_train[:200])
                    except export.ExportError as e:
                        results[key] = str(e)
            done = results.get(key)
            if isinstance(done, str):
                col.error(done, icon=":material/block:")
            elif done is not None:
                col.success(chrome.plain(done.check.describe(fmt)), icon=":material/verified:")
                col.caption(_("{size:,.0f} KB · converted in {seconds:.1f} s",
                              size=done.size / 1024, seconds=done.seconds))
                col.download_button(_("Download"), done.data, file_name=f"{label}{done.filename_suffix}",
                                    key=f"dl_{fmt}_{re.sub(r'[^0-9a-z]', '', token)[-24:]}",
                                    icon=":material/download:", mime="application/octet-stream")
