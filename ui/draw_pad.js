// CNN Lab's drawing pad (Streamlit Components v2, plain JavaScript, no build step).
//
// White strokes on a black square, drawn with a mouse, a finger or a pen (pointer events), with Undo and
// Clear. The network reads the drawing right here in the browser: ONNX Runtime Web (served by the app from
// static/ort, so it works offline) runs the model the server converted (static/models, one file per model),
// on the input static/cnnlab/preprocess.mjs makes exactly as cnn/preprocess.py does. It reads at most every
// 50 ms while the pen moves and at once when it lifts. Then the drawing goes to the server as a PNG whose
// alpha channel is the ink, with the browser's answer, for the preprocessing steps and the feature maps.
// Where the browser cannot run the model, the pad says so and the server answers instead.

const READ_EVERY_MS = 50;
const LOAD_WAIT_MS = 4000;  // a pen lifted while the engine still loads waits this long, then the server answers

const engine = { ort: null, sessions: new Map(), preprocess: null };

function absolute(path) {
  return new URL(path, window.location.origin).href;
}

/** ONNX Runtime Web and the preprocessing module, loaded once per page. */
function loadEngine(base) {
  if (!engine.ort) {
    engine.ort = import(absolute(base + "ort/ort.wasm.min.mjs")).then((ort) => {
      ort.env.wasm.wasmPaths = absolute(base + "ort/");
      ort.env.wasm.numThreads = 1;  // no cross-origin isolation needed; a digit model takes a few ms anyway
      return ort;
    });
    engine.preprocess = import(absolute(base + "cnnlab/preprocess.mjs"));
  }
  return Promise.all([engine.ort, engine.preprocess]);
}

/** The model's inference session, created once per model file (the file's name is its content's hash). */
async function modelSession(model) {
  const [ort, preprocess] = await loadEngine(model.static);
  if (!engine.sessions.has(model.url)) {
    engine.sessions.set(model.url, ort.InferenceSession.create(absolute(model.url), { executionProviders: ["wasm"] }));
  }
  return { ort, preprocess, session: await engine.sessions.get(model.url) };
}

