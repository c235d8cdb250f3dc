"""Inspect: what each layer of a network sees — feature maps, filters and Grad-CAM."""
import hashlib

import numpy as np
import streamlit as st

from cnn import charts, data, inspection, preprocess
from cnn.predict import model_input_shape, predict_proba
from ui import chrome, datasets, figures, images, models

chrome.page_setup_ui("Inspect")
chrome.title_ui("Inspect", "Inspect a network")
st.markdown("Feed one image through the network and look at every stage: the **filters** it learned, the "
            "**feature maps** they produce, and **where it looked** to decide (Grad-CAM).")

picked = models.model_section_ui("in")
if picked is None:
    st.stop()
model, meta, choice = picked
shape = model_input_shape(model)
class_names = meta.get("class_names") or [str(i) for i in range(model.outputs[0].shape[-1])]

sources = ["A test image", "Upload an image"] + (["My latest drawing"] if shape == (28, 28, 1) else [])
if st.session_state["open_drawing_in_inspect"] and len(sources) == 3:
    st.session_state["open_drawing_in_inspect"] = False
    st.session_state["in_source"] = sources[2]
if st.session_state.get("in_source") not in sources:
    st.session_state["in_source"] = sources[0]
source = st.radio("Input", sources, horizontal=True, key="in_source")
x = None
if source == "A test image":
    names = data.dataset_names()
    ds_name = meta.get("dataset") if meta.get("dataset") in names else None
    if ds_name is None:
        ds_name = st.selectbox("Dataset", names, key="in_ds", format_func=data.title)
    ds = datasets.dataset_ui(ds_name)
    if ds is not None and ds.image_shape != tuple(shape):
        st.error(f"The model expects {tuple(shape)} images but {ds_name} has {ds.image_shape}. Upload an image "
                 "instead.")
    elif ds is not None:
        i = images.test_image_ui(ds.class_names, ds.y_test, f"in_{ds_name}", columns=st.columns(2))
        if i is not None:
            x = data.to_float(ds.test_images[i:i + 1])
            st.caption(f"Test image #{i}, actual class **{ds.class_names[ds.y_test[i]]}**")
elif source == "Upload an image":
    up = st.file_uploader("Image (PNG, JPEG, …)", type=None, key="in_upload_img")
    if up is not None:
        try:
            x = preprocess.prepare_image(preprocess.open_image(up.getvalue()), tuple(shape))
        except preprocess.ImageError as e:
            st.error(f"{up.name}: {e}")
else:
    x = st.session_state.get("last_drawing")
    if x is None:
        st.info("No drawing yet: draw a digit on the **Draw** page first.")
if x is None:
    st.stop()

probs = predict_proba(model, x)[0]
pred = int(np.argmax(probs))
view = hashlib.sha1(choice["token"].encode() + np.asarray(x, np.float32).tobytes()).hexdigest()[:10]
c1, c2 = st.columns([1, 3])
c1.image(images.pixels(x[0], 160), caption="The input the model sees", alt="The input image the model sees")
c1.markdown(f"Prediction: **{class_names[pred]}** ({probs[pred]:.0%})")
figures.plot(c2, charts.probability_bars(probs, class_names), key="in_probs")

with st.expander("Layers and output shapes", icon=":material/table_rows:"):
    st.dataframe(inspection.layer_table(model), hide_index=True, width="stretch")

try:
    maps = inspection.feature_maps(model, x)
except inspection.InspectionError as e:
    st.warning(str(e))
    st.stop()

tab_maps, tab_filters, tab_cam = st.tabs(["Feature maps", "Filters", "Grad-CAM and saliency"])
with tab_maps:
    st.caption("Each small square is one channel's response to the input (bright = strong). Early layers find "
               "edges and strokes; deeper ones, larger parts. Pooling layers shrink the maps.")
    per_page = 32
    for fm in maps:
        h, w, c = fm.maps.shape
        pages = -(-c // per_page)
        head, pager = st.columns([4, 1])
        head.markdown(f"**{fm.layer}** ({fm.type}) · output {h}×{w}×{c}")
        page = pager.number_input(f"Page of {fm.layer}'s channels", 1, pages, 1, key=f"in_page_{fm.layer}",
                                  help=f"{per_page} channels per page") if pages > 1 else 1
        sl = fm.maps[..., (page - 1) * per_page:page * per_page]
        st.image(inspection.mosaic(sl, cols=16, cell=48), caption=f"channels {(page - 1) * per_page + 1}–"
                 f"{min(c, page * per_page)} of {c}", alt=f"Feature maps of layer {fm.layer}, channels "
                 f"{(page - 1) * per_page + 1} to {min(c, page * per_page)} of {c}, {h}×{w} each")

with tab_filters:
    convs = inspection.conv_layers(model)
    for n, layer in enumerate(convs):
        kernel, _ = inspection.filters(layer)
        kh, kw, cin, cout = kernel.shape
        st.markdown(f"**{layer.name}**: {cout} filters of {kh}×{kw}×{cin}")
        if n == 0:
            st.image(inspection.kernel_mosaic(kernel),
                     caption="First-layer filters" + (" as colour images" if cin == 3 else
                                                      ": red positive, blue negative, white zero"),
                     alt=f"The {cout} filters of layer {layer.name}, {kh}×{kw} weights each")
        else:
            oc = st.slider(f"Output channel of {layer.name}", 0, cout - 1, 0, key=f"in_oc_{layer.name}")
            st.image(inspection.kernel_mosaic(kernel, oc),
                     caption=f"Filter {oc}: its {kh}×{kw} weights for each of the {cin} input channels "
                             "(red positive, blue negative, white zero; one colour scale centred on zero)",
                     alt=f"Filter {oc} of layer {layer.name}: its {kh}×{kw} weights for each of {cin} input channels")

with tab_cam:
    target = st.selectbox("Explain the class", range(len(class_names)), index=pred, key=f"in_cam_cls_{view}",
                          format_func=lambda k: f"{class_names[k]}" + (" (predicted)" if k == pred else ""))
    cam = inspection.grad_cam(model, x, int(target))
    sal = inspection.saliency(model, x, int(target))
    g1, g2, g3 = st.columns(3)
    side = 224  # the three side by side at one size, whatever each array's resolution
    g1.image(images.pixels(x[0], side), caption="Input", width=side, alt="The input image")
    g2.image(images.pixels(inspection.overlay(x[0], cam), side), caption=f"Grad-CAM for “{class_names[target]}”",
             width=side, alt=f"Grad-CAM heat map over the input: where the model looked to decide "
                             f"“{class_names[target]}”, red most")
    g3.image(images.pixels(inspection.overlay(x[0], sal, 0.6), side),
             caption="Saliency: pixels that change the score most", width=side,
             alt=f"Saliency map over the input: the pixels that change the score of “{class_names[target]}” most")
    st.caption("Grad-CAM weights the last convolutional layer's maps by how much they raise this class's score: "
               "red areas pushed the model towards it.")
