"""cnn.classroom and the ownership rules of cnn.store: names, the teacher's passphrase, challenge, leaderboard."""

import pytest

from cnn import architectures, classroom, store


@pytest.mark.parametrize("raw,clean", [("Ada", "Ada"), ("  Zoë   Ng ", "Zoë Ng"), ("O'Neil-2", "O'Neil-2"),
                                       ("", ""), ("李雷", "李雷")])
def test_display_names_are_cleaned(raw, clean):
    assert classroom.validate_display_name(raw) == clean


@pytest.mark.parametrize("raw,message", [
    ("<script>alert(1)</script>", "letters, digits"), ("**bold** [link](http://x)", "letters, digits"),
    ("<b>Ada</b>", "letters, digits"), ("x" * 10_000, "10,000 characters long"), ("Ada\u0000", "letters"),
    ("Ada\u202e", "letters"),  # a right-to-left override: a control character
])
def test_markup_and_huge_names_are_refused(raw, message):
    with pytest.raises(classroom.ClassroomError, match=message):
        classroom.validate_display_name(raw)


def _earlier(database, seconds: float) -> None:
    """Move every recorded wrong attempt ``seconds`` into the past (instead of sleeping that long)."""
    database.execute("UPDATE attempts SET at = at - ?", (seconds,))


def test_passphrase_gate_waits_longer_after_each_wrong_attempt(database):
    gate = classroom.PassphraseGate(base_wait=30, max_wait=100, class_free=100)
    assert not gate.check(database, "wrong", "secret", "s1")
    with pytest.raises(classroom.ClassroomError, match=r"Wait \d+ s"):
        gate.check(database, "secret", "secret", "s1")  # too soon: not even checked
    assert 25 < gate.wait_left(database, "s1") <= 30
    _earlier(database, 31)
    assert gate.wait_left(database, "s1") == 0
    assert not gate.check(database, "wrong again", "secret", "s1")
    assert 55 < gate.wait_left(database, "s1") <= 60  # doubled
    assert gate.check(database, "secret", "secret", "s2")  # another identity is not held back by s1's mistakes
    with pytest.raises(classroom.ClassroomError, match="Type the passphrase"):
        gate.check(database, "", "secret", "s3")
    assert not gate.check(database, "x" * 100_000, "secret", "s4")  # huge: refused, counted, no crash
    with pytest.raises(classroom.ClassroomError, match="no teacher mode"):
        gate.check(database, "anything", "", "s5")


def test_the_wait_is_rounded_up_never_wait_0_s(database):
    gate = classroom.PassphraseGate(base_wait=10, class_free=100)
    assert not gate.check(database, "wrong", "secret", "s1")
    _earlier(database, 9.05)  # 0.95 s left
    with pytest.raises(classroom.ClassroomError, match="Wait 1 s"):
        gate.check(database, "secret", "secret", "s1")


def test_many_wrong_attempts_anywhere_slow_everyone_down(database):
    gate = classroom.PassphraseGate(base_wait=30, class_free=3)
    for who in ("a", "b", "c"):  # new identities ("Start fresh") do not get fresh chances
        assert not gate.check(database, "guess", "secret", who)
    assert gate.wait_left(database, "d") > 0


def test_wrong_attempts_count_on_every_server_of_the_class(database):
    """The limit is the database's: a second server (its own gate, its own connection) sees the first's attempts."""
    from cnn import db

    other_server = db.Database(database.url)
    try:
        assert not classroom.PassphraseGate(base_wait=30).check(database, "guess", "secret", "ana")
        with pytest.raises(classroom.ClassroomError, match="Wait"):
            classroom.PassphraseGate(base_wait=30).check(other_server, "secret", "secret", "ana")
    finally:
        other_server.close()


def test_configured_passphrase_from_environment_or_secrets(monkeypatch):
    monkeypatch.delenv("CNN_TEACHER_PASSWORD", raising=False)
    assert classroom.configured_passphrase(None) == ""
    assert classroom.configured_passphrase({"teacher_password": "from-secrets"}) == "from-secrets"
    monkeypatch.setenv("CNN_TEACHER_PASSWORD", "from-env")
    assert classroom.configured_passphrase({"teacher_password": "from-secrets"}) == "from-env"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_MODELS_DIR", str(tmp_path))
    return tmp_path


def save(name, owner, acc, dataset="mnist", epochs=2, params=None, **extra):
    model = architectures.build_model(architectures.preset("lenet"), (28, 28, 1))
    meta = {"dataset": dataset, "input_shape": [28, 28, 1], "test": {"accuracy": acc}, "owner": owner,
            "owner_name": owner.title(), "history": {"loss": [1.0] * epochs},
            "params": params if params is not None else model.count_params(), **extra}
    return store.save_model(model, name, meta)