// What the pad says, in English; the page sends the student's language as data.text (same keys, same {names}).
const TEXT = {
  area: "Drawing area", undo: "Undo", clear: "Clear", undoLabel: "Undo the last stroke", clearLabel: "Clear the drawing",
  barsLabel: "How sure the network is of each class", unsure: "The network is not sure. Try drawing bigger and more clearly, in the middle.",
  prediction: "Prediction: {label}", sure: "{p} sure · model {title} · read in your browser in {ms} ms",
  news: "Prediction: {label}, {p} sure", nothing: "Nothing drawn yet: draw {thing}.",
  little: "Too little ink to read: draw {thing} bigger.", failed: "your browser could not run the model",
  failedNote: "The server reads your drawing when you lift the pen: {why}.", server: "This model is read on the server: {why}.",
};
const say = (pad, key, values = {}) => {
  const text = (pad.args && pad.args.data.text && pad.args.data.text[key]) || TEXT[key];
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
};
/** A probability as a percentage in the page's language ("99.2%", "99,2 %"). */
const percent = (pad, p, digits) => new Intl.NumberFormat(pad.args.data.lang || "en", {
  style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(p);

/** Tell the page's "Inside the network" view (ui/inside_view.js) about a reading: every layer's output, or
 * that there is nothing to read. The last one is kept for a view that appears later. */
const tell = (detail) => {
  window.__cnnlabPadLast = detail;
  window.dispatchEvent(new CustomEvent("cnnlab-pad", { detail }));
};

const timeout = (ms) => new Promise((_, reject) => setTimeout(() => reject(new Error("the model took too long to load")), ms));

function setup(root) {
  const canvas = root.querySelector("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const undo = root.querySelector("[data-action=undo]");
  const clear = root.querySelector("[data-action=clear]");
  const answer = root.querySelector(".draw-pad-answer");
  const head = answer.querySelector("h2");
  const note = answer.querySelector(".note");
  const warn = answer.querySelector(".warn");
  const bars = answer.querySelector(".bars");
  const news = answer.querySelector("[aria-live]");
  const pad = { strokes: [], current: null, args: null, chain: Promise.resolve(), waiting: false, lastRead: -Infinity,
               why: "", result: null };

  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  const dot = ([x, y], w) => {
    ctx.beginPath();
    ctx.arc(x, y, w / 2, 0, 2 * Math.PI);
    ctx.fill();
  };
  const segment = (a, b, w) => {
    ctx.lineWidth = w;
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  };
  const redraw = () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const s of pad.strokes) {
      dot(s.points[0], s.width);
      for (let i = 1; i < s.points.length; i++) segment(s.points[i - 1], s.points[i], s.width);
    }
  };
  const buttons = () => {
    const empty = pad.strokes.length === 0;
    // A disabled button loses the keyboard's focus to the page's body: hand it to the drawing area first.
    const focused = root.getRootNode().activeElement;
    if (empty && (focused === undo || focused === clear)) canvas.focus();
    undo.disabled = clear.disabled = empty;
  };

  const invite = (text) => {
    head.hidden = warn.hidden = true;
    bars.replaceChildren();
    note.textContent = text;
    pad.result = null;
  };
  const show = (probs, ms, final, url) => {
    const data = pad.args.data, classes = data.model.classes;
    let top = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i] > probs[top]) top = i;
    head.hidden = false;
    head.textContent = say(pad, "prediction", { label: classes[top] });
    note.textContent = say(pad, "sure", { p: percent(pad, probs[top], 1), title: data.model.title,
                                          ms: Math.max(1, Math.round(ms)) });
    warn.hidden = probs[top] >= 0.6;
    if (bars.children.length !== probs.length) {
      bars.replaceChildren(...classes.map((name) => {
        const row = document.createElement("div");
        row.setAttribute("role", "listitem");
        row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="pct"></span>';
        row.querySelector(".name").textContent = name;
        return row;
      }));
    }
    [...bars.children].forEach((row, i) => {
      const pct = percent(pad, probs[i], 1);
      row.classList.toggle("top", i === top);
      row.querySelector(".fill").style.width = `${(100 * probs[i]).toFixed(1)}%`;
      row.querySelector(".pct").textContent = pct;
      row.setAttribute("aria-label", `${classes[i]}: ${pct}`);
    });
    answer.dataset.reads = String(Number(answer.dataset.reads || 0) + 1);  // for benchmarks: a reading was shown
    answer.dataset.final = final ? "1" : "0";
    if (final) news.textContent = say(pad, "news", { label: classes[top], p: percent(pad, probs[top], 0) });
    pad.result = { top, label: classes[top], probs: Array.from(probs), ms: Math.round(ms * 10) / 10, model: url };
  };

  /** Read the drawing in the browser now. */
  const readNow = async (final) => {
    const model = pad.args.data.model;
    if (!model) return;
    try {
      const t0 = performance.now();
      const ready = modelSession(model);
      const { ort, preprocess, session } = final ? await Promise.race([ready, timeout(LOAD_WAIT_MS)]) : await ready;
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const x = preprocess.preprocessDrawing(pixels, canvas.width, canvas.height);
      if (x.empty) {
        if (model.inside) tell({ url: model.url, empty: true });
        invite(pad.strokes.length ? say(pad, x.empty, { thing: pad.args.data.thing }) : pad.args.data.invite);
        return;
      }
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x.input, [1, 28, 28, 1]) };
      // With the view open, the same call returns every layer's output (named by Keras' layer names).
      const names = model.inside ? session.outputNames : [session.outputNames[0]];
      const outputs = await session.run(feeds, names);
      show(outputs[session.outputNames[0]].data, performance.now() - t0, final, model.url);
      if (model.inside) {
        tell({ url: model.url, input: x.input, final, t0,
               outputs: Object.fromEntries(names.map((name) => [name, { data: outputs[name].data }])) });
      }
      pad.why = "";
    } catch (e) {
      console.warn("CNN Lab: reading the drawing in the browser failed", e);  // the details, for whoever looks
      pad.why = say(pad, "failed");
      invite(say(pad, "failedNote", { why: pad.why }));
    } finally {
      pad.lastRead = performance.now();
    }
  };
  /** Reads run one after another; while the pen moves, one waits at most and they come at most every 50 ms. */
  const read = (final = false) => {
    if (!final) {
      if (pad.waiting || performance.now() - pad.lastRead < READ_EVERY_MS) return pad.chain;
      pad.waiting = true;
    }
    pad.chain = pad.chain.then(() => {
      if (!final) pad.waiting = false;
      return readNow(final);
    });
    return pad.chain;
  };

  const send = async () => {
    buttons();
    if (!pad.strokes.length) {
      invite(pad.args.data.invite);
      if (pad.args.data.model && pad.args.data.model.inside) tell({ url: pad.args.data.model.url, empty: true });
      pad.args.setStateValue("drawing", null);
      return;
    }
    await read(true);
    // A new stroke began while this reading ran (a busy machine): the server hears nothing while a pen is down, and
    // that stroke's lift sends the drawing with it.
    if (pad.current) return;
    const drawing = { png: canvas.toDataURL("image/png"), strokes: pad.strokes.length, read: pad.result, why: pad.why };
    pad.args.setStateValue("drawing", drawing);
  };

  ctx.strokeStyle = ctx.fillStyle = "#ffffff";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";

  canvas.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    const width = Number(pad.args.data.brush) || 20;
    pad.current = { width, points: [point(e)] };
    pad.strokes.push(pad.current);
    dot(pad.current.points[0], width);
  });
  canvas.addEventListener("pointermove", (e) => {
    const s = pad.current;
    if (!s) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const p = point(ev);
      segment(s.points[s.points.length - 1], p, s.width);
      s.points.push(p);
    }
    read();  // while the pen moves
  });
  const lift = (e) => {
    if (!pad.current) return;
    e.preventDefault();
    pad.current = null;
    send();
  };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  canvas.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z" && pad.strokes.length) {
      e.preventDefault();
      undo.click();
    }
  });
  undo.addEventListener("click", () => {
    pad.strokes.pop();
    redraw();
    send();
  });
  clear.addEventListener("click", () => {
    pad.strokes = [];
    redraw();
    send();
  });
  buttons();
  pad.invite = invite;
  pad.read = read;
  return pad;
}

