// CNN Lab's "Inside the network" view (Streamlit Components v2, plain JavaScript, no build step).
//
// Every layer of the chosen model, painted from the outputs of the one ONNX Runtime Web call the drawing pad makes
// to read the drawing (the pad sends them as a "cnnlab-pad" window event, at most every 50 ms while the pen moves):
// nothing goes to the server while a pen is down. Where the browser cannot run the model, the server sends every
// layer's values once the pen lifts (data.values). A click, a tap or the arrow keys pick one value of one layer;
// static/cnnlab/inside.mjs redoes its arithmetic from the layer below and the weights (fetched from the model's
// weights file, only the one filter or unit needed), and this view shows each step. Freeze keeps the view still
// while a teacher explains; the pad can be cleared without losing it.

const TEXT = {
  title: "Inside the network", freeze: "Freeze", unfreeze: "Unfreeze",
  frozen: "Frozen: the view keeps this drawing while the pad goes on reading. Press Unfreeze to follow the pen again.",
  empty: "Draw on the pad: every layer below lights up as the network reads your drawing.",
  live: "Every layer follows your pen. Click or tap any square of any map (or use the arrow keys on a layer) to see where its number comes from.",
  server: "Your browser cannot run this model, so the server computes every layer when you lift the pen.",
  upload: "Every layer for your image, computed on the server. Click or tap any square of any map (or use the arrow keys on a layer) to see where its number comes from.",
  maps: "{n} maps, {h}×{w}", units: "{n} units", input: "Input", inputSize: "{h}×{w}×{c}",
  stageLabel: "{layer}, {type}: {size}. Arrow keys move, Page Up and Page Down change the map.",
  strongest: "Strongest: {list}.", mapShort: "map {c}", unitShort: "unit {c}", none: "nothing yet",
  at: "{layer}, map {c}, row {y}, column {x}", atUnit: "{layer}, unit {c}", atClass: "{layer}, class {name}",
  pixel: "A pixel of the model's input: 0 is black, 1 is full ink.",
  pixelColour: "A pixel of the photo as the model reads it: red · green · blue, each from 0 to 1.",
  filters: "Its {n} filters, {kh}×{kw} each (grey is 0)",
  windowOfColour: "{source}, {colour}", red: "red", green: "green", blue: "blue",
  convIntro: "A {kh}×{kw} window of {source} (the layer below), one per input map, times this filter's weights for that map:",
  windowOf: "{source}, map {c}", weights: "× weights", products: "= products", sum: "sum {v}",
  border: "Grey numbers are outside the map: the zeros of the padding.",
  others: "The other {n} input maps add {v}.",
  total: "Sum of all {n} products: {v}", plusBias: "+ bias {b} = {z}",
  act: "{fn}({z}) = {v}", noAct: "No activation: the value is {v}.",
  inMap: "In the map: {v}",
  poolMax: "The largest of this {kh}×{kw} window of {source}, map {c}: {v}",
  poolAvg: "The mean of this {kh}×{kw} window of {source}, map {c}: {v}",
  gpoolMax: "The largest of the {n} values of {source}, map {c} (at row {y}, column {x}): {v}",
  gpoolAvg: "The mean of the {n} values of {source}, map {c}: {sum} / {n} = {v}",
  denseIntro: "Each of the {n} values of {source} times its weight; the largest products:",
  inValue: "input", weight: "weight", product: "product", fromMap: "map {c}, row {y}, column {x}", fromUnit: "unit {i}",
  rest: "The other {n} products add {v}.",
  softmax: "softmax: e^{z} divided by the sum of e^ over all {n} classes = {v}",
  bn: "Batch normalisation: {x} × {scale} + {shift} = {v}",
  actLayer: "{fn} of {source}'s {x} = {v}", add: "{terms} = {v}",
  other: "This kind of layer ({type}) is shown, but its arithmetic is not explained here.",
  noWeights: "The weights could not be fetched from the server, so the arithmetic cannot be shown.",
  loading: "Fetching this filter's weights…",
};

const BACKGROUND = [38, 39, 48];

function absolute(path) {
  return new URL(path, window.location.origin).href;
}

