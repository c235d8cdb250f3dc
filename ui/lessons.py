"""The eight concept lessons, one function each; the Lessons page puts them in tabs."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnn import architectures as arch
from cnn import charts, data, lessons, store, training, transfer
from cnn.jobs import JobRequest
from ui import datasets, figures, images, models, runs
from ui.state import sticky


def _sample_image(key: str) -> np.ndarray:
    """A grey test image picked by the student (MNIST, Fashion-MNIST or CIFAR-10 in grey)."""
    c1, c2 = st.columns(2)
    name = c1.selectbox("Image from", data.dataset_names(), key=f"{key}_ds", format_func=data.title)
    ds = datasets.load_dataset(name)
    i = c2.number_input("Test image #", 0, len(ds.test_images) - 1, 0, key=f"{key}_idx")
    img = data.to_float(ds.test_images[int(i)])
    return img.mean(axis=-1)  # (H, W) grey


def run_pair_ui(key: str, pair: list[tuple[str, training.TrainConfig, object]], ds: data.Dataset) -> list | None:
    """Train a lesson's runs through the server's job queue, with live progress; their results when done.

    Each run is (label, config, model factory or None); factories run only when the button is pressed.
    Results stay in session state so the charts survive reruns and visits to other pages.
    """
    running = runs.is_running(key)
    c1, c2, _ = st.columns([1, 1, 2])
    if c1.button("Run the comparison", key=f"{key}_run", type="primary", disabled=running,
                 icon=":material/play_arrow:"):
        requests = [JobRequest(config, ds, label=label, extra={"lesson": key},
                               initial_model=store.model_to_bytes(factory()) if factory else None)
                    for label, config, factory in pair]
        runs.start(key, requests)
        st.rerun()  # redraw the buttons: Run off, Stop on
    if c2.button("Stop", key=f"{key}_stop", disabled=not running, icon=":material/stop:"):
        runs.stop(key)
        st.rerun()
    if running:
        runs.progress_ui(key)
        return None
    group = runs.group(key)
    for message in group.errors() if group else []:
        st.error(message)
    results = group.results() if group else []
    return results if len(results) == len(pair) else None


def convolution_ui() -> None:
    st.markdown("A **convolution** slides a small grid of numbers (the *kernel* or *filter*) over the image. At "
                "each position it multiplies the pixels under it by the kernel and adds them up: one output "
                "pixel. A CNN *learns* its kernels; here you choose them.")
    img = _sample_image("conv")
    c1, c2, c3 = st.columns(3)
    preset = c1.selectbox("Kernel", list(lessons.KERNELS), index=1, key="conv_kernel")
    stride = c2.select_slider("Stride", [1, 2, 3], 1, key="conv_stride")
    padding = c3.radio("Padding", ["valid", "same"], horizontal=True, key="conv_pad")
    kernel = st.data_editor(lessons.KERNELS[preset].astype(float), key=f"conv_edit_{preset}",
                            width="content", column_config={str(i): st.column_config.NumberColumn(format="%.2f")
                                                            for i in range(3)})
    kernel = np.nan_to_num(np.asarray(kernel, np.float32)).reshape(3, 3)
    out = lessons.convolve(img, kernel, stride, padding)
    h, w = img.shape
    a, b, c = st.columns([1, 0.6, 1])
    figures.plot(a, charts.heatmap(img, f"input {h}×{w}"), key="conv_in")
    figures.plot(b, charts.heatmap(kernel, "kernel 3×3", centre_zero=True, text=True), key="conv_k")
    figures.plot(c, charts.heatmap(out, f"output {out.shape[0]}×{out.shape[1]}", centre_zero=True), key="conv_out")
    st.info(f"Output size = {'ceil(n / stride)' if padding == 'same' else 'floor((n − 3) / stride) + 1'} = "
            f"**{out.shape[0]}×{out.shape[1]}** for a {h}×{w} input, stride {stride}, '{padding}' padding. "
            "'same' pads the border with zeros so the size only shrinks by the stride.")
    st.session_state["lesson_fmap"] = out


def pooling_ui() -> None:
    st.markdown("**Pooling** shrinks a feature map: each 2×2 window (stride 2) becomes one number — its "
                "**maximum** (keeps the strongest response) or its **average** (keeps the overall level).")
    fmap = st.session_state.get("lesson_fmap")
    if fmap is None:
        fmap = lessons.convolve(_sample_image("pool"), lessons.KERNELS["vertical edges"], 1, "same")
    fmap = np.maximum(fmap, 0)
    mx, av = lessons.pool(fmap, 2, 2, "max"), lessons.pool(fmap, 2, 2, "avg")
    a, b, c = st.columns(3)
    figures.plot(a, charts.heatmap(fmap, f"feature map {fmap.shape[0]}×{fmap.shape[1]} (after ReLU)"), key="pool_in")
    figures.plot(b, charts.heatmap(mx, f"max pooling → {mx.shape[0]}×{mx.shape[1]}"), key="pool_max")
    figures.plot(c, charts.heatmap(av, f"average pooling → {av.shape[0]}×{av.shape[1]}"), key="pool_avg")
    st.caption("The feature map comes from the Convolution lesson (the vertical-edge kernel until you change it). "
               "The size halves; max pooling keeps sharp strokes, average pooling blurs them.")


def activation_ui() -> None:
    st.markdown("An **activation function** bends each number after a layer. Without it, stacked layers would "
                "collapse into one linear step, and the network could only draw straight lines.")
    z = np.linspace(-5, 5, 201)
    figures.plot(st, charts.activation_figure(lessons.ACTIVATION_FUNCTIONS, z), key="act_plot")
    fn = st.radio("Apply to a feature map", list(lessons.ACTIVATION_FUNCTIONS), horizontal=True, key="act_fn")
    fmap = st.session_state.get("lesson_fmap")
    if fmap is None:
        fmap = lessons.convolve(_sample_image("act"), lessons.KERNELS["vertical edges"], 1, "same")
    out = lessons.ACTIVATION_FUNCTIONS[fn](fmap)
    a, b = st.columns(2)
    figures.plot(a, charts.heatmap(fmap, "before (blue negative, red positive)", centre_zero=True), key="act_in")
    figures.plot(b, charts.heatmap(out, f"after {fn}", centre_zero=True), key="act_out")
    st.caption("ReLU zeroes every negative value; sigmoid squashes into (0, 1); tanh into (−1, 1); leaky ReLU "
               "keeps a little of the negative side.")


@st.cache_data
def _tutorial_breakdown() -> list[dict]:
    return lessons.parameter_breakdown(arch.build_model(arch.preset("tutorial"), (28, 28, 1)))


def dense_ui() -> None:
    st.markdown("A **fully connected** (Dense) layer connects every input number to every output unit. First "
                "**Flatten** lines up the feature maps as one long vector. In the Tutorial model that vector has "
                "7×7×128 = **6,272** numbers, each wired to each of 1,024 units: that is where the parameters are.")
    rows = _tutorial_breakdown()
    st.dataframe([{"layer": r["layer"], "type": r["type"], "parameters": f"{r['params']:,}",
                   "share": f"{r['share']:.1%}", "how": r["formula"]} for r in rows], hide_index=True)
    figures.plot(st, charts.bar_counts([r["layer"] for r in rows], [r["params"] for r in rows],
                                      f"Parameters per layer (total {sum(r['params'] for r in rows):,})"),
                    key="dense_bars")
    st.info("dense1 alone holds 6,272 × 1,024 + 1,024 = 6,423,552 of the 6,526,474 parameters (98.4%). "
            "Global average pooling instead of Flatten (as in the *fast* preset) removes most of them.")


def _lesson_data(name: str, n_train: int, n_test: int = 1000) -> data.Dataset:
    return data.subset(datasets.load_dataset(name), n_train, n_test, seed=0)


def _compare_ui(key: str, pair: list[lessons.LessonRun], ds: data.Dataset, metric: str = "accuracy") -> list | None:
    results = run_pair_ui(key, [(r.label, r.config, r.start_from) for r in pair], ds)
    if results:
        figures.plot(st, charts.compare_figure({lab: r.history for lab, r in results}, metric), key=f"{key}_chart")
        cols = st.columns(len(results))
        for col, (lab, r) in zip(cols, results, strict=True):
            col.metric(f"{lab}: test accuracy", f"{r.test_accuracy:.1%}")
    return results


def verdict_ui(verdict: lessons.Verdict, lesson: str) -> None:
    """What this run showed, honestly: the lesson's point when it holds, and say so when it did not."""
    if verdict.holds:
        st.success(f"{verdict.text} That is {lesson}.", icon=":material/check_circle:")
    else:
        st.info(f"{verdict.text} This time the difference did not show: small runs vary. Try another seed or "
                "more images.", icon=":material/info:")


