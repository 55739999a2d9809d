"""What the strategies share: a parameter may be a value or a strategy to draw it from."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def value(draw: st.DrawFn, x: Any) -> Any:
    """``draw(x)`` when ``x`` is a strategy, else ``x`` itself."""
    return draw(x) if isinstance(x, st.SearchStrategy) else x


__all__ = ["value"]
