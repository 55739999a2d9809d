"""Hypothesis settings profiles ``dev``, ``ci`` and ``thorough``.

Selected by the environment variable ``THEORYCHECK_PROFILE``; when it is unset,
``ci`` is used under ``CI=true`` and ``dev`` otherwise. Every profile is
derandomized per test (``derandomize=True``) where determinism matters more
than exploration (``ci``), so a CI failure reproduces locally with
``THEORYCHECK_PROFILE=ci``.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

_COMMON: dict[str, Any] = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("ci", max_examples=40, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)

PROFILES = ("dev", "ci", "thorough")


def selected_profile() -> str:
    name = os.environ.get("THEORYCHECK_PROFILE")
    if name is None:
        name = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
    if name not in PROFILES:
        raise ValueError(f"THEORYCHECK_PROFILE={name!r}; expected one of {', '.join(PROFILES)}")
    return name


def load() -> str:
    """Load the selected profile and return its name."""
    name = selected_profile()
    settings.load_profile(name)
    return name


__all__ = [
    "PROFILES", "load", "selected_profile",
]