def dropout_ui() -> None:
    st.markdown("**Dropout** switches off a random share of units at every training step, so the network "
                "cannot rely on any single one. With few training images a network *memorises* them: training "
                "accuracy climbs to 100% while validation accuracy stalls — the gap is **overfitting**.")
    rate = st.slider("Dropout rate", 0.1, 0.7, key=sticky("do_rate", 0.5), step=0.1)
    ds = _lesson_data(*lessons.DROPOUT_DATA)
    st.caption("1,000 MNIST images (700 to train, 300 to validate), 15 epochs, same seed. Solid: training, "
               "dashed: validation.")
    results = _compare_ui("lesson_dropout", lessons.dropout_runs(rate), ds)
    if results:
        verdict_ui(lessons.dropout_verdict(results), "dropout holding back overfitting")


def batchnorm_ui() -> None:
    st.markdown("**Batch normalisation** rescales each layer's outputs to a steady range during training. "
                "The next layer then learns on stable inputs, so training converges faster and tolerates "
                "larger learning rates.")
    ds = _lesson_data(*lessons.BATCHNORM_DATA)
    st.caption("3,000 MNIST images, the same small network with and without batch norm, SGD, 6 epochs, same seed.")
    results = _compare_ui("lesson_bn", lessons.batchnorm_runs(), ds, metric="loss")
    if results:
        verdict_ui(lessons.batchnorm_verdict(results), "batch norm speeding up training")