let helpers = null;  // static/cnnlab/inside.mjs, loaded once per page
const loadHelpers = (base) => (helpers = helpers || import(absolute(base + "cnnlab/inside.mjs")));

const weightCache = new Map();  // "url|offset|count" -> Promise<Float32Array>

/** ``count`` float32 weights from ``offset`` of the model's weights file: only that range is asked for. */
function fetchWeights(url, offset, count) {
  const key = `${url}|${offset}|${count}`;
  if (!weightCache.has(key)) {
    weightCache.set(key, (async () => {
      const start = offset * 4, end = (offset + count) * 4 - 1;
      const response = await fetch(absolute(url), { headers: { Range: `bytes=${start}-${end}` } });
      if (!response.ok) throw new Error(`weights: HTTP ${response.status}`);
      const buffer = await response.arrayBuffer();
      if (response.status === 206) return new Float32Array(buffer);
      return new Float32Array(buffer.slice(start, end + 1));  // a server that ignores ranges sends the whole file
    })());
    weightCache.get(key).catch(() => weightCache.delete(key));
    if (weightCache.size > 400) weightCache.delete(weightCache.keys().next().value);  // a long session, many models
  }
  return weightCache.get(key);
}

function setup(root) {
  const view = { args: null, layers: [], byName: new Map(), outputs: null, latest: null, frozen: false,
                 selected: null, model: null, explainRun: 0 };
  const list = root.querySelector(".inside-layers");
  const note = root.querySelector(".inside-note");
  const freeze = root.querySelector("[data-action=freeze]");
  const status = root.querySelector("[role=status]");
  const panel = document.createElement("div");
  panel.className = "inside-explain";
  panel.hidden = true;

  const say = (key, values = {}) => {
    const text = (view.args && view.args.data.text && view.args.data.text[key]) || TEXT[key];
    return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
  };
  const number = (v, digits = 3) => new Intl.NumberFormat(view.args.data.lang || "en", {
    minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Object.is(v, -0) ? 0 : v);
  view.number = number;

  /** The maps of one layer tiled on one canvas: cols × rows cells of h × w pixels, 1 pixel apart. */
  const grid = (shape, colour = false) => {
    const [h, w, c] = shape.length !== 3 ? [1, 1, shape[0]] : colour ? [shape[0], shape[1], 1] : shape;
    const cols = shape.length === 3 ? (c <= 8 ? c : c <= 32 ? 8 : c <= 128 ? 16 : 32) : Math.min(c, c <= 16 ? c : 32);
    const rows = Math.ceil(c / cols);
    const target = shape.length !== 3 ? 0 : c <= 3 ? 112 : 40;  // CSS pixels per map: the input big, the rest small
    const zoom = shape.length === 3 ? Math.max(1, Math.min(8, target / Math.max(h, w))) : (c <= 16 ? 26 : 9);
    return { h, w, c, cols, rows, W: cols * (w + 1) - 1, H: rows * (h + 1) - 1, zoom };
  };
  const cellAt = (g, c, y, x) => ({ px: (c % g.cols) * (g.w + 1) + x, py: Math.floor(c / g.cols) * (g.h + 1) + y });

  const typeTitle = (layer) => (view.args.data.titles && view.args.data.titles[layer.type]) || layer.type;
  const sizeText = (layer) => {
    const s = layer.shape;
    if (layer.kind === "input") return say("inputSize", { h: s[0], w: s[1], c: s[2] });
    return s.length === 3 ? say("maps", { n: s[2], h: s[0], w: s[1] }) : say("units", { n: s[0] });
  };

  /** The layers' sections, built once per model. */
  const build = () => {
    const data = view.args.data;
    view.layers = data.layers.map((layer, index) => {
      const g = grid(layer.shape, layer.kind === "input" && layer.shape[2] === 3);  // a photo: one colour picture
      const section = document.createElement("section");
      section.className = "layer";
      section.dataset.layer = layer.name;
      const id = `inside-alt-${index}`;
      section.innerHTML = '<h3><span class="lname"></span> <span class="ltype"></span> <span class="lsize"></span></h3>' +
        `<button type="button" class="stage"><canvas></canvas><span class="marks"></span></button><p class="alt" id="${id}"></p>`;
      section.querySelector(".lname").textContent = layer.kind === "input" ? say("input") : layer.name;
      section.querySelector(".ltype").textContent = layer.kind === "input" ? "" : typeTitle(layer);
      section.querySelector(".lsize").textContent = sizeText(layer);
      const canvas = section.querySelector("canvas");
      canvas.width = g.W;
      canvas.height = g.H;
      canvas.style.width = `${g.W * g.zoom}px`;  // max-width: 100% (CSS) shrinks it on a phone
      const stage = section.querySelector(".stage");
      stage.setAttribute("aria-label", say("stageLabel", { layer: layer.kind === "input" ? say("input") : layer.name,
                                                           type: typeTitle(layer), size: sizeText(layer) }));
      stage.setAttribute("aria-describedby", id);
      const entry = { layer, g, section, canvas, stage, ctx: canvas.getContext("2d"), marks: section.querySelector(".marks"),
                      image: null, alt: section.querySelector(".alt") };
      entry.image = entry.ctx.createImageData(g.W, g.H);
      clearCanvas(entry);
      // A finger or a pen picks on lifting (a busy phone may not turn a slow tap into a click; a swipe that
      // scrolls the page ends in pointercancel and picks nothing); the mouse picks on click.
      stage.addEventListener("pointerup", (e) => {
        if (e.pointerType === "touch" || e.pointerType === "pen") pickAt(e);
      });
      stage.addEventListener("click", (e) => {
        if (e.pointerType !== "touch" && e.pointerType !== "pen") pickAt(e);
      });
      const pickAt = (e) => {
        const r = canvas.getBoundingClientRect();
        if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) {
          if (!view.selected || view.selected.layer !== layer.name) select(layer.name, 0, 0, 0);
          return;
        }
        const px = Math.floor((e.clientX - r.left) * g.W / r.width), py = Math.floor((e.clientY - r.top) * g.H / r.height);
        const col = Math.floor(px / (g.w + 1)), row = Math.floor(py / (g.h + 1));
        const x = px - col * (g.w + 1), y = py - row * (g.h + 1), c = row * g.cols + col;
        if (x >= g.w || y >= g.h || c >= g.c) return;  // a gap between maps
        select(layer.name, c, y, x);
      };
      stage.addEventListener("keydown", (e) => {
        const s = view.selected && view.selected.layer === layer.name ? view.selected : { c: 0, y: 0, x: 0 };
        let { c, y, x } = s;
        const flat = layer.shape.length !== 3;
        const moves = flat
          ? { ArrowLeft: () => (c = Math.max(0, c - 1)), ArrowRight: () => (c = Math.min(g.c - 1, c + 1)),
              ArrowUp: () => (c = Math.max(0, c - g.cols)), ArrowDown: () => (c = Math.min(g.c - 1, c + g.cols)) }
          : { ArrowLeft: () => (x = Math.max(0, x - 1)), ArrowRight: () => (x = Math.min(g.w - 1, x + 1)),
              ArrowUp: () => (y = Math.max(0, y - 1)), ArrowDown: () => (y = Math.min(g.h - 1, y + 1)),
              PageUp: () => (c = Math.max(0, c - 1)), PageDown: () => (c = Math.min(g.c - 1, c + 1)) };
        const move = moves[e.key] || ((e.key === "Enter" || e.key === " ") && (() => {}));
        if (!move) return;
        e.preventDefault();
        move();
        select(layer.name, c, y, x);
      });
      if (layer.kind === "conv" && layer.inputs[0] === "input" && data.weights) filters(entry);
      list.appendChild(section);
      return entry;
    });
    view.byName = new Map(view.layers.map((entry) => [entry.layer.name, entry]));
  };

  /** The first convolution's filters beside its maps: each filter's weights as a small picture (grey is 0; for a
   * photo model, colours show how much each filter weighs red, green and blue). */
  const filters = async (entry) => {
    const layer = entry.layer, [kh, kw] = layer.size, cin = view.args.data.layers[0].shape[2], n = layer.shape[2];
    const figure = el("figure", undefined, "filters");
    const canvas = document.createElement("canvas");
    const cols = Math.min(n, 16), rows = Math.ceil(n / cols);
    canvas.width = cols * (kw + 1) - 1;
    canvas.height = rows * (kh + 1) - 1;
    canvas.style.width = `${canvas.width * Math.max(2, Math.round(22 / kw))}px`;
    canvas.setAttribute("role", "img");
    const caption = say("filters", { n, kh, kw });
    canvas.setAttribute("aria-label", caption);
    figure.append(el("figcaption", caption), canvas);
    entry.section.appendChild(figure);
    try {
      const kernel = await fetchWeights(view.args.data.weights, layer.kernel, n * kh * kw * cin);
      const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, canvas.height), px = image.data;
      for (let i = 0; i < px.length; i += 4) {
        px[i] = BACKGROUND[0]; px[i + 1] = BACKGROUND[1]; px[i + 2] = BACKGROUND[2]; px[i + 3] = 255;
      }
      for (let f = 0; f < n; f++) {
        const w = kernel.subarray(f * kh * kw * cin, (f + 1) * kh * kw * cin);
        let top = 0;
        for (const v of w) top = Math.max(top, Math.abs(v));
        const col = f % cols, row = Math.floor(f / cols);
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) {
            const p = ((row * (kh + 1) + y) * canvas.width + col * (kw + 1) + x) * 4, k = (y * kw + x) * cin;
            for (let ch = 0; ch < 3; ch++) px[p + ch] = 128 + (127 * w[k + Math.min(ch, cin - 1)]) / (top || 1);
          }
        }
      }
      ctx.putImageData(image, 0, 0);
    } catch (e) {
      console.warn("CNN Lab: the filters could not be fetched", e);
      figure.remove();
    }
  };

  const clearCanvas = (entry) => {
    const px = entry.image.data;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = BACKGROUND[0]; px[i + 1] = BACKGROUND[1]; px[i + 2] = BACKGROUND[2]; px[i + 3] = 255;
    }
    entry.ctx.putImageData(entry.image, 0, 0);
  };

  /** One layer's values as colours: black is 0, white the layer's strongest value, blue its negatives. */
  const paintLayer = (entry, out) => {
    const { g, image } = entry, px = image.data, data = out.data;
    const colour = entry.layer.kind === "input" && entry.layer.shape[2] === 3;
    let top = 0;
    for (let i = 0; i < data.length; i++) top = Math.max(top, Math.abs(data[i]));
    if (entry.layer.activation === "softmax" || entry.layer.kind === "input") top = 1;
    const scale = top > 0 ? 255 / top : 0;
    for (let c = 0; c < (colour ? 1 : g.c); c++) {
      const col = c % g.cols, row = Math.floor(c / g.cols);
      for (let y = 0; y < g.h; y++) {
        let p = ((row * (g.h + 1) + y) * g.W + col * (g.w + 1)) * 4;
        const step = colour ? 3 : g.c;
        let i = y * g.w * step + c;
        for (let x = 0; x < g.w; x++, p += 4, i += step) {
          if (colour) {
            px[p] = data[i] * 255; px[p + 1] = data[i + 1] * 255; px[p + 2] = data[i + 2] * 255;
            continue;
          }
          const v = data[i] * scale;
          if (v >= 0) { px[p] = px[p + 1] = px[p + 2] = v; } else { px[p] = 0; px[p + 1] = -0.45 * v; px[p + 2] = -v; }
        }
      }
    }
    entry.ctx.putImageData(image, 0, 0);
  };

  const describeStrongest = (entry, out) => {
    const flat = entry.layer.shape.length !== 3;
    if (entry.layer.kind === "input") { entry.alt.textContent = ""; return; }
    const items = helpers_.strongest(out, 3).map((s) => {
      const name = flat ? (entry.layer.name === view.args.data.final && view.args.data.classes
        ? view.args.data.classes[s.channel] : say("unitShort", { c: s.channel })) : say("mapShort", { c: s.channel });
      return `${name} (${number(s.max, 2)})`;
    });
    entry.alt.textContent = say("strongest", { list: items.join(", ") });
  };
  let helpers_ = null;

  /** Paint every layer from a reading's outputs ({name: {data, shape}}, "input" included). */
  const paint = (outputs, t0) => {
    view.outputs = outputs;
    for (const entry of view.layers) {
      const out = outputs[entry.layer.name];
      if (out) paintLayer(entry, out);
    }
    for (const entry of view.layers) {
      const out = outputs[entry.layer.name];
      if (out) describeStrongest(entry, out);
    }
    if (view.selected) explain();
    root.dataset.paints = String(Number(root.dataset.paints || 0) + 1);
    requestAnimationFrame(() => {  // the frame that shows it: pen movement -> every layer on screen, for benchmarks
      const times = (window.__cnnlabInsidePaints = window.__cnnlabInsidePaints || []);
      times.push(performance.now() - t0);
      if (times.length > 2000) times.splice(0, times.length - 2000);
    });
  };

  const blank = () => {
    view.outputs = null;
    for (const entry of view.layers) {
      clearCanvas(entry);
      entry.alt.textContent = "";
      entry.marks.replaceChildren();
    }
    panel.hidden = true;
  };

  /** Boxes over a layer's canvas, in its pixel grid (percentages, so they follow the canvas' size). */
  const mark = (entry, boxes, cls) => {
    for (const old of entry.marks.querySelectorAll(`.${cls}`)) old.remove();
    const { g } = entry;
    for (const b of boxes) {
      const { px, py } = cellAt(g, g.c === 1 ? 0 : b.c, 0, 0);  // a photo's three colours are one picture
      const x0 = Math.max(0, b.x0), y0 = Math.max(0, b.y0);
      const x1 = Math.min(g.w, b.x0 + b.w), y1 = Math.min(g.h, b.y0 + b.h);
      if (x1 <= x0 || y1 <= y0) continue;
      const box = document.createElement("span");
      box.className = cls;
      box.style.left = `${(100 * (px + x0)) / g.W}%`;
      box.style.top = `${(100 * (py + y0)) / g.H}%`;
      box.style.width = `${(100 * (x1 - x0)) / g.W}%`;
      box.style.height = `${(100 * (y1 - y0)) / g.H}%`;
      entry.marks.appendChild(box);
    }
  };

  const select = (name, c, y, x) => {
    for (const entry of view.layers) entry.marks.replaceChildren();
    view.selected = { layer: name, c, y, x };
    const entry = view.byName.get(name);
    entry.section.after(panel);
    mark(entry, [{ c, y0: y, x0: x, h: 1, w: 1 }], "picked");
    explain(true);
  };

  const where = (entry, s) => {
    const layer = entry.layer, data = view.args.data;
    if (layer.shape.length === 3) return say("at", { layer: layer.kind === "input" ? say("input") : layer.name,
                                                     c: s.c, y: s.y, x: s.x });
    if (layer.name === data.final && data.classes) return say("atClass", { layer: layer.name, name: data.classes[s.c] });
    return say("atUnit", { layer: layer.name, c: s.c });
  };

  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };

  /** A small table of numbers (a window, its weights or their products), with a caption. */
  const table = (caption, values, h, w, inside, digits = 2) => {
    const t = el("table", undefined, "nums");
    t.appendChild(el("caption", caption));
    for (let y = 0; y < h; y++) {
      const tr = el("tr");
      for (let x = 0; x < w; x++) {
        const td = el("td", number(values[y * w + x], digits));
        if (inside && !inside[y * w + x]) td.className = "pad";
        tr.appendChild(td);
      }
      t.appendChild(tr);
    }
    return t;
  };

  const activationName = (fn) => ({ relu: "ReLU", sigmoid: "sigmoid", tanh: "tanh", leaky_relu: "LeakyReLU",
                                    gelu: "GELU", elu: "ELU", selu: "SELU", silu: "SiLU", swish: "swish" }[fn] || fn);

  /** The arithmetic behind the selected value, with this reading's numbers. */
  const explain = async (announce = false) => {
    const s = view.selected, outputs = view.outputs;
    const entry = view.byName.get(s.layer), layer = entry.layer, data = view.args.data;
    const run = ++view.explainRun;
    panel.hidden = false;
    const body = [];
    const head = el("h4", where(entry, s));
    panel.setAttribute("aria-label", head.textContent);
    const out = outputs && outputs[layer.name];
    if (!out) {
      panel.replaceChildren(head, el("p", say("empty")));
      if (announce) status.textContent = head.textContent;
      return;
    }
    const flat = layer.shape.length !== 3;
    const value = flat ? out.data[s.c] : helpers_.valueAt(out, s.y, s.x, s.c);
    const colour = layer.kind === "input" && layer.shape[2] === 3;
    head.append(": ", el("strong", colour ? [0, 1, 2].map((ch) => number(helpers_.valueAt(out, s.y, s.x, ch))).join(" · ")
                                           : number(value), "value"));
    if (announce) panel.replaceChildren(head, el("p", say("loading")));  // the weights may take a moment
    if (announce) status.textContent = `${where(entry, s)}: ${number(value)}`;
    const src = layer.inputs && layer.inputs.length ? outputs[layer.inputs[0]] : null;
    const srcEntry = src ? view.byName.get(layer.inputs[0]) : null;
    const srcName = srcEntry ? (srcEntry.layer.kind === "input" ? say("input") : srcEntry.layer.name) : "";
    const weights = (offset, count) => fetchWeights(data.weights, offset, count);
    let result = null;
    try {
      if (layer.kind === "input") {
        body.push(el("p", say(colour ? "pixelColour" : "pixel")));
      } else if (layer.kind === "conv" && src) {
        const [kh, kw] = layer.size, cin = src.shape[2], n = kh * kw * cin;
        if (!data.weights) throw new Error("no weights");
        const [kernel, bias] = await Promise.all([weights(layer.kernel + s.c * n, n), weights(layer.bias + s.c, 1)]);
        if (run !== view.explainRun) return;
        result = helpers_.explainConv(layer, src, s, kernel, bias[0]);
        body.push(el("p", say("convIntro", { kh, kw, source: srcName })));
        const order = result.channels.slice().sort((a, b) => Math.abs(b.sum) - Math.abs(a.sum));
        const shown = order.slice(0, 3);
        const photo = srcEntry.layer.kind === "input" && cin === 3;
        const channel = (c) => (photo ? say("windowOfColour", { source: srcName, colour: say(["red", "green", "blue"][c]) })
                                      : say("windowOf", { source: srcName, c }));
        for (const ch of shown) {
          const row = el("div", undefined, "conv-row");
          row.append(table(channel(ch.channel), ch.values, kh, kw, ch.inside),
                     table(say("weights"), ch.weights, kh, kw), table(say("products"), ch.products, kh, kw),
                     el("p", say("sum", { v: number(ch.sum) }), "sum"));
          body.push(row);
        }
        if (shown.some((ch) => ch.inside.some((v) => !v))) body.push(el("p", say("border"), "hint"));
        if (order.length > shown.length) {
          const rest = order.slice(shown.length).reduce((t, ch) => t + ch.sum, 0);
          body.push(el("p", say("others", { n: order.length - shown.length, v: number(rest) })));
        }
        body.push(el("p", `${say("total", { n, v: number(result.total) })} ${say("plusBias", { b: number(result.bias), z: number(result.z) })}`));
        mark(srcEntry, shown.map((ch) => ({ c: ch.channel, y0: result.window.y0, x0: result.window.x0, h: kh, w: kw })), "window");
      } else if (layer.kind === "pool" && src) {
        result = helpers_.explainPool(layer, src, s);
        const [kh, kw] = layer.size, p = result.window.patches[0];
        body.push(el("p", say(layer.op === "max" ? "poolMax" : "poolAvg", { kh, kw, source: srcName, c: s.c, v: number(result.value) })));
        body.push(table(say("windowOf", { source: srcName, c: s.c }), p.values, kh, kw, p.inside));
        mark(srcEntry, [{ c: s.c, y0: result.window.y0, x0: result.window.x0, h: kh, w: kw }], "window");
      } else if (layer.kind === "gpool" && src) {
        result = helpers_.explainGlobalPool(layer, src, s.c);
        body.push(el("p", layer.op === "max"
          ? say("gpoolMax", { n: result.count, source: srcName, c: s.c, y: result.at.y, x: result.at.x, v: number(result.value) })
          : say("gpoolAvg", { n: result.count, source: srcName, c: s.c, sum: number(result.sum), v: number(result.value) })));
        mark(srcEntry, [{ c: s.c, y0: 0, x0: 0, h: src.shape[0], w: src.shape[1] }], "window");
      } else if (layer.kind === "dense" && src) {
        if (!data.weights) throw new Error("no weights");
        const n = layer.fanIn, units = layer.shape[0];
        let w, b, logits = null;
        if (layer.activation === "softmax") {
          const [all, biases] = await Promise.all([weights(layer.kernel, n * units), weights(layer.bias, units)]);
          w = all.subarray(s.c * n, (s.c + 1) * n);
          b = biases[s.c];
          logits = Array.from({ length: units }, (_, u) => {
            let z = biases[u];
            for (let i = 0; i < n; i++) z += src.data[i] * all[u * n + i];
            return z;
          });
        } else {
          const [row, bias] = await Promise.all([weights(layer.kernel + s.c * n, n), weights(layer.bias + s.c, 1)]);
          w = row;
          b = bias[0];
        }
        if (run !== view.explainRun) return;
        result = helpers_.explainDense(layer, src, s.c, w, b, logits);
        body.push(el("p", say("denseIntro", { n, source: srcName })));
        const t = el("table", undefined, "dense");
        const headRow = el("tr");
        for (const k of ["inValue", "weight", "product"]) headRow.appendChild(el("th", say(k)));
        headRow.prepend(el("th", srcName));
        t.appendChild(headRow);
        for (const item of result.top) {
          const tr = el("tr");
          tr.append(el("td", item.from ? say("fromMap", { c: item.from.c, y: item.from.y, x: item.from.x })
                                      : say("fromUnit", { i: item.index })),
                    el("td", number(item.input)), el("td", number(item.weight)), el("td", number(item.product)));
          t.appendChild(tr);
        }
        body.push(t);
        body.push(el("p", say("rest", { n: n - result.top.length, v: number(result.rest) })));
        body.push(el("p", `${say("total", { n, v: number(result.total) })} ${say("plusBias", { b: number(result.bias), z: number(result.z) })}`));
        mark(srcEntry, result.top.slice(0, 3).map((item) => (item.from
          ? { c: item.from.c, y0: item.from.y, x0: item.from.x, h: 1, w: 1 } : { c: item.index, y0: 0, x0: 0, h: 1, w: 1 })),
        "window");
      } else if (layer.kind === "bn" && src) {
        const [scale, shift] = await Promise.all([weights(layer.scale + s.c, 1), weights(layer.shift + s.c, 1)]);
        if (run !== view.explainRun) return;
        result = helpers_.explainBatchNorm(src, s, scale[0], shift[0]);
        body.push(el("p", say("bn", { x: number(result.x), scale: number(result.scale), shift: number(result.shift),
                                      v: number(result.value) })));
        mark(srcEntry, [flat ? { c: s.c, y0: 0, x0: 0, h: 1, w: 1 } : { c: s.c, y0: s.y, x0: s.x, h: 1, w: 1 }], "window");
      } else if (layer.kind === "act" && src) {
        result = helpers_.explainActivation(layer, src, s);
        body.push(el("p", say("actLayer", { fn: activationName(layer.activation), source: srcName, x: number(result.x),
                                            v: number(result.value) })));
        mark(srcEntry, [flat ? { c: s.c, y0: 0, x0: 0, h: 1, w: 1 } : { c: s.c, y0: s.y, x0: s.x, h: 1, w: 1 }], "window");
      } else if (layer.kind === "add" && layer.inputs.every((n) => outputs[n])) {
        result = helpers_.explainAdd(layer.inputs.map((n) => outputs[n]), s);
        body.push(el("p", say("add", { terms: result.terms.map((t) => number(t)).join(" + "), v: number(result.value) })));
      } else {
        body.push(el("p", say("other", { type: layer.type })));
      }
    } catch (e) {
      console.warn("CNN Lab: explaining a value failed", e);
      body.push(el("p", say("noWeights")));
    }
    if (run !== view.explainRun) return;
    if (result && (layer.kind === "conv" || layer.kind === "dense")) {
      if (result.activation === "softmax") {
        body.push(el("p", say("softmax", { z: number(result.z), n: layer.shape[0], v: number(result.value) })));
      } else if (result.activation === "linear") {
        body.push(el("p", say("noAct", { v: number(result.value) })));
      } else {
        body.push(el("p", say("act", { fn: activationName(result.activation), z: number(result.z), v: number(result.value) })));
      }
    }
    if (result) {
      const check = el("p", say("inMap", { v: number(value) }), "check");
      check.dataset.computed = number(result.value);
      check.dataset.shown = number(value);
      body.push(check);
    }
    panel.replaceChildren(head, ...body);
  };

  const showNote = () => {
    const data = view.args.data;
    freeze.textContent = say(view.frozen ? "unfreeze" : "freeze");
    freeze.setAttribute("aria-pressed", view.frozen ? "true" : "false");
    note.textContent = view.frozen ? say("frozen") : data.values ? say(data.upload ? "upload" : "server")
      : view.outputs ? say("live") : say("empty");
  };

  /** A reading from the pad: {url, input, outputs} or {url, empty}. */
  const onReading = (e) => {
    if (!root.isConnected) {  // this view left the page (the toggle, another input): a new one listens now
      window.removeEventListener("cnnlab-pad", onReading);
      return;
    }
    const d = e.detail, data = view.args && view.args.data;
    if (!data || !data.model || d.url !== data.model) return;
    view.latest = d;
    if (view.frozen) return;
    show(d);
  };
  const show = (d) => {
    if (!helpers_) return;
    if (!d || d.empty) {
      blank();
    } else {
      const outputs = { input: { data: d.input, shape: view.args.data.layers[0].shape } };
      for (const entry of view.layers) {
        const o = d.outputs[entry.layer.name];
        if (o && entry.layer.kind !== "input") outputs[entry.layer.name] = { data: o.data, shape: entry.layer.shape };
      }
      paint(outputs, d.t0 || performance.now());
    }
    showNote();
  };
  window.addEventListener("cnnlab-pad", onReading);

  freeze.addEventListener("click", () => {
    view.frozen = !view.frozen;
    if (!view.frozen && !view.args.data.values) show(view.latest);
    showNote();
  });

  view.build = build;
  view.show = show;
  view.showNote = showNote;
  view.blank = blank;
  view.setHelpers = (h) => { helpers_ = h; };
  view.clear = () => {
    list.replaceChildren();
    panel.hidden = true;
    view.selected = null;
    view.outputs = null;
    view.latest = null;
  };
  return view;
}

