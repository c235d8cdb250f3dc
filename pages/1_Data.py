"""Data: the images, their classes and pixels, and the augmentation training uses."""
import numpy as np
import streamlit as st

from cnn import data, i18n
from cnn.augment import AugmentParams, augment_images, default_params
from cnn.i18n import _, number
from ui import charts, chrome, datasets, figures, images
from ui.state import sticky

chrome.page_setup_ui("Data")
chrome.title_ui("Data")
st.markdown(_("A CNN learns from examples. Before training one, look at what it will see."))



@st.cache_data(max_entries=64, show_spinner=False)
def augmented(originals: np.ndarray, params: AugmentParams, seed: int) -> np.ndarray:
    """The training augmentation applied to a few images (the same layers training uses)."""
    return augment_images(data.to_float(originals), params, seed)


name = datasets.dataset_picker_ui("data_ds")
if st.session_state["data_shown"] not in ("", name):  # switching datasets: hide the old one's images at once,
    # so CIFAR-10 photos never arrive among MNIST digits while the page redraws
    st.html("<style>[data-testid=stMain] [data-stale=true] img {visibility: hidden}</style>")
st.session_state["data_shown"] = name
with st.container():
    ds = datasets.dataset_ui(name)
    if ds is None:
        st.stop()

    h, w, c = ds.image_shape
    a, b, cc, d = st.columns(4)
    a.metric(_("Training images"), number(len(ds.train_images), ","))
    b.metric(_("Test images"), number(len(ds.test_images), ","))
    cc.metric(_("Image shape"), i18n.bidi(f"{h}×{w}×{c}"))
    d.metric(_("Channels"), _("1 (grey)") if c == 1 else _("3 (RGB colour)"))
    st.caption(_("Pixels are stored as whole numbers 0–255 and divided by 255 before training, "
                 "so the network sees values between 0.0 (black) and 1.0 (white)."))

    st.subheader(_("Examples of each class"))
    per_class = 4 if chrome.presenting() else 8
    rng = np.random.default_rng(0)
    for k, cname in enumerate(data.class_titles(ds.name, ds.class_names)):
        idx = rng.permutation(np.flatnonzero(ds.y_train == k))[:per_class]
        with st.container(horizontal=True, wrap=True, gap="small", vertical_alignment="center"):
            with st.container(width=70):  # a phone wraps the images under the class's name, not one per screen
                st.markdown(f"**{k}: {cname}**")
            for i in idx:
                st.image(images.pixels(ds.train_images[i], 56), width=56, alt=_(
                    "{dataset} training image, label {label}", dataset=data.title(ds.name), label=cname))

    left, right = st.columns(2)
    with left:
        counts = np.bincount(ds.y_train, minlength=ds.num_classes)
        figures.plot(st, charts.bar_counts(data.class_titles(ds.name, ds.class_names), counts,
                                           _("How many training images per class")), width="stretch")
    with right:
        sample = ds.train_images[rng.choice(len(ds.train_images), size=min(2000, len(ds.train_images)), replace=False)]
        figures.plot(st, charts.histogram(data.to_float(sample).ravel(), _("Pixel intensities (2,000 images)")),
                        width="stretch")

    st.subheader(_("Data augmentation preview"))
    what = {"mnist": _("a digit"), "fashion_mnist": _("a piece of clothing"), "cifar10": _("a photo")}.get(
        name, _("a picture"))
    st.markdown(_("Training can show the network slightly changed copies of each image, so it learns that {what} "
                  "moved or tilted a little still shows the same thing. This is the **same augmentation** "
                  "training uses when you tick *augmentation* on the Train page.", what=what))
    defaults = default_params(name)
    c1, c2, c3, c4 = st.columns(4)
    rot = c1.slider(_("Rotation (± degrees)"), 0, 45, key=sticky(f"aug_rot_{name}", int(defaults.rotation_deg)))
    shift = c2.slider(_("Shift (± fraction)"), 0.0, 0.3, step=0.05,
                  key=sticky(f"aug_shift_{name}", float(defaults.shift)))
    zoom = c3.slider(_("Zoom (± fraction)"), 0.0, 0.3, step=0.05,
                 key=sticky(f"aug_zoom_{name}", float(defaults.zoom)))
    flip = c4.checkbox(_("Horizontal flip"), key=sticky(f"aug_flip_{name}", defaults.flip),
                       help=_("Right for photos, wrong for digits: a mirrored 7 is not a 7. Training mirrors a random "
                              "half of the images in its first pass, then each image every other pass, so any two "
                              "passes in a row show every image both ways."))
    seed = st.number_input(_("Random seed"), 0, 10_000, key=sticky("aug_seed", 0))
    originals = ds.train_images[data.stratified_indices(ds.y_train, 1, seed=0)][:8]

    aug = augmented(originals, AugmentParams(rot, shift, zoom, flip), int(seed))
    st.caption(_("Top: original · bottom: augmented"))
    images.image_pairs_ui(list(originals), list(aug),
                          [_("Training image {n}, as it is", n=n + 1) for n in range(len(originals))],
                          [_("Training image {n}, augmented: moved, turned or zoomed at random", n=n + 1)
                           for n in range(len(aug))])
