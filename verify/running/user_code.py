"""What ``--optimizer`` and ``--loss`` name: a shipped optimiser, an installed one, or a user's file.

``--optimizer`` is one of

* a shortcut for a file shipped in :mod:`theorycheck.optimizers`
  (:data:`~theorycheck.optimizers.BUILTIN`: ``gd``, ``heavy-ball``, ``nesterov``,
  ``momentum``, ``rmsprop``, ``adam``);
* the name of an entry point in the group :data:`ENTRY_POINT_GROUP` of an installed
  package (``[project.entry-points."theorycheck.optimizers"] lookahead = "mypkg.opt:step"``);
* ``FILE.py:NAME`` or ``module:NAME``: NAME is the step function (its module's
  ``init_state`` and ``validate`` found beside it) or an optimiser object.

``--loss FILE.py:NAME`` is a Python function of named variables
(:func:`~theorycheck.maths.losses.loss_from_function`), beside a zoo name or an
expression. Files are imported through :func:`~theorycheck.running.loading.import_object`,
so a missing file or name, or an error while importing, is one line naming it.
Hyper-parameters come from ``--beta``, ``--beta1``, ``--beta2``, ``--eps`` (each
sets the hyper-parameter of that name) and ``--param NAME=VALUE``.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from typing import Any

from theorycheck.core.errors import InputError

#: The entry-point group under which a package registers an optimiser (``name = "module:step"``).
ENTRY_POINT_GROUP = "theorycheck.optimizers"
#: The hyper-parameter flags: flag → the hyper-parameter it sets.
HYPER_FLAGS = {"--beta": "beta", "--beta1": "beta1", "--beta2": "beta2", "--eps": "eps"}


def is_file_spec(text: str) -> bool:
    """Whether ``text`` reads as ``FILE.py:NAME`` or ``module:NAME`` (an expression never holds a colon)."""
    where, sep, attr = text.strip().rpartition(":")
    return bool(sep and where and attr.isidentifier())


def resolve_optimizer(spec: str) -> Any:
    """The :class:`~theorycheck.maths.protocol.Optimizer` that ``--optimizer spec`` names (module docstring)."""
    from theorycheck.maths.protocol import as_optimizer
    from theorycheck.optimizers import BUILTIN

    text = str(spec).strip()
    if text in BUILTIN:
        import importlib

        return as_optimizer(importlib.import_module(f"theorycheck.optimizers.{BUILTIN[text]}"), text, builtin=True)
    if is_file_spec(text):
        from theorycheck.running.loading import import_object

        return as_optimizer(import_object(text, "--optimizer", kind="the optimizer"), text)
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == text]
    if found:
        try:
            obj = found[0].load()
        except Exception as exc:  # noqa: BLE001 - an installed package's module: one line
            raise InputError(f"`--optimizer {text}`: cannot load the entry point {found[0].value!r}: "
                             f"{type(exc).__name__}: {exc}") from None
        return as_optimizer(obj, text)
    raise InputError(f"`--optimizer` must be one of {', '.join(BUILTIN)}, an entry point of {ENTRY_POINT_GROUP!r}, or "
                     f"FILE.py:NAME (a step function or optimiser object), got {text!r}.")


def resolve_loss(spec: str) -> Any:
    """The loss ``--loss spec`` names: a zoo name, an expression, or ``FILE.py:NAME`` (a Python function)."""
    from theorycheck.maths.losses import ZOO, get_loss, loss_from_function

    text = str(spec)
    if text in ZOO or not is_file_spec(text):
        return get_loss(text)
    from theorycheck.running.loading import import_object

    return loss_from_function(import_object(text.strip(), "--loss", kind="the loss"), text.strip())


def add_hyperparameter_arguments(p: argparse.ArgumentParser) -> None:
    """``--beta``, ``--beta1``, ``--beta2``, ``--eps`` and ``--param NAME=VALUE`` (repeatable)."""
    p.add_argument("--beta", default=None, metavar="B", help="momentum β of heavy-ball, nesterov, momentum")
    p.add_argument("--beta1", default=None, metavar="B1", help="Adam's first-moment factor β")
    p.add_argument("--beta2", default=None, metavar="B2", help="Adam's/RMSProp's second-moment factor ρ")
    p.add_argument("--eps", default=None, metavar="E", help="Adam's/RMSProp's ε, inside the square root")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="any hyper-parameter of the optimiser (a keyword parameter of its step), exact "
                        "(decimals or fractions); repeatable")


def apply_hyperparameters(optimizer: Any, args: argparse.Namespace) -> Any:
    """``optimizer`` with the hyper-parameters the flags give (one InputError naming the flags when refused)."""
    from theorycheck.running.commands.order import _fraction

    values: dict[str, Fraction] = {}
    given: list[str] = []
    for flag, name in HYPER_FLAGS.items():
        text = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if text is not None:
            values[name] = _fraction(text, f"`{flag}`")
            given.append(f"{flag} {text}")
    for item in getattr(args, "param", None) or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InputError(f"`--param` must be NAME=VALUE, got {item!r}.")
        if name in values:
            raise InputError(f"hyper-parameter `{name}` given twice.")
        values[name] = _fraction(text, f"`--param {name}`")
        given.append(f"--param {item}")
    if not values:
        return optimizer
    try:
        return optimizer.with_hyperparameters(**values)
    except InputError as exc:
        raise InputError(f"`{' '.join(given)}`: {exc}") from None


__all__ = ["ENTRY_POINT_GROUP", "HYPER_FLAGS", "add_hyperparameter_arguments", "apply_hyperparameters",
           "is_file_spec", "resolve_loss", "resolve_optimizer"]
