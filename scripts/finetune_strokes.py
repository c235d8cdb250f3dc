"""Fine-tune the shipped digit model on MNIST with thinner and thicker copies of every digit, so drawings made with
any pen width read as well as MNIST's own (the Draw page, paper photos, stroke fonts).

    python scripts/finetune_strokes.py            # needs the full MNIST (CNN_DATA_DIR); ~12 min on 2 cores
    python scripts/finetune_strokes.py --trained model.keras   # save a model this script trained before

Each MNIST training digit is used as it is, widened by one pixel (grey dilation) and narrowed by one pixel (grey
erosion, where a digit remains), 2 epochs from the shipped model at a low learning rate, with the app's usual
augmentation; then saved over models/mnist as a shipped model (weights stored as float16).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cnn import data, dataset_sources, run_config, store, training  # noqa: E402

COMMAND = "python scripts/finetune_strokes.py"


def stroke_variety(ds: data.Dataset, seed: int = 0) -> data.Dataset:
    """The training digits as they are, one pixel wider and one pixel narrower, shuffled."""
    from scipy import ndimage

    x = ds.train_images
    wide = ndimage.grey_dilation(x, size=(1, 2, 2, 1))
    narrow = ndimage.grey_erosion(x, size=(1, 2, 2, 1))
    kept = narrow.reshape(len(x), -1).max(1) > 100  # an eroded digit that all but vanished is left out
    images = np.concatenate([x, wide, narrow[kept]])
    labels = np.concatenate([ds.y_train, ds.y_train, ds.y_train[kept]])
    order = np.random.default_rng(seed).permutation(len(images))
    return data.Dataset(ds.name, images[order], labels[order], ds.test_images, ds.y_test, ds.class_names, ds.source)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trained", help="a .keras file this script trained: save it without training again")
    args = p.parse_args()
    ds = dataset_sources.load_dataset("mnist", allow_download=False)
    if ds.is_sample:
        sys.exit("The full MNIST is needed (set CNN_DATA_DIR to the folder with mnist.npz).")
    meta = store.read_meta("mnist")
    config = run_config.TrainConfig(**{**meta["config"], "epochs": 2, "learning_rate": 0.0005,
                                     "validation_split": 0.0, "seed": 7})
    started = time.time()
    if args.trained:
        import keras

        model, history = keras.models.load_model(args.trained, safe_mode=True), {}
    else:
        result = training.train(config, stroke_variety(ds), model=store.load_model("mnist"))
        model, history = result.model, result.history
    from cnn.evaluation import evaluate

    ev = evaluate(model, ds)
    meta.update(config=config.as_dict(), test={"loss": float(ev.loss), "accuracy": float(ev.accuracy)},
                history=history or meta.get("history"), made_by=f"{meta['made_by']}; then {COMMAND}",
                created=time.strftime("%Y-%m-%d %H:%M:%S"),
                fine_tuned_seconds=None if args.trained else round(time.time() - started, 1))
    store.save_model(model, "mnist", meta, overwrite=True, half=True)
    print(f"saved models/mnist: {ev.accuracy:.2%} on the {len(ds.y_test):,} MNIST test digits")


if __name__ == "__main__":
    main()
