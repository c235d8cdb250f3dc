"""Widget callbacks speak the page's language: a callback runs before the page's setup, on a thread that speaks
English, so every one is given as ``in_language(f)`` (ui/state.py)."""
import ast
import contextlib

import numpy as np
import pytest

from cnn import i18n, store, userdata

from conftest import ROOT
from test_pages import page

CALLBACKS = ("on_change", "on_click", "on_submit")


def _sources():
    return [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]


def test_every_widget_callback_speaks_the_pages_language():
    unwrapped = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            for kw in getattr(node, "keywords", []) if isinstance(node, ast.Call) else []:
                if kw.arg not in CALLBACKS:
                    continue
                value = kw.value
                wrapped = isinstance(value, ast.Call) and getattr(value.func, "id", "") == "in_language"
                passed_on = isinstance(value, ast.Name) and value.id in CALLBACKS  # a helper's own parameter
                named = isinstance(value, ast.Constant) and value.value in (None, "ignore", "rerun")  # no callback
                if not (wrapped or passed_on or named):
                    unwrapped.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unwrapped == []


@contextlib.contextmanager
def in_german():
    """AppTest formats a picked option in the test's thread: German there too, as on the German page."""
    i18n.set_language("de")
    try:
        yield
    finally:
        i18n.set_language(i18n.DEFAULT)


def german(path: str):
    at = page(path)
    at.run()
    at.selectbox(key="language").set_value("de")
    at.run()
    return at


@pytest.mark.parametrize("typed", ["<b>Ana</b>", "x" * 300])
def test_a_german_students_bad_name_is_answered_in_german(models_dir, typed):
    at = german("app.py")
    at.text_input(key="name_input").set_value(typed)
    at.run()
    said = " ".join(str(e.value) for e in at.error)
    assert "gespeichert" in said, said  # "Dein Name ist als „…“ gespeichert"
    assert ("Verwende in deinem Namen nur Buchstaben" in said) or ("Zeichen" in said), said
    assert "saved as" not in said and "Use letters" not in said


def test_a_german_students_my_data_remove_is_answered_in_german(models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_USER_DATA_DIR", str(tmp_path / "user"))
    at = german("pages/7_My_data.py")
    owner = store.Actor(at.session_state["owner"])
    userdata.create("formen", ["kreis", "quadrat"], (28, 28, 1), owner=owner.owner)
    userdata.add_images("formen", "kreis", [np.zeros((28, 28, 1), np.uint8)], actor=owner)
    with in_german():
        at.run()  # the picker lists it now
        at.selectbox(key="md_dataset").set_value("formen")
        at.run()
        example = userdata.examples("formen", "kreis")[0][0]
        userdata.delete("formen", actor=owner)  # another tab of hers deleted it meanwhile
        at.button(key=f"md_rm_{example}").click()
        at.run()
    said = " ".join(str(e.value) for e in at.error)
    assert not at.exception and "Kein Datensatz namens 'formen'" in said, said
