"""Your own data, measured: a 3-class shapes dataset of 30 drawings per class, trained with and without
transfer from the shipped digit model, tested on new drawings; and the time from Train to a usable model.

    python bench/mydata_bench.py [--per-class 30] [--test-per-class 30] [--seeds 3]

The drawings are hand-drawn-like circles, squares and triangles (tests/drawn_digits.py shapes_set): varied
size, place, slant, rotation, aspect, brush width and wobble, as the canvas sends them (RGBA). They go
through the My data page's own path (cnn.userdata.prepare, the Draw page's ink extraction), train with
the Train page's defaults for a small dataset, through the app's job engine (a worker process).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from cnn import data, dataset_sources, keras_files, transfer, userdata  # noqa: E402
from cnn.jobs import JobRequest  # noqa: E402
from cnn.jobs.local import LocalEngine  # noqa: E402
from cnn.predict import predict_proba  # noqa: E402

from drawn_digits import SHAPE_STROKES, shapes_set  # noqa: E402


def make_dataset(per_class: int, seed: int) -> data.Dataset:
    images, labels = shapes_set(per_class, seed)
    name = f"shapes{seed}"
    userdata.create(name, list(SHAPE_STROKES), (28, 28, 1))
    for k, kind in enumerate(SHAPE_STROKES):
        userdata.add_images(name, kind, [userdata.prepare(im, (28, 28, 1)) for im, y in zip(images, labels,
                                                                                             strict=True) if y == k])
    return dataset_sources.load_dataset(data.user_key(name))


def run(engine: LocalEngine, ds: data.Dataset, from_digits: bool) -> tuple[object, float, float]:
    """(model, seconds from submit to the model back, training seconds) as the Train page runs it."""
    config = transfer.recipe(ds.name, len(ds.train_images), "mnist" if from_digits else None, "fast")
    initial = keras_files.model_to_bytes(transfer.starting_model("mnist", 3, (28, 28, 1), seed=config.seed)) \
        if from_digits else None
    t0 = time.perf_counter()
    job = engine.submit(JobRequest(config, ds, initial_model=initial))
    while not job.wait(0.5):
        job.touch()
    if job.state != "done":
        raise RuntimeError(job.message)
    return job.result.model, time.perf_counter() - t0, job.result.seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-class", type=int, default=30)
    p.add_argument("--test-per-class", type=int, default=30)
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args()
    os.environ["CNN_USER_DATA_DIR"] = tempfile.mkdtemp(prefix="cnnlab-mydata-")
    engine = LocalEngine(limit=1)
    held_out, y_new = shapes_set(args.test_per_class, seed=999)  # new drawings, never seen
    x_new = np.stack([userdata.prepare(im, (28, 28, 1)) for im in held_out]).astype(np.float32) / 255
    rows = {False: [], True: []}
    for seed in range(1, args.seeds + 1):
        ds = make_dataset(args.per_class, seed)
        for from_digits in (False, True):
            model, wall, fit = run(engine, ds, from_digits)
            acc = float(np.mean(predict_proba(model, x_new).argmax(1) == y_new))
            rows[from_digits].append((acc, wall, fit))
            print(f"   seed {seed} {'transfer ' if from_digits else 'scratch  '}: new drawings {acc:.1%}, "
                  f"Train → model {wall:.1f} s (training {fit:.1f} s)", flush=True)
    engine.shutdown()
    n = len(SHAPE_STROKES) * args.per_class
    print(f"\n{n} drawings ({args.per_class} per class), tested on {len(y_new)} new ones · {args.seeds} datasets · "
          f"{os.cpu_count()} cores · {time.strftime('%Y-%m-%d')}\n")
    print("| start | accuracy on new drawings (median, min–max) | Train pressed → model back (median) |")
    print("|---|---|---|")
    for from_digits, label in ((False, "fast preset from scratch"), (True, "shipped digit model, fine-tuned")):
        accs, walls = [r[0] for r in rows[from_digits]], [r[1] for r in rows[from_digits]]
        print(f"| {label} | {statistics.median(accs):.1%} ({min(accs):.1%}–{max(accs):.1%}) | "
              f"{statistics.median(walls):.1f} s |")


if __name__ == "__main__":
    main()
