"""Draw: draw a digit (or one of your own classes) and watch the network read it, every step shown."""
import time

import numpy as np
import streamlit as st

from cnn import data, inspection, preprocess
from cnn.i18n import N_, _
from cnn.predict import model_input_shape
from ui import canvas, charts, chrome, figures, images, models
from ui.inside import inside_ui
from ui.state import fragment, sticky

chrome.page_setup_ui("Draw")
title = st.empty()  # says what to draw, once the model is known

picked = models.pick_model_ui("dr_model")
if picked is None:
    title.title(f"{chrome.PAGE_ICONS['Draw']} {_('Draw')}")
    st.stop()
model, meta, choice = picked
classes = data.class_titles(meta.get("dataset", ""), meta.get("class_names") or [str(i) for i in range(10)])
shape = tuple(model_input_shape(model))
digits = list(classes) == [str(i) for i in range(10)]
thing = _("one digit") if digits else _("the shape of one of your classes")
title.title(f"{chrome.PAGE_ICONS['Draw']} " + (_("Show the network a photo") if shape != (28, 28, 1) else
                                               _("Draw a digit") if digits else _("Draw one of your classes")))
notice = st.empty()  # always there: a notice appearing must not move the canvas (that would blank it)
if shape != (28, 28, 1):
    notice.info(_("This model reads **photos** ({h}×{w} pixels): upload one, or take one with your camera. To draw, "
                  "pick a model trained on digits or on your own drawings.", h=shape[0], w=shape[1]),
                icon=":material/photo_camera:")
elif meta.get("dataset") == "fashion_mnist":
    notice.info(_("This model was trained on **clothes** (Fashion-MNIST): it will read your drawing as a piece of "
                  "clothing. Pick an MNIST model to read digits."), icon=":material/checkroom:")
elif not digits:
    notice.info(_("This model knows your own classes: draw one of {classes}.",
                  classes=", ".join(f"**{chrome.plain(c)}**" for c in classes)), icon=":material/draw:")

HEAD_START_S = 0.03  # the prediction reaches the screen before the chart and the steps' images compete for it


@fragment
def drawing_ui(model, choice: dict, reader, classes: list[str], thing: str, title: str) -> None:
    """The pad, which reads the drawing in the browser while it is drawn, or an upload; then the steps and feature
    maps from the server. A stroke reruns only this fragment, once the pen lifts."""
    mode = st.radio(_("Input"), [N_("Draw"), N_("Upload an image")], horizontal=True,
                    key=sticky("dr_mode", "Draw"), label_visibility="collapsed", format_func=_)
    inside = reader.network is not None and st.toggle(
        _("Inside the network"), key=sticky("dr_inside", True),
        help=_("Every layer of the network, live while you draw; click any value to see where it comes from."))
    if mode == "Draw":
        width = st.columns([1, 1.6])[0].slider(_("Brush width"), 8, 40, key=sticky("dr_brush", 20))
        invite = _("Draw {thing} in the black square to see what the network reads.", thing=thing)
        browser, why_not = models.browser_model(choice, reader, classes, title)
        if browser is not None and inside:
            browser = {**browser, "inside": True}
        image, read, why = canvas.draw_pad_ui(
            "dr_pad", width, label=_("Drawing area: draw {thing} with the mouse, a finger or a pen. No mouse or "
                                    "touch? Choose Upload an image above.", thing=thing),
            model={"model": browser, "why": why_not, "thing": thing, "invite": invite})
        st.caption(_("Draw {thing}, big, in the black square; Undo and Clear are under it. The network reads it "
                     "in your browser as you draw. No mouse or touch? Choose “Upload an image” above the square.",
                     thing=thing))
        answered = browser is not None and read is not None and read.model == browser["url"] \
            and len(read.probs) == len(classes)
        answer, chart, view = st.container(), st.container(), st.container()
        if image is None:
            if browser is None:
                answer.info(invite)
            if inside:
                with view:
                    inside_ui("dr_inside_view", reader, choice, classes, browser)
            return
        if why:  # the browser could not run the model after all: the server fills the view too
            browser = None
        why = why or why_not
    else:
        left, right = st.columns([1, 1.6])
        image, answered, why, browser = None, False, "", None
        with left:
            up = st.file_uploader(_("A photo or scan of {thing} (dark on light or light on dark)", thing=thing),
                                  type=None, key="dr_upload")
            if up is not None:
                try:
                    image = preprocess.open_image(up.getvalue())
                    st.image(image, caption=up.name, width=200, alt=_("The uploaded image {name}", name=up.name))
                except preprocess.ImageError as e:
                    st.error(f"{up.name}: {e}")
        answer, chart = right.container(), right.container()
        view = st.container()
        if image is None:
            answer.info(_("Upload a photo or scan of {thing} to see what the network reads.", thing=thing))
            return
    t0 = time.perf_counter()
    try:
        steps = preprocess.preprocess_digit(image)
    except (preprocess.EmptyDrawing, preprocess.ImageError) as e:
        if isinstance(e, preprocess.ImageError) and not isinstance(e, preprocess.EmptyDrawing):
            answer.error(str(e))
        elif not answered:
            answer.info(f"{e}", icon=":material/draw:")
        if inside:
            with view:
                inside_ui("dr_inside_view", reader, choice, classes, browser)
        return
    probs, first_maps = reader.read(steps.model_input)
    st.session_state["last_drawing"] = steps.model_input
    if not answered:
        server_answer(answer, chart, probs[0], classes, title, (time.perf_counter() - t0) * 1000, why)
    if inside:
        with view:
            inside_ui("dr_inside_view", reader, choice, classes, browser, steps.model_input, upload=mode != "Draw")
    steps_ui(model, steps, None if inside else first_maps, maps=not inside)


