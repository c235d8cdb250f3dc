"""CNN Lab performance benchmark: every goal of the performance issue, measured side by side.

    python bench/bench.py [--seeds 3] [--repeats 3] [--tutorial-epochs 0] [--cifar] [--browser]
    python bench/bench.py --only 1,2,3,7,8,9 --cifar --browser   # every goal of performance round 2, one run

Needs the full datasets (``../shared/datasets`` or ``CNN_DATA_DIR``). Prints one table of
medians and ratios measured in this run, with the machine's cores and TensorFlow version.
Timings are wall-clock on a shared machine: compare ratios within one run, not across runs.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CNN_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# As the shell had it, before the library turns TensorFlow's oneDNN on (cnn/__init__.py): the plain reference
# runs as a student would run it.
SHELL_ONEDNN = os.environ.get("TF_ENABLE_ONEDNN_OPTS")

import numpy as np  # noqa: E402

from cnn import (  # noqa: E402
    architectures,
    cifar_budget,
    crops,
    data,
    dataset_sources,
    evaluation,
    optimizers,
    precision,
    preprocess,
    presets,
    run_config,
    store,
    training,
)
from cnn.jobs import JobRequest  # noqa: E402
from cnn.jobs.local import LocalEngine  # noqa: E402
from cnn.predict import predict_proba, tta_level  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []  # goal, measured, target, verdict


def row(goal: str, measured: str, target: str, ok: bool | None) -> None:
    ROWS.append((goal, measured, target, "met" if ok else ("—" if ok is None else "NOT met")))
    print(f"  {goal}: {measured}", flush=True)


def plain_fit(spec, ds, epochs, batch_size, lr, schedule="cosine", dtype=None, seed=1):
    """Plain Keras: build, compile, model.fit on arrays, evaluate; no CNN Lab code in the loop."""
    import keras

    keras.utils.set_random_seed(seed)
    model = architectures.build_model(spec, ds.image_shape, 10, dtype=dtype)
    steps = math.ceil(len(ds.train_images) / batch_size) * epochs
    model.compile(optimizer=optimizers.make_optimizer("adam", lr, schedule, steps),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = ds.x_train, keras.utils.to_categorical(ds.y_train, 10)
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - t0
    acc = model.evaluate(ds.x_test, keras.utils.to_categorical(ds.y_test, 10), batch_size=512, verbose=0)[1]
    return seconds, float(acc), model


_ENGINE: LocalEngine | None = None


def app_fit(config, ds):
    """The Train page's path: a job in a worker process, progress events on, polled every second."""
    global _ENGINE
    _ENGINE = _ENGINE or LocalEngine(limit=1)
    job = _ENGINE.submit(JobRequest(config, ds))
    while not job.wait(1.0):
        job.touch()  # what the page's sidebar does
        job.progress()
    if job.state != "done":
        raise RuntimeError(job.message)
    return job.result


PLAIN_REFERENCE = ROOT.parent / "shared" / "reference" / "plain_mnist.py"


WHOLE: dict[str, list[float]] = {}  # whole-process seconds of each command, by name


def _run(cmd: list[str], name: str = "", onednn: str | None = "library") -> str:
    """``cmd``'s output, its whole time kept under ``name``. ``onednn``: TF_ENABLE_ONEDNN_OPTS as the library sets
    it ("library"), as the shell had it ("shell") or this value."""
    env = dict(os.environ)
    value = SHELL_ONEDNN if onednn == "shell" else (env["TF_ENABLE_ONEDNN_OPTS"] if onednn == "library" else onednn)
    env.pop("TF_ENABLE_ONEDNN_OPTS")
    if value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = value
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip().splitlines()[-1:]}")
    if name:
        WHOLE.setdefault(name, []).append(time.perf_counter() - t0)
    return out.stdout


def cli_fast(seed: int, precision: str) -> tuple[float, float]:
    """`python -m cnn train --dataset mnist --arch fast`: (training seconds, test accuracy) from its output."""
    text = _run([sys.executable, "-m", "cnn", "train", "--dataset", "mnist", "--arch", "fast", "--seed", str(seed),
                 "--precision", precision], name=f"fast {precision}")
    last = [ln for ln in text.splitlines() if "training time" in ln][-1].split()
    return float(last[last.index("time") + 1]), float(last[last.index("accuracy") + 1])


