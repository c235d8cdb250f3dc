"""How much each comparison lesson's figures move between seeds, and between two runs of one seed: the Lessons
page's verdicts call a difference real only beyond this spread (cnn.lessons.SPREAD). Runs every lesson as the page
does (its data, its runs, its verdict's measure) for each seed, with the library (no browser), and prints a table
naming the CPU.

    python bench/lesson_spread.py --seeds 1 2 3 --repeat 1      # ~8 min on 2 cores
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnn import data, dataset_sources, lessons, store, training  # noqa: E402


def cpu() -> str:
    flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[1].split("\n", 1)[0]
    name = Path("/proc/cpuinfo").read_text().split("model name", 1)[1].split("\n", 1)[0].strip(": \t")
    wanted = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags.split()]
    return f"{name} ({', '.join(wanted)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--repeat", type=int, nargs="*", default=[1], help="seeds to run a second time")
    ap.add_argument("--only", nargs="*", default=[])
    args = ap.parse_args()
    base, spec = store.load_model("mnist"), store.read_meta("mnist")["spec"]
    rows = []
    for c in (lessons.DROPOUT, lessons.BATCHNORM, lessons.AUGMENTATION, lessons.TRANSFER):
        if args.only and c.key not in args.only:
            continue
        ds = data.subset(dataset_sources.load_dataset(c.dataset), c.n_train, 1000, seed=0)
        options = {"base": base, "spec": spec} if c is lessons.TRANSFER else {}
        for seed in [*args.seeds, *args.repeat]:
            t0 = time.perf_counter()
            results = [(r.label, training.train(r.config, ds, model=r.start_from() if r.start_from else None))
                       for r in c.runs(seed=seed, **options)]
            seconds = time.perf_counter() - t0
            row = {"lesson": c.key, "seed": seed, "seconds": round(seconds, 1),
                   **{k: round(v, 4) for k, v in lessons.measured(c.key, results, ds).items()}}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\nCPU: {cpu()}\n")
    print("| lesson | seed | seconds | measures |\n|---|---|---|---|")
    for r in rows:
        rest = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("lesson", "seed", "seconds"))
        print(f"| {r['lesson']} | {r['seed']} | {r['seconds']} | {rest} |")
    print("\n| lesson | measure | min | max | spread between seeds |\n|---|---|---|---|---|")
    for key in dict.fromkeys(r["lesson"] for r in rows):
        mine = [r for r in rows if r["lesson"] == key]
        for m in (k for k in mine[0] if k not in ("lesson", "seed", "seconds")):
            values = [r[m] for r in mine]
            print(f"| {key} | {m} | {min(values)} | {max(values)} | {max(values) - min(values):.4f} |")
    out = ROOT / "artifacts" / "lesson_spread.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
