"""The Draw page reads drawings in the browser: its preprocessing (static/cnnlab/preprocess.mjs) and ONNX Runtime
Web give what cnn.preprocess and the server's ONNX Runtime give, on the same canvas pixels; and where the browser
cannot run the model, the server answers and says why."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from browser.helpers import assert_no_error, draw_and_read, in_page_reading, wait_idle

# Each drawing as the pad draws and preprocesses it, read by the model in the page.
READ_ALL = in_page_reading("""
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x.input, [1, 28, 28, 1]) };
    const probs = (await session.run(feeds, [session.outputNames[0]]))[session.outputNames[0]].data;
    out.push([canvas.toDataURL("image/png"), b64(x.input), b64(Float32Array.from(probs))]);""")


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32)


def test_the_browser_reads_the_drawn_set_as_the_server_does(page, server):
    from cnn import export, preprocess, store
    from cnn.reader import QuickReader
    from ui.models import STATIC

    from drawn_digits import pad_drawings

    reader = QuickReader(store.load_model("mnist"))
    url = "/app/static/models/" + export.publish(reader.onnx, STATIC / "models", "test: the shipped mnist model")
    drawings, labels = pad_drawings()
    page.goto(server["url"])
    wait_idle(page)
    sent = [[[[list(p) for p in s] for s in strokes], w] for strokes, w in drawings]
    results = page.evaluate(READ_ALL, [sent, url])
    worst, same = 0.0, 0
    for png, js_input, js_probs in results:
        rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1]))).convert("RGBA"))
        x = preprocess.preprocess_digit(rgba).model_input
        worst = max(worst, float(np.abs(x.ravel() - floats(js_input)).max()))
        same += int(np.argmax(reader(x)[0]) == np.argmax(floats(js_probs)))
    agreement = same / len(results)
    print(f"{len(results)} drawings: largest pixel difference {worst:.2g}, classes agree on {agreement:.2%}")
    assert worst <= 1 / 255, f"model inputs differ by up to {worst:.4f}"
    assert agreement >= 0.995, f"{agreement:.2%}"
    assert len(results) == len(labels) >= 500


def test_where_the_browser_cannot_run_the_model_the_server_reads_and_says_so(page, server):
    page.route("**/app/static/ort/**", lambda route: route.abort())  # ONNX Runtime Web cannot be loaded
    draw_and_read(page, server["url"], 7)
    page.get_by_text("The server reads your drawing when you lift the pen: your browser could not run").wait_for()
    page.get_by_text("read on the server in").first.wait_for()
    assert_no_error(page)
