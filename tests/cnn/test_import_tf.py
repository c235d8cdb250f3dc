"""cnn.import_tf: TensorFlow and Keras import without Keras's optional packages, which import again afterwards."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from cnn import import_tf

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> str:
    """``code`` in a fresh interpreter (this one has TensorFlow and its neighbours imported already)."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.heavy
def test_tensorflow_imports_without_keras_optional_packages_and_they_import_afterwards():
    out = run_fresh(
        "import sys\n"
        "from cnn.import_tf import KERAS_OPTIONAL, import_tensorflow\n"
        "import_tensorflow()\n"
        "import keras\n"
        "print('left out:', sorted(n for n in KERAS_OPTIONAL if n not in sys.modules))\n"
        "print('blocked now:', sorted(n for n in KERAS_OPTIONAL if n in sys.modules and sys.modules[n] is None))\n"
        "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
        "import numpy as np; m.compile(loss='mse'); m.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)\n"
        "print('trained')\n")
    installed = sorted(n for n in import_tf.KERAS_OPTIONAL if importlib.util.find_spec(n) is not None)
    assert f"left out: {installed}" in out
    assert "blocked now: []" in out and "trained" in out
    if installed:
        name = installed[0]
        out = run_fresh(f"from cnn.import_tf import import_tensorflow\nimport_tensorflow()\nimport {name}\n"
                        f"print({name}.__name__)")
        assert out.strip() == name, "importable again after TensorFlow"


def test_the_block_lets_go_even_when_the_import_fails_and_keeps_what_was_imported():
    assert "json" in sys.modules
    with pytest.raises(ModuleNotFoundError), import_tf._without(("json", "cnnlab_not_a_package")):
        import cnnlab_not_a_package  # noqa: F401
    assert sys.modules["json"] is not None and "cnnlab_not_a_package" not in sys.modules
