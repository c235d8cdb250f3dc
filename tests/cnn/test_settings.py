"""cnn.settings: every CNN_* variable defined once, checked the same way everywhere, and listed in the README."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnn import cli, jobs, run_config, settings

from conftest import ROOT


def test_the_readme_table_is_the_registry():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- settings:begin[^>]*-->\n(.*?)\n<!-- settings:end -->", readme, re.S)
    assert table, "README has the generated settings table"
    assert table.group(1) == settings.markdown_table(), "run: python -m cnn settings --markdown"


def test_every_cnn_variable_read_anywhere_is_a_setting():
    """No module reads a CNN_* variable of its own: the names in the code are the registry's."""
    used = set()
    for path in [*(ROOT / "cnn").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py"),
                 ROOT / "app.py"]:
        used |= set(re.findall(r"\bCNN_[A-Z_]+\b", path.read_text()))
    assert used <= set(settings.SETTINGS), used - set(settings.SETTINGS)
    assert not [p for p in (ROOT / "cnn").rglob("*.py") if p.name != "settings.py"
                and re.search(r"environ(\.get)?\(?\[?[\"']CNN_", p.read_text())], "read through cnn.settings"


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("CNN_MAX_JOBS", "abc", "The setting CNN_MAX_JOBS='abc' is not valid: it must be a whole number from 1 to 1024."),
    ("CNN_MAX_JOBS", "0", "CNN_MAX_JOBS='0' is not valid"),
    ("CNN_JOB_MEMORY_GB", "nan", "CNN_JOB_MEMORY_GB='nan' is not valid: it must be a number from 0.05"),
    ("CNN_HEARTBEAT_S", "-1", "CNN_HEARTBEAT_S='-1'"),
    ("CNN_OFFLINE", "maybe", "CNN_OFFLINE='maybe' is not valid: it must be 1 or 0"),
    ("CNN_WORKER_NICE", "20", "from 0 to 19"),
])
def test_a_bad_value_is_one_message_the_same_everywhere(monkeypatch, capsys, name, raw, message):
    monkeypatch.setenv(name, raw)
    assert len(settings.problems()) == 1 and message in settings.problems()[0]
    with pytest.raises(settings.SettingError, match=re.escape(message)):
        settings.value(name)
    assert cli.main(["models"]) == 1  # the command line checks them all before doing anything
    assert message in capsys.readouterr().err


def test_values_defaults_and_secrets(monkeypatch, tmp_path):
    monkeypatch.delenv("CNN_MAX_JOBS", raising=False)
    assert jobs.max_jobs_default() >= 1
    monkeypatch.setenv("CNN_MAX_JOBS", " 3 ")
    monkeypatch.setenv("CNN_OFFLINE", "yes")
    monkeypatch.setenv("CNN_JOB_MEMORY_GB", "0.5")
    monkeypatch.setenv("CNN_MODELS_DIR", str(tmp_path / "m"))
    assert jobs.max_jobs_default() == 3 and settings.value("CNN_OFFLINE") is True
    assert run_config.memory_budget() == 2**29 and settings.value("CNN_MODELS_DIR") == Path(tmp_path / "m")
    monkeypatch.setenv("CNN_TEACHER_PASSWORD", "hunter2")
    monkeypatch.setenv("CNN_DATABASE_URL", "nonsense:///x")
    assert "hunter2" not in settings.describe("CNN_TEACHER_PASSWORD")
    assert settings.problems() == []


def test_a_worker_gets_the_allow_listed_settings_and_no_secret(monkeypatch):
    monkeypatch.setenv("CNN_TEACHER_PASSWORD", "hunter2")
    monkeypatch.setenv("CNN_DATABASE_URL", "sqlite:////tmp/x.db")
    monkeypatch.setenv("RAY_AUTH_TOKEN", "t0k3n")
    monkeypatch.setenv("CNN_JOB_MEMORY_GB", "3")
    monkeypatch.setenv("CNN_MAX_JOBS", "2")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    env = settings.worker_env({"PATH": "/bin", "CNN_TEACHER_PASSWORD": "hunter2", "RAY_AUTH_TOKEN": "t0k3n"})
    assert env["PATH"] == "/bin" and env["CNN_JOB_MEMORY_GB"] == "3" and env["ONEDNN_MAX_CPU_ISA"] == "AVX512_CORE_BF16"
    assert env["TF_ENABLE_ONEDNN_OPTS"] == os.environ["TF_ENABLE_ONEDNN_OPTS"]  # set by cnn/__init__.py
    assert not {"CNN_TEACHER_PASSWORD", "CNN_DATABASE_URL", "RAY_AUTH_TOKEN", "CNN_MAX_JOBS"} & set(env)
    assert all(settings.SETTINGS[k].worker for k in env if k.startswith("CNN_"))


@pytest.mark.parametrize("given, used", [(None, True), ("0", False)])
def test_tensorflow_uses_onednn_in_a_process_that_imports_the_library_first_unless_told_not_to(given, used):
    """On CPUs without AVX-512 VNNI/BF16 TensorFlow leaves oneDNN off by itself; the library turns it on (2x faster
    training there, bench/README.md), and TF_ENABLE_ONEDNN_OPTS=0 still turns it off."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if given is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = given
    code = ("import cnn, tensorflow; from tensorflow.python.util import _pywrap_util_port as port; "
            "print(port.IsMklEnabled())")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip().splitlines()[-1] == str(used), out.stderr[-2000:]
