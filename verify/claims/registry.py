"""The claim registry: every built-in claim by id, loaded on first use.

Claims are registered with :func:`register` in the area modules of
:data:`AREA_MODULES` (one module per body of theory). The area modules are
imported only when the registry is first asked for a claim, so that
``import theorycheck`` and ``theorycheck --help`` stay cheap.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from theorycheck.core.errors import UnknownClaimError

if TYPE_CHECKING:
    from theorycheck.claims.base import Claim

_ClaimT = TypeVar("_ClaimT", bound="type[Claim]")

#: Area modules that define and register the built-in claims, in report order.
AREA_MODULES: tuple[str, ...] = (
    "theorycheck.claims.backward_error",
    "theorycheck.claims.nets",
    "theorycheck.claims.stability",
    "theorycheck.claims.implicit_reg",
    "theorycheck.claims.adaptive",
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


def register(cls: _ClaimT) -> _ClaimT:
    """Class decorator: register the default instance of a claim under its id."""
    if cls.id in _REGISTRY and type(_REGISTRY[cls.id]) is not cls:
        raise RuntimeError(f"duplicate claim id {cls.id!r}")
    _REGISTRY[cls.id] = cls()
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in AREA_MODULES:
            importlib.import_module(name)
        _loaded = True


def all_claims() -> list["Claim"]:
    """Every registered claim, in registration order."""
    _load()
    return list(_REGISTRY.values())


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


__all__ = ["AREA_MODULES", "RunContext", "all_claims", "get", "register"]
