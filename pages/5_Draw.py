"""Draw: draw a digit and watch the network read it, with every preprocessing step shown."""
import time

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnn import charts, inspection, preprocess
from cnn.predict import predict_proba
from ui import chrome, figures, images, models
from ui.state import sticky

chrome.page_setup_ui("Draw")
chrome.title_ui("Draw", "Draw a digit")

CANVAS, BAND = 280, 40  # the top band sits under the canvas's floating toolbar, which swallows strokes


@st.cache_data
def canvas_background() -> bytes:
    """Black drawing square under a labelled band where the canvas toolbar floats."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (CANVAS, CANVAS + BAND), "black")
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, CANVAS, BAND - 1], fill=(38, 39, 48))
    draw.text((8, 13), "canvas toolbar (undo, redo, clear) - draw below", fill=(150, 150, 160))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


picked = models.pick_model_ui("dr_model", require_shape=(28, 28, 1))
if picked is None:
    st.stop()
model, meta, choice = picked
classes = meta.get("class_names") or [str(i) for i in range(10)]
notice = st.empty()  # always there: a notice appearing must not move the canvas (that would blank it)
if meta.get("dataset") == "fashion_mnist":
    notice.info("This model was trained on **clothes** (Fashion-MNIST): it will read your drawing as a piece of "
            "clothing. Pick an MNIST model to read digits.", icon=":material/checkroom:")

left, right = st.columns([1, 1.6])
with left:
    mode = st.radio("Input", ["Draw", "Upload an image"], horizontal=True, key=sticky("dr_mode", "Draw"),
                    label_visibility="collapsed")
    image = None
    if mode == "Draw":
        width = st.slider("Brush width", 8, 40, key=sticky("dr_brush", 20))
        result = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_image=canvas_background(),
                           height=CANVAS + BAND, width=CANVAS, drawing_mode="freedraw",
                           return_image_data=True, key=f"canvas_{st.session_state['canvas_key']}")
        if st.button("Clear", key="dr_clear", icon=":material/ink_eraser:"):
            st.session_state["canvas_key"] += 1
            st.rerun()
        st.caption("Draw one digit, big, in the black square. The toolbar above the square also has undo.")
        if result is not None and result.image_data is not None:
            image = result.image_data  # RGBA of the strokes only (the background is not sent back)
    else:
        up = st.file_uploader("A photo or scan of one digit", type=None, key="dr_upload")
        if up is not None:
            try:
                image = preprocess.open_image(up.getvalue())
                st.image(image, caption=up.name, width=200)
            except preprocess.ImageError as e:
                st.error(f"{up.name}: {e}")

with right:
    if image is None:
        st.info("Draw a digit on the canvas to see what the network reads.")
        st.stop()
    t0 = time.perf_counter()
    try:
        steps = preprocess.preprocess_digit(image)
    except preprocess.EmptyDrawing as e:
        st.info(f"{e}", icon=":material/draw:")
        st.stop()
    except preprocess.ImageError as e:
        st.error(str(e))
        st.stop()
    probs = predict_proba(model, steps.model_input)[0]
    ms = (time.perf_counter() - t0) * 1000
    top = int(np.argmax(probs))
    st.markdown(f"## Prediction: {classes[top]}")
    st.caption(f"{probs[top]:.1%} sure · model {choice['title']} · {ms:.0f} ms")
    if probs[top] < 0.6:
        st.warning("The network is not sure. Try drawing bigger and more clearly, in the middle.")
    figures.plot(st, charts.probability_bars(probs, classes, height=230), key="dr_probs")
    st.session_state["last_drawing"] = steps.model_input

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
