"""Seconds per training step of each preset with TensorFlow's oneDNN kernels off and on (one process each).

    python bench/onednn_bench.py [--presets fast,lenet,...] [--steps 8]

TensorFlow turns oneDNN on by itself only on CPUs with AVX-512 VNNI/BF16 or AMX; cnn/__init__.py turns it on
everywhere else. This prints what that is worth on this machine: each preset's model, compiled with its own
recipe, trained on random images of its dataset's shape at its own batch size (best of 3 x ``steps`` steps),
in float32, the two settings alternating so machine noise hits both alike.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def step_seconds(name: str, steps: int) -> float:
    """Best-of-3 seconds per training step of preset ``name`` in this process."""
    import keras
    import numpy as np

    from cnn import architectures, optimizers, precision, run_config

    dataset = "cifar10" if name.startswith("cifar") else "mnist"
    shape = (32, 32, 3) if dataset == "cifar10" else (28, 28, 1)
    config = run_config.default_config(name, dataset, precision="float32")
    model = architectures.build_model(config.resolved_spec(), shape, 10)
    optimizers.compile_model(model, config, 1000)
    rng = np.random.default_rng(0)
    x = rng.random((config.batch_size, *shape), dtype=np.float32)
    return precision.step_seconds(model, x, keras.utils.to_categorical(rng.integers(0, 10, config.batch_size), 10),
                                  steps)

def main() -> None:
    from cnn import precision, presets

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default=",".join(presets.PRESETS))
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(step_seconds(args.child, args.steps))
        return
    names = args.presets.split(",")
    if unknown := set(names) - set(presets.PRESETS):
        p.error(f"--presets: {', '.join(sorted(unknown))} is not one of {', '.join(presets.PRESETS)}")
    print(f"oneDNN off and on · {precision.cpu_name()} ({precision.cpu_vector_isa() or 'vector instructions unknown'})"
          f" · {os.cpu_count()} cores · float32 · {time.strftime('%Y-%m-%d')}\n")
    print("| preset (batch) | oneDNN off | oneDNN on | speed-up |\n|---|---|---|---|")
    from cnn import run_config

    for name in names:
        seconds = {}
        for setting in ("0", "1"):
            env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting}
            out = subprocess.run([sys.executable, __file__, "--child", name, "--steps", str(args.steps)], env=env,
                                 capture_output=True, text=True, cwd=ROOT, timeout=1800)
            if out.returncode != 0:
                sys.exit(f"{name} with TF_ENABLE_ONEDNN_OPTS={setting} failed: {out.stderr.strip()[-500:]}")
            seconds[setting] = float(out.stdout.split()[-1])
        batch = run_config.default_config(name).batch_size
        print(f"| {name} ({batch}) | {seconds['0'] * 1000:,.0f} ms | {seconds['1'] * 1000:,.0f} ms | "
              f"{seconds['0'] / seconds['1']:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
