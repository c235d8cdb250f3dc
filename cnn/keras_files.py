"""A ``.keras`` file, trusted only after a look inside: an archive's configuration is read without running
anything and refused when it holds code or layers the lab does not know; then Keras loads it in safe mode. Also
the model as file bytes (how trained models travel between processes), without its optimizer, in float32, and
with its weights halved to float16 for shipping."""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from cnn.errors import StoreError, first_line
from cnn.i18n import _

MAX_UPLOAD_BYTES = 100 * 2**20

# Layer classes a CNN Lab model may contain; anything else is refused before Keras sees it.
ALLOWED_CLASSES = {
    "Functional", "Sequential", "Model", "InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "BatchNormalization", "LayerNormalization", "Activation", "ReLU", "LeakyReLU", "Softmax", "ELU",
    "Dropout", "SpatialDropout2D", "Flatten", "Reshape", "Dense", "Rescaling", "Normalization",
    "ZeroPadding2D", "Add", "Concatenate", "Multiply", "Average", "Maximum", "Cropping2D",
    "RandomRotation", "RandomTranslation", "RandomZoom", "RandomFlip", "RandomContrast",
}

# CNN Lab's own layers, by their registered names: their code is the lab's (cnn/airbench.py, imported before loading),
# and a file only gives their settings.
OWN_LAYERS = {"cnnlab>WhitenedConv2D": "WhitenedConv2D"}


def halve_weights(path: Path) -> None:
    """Rewrite a ``.keras`` file with its float32 weights stored as float16 and the archive compressed:
    about 45% of the size. Keras casts them back into the model's float32 variables on load (any Keras,
    not only CNN Lab's), so the model computes as before; the rounding (about 1 part in 2,000) moved
    the shipped CIFAR-10 model's test accuracy by 3 images in 10,000. Values too large for float16 stay
    float32."""
    import h5py
    import numpy as np

    with zipfile.ZipFile(path) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
    out = io.BytesIO()
    with h5py.File(io.BytesIO(items["model.weights.h5"]), "r") as old, h5py.File(out, "w") as new:
        new.attrs.update(old.attrs)

        def copy(name: str, obj) -> None:  # a fresh file: deleting datasets in place frees no space
            if isinstance(obj, h5py.Group):
                new.require_group(name).attrs.update(obj.attrs)
                return
            value = obj[()]
            if value.dtype == np.float32 and np.all(np.abs(value) <= np.finfo(np.float16).max):
                value = value.astype(np.float16)
            new.create_dataset(name, data=value).attrs.update(obj.attrs)

        old.visititems(copy)
    items["model.weights.h5"] = out.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)


def inspect_archive(path: Path) -> dict[str, Any]:
    """Read a ``.keras`` archive's config without executing anything; refuse unsafe content."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise StoreError(_("{name}: cannot be read ({strerror}).", name=path.name, strerror=e.strerror)) from None
    if size == 0:
        raise StoreError(_("{name}: the file is empty.", name=path.name))
    if size > MAX_UPLOAD_BYTES:
        raise StoreError(_("{name}: {size:.0f} MB is over the {max_upload_bytes} MB limit.",
                           name=path.name, size=size / 2**20, max_upload_bytes=MAX_UPLOAD_BYTES // 2**20))
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF"):
        raise StoreError(_("{name}: this is a legacy HDF5 (.h5) model. CNN Lab loads only the Keras 3 .keras format; "
                           "re-save it with model.save('name.keras').", name=path.name))
    try:
        with zipfile.ZipFile(path) as z:
            if "config.json" not in z.namelist():
                raise StoreError(_("{name}: not a Keras model archive (no config.json inside).", name=path.name))
            if z.getinfo("config.json").file_size > 20 * 2**20:
                raise StoreError(_("{name}: the model configuration is implausibly large.", name=path.name))
            config = json.loads(z.read("config.json"))
    except StoreError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, KeyError) as e:
        raise StoreError(_("{name}: not a valid .keras file (corrupt or not a model: {e}).", name=path.name,
                           e=e)) from None
    bad = sorted(_unsafe_classes(config))
    if bad:
        if "Lambda" in bad:
            raise StoreError(_("{name}: contains a Lambda layer, which carries Python code. CNN Lab refuses to load "
                               "code from model files (Keras safe mode).", name=path.name))
        raise StoreError(_("{name}: contains layers CNN Lab does not know ({join}); custom objects can run arbitrary "
                           "code and are refused.", name=path.name, join=', '.join(bad)))
    return config


def _unsafe_classes(node: Any) -> set[str]:
    """Class names in a Keras config that are custom objects or layers outside the allowed set."""
    found: set[str] = set()
    if isinstance(node, dict):
        cls, module = node.get("class_name"), node.get("module")
        if isinstance(cls, str) and "config" in node:
            registered = str(node.get("registered_name") or "")
            if OWN_LAYERS.get(registered) == cls and module == "cnn.airbench":
                pass  # one of the lab's own layers (its settings below are still walked)
            elif (module is not None and not str(module).startswith("keras")) or ">" in registered:
                found.add(cls)  # a custom object: its code would have to be imported
            elif (module is None or ".layers" in str(module) or ".models" in str(module)) \
                    and isinstance(node.get("config"), dict) and "name" in node["config"] \
                    and cls not in ALLOWED_CLASSES:
                found.add(cls)  # a layer (Lambda among them) CNN Lab does not accept
        for v in node.values():
            found |= _unsafe_classes(v)
    elif isinstance(node, list):
        for v in node:
            found |= _unsafe_classes(v)
    return found


def load_keras_file(path: Path):
    """Load any ``.keras`` file in safe mode after :func:`inspect_archive`; StoreError on any failure."""
    import keras

    from cnn import airbench  # noqa: F401  (registers the lab's own layers, OWN_LAYERS)

    inspect_archive(path)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # Keras raises many types for bad archives
        msg = first_line(e)
        raise StoreError(_("{name}: could not be loaded as a Keras model ({msg}).", name=path.name, msg=msg)) from None


def without_optimizer(model):
    """The model without its optimizer's state, for saving: nothing reads that state back (training always
    compiles afresh), and Adam's two moments per weight would triple the file."""
    if getattr(model, "optimizer", None) is None:
        return model
    copy = type(model).from_config(model.get_config())  # clone_model would compile the copy too
    copy.set_weights(model.get_weights())
    return copy


