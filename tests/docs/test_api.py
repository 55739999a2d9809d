"""The API reference: built from the docstrings, up to date, and every documented parameter exists."""

import importlib.util
import inspect
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _builder():
    spec = importlib.util.spec_from_file_location("build_api", DOCS / "build_api.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _documented_parameters(doc):
    m = re.search(r"^Parameters\n-{3,}\n(.*?)(?=^\w[\w ]*\n-{3,}\n|\Z)", doc, re.S | re.M)
    if not m:
        return []
    return [ln.split(":")[0].strip() for ln in m.group(1).splitlines() if ln and not ln[0].isspace()]


def test_the_api_reference_is_built_from_the_current_docstrings():
    assert (DOCS / "api.md").read_text(encoding="utf-8") == _builder().render(), "run `python docs/build_api.py`"


def test_every_public_name_is_documented_and_its_parameters_exist():
    b = _builder()
    missing, unknown = [], []
    for name in b.MODULES:
        mod = importlib.import_module(name)
        for attr, obj in b.public(mod):
            doc = inspect.getdoc(obj) or ""
            if not doc:
                missing.append(f"{name}.{attr}")
            try:
                params = set(inspect.signature(obj).parameters)
            except ValueError:  # a builtin base without a signature (an exception class)
                params = set()
            for p in _documented_parameters(doc):
                for q in (x.strip() for x in p.split(",")):
                    if q and q not in params:
                        unknown.append(f"{name}.{attr}: {q}")
    assert not missing, f"no docstring: {missing}"
    assert not unknown, f"documented parameters not in the signature: {unknown}"


def test_the_parameter_check_catches_a_stale_name():
    doc = "Summary.\n\nParameters\n----------\nx : int\n    the x.\nold : str\n\nReturns\n-------\nint\n"
    assert _documented_parameters(doc) == ["x", "old"]
