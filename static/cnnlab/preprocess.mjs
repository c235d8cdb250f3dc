// The browser's copy of cnn/preprocess.py's drawing path: a canvas's ink -> the model's 28×28 input.
//
// Same steps, same numbers (tests/browser/test_browser_reading.py checks every pixel within 1/255 on the
// project's drawn set): ink from the alpha channel, crop to it, strokes brought to MNIST's width (thin ones
// widened, very thick ones narrowed), the longer side scaled to 20 px with Pillow's Lanczos filter, pasted
// into 28×28 with the centre of mass in the middle. Pillow's resampling is reproduced step by step (its
// coefficients, its two passes, its float32 storage), so the browser feeds the model what the server would.

export const INK_THRESHOLD = Math.fround(0.08);
export const TARGET_STROKE = 0.12;
export const WORK_BOX = 20;
export const FIELD = 28;

/** A grey image: Float32Array data, row-major, w × h. */
const image = (w, h, data = new Float32Array(w * h)) => ({ w, h, data });

/** Python's round(): halves go to the even neighbour. */
export function pyRound(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

const FILTERS = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) },
  lanczos: {
    support: 3.0,
    f: (x) => {
      const sinc = (t) => (t === 0 ? 1.0 : Math.sin(t * Math.PI) / (t * Math.PI));
      return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
    },
  },
};

/** Pillow's precompute_coeffs (Resample.c): per output pixel, its first input pixel, count and weights. */
function coefficients(inSize, outSize, filter) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.f((x + xmin - center + 0.5) * ss);
      kk[xx * ksize + x] = w;
      ww += w;
    }
    if (ww !== 0.0) for (let x = 0; x < xmax; x++) kk[xx * ksize + x] /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

/** Pillow's Image.resize of a mode "F" image: horizontal pass, then vertical, float32 in between. */
export function resize(img, w, h, filterName) {
  const filter = FILTERS[filterName];
  if (w === img.w && h === img.h) return image(w, h, img.data.slice());
  const horiz = coefficients(img.w, w, filter);
  const vert = coefficients(img.h, h, filter);
  let src = img;
  let vbounds = vert.bounds;
  if (w !== img.w) {
    const first = vert.bounds[0];
    const last = vert.bounds[h * 2 - 2] + vert.bounds[h * 2 - 1];
    vbounds = vert.bounds.slice();
    for (let i = 0; i < h; i++) vbounds[i * 2] -= first;
    const tmp = image(w, last - first);
    for (let y = 0; y < tmp.h; y++) {
      const row = (y + first) * img.w;
      for (let xx = 0; xx < w; xx++) {
        const xmin = horiz.bounds[xx * 2], xmax = horiz.bounds[xx * 2 + 1], k = xx * horiz.ksize;
        let ss = 0.0;
        for (let x = 0; x < xmax; x++) ss += img.data[row + x + xmin] * horiz.kk[k + x];
        tmp.data[y * w + xx] = ss;
      }
    }
    src = tmp;
  }
  if (h === img.h) return src;
  const out = image(src.w, h);
  for (let yy = 0; yy < h; yy++) {
    const ymin = vbounds[yy * 2], ymax = vbounds[yy * 2 + 1], k = yy * vert.ksize;
    for (let xx = 0; xx < src.w; xx++) {
      let ss = 0.0;
      for (let y = 0; y < ymax; y++) ss += src.data[(y + ymin) * src.w + xx] * vert.kk[k + y];
      out.data[yy * src.w + xx] = ss;
    }
  }
  return out;
}

/** preprocess._shrink: at most ``longest`` px on the longer side (Pillow's box filter). */
export function shrink(img, longest) {
  const side = Math.max(img.w, img.h);
  if (side <= longest) return img;
  const scale = longest / side;
  return resize(img, Math.max(1, pyRound(img.w * scale)), Math.max(1, pyRound(img.h * scale)), "box");
}

/** The ink in [0, 1] from a canvas's RGBA bytes: its alpha channel, as preprocess.extract_ink reads a canvas. */
export function inkFromRGBA(rgba, w, h) {
  const out = image(w, h);
  for (let i = 0; i < w * h; i++) out.data[i] = rgba[i * 4 + 3] / 255;
  return out;
}

/** preprocess.crop_to_ink: the bounding box of the ink, or null when there is none. */
export function cropToInk(ink, threshold = INK_THRESHOLD) {
  let top = ink.h, bottom = -1, left = ink.w, right = -1;
  for (let y = 0; y < ink.h; y++) {
    for (let x = 0; x < ink.w; x++) {
      if (ink.data[y * ink.w + x] > threshold) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom < 0) return null;
  const out = image(right - left + 1, bottom - top + 1);
  for (let y = 0; y < out.h; y++) {
    out.data.set(ink.data.subarray((y + top) * ink.w + left, (y + top) * ink.w + right + 1), y * out.w);
  }
  return out;
}

/** preprocess.stroke_width: from the mean exact Euclidean distance of an ink pixel to the paper (the crop is
 * at most 4 × 20 px a side here, so a plain two-pass transform is quick). */
export function strokeWidth(img, threshold = 0.5) {
  const w = img.w + 2, h = img.h + 2;  // a border of paper around the crop
  const ink = new Uint8Array(w * h);
  let count = 0;
  for (let y = 0; y < img.h; y++) {
    for (let x = 0; x < img.w; x++) {
      if (img.data[y * img.w + x] > threshold) { ink[(y + 1) * w + x + 1] = 1; count++; }
    }
  }
  if (!count) return 0.0;
  const g = new Float64Array(w * h);  // per column: distance to the nearest paper pixel above or below
  for (let x = 0; x < w; x++) {
    let d = Infinity;
    for (let y = 0; y < h; y++) { d = ink[y * w + x] ? d + 1 : 0; g[y * w + x] = d; }
    d = Infinity;
    for (let y = h - 1; y >= 0; y--) { d = ink[y * w + x] ? d + 1 : 0; g[y * w + x] = Math.min(g[y * w + x], d); }
  }
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!ink[y * w + x]) continue;
      let best = Infinity;
      for (let xx = 0; xx < w; xx++) {
        const gy = g[y * w + xx];
        const d2 = (x - xx) * (x - xx) + gy * gy;
        if (d2 < best) best = d2;
      }
      sum += Math.sqrt(best);
    }
  }
  return Math.max(1.0, 4.0 * (sum / count) - 2.0);
}