def float32_copy(model):
    """The model computing in float32, with the same weights. A model trained in mixed bfloat16 keeps its
    bfloat16 casts; they speed up training on CPUs with AMX but make predictions slower (or impossible)
    on CPUs without bfloat16 and are rejected by other runtimes, so saved files and exports compute in
    float32."""
    import keras

    if all(getattr(layer, "dtype_policy", None) is None or layer.dtype_policy.compute_dtype == "float32"
           for layer in model.layers):
        return model

    def clone(layer):
        config = layer.get_config()
        config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(model, clone_function=clone)
        copy.set_weights(model.get_weights())
        return copy
    except Exception as e:  # never hand on a bfloat16 model as if it were float32
        first = first_line(e, 200)
        raise StoreError(_("This model could not be converted to compute in float32 ({first}), so it was not saved "
                           "or exported. Train it again with Number format float32 under More settings.",
                           first=first)) from None


def plain_keras(model):
    """The model with only Keras' own layers, computing the same: each of the lab's whitened convolutions
    (:class:`cnn.airbench.WhitenedConv2D`) becomes the pixel of padding and the one 4×4 convolution it computes with,
    under its name. Saved models and downloads are made of these, so that ``keras.saving.load_model`` opens them in
    safe mode anywhere (Colab, a phone's converter) without CNN Lab installed."""
    import keras

    from cnn.airbench import WhitenedConv2D

    own = {layer.name: layer for layer in model.layers if isinstance(layer, WhitenedConv2D)}
    if not own:
        return model
    config = model.get_config()
    layers = []
    for entry in config["layers"]:
        layer = own.get(entry["name"])
        if layer is None:
            layers.append(entry)
            continue
        name, dtype = layer.name, entry["config"].get("dtype")
        batch, h, w, c = entry["inbound_nodes"][0]["args"][0]["config"]["shape"]
        padded = [batch, None if h is None else h + 2, None if w is None else w + 2, c]
        pad = keras.layers.ZeroPadding2D(1, name=f"{name}_pad").get_config()
        conv = keras.layers.Conv2D(layer.filters, 4, padding="valid", name=name).get_config()
        for cfg in (pad, conv):
            cfg["dtype"] = dtype
        layers.append({"module": "keras.layers", "class_name": "ZeroPadding2D", "config": pad,
                       "registered_name": None, "name": pad["name"], "inbound_nodes": entry["inbound_nodes"]})
        layers.append({"module": "keras.layers", "class_name": "Conv2D", "config": conv, "registered_name": None,
                       "name": name, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {
                           "shape": padded, "dtype": "float32", "keras_history": [pad["name"], 0, 0]}}],
                           "kwargs": {}}]})
    plain = keras.Model.from_config({**config, "layers": layers})
    for layer in plain.layers:
        if layer.name in own:
            kernel, bias = own[layer.name].merged()
            layer.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
        elif layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return plain


def portable(model):
    """The model as CNN Lab hands it on (saved models, downloads): float32, Keras' own layers only, without its
    optimizer; it loads with ``keras.saving.load_model`` in safe mode where CNN Lab is not installed."""
    return without_optimizer(plain_keras(float32_copy(model)))


def model_to_bytes(model) -> bytes:
    """A Keras model as the bytes of a ``.keras`` file (how trained models travel between processes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


def load_keras_bytes(data: bytes, name: str = "model.keras"):
    """Load a ``.keras`` file given as bytes, with the same checks and safe mode as a file on disk."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(name).stem[:60] + ".keras")
        path.write_bytes(data)
        return load_keras_file(path)