def onednn_by_default() -> bool:
    """Whether TensorFlow turns oneDNN on by itself on this CPU (as the shell has it, not as the library sets it)."""
    code = "import tensorflow; from tensorflow.python.util import _pywrap_util_port as p; print(p.IsMklEnabled())"
    return _run([sys.executable, "-c", code], onednn="shell").split()[-1] == "True"


def goal1_fast_preset(ds, seeds: int) -> None:
    print("1. Fast preset vs the plain Keras reference (../shared/reference/plain_mnist.py), same run", flush=True)
    if not PLAIN_REFERENCE.exists():
        row("1 fast preset vs plain reference", f"skipped: no {PLAIN_REFERENCE}", "report", None)
        return
    precision.bf16_fast()  # measure once, before the timed runs (the first run on a machine would pay it)
    onednn_default = onednn_by_default()
    plain, plain_dnn, auto, fp32 = [], [], [], []
    reference = [sys.executable, str(PLAIN_REFERENCE), os.environ["CNN_DATA_DIR"]]
    for seed in [11, 22, 33, 44, 55][:seeds]:  # interleaved, so machine noise hits all of them alike
        t, a = (float(v) for v in _run(reference, name="plain", onednn="shell").split())
        plain.append((t, a))
        auto.append(cli_fast(seed, "auto"))
        fp32.append(cli_fast(seed, "float32"))
        if not onednn_default:
            plain_dnn.append(tuple(float(v) for v in _run(reference, name="plain onednn", onednn="1").split()))
        print(f"   seed {seed}: plain {t:.2f} s {a:.4f} · fast {auto[-1][0]:.2f} s {auto[-1][1]:.4f} · "
              f"fast float32 {fp32[-1][0]:.2f} s {fp32[-1][1]:.4f}"
              + (f" · plain with oneDNN {plain_dnn[-1][0]:.2f} s" if plain_dnn else ""), flush=True)
    t_plain = statistics.median(t for t, _ in plain)
    row("1 plain reference (textbook CNN, fp32, Adam, batch 128, 1 epoch)",
        f"{t_plain:.2f} s median, acc {statistics.median(a for _, a in plain):.4f}", "baseline", None)
    if plain_dnn:
        t_dnn = statistics.median(t for t, _ in plain_dnn)
        row("1 plain reference with TF_ENABLE_ONEDNN_OPTS=1 (TensorFlow leaves oneDNN off on this CPU; the app "
            "turns it on)", f"{t_dnn:.2f} s median; fast preset {statistics.median(s for s, _ in auto) / t_dnn:.2f}×"
            f" of it; whole {statistics.median(WHOLE['plain onednn']):.2f} s", "report", None)
    chosen = "bfloat16" if precision.bf16_fast(measure=False) else "float32"
    whole_plain = statistics.median(WHOLE["plain"])
    row("1 plain reference, whole script (start-up, data, training, test)", f"{whole_plain:.2f} s median "
        f"({', '.join(f'{x:.1f}' for x in WHOLE['plain'])})", "baseline", None)
    for label, runs, key in ((f"auto → {chosen}", auto, "fast auto"),
                             ("float32 forced, as on a CPU without fast bfloat16", fp32, "fast float32")):
        t = statistics.median(s for s, _ in runs)
        accs = [a for _, a in runs]
        ratios = [s / p for (s, _), (p, _) in zip(runs, plain, strict=True)]
        row(f"1 fast preset ({label}): training time, ratio to plain (each seed against its own pair)",
            f"{t:.2f} s median → {t / t_plain:.2f}× (per seed {', '.join(f'{r:.2f}' for r in ratios)})",
            "≤ 0.25× every seed", max(ratios) <= 0.25)
        row(f"1 fast preset ({label}): test accuracy per seed", " · ".join(f"{a:.4f}" for a in accs),
            "≥ 0.990 every seed", min(accs) >= 0.99)
        whole = statistics.median(WHOLE[key])
        row(f"1 `python -m cnn train --dataset mnist --arch fast` ({label}), whole command vs whole plain script",
            f"{whole:.2f} s median → {whole / whole_plain:.2f}× ({', '.join(f'{x:.1f}' for x in WHOLE[key])})",
            "≤ 0.45×", whole / whole_plain <= 0.45)
    row("1 precision choice (measured, cnn/precision.py)", precision.describe(), "report", None)


