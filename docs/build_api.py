"""Write docs/api.md, the API reference of the public modules a user works with, from their docstrings.

Run ``python docs/build_api.py`` after changing a public docstring; ``tests/docs/test_api.py`` fails while
docs/api.md is out of date, and checks that every documented parameter exists.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

#: The modules of the reference, in reading order.
MODULES = [
    "theorycheck.claims.base",
    "theorycheck.claims.registry",
    "theorycheck.core.evidence",
    "theorycheck.running.loading",
    "theorycheck.running.output",
    "theorycheck.running.pytest_plugin",
    "theorycheck.testing",
    "theorycheck.maths.protocol",
    "theorycheck.maths.scalar",
    "theorycheck.maths.optimizer_field",
    "theorycheck.maths.slow_manifold",
    "theorycheck.maths.fields",
    "theorycheck.numerics.optimizer_order",
    "theorycheck.maths.callable_loss",
    "theorycheck.maths.models",
    "theorycheck.maths.jax_model",
    "theorycheck.maths.torch_model",
    "theorycheck.maths.output_losses",
    "theorycheck.maths.modified_loss",
    "theorycheck.numerics.callable_order",
    "theorycheck.numerics.models",
    "theorycheck.numerics.trace",
    "theorycheck.reporting.latex",
]

SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.M)


def _doc(obj: object) -> str:
    """The docstring with numpydoc section underlines turned into bold headings."""
    doc = inspect.getdoc(obj) or ""
    return SECTION.sub(lambda m: f"**{m.group(1)}**", doc)


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


def public(module: object) -> list[tuple[str, object]]:
    """The functions and classes a module lists in ``__all__`` and defines itself."""
    out = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if name.startswith("pytest_"):  # the plugin's hooks are pytest's API, not ours
            continue
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", "") == module.__name__:
            out.append((name, obj))
    return out


def render() -> str:
    lines = ["# API reference", "",
             "Generated from the docstrings by `docs/build_api.py` (numpydoc sections: Parameters, Returns, Raises;",
             "array arguments give their shapes). The tutorial is `docs/tutorial.md`.", ""]
    for name in MODULES:
        mod = importlib.import_module(name)
        lines += [f"## `{name}`", "", _doc(mod), ""]
        for attr, obj in public(mod):
            kind = "class" if inspect.isclass(obj) else "def"
            lines += [f"### `{kind} {attr}{_signature(obj)}`", "", _doc(obj) or "(no docstring)", ""]
            if inspect.isclass(obj):
                for mname, meth in inspect.getmembers(obj, inspect.isfunction):
                    if mname.startswith("_") or meth.__qualname__.split(".")[0] != obj.__name__ or not meth.__doc__:
                        continue
                    lines += [f"#### `{attr}.{mname}{_signature(meth)}`", "", _doc(meth), ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    out = Path(__file__).with_name("api.md")
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