def augmentation_ui() -> None:
    st.markdown("**Data augmentation** shows the network randomly shifted, rotated and zoomed copies of the "
                "training images (preview them on the **Data** page). It learns that position and tilt do not "
                "change a digit, which matters when test images are not as neat as the training set.")
    ds = _lesson_data(*lessons.AUGMENT_DATA)
    st.caption("2,000 MNIST images, 8 epochs, same seed. Then both models face test images that were shifted "
               "(up to 4 pixels) and rotated (up to 20°).")
    results = _compare_ui("lesson_aug", lessons.augmentation_runs(), ds)
    if results:
        moved = lessons.transform_test_images(data.to_float(ds.test_images), seed=0)
        images.image_grid_ui(list(moved[:8]), cols=8)
        cols = st.columns(len(results))
        for col, (lab, r) in zip(cols, results, strict=True):
            acc = lessons.moved_accuracy(r.model, moved, ds.y_test)
            col.metric(f"{lab}: on shifted + rotated images", f"{acc:.1%}")
        verdict_ui(lessons.augmentation_verdict(results, moved, ds.y_test), "augmentation teaching robustness")


def transfer_ui() -> None:
    st.markdown("**Transfer learning** reuses what a network learned on one task for another. Here the shipped "
                "**digit** model (trained on 60,000 MNIST digits) starts off a model for **clothes**, trained on "
                "only a few hundred Fashion-MNIST images: once with its layers **frozen** (only a new small head "
                "learns), once **fine-tuned** (every layer keeps learning from there, except that batch "
                "normalization keeps the digits' statistics), and once **from scratch** "
                "for comparison. With few images, starting from what the digit model learned helps a lot; with "
                "more, training from scratch catches up, and frozen digit features fall behind: strokes are not "
                "sleeves.")
    bases = [e for e in store.list_models() if tuple(e.meta.get("input_shape", ())) == (28, 28, 1)
             and e.meta.get("dataset") != "fashion_mnist"]  # a clothes model reused on clothes teaches nothing
    if not bases:
        st.warning("No saved 28×28 digit model to start from. Train and save one on the Train page first.")
        return
    names = [e.name for e in bases]
    c1, c2 = st.columns(2)
    base_name = c1.selectbox("Start from", names, index=names.index("mnist") if "mnist" in names else 0,
                             key="tl_base")
    n = c2.select_slider("Training images (Fashion-MNIST)", list(lessons.TRANSFER_IMAGES),
                         key=sticky("tl_n", lessons.TRANSFER_DEFAULT))
    entry = next(e for e in bases if e.name == base_name)
    base = models.load_choice({"kind": "saved", "entry": entry})
    try:
        transfer.cut_layer(base)  # the same cut as every transfer run's
    except transfer.TransferError as e:
        st.error(f"{e} Pick another base.")
        return
    spec = entry.meta.get("spec") or arch.spec_from_model(base)
    if spec is None:
        st.error(f"{base_name} has layers CNN Lab cannot rebuild from scratch for the comparison; pick another.")
        return
    ds = _lesson_data("fashion_mnist", int(n))
    st.caption(f"{n} Fashion-MNIST images ({int(n * 0.8)} to train), 10 epochs each, same seed; test on 1,000.")
    results = _compare_ui("lesson_tl", lessons.transfer_runs(base, spec, ds.num_classes), ds)
    if results:
        verdict_ui(lessons.transfer_verdict(results), "transfer learning helping when images are few")
    st.caption("An ImageNet-pretrained base (such as MobileNetV2) needs its weights downloaded from the internet, "
               "which this offline lab does not do; the same idea works with any model saved here.")


LESSONS = {
    "Convolution": convolution_ui, "Pooling": pooling_ui, "Activation functions": activation_ui,
    "Fully connected layers": dense_ui, "Dropout": dropout_ui, "Batch normalisation": batchnorm_ui,
    "Data augmentation": augmentation_ui, "Transfer learning": transfer_ui,
}