def goal2_overhead(ds, repeats: int) -> None:
    print("2. Training overhead of the app (fast preset model, same data and batch size)", flush=True)
    config = run_config.default_config("fast", "mnist", seed=1)
    spec, dtype = config.resolved_spec(), config.dtype_policy()
    n = len(ds.train_images) * config.epochs
    app, plain = [], []
    for _ in range(repeats):  # alternate, so machine noise hits both alike
        t, _, _ = plain_fit(spec, ds, config.epochs, config.batch_size, config.learning_rate, dtype=dtype)
        plain.append(n / t)
        app.append(n / app_fit(config, ds).seconds)
    ratio = statistics.median(app) / statistics.median(plain)
    row("2 app training path vs plain model.fit (images/s)", f"{statistics.median(app):,.0f} vs "
        f"{statistics.median(plain):,.0f} → {ratio:.1%}", "≥ 95%", ratio >= 0.95)


def goal3_draw_latency() -> None:
    print("3. Draw latency: preprocess + predict, shipped mnist model", flush=True)
    sys.path.insert(0, str(ROOT / "tests"))
    from drawn_digits import drawn_set

    model = store.load_model("mnist")
    images, _ = drawn_set(20, seed=7)
    canvas = [np.asarray(im.convert("RGBA")) for im in images]
    for arr in canvas[:5]:
        predict_proba(model, preprocess.preprocess_digit(arr).model_input)  # warm-up (tracing)
    times = []
    for arr in canvas:
        t0 = time.perf_counter()
        predict_proba(model, preprocess.preprocess_digit(arr).model_input)
        times.append((time.perf_counter() - t0) * 1000)
    med, p95 = statistics.median(times), float(np.percentile(times, 95))
    row("3 draw: preprocess + predict (ms)", f"median {med:.1f} · p95 {p95:.1f} ({len(times)} drawings)",
        "≤ 15 ms median", med <= 15)
    from cnn import inspection

    x = preprocess.preprocess_digit(canvas[0]).model_input
    inspection.feature_maps(model, x)  # builds the extractor once per model
    t0 = time.perf_counter()
    for _ in range(10):
        for fm in inspection.feature_maps(model, x):
            for page in range(0, fm.maps.shape[-1], 32):
                inspection.mosaic(fm.maps[..., page:page + 32], cols=16, cell=48)
    per = (time.perf_counter() - t0) / 10 * 1000
    row("inspect: feature maps of every layer + their image grids, one input (ms)", f"{per:.0f} ms",
        "< 1 s", per < 1000)


def machine_gflops() -> tuple[float, float]:
    """Measured matmul FLOP rate (float32, bfloat16) with TensorFlow on this machine."""
    import tensorflow as tf

    rates = []
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.random.normal((2048, 2048), dtype=tf.float32)
        a = tf.cast(a, dtype)
        tf.matmul(a, a)
        t0 = time.perf_counter()
        for _ in range(10):
            c = tf.matmul(a, a)
        c.numpy()
        rates.append(10 * 2 * 2048**3 / (time.perf_counter() - t0) / 1e9)
    return rates[0], rates[1]


