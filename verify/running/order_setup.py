"""The set-up of a ``theorycheck order`` study, kept on disk as data so that a warm run needs no sympy.

Setting a study up from the command line parses the loss, differentiates it, builds the field GD
is measured against and prints the loss, its gradient and the field as mpmath code
(``sympy.lambdify``); with sympy's import that is about half a second of a run whose measurement,
once the Taylor integrator is compiled and cached (:mod:`theorycheck.numerics.integrate`), takes
milliseconds. :func:`store` keeps those three functions as data — straight-line programs, trees of
arithmetic and mpmath calls (:mod:`theorycheck.maths.programs`) — with what the command reports about
the field (its name, GD's local order against it, its operation count, the digest naming its
compiled integrator), as an entry of the on-disk cache (:mod:`theorycheck.numerics.cache`:
authenticated by the user's key, keyed by the loss text, the field, the optimiser, the versions of
sympy, mpmath and theorycheck and the source of the modules that generate it, so a stale, corrupt or
foreign entry is rebuilt, never trusted). :func:`load` gives it back without importing sympy.

A set-up holds no measurement and no code: every run computes its errors, order and verdict afresh,
evaluating the trees (the very arithmetic of the functions the symbolic set-up evaluates, so both
give the same numbers bit for bit) with the compiled integrator. Nothing in an entry is executed as
Python: a tree with any node, function or constant outside the grammar is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Sequence

import mpmath

from theorycheck.maths.optimisers import GradientDescent
from theorycheck.numerics import cache
from theorycheck.numerics.integrate import DescribedField, package_version

#: Kind of the cache entries (:mod:`theorycheck.numerics.cache`).
CACHE_KIND = "order-setup"
#: Version of the set-up's content; a change makes every older entry a miss (format 1 held source code).
FORMAT = 2
#: Modules whose source decides the programs and the description (their bytes are in the key): every
#: module of the maths layer (losses, fields, the modified equations they are built from), the shipped optimiser
#: files (whose derived map decides that GD's terms apply), and the two that write and read set-ups.
SOURCES = ("maths/*.py", "optimizers/*.py", "running/order_setup.py", "running/commands/order.py")

__all__ = ["CACHE_KIND", "FORMAT", "SOURCES", "CompiledGD", "Setup", "STATS", "build", "key", "load", "store"]

#: This process's use of set-ups: ``used`` (a run measured from one), ``stored``.
STATS: dict[str, int] = {"used": 0, "stored": 0}
_SOURCE_DIGEST: list[str] = []


def _source_digest() -> str:
    if not _SOURCE_DIGEST:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for path in sorted(p for pattern in SOURCES for p in root.glob(pattern)):
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
        _SOURCE_DIGEST.append(h.hexdigest())
    return _SOURCE_DIGEST[0]


def key(loss: str, against: str, optimizer: str) -> dict[str, Any]:
    """The cache key of the set-up of ``--loss loss --against against --optimizer optimizer``."""
    return {"loss": loss, "against": against, "optimizer": optimizer, "format": FORMAT,
            "sympy": package_version("sympy"), "mpmath": mpmath.__version__,
            "theorycheck": package_version("theorycheck"), "source": _source_digest()}


@dataclass(frozen=True)
class Setup:
    """A study's symbolic set-up as programs (data, never source code) and a description.

    Attributes
    ----------
    variables : tuple of str
        The loss's variables, in order.
    loss_text : str
        ``str`` of the parsed loss (what the report prints).
    point : tuple of str or None
        The default start point (exact fractions) for a zoo loss, None for an expression.
    field : DescribedField
        The field GD is measured against, as its cached integrator knows it.
    local_order, ops : int
        GD's local order against the field; the field's sympy operation count.
    programs : dict
        ``{"loss"|"gradient"|"field": program}``: each lambdified mpmath function as a tree of
        :mod:`theorycheck.maths.programs`.
    """

    variables: tuple[str, ...]
    loss_text: str
    point: tuple[str, ...] | None
    field: DescribedField
    local_order: int
    ops: int
    programs: dict[str, dict[str, Any]]

    def function(self, what: str) -> Callable[..., Any]:
        """The function ``what`` ("loss": L(*θ), "gradient": ∇L(*θ), "field": F(θ, h)), built from its tree.

        Raises
        ------
        ProgramError
            The tree is not one of the grammar of :mod:`theorycheck.maths.programs`.
        """
        from theorycheck.maths.programs import compile_program

        return compile_program(self.programs[what])


class CompiledGD(GradientDescent):
    """θ⁺ = θ − h ∇L(θ) with the set-up's gradient program: :class:`~theorycheck.maths.optimisers.GradientDescent`
    without sympy (the same step on the same arithmetic, so the same numbers)."""

    def __init__(self, gradient: Callable[..., Any], dim: int, name: str) -> None:
        # no Loss to hand to GradientDescent.__init__: the attributes its step uses are set here
        self.loss = None  # type: ignore[assignment]
        self.name = "gd"
        self.dim = dim
        self._gradient = gradient
        self._label = name

    def gradient(self, theta: Sequence[Any]) -> list[Any]:
        """∇L(θ) at the current precision, as Loss.gradient_mpmath converts it (the code holds no sympy number)."""
        return [v if isinstance(v, (mpmath.mpf, mpmath.mpc)) else mpmath.mpf(v) for v in self._gradient(*theta)]

    def __repr__(self) -> str:
        return f"gd({self._label})"


def build(loss: Any, field: Any, local_order: int, ops: int, point: Sequence[Fraction] | None) -> Setup | None:
    """The set-up of a study of GD on ``loss`` against ``field`` (sympy objects); None if its code cannot be kept
    as data (it calls something outside the programs' grammar)."""
    import sympy as sp

    from theorycheck.maths.fields import H
    from theorycheck.maths.programs import ProgramError, program_of
    from theorycheck.numerics.integrate import field_digest

    programs = {}
    # the gradient and the field are the functions GradientDescent and Field.mpmath evaluate (their cached
    # lambdified forms), so a run from the set-up does the same arithmetic
    for what, fn in (("loss", sp.lambdify(loss.variables, loss.expr, modules="mpmath")),
                     ("gradient", loss._gradient_mp), ("field", field._mp)):
        try:
            programs[what] = program_of(fn)
        except ProgramError:
            return None
    has_h = any(getattr(c, "has", lambda *_: False)(H) for c in field.components)
    return Setup(variables=tuple(str(v) for v in loss.variables), loss_text=str(loss.expr),
                 point=None if point is None else tuple(str(x) for x in point),
                 field=DescribedField(field.name, field.dim, field_digest(field), has_h), local_order=int(local_order),
                 ops=int(ops), programs=programs)


def store(loss_arg: str, against: str, optimizer: str, setup: Setup) -> bool:
    """Keep ``setup`` under the key of these command-line arguments (False if the cache is off or unwritable)."""
    import json

    payload = {"variables": list(setup.variables), "loss_text": setup.loss_text,
               "point": None if setup.point is None else list(setup.point), "field": list(setup.field),
               "local_order": setup.local_order, "ops": setup.ops, "programs": setup.programs}
    ok = cache.store(CACHE_KIND, key(loss_arg, against, optimizer), json.dumps(payload, sort_keys=True).encode())
    STATS["stored"] += ok
    return ok


def load(loss_arg: str, against: str, optimizer: str) -> Setup | None:
    """The set-up stored for these command-line arguments, or None (cache off, no entry, a stale or bad one).

    Every tree is checked against the grammar here, before any of it is evaluated.
    """
    import json

    from theorycheck.maths.programs import ProgramError, compile_program

    payload = cache.load(CACHE_KIND, key(loss_arg, against, optimizer))
    if payload is None:
        return None
    try:
        d = json.loads(payload)
        name, dim, digest, has_h = d["field"]
        programs = {what: d["programs"][what] for what in ("loss", "gradient", "field")}
        for program in programs.values():
            compile_program(program)
        return Setup(variables=tuple(d["variables"]), loss_text=str(d["loss_text"]),
                     point=None if d["point"] is None else tuple(d["point"]),
                     field=DescribedField(str(name), int(dim), str(digest), bool(has_h)),
                     local_order=int(d["local_order"]), ops=int(d["ops"]), programs=programs)
    except (ProgramError, ValueError, KeyError, TypeError):  # an authenticated entry of an unexpected shape: rebuilt
        cache.STATS["rejected"] += 1
        return None
