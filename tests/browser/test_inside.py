"""The Draw page's "Inside the network" view: in Chromium, every layer ONNX Runtime Web gives equals Keras' own
``keras.Model(model.inputs, layer.output)`` on the same input; a selected value's arithmetic, redone in the page,
gives the value shown; the view follows the pen with nothing sent to the server, freezes, and says where the
browser cannot run the model."""
from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from browser.helpers import (
    COUNT_SENDS_WHILE_DRAWING,
    DRAW_PAD,
    assert_no_error,
    draw_and_read,
    draw_digit,
    in_page_reading,
    wait_idle,
)

pytestmark = pytest.mark.browser

# Each drawing as the pad draws and preprocesses it; one run of the model for every layer's output.
LAYERS_ALL = in_page_reading("""
    if (x.empty) continue;
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x.input, [1, 28, 28, 1]) };
    const outputs = await session.run(feeds);
    out.push([b64(x.input), Object.fromEntries(session.outputNames.map((n) => [n, b64(outputs[n].data)]))]);""")


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32)


def _models():
    """The shipped digit model, and the tutorial and fast presets (their layers, as built, seeded)."""
    import keras

    from cnn import architectures, store

    yield "shipped mnist", store.load_model("mnist")
    for preset in ("tutorial", "fast"):
        keras.utils.set_random_seed(0)
        yield preset, architectures.build_model(architectures.preset(preset), (28, 28, 1), 10)


def test_every_layer_in_the_browser_equals_keras_on_the_drawn_set(page, server):
    import keras

    from cnn import export, inside
    from cnn.reader import QuickReader
    from ui.models import STATIC

    from drawn_digits import pad_drawings

    drawings, _labels = pad_drawings(n_per_font_digit=1, n_per_hand_digit=2)
    sent = [[[[list(p) for p in s] for s in strokes], w] for strokes, w in drawings]
    page.goto(server["url"])
    wait_idle(page)
    for title, model in _models():
        reader = QuickReader(model)
        assert reader.onnx, reader.why
        url = "/app/static/models/" + export.publish(reader.onnx, STATIC / "models", f"test inside: {title}")
        shown = [e for e in reader.network.layers if e["kind"] != "input"]
        results = []
        for start in range(0, len(sent), 25):
            results += page.evaluate(LAYERS_ALL, [sent[start:start + 25], url])
        assert len(results) >= 150
        x = np.stack([floats(r[0]).reshape(28, 28, 1) for r in results])
        worst = {}
        for entry in shown:
            layer = model.get_layer(entry["name"])
            theirs = np.asarray(keras.Model(model.inputs, layer.output).predict_on_batch(x), np.float32)
            ours = np.stack([floats(r[1][entry["name"]]) for r in results]).reshape(theirs.shape)
            worst[entry["name"]] = float(np.abs(ours - theirs).max())
        print(title, len(results), "drawings; largest difference per layer:",
              ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
        assert max(worst.values()) <= 1e-4, worst
        assert set(worst) == {e["name"] for e in shown} and len(shown) >= 5
        assert inside.INPUT not in worst


def _inside(page):
    return page.locator(".inside")


def _select(page, layer: str, fx: float, fy: float) -> None:
    """Click a layer's maps at a fraction of their width and height."""
    canvas = page.locator(f'.inside section[data-layer="{layer}"] .stage canvas')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})


def _check(page) -> tuple[str, str]:
    check = page.locator(".inside-explain .check")
    expect(check).to_be_visible(timeout=15_000)
    return check.get_attribute("data-computed"), check.get_attribute("data-shown")


def _keras_value(model, layer: str, x: np.ndarray, where: tuple) -> float:
    import keras

    out = keras.Model(model.inputs, model.get_layer(layer).output).predict_on_batch(x)
    return float(np.asarray(out)[0][where])