def goal4_tutorial(ds, tutorial_epochs: int) -> None:
    print("4. Tutorial model: app vs plain Keras fit, against the hardware floor", flush=True)
    import keras

    spec = architectures.preset("tutorial")
    sub = data.subset(ds, 12_800, 1000, seed=0)  # 200 steps of batch 64: enough to time an epoch
    steps = len(sub.train_images) // 64
    t_plain, _, _ = plain_fit(spec, sub, 1, 64, 0.001, schedule="constant")
    config = run_config.default_config("tutorial", "mnist", epochs=1, validation_split=0.0)
    t_app = app_fit(config, sub).seconds
    per_epoch_plain = t_plain / steps * math.ceil(48_000 / 64)
    per_epoch_app = t_app / steps * math.ceil(48_000 / 64)
    f32, bf16 = machine_gflops()
    flops = 84e6 * 48_000
    floor = flops / (bf16 * 1e9 if config.dtype_policy() else f32 * 1e9)
    row("4 tutorial: time per epoch (48k images), app vs plain fit", f"{per_epoch_app:.1f} s vs "
        f"{per_epoch_plain:.1f} s → ratio {per_epoch_plain / per_epoch_app:.2f}", "ratio ≥ 1.0",
        per_epoch_plain / per_epoch_app >= 1.0)
    row("4 tutorial: hardware floor (84 MFLOP/image over measured matmul rate)",
        f"{floor:.1f} s/epoch at {bf16 if config.dtype_policy() else f32:.0f} GFLOP/s "
        f"(fp32 {f32:.0f}, bf16 {bf16:.0f}); app at {floor / per_epoch_app:.0%} of peak", "report", None)
    if tutorial_epochs:
        keras.utils.set_random_seed(1)
        model = architectures.build_model(spec, (28, 28, 1))
        model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
        x, y = ds.x_train, keras.utils.to_categorical(ds.y_train, 10)
        xt, yt = ds.x_test, keras.utils.to_categorical(ds.y_test, 10)
        t0, reached = time.perf_counter(), None
        for epoch in range(1, tutorial_epochs + 1):
            model.fit(x, y, batch_size=64, epochs=1, validation_split=0.2, verbose=0)
            acc = model.evaluate(xt, yt, batch_size=512, verbose=0)[1]
            print(f"   tutorial recipe epoch {epoch}: test {acc:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
            if acc >= 0.99 and reached is None:
                reached = (epoch, time.perf_counter() - t0)
        row("4 tutorial recipe (plain Keras, fp32): time to 99%", f"epoch {reached[0]}, {reached[1]:.0f} s"
            if reached else f"not reached in {tutorial_epochs} epochs", "report", None)


def goal5_browser() -> None:
    print("5. App start and first render of each page, in Chromium", flush=True)
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "page_timings.py")], capture_output=True, text=True,
                         timeout=900)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("  ")]
    if out.returncode != 0 or not lines:
        row("5 page timings", "could not run: " + (out.stderr.strip().splitlines() or ["?"])[-1], "report", None)
        return
    for line in lines:
        name, value = line.strip().split(": ", 1)
        row(f"5 {name}", value, "report", None)


def goal6_device() -> None:
    row("6 device TensorFlow trains on (shown on the Train page)", training.device_description(),
        "GPU when present", None)


def goal7_cifar(folder: str, precisions: list[str], archs: list[str], seeds: int,
                last_run: tuple[int, float] | None = None) -> None:
    print("7. CIFAR: the recommended preset to 88%, each preset's own recipe to 85% (10-minute budget)", flush=True)
    ds = load_from(folder, "cifar10")
    if ds.is_sample:
        sys.exit(f"No full CIFAR-10 in {folder}: python ../shared/datasets/build_cifar10.py {folder}/cifar10.npz")
    for asked in archs:
        name = cifar_budget.cifar_preset() if asked == "auto" else asked  # auto: what the Train page recommends here
        # and the epochs it sets (after a finished run here: the ones that run's time says fit, as the page does)
        epochs = cifar_budget.budget_epochs(name, run=last_run) if asked == "auto" else None
        target = 0.88 if asked == "auto" else 0.85
        for choice, seed in ((c, 42 + i) for c in precisions for i in range(seeds)):
            config = run_config.default_config(name, "cifar10", precision=choice, seed=seed)
            config = replace(config, epochs=epochs or config.epochs)
            r = training.train(config, ds)
            total = r.seconds + r.extra["test_seconds"]  # training + test predictions, augmented as Evaluate does
            level = tta_level({"config": config.as_dict()})
            n_crops = crops.crop_epochs(config.crop_share, config.epochs)
            used = "bfloat16" if config.dtype_policy() else "float32"
            row(f"7 {name} preset (precision {choice} → {used}): test accuracy (test-time augmentation level {level}), "
                "training + test time",
                f"{r.test_accuracy:.4f} in {r.seconds / 60:.1f} min + {r.extra['test_seconds']:.0f} s = "
                f"{total / 60:.1f} min ({config.epochs} epochs, {n_crops} on crops, seed {config.seed}, "
                f"data: {ds.source.split(' (')[0]})",
                f"≥ {target:.2f} in ≤ 10 min of training", r.test_accuracy >= target and r.seconds <= 600)


