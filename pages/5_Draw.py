"""Draw: draw a digit (or one of your own classes) and watch the network read it, every step shown."""
import time

import numpy as np
import streamlit as st

from cnn import charts, inspection, preprocess
from cnn.predict import predict_proba
from ui import canvas, chrome, figures, images, models
from ui.state import sticky

chrome.page_setup_ui("Draw")
title = st.empty()  # says what to draw, once the model is known

picked = models.pick_model_ui("dr_model", require_shape=(28, 28, 1))
if picked is None:
    title.title(f"{chrome.PAGE_ICONS['Draw']} Draw")
    st.stop()
model, meta, choice = picked
classes = meta.get("class_names") or [str(i) for i in range(10)]
digits = list(classes) == [str(i) for i in range(10)]
thing = "digit" if digits else "shape of one of your classes"
title.title(f"{chrome.PAGE_ICONS['Draw']} " + ("Draw a digit" if digits else "Draw one of your classes"))
notice = st.empty()  # always there: a notice appearing must not move the canvas (that would blank it)
if meta.get("dataset") == "fashion_mnist":
    notice.info("This model was trained on **clothes** (Fashion-MNIST): it will read your drawing as a piece of "
                "clothing. Pick an MNIST model to read digits.", icon=":material/checkroom:")
elif not digits:
    notice.info("This model knows your own classes: draw one of " + ", ".join(f"**{chrome.plain(c)}**"
                                                                          for c in classes) + ".",
                icon=":material/draw:")

HEAD_START_S = 0.03  # the prediction reaches the screen before the steps' images compete for the 2 cores


@st.fragment
def drawing_ui(model, classes: list[str], thing: str, title: str) -> None:
    """Canvas, prediction and chart, then the steps and feature maps. A stroke reruns only this fragment, and the
    prediction is on its way to the browser before the steps and maps are drawn."""
    left, right = st.columns([1, 1.6])
    with left:
        mode = st.radio("Input", ["Draw", "Upload an image"], horizontal=True, key=sticky("dr_mode", "Draw"),
                        label_visibility="collapsed")
        image = None
        if mode == "Draw":
            width = st.slider("Brush width", 8, 40, key=sticky("dr_brush", 20))
            image = canvas.canvas_ui(f"canvas_{st.session_state['canvas_key']}", width)
            if st.button("Clear", key="dr_clear", icon=":material/ink_eraser:"):
                st.session_state["canvas_key"] += 1
                st.rerun(scope="fragment")
            st.caption(f"Draw one {thing}, big, in the black square. The toolbar above the square also has undo. No "
                       "mouse or touch? Choose “Upload an image” above.")
        else:
            up = st.file_uploader(f"A photo or scan of one {thing} (dark on light or light on dark)", type=None,
                                  key="dr_upload")
            if up is not None:
                try:
                    image = preprocess.open_image(up.getvalue())
                    st.image(image, caption=up.name, width=200)
                except preprocess.ImageError as e:
                    st.error(f"{up.name}: {e}")
    with right:
        if image is None:
            st.info(f"Draw one {thing} on the canvas to see what the network reads." if mode == "Draw" else
                    f"Upload a photo or scan of one {thing} to see what the network reads.")
            return
        t0 = time.perf_counter()
        try:
            steps = preprocess.preprocess_digit(image)
        except preprocess.EmptyDrawing as e:
            st.info(f"{e}", icon=":material/draw:")
            return
        except preprocess.ImageError as e:
            st.error(str(e))
            return
        probs = predict_proba(model, steps.model_input)[0]
        ms = (time.perf_counter() - t0) * 1000
        top = int(np.argmax(probs))
        st.markdown(f"## Prediction: {classes[top]}")
        st.caption(f"{probs[top]:.1%} sure · model {title} · {ms:.0f} ms")
        if probs[top] < 0.6:
            st.warning("The network is not sure. Try drawing bigger and more clearly, in the middle.")
        figures.plot(st, charts.probability_bars(probs, classes, height=230), key="dr_probs")
        st.session_state["last_drawing"] = steps.model_input
    time.sleep(HEAD_START_S)
    steps_ui(model, steps)


def steps_ui(model, steps: preprocess.DigitSteps) -> None:
    st.subheader("What the network sees: the preprocessing steps")
    st.caption("Like MNIST itself: take the ink, crop to it, scale the longer side to 20 pixels, then place it in a "
               "28×28 square with its centre of mass in the middle.")
    cols = st.columns(4)
    for col, (img, cap) in zip(cols, [(steps.ink, "1 · as drawn"), (steps.cropped, "2 · cropped to the ink"),
                                      (steps.scaled, f"3 · scaled to {steps.scaled.shape[1]}×{steps.scaled.shape[0]}"),
                                      (steps.centered, "4 · centred 28×28: the model's input")], strict=True):
        col.image(images.framed(img, 140), caption=cap, width=140)
    maps = inspection.feature_maps(model, steps.model_input) if inspection.conv_layers(model) else []
    if maps:
        first = maps[0]
        st.subheader(f"First layer's feature maps ({first.layer})")
        st.image(inspection.mosaic(first.maps, cols=16, cell=40))
    if st.button("Open this drawing in Inspect", key="dr_inspect", icon=":material/biotech:"):
        st.session_state["open_drawing_in_inspect"] = True
        st.switch_page("pages/4_Inspect.py")


drawing_ui(model, list(classes), thing, choice["title"])