def test_only_the_owner_or_the_teacher_may_replace_or_delete(folder):
    save("ada-model", "ada", 0.9)
    ada, bob, teacher = store.Actor("ada"), store.Actor("bob"), store.Actor(teacher=True)
    model = architectures.build_model(architectures.preset("lenet"), (28, 28, 1))
    with pytest.raises(store.StoreError, match="Ada's model: you can replace only models you saved"):
        store.save_model(model, "ada-model", {"owner": "bob"}, overwrite=True, actor=bob)
    store.save_model(model, "ada-model", {"owner": "ada", "test": {"accuracy": 0.95}}, overwrite=True, actor=ada)
    with pytest.raises(store.StoreError, match="you can delete only models you saved"):
        store.delete_model("ada-model", actor=bob)
    assert store.exists("ada-model")
    store.delete_model("ada-model", actor=teacher)
    assert not store.exists("ada-model")


def test_a_forged_or_missing_owner_gives_no_one_a_students_rights(folder):
    save("orphan", "", 0.5)  # saved by the command line: no owner
    (folder / "orphan.json").write_text('{"owner": 12345, "owner_name": "<b>x</b>", "dataset": "mnist"}')
    for actor in (store.Actor(""), store.Actor("12345"), store.Actor("bob")):
        with pytest.raises(store.StoreError):
            store.delete_model("orphan", actor=actor)
    store.delete_model("orphan", actor=store.Actor(teacher=True))


def test_shipped_models_cannot_be_replaced_or_deleted_even_by_the_teacher(folder):
    save("mnist", "", 0.99, shipped=True)
    teacher = store.Actor(teacher=True)
    model = architectures.build_model(architectures.preset("lenet"), (28, 28, 1))
    with pytest.raises(store.StoreError, match="ships with CNN Lab"):
        store.save_model(model, "mnist", {}, overwrite=True, actor=teacher)
    with pytest.raises(store.StoreError, match="ships with CNN Lab"):
        store.delete_model("mnist", actor=teacher)


def test_leaderboard_ranks_by_accuracy_and_marks_the_challenge(folder):
    save("a", "ada", 0.91, dataset="cifar10", epochs=3, params=100_000)
    save("b", "bob", 0.95, dataset="cifar10", epochs=10, params=100_000)  # best, but over the epoch limit
    save("c", "cy", 0.80, dataset="cifar10", epochs=2, params=900_000)  # over the parameter limit
    save("d", "dee", 0.99, dataset="mnist")
    plain = classroom.leaderboard("cifar10")
    assert [s.name for s in plain] == ["b", "a", "c"] and [s.rank for s in plain] == [1, 2, 3]
    challenge = classroom.Challenge("cifar10", max_epochs=3, max_params=500_000)
    ranked = classroom.leaderboard("cifar10", challenge)
    assert [(s.name, bool(s.problems)) for s in ranked] == [("a", False), ("b", True), ("c", True)]
    assert ranked[1].problems == ("10 epochs > 3",) and "900,000 parameters > 500,000" in ranked[2].problems[0]
    assert ranked[0].student == "Ada"


def test_challenge_is_saved_cleaned_and_cleared(folder):
    assert classroom.load_challenge() is None
    classroom.save_challenge(classroom.Challenge("cifar10", 3, 250_000, classroom.clean_title("Best **3** epochs!")))
    c = classroom.load_challenge()
    assert c == classroom.Challenge("cifar10", 3, 250_000, "Best **3** epochs!")  # as typed; shown as text
    with pytest.raises(classroom.ClassroomError, match="Unknown dataset"):
        classroom.save_challenge(classroom.Challenge("imagenet"))
    classroom.save_challenge(None)
    assert classroom.load_challenge() is None
    assert [e.name for e in store.list_models()] == []


def test_the_challenge_file_of_before_the_database_is_imported_once(folder):
    (folder / ".challenge.json").write_text('{"dataset": "mnist", "max_epochs": 2, "title": "<b>old</b>"}')
    assert classroom.load_challenge() == classroom.Challenge("mnist", 2, 0, "<b>old</b>")
    assert not (folder / ".challenge.json").exists()
    (folder / ".challenge.json").write_text("{broken")
    assert classroom.load_challenge() == classroom.Challenge("mnist", 2, 0, "<b>old</b>")  # a damaged file: ignored
