"""The eight concept lessons, one function each; the Lessons page puts them in tabs."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnn import architectures as arch
from cnn import data, dataset_sources, i18n, keras_files, lessons, run_config, store, transfer
from cnn.i18n import N_, Message, _, number, said
from cnn.jobs import JobRequest
from ui import charts, datasets, figures, images, models, runs
from ui.state import sticky


def _sample_image(key: str) -> np.ndarray:
    """A grey test image picked by the student (MNIST, Fashion-MNIST or CIFAR-10 in grey)."""
    c1, c2 = st.columns(2)
    name = c1.selectbox(_("Image from"), dataset_sources.dataset_names(), key=f"{key}_ds", format_func=data.title)
    ds = datasets.load_dataset(name)
    i = c2.number_input(_("Test image #"), 0, len(ds.test_images) - 1, 0, key=f"{key}_idx")
    img = data.to_float(ds.test_images[int(i)])
    return img.mean(axis=-1)  # (H, W) grey


def run_pair_ui(key: str, pair: list[tuple[str, run_config.TrainConfig, object]], ds: data.Dataset) -> list | None:
    """Train a lesson's runs through the server's job queue, with live progress; their results when done.

    Each run is (label, config, model factory or None); factories run only when the button is pressed.
    Results stay in session state so the charts survive reruns and visits to other pages.
    """
    running = runs.is_running(key)
    c1, c2, _rest = st.columns([1, 1, 2])
    if c1.button(_("Run the comparison"), key=f"{key}_run", type="primary", disabled=running,
                 icon=":material/play_arrow:"):
        requests = [JobRequest(config, ds, label=label, extra={"lesson": key},
                               initial_model=keras_files.model_to_bytes(factory()) if factory else None)
                    for label, config, factory in pair]
        runs.start(key, requests)
        st.rerun()  # redraw the buttons: Run off, Stop on
    if c2.button(_("Stop"), key=f"{key}_stop", disabled=not running, icon=":material/stop:"):
        runs.stop(key)
        st.rerun()
    if running:
        runs.progress_ui(key)
        return None
    group = runs.group(key)
    for message in group.errors() if group else []:
        st.error(message)
    results = group.results() if group else []
    if len(results) != len(pair):
        return None
    # the lesson's own labels, in the order it asked: the class's run labels get "-2", "-3"... to stay unique
    return [(label, result) for (label, _config, _factory), (_run_label, result) in zip(pair, results, strict=True)]


def convolution_ui() -> None:
    st.markdown(_("A **convolution** slides a small grid of numbers (the *kernel* or *filter*) over the image. At "
                  "each position it multiplies the pixels under it by the kernel and adds them up: one output "
                  "pixel. A CNN *learns* its kernels; here you choose them."))
    img = _sample_image("conv")
    c1, c2, c3 = st.columns(3)
    preset = c1.selectbox(_("Kernel"), list(lessons.KERNELS), index=1, key="conv_kernel", format_func=_)
    stride = c2.select_slider(_("Stride"), [1, 2, 3], 1, key="conv_stride")
    padding = c3.radio(_("Padding"), ["valid", "same"], horizontal=True, key="conv_pad")
    kernel = st.data_editor(lessons.KERNELS[preset].astype(float), key=f"conv_edit_{preset}",
                            width="content", column_config={str(i): st.column_config.NumberColumn(format="%.2f")
                                                            for i in range(3)})
    kernel = np.nan_to_num(np.asarray(kernel, np.float32)).reshape(3, 3)
    out = lessons.convolve(img, kernel, stride, padding)
    h, w = img.shape
    a, b, c = st.columns([1, 0.6, 1])
    figures.plot(a, charts.heatmap(img, _("input {h}×{w}", h=h, w=w)), key="conv_in")
    figures.plot(b, charts.heatmap(kernel, _("kernel 3×3"), centre_zero=True, text=True), key="conv_k")
    figures.plot(c, charts.heatmap(out, _("output {h}×{w}", h=out.shape[0], w=out.shape[1]), centre_zero=True),
                 key="conv_out")
    st.info(_("Output size = {rule} = **{oh}×{ow}** for a {h}×{w} input, stride {stride}, '{padding}' "
              "padding. 'same' pads the border with zeros so the size only shrinks by the stride.",
              rule="ceil(n / stride)" if padding == "same" else "floor((n − 3) / stride) + 1", oh=out.shape[0],
              ow=out.shape[1], h=h, w=w, stride=stride, padding=padding))
    st.session_state["lesson_fmap"] = out
    st.page_link("pages/5_Draw.py", label=_("See it in your own network: draw a digit, then click any value in "
                                             "“Inside the network” for its window, weights, products and sum"),
                 icon=":material/draw:")


def pooling_ui() -> None:
    st.markdown(_("**Pooling** shrinks a feature map: each window becomes one number — its **maximum** (keeps the "
                  "strongest response) or its **average** (keeps the overall level). It also makes the network "
                  "care less about exactly *where* a stroke is: move the image a little, and the pooled map barely "
                  "changes."))
    fmap = st.session_state.get("lesson_fmap")
    if fmap is None:
        fmap = lessons.convolve(_sample_image("pool"), lessons.KERNELS["vertical edges"], 1, "same")
    fmap = np.maximum(fmap, 0)
    c1, c2, c3 = st.columns(3)
    size = c1.select_slider(_("Window (and stride)"), [2, 3, 4], key=sticky("pool_size", 2))
    mode = c2.radio(_("Keep each window's"), ["max", "avg"], horizontal=True, key=sticky("pool_mode", "max"),
                    format_func=lambda m: _("maximum") if m == "max" else _("average"))
    shift = c3.slider(_("Move the image right by (pixels)"), 0, 3, key=sticky("pool_shift", 1))
    moved = lessons.shift_right(fmap, shift)
    pooled, pooled_moved = lessons.pool(fmap, size, size, mode), lessons.pool(moved, size, size, mode)
    a, b, c = st.columns(3)
    figures.plot(a, charts.heatmap(fmap, _("feature map {h}×{w} (after ReLU)", h=fmap.shape[0], w=fmap.shape[1])),
                 key="pool_in")
    pooled_title = _("max pooling → {h}×{w}") if mode == "max" else _("average pooling → {h}×{w}")
    figures.plot(b, charts.heatmap(pooled, pooled_title.format(h=pooled.shape[0], w=pooled.shape[1])), key="pool_out")
    figures.plot(c, charts.heatmap(pooled_moved, _("the same, image moved {shift} px", shift=shift)), key="pool_moved")
    before, after = lessons.difference(fmap, moved), lessons.difference(pooled, pooled_moved)
    m1, m2 = st.columns(2)
    m1.metric(_("Moving the image {shift} px changed the feature map by", shift=shift), number(before, ".0%"))
    m2.metric(_("…and the map after max pooling by") if mode == "max" else _("…and the map after average pooling by"),
              number(after, ".0%"), number(after - before, "+.0%"), delta_color="inverse")
    st.caption(_("The feature map comes from the Convolution lesson (the vertical-edge kernel until you change it). "
                 "A {size}×{size} window shrinks each side {size} times. How much a map changed: 0% the same, 100% "
                 "nothing in common.", size=size))


def activation_ui() -> None:
    st.markdown(_("An **activation function** bends each number after a layer. Without it, stacked layers would "
                  "collapse into one linear step, and the network could only draw straight lines."))
    z = np.linspace(-5, 5, 201)
    figures.plot(st, charts.activation_figure(lessons.ACTIVATION_FUNCTIONS, z), key="act_plot")
    fn = st.radio(_("Apply to a feature map"), list(lessons.ACTIVATION_FUNCTIONS), horizontal=True, key="act_fn")
    fmap = st.session_state.get("lesson_fmap")
    if fmap is None:
        fmap = lessons.convolve(_sample_image("act"), lessons.KERNELS["vertical edges"], 1, "same")
    out = lessons.ACTIVATION_FUNCTIONS[fn](fmap)
    a, b = st.columns(2)
    figures.plot(a, charts.heatmap(fmap, _("before (blue negative, red positive)"), centre_zero=True), key="act_in")
    figures.plot(b, charts.heatmap(out, _("after {fn}", fn=fn), centre_zero=True), key="act_out")
    st.caption(_("ReLU zeroes every negative value; sigmoid squashes into (0, 1); tanh into (−1, 1); leaky ReLU "
                 "keeps a little of the negative side."))


@st.cache_data
def _breakdown(units: int, global_pool: bool, language: str) -> list[dict]:
    del language  # part of the key only: the formulas are text
    return lessons.parameter_breakdown(arch.build_model(lessons.tutorial_variant(units, global_pool), (28, 28, 1)))


def dense_ui() -> None:
    st.markdown(_("A **fully connected** (Dense) layer connects every input number to every output unit. First "
                  "**Flatten** lines up the feature maps as one long vector. In the Tutorial model that vector has "
                  "7×7×128 = **6,272** numbers, each wired to each of 1,024 units: that is where the parameters are. "
                  "Change the layer and watch the count."))
    c1, c2 = st.columns(2)
    units = c1.select_slider(_("Units in the dense layer"), [64, 128, 256, 512, 1024, 2048], key=sticky("dense_units",
                                                                                                    1024))
    gap = c2.radio(_("Before it"), [False, True], key=sticky("dense_gap", False), horizontal=True,
                   format_func=lambda g: _("global average pooling (128 numbers)") if g
                   else _("Flatten (6,272 numbers)"))
    rows = _breakdown(int(units), bool(gap), i18n.language())
    total = sum(r["params"] for r in rows)
    dense = next(r for r in rows if r["layer"] == "dense1")
    tutorial = sum(r["params"] for r in _breakdown(1024, False, i18n.language()))
    m1, m2 = st.columns(2)
    m1.metric(_("Parameters"), number(total, ","), _("{change:+,} against the tutorial", change=total - tutorial),
              delta_color="inverse")
    m2.metric(_("dense1's share"), number(dense["share"], ".1%"), help=dense["formula"])
    figures.table(st, [{_("layer"): r["layer"], _("type"): r["type"], _("parameters"): number(r["params"], ","),
                        _("share"): number(r["share"], ".1%"), _("how"): r["formula"]} for r in rows], hide_index=True)
    figures.plot(st, charts.bar_counts([r["layer"] for r in rows], [r["params"] for r in rows],
                                      _("Parameters per layer (total {total:,})", total=total)), key="dense_bars")
    st.caption(_("The classic tutorial: 1,024 units after Flatten, 6,526,474 parameters, most of them (98.4%) "
                 "in dense1. Global average pooling (as in the VGG preset) keeps one number per feature map instead "
                 "of 49."))


def _lesson_data(name: str, n_train: int, n_test: int = 1000) -> data.Dataset:
    return data.subset(datasets.load_dataset(name), n_train, n_test, seed=0)


def _per_results(name: str, results: list, compute):
    """``compute()`` once per set of finished runs (the page reruns often; a verdict predicts thousands of images),
    kept in the session until other runs replace these."""
    token = (i18n.language(), *(id(r) for _label, r in results))  # a verdict is text: one per language
    kept = st.session_state.get(name)
    if kept is None or kept[0] != token:
        kept = st.session_state[name] = (token, compute())
    return kept[1]


def _label(label: str) -> str:
    """A lesson run's label in the reader's language ("dropout 0,5"; "ohne Dropout")."""
    return said(label) if isinstance(label, Message) else _(label)


def comparison_ui(c: lessons.Comparison, caption: str, n_train: int | None = None, **options) -> list | None:
    """A comparison lesson: its seed, its images, its runs with live progress, their curves and test accuracies,
    and the verdict: only what the numbers show."""
    seed = st.number_input(_("Seed"), 0, 9999, key=sticky(f"{c.key}_seed", 1),
                           help=_("The same seed starts the runs with the same weights and shows them the images in "
                                  "the same order; they can still end a little apart, because the computer adds its "
                                  "numbers up in a different order each time. Another seed: other starting weights "
                                  "and another order of the images."))
    ds = _lesson_data(c.dataset, n_train or c.n_train)
    st.caption(caption)
    runs_ = c.runs(seed=int(seed), **options)
    results = run_pair_ui(c.key, [(r.label, r.config, r.start_from) for r in runs_], ds)
    if results:
        figures.plot(st, charts.compare_figure({_label(lab): r.history for lab, r in results}, c.metric),
                     key=f"{c.key}_chart")
        cols = st.columns(len(results))
        for col, (lab, r) in zip(cols, results, strict=True):
            col.metric(_("{run}: test accuracy", run=_label(lab)), number(r.test_accuracy, ".1%"))
        verdict = _per_results(f"{c.key}_verdict", results, lambda: c.verdict(results, ds))
        if verdict.holds:
            st.success(_("{text} That is {teaches}.", text=verdict.text, teaches=_(c.teaches)),
                       icon=":material/check_circle:")
        else:
            st.info(f"{verdict.text} {_(c.retry)}", icon=":material/info:")
    return results


def dropout_ui() -> None:
    st.markdown(_("**Dropout** switches off a random share of units at every training step, so the network "
                  "cannot rely on any single one. With few training images a network *memorises* them: training "
                  "accuracy climbs to 100% while validation accuracy stalls — the gap is **overfitting**."))
    rate = st.slider(_("Dropout rate"), 0.1, 0.7, key=sticky("do_rate", 0.5), step=0.1)
    comparison_ui(lessons.DROPOUT, _("1,000 MNIST images (700 to train, 300 to validate), 15 epochs. Solid: "
                                     "training accuracy, measured while dropout is switched on; dashed: validation. "
                                     "The verdict measures both with dropout off."), rate=rate)


def batchnorm_ui() -> None:
    st.markdown(_("**Batch normalisation** rescales each layer's outputs to a steady range during training. "
                  "The next layer then learns on stable inputs, so training often gets going faster: the comparison "
                  "below measures whether it does here."))
    comparison_ui(lessons.BATCHNORM, _("3,000 MNIST images, the same small network with and without batch norm, "
                                       "SGD, 6 epochs."))


def augmentation_ui() -> None:
    st.markdown(_("**Data augmentation** shows the network randomly shifted, rotated and zoomed copies of the "
                  "training images (preview them on the **Data** page). It learns that position and tilt do not "
                  "change a digit, which matters when test images are not as neat as the training set."))
    results = comparison_ui(lessons.AUGMENTATION, _("2,000 MNIST images, 8 epochs. Then both models face test "
                                                    "images that were shifted (up to 4 pixels) and rotated (up to "
                                                    "20°)."))
    if results:
        ds = _lesson_data(lessons.AUGMENTATION.dataset, lessons.AUGMENTATION.n_train)

        def moved_results():
            moved = lessons.moved_test_images(ds)
            return moved[:8], [lessons.moved_accuracy(r.model, moved, ds.y_test) for _, r in results]

        shown, accuracies = _per_results("lesson_aug_moved", results, moved_results)
        images.image_grid_ui(list(shown), cols=8, alts=[_("Test image {n}, shifted and rotated", n=n + 1)
                                                        for n in range(len(shown))])
        cols = st.columns(len(results))
        for col, (lab, _result), accuracy in zip(cols, results, accuracies, strict=True):
            col.metric(_("{run}: on shifted + rotated images", run=_(lab)), number(accuracy, ".1%"))


def transfer_ui() -> None:
    st.markdown(_("**Transfer learning** reuses what a network learned on one task for another. Here the shipped "
                  "**digit** model (trained on 60,000 MNIST digits) starts off a model for **clothes**, trained on "
                  "only a few hundred Fashion-MNIST images: once with its layers **frozen** (only a new small head "
                  "learns), once **fine-tuned** (every layer keeps learning from there, except that batch "
                  "normalization keeps the digits' statistics), and once **from scratch**, the same network from "
                  "random weights, for comparison. Does a head start from digits help with clothes, which are not "
                  "strokes? Run it and see; for drawings of your own (My data), the digit model's start helps "
                  "more, since drawings *are* strokes."))
    bases = [e for e in store.list_models() if tuple(e.meta.get("input_shape", ())) == (28, 28, 1)
             and e.meta.get("dataset") != "fashion_mnist"]  # a clothes model reused on clothes teaches nothing
    if not bases:
        st.warning(_("No saved 28×28 digit model to start from. Train and save one on the Train page first."))
        return
    names = [e.name for e in bases]
    c1, c2 = st.columns(2)
    base_name = c1.selectbox(_("Start from"), names, index=names.index("mnist") if "mnist" in names else 0,
                             key="tl_base")
    n = int(c2.select_slider(_("Training images (Fashion-MNIST)"), list(lessons.TRANSFER_IMAGES),
                             key=sticky("tl_n", lessons.TRANSFER_DEFAULT)))
    entry = next(e for e in bases if e.name == base_name)
    base = models.load_choice({"kind": "saved", "entry": entry})
    try:
        transfer.cut_layer(base)  # the same cut as every transfer run's
    except transfer.TransferError as e:
        st.error(_("{e} Pick another base.", e=e))
        return
    spec = entry.meta.get("spec") or arch.spec_from_model(base)
    if spec is None:
        st.error(_("{base_name} has layers CNN Lab cannot rebuild from scratch for the comparison; pick another.",
                   base_name=base_name))
        return
    epochs = lessons.transfer_runs(n_train=n, spec=spec)[0].config.epochs
    comparison_ui(lessons.TRANSFER, _("{n} Fashion-MNIST images ({train} to train), {epochs} epochs of batch {batch} "
                                      "each (about {steps} steps, with augmentation); test on 1,000.", n=n,
                                      train=n - int(n * 0.2), epochs=epochs, batch=lessons.TRANSFER_BATCH,
                                      steps=lessons.TRANSFER_STEPS), n_train=n, base=base, spec=spec, num_classes=10)
    st.caption(_("An ImageNet-pretrained base (such as MobileNetV2) needs its weights downloaded from the internet, "
                 "which this offline lab does not do; the same idea works with any model saved here."))


LESSONS = {  # names are keys (?lesson= links); people read them translated
    N_("Convolution"): convolution_ui, N_("Pooling"): pooling_ui, N_("Activation functions"): activation_ui,
    N_("Fully connected layers"): dense_ui, N_("Dropout"): dropout_ui, N_("Batch normalisation"): batchnorm_ui,
    N_("Data augmentation"): augmentation_ui, N_("Transfer learning"): transfer_ui,
}
