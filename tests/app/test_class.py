"""The teacher's Class page and what a student may do on a shared server, through the pages (AppTest)."""
import json
import shutil
import time

import pytest

from cnn import classroom, store

from test_pages import page

PASS = "correct horse battery"


@pytest.fixture
def teacher_server(monkeypatch, models_dir):
    monkeypatch.setenv("CNN_TEACHER_PASSWORD", PASS)
    monkeypatch.setattr(classroom, "GATE", classroom.PassphraseGate(base_wait=0.2))
    return models_dir


def others_model(models_dir, name="bobs-model", owner="bob-session", owner_name="Bob"):
    shutil.copy(models_dir / "mnist.keras", models_dir / f"{name}.keras")
    (models_dir / f"{name}.json").write_text(json.dumps({"dataset": "mnist", "input_shape": [28, 28, 1],
                                                         "owner": owner, "owner_name": owner_name,
                                                         "test": {"accuracy": 0.97}}))


def test_the_class_page_by_url_is_only_a_prompt_without_teacher_mode(teacher_server):
    others_model(teacher_server)
    at = page("pages/9_Class.py")
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input if t.key == "cls_pass"] == ["Teacher passphrase"]
    assert not [b for b in at.button if b.key and b.key.startswith(("cls_stop_", "cls_del"))]
    assert not at.get("dataframe") and not at.subheader, "no runs, no models, no leaderboard"


def attempt(at, passphrase: str) -> None:
    at.text_input(key="cls_pass").set_value(passphrase)
    next(b for b in at.button if b.label == "Enter teacher mode").click()
    at.run()


def test_wrong_empty_and_long_passphrases_are_refused_then_the_right_one_works(teacher_server, monkeypatch):
    clock = [time.time()]  # moved by the test, not slept through: a busy machine cannot make it flaky
    monkeypatch.setattr(classroom, "GATE", classroom.PassphraseGate(base_wait=1.0, clock=lambda: clock[0]))
    at = page("pages/9_Class.py")
    at.run()
    for passphrase, pause, message in (("", 0, "Type the passphrase"), ("nope", 0, "not the passphrase"),
                                       (PASS, 0.5, "Wait"),  # right, but too soon after a wrong one: not checked
                                       ("x" * 50_000, 1.1, "not the passphrase")):
        clock[0] += pause
        attempt(at, passphrase)
        assert any(message in str(e.value) for e in at.error), (passphrase[:10], [e.value for e in at.error])
        assert not at.session_state["teacher"]
    clock[0] += 1.9  # two wrong attempts: 2 s after the last one
    attempt(at, PASS)
    assert any("Wait" in str(e.value) for e in at.error), "0.1 s too soon"
    clock[0] += 0.2
    attempt(at, PASS)
    assert at.session_state["teacher"] and not at.exception
    assert [s.value for s in at.subheader] == ["Runs", "Leaderboard", "Saved models"]


def test_without_a_configured_passphrase_there_is_no_teacher_mode(models_dir, monkeypatch):
    monkeypatch.delenv("CNN_TEACHER_PASSWORD", raising=False)
    at = page("pages/9_Class.py")
    at.run()
    assert any("no teacher mode" in str(i.value) for i in at.info)
    assert not [t for t in at.text_input if t.key == "cls_pass"]


def test_a_student_cannot_delete_another_sessions_model_but_the_teacher_can(teacher_server):
    others_model(teacher_server)
    at = page("app.py")
    at.run()
    assert not [s for s in at.selectbox if s.key == "del_name"], "no delete control for others' models"
    assert any("deleted only by them or by your teacher" in str(c.value) for c in at.caption)
    with pytest.raises(store.StoreError, match="Bob's model"):
        store.delete_model("bobs-model", actor=store.Actor(at.session_state["owner"]))
    teacher = page("pages/9_Class.py")
    teacher.session_state["teacher"] = True
    teacher.run()
    teacher.selectbox(key="cls_del_name").set_value("bobs-model")
    teacher.run()
    teacher.checkbox(key="cls_del_sure_bobs-model").check()
    teacher.run()
    teacher.button(key="cls_del_go").click()
    teacher.run()
    assert not store.exists("bobs-model") and store.exists("mnist")


