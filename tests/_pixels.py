"""Pixel checks on rendered figures, shared by the figure tests and the browser test."""

from __future__ import annotations

import io

import matplotlib.image as mpimg

#: The figure renderer leaves the top 16 % of a figure to its title (``subplots_adjust(top=0.84)``).
TITLE_BAND = 0.16


def title_clipped(png: bytes, edge: int = 3) -> bool:
    """True when ink of the title band reaches the image's left or right edge: a title running off the figure."""
    img = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    band = img[: max(1, int(TITLE_BAND * img.shape[0]) - 2)]
    ink = (band < 0.6).any(axis=2)
    return bool(ink[:, :edge].any() or ink[:, -edge:].any())


__all__ = ["TITLE_BAND", "title_clipped"]
