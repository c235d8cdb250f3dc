"""A class in one file: export and import keep everything (SQLite -> PostgreSQL -> SQLite); a corrupt or hostile
archive is refused with one line and changes nothing."""
from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pytest

from cnn import architectures as arch
from cnn import classfile, classroom, db, identity, store, userdata
from cnn.jobs import records

COMPARED = {"identities": "id", "runs": "id", "models": "name", "datasets": "name", "challenge": "id"}


def use(monkeypatch, tmp_path, url: str, tag: str) -> db.Database:
    """Point this process at a class database and folders of its own, as a fresh server would be."""
    monkeypatch.setenv("CNN_DATABASE_URL", url)
    monkeypatch.setenv("CNN_MODELS_DIR", str(tmp_path / f"models-{tag}"))
    monkeypatch.setenv("CNN_USER_DATA_DIR", str(tmp_path / f"user-{tag}"))
    db.forget_shared()
    return db.database()


def make_class(database: db.Database) -> None:
    """A small class: a named student who picked German, her run, her model, her dataset, the challenge."""
    ana, _ = identity.create(database)
    identity.set_name(database, ana.id, "Ana")
    identity.set_language(database, ana.id, "de")
    database.execute("INSERT INTO runs (id, label, owner, owner_name, dataset, arch, epochs, state, submitted, "
                     "updated, history, result) VALUES ('r1', 'fast-mnist-1', ?, 'Ana', 'mnist', 'fast', 2, 'done', "
                     "1.5, 2.5, ?, ?)", (ana.id, json.dumps({"loss": [0.5, 0.25]}),
                                         json.dumps({"test_accuracy": 0.97})))
    model = arch.build_model(arch.preset("lenet"), (28, 28, 1))
    store.save_model(model, "ana-lenet", {"dataset": "mnist", "owner": ana.id, "owner_name": "Ana",
                                          "batch_history": [{"epoch": 0.5, "loss": 1.0}]})
    userdata.create("shapes", ["circle", "square"], (28, 28, 1), ana.id, "Ana")
    rng = np.random.default_rng(0)
    for c in ("circle", "square"):
        userdata.add_images("shapes", c, [rng.integers(0, 255, (28, 28, 1), dtype=np.uint8) for _ in range(3)])
    classroom.save_challenge(classroom.Challenge("mnist", 5, 0, "Best digits"), database)


def snapshot(database: db.Database) -> dict:
    """Everything a class is, comparable across databases."""
    out = {t: sorted(json.dumps(r, sort_keys=True, default=str) for r in database.query(f"SELECT * FROM {t}"))
           for t in COMPARED}
    out["model files"] = sorted(hashlib.sha256(bytes(r["data"])).hexdigest() for r in
                                database.query("SELECT data FROM blobs"))
    out["examples"] = {ds.name: {c: [(i, a.tobytes().hex()) for i, a in userdata.examples(ds.name, c)]
                                 for c in ds.classes} for ds in userdata.list_datasets()}
    return out


def test_export_then_import_keeps_the_whole_class_sqlite_postgresql_sqlite(tmp_path, monkeypatch, postgres_url):
    from postgres import fresh_database

    first = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'a.db'}", "a")
    make_class(first)
    before = snapshot(first)
    counts = classfile.export(tmp_path / "class.zip")
    assert counts["identities"] == 1 and counts["runs"] == 1 and counts["models"] == 1 and counts["files"] == 1
    assert counts["datasets"] == 1 and counts["dataset_examples"] == 6

    on_pg = use(monkeypatch, tmp_path, fresh_database(postgres_url), "b")
    classfile.import_(tmp_path / "class.zip")
    assert snapshot(on_pg) == before
    assert store.read_meta("ana-lenet")["batch_history"] == [{"epoch": 0.5, "loss": 1.0}]
    classfile.export(tmp_path / "again.zip")

    back = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'c.db'}", "c")
    classfile.import_(tmp_path / "again.zip")
    assert snapshot(back) == before
    ana = back.query("SELECT id FROM identities")[0]["id"]
    assert [r.label for r in records.runs_of(back, ana)] == ["fast-mnist-1"]
    assert store.load_model("ana-lenet") is not None  # its file came along: no shared folder needed
    assert classroom.load_challenge(back).title == "Best digits"
    assert classfile.import_(tmp_path / "again.zip")["runs"] == 0  # the same class again: nothing new, no error