def server_answer(answer, chart, probs: np.ndarray, classes: list[str], title: str, ms: float, why: str,
                  photo: bool = False) -> None:
    """The server's reading (an upload, a photo, or a drawing the browser could not read): the answer, then the
    chart."""
    top = int(np.argmax(probs))
    answer.markdown(_("## Prediction: {label}", label=classes[top]))
    answer.caption(_("{p:.1%} sure · model {title} · read on the server in {ms:.0f} ms", p=probs[top], title=title,
                     ms=ms) + (f" ({why})" if why else ""))
    if probs[top] < 0.6:
        answer.warning(_("The network is not sure. Try a photo where the thing fills most of the picture.") if photo
                       else _("The network is not sure. Try drawing bigger and more clearly, in the middle."))
    time.sleep(HEAD_START_S)  # the answer is painted before the chart (Plotly's drawing is the browser's heaviest)
    figures.plot(chart, charts.probability_bars(probs, classes, height=230), key="dr_probs")


def steps_ui(model, steps: preprocess.DigitSteps, first: inspection.FeatureMaps | None, maps: bool = True) -> None:
    """The preprocessing steps, then (``maps``: when the live view is off) the first layer's feature maps (they come
    with the answer when the model runs in ONNX Runtime; else from Keras)."""
    if steps.small:
        st.warning(_("Your digit is small on the pad: draw it bigger, filling most of the pad. Scaled up to the "
                     "network's 28×28, a small digit's strokes come out very thick, and the network reads it badly."),
                   icon=":material/zoom_in:")
    st.subheader(_("What the network sees: the preprocessing steps"))
    st.caption(_("Like MNIST itself: take the ink, crop to it, scale the longer side to 20 pixels, then place it in a "
                 "28×28 square with its centre of mass in the middle."))
    cols = st.columns(4)
    scaled = _("3 · scaled to {w}×{h}", w=steps.scaled.shape[1], h=steps.scaled.shape[0])
    for col, (img, cap) in zip(cols, [(steps.ink, _("1 · as drawn")), (steps.cropped, _("2 · cropped to the ink")),
                                      (steps.scaled, scaled),
                                      (steps.centered, _("4 · centred 28×28: the model's input"))], strict=True):
        col.image(images.framed(img, 140), caption=cap, width=140, alt=_("Preprocessing step {step}", step=cap))
    if maps and first is None and inspection.conv_layers(model):
        first = inspection.feature_maps(model, steps.model_input)[0]
    if maps and first is not None:
        st.subheader(_("First layer's feature maps ({layer})", layer=first.layer))
        st.image(inspection.mosaic(first.maps, cols=16, cell=40),
                 alt=_("The {c} feature maps of layer {layer} for your drawing, {h}×{w} each", c=first.maps.shape[-1],
                       layer=first.layer, h=first.maps.shape[0], w=first.maps.shape[1]))
    if st.button(_("Open this drawing in Inspect"), key="dr_inspect", icon=":material/biotech:"):
        st.session_state["open_drawing_in_inspect"] = True
        st.switch_page("pages/4_Inspect.py")


def photo_ui(choice: dict, reader, classes: list[str], title: str, shape: tuple[int, ...]) -> None:
    """A photo model (CIFAR-10, a student's own photos): an uploaded or camera photo, read on the server, and every
    layer inside the network for it."""
    inside = reader.network is not None and st.toggle(
        _("Inside the network"), key=sticky("dr_inside", True),
        help=_("Every layer of the network for your photo; click any value to see where it comes from."))
    mode = st.radio(_("Input"), [N_("Upload a photo"), N_("Take a photo")], horizontal=True,
                    key=sticky("dr_photo_mode", "Upload a photo"), label_visibility="collapsed", format_func=_)
    what = ", ".join(classes)
    left, right = st.columns([1, 1.6])
    with left:
        if mode == "Upload a photo":
            up = st.file_uploader(_("A photo of one of: {classes}", classes=what), type=None, key="dr_photo")
        else:
            up = st.camera_input(_("A photo of one of: {classes}", classes=what), key="dr_camera")
    answer, chart = right.container(), right.container()
    x = None
    if up is not None:
        try:
            x = preprocess.prepare_image(preprocess.open_image(up.getvalue()), shape)
        except preprocess.ImageError as e:
            answer.error(f"{up.name}: {e}")
    if x is None:
        if up is None:
            answer.info(_("Upload a photo, or take one, of one of: {classes}. The network sees it as {h}×{w} "
                          "pixels.", classes=what, h=shape[0], w=shape[1]))
        return
    left.image(images.pixels(x[0], 160), caption=_("What the network sees: {h}×{w} pixels", h=shape[0], w=shape[1]),
               alt=_("The photo as the network sees it, {h}×{w} pixels", h=shape[0], w=shape[1]))
    t0 = time.perf_counter()
    probs, _first = reader.read(x)
    server_answer(answer, chart, probs[0], classes, title, (time.perf_counter() - t0) * 1000, "", photo=True)
    if inside:
        inside_ui("dr_inside_view", reader, choice, classes, None, x, upload=True)


if shape == (28, 28, 1):
    drawing_ui(model, choice, models.quick_reader(choice, model), list(classes), thing, choice["title"])
else:
    photo_ui(choice, models.quick_reader(choice, model), list(classes), choice["title"], shape)
