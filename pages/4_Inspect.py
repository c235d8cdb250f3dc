"""Inspect: what each layer of a network sees — feature maps, filters and Grad-CAM."""
import hashlib

import numpy as np
import streamlit as st

from cnn import data, dataset_sources, inspection, preprocess
from cnn.i18n import N_, _, headed
from cnn.predict import model_input_shape, predict_proba
from ui import charts, chrome, datasets, figures, images, models

chrome.page_setup_ui("Inspect")
chrome.title_ui("Inspect", _("Inspect a network"))
st.markdown(_("Feed one image through the network and look at every stage: the **filters** it learned, the "
              "**feature maps** they produce, and **where it looked** to decide (Grad-CAM)."))

picked = models.model_section_ui("in")
if picked is None:
    st.stop()
model, meta, choice = picked
shape = model_input_shape(model)
class_names = data.class_titles(meta.get("dataset", ""), meta.get("class_names")
                               or [str(i) for i in range(model.outputs[0].shape[-1])])

sources = [N_("A test image"), N_("Upload an image")] + ([N_("My latest drawing")] if shape == (28, 28, 1) else [])
if st.session_state["open_drawing_in_inspect"] and len(sources) == 3:
    st.session_state["open_drawing_in_inspect"] = False
    st.session_state["in_source"] = sources[2]
if st.session_state.get("in_source") not in sources:
    st.session_state["in_source"] = sources[0]
source = st.radio(_("Input"), sources, horizontal=True, key="in_source", format_func=_)
x = None
if source == "A test image":
    names = dataset_sources.dataset_names()
    ds_name = meta.get("dataset") if meta.get("dataset") in names else None
    if ds_name is None:
        ds_name = st.selectbox(_("Dataset"), names, key="in_ds", format_func=data.title)
    ds = datasets.dataset_ui(ds_name)
    if ds is not None and ds.image_shape != tuple(shape):
        st.error(_("The model expects {tuple} images but {ds_name} has {image_shape}. Upload an image instead.",
                   tuple=tuple(shape), ds_name=ds_name, image_shape=ds.image_shape))
    elif ds is not None:
        i = images.test_image_ui(data.class_titles(ds.name, ds.class_names), ds.y_test, f"in_{ds_name}",
                                 columns=st.columns(2))
        if i is not None:
            x = data.to_float(ds.test_images[i:i + 1])
            st.caption(_("Test image #{i}, actual class **{label}**",
                         i=i, label=_(ds.class_names[ds.y_test[i]])))
elif source == "Upload an image":
    up = st.file_uploader(_("Image (PNG, JPEG, …)"), type=None, key="in_upload_img")
    if up is not None:
        try:
            x = preprocess.prepare_image(preprocess.open_image(up.getvalue()), tuple(shape))
        except preprocess.ImageError as e:
            st.error(f"{up.name}: {e}")
else:
    x = st.session_state.get("last_drawing")
    if x is None:
        st.info(_("No drawing yet: draw a digit on the **Draw** page first."))
if x is None:
    st.stop()

probs = predict_proba(model, x)[0]
pred = int(np.argmax(probs))
view = hashlib.sha1(choice["token"].encode() + np.asarray(x, np.float32).tobytes()).hexdigest()[:10]
c1, c2 = st.columns([1, 3])
c1.image(images.pixels(x[0], 160), caption=_("The input the model sees"), alt=_("The input image the model sees"))
c1.markdown(_("Prediction: **{label}** ({p:.0%})", label=class_names[pred], p=probs[pred]))
figures.plot(c2, charts.probability_bars(probs, class_names), key="in_probs")

with st.expander(_("Layers and output shapes"), icon=":material/table_rows:"):
    figures.table(st, headed(inspection.layer_table(model)), hide_index=True, width="stretch")

try:
    maps = inspection.feature_maps(model, x)
except inspection.InspectionError as e:
    st.warning(str(e))
    st.stop()