def rewrite(src, dst, change) -> None:
    """A copy of a class archive with ``change(entries)`` applied to its {name: bytes}."""
    with zipfile.ZipFile(src) as z:
        entries = {i.filename: z.read(i.filename) for i in z.infolist()}
    change(entries)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def lambda_model_bytes(tmp_path) -> bytes:
    import keras

    inputs = keras.Input((28, 28, 1))
    out = keras.layers.Lambda(lambda t: t * 2, name="code")(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Flatten()(out)).save(path)
    return path.read_bytes()


def _swap_model_file(entries, data):
    old = next(n for n in entries if n.startswith("blobs/"))
    sha = hashlib.sha256(data).hexdigest()
    entries[f"blobs/{sha}"] = data
    del entries[old]
    rows = entries["tables/models.jsonl"].decode().replace(old[len("blobs/"):], sha)
    entries["tables/models.jsonl"] = rows.encode()


HOSTILE = {
    "a path out of its place": (lambda e, _: e.__setitem__("../../etc/cron.d/x", b"boom"), "which no class archive"),
    "an altered model file": (lambda e, _: e.__setitem__(next(n for n in e if n.startswith("blobs/")), b"x" * 99),
                              "does not match its SHA-256"),
    "a model file that carries code": (lambda e, tmp: _swap_model_file(e, lambda_model_bytes(tmp)), "Lambda"),
    "an unknown column": (lambda e, _: e.__setitem__("tables/runs.jsonl", b'{"id": "x", "evil": 1}\n'),
                          "unknown column 'evil'"),
    "a nested value": (lambda e, _: e.__setitem__("tables/identities.jsonl", b'{"id": {"$ne": 1}}\n'), "holds a dict"),
    "another format": (lambda e, _: e.__setitem__("class.json", b'{"format": "cnnlab-class", "version": 99}'),
                       "format 99"),
    "no class.json": (lambda e, _: e.pop("class.json"), "not a CNN Lab class archive"),
    "a zip bomb": (lambda e, _: e.__setitem__("tables/runs.jsonl", b" " * (64 * 2**20)), "zip bomb"),
    "an example that is no image": (lambda e, _: e.__setitem__("tables/dataset_examples.jsonl", json.dumps(
        {"dataset": "shapes", "id": "0123456789abcdef", "class_name": "circle", "png": "aGVsbG8=", "added": 1.0})
        .encode()), "an example of dataset 'shapes' refused"),
    "a missing model file": (lambda e, _: e.pop(next(n for n in e if n.startswith("blobs/"))), "missing"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_or_corrupt_archive_is_refused_in_one_line_and_changes_nothing(tmp_path, monkeypatch, case):
    source = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'a.db'}", "a")
    make_class(source)
    classfile.export(tmp_path / "class.zip")
    change, message = HOSTILE[case]
    rewrite(tmp_path / "class.zip", tmp_path / "bad.zip", lambda entries: change(entries, tmp_path))
    target = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'b.db'}", "b")
    before = snapshot(target)
    with pytest.raises(classfile.ClassFileError, match=message) as e:
        classfile.import_(tmp_path / "bad.zip")
    assert "\n" not in str(e.value)
    assert snapshot(target) == before
    assert not (tmp_path / "etc").exists()


def test_random_bytes_and_a_conflicting_class_are_refused(tmp_path, monkeypatch):
    target = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'a.db'}", "a")
    (tmp_path / "noise.zip").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(classfile.ClassFileError, match=r"not a readable \.zip"):
        classfile.import_(tmp_path / "noise.zip")
    make_class(target)
    classfile.export(tmp_path / "class.zip")
    other = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'b.db'}", "b")
    other.execute("INSERT INTO challenge (id, dataset, max_epochs, max_params, title) VALUES (1, 'cifar10', 1, 1, 'x')")
    before = snapshot(other)
    with pytest.raises(classfile.ClassFileError, match="already has another challenge"):
        classfile.import_(tmp_path / "class.zip")
    assert snapshot(other) == before


def test_the_command_line_exports_and_imports_a_class(tmp_path, monkeypatch, capsys):
    from cnn import cli

    source = use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'a.db'}", "a")
    make_class(source)
    assert cli.main(["class", "export", str(tmp_path / "class.zip")]) == 0
    assert "1 models" in capsys.readouterr().out
    use(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'b.db'}", "b")
    assert cli.main(["class", "import", str(tmp_path / "class.zip")]) == 0
    assert cli.main(["class", "import", str(tmp_path / "nothing.zip")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read") and err.count("\n") == 1