def last_run(p: argparse.ArgumentParser, text: str) -> tuple[int, float] | None:
    """--cifar-last-run "15,486" as (epochs, seconds of training), or argparse's error."""
    if not text:
        return None
    try:
        epochs, seconds = text.split(",")
        return int(epochs), float(seconds)
    except ValueError:
        p.error(f"--cifar-last-run: EPOCHS,SECONDS (15,486), got {text!r}")


def load_from(folder: str, name: str) -> data.Dataset:
    """A dataset read from ``folder`` (CNN_DATA_DIR for this one load only)."""
    before = os.environ["CNN_DATA_DIR"]
    os.environ["CNN_DATA_DIR"] = folder
    try:
        return dataset_sources.load_dataset(name, allow_download=False)
    finally:
        os.environ["CNN_DATA_DIR"] = before


SHIPPED_TARGETS = {"mnist": 0.994, "fashion_mnist": 0.925, "cifar10": 0.90}  # round 2, goals 3 and 5
SHIPPED_MAX_MB = 10


def goal8_shipped(cifar_folder: str) -> None:
    print("8. Shipped models on their full test sets, as the Evaluate page and `cnn evaluate` test them", flush=True)
    for name, target in SHIPPED_TARGETS.items():
        if not store.exists(name, ROOT / "models"):
            row(f"8 shipped {name}", "missing from models/", f"≥ {target:.3f}", False)
            continue
        ds = load_from(cifar_folder if name == "cifar10" else os.environ["CNN_DATA_DIR"], name)
        if ds.is_sample:
            row(f"8 shipped {name}", f"skipped: no full {name} test set", f"≥ {target:.3f}", None)
            continue
        meta = store.read_meta(name, ROOT / "models")
        model = store.load_model(name, ROOT / "models")
        level = tta_level(meta)
        t0 = time.perf_counter()
        ev = evaluation.evaluate(model, ds, tta=level)
        seconds = time.perf_counter() - t0
        mb = store.paths(name, ROOT / "models")[0].stat().st_size / 2**20
        row(f"8 shipped {name}: full test set (test-time augmentation level {level}), file size, testing time",
            f"{ev.accuracy:.4f} on {ev.n:,} ({ds.source.split(' (')[0]}) · {mb:.1f} MB · {seconds:.0f} s",
            f"≥ {target:.3f}, ≤ {SHIPPED_MAX_MB} MB", ev.accuracy >= target and mb <= SHIPPED_MAX_MB)