def test_a_student_may_replace_their_own_saved_model_only(teacher_server):
    from test_walkthrough import train_once

    others_model(teacher_server, name="fast-mnist")  # Bob already saved a model under the name the form proposes
    at = page("pages/2_Train.py")
    at.run()
    train_once(at, tr_epochs=1)
    at.checkbox(key="tr_replace").check()
    next(b for b in at.button if b.label == "Save model").click()
    at.run()
    assert any("Bob's model: you can replace only models you saved" in str(e.value) for e in at.error)
    assert store.read_meta("fast-mnist")["owner"] == "bob-session"
    at.text_input[0].set_value("mine")
    next(b for b in at.button if b.label == "Save model").click()
    at.run()
    assert store.read_meta("mine")["owner"] == at.session_state["owner"]


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "**big** [x](http://evil)", "x" * 10_000])
def test_display_names_with_markup_or_huge_are_refused_with_a_message(models_dir, name):
    at = page("app.py")
    at.run()
    at.text_input(key="name_input").set_value(name)
    at.run()
    kept = at.session_state["display_name"]
    assert not set(kept) & set("<>*[]()/:") and len(kept) <= classroom.MAX_NAME  # never the markup itself
    assert any("letters, digits" in str(e.value) or "characters long" in str(e.value) for e in at.error)
    assert any(f"saved as “{kept}”" in str(e.value) for e in at.error)  # and it says what it kept


def test_names_and_forged_owners_show_as_text_on_the_class_page(teacher_server):
    others_model(teacher_server, name="forged", owner=12345, owner_name="<img src=x onerror=alert(1)>**b**")
    at = page("pages/9_Class.py")
    at.session_state["teacher"] = True
    at.run()
    assert not at.exception
    shown = [m for m in at.markdown if "onerror" in str(m.value)]
    assert all(m.proto.allow_html is False for m in shown)
    with pytest.raises(store.StoreError):
        store.delete_model("forged", actor=store.Actor("12345"))


def test_a_challenge_title_with_markup_is_kept_and_shown_as_text(teacher_server):
    """Item 16 of the walkthrough: "<b>under</b>" was silently turned into "bunderb"."""
    at = page("pages/9_Class.py")
    at.session_state["teacher"] = True
    at.run()
    form_title = next(t for t in at.text_input if t.label == "Title (optional)")
    form_title.set_value("<b>under</b> 3 **epochs**")
    next(b for b in at.button if b.label == "Set the challenge").click()
    at.run()
    assert classroom.load_challenge().title == "<b>under</b> 3 **epochs**"
    board = page("pages/8_Leaderboard.py")
    board.run()
    shown = [str(m.value) for m in board.markdown if "under" in str(m.value)]
    assert shown and r"\<b\>under\</b\> 3 \*\*epochs\*\*" in shown[0]  # escaped: rendered as the text typed


def test_the_class_page_tells_runs_stopped_by_the_teacher_from_closed_tabs(teacher_server):
    """Item 14 of the walkthrough: every stopped run showed as "done"; why was in the last column, off-screen."""
    from cnn.jobs import records
    from ui import teacher

    def rec(status, reason, state="done", message=""):
        return records.RunRecord("i", "l", "o", "Ana", "train", "mnist", "fast", 1, state, message, reason, "w", "s",
                                 0.0, 0.0, 1.0, 1.0, result={"status": status})

    assert teacher.how_it_stands(rec("stopped", "teacher")) == "stopped by you"
    assert teacher.how_it_stands(rec("stopped", "abandoned")) == "stopped (tab closed)"
    assert teacher.how_it_stands(rec("stopped", "user")) == "stopped by student"
    assert teacher.how_it_stands(rec("finished", None)) == "finished"
    assert teacher.how_it_stands(rec("", "restart", state="error")) == "interrupted (server restart)"
    row = teacher._row(rec("stopped", "teacher", message="Stopped by your teacher at epoch 1, batch 3."))
    assert list(row)[:4] == ["student", "run", "state", "how it ended"]  # why it ended is on screen


def test_a_refused_name_is_kept_in_its_usable_form_so_the_teacher_never_sees_no_name(teacher_server):
    """Item 15 of the walkthrough: "<b>Zed</b>" was refused, then Zed trained as "(no name)"."""
    at = page("app.py")
    at.run()
    next(t for t in at.sidebar.text_input if t.label == "Your name").set_value("<b>Zed</b>")
    at.run()
    assert at.session_state["display_name"] == "b Zed b"
    assert any("saved as “b Zed b”" in str(e.value) for e in at.sidebar.error)
    assert classroom.usable_name("<<>>") == "" and classroom.usable_name("Ana") == "Ana"
