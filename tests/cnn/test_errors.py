"""cnn.errors: every error the library raises on purpose is a LabError (the command line reports those as one
line), and any error is said in one line."""
import importlib
import pkgutil

import pytest

import cnn
from cnn.errors import LabError, first_line


def _library_errors():
    for info in pkgutil.walk_packages(cnn.__path__, "cnn."):
        if ".migrations" in info.name or info.name == "cnn.__main__":
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an engine whose package is not installed here (Ray)
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == info.name:
                yield value


def test_every_error_class_of_the_library_is_a_lab_error():
    found = list(_library_errors())
    assert len(found) >= 15, found
    assert [e.__qualname__ for e in found if not issubclass(e, LabError)] == []


@pytest.mark.parametrize(("error", "limit", "said"), [
    (ValueError("first\nsecond"), 300, "first"),
    (ValueError("  \n"), 300, "ValueError"),
    (KeyError(), 300, "KeyError"),
    (RuntimeError("x" * 500), 300, "x" * 300),
    (RuntimeError("abcdef"), 3, "abc"),
])
def test_first_line(error, limit, said):
    assert first_line(error, limit) == said


def test_the_command_line_reports_any_library_error_as_one_line(monkeypatch, capsys):
    from cnn import cli, inspection

    def fail(args):
        raise inspection.InspectionError("Layer 'x' has no feature maps.")

    monkeypatch.setattr(cli, "_cmd_models", fail)
    assert cli.main(["models"]) == 1
    assert capsys.readouterr().err == "error: Layer 'x' has no feature maps.\n"  # not "unexpected"
