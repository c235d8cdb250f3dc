"""Which number format training computes in on this machine, chosen by measuring it.

bfloat16 halves the work on CPUs with AMX (Intel Xeon since Sapphire Rapids) but helps far less,
or not at all, on CPUs with only AVX-512 BF16 (AMD EPYC). A CPU flag alone cannot tell these apart,
so the first "auto" run on a machine times a few training steps of a small CNN in both formats
and keeps the faster; the answer is cached per CPU, core count and TensorFlow version.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from cnn import settings

BF16_MIN_SPEEDUP = 1.15  # bfloat16 must be this much faster to be worth its rounding


@functools.cache
def _cpuinfo() -> str:
    """/proc/cpuinfo, read once per process ("" where there is none): the Train page asks on every rerun."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_name() -> str:
    """The CPU's model name ("Intel(R) Xeon(R) Processor"), or the platform's guess."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_bf16_flags() -> list[str]:
    """The bfloat16 instruction sets this CPU reports (["amx_bf16", "avx512_bf16"], [] when none)."""
    flags = set(_cpuinfo().split())
    return [f for f in ("amx_bf16", "avx512_bf16") if f in flags]


def cpu_vector_isa() -> str:
    """The widest vector instructions this CPU reports ("AMX", "AVX-512", "AVX2", "AVX"; "" when none or unknown):
    benchmarks name it, since TensorFlow's speed and its own choices (oneDNN on or off) follow it."""
    flags = set(_cpuinfo().split())
    return next((name for flag, name in (("amx_tile", "AMX"), ("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"))
                 if flag in flags), "")


def cache_path() -> Path:
    """Where measurements are kept (``CNN_CACHE_DIR``, else ~/.cache/cnn-lab)."""
    return settings.value("CNN_CACHE_DIR") / "precision.json"


def isa_cap() -> str:
    """The instruction-set limit set for oneDNN (``ONEDNN_MAX_CPU_ISA``, e.g. "AVX512_CORE_BF16": no AMX), or ""."""
    return os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()


def _machine_key() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:  # TensorFlow's version without importing it (a page's thread must not race the warm-up's import)
        tf_version = version("tensorflow")
    except PackageNotFoundError:
        tf_version = "none"
    # The ISA limit is part of the machine: under AVX512_CORE_BF16 an AMX CPU computes like one without AMX.
    raw = f"{cpu_name()}|{os.cpu_count()}|{','.join(cpu_bf16_flags())}|{tf_version}|{isa_cap()}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(cache_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def measure_step_seconds(dtype: str | None, steps: int = 8, batch: int = 256) -> float:
    """Best-of-3 seconds per training step of the fast preset on random MNIST-sized batches."""
    import keras

    from cnn import architectures

    model = architectures.build_model(architectures.preset("fast"), (28, 28, 1), 10, dtype=dtype)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    return step_seconds(model, rng.random((batch, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, batch), steps)


def step_seconds(model, x: np.ndarray, y: np.ndarray, steps: int = 8) -> float:
    """Best-of-3 seconds per training step of a compiled ``model`` on one batch ``x``, ``y``, after two steps that
    trace and warm up."""
    for _ in range(2):
        model.train_on_batch(x, y)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def measurement(measure: bool = True) -> dict[str, Any] | None:
    """This machine's float32 and bfloat16 step times and the choice, measuring them once if asked.

    None on a GPU machine, on a CPU without bfloat16 instructions (float32 is then the only sensible
    choice), or when not yet measured and ``measure`` is False.
    """
    global _MEMO
    if _MEMO is not None:
        return _MEMO or None
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU") or not cpu_bf16_flags():
        _MEMO = {}
        return None
    key = _machine_key()
    cached = _read_cache().get(key)
    if isinstance(cached, dict) and "bf16" in cached:
        _MEMO = cached
        return cached
    if not measure:
        return None
    fp32 = measure_step_seconds(None)
    try:
        bf16: float | None = measure_step_seconds("mixed_bfloat16")
    except Exception:  # no bfloat16 kernels at all, e.g. oneDNN limited to AVX2 on a CPU that has them: float32
        bf16 = None
    result = {"cpu": cpu_name(), "cores": os.cpu_count(), "flags": cpu_bf16_flags(), "isa_cap": isa_cap(),
              "tf": tf.__version__,
              "fp32_step_s": round(fp32, 5), "bf16_step_s": None if bf16 is None else round(bf16, 5),
              "bf16": bf16 is not None and fp32 / bf16 >= BF16_MIN_SPEEDUP,
              "measured": time.strftime("%Y-%m-%d %H:%M")}
    _MEMO = result
    remember(key, result)
    return result


def remember(key: str, value: Any) -> None:
    """Keep one measurement in the cache file (a read-only home: measured again next process, still correct)."""
    try:
        data = _read_cache()
        data[key] = value
        path = cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # one per writer
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
    except OSError:
        pass


def recalled(what: str) -> tuple[str, Any]:
    """(the cache key of measurement ``what`` on this machine, its kept value or None)."""
    key = f"{_machine_key()}|{what}"
    return key, _read_cache().get(key)


_MEMO: dict[str, Any] | None = None


def bf16_fast(measure: bool = True) -> bool:
    """True when this machine trains measurably faster in bfloat16 than in float32 (see module doc)."""
    result = measurement(measure)
    return bool(result and result.get("bf16"))


def describe() -> str:
    """One line on the choice, for captions and benchmarks."""
    result = measurement(measure=False)
    cpu = cpu_name() + (f" (oneDNN limited to {isa_cap()})" if isa_cap() else "")
    if not result:
        return f"{cpu}: float32 (no faster bfloat16 measured)"
    if not result.get("bf16_step_s"):
        return f"{cpu}: float32 (bfloat16 does not run here)"
    speedup = result["fp32_step_s"] / result["bf16_step_s"]
    return (f"{cpu}: {'bfloat16' if result['bf16'] else 'float32'} "
            f"(bfloat16 step {speedup:.2f}x as fast as float32, measured)")
