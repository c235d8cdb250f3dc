// CNN Lab's drawing pad (Streamlit Components v2, plain JavaScript, no build step).
//
// White strokes on a black square, drawn with a mouse, a finger or a pen (pointer events), with Undo and
// Clear. The moment the pointer lifts, the drawing goes to the server as a PNG whose alpha channel is the
// ink (the same form cnn.preprocess reads from any canvas). The pad's strokes live on its own DOM element,
// so a rerun that sends new data (another brush width) keeps the drawing; a new mount starts empty.

function setup(root) {
  const canvas = root.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  const undo = root.querySelector("[data-action=undo]");
  const clear = root.querySelector("[data-action=clear]");
  const pad = { strokes: [], current: null, args: null };

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
    undo.disabled = clear.disabled = pad.strokes.length === 0;
  };
  const send = () => {
    buttons();
    const drawing = pad.strokes.length ? { png: canvas.toDataURL("image/png"), strokes: pad.strokes.length } : null;
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
  return pad;
}

export default function (args) {
  const root = args.parentElement.querySelector(".draw-pad");
  if (!root.__pad) root.__pad = setup(root);
  const pad = root.__pad;
  pad.args = args;
  const label = args.data.label || "Drawing area";
  const canvas = root.querySelector("canvas");
  if (canvas.getAttribute("aria-label") !== label) canvas.setAttribute("aria-label", label);
  root.classList.toggle("big", Boolean(args.data.big));  // presentation mode: read from the back of the room
}
