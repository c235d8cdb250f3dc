"""Take the model home: LiteRT (TFLite) for phones and microcontrollers, ONNX for other runtimes.

Every file is checked before it is offered: it is loaded with its own runtime (the LiteRT
interpreter, ONNX Runtime), the test images go through it, and its predictions are compared with
Keras'. A float32 file must agree on every image (bar near ties, where Keras' own two best classes are
within float rounding of each other); an int8 file (4× smaller) on at least 99%. A file
that does not pass is not offered, and the message says why. The converters and runtimes are
optional packages (``requirements-export.txt``).
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn import keras_files, store
from cnn.errors import LabError, first_line
from cnn.i18n import N_, _
from cnn.predict import predict_proba

FORMATS = {"litert": "LiteRT (TFLite), float32", "litert-int8": "LiteRT (TFLite), int8", "onnx": "ONNX"}  # names
SUFFIX = {"litert": ".tflite", "litert-int8": ".tflite", "onnx": ".onnx"}
PACKAGES = {"litert": ["ai_edge_litert"], "litert-int8": ["ai_edge_litert"],
            "onnx": ["tf2onnx", "onnx", "onnxruntime"]}
MIN_AGREEMENT = {"litert": 1.0, "litert-int8": 0.99, "onnx": 1.0}
NEAR_TIE = 0.005  # Keras' top two probabilities closer than this: either answer counts as agreeing
# What an operation the converters cannot translate usually comes from, in a CNN Lab model.
OP_HINTS = {"Erf": N_("a GELU activation"), "Erfc": N_("a GELU activation"),
            "ImageProjectiveTransformV3": N_("a random augmentation layer (RandomRotation, RandomZoom, …)"),
            "StatelessRandomUniformV2": N_("a random augmentation layer (RandomRotation, RandomZoom, …)")}


class ExportError(LabError):
    """A model could not be exported, or its file did not match Keras; the message says why."""


def missing(fmt: str) -> list[str]:
    """The Python packages a format needs that are not installed (``pip install -r requirements-export.txt``)."""
    return [p for p in PACKAGES[fmt] if importlib.util.find_spec(p) is None]


@dataclass(frozen=True)
class Check:
    """How an exported file's predictions compare with Keras' on the same images."""

    n: int
    agree: int  # same top class, or a near tie that rounding alone can flip
    max_diff: float  # largest difference of a probability
    accuracy: float | None  # the file's own accuracy, when the labels are known
    keras_accuracy: float | None

    def describe(self, fmt: str) -> str:
        text = _("{format} file: {agree:,}/{n:,} test predictions agree with Keras, largest probability difference "
                 "{diff:.1g}", format=FORMATS[fmt], agree=self.agree, n=self.n, diff=self.max_diff)
        if self.accuracy is not None:
            text += _("; accuracy {acc:.2%} (Keras {keras:.2%})", acc=self.accuracy, keras=self.keras_accuracy)
        return text + "."


@dataclass(frozen=True)
class Exported:
    """A checked file, ready to download."""

    fmt: str
    data: bytes
    check: Check
    seconds: float  # to convert

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def filename_suffix(self) -> str:
        return ("-int8" if self.fmt == "litert-int8" else "") + SUFFIX[self.fmt]


class _OpCollector(logging.Handler):
    """Collects the converters' "unsupported op" complaints, to say which layer was the problem."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _unsupported(lines: list[str], error: str) -> str:
    ops = set(re.findall(r"op \[[^\]]*: (\w+)\] is not supported", "\n".join(lines)))
    ops |= set(re.findall(r"\(\"[^\"]*\", (\w+), ", error))
    if not ops:
        return ""
    hints = sorted({_(OP_HINTS[op]) for op in ops if op in OP_HINTS})
    if hints:
        return " " + _("The converter cannot translate {ops} (from {hints}).", ops=", ".join(sorted(ops)),
                       hints=_(" and ").join(hints))
    return " " + _("The converter cannot translate {ops}.", ops=", ".join(sorted(ops)))