def goal9_stroke_latency(strokes: int) -> None:
    print("9. Stroke → prediction on the Draw page, in Chromium against the real app", flush=True)
    sys.path.insert(0, str(ROOT / "bench"))
    from draw_latency import run, summary

    try:
        result = run(strokes)
    except (OSError, RuntimeError) as e:
        row("9 stroke → prediction in Chromium", f"not measured: {e}", "≤ 120 ms median", None)
        return
    row("9 stroke → prediction painted (mouse-up to the frame showing it, page clock)",
        summary(result.on_page), "≤ 120 ms median", statistics.median(result.on_page) <= 120)
    row("9 the same strokes, polled from Python every 20 ms (each poll a driver round trip)",
        f"{summary(result.from_python)}; {result.unchanged_text} answered with unchanged text", "report", None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tutorial-epochs", type=int, default=0, help="also train the tutorial recipe to 99%%")
    p.add_argument("--cifar", action="store_true", help="also train the CIFAR preset (about 10 minutes)")
    p.add_argument("--cifar-data", default=str(ROOT / "data"), help="folder holding cifar10.npz")
    p.add_argument("--cifar-precision", default="auto",
                   help="comma-separated: auto, float32, bfloat16 (float32: as on a CPU without fast bfloat16)")
    p.add_argument("--cifar-arch", default="auto",
                   help="comma-separated CIFAR presets for goal 7 (auto: the one recommended for this CPU)")
    p.add_argument("--cifar-seeds", type=int, default=1, help="CIFAR runs per preset and precision (seeds 42, 43, ...)")
    p.add_argument("--cifar-last-run", default="", metavar="EPOCHS,SECONDS",
                   help="a finished CIFAR small run here (as the class database keeps it): the epochs its time fits")
    p.add_argument("--browser", action="store_true", help="also time app start and pages in Chromium")
    p.add_argument("--strokes", type=int, default=16, help="strokes drawn for goal 9")
    p.add_argument("--only", default="", help="comma-separated goal numbers to run")
    args = p.parse_args()
    def listed(flag: str, value: str, allowed: set[str]) -> list[str]:
        """A comma-separated option's values, or argparse's error naming the ones it does not know."""
        values = value.split(",")
        if unknown := set(values) - allowed:
            p.error(f"{flag}: {', '.join(sorted(unknown))} is not one of {', '.join(sorted(allowed))}")
        return values

    precisions = listed("--cifar-precision", args.cifar_precision, {"auto", "float32", "bfloat16"})
    cifar_archs = listed("--cifar-arch", args.cifar_arch,
                         {"auto", *(a for a in presets.PRESETS if a.startswith("cifar"))})
    if args.cifar_seeds < 1:
        p.error("--cifar-seeds: at least 1")
    import tensorflow as tf

    only = set(args.only.split(",")) - {""}
    want = lambda g: not only or g in only  # noqa: E731
    started = time.perf_counter()
    ds = dataset_sources.load_dataset("mnist") if only - {"5", "6", "7", "8", "9"} or not only else None
    if ds is not None and ds.is_sample:
        sys.exit("The full MNIST is needed: put mnist.npz in CNN_DATA_DIR (default ../shared/datasets).")
    if want("1"):
        goal1_fast_preset(ds, args.seeds)
    if want("2"):
        goal2_overhead(ds, args.repeats)
    if want("3"):
        goal3_draw_latency()
    if want("4"):
        goal4_tutorial(ds, args.tutorial_epochs)
    if want("5") and args.browser:
        goal5_browser()
    if want("6"):
        goal6_device()
    if want("7") and args.cifar:
        goal7_cifar(args.cifar_data, precisions, cifar_archs, args.cifar_seeds, last_run(p, args.cifar_last_run))
    if want("8"):
        goal8_shipped(args.cifar_data)
    if want("9") and args.browser:
        goal9_stroke_latency(args.strokes)
    from tensorflow.python.util import _pywrap_util_port

    flags = ", ".join(precision.cpu_bf16_flags()) or "no bfloat16 instructions"
    flags = f"{precision.cpu_vector_isa() or 'vector instructions unknown'}; {flags}; oneDNN " + \
        ("on" if _pywrap_util_port.IsMklEnabled() else "off")
    if precision.isa_cap():
        flags += f", limited to {precision.isa_cap()}"
    print(f"\nCNN Lab benchmark · {precision.cpu_name()} ({flags}) · {os.cpu_count()} cores · "
          f"TensorFlow {tf.__version__} · "
          f"{training.device_description()} · {time.strftime('%Y-%m-%d')} · {time.perf_counter() - started:.0f} s\n")
    width = max(len(r[0]) for r in ROWS)
    print(f"| {'goal':<{width}} | measured | target | verdict |")
    print(f"|{'-' * (width + 2)}|---|---|---|")
    for goal, measured, target, verdict in ROWS:
        print(f"| {goal:<{width}} | {measured} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
