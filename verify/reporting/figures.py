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
#: The expected-slope guide of a log-log ladder is drawn this factor below the data so the fit cannot hide it.
GUIDE_OFFSET = 3.0


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
    fit_present = any(s.label.lower().startswith("fit") for s in fig.series)
    for i, s in enumerate(fig.series):
        label = s.label
        slope = fitted.get(s.label) if isinstance(fitted, dict) else (fitted if i == 0 else None)
        if slope is not None and math.isfinite(_num(slope)):
            label = f"{label} (fitted slope {_num(slope):.3f})"
        if fit_present and s.label.lower().startswith("expected"):
            # a guide of the expected slope, not data: moved below the fit so that it is not hidden under it
            s = Series(s.label, s.x, [_num(y) / GUIDE_OFFSET for y in s.y], s.style)
            label = f"{label} (guide, drawn ÷{GUIDE_OFFSET:g})"
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


def _bounds_pairs(series: list[Series]) -> list[tuple[Series, Series, str]]:
    """Series pairs "<name> low" / "<name> high" over the same x: the two ends of one interval per point."""
    by_label = {s.label.lower(): s for s in series}
    out = []
    for s in series:
        low = s.label.lower()
        if low.endswith(" low") and low[:-4] + " high" in by_label:
            hi = by_label[low[:-4] + " high"]
            if list(map(_num, hi.x)) == list(map(_num, s.x)):
                out.append((s, hi, s.label[:-4]))
    return out


def render_curve(ax: Axes, fig: Figure) -> list[str]:
    """A function of one variable (rho(eta), a margin along a sweep) with vline/hline markers.

    A pair of series labelled "X low" / "X high" is drawn as one vertical interval per point, never as lines
    joining the bounds of different points (those are separate cases, not a function).
    """
    notes: list[str] = []
    logx, logy = fig.xscale == "log", fig.yscale == "log"
    pairs = _bounds_pairs(fig.series)
    paired = {id(s) for lo, hi, _ in pairs for s in (lo, hi)}
    dropped = 0
    for lo, hi, name in pairs:
        xs = [_num(x) for x in lo.x]
        ax.vlines(xs, [_num(y) for y in lo.y], [_num(y) for y in hi.y], color="tab:blue", lw=2.2, alpha=0.7,
                  label=f"{name} interval")
        ax.plot(xs, [_num(y) for y in lo.y], "_", color="tab:blue", ms=12)
        ax.plot(xs, [_num(y) for y in hi.y], "_", color="tab:blue", ms=12)
    categorical = bool(pairs)
    for s in fig.series:
        if id(s) in paired:
            continue
        if categorical:  # beside intervals the other series are values per case: points, not a curve
            xs, ys, d = _points(s, logx, logy)
            ax.plot(xs, ys, "o", color="black", ms=4.5, label=s.label, zorder=3)
            dropped += d
        else:
            dropped += _plot_series(ax, fig, s, s.label, logx, logy)
    notes = _finish(ax, fig, notes, dropped)
    if categorical:  # after _finish: setting the scale resets the ticks
        xs = sorted({_num(x) for lo, _, _ in pairs for x in lo.x})
        if all(math.isfinite(x) and float(x).is_integer() for x in xs):
            ax.set_xticks(xs, [f"{x:g}" for x in xs])
    return notes


_VERDICT_COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#6e40c9"}


def _exp_label(v: float) -> str:
    """0, or ±10^k written with mathtext (ticks of a symmetric-log axis)."""
    if v == 0:
        return "0"
    k = round(math.log10(abs(v)))
    return f"${'-' if v < 0 else ''}10^{{{k}}}$"


def render_margins(ax: Axes, fig: Figure) -> list[str]:
    """One horizontal bar per case: its margin (≥ 0 satisfied, < 0 violated), coloured by the case's verdict.

    The series' x are the case names, y the margins; ``annotations["verdicts"]`` the verdicts. The axis is
    symmetric-log so that a violation of 1e-3 and a slack of 1e2 are both visible.
    """
    notes: list[str] = []
    s = fig.series[0] if fig.series else Series("margin", [], [])
    verdicts = _as_list(fig.annotations.get("verdicts", []))
    names = [str(x) for x in s.x]
    ys = [_num(y) for y in s.y]
    finite = [abs(y) for y in ys if math.isfinite(y) and y != 0]
    colours = [_VERDICT_COLOURS.get(str(v), "gray") for v in verdicts] + ["gray"] * (len(ys) - len(verdicts))
    pos = list(range(len(ys)))[::-1]
    ax.barh(pos, [y if math.isfinite(y) else 0.0 for y in ys], color=colours, height=0.7)
    dropped = sum(not math.isfinite(y) for y in ys)
    ax.axvline(0.0, color="black", lw=1)
    lin = min(finite) if finite else 1.0
    ax.set_xscale("symlog", linthresh=max(lin, 1e-300), linscale=0.5)
    ticks = [0.0]
    for sign in (-1, 1):
        mags = [abs(y) for y in ys if math.isfinite(y) and y * sign > 0]
        if mags:  # at most four decades a side, the largest always, never two labels crowding the zero
            # decades inside the logarithmic part only (|t| ≥ linthresh): inside the linear part they crowd 0
            lo_k, hi_k = math.ceil(math.log10(min(mags))), math.ceil(math.log10(max(mags)))
            step = max(1, math.ceil((hi_k - lo_k) / 3))
            ticks += [sign * 10.0**k for k in range(hi_k, lo_k - 1, -step)]
    ticks = sorted(set(ticks))
    both = min(ticks) < 0 < max(ticks)
    ax.set_xticks(ticks, ["" if (t == 0 and both) else _exp_label(t) for t in ticks], fontsize=7)
    ax.xaxis.set_minor_locator(FixedLocator([]))
    short = [n if len(n) <= 38 else n[:36] + "…" for n in names]
    ax.set_yticks(pos, short, fontsize=6 if len(ys) > 12 else 7)
    if dropped:
        notes.append(f"{dropped} non-finite margin(s) drawn at 0")
    return notes


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
    "margins": render_margins,
}