def test_a_selected_value_shows_the_arithmetic_that_gives_it(page, server):
    from cnn import store

    page.add_init_script(COUNT_SENDS_WHILE_DRAWING)
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    page.locator(DRAW_PAD).first.wait_for()
    page.wait_for_timeout(500)
    draw_digit(page, 3)
    page.get_by_text("Prediction: 3", exact=True).wait_for()
    wait_idle(page)
    sends = page.evaluate("window.__cnnlabSends")
    assert sends == {"all": 0, "pad": 0}, sends  # the view followed the pen with nothing sent to the server
    expect(_inside(page).locator(".inside-note")).to_contain_text("Every layer follows your pen")
    assert int(_inside(page).get_attribute("data-paints") or 0) >= 2  # while drawing, not only at the end
    x = page.evaluate("Array.from(window.__cnnlabPadLast.input)")
    x = np.asarray(x, np.float32).reshape(1, 28, 28, 1)
    model = store.load_model("mnist")

    # A convolution's value: products, sum, bias, activation give the number in the map.
    _select(page, "conv2", 0.3, 0.2)
    computed, shown = _check(page)
    assert computed == shown
    head = page.locator(".inside-explain h4").inner_text()
    c, y, xx = map(int, re.search(r"map (\d+), row (\d+), column (\d+)", head).groups())
    assert abs(float(shown) - _keras_value(model, "conv2", x, (y, xx, c))) <= 0.0015
    explain = page.locator(".inside-explain")
    expect(explain).to_contain_text("Sum of all 288 products")
    expect(explain).to_contain_text("+ bias")
    assert explain.locator("table").count() == 9  # three input maps: window, weights, products
    assert page.locator('.inside section[data-layer="act1"] .marks .window').count() == 3  # windows marked below

    # By keyboard: a pooling value, moved with the arrow keys.
    stage = page.locator('.inside section[data-layer="pool1"] .stage')
    stage.focus()
    for key in ("PageDown", "PageDown", "ArrowRight", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    expect(page.locator(".inside-explain h4")).to_contain_text("pool1, map 2, row 1, column 2")
    computed, shown = _check(page)
    assert computed == shown
    assert abs(float(shown) - _keras_value(model, "pool1", x, (1, 2, 2))) <= 0.0015
    expect(page.locator(".inside-explain")).to_contain_text("The largest of this 2×2 window of act2, map 2")
    expect(page.locator(".inside [role=status]")).to_contain_text("pool1, map 2, row 1, column 2")

    # A class's probability: the dense layer's sum, then softmax over the ten classes.
    _select(page, "predictions", 0.35, 0.5)  # the 4th of 10 squares: class 3
    expect(page.locator(".inside-explain h4")).to_contain_text("predictions, class 3")
    computed, shown = _check(page)
    assert computed == shown
    expect(page.locator(".inside-explain")).to_contain_text("softmax")
    assert float(shown) > 0.5
    assert_no_error(page)


def test_freeze_keeps_the_view_while_the_pad_is_cleared(page, server):
    draw_and_read(page, server["url"], 7)
    view = _inside(page)
    freeze = view.get_by_role("button", name="Freeze")
    freeze.click()
    expect(view.get_by_role("button", name="Unfreeze")).to_have_attribute("aria-pressed", "true")
    expect(view.locator(".inside-note")).to_contain_text("Frozen")
    paints = view.get_attribute("data-paints")
    alt = view.locator('section[data-layer="conv1"] .alt').inner_text()
    assert alt.startswith("Strongest: map")
    page.locator(".draw-pad").get_by_role("button", name="Clear the drawing").click()
    wait_idle(page)
    expect(page.get_by_text("Draw one digit in the black square")).to_be_visible()
    assert view.get_attribute("data-paints") == paints
    assert view.locator('section[data-layer="conv1"] .alt').inner_text() == alt  # the frozen view stays
    _select(page, "conv1", 0.45, 0.45)
    computed, shown = _check(page)  # and can still be explained
    assert computed == shown
    view.get_by_role("button", name="Unfreeze").click()
    expect(view.locator('section[data-layer="conv1"] .alt')).to_have_text("")  # back to the (empty) pad
    expect(view.locator(".inside-note")).to_contain_text("Draw on the pad")
    assert_no_error(page)


def test_where_the_browser_cannot_run_the_model_the_server_fills_the_view(page, server):
    page.route("**/app/static/ort/**", lambda route: route.abort())  # ONNX Runtime Web cannot be loaded
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    page.locator(DRAW_PAD).first.wait_for()
    page.wait_for_timeout(500)
    draw_digit(page, 1)
    page.get_by_text("read on the server in").first.wait_for()
    wait_idle(page)
    view = _inside(page)
    expect(view.locator('section[data-layer="conv1"] .alt')).to_contain_text("Strongest: map")
    _select(page, "conv1", 0.45, 0.45)
    computed, shown = _check(page)
    assert computed == shown
    assert_no_error(page)


def test_a_photo_model_shows_every_layer_for_an_uploaded_photo_with_its_colour_filters(page, server):
    import io

    from PIL import Image

    from cnn import store

    sample = np.load("cnn/bundled/cifar10_sample.npz")
    offsets = sample["test_offsets"]
    jpeg = sample["test_jpeg"][offsets[3]:offsets[4]].tobytes()
    png = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).resize((96, 96)).save(png, "PNG")
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    page.get_by_label("Model").first.click()
    page.get_by_role("option", name=re.compile("^cifar10")).first.click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Show the network a photo")).to_be_visible()
    page.locator("input[type=file]").first.set_input_files(
        {"name": "truck.png", "mimeType": "image/png", "buffer": png.getvalue()})
    wait_idle(page)
    page.get_by_text("What the network sees: 32×32 pixels").wait_for()
    view = _inside(page)
    expect(view.locator(".inside-note")).to_contain_text("Every layer for your image, computed on the server")
    expect(view.locator('section[data-layer="conv1"] figure.filters canvas')).to_have_attribute(
        "aria-label", "Its 24 filters, 2×2 each (grey is 0)")
    _select(page, "conv1", 0.1, 0.1)
    computed, shown = _check(page)
    assert computed == shown
    explain = page.locator(".inside-explain")
    expect(explain).to_contain_text("Input, red")
    expect(explain).to_contain_text("Sum of all 12 products")
    head = explain.locator("h4").inner_text()
    c, y, x = map(int, re.search(r"map (\d+), row (\d+), column (\d+)", head).groups())
    from cnn import preprocess

    model = store.load_model("cifar10")
    image = preprocess.prepare_image(preprocess.open_image(png.getvalue()), (32, 32, 3))
    assert abs(float(shown) - _keras_value(model, "conv1", image, (y, x, c))) <= 0.0015
    assert_no_error(page)


