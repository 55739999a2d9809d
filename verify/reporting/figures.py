"""Matplotlib (Agg) renderers, one per :attr:`theorycheck.core.evidence.Figure.kind`.

Renderers only render: every number drawn comes from the figure's series and
annotations (the claim fits the slope; the renderer writes it in the legend).
The one thing drawn that is not data is a guide: the expected-order line of a
log-log ladder is anchored at the first measured point, and the diagonal of a
bound-vs-measured scatter spans the data.

:func:`render_png` returns small, deterministic PNG bytes (no timestamp in the
metadata, fixed size and dpi) so the same evidence gives the same report.
Points that cannot be drawn (non-finite, or non-positive on a log axis) are
left out and said so in a note under the axes, never silently.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")  # renderers run headless, in CI and in workers

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

from theorycheck.core.evidence import Figure, Series  # noqa: E402

FIGSIZE = (5.6, 3.5)  # inches; at DPI this is 504 x 315 px, readable and ~30 kB
DPI = 90

Renderer = Callable[[Axes, Figure], list[str]]


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _points(s: Series, logx: bool, logy: bool) -> tuple[list[float], list[float], int]:
    """The drawable (x, y) pairs of a series and how many were dropped."""
    xs, ys, dropped = [], [], 0
    for x, y in zip(s.x, s.y):
        fx, fy = _num(x), _num(y)
        ok = math.isfinite(fx) and math.isfinite(fy) and (fx > 0 or not logx) and (fy > 0 or not logy)
        if ok:
            xs.append(fx)
            ys.append(fy)
        else:
            dropped += 1
    dropped += abs(len(s.x) - len(s.y))
    return xs, ys, dropped


def _plot_series(ax: Axes, fig: Figure, s: Series, label: str, logx: bool, logy: bool) -> int:
    xs, ys, dropped = _points(s, logx, logy)
    if s.style == "points":
        ax.plot(xs, ys, "o", ms=4, label=label)
    elif s.style == "dashed":
        ax.plot(xs, ys, "--", lw=1.2, label=label)
    else:
        ax.plot(xs, ys, "-o", ms=3.5, lw=1.4, label=label)
    return dropped


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _lines(ax: Axes, fig: Figure, notes: list[str]) -> None:
    """Vertical and horizontal markers (eta*, rho = 1) from the annotations."""
    a = fig.annotations
    if "vline" in a:
        labels = _as_list(a.get("vline_label", ""))
        for i, v in enumerate(_as_list(a["vline"])):
            fv = _num(v)
            if math.isfinite(fv):
                lab = labels[i] if i < len(labels) and labels[i] else f"{fv:.6g}"
                ax.axvline(fv, color="crimson", ls="--", lw=1.1, label=lab)
            else:
                notes.append(f"vline {v!r} is not a finite number; not drawn")
    if "hline" in a:
        labels = _as_list(a.get("hline_label", ""))
        for i, v in enumerate(_as_list(a["hline"])):
            fv = _num(v)
            if math.isfinite(fv):
                lab = labels[i] if i < len(labels) and labels[i] else None
                ax.axhline(fv, color="gray", ls=":", lw=1.1, label=lab)


def render_loglog(ax: Axes, fig: Figure) -> list[str]:
    """Error ladder e(h): measured series, the claim's fitted slopes in the legend, the expected-order guide."""
    notes: list[str] = []
    fitted = fig.annotations.get("fitted_slope")
    dropped = 0
    for i, s in enumerate(fig.series):
        label = s.label
        slope = fitted.get(s.label) if isinstance(fitted, dict) else (fitted if i == 0 else None)
        if slope is not None and math.isfinite(_num(slope)):
            label = f"{label} (fitted slope {_num(slope):.3f})"
        dropped += _plot_series(ax, fig, s, label, True, True)
    p = fig.annotations.get("expected_slope")
    # a claim that drew its own expected-order series does not get a second, identical guide
    own_guide = any(s.label.lower().startswith("expected") for s in fig.series)
    if p is not None and fig.series and not own_guide:
        xs, ys, _ = _points(fig.series[0], True, True)
        if xs:
            x0, y0, pp = xs[0], ys[0], _num(p)
            lo, hi = min(xs), max(xs)
            ax.plot([lo, hi], [y0 * (lo / x0) ** pp, y0 * (hi / x0) ** pp], color="black", ls=":", lw=1.2,
                    label=f"expected slope {pp:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if dropped:
        notes.append(f"{dropped} non-finite or non-positive point(s) not drawn on log axes")
    return notes


def _finish(ax: Axes, fig: Figure, notes: list[str], dropped: int) -> list[str]:
    """Reference lines, the figure's axis scales, and a note on points that could not be drawn."""
    _lines(ax, fig, notes)
    ax.set_xscale(fig.xscale)
    ax.set_yscale(fig.yscale)
    if dropped:
        notes.append(f"{dropped} point(s) not drawable on these axes left out")
    return notes


def render_curve(ax: Axes, fig: Figure) -> list[str]:
    """A function of one variable (rho(eta), a margin along a sweep) with vline/hline markers."""
    notes: list[str] = []
    logx, logy = fig.xscale == "log", fig.yscale == "log"
    dropped = sum(_plot_series(ax, fig, s, s.label, logx, logy) for s in fig.series)
    return _finish(ax, fig, notes, dropped)


def render_scatter(ax: Axes, fig: Figure) -> list[str]:
    """Bound (x) against measured (y); with ``diagonal`` the line y = x, above which the bound is violated."""
    notes: list[str] = []
    logx, logy = fig.xscale == "log", fig.yscale == "log"
    dropped = 0
    allv: list[float] = []
    for s in fig.series:
        xs, ys, d = _points(s, logx, logy)
        dropped += d
        allv += xs + ys
        ax.plot(xs, ys, "o", ms=4, alpha=0.8, label=s.label)
    if fig.annotations.get("diagonal") and allv:
        lo, hi = min(allv), max(allv)
        ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="measured = bound")
        ax.fill_between([lo, hi], [lo, hi], [hi, hi], color="crimson", alpha=0.06, lw=0)
    return _finish(ax, fig, notes, dropped)


