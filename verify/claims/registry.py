"""The claim registry: every claim by id, the built-in ones loaded on first use.

Built-in claims are registered with :func:`register` in the area modules of
:data:`AREA_MODULES` (one module per body of theory). The area modules are
imported only when the registry is first asked for a claim, so that
``import theorycheck`` and ``theorycheck --help`` stay cheap.

A user's claims are registered with the same decorator in the user's own
module. Their ids are *namespaced*: a claim ``id = "my-bound"`` defined in
module ``mybounds.claims`` (or a file ``mybounds.py``) is registered as
``"mybounds.my-bound"`` (the top-level package, then the id), so two packages
cannot collide; two claims under one id are refused with
:class:`~theorycheck.core.errors.ClaimCollisionError` naming both modules.
How user modules are found (entry points, ``--claims``, ``pyproject.toml``)
is :mod:`theorycheck.running.loading`.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from theorycheck.core.errors import ClaimCollisionError, UnknownClaimError
from theorycheck.core.evidence import EXPECTATIONS  # what Claim.expect may be: defined once, in the vocabulary

if TYPE_CHECKING:
    from theorycheck.claims.base import Claim

_ClaimT = TypeVar("_ClaimT", bound="type[Claim]")

#: Area modules that define and register the built-in claims, in report order.
AREA_MODULES: tuple[str, ...] = (
    "theorycheck.claims.backward_error",
    "theorycheck.claims.nets",
    "theorycheck.claims.open_questions",
    "theorycheck.claims.stability",
    "theorycheck.claims.implicit_reg",
    "theorycheck.claims.adaptive",
    "theorycheck.claims.optimizers",
)


@dataclass(frozen=True)
class RunContext:
    """Settings shared by every claim in a run.

    ``quick`` trades breadth (fewer losses, seeds, examples) for speed; it
    must never loosen a tolerance. ``seed`` is the master seed every sampled
    instance derives from.
    """

    quick: bool = False
    seed: int = 20211
    executor: str = "serial"
    scheduler: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, "Claim"] = {}
_loaded = False


#: The package whose modules hold the built-in claims.
BUILTIN_PACKAGE = "theorycheck"



def namespace_of(module: str) -> str:
    """The namespace of the claims defined in ``module``: its top-level package ("" for built-ins)."""
    top = module.split(".", 1)[0]
    return "" if top in (BUILTIN_PACKAGE, "__main__") else top


def is_builtin(claim: "Claim") -> bool:
    """True for the claims theorycheck ships (defined under ``theorycheck.``)."""
    return namespace_of(type(claim).__module__) == ""


#: The built-in areas in report order, by claim-id prefix, with their titles; a claim id without a dot is a
#: backward-error claim. A user's claims form the area of their namespace.
AREAS: dict[str, str] = {
    "backward-error": "Backward error analysis of GD",
    "nets": "Two-layer networks: flatness, smoothness, edge of stability",
    "stability": "Linear stability of SGD",
    "implicit": "Implicit regularisation of GD, SGD, momentum, RMSProp and Adam",
}


def area_of_id(claim_id: str) -> str:
    """The area of a claim id: the prefix before its first dot, ``backward-error`` when there is none."""
    return claim_id.split(".", 1)[0] if "." in claim_id else "backward-error"


def area_of(claim: "Claim") -> str:
    """The claim's area (:func:`area_of_id` of its id): what ``--area`` selects and the report's sections group."""
    return area_of_id(claim.id)


def register(cls: _ClaimT) -> _ClaimT:
    """Class decorator: register the default instance of a claim under its (namespaced) id.

    A claim defined outside theorycheck gets its top-level package as a prefix
    of its id (module docstring). Raises
    :class:`~theorycheck.core.errors.ClaimCollisionError` when another claim
    class holds the id, and :class:`~theorycheck.core.errors.InputError` for an
    ``expect`` other than ``"pass"`` or ``"finding"``.
    """
    from theorycheck.core.errors import InputError

    ns = namespace_of(cls.__module__)
    if ns and not cls.id.startswith(ns + "."):
        cls.id = f"{ns}.{cls.id}"
    if getattr(cls, "expect", "pass") not in EXPECTATIONS:
        raise InputError(f"claim {cls.id!r} ({cls.__module__}): `expect` must be one of {', '.join(EXPECTATIONS)}, "
                         f"got {cls.expect!r}.")
    old = _REGISTRY.get(cls.id)
    if old is not None and type(old) is not cls and _qualname(type(old)) != _qualname(cls):
        raise ClaimCollisionError(f"two claims have the id {cls.id!r}: {_qualname(type(old))} and {_qualname(cls)}; "
                                  f"rename one (ids are namespaced by top-level package).")
    _REGISTRY[cls.id] = cls()
    return cls


def _qualname(cls: type) -> str:
    where = getattr(sys.modules.get(cls.__module__), "__file__", None) or cls.__module__
    return f"{cls.__module__}.{cls.__qualname__} ({where})"


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in AREA_MODULES:
            importlib.import_module(name)
        _loaded = True


def all_claims() -> list["Claim"]:
    """Every registered claim (built-in ones first, then user claims already loaded), in registration order."""
    _load()
    return list(_REGISTRY.values())


def builtin_claims() -> list["Claim"]:
    """The claims theorycheck ships, in report order."""
    return [c for c in all_claims() if is_builtin(c)]


def user_claims() -> list["Claim"]:
    """The user claims registered so far (without importing the built-in areas)."""
    return [c for c in _REGISTRY.values() if not is_builtin(c)]


def unregister(claim_ids: "list[str] | tuple[str, ...]") -> None:
    """Drop these ids from the registry (a user module reloaded, a test cleaning up); unknown ids are ignored."""
    for cid in claim_ids:
        _REGISTRY.pop(cid, None)


def get(claim_id: str) -> "Claim":
    """The registered claim with this id, or :class:`UnknownClaimError` listing close ids."""
    _load()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(claim_id, list(_REGISTRY), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else " Run `theorycheck list` to see them."
        raise UnknownClaimError(f"unknown claim id {claim_id!r}.{hint}") from None


__all__ = [
    "AREAS", "AREA_MODULES", "BUILTIN_PACKAGE", "EXPECTATIONS", "RunContext", "all_claims", "area_of", "area_of_id",
    "builtin_claims", "get",
    "is_builtin", "namespace_of", "register", "unregister", "user_claims",
]