def convert(model, fmt: str, calibration: np.ndarray | None = None) -> bytes:
    """The bytes of ``model`` in ``fmt`` ("litert", "litert-int8" or "onnx"); ExportError when it cannot be made."""
    if fmt not in FORMATS:
        raise ExportError(_("Unknown export format '{fmt}'; use one of {join}.", fmt=fmt, join=', '.join(FORMATS)))
    absent = missing(fmt)
    if absent:
        raise ExportError(_("{formats} export needs {join}, which is not installed here. Install it with: pip "
                            "install -r requirements-export.txt", formats=FORMATS[fmt], join=', '.join(absent)))
    try:
        model = keras_files.float32_copy(model)
    except store.StoreError as e:
        raise ExportError(str(e)) from None
    sample = np.zeros((1, *model.inputs[0].shape[1:]), np.float32)
    model(sample)  # ONNX export needs a model that has been called once
    kwargs = {}
    if fmt == "litert-int8":
        import tensorflow as tf

        if calibration is None or len(calibration) == 0:
            raise ExportError(_("int8 needs some example images to calibrate with."))

        def representative():
            for i in range(min(200, len(calibration))):
                yield [np.asarray(calibration[i:i + 1], np.float32)]

        kwargs = {"optimizations": [tf.lite.Optimize.DEFAULT], "representative_dataset": representative}
    collector = _OpCollector()
    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tf2onnx.tfonnx", "tf2onnx.tf_loader")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model{SUFFIX[fmt]}"
        for lg in loggers:
            lg.addHandler(collector)
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the converters' own deprecation chatter
                model.export(str(path), format="onnx" if fmt == "onnx" else "litert", verbose=False, **kwargs)
        except Exception as e:
            first = first_line(e)
            raise ExportError(_("{formats} export failed: {first}.{unsupported}",
                                formats=FORMATS[fmt], first=first, unsupported=_unsupported(collector.lines, str(e)))) \
                from None
        finally:
            for lg in loggers:
                lg.removeHandler(collector)
        if not path.is_file() or path.stat().st_size == 0:
            raise ExportError(_("{formats} export made no file.", formats=FORMATS[fmt]))
        data = path.read_bytes()
    if fmt == "onnx" and collector.lines:
        problem = _unsupported(collector.lines, "")
        if problem:
            raise ExportError(_("The ONNX file would be broken.{problem} The LiteRT export may still work.",
                                problem=problem))
    return data


class Runtime:
    """An exported file loaded once in its format's own runtime (LiteRT's interpreter or ONNX Runtime); call it
    with float images (N, H, W, C) for their class probabilities."""

    def __init__(self, fmt: str, data: bytes) -> None:
        self.fmt = fmt
        if fmt.startswith("litert"):
            from ai_edge_litert.interpreter import Interpreter

            self.interpreter = Interpreter(model_content=data)
            self.interpreter.allocate_tensors()
            self.inp, self.out = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        else:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3  # errors only
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            self.input = self.session.get_inputs()[0].name

    def outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """Every output of an ONNX file for images ``x`` (a model may give feature maps besides its answer)."""
        return [np.asarray(o, np.float32) for o in self.session.run(None, {self.input: np.asarray(x, np.float32)})]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if not self.fmt.startswith("litert"):
            return self.outputs(x)[0]
        inp, out = self.inp, self.out
        scale, zero = inp.get("quantization", (0.0, 0))
        oscale, ozero = out.get("quantization", (0.0, 0))
        results = []
        for i in range(len(x)):  # the file takes one image at a time, as on a phone
            xi = x[i:i + 1]
            if np.issubdtype(inp["dtype"], np.integer) and scale:
                xi = np.round(xi / scale + zero).astype(inp["dtype"])
            self.interpreter.set_tensor(inp["index"], xi.astype(inp["dtype"]))
            self.interpreter.invoke()
            y = self.interpreter.get_tensor(out["index"])[0].astype(np.float32)
            results.append((y - ozero) * oscale if np.issubdtype(out["dtype"], np.integer) and oscale else y)
        return np.stack(results)


