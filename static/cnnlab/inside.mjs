// Inside the network: where one value of one layer comes from, with this drawing's and this model's numbers.
//
// The layers are described by cnn/inside.py (kind, shape, source layer, window, strides, zeros added at the
// border, activation, and where each filter's or unit's weights start in the model's weights file). Every layer's
// output comes from the same ONNX Runtime Web call that reads the drawing; this module redoes one value's
// arithmetic from the layer below and the weights, so the page can show each product, the sum, the bias and the
// activation, and check that they give the value in the map.

/** erf, Abramowitz and Stegun 7.1.26 (error below 1.5e-7: far finer than the 3 decimals shown). */
function erf(x) {
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t *
    Math.exp(-a * a);
  return s * y;
}

/** Keras' activations by name, as the model computes them. */
export const ACTIVATION = {
  linear: (z) => z,
  relu: (z) => Math.max(0, z),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: (z) => Math.tanh(z),
  leaky_relu: (z, slope = 0.2) => (z >= 0 ? z : slope * z),
  elu: (z) => (z >= 0 ? z : Math.expm1(z)),
  selu: (z) => 1.0507009873554805 * (z >= 0 ? z : 1.6732632423543772 * Math.expm1(z)),
  gelu: (z) => 0.5 * z * (1 + erf(z / Math.SQRT2)),
  silu: (z) => z / (1 + Math.exp(-z)),
  swish: (z) => z / (1 + Math.exp(-z)),
};

/** One layer's output: data (row-major, channels fastest) and shape ([h, w, c] or [n]). */
export const valueAt = (out, y, x, c) => out.data[(y * out.shape[1] + x) * out.shape[2] + c];

/** The (row, column, channel) a flat index of a map's values stands for (Flatten keeps this order). */
export function origin(shape, i) {
  if (shape.length !== 3) return null;
  const c = i % shape[2], pixel = Math.floor(i / shape[2]);
  return { y: Math.floor(pixel / shape[1]), x: pixel % shape[1], c };
}

/** The window of ``src`` a value at (y, x) of a convolution or pooling layer reads: its top-left corner, its
 * size, and for each input channel the values (zero where the window hangs over the border). */
function window(layer, src, y, x, channels) {
  const [kh, kw] = layer.size, [sy, sx] = layer.strides, [py, px] = layer.pads;
  const y0 = y * sy - py, x0 = x * sx - px, [h, w] = src.shape;
  const patches = channels.map((ci) => {
    const values = new Float64Array(kh * kw), inside = new Uint8Array(kh * kw);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const yy = y0 + ky, xx = x0 + kx;
        if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
          values[ky * kw + kx] = valueAt(src, yy, xx, ci);
          inside[ky * kw + kx] = 1;
        }
      }
    }
    return { channel: ci, values, inside };
  });
  return { y0, x0, h: kh, w: kw, patches };
}

const range = (n) => Array.from({ length: n }, (_, i) => i);

/** A convolution's value at (y, x, c): per input channel the window times the filter's weights for it
 * (``kernel``: this filter's weights, kh × kw × channels, channels fastest), their sums, the bias, the
 * activation. */
export function explainConv(layer, src, pos, kernel, bias) {
  const cin = src.shape[2], [kh, kw] = layer.size;
  const win = window(layer, src, pos.y, pos.x, range(cin));
  const channels = win.patches.map((p) => {
    const weights = new Float64Array(kh * kw), products = new Float64Array(kh * kw);
    let sum = 0;
    for (let k = 0; k < kh * kw; k++) {
      weights[k] = kernel[k * cin + p.channel];
      products[k] = p.values[k] * weights[k];
      sum += products[k];
    }
    return { ...p, weights, products, sum };
  });
  const total = channels.reduce((s, ch) => s + ch.sum, 0);
  const z = total + bias;
  return { kind: "conv", window: win, channels, total, bias, z, activation: layer.activation,
           value: ACTIVATION[layer.activation] ? ACTIVATION[layer.activation](z, layer.slope) : NaN };
}