tab_maps, tab_filters, tab_cam = st.tabs([_("Feature maps"), _("Filters"), _("Grad-CAM and saliency")])
with tab_maps:
    st.caption(_("Each small square is one channel's response to the input (bright = strong). Early layers find "
                 "edges and strokes; deeper ones, larger parts. Pooling layers shrink the maps."))
    per_page = 32
    for fm in maps:
        h, w, c = fm.maps.shape
        pages = -(-c // per_page)
        head, pager = st.columns([4, 1])
        head.markdown(_("**{layer}** ({type}) · output {h}×{w}×{c}", layer=fm.layer, type=fm.type, h=h, w=w, c=c))
        page = pager.number_input(_("Page of {layer}'s channels", layer=fm.layer), 1, pages, 1,
                                  key=f"in_page_{fm.layer}",
                                  help=_("{per_page} channels per page", per_page=per_page)) if pages > 1 else 1
        sl = fm.maps[..., (page - 1) * per_page:page * per_page]
        first, last = (page - 1) * per_page + 1, min(c, page * per_page)
        st.image(inspection.mosaic(sl, cols=16, cell=48),
                 caption=_("channels {first}–{last} of {c}", first=first, last=last, c=c),
                 alt=_("Feature maps of layer {layer}, channels {first} to {last} of {c}, {h}×{w} each",
                       layer=fm.layer, first=first, last=last, c=c, h=h, w=w))

with tab_filters:
    convs = inspection.conv_layers(model)
    for n, layer in enumerate(convs):
        kernel, _bias = inspection.filters(layer)
        kh, kw, cin, cout = kernel.shape
        st.markdown(_("**{name}**: {cout} filters of {kh}×{kw}×{cin}",
                      name=layer.name, cout=cout, kh=kh, kw=kw, cin=cin))
        if n == 0:
            st.image(inspection.kernel_mosaic(kernel),
                     caption=_("First-layer filters as colour images") if cin == 3 else
                     _("First-layer filters: red positive, blue negative, white zero"),
                     alt=_("The {cout} filters of layer {layer}, {kh}×{kw} weights each",
                           cout=cout, layer=layer.name, kh=kh, kw=kw))
        else:
            oc = st.slider(_("Output channel of {name}", name=layer.name), 0, cout - 1, 0, key=f"in_oc_{layer.name}")
            st.image(inspection.kernel_mosaic(kernel, oc),
                     caption=_("Filter {oc}: its {kh}×{kw} weights for each of the {cin} input channels (red "
                               "positive, blue negative, white zero; one colour scale centred on zero)",
                               oc=oc, kh=kh, kw=kw, cin=cin),
                     alt=_("Filter {oc} of layer {layer}: its {kh}×{kw} weights for each of {cin} input channels",
                           oc=oc, layer=layer.name, kh=kh, kw=kw, cin=cin))

with tab_cam:
    target = st.selectbox(_("Explain the class"), range(len(class_names)), index=pred, key=f"in_cam_cls_{view}",
                          format_func=lambda k: f"{class_names[k]}" + (_(" (predicted)") if k == pred else ""))
    cam = inspection.grad_cam(model, x, int(target))
    sal = inspection.saliency(model, x, int(target))
    g1, g2, g3 = st.columns(3)
    side = 224  # the three side by side at one size, whatever each array's resolution
    label = class_names[target]
    g1.image(images.pixels(x[0], side), caption=_("Input"), width=side, alt=_("The input image"))
    g2.image(images.pixels(inspection.overlay(x[0], cam), side), caption=_("Grad-CAM for “{label}”", label=label),
             width=side, alt=_("Grad-CAM heat map over the input: where the model looked to decide “{label}”, red "
                               "most", label=label))
    g3.image(images.pixels(inspection.overlay(x[0], sal, 0.6), side),
             caption=_("Saliency: pixels that change the score most"), width=side,
             alt=_("Saliency map over the input: the pixels that change the score of “{label}” most", label=label))
    st.caption(_("Grad-CAM weights the last convolutional layer's maps by how much they raise this class's score: "
                 "red areas pushed the model towards it."))
