"""The My data page's parts: make a dataset, add examples (draw, camera, upload, zip), see and prune them."""
from __future__ import annotations

from urllib.parse import urlparse

import numpy as np
import streamlit as st

from cnn import data, preprocess, userdata, userdata_zip
from cnn.i18n import N_, _, n_
from ui import canvas, chrome, images, runs, settings
from ui.state import choose_next, in_language, set_sticky, sticky

NEW = N_("+ New dataset")
SHOW_PER_CLASS = 24


def _refused(e: Exception) -> None:
    st.error(str(e), icon=":material/block:")


def new_dataset_ui() -> None:
    """Name it, name its classes, choose its image size once; or import a .zip of class folders."""
    with st.form("md_new", border=True):
        st.markdown(_("**A new dataset**"))
        name = st.text_input(_("Name"), placeholder=_("shapes"), help=_("Letters, digits, - and _."),
                             key="md_new_name")
        classes = st.text_area(_("Classes, one per line (2 to 20)"), placeholder=_("circle\ntriangle\nsquare"),
                               height=120, key="md_new_classes")
        size = st.radio(_("Image size"), list(userdata.SIZES), horizontal=True, key="md_new_size", format_func=_,
                        help=_("28×28 grey for drawings (the Draw page can read them); colour for photos."))
        if st.form_submit_button(_("Create the dataset"), type="primary", icon=":material/add:"):
            try:
                ds = userdata.create(name, classes.splitlines(), userdata.SIZES[size], st.session_state["owner"],
                                     st.session_state["display_name"])
            except userdata.UserDataError as e:
                _refused(e)
            else:
                choose_next("md_dataset", ds.name)
                st.rerun()
    with st.expander(_("Or import a .zip of class folders (cats/…, dogs/…)"), icon=":material/folder_zip:"):
        zip_name = st.text_input(_("Name of the new dataset"), key="md_zip_name")
        zip_size = st.radio(_("Image size"), [N_("as in the zip's dataset.json"), *userdata.SIZES], horizontal=True,
                            key="md_zip_size", format_func=_)
        up = st.file_uploader(_("The .zip"), type=["zip"], key="md_zip_new",
                              help=_("At most {files:,} files, {mb} MB; one folder per class, as Keras' "
                                     "image_dataset_from_directory reads them.",
                                     files=userdata_zip.MAX_ZIP_FILES, mb=userdata_zip.MAX_ZIP_BYTES // 2**20))
        if up is not None and st.button(_("Import"), key="md_zip_import", icon=":material/upload:"):
            shape = userdata.SIZES.get(zip_size)
            try:
                ds, skipped = userdata_zip.import_zip(zip_name, up.getvalue(), shape, st.session_state["owner"],
                                                  st.session_state["display_name"])
            except userdata.UserDataError as e:
                _refused(e)
            else:
                _skipped_ui(skipped)
                choose_next("md_dataset", ds.name)
                st.toast(n_("Imported {n:,} example into {name}.", "Imported {n:,} examples into {name}.", ds.total,
                            name=ds.name))
                st.rerun()


def _skipped_ui(skipped: list[str]) -> None:
    if skipped:
        st.warning(n_("Skipped {n} file:", "Skipped {n} files:", len(skipped)) + "  \n"
                   + "  \n".join(chrome.plain(s) for s in skipped[:10])
                   + ("  \n…" if len(skipped) > 10 else ""))


def camera_note() -> str:
    """Browsers open a camera only on https:// or on this very computer: say so on a class server over http."""
    try:
        url = urlparse(st.context.url or "")
    except Exception:
        return ""
    if url.scheme == "http" and url.hostname not in ("localhost", "127.0.0.1", "::1", None):
        return _("Browsers open the camera only on **https://** pages or on the computer running CNN Lab. This "
                 "server is reached at http://{host}: ask whoever runs it to serve it with TLS (see the README), or "
                 "upload photos instead.", host=url.hostname)
    return ""


def add_examples_ui(ds: userdata.UserDataset) -> None:
    """Add examples to one class: draw, take photos, upload images, or a zip of class folders."""
    target = st.selectbox(_("Add examples to the class"), list(ds.classes), key=sticky(f"md_class_{ds.name}",
                                                                                      ds.classes[0]))
    message_ui()  # the outcome of the last add, right above the tab it came from
    # Keyed: the tab stays open over the rerun that follows an add (a refused upload's message stays in view)
    tabs = st.tabs([_("Draw"), _("Camera"), _("Upload images"), _("Upload a .zip")], key="md_tab",
                   on_change=in_language(_clear_message))
    with tabs[0]:
        if ds.image_shape != (28, 28, 1):
            st.info(_("Drawings go into 28×28 grey datasets; this one holds colour photos. Use the camera or upload "
                      "images."))
        else:
            c1, c2 = st.columns([1, 1.2])
            with c1:
                width = st.slider(_("Brush width"), 8, 40, key=sticky("md_brush", 20))
                drawing = canvas.canvas_ui(f"md_canvas_{st.session_state['md_canvas_key']}", width)
            with c2:
                st.markdown(_("Draw one **{target}**, big, then add it. The same ink extraction as the Draw page "
                              "turns it into the 28×28 example shown below.", target=chrome.plain(target)))
                if st.button(_("Add to {target}", target=target), type="primary", key="md_add_drawing",
                             icon=":material/add:", disabled=not canvas.has_ink(drawing)):
                    try:
                        example = userdata.prepare(preprocess_rgba(drawing), ds.image_shape)
                        userdata.add_images(ds.name, target, [example], actor=chrome.actor())
                    except (userdata.UserDataError, preprocess.ImageError) as e:
                        _refused(e)
                    else:
                        st.session_state["md_canvas_key"] += 1  # a fresh canvas for the next one
                        st.toast(_("Added to {target}.", target=target))
                        st.rerun()
    with tabs[1]:
        note = camera_note()
        if note:
            st.warning(note, icon=":material/videocam_off:")
        photo = st.camera_input(_("Take a photo"), key=f"md_camera_{st.session_state['md_camera_key']}")
        if photo is not None and st.button(_("Add this photo to {target}", target=target), key="md_add_photo",
                                           type="primary", icon=":material/add_a_photo:"):
            _add_files(ds, target, [("photo", photo.getvalue())])
            st.session_state["md_camera_key"] += 1
            st.rerun()
    with tabs[2]:
        ups = st.file_uploader(_("Images (several at once)"), accept_multiple_files=True,
                               type=sorted(s.lstrip(".") for s in userdata_zip.IMAGE_SUFFIXES),
                               key=f"md_files_{st.session_state['md_upload_key']}")
        _focus_after_adding(f"md_files_{st.session_state['md_upload_key']}")
        if ups and st.button(n_("Add {n} image to {target}", "Add {n} images to {target}", len(ups), target=target),
                             key="md_add_files", type="primary", icon=":material/upload:"):
            _add_files(ds, target, [(u.name, u.getvalue()) for u in ups])
            st.session_state["md_upload_key"] += 1
            st.session_state["md_focus"] = f"md_files_{st.session_state['md_upload_key']}"
            st.rerun()
    with tabs[3]:
        up = st.file_uploader(_("A .zip of class folders"), type=["zip"],
                              key=f"md_zip_{st.session_state['md_upload_key']}",
                              help=_("Folders named like this dataset's classes add to them; new names become new "
                                     "classes (up to {max_classes}).", max_classes=userdata.MAX_CLASSES))
        _focus_after_adding(f"md_zip_{st.session_state['md_upload_key']}")
        if up is not None and st.button(_("Add the zip's examples"), key="md_add_zip", icon=":material/upload:"):
            _add_zip(ds, up.getvalue())
            st.session_state["md_upload_key"] += 1
            st.session_state["md_focus"] = f"md_zip_{st.session_state['md_upload_key']}"
            st.rerun()


def _focus_after_adding(uploader_key: str) -> None:
    """The Add button that was pressed is gone after its rerun (the uploader is emptied for the next files): the
    keyboard's focus goes to the new uploader's button instead of the top of the page."""
    if st.session_state.get("md_focus") == uploader_key:
        del st.session_state["md_focus"]
        chrome.keep_focus_ui(uploader_key)


def preprocess_rgba(drawing: np.ndarray):
    """The canvas's RGBA strokes as an image (the ink is in its alpha channel)."""
    from PIL import Image

    return Image.fromarray(np.asarray(drawing, np.uint8), "RGBA")


def _add_files(ds: userdata.UserDataset, target: str, files: list[tuple[str, bytes]]) -> None:
    try:
        added, problems = userdata.add_files(ds.name, target, files, actor=chrome.actor())
    except userdata.UserDataError as e:
        st.session_state["md_message"] = ("error", str(e))
        return
    st.session_state["md_message"] = ("warning" if problems else "success",
                                      _("Added {added} to {target}.", added=added, target=target)
                                      + ("  \n" + "  \n".join(problems[:10]) if problems else ""))


def _add_zip(ds: userdata.UserDataset, raw: bytes) -> None:
    try:
        contents = userdata_zip.read_zip(raw, ds.image_shape)
        for c, examples in contents.classes.items():
            if c not in userdata.get(ds.name).classes:
                userdata.add_class(ds.name, c, actor=chrome.actor())
            userdata.add_images(ds.name, c, examples, actor=chrome.actor())
    except userdata.UserDataError as e:
        st.session_state["md_message"] = ("error", str(e))
        return
    total = sum(len(v) for v in contents.classes.values())
    st.session_state["md_message"] = ("warning" if contents.skipped else "success",
                                      n_("Added {n:,} example.", "Added {n:,} examples.", total)
                                      + ("  \n" + _("Skipped: {files}", files="; ".join(contents.skipped[:10]))
                                         if contents.skipped else ""))


def message_ui() -> None:
    """The outcome of the last add: it stays until the next add or another tab (a rerun does not wipe it)."""
    msg = st.session_state.get("md_message")
    if msg:
        kind, text = msg
        getattr(st, kind)(chrome.plain(text).replace("\\  \n", "  \n"))


def _clear_message() -> None:
    st.session_state["md_message"] = None


def _remove(ds_name: str, class_name: str, example_id: str) -> None:
    try:
        userdata.remove_example(ds_name, class_name, example_id, actor=chrome.actor())
    except userdata.UserDataError as e:
        st.session_state["md_message"] = ("error", str(e))


def examples_ui(ds: userdata.UserDataset, editable: bool) -> None:
    """Every class's newest examples as a grid with counts; one click removes a bad one."""
    for c, n in zip(ds.classes, ds.counts, strict=True):
        st.markdown(f"**{chrome.plain(c)}** · " + n_("{n} example", "{n} examples", n)
                    + (_(" — add some") if n == 0 else ""))
        items = userdata.examples(ds.name, c)[-SHOW_PER_CLASS:]
        if not items:
            continue
        cols = st.columns(12)
        for i, (example_id, arr) in enumerate(reversed(items)):
            col = cols[i % 12]
            col.image(images.pixels(arr, 56), width=56, alt=_("An example of {label}", label=c))
            if editable:
                col.button("", key=f"md_rm_{example_id}", icon=":material/close:", help=_("Remove this example"),
                           on_click=in_language(_remove), args=(ds.name, c, example_id))
        if n > SHOW_PER_CLASS:
            st.caption(_("The {shown} newest of {n}.", shown=SHOW_PER_CLASS, n=n))


def manage_ui(ds: userdata.UserDataset, editable: bool) -> None:
    """Download, train on it, delete it."""
    c1, c2, c3 = st.columns(3)
    c1.download_button(_("Download as .zip"), userdata_zip.export_zip(ds.name), file_name=f"{ds.name}.zip",
                       mime="application/zip", icon=":material/download:", disabled=ds.total == 0,
                       help=_("Class folders of PNGs plus dataset.json: import it here again, or read it with Keras."))
    busy = runs.is_running("train")  # the Train page shows the running run's settings until it ends
    if busy:
        c2.caption(_("Your run on the Train page is still training: stop it or let it finish, then train on this."))
    if c2.button(_("Train on it"), key="md_train", icon=":material/model_training:", disabled=ds.total == 0 or busy):
        set_sticky("tr_ds", data.user_key(ds.name))
        settings.load_preset_defaults(st.session_state["sticky"].get("tr_arch", "fast") if
                                      st.session_state["sticky"].get("tr_arch") != "custom" else "fast",
                                      data.user_key(ds.name))
        st.switch_page("pages/2_Train.py")
    if editable:
        with c3.popover(_("Delete this dataset"), icon=":material/delete:"):
            st.warning(n_("This deletes {n:,} example for everyone. Models trained on it stay.",
                          "This deletes {n:,} examples for everyone. Models trained on it stay.", ds.total))
            if st.button(_("Yes, delete {name}", name=ds.name), key="md_delete", type="primary"):
                try:
                    userdata.delete(ds.name, actor=chrome.actor())
                except userdata.UserDataError as e:
                    _refused(e)
                else:
                    choose_next("md_dataset", NEW)
                    st.rerun()


def may_change(ds: userdata.UserDataset) -> bool:
    return chrome.actor().may_change(ds.meta)


def dataset_choices() -> list[str]:
    return [*(d.name for d in userdata.list_datasets()), NEW]


def description(ds: userdata.UserDataset) -> str:
    return _("{title}: {description}.", title=data.title(data.user_key(ds.name)), description=ds.describe())

