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
