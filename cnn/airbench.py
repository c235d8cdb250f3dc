"""The airbench training recipe (Keller Jordan, 2024), for the CIFAR presets, in Keras.

airbench trains a small VGG-like network to 94% on CIFAR-10 in ten passes by starting it well and
averaging its weights, not by a bigger network. On a 2-core CPU the same recipe takes CIFAR small to
about 85.5% of test photos in 6 passes, where Adam needed 12 (bench/README.md). The optimizer choice
``airbench`` in :mod:`cnn.hyperparams` brings all of it:

- :func:`init_weights`: each 3×3 convolution starts as the identity on its first channels (its other
  filters, and the output layer, drawn as PyTorch draws them; the output starts 9× smaller), batch norm
  only shifts (no learned scale) and follows each batch closely (momentum 0.6);
- :func:`whiten_first_layer`: a first 2×2 convolution is set, from the training images, to the directions
  in which neighbouring pixels vary most, each scaled to unit variance (with its negative, so ReLU keeps
  both signs), and is not trained further (nor is its bias, which spares the next layer's input gradient).
  :class:`WhitenedConv2D` is that layer without the ReLU, merged with the 3×3 convolution after it: one 4×4
  convolution of the image, half the work of the two (CIFAR small's first layer; bench/README.md);
- :class:`AirbenchSGD`: Nesterov SGD whose batch-norm shifts learn 64× faster and whose output layer 81×
  slower (the output's 1/9 scaling of airbench, as a learning rate), with weight decay; the 3×3 convolutions
  learn by Muon instead, airbench94_muon's orthogonalised steps;
- :class:`Lookahead`: every few steps the weights move to an average of their recent values, which is
  what they end as.
"""
from __future__ import annotations

import math

import keras
import numpy as np

from cnn.hyperparams import OPTIMIZERS

MOMENTUM = OPTIMIZERS["airbench"][1]["momentum"]
WEIGHT_DECAY = OPTIMIZERS["airbench"][1]["weight_decay"]  # Keras' decoupled decay per unit of learning rate
BN_SHIFT_RATE = 64.0  # batch-norm shifts learn this much faster
OUTPUT_SCALE = 1 / 9  # the output layer starts this much smaller and learns at its square
BN_MOMENTUM = 0.6
WHITEN_IMAGES = 5000  # training images the whitening is measured on
LOOKAHEAD_DECAY = 0.95  # per step; the average follows the weights ever more slowly (cubed ramp) to the end
# Muon (airbench94_muon, Keller Jordan, 2024) for the 3×3 convolutions: its rate as a share of the SGD rate
# (0.12 at the recipe's 0.75; airbench's own 0.24 was meant for batches of 2,000 and read worse here), its momentum,
# and the Newton-Schulz steps that make each update (nearly) orthogonal.
MUON_SHARE = 0.16
MUON_MOMENTUM = 0.6
NEWTON_SCHULZ_STEPS = 3


def _conv_layers(model) -> list:
    return [layer for layer in model.layers if type(layer) in (keras.layers.Conv2D, WhitenedConv2D)]


def _whitenable(model):
    """The model's first layer when it is whitened from the images: a :class:`WhitenedConv2D`, or a 2×2
    convolution with an even number of filters; else None."""
    first = next((layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)), None)
    if isinstance(first, WhitenedConv2D):
        return first
    if type(first) is keras.layers.Conv2D and tuple(first.kernel_size) == (2, 2) and first.filters % 2 == 0:
        return first
    return None


