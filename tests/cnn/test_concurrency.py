"""Eight processes at once change what a class shares: classes of one dataset, saves and overwrites of one model."""
from __future__ import annotations

import multiprocessing as mp
import os
import traceback

import numpy as np
import pytest

pytestmark = pytest.mark.heavy

WRITERS = 8
ROUNDS = 3


def _writer(i: int, barrier, errors) -> None:
    try:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras

        from cnn import store, userdata

        inputs = keras.Input((4,), name="x")
        model = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
        actor = store.Actor(owner="class-owner")
        barrier.wait(120)  # every process starts writing at the same moment
        userdata.add_class("shared", f"class {i}", actor=actor)
        for k in range(ROUNDS):
            marker = float(i * 100 + k)
            model.get_layer("out").bias.assign([marker])
            store.save_model(model, "contested", {"marker": marker, "owner": "class-owner"}, overwrite=True,
                             actor=actor)
        store.save_model(model, f"own-{i}", {"marker": marker, "owner": "class-owner"})
    except BaseException:
        errors.put(f"writer {i}: {traceback.format_exc()}")


def test_eight_processes_add_classes_and_overwrite_models_losing_nothing(models_dir):
    from cnn import db, index, store, userdata

    userdata.create("shared", ["first", "second"], (28, 28, 1), owner="class-owner", owner_name="Teacher")
    ctx = mp.get_context("spawn")
    barrier, errors = ctx.Barrier(WRITERS), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(i, barrier, errors)) for i in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    assert all(p.exitcode == 0 for p in procs)

    classes = userdata.get("shared").classes
    assert sorted(classes) == sorted(["first", "second", *(f"class {i}" for i in range(WRITERS))])  # none lost
    names = {e.name for e in store.list_models()}
    assert {"contested", *(f"own-{i}" for i in range(WRITERS))} <= names
    for name in ["contested", *(f"own-{i}" for i in range(WRITERS))]:
        meta = store.read_meta(name)
        bias = store.load_model(name).get_layer("out").get_weights()[1]
        np.testing.assert_array_equal(bias, [meta["marker"]])  # the .keras file and its metadata are one pair
    assert not [f for f in os.listdir(models_dir) if f.startswith(".tmp-")]  # no temporary file left
    indexed = {r["name"] for r in db.database().query("SELECT name FROM models WHERE deleted IS NULL")}
    assert {"contested", "own-0"} <= indexed
    assert index.model_status("contested")["owner"] == "class-owner"
    rows = db.database().query("SELECT classes FROM datasets WHERE name = 'shared'")
    assert len(db.loads(rows[0]["classes"])) == WRITERS + 2
