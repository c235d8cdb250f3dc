"""Precision is chosen by measuring, cached per machine, and float32 wherever bfloat16 is not faster."""
import json

import pytest

from cnn import precision


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(precision, "_MEMO", None)
    monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: ["avx512_bf16"])
    return tmp_path


def _timings(monkeypatch, fp32, bf16):
    calls = []

    def fake(dtype, steps=8, batch=256):
        calls.append(dtype)
        return bf16 if dtype else fp32

    monkeypatch.setattr(precision, "measure_step_seconds", fake)
    return calls


@pytest.mark.parametrize("fp32,bf16,chosen", [(0.02, 0.01, True), (0.02, 0.019, False), (0.01, 0.02, False)])
def test_bfloat16_only_where_measured_faster(fresh, monkeypatch, fp32, bf16, chosen):
    _timings(monkeypatch, fp32, bf16)
    assert precision.bf16_fast() is chosen
    assert ("bfloat16" if chosen else "float32") in precision.describe()


def test_measured_once_per_machine_and_cached_on_disk(fresh, monkeypatch):
    calls = _timings(monkeypatch, 0.02, 0.01)
    assert precision.bf16_fast()
    saved = json.loads((fresh / "precision.json").read_text())
    assert [v["bf16"] for v in saved.values()] == [True]
    monkeypatch.setattr(precision, "_MEMO", None)  # a new process reads the file instead of measuring
    assert precision.bf16_fast() and len(calls) == 2


def test_pages_never_wait_for_a_measurement(fresh, monkeypatch):
    calls = _timings(monkeypatch, 0.02, 0.01)
    assert precision.bf16_fast(measure=False) is False and calls == []


def test_cpu_without_bfloat16_is_float32_without_measuring(fresh, monkeypatch):
    monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: [])
    calls = _timings(monkeypatch, 0.02, 0.01)
    assert precision.bf16_fast() is False and calls == []


def test_unwritable_cache_still_answers(fresh, monkeypatch):
    monkeypatch.setenv("CNN_CACHE_DIR", "/proc/no-such-dir")
    _timings(monkeypatch, 0.02, 0.01)
    assert precision.bf16_fast()


def test_bfloat16_that_does_not_run_is_float32(fresh, monkeypatch):
    """oneDNN limited below bfloat16 (ONEDNN_MAX_CPU_ISA=AVX2 on a CPU with avx512_bf16) cannot build its kernels:
    the measurement picks float32 and says why, instead of taking the Train page down."""
    def fake(dtype, steps=8, batch=256):
        if dtype:
            raise RuntimeError("could not create a primitive descriptor for the convolution forward propagation")
        return 0.02

    monkeypatch.setattr(precision, "measure_step_seconds", fake)
    assert precision.bf16_fast() is False
    assert "float32 (bfloat16 does not run here)" in precision.describe()
    kept = json.loads(precision.cache_path().read_text())
    assert [v["bf16_step_s"] for v in kept.values()] == [None]


def test_real_measurement_runs(fresh):
    assert precision.measure_step_seconds(None, steps=1, batch=8) > 0


def test_an_instruction_set_limit_is_measured_as_another_machine(fresh, monkeypatch):
    """ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 makes an AMX CPU compute like one without AMX: its own answer."""
    calls = _timings(monkeypatch, 0.02, 0.01)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert precision.bf16_fast()
    monkeypatch.setattr(precision, "_MEMO", None)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    _timings(monkeypatch, 0.02, 0.03)
    assert precision.bf16_fast() is False
    assert "limited to AVX512_CORE_BF16" in precision.describe() and "float32" in precision.describe()
    saved = json.loads((fresh / "precision.json").read_text())
    assert sorted(v["bf16"] for v in saved.values()) == [False, True] and len(calls) == 2


@pytest.mark.parametrize("flags, isa", [("fpu avx avx2 fma", "AVX2"), ("avx avx2 avx512f avx512_bf16", "AVX-512"),
                                        ("avx2 avx512f amx_bf16 amx_tile", "AMX"), ("fpu sse2", "")])
def test_the_widest_vector_instructions_are_named(monkeypatch, flags, isa):
    monkeypatch.setattr(precision, "_cpuinfo", lambda: f"model name\t: Some CPU\nflags\t\t: {flags}\n")
    assert precision.cpu_vector_isa() == isa