def render_bar(ax: Axes, fig: Figure) -> list[str]:
    """Grouped bars: categories from the series' x (strings allowed), one colour per series."""
    notes: list[str] = []
    cats: list[str] = []
    for s in fig.series:
        for x in s.x:
            if str(x) not in cats:
                cats.append(str(x))
    n = max(len(fig.series), 1)
    width = 0.8 / n
    for i, s in enumerate(fig.series):
        pos = [cats.index(str(x)) - 0.4 + width * (i + 0.5) for x in s.x]
        ax.bar(pos, [_num(y) for y in s.y], width=width, label=s.label)
    ax.set_xticks(range(len(cats)), cats, rotation=30 if sum(map(len, cats)) > 40 else 0, ha="right"
                  if sum(map(len, cats)) > 40 else "center", fontsize=8)
    _lines(ax, fig, notes)
    ax.set_yscale(fig.yscale)
    return notes


def render_interval(ax: Axes, fig: Figure) -> list[str]:
    """Point estimates with their confidence intervals as error bars, against categories."""
    notes: list[str] = []
    lo, hi = (_as_list(fig.annotations.get(k, [])) for k in ("ci_low", "ci_high"))
    for s in fig.series:
        ys = [_num(y) for y in s.y]
        if len(lo) == len(ys) == len(hi):
            err = [[y - _num(a) for y, a in zip(ys, lo)], [_num(b) - y for y, b in zip(ys, hi)]]
        else:
            err = None
            notes.append("intervals missing or misaligned; estimates drawn alone")
        ax.errorbar(range(len(ys)), ys, yerr=err, fmt="o", capsize=6, label=s.label)
        ax.set_xticks(range(len(ys)), [str(x) for x in s.x], fontsize=8)
        ax.set_xlim(-0.6, len(ys) - 0.4)
    _lines(ax, fig, notes)
    return notes


def _log_ticks(ax: Axes) -> None:
    """Readable log axes: over a short range label 1-2-5 in plain numbers; never the crowded minor ticks."""
    for axis, scale, lim in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()), (ax.yaxis, ax.get_yscale(), ax.get_ylim())):
        if scale != "log" or min(lim) <= 0:
            continue
        if math.log10(max(lim) / min(lim)) < 2:
            axis.set_major_locator(FixedLocator(_one_two_five(min(lim), max(lim))))
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _one_two_five(lo: float, hi: float) -> list[float]:
    """The numbers 1, 2, 5 x 10^k inside [lo, hi]."""
    out = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        out += [m * 10.0**k for m in (1, 2, 5) if lo <= m * 10.0**k <= hi]
    return out


RENDERERS: dict[str, Renderer] = {
    "loglog": render_loglog,
    "curve": render_curve,
    "scatter": render_scatter,
    "bar": render_bar,
    "interval": render_interval,
}


def is_plot(fig: Figure) -> bool:
    """Whether ``fig`` becomes an image (tables are rendered as tables by the report)."""
    return fig.kind != "table"


def render_png(fig: Figure) -> bytes:
    """Draw ``fig`` with its kind's renderer and return PNG bytes.

    Unknown kinds fall back to :func:`render_curve` with a note. Raises
    ``ValueError`` for ``kind == "table"`` (not a plot; see :func:`is_plot`).
    """
    if not is_plot(fig):
        raise ValueError("table figures are rendered as tables, not images")
    renderer = RENDERERS.get(fig.kind)
    pre: list[str] = []
    if renderer is None:
        pre.append(f"unknown figure kind {fig.kind!r}; drawn as a curve")
        renderer = render_curve
    mfig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    try:
        notes = pre + renderer(ax, fig)
        _log_ticks(ax)
        ax.set_title("\n".join(textwrap.wrap(fig.title, 64)) or fig.title, fontsize=10)
        ax.set_xlabel(fig.xlabel, fontsize=9)
        ax.set_ylabel(fig.ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, which="major", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best", framealpha=0.85)
        if notes:
            mfig.text(0.01, 0.01, "; ".join(notes), fontsize=7, color="dimgray", va="bottom")
        # fixed margins: tight_layout measured every tick label and took half of all report time
        mfig.subplots_adjust(left=0.15, right=0.97, top=0.84, bottom=0.2 if notes else 0.15)
        buf = io.BytesIO()
        # no Software/date metadata: identical evidence gives identical bytes
        mfig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(mfig)


__all__ = [
    "DPI", "FIGSIZE", "RENDERERS", "Renderer", "is_plot", "render_bar", "render_curve", "render_interval",
    "render_loglog", "render_png", "render_scatter",
]