def init_weights(model) -> None:
    """Start a freshly built model as airbench starts its network (see the module doc). Call before tracing:
    batch norm's momentum and which weights train are read when the training step is traced."""
    stem = _whitenable(model)
    if isinstance(stem, WhitenedConv2D):  # its whitening never learns; its 3×3 kernel starts as any other
        stem = None
    if stem is not None:  # set from the images by whiten_first_layer; frozen now, before any training step is
        stem.kernel.trainable = False  # traced (a worker traces before the images come: cnn.training.prepare)
        if stem.bias is not None:  # and its bias: nothing before the next convolution then learns, so training
            stem.bias.trainable = False  # skips that layer's input gradient, about 9% of a CIFAR small step
    for layer in _conv_layers(model):
        kernel = layer.kernel.numpy()
        kh, kw, cin, cout = kernel.shape
        fan_in, fan_out = kh * kw * cin, kh * kw * cout
        kernel *= math.sqrt(1 / fan_in) / math.sqrt(6 / (fan_in + fan_out))  # Glorot's bound to PyTorch's
        if layer is not stem and kh == kw and kh % 2 == 1:
            n = min(cin, cout)
            kernel[:, :, :, :n] = 0.0
            kernel[kh // 2, kw // 2, np.arange(n), np.arange(n)] = 1.0
        layer.kernel.assign(kernel)
    out = model.layers[-1]
    if isinstance(out, keras.layers.Dense):
        fan_in, fan_out = out.kernel.shape
        out.kernel.assign(out.kernel.numpy() * math.sqrt(1 / fan_in) / math.sqrt(6 / (fan_in + fan_out))
                          * OUTPUT_SCALE)
    for layer in model.layers:
        if type(layer) is keras.layers.BatchNormalization:
            layer.momentum = BN_MOMENTUM
            layer.epsilon = 1e-5
            if layer.gamma is not None:
                layer.gamma.trainable = False


def whitening_kernel(images: np.ndarray, filters: int, eps: float = 5e-4,
                     negatives: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(kernel (2, 2, C, n), bias (n,)) of a 2×2 convolution of ``images`` (uint8 or float in [0, 1],
    (N, H, W, C)) that gives the leading ``filters // 2`` whitened directions of its 2×2 patches (at most the
    4·C there are) and their negatives: n = 2 × that many; without ``negatives``, the leading ``filters``
    directions alone (for :class:`WhitenedConv2D`, which has no ReLU). Patches are measured after scaling each
    channel to zero mean and unit variance; that scaling is folded into the kernel and bias, so the layer reads
    the images as the model gets them."""
    x = np.asarray(images[:WHITEN_IMAGES])
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    c = x.shape[-1]
    mean = x.mean(axis=(0, 1, 2))
    std = x.std(axis=(0, 1, 2)) + 1e-6
    cov = np.zeros((4 * c, 4 * c))
    n = 0
    for start in range(0, len(x), 500):
        chunk = (x[start:start + 500] - mean) / std
        patches = np.lib.stride_tricks.sliding_window_view(chunk, (2, 2), axis=(1, 2))  # N, H-1, W-1, C, 2, 2
        flat = patches.transpose(0, 1, 2, 4, 5, 3).reshape(-1, 4 * c).astype(np.float64)  # (kh, kw, c) order
        cov += flat.T @ flat
        n += len(flat)
    values, vectors = np.linalg.eigh(cov / max(n, 1))
    order = np.argsort(values)[::-1]
    pairs = min(filters // 2 if negatives else filters, 4 * c)
    scaled = vectors[:, order[:pairs]] / np.sqrt(values[order[:pairs]] + eps)
    kernel = (np.concatenate([scaled, -scaled], axis=1) if negatives else scaled).reshape(2, 2, c, -1)
    folded = kernel / std[None, None, :, None]
    bias = -(kernel * (mean / std)[None, None, :, None]).sum(axis=(0, 1, 2))
    return folded.astype(np.float32), bias.astype(np.float32)


def whiten_first_layer(model, images: np.ndarray, plain_stem: bool = True) -> bool:
    """Set a first 2×2 convolution from ``images`` (:func:`whitening_kernel`) and stop its kernel learning, or a
    first :class:`WhitenedConv2D`'s whitening; False when the model starts with neither (or with a plain 2×2
    convolution and not ``plain_stem``: outside airbench's recipe it is an ordinary layer). Filters beyond 8 per
    input channel (4 directions, each with its negative) keep their drawn weights."""
    stem = _whitenable(model)
    if stem is None or not (plain_stem or isinstance(stem, WhitenedConv2D)):
        return False
    if isinstance(stem, WhitenedConv2D):
        kernel, bias = whitening_kernel(images, stem.whiten.shape[-1], negatives=False)
        stem.whiten.assign(kernel)
        stem.whiten_bias.assign(bias)
        return True
    kernel, bias = whitening_kernel(images, stem.filters)
    n = kernel.shape[-1]
    current = stem.kernel.numpy()
    current[..., :n] = kernel
    stem.kernel.assign(current)
    if stem.bias is not None:
        b = stem.bias.numpy()
        b[:n] = bias
        stem.bias.assign(b)
    stem.kernel.trainable = False
    return True


@keras.saving.register_keras_serializable(package="cnnlab")
class WhitenedConv2D(keras.layers.Layer):
    """A 3×3 convolution (``filters``, padding "same", no activation) of the image's whitened 2×2 patches: the
    patches' 4·C directions from :func:`whitening_kernel` (``whiten``, ``whiten_bias``: set from the training
    images by :func:`whiten_first_layer`, never learned). Both are linear, so they are computed as one 4×4
    convolution of the image padded by a pixel (the same 31×31 maps from a 32×32 photo as airbench's 2×2
    whitening then 3×3 convolution): about half the work of the two on 2 cores. The 3×3 kernel learns as any
    convolution, in whitened coordinates, which is what makes its steps well scaled."""

    def __init__(self, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)

    def build(self, input_shape):
        c = int(input_shape[-1])
        n = 4 * c  # every direction of a 2×2 patch
        self.whiten = self.add_weight(name="whiten", shape=(2, 2, c, n), initializer="glorot_uniform",
                                      trainable=False)
        self.whiten_bias = self.add_weight(name="whiten_bias", shape=(n,), initializer="zeros", trainable=False)
        self.kernel = self.add_weight(name="kernel", shape=(3, 3, n, self.filters), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def merged(self):
        """(4×4 kernel, bias) of the image convolution equal to whitening then the 3×3 convolution."""
        from keras import ops

        kernel = ops.convert_to_tensor(self.kernel)
        whiten = ops.cast(self.whiten, kernel.dtype)
        parts = [ops.pad(ops.einsum("ck,abko->abco", whiten[i, j], kernel), [[i, 1 - i], [j, 1 - j], [0, 0], [0, 0]])
                 for i in range(2) for j in range(2)]
        bias = ops.cast(self.bias, kernel.dtype) + ops.einsum(
            "k,abko->o", ops.cast(self.whiten_bias, kernel.dtype), kernel)
        return parts[0] + parts[1] + parts[2] + parts[3], bias

    def call(self, x):
        from keras import ops

        kernel, bias = self.merged()
        x = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
        return ops.conv(x, ops.cast(kernel, x.dtype), strides=1, padding="valid") + ops.cast(bias, x.dtype)

    def compute_output_shape(self, input_shape):
        h, w = input_shape[1:3]
        return (input_shape[0], None if h is None else h - 1, None if w is None else w - 1, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


def orthogonalise(g):
    """The update Muon takes for a gradient (or momentum) matrix ``g``: about the nearest matrix whose singular
    values are all 1 (``g``'s directions, none of them dominating), by airbench94_muon's quintic Newton-Schulz
    iteration in :data:`NEWTON_SCHULZ_STEPS` steps (a few small matrix products, no decomposition)."""
    from keras import ops

    a, b, c = 3.4445, -4.7750, 2.0315
    x = g / (ops.norm(g) + 1e-7)
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = ops.transpose(x)
    for _ in range(NEWTON_SCHULZ_STEPS):
        gram = ops.matmul(x, ops.transpose(x))
        x = a * x + ops.matmul(b * gram + c * ops.matmul(gram, gram), x)
    return ops.transpose(x) if tall else x


@keras.saving.register_keras_serializable(package="cnnlab")
class AirbenchSGD(keras.optimizers.SGD):
    """Nesterov SGD (momentum 0.85, weight decay) with airbench's per-layer rates: batch-norm shifts
    (``*/beta``) learn :data:`BN_SHIFT_RATE` times faster, the output layer (``predictions/*``)
    ``OUTPUT_SCALE ** 2`` as fast. With ``layer_rates`` (a model started by :func:`init_weights`) the convolution
    kernels learn by Muon instead (:meth:`muon_step`; bench/README.md)."""

    def __init__(self, learning_rate=0.75, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY,
                 layer_rates: bool = True, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay, **kwargs)
        self.layer_rates = layer_rates  # False for a model not started by init_weights (transfer learning)
        self._rates: list[float] = []
        self._muon: list[bool] = []

    def build(self, variables):
        super().build(variables)
        self._rates = [rate_of(getattr(v, "path", v.name)) if self.layer_rates else 1.0 for v in variables]
        self._muon = [self.layer_rates and len(v.shape) == 4 for v in variables]

    def get_config(self):
        return {**super().get_config(), "layer_rates": self.layer_rates}

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        if self._muon and self._muon[index]:
            return self.muon_step(gradient, variable, learning_rate, self.momentums[index])
        rate = self._rates[index] if self._rates else 1.0
        return super().update_step(gradient, variable, learning_rate * rate if rate != 1.0 else learning_rate)

    @staticmethod
    def muon_step(gradient, kernel, learning_rate, momentum) -> None:
        """Muon's step for a convolution ``kernel`` (h, w, in, out): Nesterov momentum, the kernel scaled back to
        norm √out (weight decay and the steps would otherwise shrink or grow it), then a step of
        :data:`MUON_SHARE` × the rate along the orthogonalised momentum of its (out, h·w·in) matrix."""
        from keras import ops

        h, w, cin, cout = kernel.shape
        g = ops.cast(gradient, momentum.dtype)
        momentum.assign(momentum * MUON_MOMENTUM + g)
        g = g + MUON_MOMENTUM * momentum
        value = ops.convert_to_tensor(kernel)
        kernel.assign(value * (float(cout) ** 0.5) / (ops.sqrt(ops.sum(ops.square(value))) + 1e-12))
        step = ops.reshape(ops.transpose(orthogonalise(ops.transpose(ops.reshape(g, (h * w * cin, cout))))),
                           (h, w, cin, cout))
        kernel.assign_sub(ops.cast(learning_rate, kernel.dtype) * MUON_SHARE * ops.cast(step, kernel.dtype))


def rate_of(path: str) -> float:
    """How much faster than the rest a variable learns in :class:`AirbenchSGD`, by its Keras path."""
    layer, _, name = path.rpartition("/")
    if name == "beta" and layer.split("/")[-1].startswith("bn"):
        return BN_SHIFT_RATE
    if layer.split("/")[-1] == "predictions":
        return OUTPUT_SCALE ** 2
    return 1.0


@keras.saving.register_keras_serializable(package="cnnlab")
class Triangle(keras.optimizers.schedules.LearningRateSchedule):
    """airbench's learning rate: from a fifth of ``peak`` up to it over the first 23% of steps, then down in a
    straight line to 7% of it at the last step."""

    def __init__(self, peak: float, total_steps: int):
        self.peak, self.total_steps = float(peak), int(total_steps)

    def __call__(self, step):
        from keras import ops

        step = ops.cast(step, "float32")
        up_steps = max(1, int(self.total_steps * 0.23))
        down_steps = max(1, self.total_steps - up_steps)
        up = 0.2 + 0.8 * step / up_steps
        down = 1.0 - 0.93 * (step - up_steps) / down_steps
        return self.peak * ops.where(step < up_steps, up, ops.maximum(down, 0.07))

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps}


class Lookahead(keras.callbacks.Callback):
    """airbench's lookahead: after each call of the training step, an average of the weights (batch-norm
    statistics included) moves towards them by a share that shrinks as training ends, and the weights are
    set to that average; when training ends (or is stopped) the model keeps the average."""

    def __init__(self, steps_per_epoch: int, total_steps: int):
        super().__init__()
        self.steps_per_epoch, self.total = max(1, steps_per_epoch), max(1, total_steps)
        self.epoch = self.last = 0
        self.average: list = []
        self._update = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        weights = list(self.model.weights)
        self.average = [tf.Variable(w.value, trainable=False) for w in weights]

        @tf.function
        def update(keep):
            for a, w in zip(self.average, weights, strict=True):
                a.assign(keep * a + (1.0 - keep) * tf.cast(w.value, a.dtype))
                w.assign(tf.cast(a, w.dtype))

        self._update = update

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        import tensorflow as tf

        step = self.epoch * self.steps_per_epoch + batch + 1
        steps, self.last = step - self.last, step
        keep = LOOKAHEAD_DECAY ** max(1, steps) * (min(step, self.total) / self.total) ** 3
        self._update(tf.constant(keep, tf.float32))

    def on_train_end(self, logs=None):
        import tensorflow as tf

        if self._update is not None:
            self._update(tf.constant(1.0, tf.float32))