/** A pooling layer's value at (y, x, c): its window of the map below and their maximum or mean (TensorFlow's
 * average leaves the border's zeros out of the count). */
export function explainPool(layer, src, pos) {
  const win = window(layer, src, pos.y, pos.x, [pos.c]);
  const p = win.patches[0], values = [...p.values].filter((_, k) => p.inside[k]);
  const value = layer.op === "max" ? Math.max(...values) : values.reduce((s, v) => s + v, 0) / values.length;
  return { kind: "pool", op: layer.op, window: win, value, count: values.length };
}

/** A global pooling layer's unit c: the maximum or mean of map c below, and where the maximum is. */
export function explainGlobalPool(layer, src, c) {
  const [h, w] = src.shape;
  let best = -Infinity, at = { y: 0, x: 0 }, sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = valueAt(src, y, x, c);
      sum += v;
      if (v > best) {
        best = v;
        at = { y, x };
      }
    }
  }
  return { kind: "gpool", op: layer.op, channel: c, count: h * w, sum, at,
           value: layer.op === "max" ? best : sum / (h * w) };
}

/** A dense unit: each input times its weight (``weights``: this unit's, one per input), the largest products
 * first, their sum, the bias, the activation. For softmax, ``logits`` are every unit's sums plus bias. */
export function explainDense(layer, src, unit, weights, bias, logits = null, strongest = 8) {
  const n = src.data.length, products = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    products[i] = src.data[i] * weights[i];
    total += products[i];
  }
  const order = range(n).sort((a, b) => Math.abs(products[b]) - Math.abs(products[a]));
  const top = order.slice(0, strongest).map((i) => ({ index: i, from: origin(src.shape, i), input: src.data[i],
                                                      weight: weights[i], product: products[i] }));
  const rest = total - top.reduce((s, t) => s + t.product, 0);
  const z = total + bias;
  let value;
  if (layer.activation === "softmax") {
    const m = Math.max(...logits), exps = logits.map((l) => Math.exp(l - m)), sum = exps.reduce((s, e) => s + e, 0);
    value = exps[unit] / sum;
  } else {
    value = ACTIVATION[layer.activation] ? ACTIVATION[layer.activation](z, layer.slope) : NaN;
  }
  return { kind: "dense", unit, n, top, rest, total, bias, z, logits, activation: layer.activation, value };
}

/** Batch normalisation as the model reads: each channel's value times a scale, plus a shift (both learned
 * during training from the channel's mean and spread). */
export function explainBatchNorm(src, pos, scale, shift) {
  const x = src.shape.length === 3 ? valueAt(src, pos.y, pos.x, pos.c) : src.data[pos.c];
  return { kind: "bn", x, scale, shift, value: scale * x + shift };
}

/** An activation layer: the function of the value below at the same place. */
export function explainActivation(layer, src, pos) {
  const x = src.shape.length === 3 ? valueAt(src, pos.y, pos.x, pos.c) : src.data[pos.c];
  return { kind: "act", x, activation: layer.activation,
           value: ACTIVATION[layer.activation] ? ACTIVATION[layer.activation](x, layer.slope) : NaN };
}

/** An addition of layers (a residual block's shortcut): the values below at the same place, added. */
export function explainAdd(sources, pos) {
  const terms = sources.map((src) => (src.shape.length === 3 ? valueAt(src, pos.y, pos.x, pos.c) : src.data[pos.c]));
  return { kind: "add", terms, value: terms.reduce((s, t) => s + t, 0) };
}

/** The maps whose strongest value is largest, strongest first: [{ channel, max }]. */
export function strongest(out, count = 3) {
  const c = out.shape.length === 3 ? out.shape[2] : out.data.length, best = new Float64Array(c).fill(-Infinity);
  for (let i = 0; i < out.data.length; i++) if (out.data[i] > best[i % c]) best[i % c] = out.data[i];
  return range(c).sort((a, b) => best[b] - best[a]).slice(0, count).map((ch) => ({ channel: ch, max: best[ch] }));
}