export default function (args) {
  const root = args.parentElement.querySelector(".draw-pad");
  const first = !root.__pad;
  if (first) root.__pad = setup(root);
  const pad = root.__pad;
  const before = pad.args && pad.args.data.model ? pad.args.data.model.url : null;
  pad.args = args;
  const data = args.data;
  const label = data.label || say(pad, "area");
  const canvas = root.querySelector("canvas");
  if (canvas.getAttribute("aria-label") !== label) canvas.setAttribute("aria-label", label);
  for (const [selector, text, aria] of [["[data-action=undo]", "undo", "undoLabel"],
                                        ["[data-action=clear]", "clear", "clearLabel"]]) {
    const button = root.querySelector(selector);  // the icon stays; its text and label follow the language
    button.lastChild.textContent = ` ${say(pad, text)}`;
    button.setAttribute("aria-label", say(pad, aria));
  }
  root.querySelector(".warn").textContent = say(pad, "unsure");
  root.querySelector(".bars").setAttribute("aria-label", say(pad, "barsLabel"));
  root.classList.toggle("big", Boolean(data.big));  // presentation mode: read from the back of the room
  const answer = root.querySelector(".draw-pad-answer");
  answer.hidden = !data.model && !data.why;
  if (!data.model) {
    if (data.why) pad.invite(say(pad, "server", { why: data.why }));
    return;
  }
  loadEngine(data.model.static);  // fetched while the student starts drawing
  modelSession(data.model).catch(() => {});
  if (first || before !== data.model.url) {
    if (pad.strokes.length) pad.read(true);  // another model: read the drawing again
    else pad.invite(data.invite);
  }
}