const decode = (b64) => {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};

export default async function (args) {
  const root = args.parentElement.querySelector(".inside");
  if (!root.__view) root.__view = setup(root);
  const view = root.__view, data = args.data;
  view.args = args;
  root.querySelector("h2").textContent = (data.text && data.text.title) || TEXT.title;
  root.classList.toggle("big", Boolean(data.big));
  const helpersModule = await loadHelpers(data.static);
  view.setHelpers(helpersModule);
  const key = `${data.model || data.weights || ""}|${data.layers.map((l) => l.name).join(",")}|${data.lang}`;
  if (view.model !== key) {
    view.clear();
    view.model = key;
    view.build();
    view.frozen = false;
  }
  if (data.values && !view.frozen) {
    const outputs = { input: { data: decode(data.values.input), shape: data.layers[0].shape } };
    for (const layer of data.layers.slice(1)) if (data.values[layer.name]) outputs[layer.name] = { data: decode(data.values[layer.name]), shape: layer.shape };
    view.latest = { outputs };
    view.show({ input: outputs.input.data, outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v])) });
  } else if (!data.values && data.model && !view.frozen && window.__cnnlabPadLast && window.__cnnlabPadLast.url === data.model) {
    view.show(window.__cnnlabPadLast);
  } else if (!data.values && !data.model) {
    view.show(null);
  }
  view.showNote();
}