def test_the_view_speaks_german_and_passes_axe_with_a_value_explained(browser, server):
    from browser.test_accessibility import audit

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    page = context.new_page()
    try:
        page.goto(f"{server['url']}/Draw")
        wait_idle(page)
        page.wait_for_function("document.documentElement.lang === 'de'", timeout=10_000)
        page.locator(DRAW_PAD).first.wait_for()
        page.wait_for_timeout(500)
        draw_digit(page, 2)
        page.get_by_text("Vorhersage: 2", exact=True).wait_for()
        wait_idle(page)
        _select(page, "conv2", 0.3, 0.2)
        computed, shown = _check(page)
        assert computed == shown and "," in shown  # the page's decimal comma
        text = _inside(page).inner_text()
        for german in ("Im Inneren des Netzes", "Anhalten", "Jede Schicht folgt deinem Stift", "Faltung",
                       "32 Karten, 28×28", "Am stärksten: Karte", "Summe aller 288 Produkte", "In der Karte"):
            assert german in text, german
        english = re.findall(r"\b(maps?|units?|Strongest|Sum of|weights|products|bias|Freeze|Convolution|row|"
                             r"column|window|In the map|the layer below)\b", text)
        assert not english, english
        counts, details = audit(page)
        serious = {k: n for k, n in counts.items() if k[0] in ("critical", "serious")}
        assert not serious, details
    finally:
        context.close()


def test_on_a_phone_the_view_scrolls_layer_by_layer_and_a_tap_explains_a_value(browser, server, phone_device):
    from browser.helpers import touch_strokes
    from drawn_digits import STROKES, transform

    context = browser.new_context(**phone_device)
    page = context.new_page()
    try:
        page.goto(f"{server['url']}/Draw")
        wait_idle(page)
        page.locator(DRAW_PAD).first.wait_for()
        page.wait_for_timeout(500)
        touch_strokes(page, transform(STROKES[2], size=220, cx=140, cy=140))
        page.get_by_text("Prediction: 2", exact=True).wait_for()
        wait_idle(page)
        stage = page.locator('.inside section[data-layer="conv2"] .stage canvas')
        stage.scroll_into_view_if_needed()
        page.wait_for_timeout(600)  # a tap while the page still scrolls only stops the scroll (as on any phone)
        box = stage.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # each layer fits the phone's width
        stage.tap(position={"x": box["width"] * 0.2, "y": box["height"] * 0.1})
        computed, shown = _check(page)
        assert computed == shown
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        explain = page.locator(".inside-explain").bounding_box()
        assert explain["width"] <= 390
    finally:
        context.close()


def test_a_view_switched_off_and_on_again_leaves_one_listener(page, server):
    """The toggle unmounts the view; the one that comes back is the only one painting (no hidden copies that go on
    painting every reading, and growing with each switch)."""
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    toggle = page.locator("[data-testid=stMain] label").filter(has_text="Inside the network").first
    for _ in range(2):
        toggle.click()
        wait_idle(page)
        toggle.click()
        wait_idle(page)
    page.locator(".inside section.layer").first.wait_for()
    page.wait_for_timeout(500)
    draw_digit(page, 4)
    page.get_by_text("Prediction: 4", exact=True).wait_for()
    wait_idle(page)
    page.wait_for_timeout(300)
    reads = int(page.locator(".draw-pad-answer").get_attribute("data-reads"))
    paints = page.evaluate("window.__cnnlabInsidePaints.length")
    assert reads >= 2 and paints == reads, (reads, paints)
