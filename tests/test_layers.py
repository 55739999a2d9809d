"""The shape of the package: layers import only downwards, every module declares its public names, the claims
use only public names of lower layers, and nothing outside ``theorycheck`` is installed.

The layers, lowest first, follow the direction data flows (README, "Layout"):
core → maths → optimizers → numerics → properties → claims → reporting → running.
"""

from __future__ import annotations

import ast
import importlib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Layer of each top-level subpackage of theorycheck; a module may import its own layer and the ones below.
LAYERS = {"core": 0, "maths": 1, "optimizers": 2, "numerics": 3, "properties": 4, "claims": 5, "reporting": 6,
          "running": 7}
TOP = max(LAYERS.values()) + 1  # theorycheck/__init__.py and __main__.py: the front door sees everything


def _modules() -> list[tuple[str, Path]]:
    """(dotted name, path) of every module of the installed package theorycheck, from the source folders."""
    out = []
    for folder, prefix in ((ROOT / "verify", "theorycheck"), (ROOT / "properties", "theorycheck.properties")):
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out.append((".".join([prefix, *parts]), path))
    return out


MODULES = _modules()


def _layer(dotted: str) -> int:
    parts = dotted.split(".")
    return LAYERS.get(parts[1], TOP) if len(parts) > 1 else TOP


def _package(dotted: str, path: Path) -> str:
    return dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]


def _imports(dotted: str, path: Path) -> list[tuple[str, int]]:
    """Every theorycheck module (or package) this module imports, eagerly or through ``lazy.load``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = _package(dotted, path).split(".")
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            if base == "theorycheck":
                found += [(f"theorycheck.{a.name}", node.lineno) for a in node.names]
            elif base.startswith("theorycheck."):
                found.append((base, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("theorycheck")]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
              and node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith(
                  "theorycheck.")):
            found.append((node.args[0].value, node.lineno))
    return found


@pytest.mark.parametrize("dotted,path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_point_down_the_layers(dotted, path):
    mine = _layer(dotted)
    against = [f"{path.relative_to(ROOT)}:{line} imports {target}" for target, line in _imports(dotted, path)
               if target != "theorycheck" and _layer(target) > mine]
    assert not against, "imports against the flow of data:\n" + "\n".join(against)


def test_the_direction_test_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from theorycheck.claims.registry import RunContext\nimport lazy_loader as lazy\n"
                   "runner = lazy.load('theorycheck.running.runner')\n")
    targets = [t for t, _ in _imports("theorycheck.maths.bad", bad)]
    assert targets == ["theorycheck.claims.registry", "theorycheck.running.runner"]
    assert all(_layer(t) > _layer("theorycheck.maths.bad") for t in targets)


def _is_lazy_load(value: ast.AST) -> bool:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "load"


def _defined_public_names(path: Path) -> set[str]:
    """Names a module defines at top level (functions, classes, assignments) that do not start with _."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and not _is_lazy_load(node.value):  # lazy module handles are imports
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("dotted,path", MODULES, ids=[m for m, _ in MODULES])
def test_every_module_declares_its_public_names(dotted, path):
    module = importlib.import_module(dotted)
    assert hasattr(module, "__all__"), f"{dotted} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{dotted}.__all__ names what it does not have: {missing}"
    if path.name == "__init__.py":
        # a package's __all__ lists its public submodules (loaded on first use), and nothing is forgotten
        subs = {p.stem for p in path.parent.glob("*.py") if not p.stem.startswith("_")}
        subs |= {p.name for p in path.parent.iterdir() if (p / "__init__.py").exists()}
        assert subs <= set(module.__all__), f"{dotted}.__all__ lacks submodules {sorted(subs - set(module.__all__))}"
    else:
        undeclared = _defined_public_names(path) - set(module.__all__)
        assert not undeclared, f"{dotted} defines public names not in __all__: {sorted(undeclared)}"


def _private_uses(path: Path) -> list[str]:
    """``from theorycheck.x import _name`` and ``module._name`` where module is a theorycheck import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    handles, out = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("theorycheck"):
            for a in node.names:
                if a.name.startswith("_"):
                    out.append(f"{path.name}:{node.lineno} imports {node.module}.{a.name}")
                handles.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            handles |= {a.asname or a.name for a in node.names if a.name.startswith("theorycheck")}
        elif isinstance(node, ast.Assign) and _is_lazy_load(node.value):
            handles |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in handles:
                out.append(f"{path.name}:{node.lineno} uses {ast.unparse(node)}")
    return out


CLAIMS = [(m, p) for m, p in MODULES if m.startswith("theorycheck.claims.")]


@pytest.mark.parametrize("dotted,path", CLAIMS, ids=[m for m, _ in CLAIMS])
def test_claims_use_only_public_names_of_lower_layers(dotted, path):
    uses = _private_uses(path)
    assert not uses, "private names of other modules:\n" + "\n".join(uses)


def test_the_public_names_test_catches_a_private_use(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from theorycheck import maths\nfrom theorycheck.numerics.eigen import _dense\n"
                   "x = maths.stability._noise\n")
    assert len(_private_uses(bad)) == 2


def test_import_theorycheck_is_cheap_and_the_front_door_resolves():
    import subprocess
    import sys

    code = ("import sys, theorycheck; heavy = [m for m in ('numpy', 'sympy', 'scipy', 'hypothesis') "
            "if m in sys.modules]; print(heavy, theorycheck.Verdict.PASS, theorycheck.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "[]" and out[1] == "PASS"


def test_python_dash_m_theorycheck_works():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "theorycheck", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: theorycheck" in proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel pip would install, built from this checkout (in pip's isolated build environment)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (name,) = [p for p in out.iterdir() if p.suffix == ".whl"]
    return zipfile.ZipFile(name)


def test_the_wheel_installs_one_import_package(wheel):
    tops = {n.split("/")[0] for n in wheel.namelist()}
    tops = {t for t in tops if not t.endswith(".dist-info")}
    assert tops == {"theorycheck"}, f"top-level names installed: {sorted(tops)}"
    names = set(wheel.namelist())
    assert {"theorycheck/py.typed", "theorycheck/reporting/schema.json", "theorycheck/properties/strategies.py",
            "theorycheck/claims/kinds.py"} <= names
    from theorycheck.running import output

    assert {f"theorycheck/running/schemas/{c}.json" for c in output.commands()} <= names  # every output schema ships
