"""ui.figures: every chart is said in words for screen readers, and its toolbar never covers its title."""
from streamlit.testing.v1 import AppTest


def test_a_charts_toolbar_runs_down_its_side_not_over_its_title():
    def app():
        import streamlit as st

        from ui import charts, figures

        figures.plot(st, charts.history_figure({"loss": [1.0, 0.5], "accuracy": [0.6, 0.8]}), key="h")

    at = AppTest.from_function(app, default_timeout=60)
    at.run()
    assert not at.exception
    chart = at.get("plotly_chart")[0]
    import json

    assert json.loads(chart.proto.spec)["layout"]["modebar"]["orientation"] == "v"


def test_arabic_pages_draw_tables_as_html_that_reads_right_to_left():
    """Streamlit's data grid is drawn on a canvas, left to right in every language: right to left, and on the
    projector, the rows are a plain table instead."""
    def app():
        import streamlit as st

        from cnn import i18n
        from ui import figures

        i18n.set_language(st.session_state.get("lang", "en"))
        figures.table(st, [{"a": 1, "b": 2}], hide_index=True)

    at = AppTest.from_function(app, default_timeout=60)
    at.run()
    assert len(at.dataframe) == 1 and len(at.table) == 0
    at.session_state["lang"] = "ar"
    at.run()
    assert len(at.table) == 1 and len(at.dataframe) == 0