/** Grey dilation (max) or erosion (min) over a disk of ``radius``, out-of-image pixels left out. */
function morph(img, radius, pick) {
  const out = image(img.w, img.h);
  const offsets = [];
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) if (dy * dy + dx * dx <= radius * radius) offsets.push([dy, dx]);
  }
  for (let y = 0; y < img.h; y++) {
    for (let x = 0; x < img.w; x++) {
      let best = null;
      for (const [dy, dx] of offsets) {
        const yy = y + dy, xx = x + dx;
        if (yy < 0 || yy >= img.h || xx < 0 || xx >= img.w) continue;
        const v = img.data[yy * img.w + xx];
        best = best === null ? v : pick(best, v);
      }
      out.data[y * img.w + x] = best;
    }
  }
  return out;
}

function pad(img, r) {
  const out = image(img.w + 2 * r, img.h + 2 * r);
  for (let y = 0; y < img.h; y++) out.data.set(img.data.subarray(y * img.w, (y + 1) * img.w), (y + r) * out.w + r);
  return out;
}

/** preprocess.thicken: strokes thinner than MNIST's widened (measured and widened at 4× the final size). */
export function thicken(cropped) {
  const small = shrink(cropped, 4 * WORK_BOX);
  const width = strokeWidth(small);
  const wanted = TARGET_STROKE * Math.max(small.w, small.h);
  if (width <= 0 || width >= 0.75 * wanted) return cropped;
  const radius = Math.max(1, pyRound((wanted - width) / 2));
  return morph(pad(small, radius), radius, Math.max);
}

/** preprocess.thin: strokes much thicker than MNIST's (over 1.4× its width) narrowed. */
export function thin(cropped, above = 1.4) {
  const small = shrink(cropped, 4 * WORK_BOX);
  const width = strokeWidth(small);
  const wanted = TARGET_STROKE * Math.max(small.w, small.h);
  if (width <= above * wanted) return cropped;
  const radius = Math.max(1, pyRound((width - wanted) / 2));
  return morph(small, radius, Math.min);
}

/** preprocess.scale_longer_side: longer side ``size`` px, Lanczos. */
export function scaleLongerSide(cropped, size = WORK_BOX) {
  const scale = size / Math.max(cropped.w, cropped.h);
  const nh = Math.max(1, pyRound(cropped.h * scale)), nw = Math.max(1, pyRound(cropped.w * scale));
  const clipped = image(cropped.w, cropped.h, cropped.data.map((v) => Math.min(1, Math.max(0, v))));
  const out = resize(clipped, nw, nh, "lanczos");
  return image(out.w, out.h, out.data.map((v) => Math.min(1, Math.max(0, v))));
}

/** preprocess.center_by_mass: pasted into the field, then moved (bilinear, no wrap) so the centre of mass is in
 * the middle. */
export function centerByMass(scaled, field = FIELD) {
  const out = image(field, field);
  const top = Math.floor((field - scaled.h) / 2), left = Math.floor((field - scaled.w) / 2);
  for (let y = 0; y < scaled.h; y++) out.data.set(scaled.data.subarray(y * scaled.w, (y + 1) * scaled.w), (y + top) * field + left);
  let mass = 0, my = 0, mx = 0;
  for (let y = 0; y < field; y++) {
    for (let x = 0; x < field; x++) {
      const v = out.data[y * field + x];
      mass += v; my += v * y; mx += v * x;
    }
  }
  if (mass <= 0) return out;
  const sy = (field - 1) / 2 - my / mass, sx = (field - 1) / 2 - mx / mass;
  const shifted = image(field, field);
  const at = (y, x) => (y >= 0 && y < field && x >= 0 && x < field ? out.data[y * field + x] : 0);
  for (let y = 0; y < field; y++) {
    const cy = y - sy;
    if (cy < 0 || cy > field - 1) continue;  // scipy's "constant" mode: nothing is read beyond the edge
    const y0 = Math.floor(cy), fy = cy - y0;
    for (let x = 0; x < field; x++) {
      const cx = x - sx;
      if (cx < 0 || cx > field - 1) continue;
      const x0 = Math.floor(cx), fx = cx - x0;
      const v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      shifted.data[y * field + x] = Math.min(1, Math.max(0, v));
    }
  }
  return shifted;
}

/** preprocess.preprocess_digit for a canvas: {input: Float32Array(784)} ready for the model, or {empty: why} with
 * why "nothing" (no ink at all) or "little" (too little to read). */
export function preprocessDrawing(rgba, w, h) {
  const cropped = cropToInk(inkFromRGBA(rgba, w, h));
  if (!cropped) return { empty: "nothing" };
  const centered = centerByMass(scaleLongerSide(thin(thicken(cropped))));
  let top = 0;
  for (const v of centered.data) top = Math.max(top, v);
  if (top < INK_THRESHOLD) return { empty: "little" };
  return { input: centered.data.map((v) => Math.min(1, Math.max(0, v / top))) };
}
