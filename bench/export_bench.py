"""Exports side by side: file size and single-image latency of Keras, LiteRT float32, LiteRT int8 and ONNX.

    python bench/export_bench.py [--model mnist] [--repeats 500]

Each file is checked against Keras on 2,000 test images first (as the app does), then timed one image at
a time (its runtime loaded once), in one run on this machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cnn import dataset_sources, export, store  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from jobs_bench import cpu_name  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mnist")
    p.add_argument("--repeats", type=int, default=500)
    args = p.parse_args()
    model = store.load_model(args.model)
    ds = dataset_sources.load_dataset(store.read_meta(args.model)["dataset"])
    x, y = ds.x_test[:2000], ds.y_test[:2000]
    rows = [("Keras (.keras, predict_on_batch)", (store.models_dir() / f"{args.model}.keras").stat().st_size,
             export.keras_latency_ms(model, x, args.repeats), "—")]
    for fmt in export.FORMATS:
        done = export.export_checked(model, fmt, x, y, calibration=ds.x_train[:200])
        rows.append((export.FORMATS[fmt], done.size, export.latency_ms(fmt, done.data, x, args.repeats),
                     f"{done.check.agree:,}/{done.check.n:,} agree, max diff {done.check.max_diff:.1g}, "
                     f"accuracy {done.check.accuracy:.2%}"))
    print(f"\nExports of '{args.model}' · {cpu_name()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d')} · "
          f"test images: {ds.source}\n")
    print(f"| format | file size | one image (median of {args.repeats}) | check against Keras |")
    print("|---|---|---|---|")
    for name, size, ms, check in rows:
        print(f"| {name} | {size / 1024:,.0f} KB | {ms:.2f} ms | {check} |")


if __name__ == "__main__":
    main()