def publish(data: bytes, folder: Path, key: str, suffix: str = ".onnx", keep: int = 200) -> str:
    """Keep ``data`` in ``folder`` under a name made from ``key`` (a model file's path and mtime, or a session
    model's token: the converter's bytes differ from one conversion to the next, so their hash would not do);
    written once, atomically (a browser fetching it never sees half a file), readable by all. The ``keep`` most
    recently published files stay; older ones go. The file's name. The Draw page's browser reading fetches its
    model this way."""
    import hashlib
    import os

    name = hashlib.sha256(key.encode()).hexdigest()[:24] + suffix
    path = folder / name
    if path.exists():
        os.utime(path)  # in use: kept when older files are cleared
        return name
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".part-", delete=False) as f:
        f.write(data)
    os.chmod(f.name, 0o644)
    Path(f.name).replace(path)
    files = sorted(folder.glob(f"*{suffix}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
    return name


def run(fmt: str, data: bytes, x: np.ndarray) -> np.ndarray:
    """Class probabilities of images ``x`` (N, H, W, C) from an exported file, with that format's own runtime."""
    return Runtime(fmt, data)(x)


def check(fmt: str, data: bytes, model, x: np.ndarray, y: np.ndarray | None = None) -> Check:
    """Compare an exported file's predictions with Keras' on images ``x`` (labels ``y`` if known)."""
    try:
        theirs = run(fmt, data, x)
    except Exception as e:
        first = first_line(e)
        raise ExportError(_("The {formats} file does not run in its own runtime: {first}.{unsupported}",
                            formats=FORMATS[fmt], first=first, unsupported=_unsupported([], str(e)))) from None
    ours = predict_proba(model, x)
    top2 = np.sort(ours, axis=1)[:, -2:] if ours.shape[1] > 1 else np.ones((len(ours), 2))
    near_tie = (top2[:, 1] - top2[:, 0]) < NEAR_TIE
    agree = int(np.sum((theirs.argmax(1) == ours.argmax(1)) | near_tie))
    acc = keras_acc = None
    if y is not None:
        acc, keras_acc = float(np.mean(theirs.argmax(1) == y)), float(np.mean(ours.argmax(1) == y))
    return Check(len(x), agree, float(np.abs(theirs - ours).max()), acc, keras_acc)


def export_checked(model, fmt: str, x: np.ndarray, y: np.ndarray | None = None,
                   calibration: np.ndarray | None = None) -> Exported:
    """Convert, run the check images through the file, and hand it over only if it matches Keras."""
    t0 = time.perf_counter()
    data = convert(model, fmt, calibration if calibration is not None else x)
    seconds = time.perf_counter() - t0
    result = check(fmt, data, model, x, y)
    if result.agree < MIN_AGREEMENT[fmt] * result.n:
        raise ExportError(_("Not offered: {describe} That is below the {min_agreement:.0%} a {formats} file must "
                            "reach.",
                            describe=result.describe(fmt), min_agreement=MIN_AGREEMENT[fmt], formats=FORMATS[fmt]))
    return Exported(fmt, data, result, seconds)


def latency_ms(fmt: str, data: bytes, x: np.ndarray, repeats: int = 200) -> float:
    """Median milliseconds for one image through an exported file (the runtime loaded once)."""
    runtime, x = Runtime(fmt, data), np.asarray(x[:1], np.float32)
    return _median_ms(lambda: runtime(x), repeats)


def keras_latency_ms(model, x: np.ndarray, repeats: int = 200) -> float:
    """Median milliseconds for one image through Keras (``predict_on_batch``, as the Draw page calls it)."""
    x = np.asarray(x[:1], np.float32)
    return _median_ms(lambda: model.predict_on_batch(x), repeats)


def _median_ms(fn, repeats: int) -> float:
    for _warm in range(5):
        fn()
    times = []
    for _run in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))