def is_plot(fig: Figure) -> bool:
    """Whether ``fig`` becomes an image (tables are rendered as tables by the report)."""
    return fig.kind != "table"


def formula_png(latex: str, fontsize: int = 11) -> bytes:
    """A LaTeX formula (matplotlib mathtext, no TeX installation needed) as a tightly cropped PNG."""
    mfig = plt.figure(figsize=(0.01, 0.01), dpi=110)
    try:
        mfig.text(0, 0, f"${latex}$", fontsize=fontsize)
        buf = io.BytesIO()
        mfig.savefig(buf, format="png", dpi=110, bbox_inches="tight", pad_inches=0.03, transparent=True,
                     metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(mfig)


#: Characters of a 10-point title that fit across the whole figure width (:data:`FIGSIZE`), for average text.
TITLE_CHARS = 78


def wrap_title(title: str, axes_fraction: float, chars: int | None = None) -> str:
    """``title`` wrapped to the width of axes spanning ``axes_fraction`` of the figure (``chars`` per line if given).

    The title is centred on the axes, so a line wider than the axes runs off the figure's edge when the
    axes are narrow (the margins figure gives its left 42 % to case names): lines are cut to fit the axes.
    """
    width = chars if chars is not None else max(20, int(TITLE_CHARS * axes_fraction))
    return "\n".join(textwrap.wrap(title, width)) or title


def fit_title(ax: Axes, mfig: Any, title: str, axes_fraction: float) -> None:
    """Set the axes' title wrapped so that every line lies inside the figure, measured on the text as drawn.

    :func:`wrap_title` counts characters; wide glyphs (Greek, sub- and superscripts, capitals) can still make a
    line run off the edge, so the drawn extent is checked and the lines are shortened until it fits.
    """
    chars = max(20, int(TITLE_CHARS * axes_fraction))
    text = ax.set_title(wrap_title(title, axes_fraction, chars), fontsize=10)
    renderer = mfig.canvas.get_renderer()
    width = mfig.bbox.width
    while chars > 20:
        box = text.get_window_extent(renderer)
        if box.x0 >= 2 and box.x1 <= width - 2:
            break
        chars = max(20, int(chars * 0.88))
        text.set_text(wrap_title(title, axes_fraction, chars))


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
    size = FIGSIZE
    if fig.kind == "margins" and fig.series:
        size = (FIGSIZE[0], max(FIGSIZE[1], 0.9 + 0.16 * len(fig.series[0].x)))
    mfig, ax = plt.subplots(figsize=size, dpi=DPI)
    right = 0.97
    try:
        notes = pre + renderer(ax, fig)
        _log_ticks(ax)
        left = 0.42 if fig.kind == "margins" else 0.15
        # fixed margins: tight_layout measured every tick label and took half of all report time
        mfig.subplots_adjust(left=left, right=right, top=0.84, bottom=0.2 if notes else 0.15)
        fit_title(ax, mfig, fig.title, right - left)
        ax.set_xlabel(fig.xlabel, fontsize=9)
        ax.set_ylabel(fig.ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, which="major", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best", framealpha=0.85)
        if notes:
            mfig.text(0.01, 0.01, "; ".join(notes), fontsize=7, color="dimgray", va="bottom")
        buf = io.BytesIO()
        # no Software/date metadata: identical evidence gives identical bytes
        mfig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(mfig)


__all__ = [
    "DPI", "FIGSIZE", "GUIDE_OFFSET", "RENDERERS", "Renderer", "TITLE_CHARS", "fit_title", "wrap_title", "formula_png", "is_plot", "render_bar", "render_curve",
    "render_interval", "render_loglog", "render_margins", "render_png", "render_scatter",
]
