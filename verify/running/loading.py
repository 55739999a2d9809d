"""Finding a user's claims, and choosing which claims a command works on.

A user's claims are :class:`~theorycheck.claims.base.Claim` subclasses
decorated with :func:`~theorycheck.claims.registry.register` in the user's own
module. The module is found three ways, all of which add up:

1. an entry point in the group :data:`ENTRY_POINT_GROUP` of an installed
   package (``[project.entry-points."theorycheck.claims"] mybounds = "mybounds.claims"``);
2. ``--claims MODULE_OR_FILE.py`` on the command line (repeatable): a dotted
   module name importable from the current directory, or a path to a ``.py``
   file (imported under its stem);
3. ``[tool.theorycheck] claims = ["mybounds.claims", "checks/extra.py"]`` in the
   ``pyproject.toml`` of the current directory (paths relative to that file).

Ids are namespaced by top-level package (:mod:`theorycheck.claims.registry`).
A module that cannot be imported is one clear line naming it, never a
traceback.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from theorycheck import claims
from theorycheck.claims import Claim, registry
from theorycheck.core.errors import InputError, TheorycheckError, UnknownClaimError
from theorycheck.running import imports

#: The entry-point group under which a package registers a module of claims.
ENTRY_POINT_GROUP = "theorycheck.claims"


def _import_file(path: Path, kind: str = "claims", name: str | None = None) -> str:
    """Import ``path`` as the module ``name`` (default: its stem); returns the module name."""
    name = path.stem if name is None else name
    if not name.isidentifier():
        becomes = "the namespace of its claim ids" if kind == "claims" else "the module's name"
        raise InputError(f"{kind} file {str(path)!r}: its name must be a Python identifier (it becomes {becomes}).")
    old = sys.modules.get(name)
    if old is not None:
        old_file = getattr(old, "__file__", None)
        if old_file and Path(old_file).resolve() == path.resolve():
            return name
        raise InputError(f"{kind} file {str(path)!r}: a module named {name!r} is already loaded from "
                         f"{old_file or 'elsewhere'}; rename the file.")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"{kind} file {str(path)!r} cannot be imported as Python.")
    imports.check_importable(path, kind)
    # as Python runs a script: the file's directory first on the path (its sibling modules import), and the file
    # recorded so that every worker can import it under the same name
    imports.record(name, path.resolve())
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except TheorycheckError:
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # noqa: BLE001 - a user's module: one line, not a traceback
        sys.modules.pop(name, None)
        raise InputError(imports.describe_failure(repr(str(path)), exc, kind)) from None
    return name


def _import_module(name: str, kind: str = "claims") -> str:
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        # `--claims mybounds.claims` from a project checkout, as `python -m` would find it
        imports.check_importable(Path(cwd), kind)
        imports.put_on_path(Path(cwd))
    try:
        importlib.import_module(name)
    except TheorycheckError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise InputError(f"cannot load {kind} from {name!r}: no module named {exc.name!r} (give a module "
                             f"importable from {cwd}, or a path ending in .py).") from None
        raise InputError(imports.describe_failure(repr(name), exc, kind)) from None
    except BaseException as exc:  # noqa: BLE001
        raise InputError(imports.describe_failure(repr(name), exc, kind)) from None
    return name


def _import_spec(spec: str, kind: str, label: str, base: Path | None = None, private: bool = False) -> str:
    """Import a dotted module or a ``.py`` file (relative to ``base``); returns the module's name.

    A file is imported under its stem, or with ``private`` under a name made from its resolved path;
    a missing file is one :class:`InputError` starting with ``label``.
    """
    if not (spec.endswith(".py") or "/" in spec or "\\" in spec):
        return _import_module(spec, kind)
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        what = "is a directory, not a .py file" if path.is_dir() else "does not exist"
        raise InputError(f"{label} {spec!r} {what}.")
    if not private:
        return _import_file(path, kind)
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    return _import_file(path, kind, f"_theorycheck_user_{digest}")


def import_object(spec: str, arg: str, kind: str = "the model") -> object:
    """The object ``NAME`` of ``FILE.py:NAME`` or ``package.module:NAME`` (a user's model or loss).

    A file is imported under its stem, a dotted module from the current
    directory or the installed packages; a missing file, module or name, or
    an error while importing, is one :class:`InputError` naming ``arg``.
    """
    text = spec.strip()
    where, sep, attr = text.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise InputError(f"`{arg}` must be FILE.py:NAME or module:NAME, got {spec!r}.")
    # a private module name per file: two models both called net.py in different places must not collide
    module = sys.modules[_import_spec(where, kind, f"`{arg}`:", private=True)]
    if not hasattr(module, attr):
        raise InputError(f"`{arg}`: {where!r} has no {attr!r}.")
    return getattr(module, attr)


def import_claims(spec: str, base: Path | None = None) -> list[Claim]:
    """Import one claims module (dotted name, or a path to a ``.py`` file) and return the claims it registered.

    Parameters
    ----------
    spec : str
        ``"mybounds.claims"`` or ``"checks/my_bounds.py"``.
    base : Path, optional
        Directory a relative file path is taken against (default: the current directory).
    """
    spec = spec.strip()
    if not spec:
        raise InputError("`--claims` needs a module name or a .py file.")
    return claims_of(_import_spec(spec, "claims", "claims file", base))


def claims_of(module: str) -> list[Claim]:
    """The registered claims whose class is defined in ``module`` or a submodule of it."""
    return [c for c in registry.user_claims()
            if type(c).__module__ == module or type(c).__module__.startswith(module + ".")]


def pyproject_claims(directory: Path | None = None) -> list[str]:
    """The ``[tool.theorycheck] claims`` list of ``directory/pyproject.toml`` (empty when absent)."""
    path = (directory or Path.cwd()) / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{path}: not readable as TOML ({exc}).") from None
    value = doc.get("tool", {}).get("theorycheck", {}).get("claims", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{path}: [tool.theorycheck] claims must be a list of module names or .py paths.")
    return list(value)


def entry_point_modules() -> list[tuple[str, str]]:
    """``(entry-point name, module)`` for every installed entry point in :data:`ENTRY_POINT_GROUP`."""
    from importlib.metadata import entry_points

    return [(ep.name, ep.value.split(":", 1)[0].strip()) for ep in entry_points(group=ENTRY_POINT_GROUP)]


@dataclass
class Loaded:
    """The user claims found, in the order found, and where each came from."""

    claims: list[Claim] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)

    def add(self, found: Iterable[Claim], origin: str) -> None:
        for c in found:
            if c.id not in self.origin:
                self.claims.append(c)
                self.origin[c.id] = origin


def load_user_claims(specs: Sequence[str] = (), *, entry_points: bool = True,
                     directory: Path | None = None) -> Loaded:
    """Load the user's claims from entry points, ``[tool.theorycheck]`` in ``directory`` and ``specs``."""
    directory = directory or Path.cwd()
    loaded = Loaded()
    if entry_points:
        for ep_name, module in entry_point_modules():
            loaded.add(import_claims(module), f"entry point {ep_name!r} ({module})")
    for spec in pyproject_claims(directory):
        loaded.add(import_claims(spec, base=directory), f"{directory / 'pyproject.toml'}: {spec}")
    for spec in specs:
        loaded.add(import_claims(spec), f"--claims {spec}")
    return loaded


def resolve(claim_id: str) -> Claim:
    """The claim with this id; a user claim may also be named without its namespace when that is unambiguous."""
    try:
        return claims.get(claim_id)
    except UnknownClaimError:
        matches = [c for c in registry.user_claims() if c.id.split(".", 1)[-1] == claim_id]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnknownClaimError(f"claim id {claim_id!r} is ambiguous: {', '.join(c.id for c in matches)}.") from None
        raise


def select(*, ids: Sequence[str] | None = None, tags: Sequence[str] | None = None,
           areas: Sequence[str] | None = None, only_user: bool = False,
           user: Sequence[Claim] | None = None) -> list[Claim]:
    """The claims a command works on, in registry order.

    ``ids`` picks claims by id (in the order given); otherwise every claim
    (built-in and ``user``, or only ``user`` when ``only_user``) is a
    candidate (``user`` defaults to every user claim registered so far). ``tags`` and ``areas`` then keep those carrying any of the
    tags and lying in any of the areas (:func:`~theorycheck.claims.registry.area_of`).
    A selection that keeps nothing is an :class:`InputError`.
    """
    if ids:
        chosen = [resolve(cid) for cid in dict.fromkeys(ids)]  # `--claim X --claim X` runs X once
        if only_user:
            built = [c.id for c in chosen if registry.is_builtin(c)]
            if built:
                raise InputError(f"`--only-user` excludes the built-in claim(s) {', '.join(built)}.")
    else:
        user = list(registry.user_claims() if user is None else user)
        if only_user:
            chosen = user
        else:
            chosen = claims.all_claims()
            have = {c.id for c in chosen}
            chosen += [c for c in user if c.id not in have]
    if tags:
        from theorycheck.running.validate import check_tag

        for tag in tags:  # a misspelt tag is an error naming the close ones, not an empty selection
            check_tag(tag, (t for c in chosen for t in c.tags))
        chosen = [c for c in chosen if set(tags) & set(c.tags)]
    if areas:
        known = {registry.area_of(c) for c in (chosen if only_user else claims.all_claims())}
        unknown = [a for a in areas if a not in known]
        if unknown:
            raise InputError(f"unknown area(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}.")
        chosen = [c for c in chosen if registry.area_of(c) in areas]
    if not chosen:
        what = "user claims" if only_user else "claims"
        raise InputError(f"no {what} selected (check --claims, --claim, --tag, --area, or the entry points).")
    return chosen


def add_loading_arguments(p: argparse.ArgumentParser) -> None:
    """``--claims MODULE_OR_FILE.py`` (repeatable) and ``--no-entry-points``."""
    p.add_argument("--claims", action="append", default=[], metavar="MODULE_OR_FILE.py",
                   help="also load the claims of this module or file (repeatable); entry points in the group "
                        f"{ENTRY_POINT_GROUP!r} and [tool.theorycheck] claims of ./pyproject.toml load too")
    p.add_argument("--no-entry-points", dest="entry_points", action="store_false",
                   help=f"do not load the claims of installed {ENTRY_POINT_GROUP!r} entry points")


def add_selection_arguments(p: argparse.ArgumentParser, ids: bool = True) -> None:
    """:func:`add_loading_arguments` and ``--claim``, ``--tag``, ``--area``, ``--only-user``."""
    add_loading_arguments(p)
    if ids:
        p.add_argument("--claim", action="append", metavar="ID", help="only this claim (repeatable)")
    p.add_argument("--tag", action="append", metavar="TAG", help="only claims carrying this tag (repeatable)")
    p.add_argument("--area", action="append", metavar="AREA",
                   help="only claims of this area: backward_error, nets, stability, implicit_reg, or a user "
                        "claims' namespace (repeatable)")
    p.add_argument("--only-user", action="store_true", help="skip the built-in claims")


def load_from_args(args: argparse.Namespace) -> Loaded:
    """Load the user claims the parsed ``args`` of :func:`add_loading_arguments` ask for."""
    return load_user_claims(getattr(args, "claims", None) or (), entry_points=getattr(args, "entry_points", True))


def selected_from_args(args: argparse.Namespace) -> list[Claim]:
    """Load user claims and select the claims the parsed ``args`` of :func:`add_selection_arguments` ask for."""
    loaded = load_from_args(args)
    return select(ids=getattr(args, "claim", None), tags=getattr(args, "tag", None),
                  areas=getattr(args, "area", None), only_user=getattr(args, "only_user", False), user=loaded.claims)


__all__ = [
    "ENTRY_POINT_GROUP", "Loaded", "add_loading_arguments", "add_selection_arguments", "load_from_args",
    "selected_from_args", "claims_of", "entry_point_modules", "import_claims", "import_object", "load_user_claims",
    "pyproject_claims", "resolve", "select",
]
