"""ui.charts: figures from plain data, and one colour convention for signed values everywhere."""
import numpy as np
import plotly.colors

from cnn import inspection
from ui import charts


def colour_at(fig, value: float) -> np.ndarray:
    """The RGB a heatmap draws for ``value``, from its colour scale and range."""
    trace = fig.data[0]
    t = (value - trace.zmin) / (trace.zmax - trace.zmin)
    scale = [[pos, plotly.colors.unlabel_rgb(c) if str(c).startswith("rgb") else plotly.colors.hex_to_rgb(c)]
             for pos, c in trace.colorscale]
    lower = max((s for s in scale if s[0] <= t), key=lambda s: s[0])
    upper = min((s for s in scale if s[0] >= t), key=lambda s: s[0])
    w = 0.0 if upper[0] == lower[0] else (t - lower[0]) / (upper[0] - lower[0])
    return (1 - w) * np.asarray(lower[1], float) + w * np.asarray(upper[1], float)


def test_signed_heatmaps_draw_positive_red_and_negative_blue_like_the_filters():
    values = np.array([[-2.0, 0.0, 2.0]])
    fig = charts.heatmap(values, "kernel", centre_zero=True)
    pos, neg, zero = colour_at(fig, 2.0), colour_at(fig, -2.0), colour_at(fig, 0.0)
    assert pos[0] > pos[2] + 50 and neg[2] > neg[0] + 50  # red positive, blue negative
    assert zero.min() > 200  # near white
    filters = inspection.diverging_rgb(values[0]).astype(float)  # Inspect's filter colours
    assert filters[2][0] > filters[2][2] and filters[0][2] > filters[0][0]


def test_history_figure_has_train_and_validation_curves():
    fig = charts.history_figure({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
                                 "val_accuracy": [0.4, 0.7]})
    names = {t.name for t in fig.data}
    assert names == {"train", "validation"} and len(fig.data) == 4


def test_every_chart_is_described_in_words_for_a_screen_reader():
    history = charts.describe(charts.history_figure({"loss": [1, .5, .3], "accuracy": [.8, .9, .95],
                                                     "val_loss": [1.1, .4, .5], "val_accuracy": [.7, .92, .9]}))
    assert "Loss, validation: 3 points, last 0.5, best 0.4 at epoch 2" in history  # lowest loss is best
    assert "Accuracy, validation: 3 points, last 0.9, best 0.92 at epoch 2" in history
    bars = charts.describe(charts.probability_bars(np.array([.1, .7, .2]), ["cat", "dog", "cow"]))
    assert "3 bars of probability; the tallest is dog at 0.7" in bars


def test_a_chart_with_one_point_is_said_in_the_singular_in_german():
    """Screen readers heard "1 Punkte" for a one-epoch run."""
    from cnn import i18n

    fig = charts.history_figure({"loss": [0.5], "accuracy": [0.9]})
    i18n.set_language("de")
    try:
        said = charts.describe(fig)
    finally:
        i18n.set_language(i18n.DEFAULT)
    assert "1 Punkt," in said and "1 Punkte" not in said, said


def luminance(rgb) -> float:
    """WCAG's relative luminance of an sRGB colour (0-255 channels)."""
    c = np.asarray(rgb, float) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def test_the_confusion_table_keeps_the_counts_and_colours_every_cell_readably():
    cm = np.array([[50, 2, 0, 7], [1, 40, 0, 0], [0, 0, 45, 3], [0, 12, 0, 38]])
    names = ["cat", "dog", "cow", "owl"]
    styled = charts.confusion_table(cm, names)
    assert styled.data.values.tolist() == cm.tolist()
    assert list(styled.data.columns) == names and list(styled.data.index) == names
    styled._compute()
    inks = []
    for (i, j), props in styled.ctx.items():
        css = dict(props)
        fill = plotly.colors.unlabel_rgb(css["background-color"])
        ink = plotly.colors.hex_to_rgb(css["color"])
        hi, lo = sorted((luminance(fill), luminance(ink)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, (cm[i, j], css)  # WCAG AA for text
        inks.append((cm[i, j], css["color"]))
    assert len(inks) == cm.size
    assert {ink for count, ink in inks if count >= 38} == {"#ffffff"}  # large counts: white on dark blue
    assert {ink for count, ink in inks if count <= 3} == {"#0e1117"}


def test_right_to_left_charts_read_from_the_right_and_images_stay_as_they_are():
    """Arabic: the first epoch and the first class on the right, Loss (the first chart) on the right, y axes on the
    right; a heat map is a picture, and its left stays its left."""
    fig = charts.history_figure({"loss": [1.0, 0.5], "accuracy": [0.6, 0.8]})
    mirrored = charts.right_to_left(fig)
    assert mirrored.layout.xaxis.autorange == "reversed" and mirrored.layout.xaxis2.autorange == "reversed"
    assert mirrored.layout.xaxis.domain[0] > mirrored.layout.xaxis2.domain[1], "Loss moved to the right"
    assert mirrored.layout.yaxis.side == "right"
    loss_title = next(a for a in mirrored.layout.annotations if a.text == "Loss")
    assert loss_title.x > 0.5
    assert fig.layout.xaxis.autorange is None, "the caller's figure is not changed"
    bars = charts.right_to_left(charts.probability_bars(np.array([0.1, 0.9]), ["0", "1"]))
    assert bars.layout.xaxis.autorange == "reversed" and list(bars.layout.yaxis.range) == [0, 1.1]
    picture = charts.heatmap(np.eye(3), "identity")
    assert charts.right_to_left(picture) is picture
