"""Build the small bundled samples in cnn/bundled from the full datasets in ../shared/datasets.

    python scripts/build_samples.py [SHARED_DATASETS_DIR]

MNIST: 10,000 train + 2,000 test images; Fashion-MNIST: 8,000 + 2,000 (it compresses less and
every bundled file stays under 5 MB); stratified, uint8, compressed.
CIFAR-10: 3,000 train + 600 test images kept as their original JPEG bytes (about 3 MB).
Run once; the outputs are committed so that the app works offline out of the box.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cnn.data import stratified_indices
from cnn.dataset_sources import BUNDLED_DIR


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "datasets")
    BUNDLED_DIR.mkdir(exist_ok=True)
    for name, per_class in (("mnist", 1000), ("fashion_mnist", 800)):
        with np.load(src / f"{name}.npz") as f:
            itr = stratified_indices(f["y_train"], per_class, seed=0)
            ite = stratified_indices(f["y_test"], 200, seed=0)
            np.savez_compressed(BUNDLED_DIR / f"{name}_sample.npz",
                                x_train=f["x_train"][itr], y_train=f["y_train"][itr].astype(np.uint8),
                                x_test=f["x_test"][ite], y_test=f["y_test"][ite].astype(np.uint8))
    with np.load(src / "cifar10_jpeg.npz") as f:
        out = {}
        for split, per_class in (("train", 300), ("test", 60)):
            idx = stratified_indices(f[f"y_{split}"], per_class, seed=0)
            blob, offs = f[f"{split}_jpeg"], f[f"{split}_offsets"]
            parts = [blob[offs[i]:offs[i + 1]] for i in idx]
            out[f"{split}_jpeg"] = np.concatenate(parts)
            out[f"{split}_offsets"] = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
            out[f"y_{split}"] = f[f"y_{split}"][idx].astype(np.uint8)
        np.savez(BUNDLED_DIR / "cifar10_sample.npz", **out)
    for p in sorted(BUNDLED_DIR.glob("*.npz")):
        print(f"{p.name}: {p.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
