"""Figure renderers: every kind draws, guides are where the evidence says, bytes are deterministic."""

import io
import math

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest

from theorycheck.core.evidence import Figure, Series
from theorycheck.reporting.figures import (
    DPI,
    FIGSIZE,
    is_plot,
    render_curve,
    render_interval,
    render_loglog,
    render_png,
    render_scatter,
)

from _synthetic import bound_evidence, order_evidence, stability_evidence


def _decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(io.BytesIO(png), format="png")


@pytest.mark.parametrize("fig", [order_evidence().figures[0], stability_evidence().figures[0],
                                 *bound_evidence().figures[:2]], ids=lambda f: f.kind)
def test_every_plot_kind_renders_a_small_non_blank_png(fig):
    png = render_png(fig)
    img = _decode(png)
    assert img.shape[:2] == (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))
    assert img[..., :3].std() > 0.05, "blank image"
    assert len(png) < 60_000


def test_same_figure_gives_same_bytes():
    fig = order_evidence().figures[0]
    assert render_png(fig) == render_png(fig)


def _line(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_loglog_expected_order_line_has_that_slope_through_the_first_point():
    fig = order_evidence(order=2.5).figures[0]
    ax = plt.figure().add_subplot()
    render_loglog(ax, fig)
    x, y = _line(ax, "expected slope 3")
    slope = math.log(y[-1] / y[0]) / math.log(x[-1] / x[0])
    assert slope == pytest.approx(3.0)
    first = fig.series[0]
    assert y[0] * (first.x[0] / x[0]) ** 3 == pytest.approx(first.y[0])
    assert any("fitted slope 2.500" in ln.get_label() for ln in ax.get_lines())
    plt.close("all")


def test_curve_marks_eta_star_and_scatter_draws_the_diagonal():
    ax = plt.figure().add_subplot()
    render_curve(ax, stability_evidence(eta_star=0.25).figures[0])
    x, _ = _line(ax, "eta* = 0.2500")
    assert list(x) == [0.25, 0.25]
    ax = plt.figure().add_subplot()
    fig = bound_evidence().figures[0]
    render_scatter(ax, fig)
    x, y = _line(ax, "measured = bound")
    assert list(x) == list(y)
    assert x[0] <= min(fig.series[0].x + fig.series[0].y) and x[-1] >= max(fig.series[0].x + fig.series[0].y)
    plt.close("all")


def test_undrawable_points_are_dropped_with_a_note_not_an_exception():
    fig = Figure("loglog", "ladder at the floor", series=[Series("e", [0.1, 0.01, 0.001], [1e-3, 0.0, float("nan")])],
                 annotations={"expected_slope": 2})
    ax = plt.figure().add_subplot()
    notes = render_loglog(ax, fig)
    assert notes and "2 non-finite or non-positive" in notes[0]
    _decode(render_png(fig))
    plt.close("all")


def test_unknown_kind_falls_back_to_a_curve_and_tables_are_not_images():
    _decode(render_png(Figure("histogramm", "typo", series=[Series("s", [1, 2], [3, 4])])))
    table = bound_evidence().figures[2]
    assert not is_plot(table)
    with pytest.raises(ValueError, match="table"):
        render_png(table)


def test_no_duplicate_expected_line_when_the_claim_drew_its_own():
    fig = order_evidence().figures[0]
    fig.series.append(Series("expected slope 3", fig.series[0].x, fig.series[0].y, "dashed"))
    ax = plt.figure().add_subplot()
    render_loglog(ax, fig)
    assert sum(ln.get_label().startswith("expected slope 3") for ln in ax.get_lines()) == 1
    plt.close("all")


def test_interval_draws_each_estimate_with_its_confidence_interval():
    fig = Figure("interval", "effect", ylabel="log ratio", series=[Series("mean effect", ["a", "b"], [0.5, -1.0])],
                 annotations={"hline": 0.0, "ci_low": [0.2, -2.0], "ci_high": [0.9, -0.1]})
    _decode(render_png(fig))
    _, ax = plt.subplots()
    try:
        assert render_interval(ax, fig) == []
        (bars,) = [c for c in ax.containers]
        segs = bars.lines[2][0].get_segments()
        assert [(round(s[0][1], 6), round(s[1][1], 6)) for s in segs] == [(0.2, 0.9), (-2.0, -0.1)]
        misaligned = Figure("interval", "e", series=[Series("m", ["a"], [1.0])], annotations={"ci_low": [0.0]})
        assert "misaligned" in render_interval(ax, misaligned)[0]
    finally:
        plt.close("all")


def test_a_long_title_on_the_narrow_margins_axes_is_wrapped_inside_the_figure(monkeypatch):
    # the margins figure gives 42 % of its width to case names; a 64-character line centred on its axes ran off
    # the right edge ("margin per case (30 o")
    from _pixels import title_clipped

    from theorycheck.core.evidence import Figure, Series
    from theorycheck.reporting import figures

    names = [f"case {i}" for i in range(30)]
    fig = Figure("margins", "stability.mulayoff-michaeli-necessary: margin per case (30 of 45)", "margin", "",
                 series=[Series("margin", names, [(-1) ** i * 0.1 * (i + 1) for i in range(30)], "bar")],
                 annotations={"verdicts": ["PASS"] * 30})
    assert not title_clipped(figures.render_png(fig))
    wide = Figure("loglog", "SGD+M (m=2, β=1/4), random reshuffling: mean over an orthogonal array of epoch orders "
                  "vs derived L̃ flow", "h", "error", "log", "log", series=[Series("e", [0.1, 0.01], [1e-3, 1e-6])])
    assert not title_clipped(figures.render_png(wide))  # 63 characters of wide glyphs: measured, not counted
    # without the fitting, the same pixel check sees the clipped title
    monkeypatch.setattr(figures, "fit_title", lambda ax, mfig, title, frac: ax.set_title(title, fontsize=10))
    assert title_clipped(figures.render_png(fig))
