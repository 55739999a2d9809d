"""Empirical order of convergence: step ladders, log-log fits, precision floors, verdicts.

A study measures e(h) on a ladder of step sizes and fits e ≈ C h^p:

* local error (:func:`local_error_study`), one step of a map against the
  exact flow of a field over the same time,
  e(h) = ‖step(θ0, h) − φ^{F(·;h)}_h(θ0)‖₂;
* global error (:func:`global_error_study`) on a fixed horizon T,
  e(h) = ‖step^N(θ0) − φ^{F(·;h)}_T(θ0)‖₂, N = T/h.

For a map that is the exact time-h flow of F up to O(h^{p}) locally, the
global error on [0, T] is O(h^{p−1}) (Hairer, Nørsett & Wanner, *Solving ODEs
I*, Thm II.3.4; Hairer, Lubich & Wanner, *GNI*, ch. IX).

Precision
---------
Every error is a difference of two numbers of size ~‖θ‖ computed with
``digits`` significant digits, so it carries ``log10(e / noise)`` significant
digits with noise = max(1, ‖θ‖∞)·10^−digits. A point is *resolved* when
e > floor = noise·10^MIN_SIGNIFICANT (at least 3 significant digits); only
resolved points are fitted: the floor is never fitted.

``digits=None`` chooses the precision: a float64 pilot (scipy) measures
e(h_max), the smallest error is predicted as e(h_max)·(h_min/h_max)^(p+1)
(one order more than expected, so a true order one above the expectation
is still resolved) and digits = ⌈log10(scale/e_min)⌉ + TARGET_SIGNIFICANT,
rounded up to a multiple of 10 to share compiled integrators. Every
predicted error then carries ≥ 30 significant digits. An explicit
``digits`` is used at once, without a pilot; if fewer than 3 of the
*measured* errors clear the floor it raises :class:`PrecisionError` naming
the digits needed (extrapolated from the largest resolved error the same
way; with none resolved, the pilot decides whether the errors are zero).

Verdict rule (:func:`fit_order`)
--------------------------------
1. Fewer than 3 resolved points: INCONCLUSIVE (precision floor).
2. Asymptotic tail: the local slopes s_i = Δlog e / Δlog h tend to p with
   s_i − p = O(h_i), so large-h points bias a fit. Points are dropped from
   the large-h end while at least 3 remain and the local slope starting at
   the point differs from the last (most asymptotic) local slope by more
   than SETTLED = 0.1. The selection never looks at the expected order.
3. order = least-squares slope of log e on log h over the tail; its 95 %
   interval is slope ± t_{0.975, n−2}·stderr (numpy.polyfit with cov=True and
   the t distribution).
4. PASS if every local slope of the tail, and so the fit (a weighted mean
   of them), is within ``tolerance`` of the expected order: each pair of
   neighbouring resolved points confirms the order on its own. (With
   errors resolved to many digits the scatter about the line is
   deterministic curvature, not noise, so the interval's width is not asked
   to be small: with 3 points t_{0.975,1} = 12.7 would turn a 0.05 spread
   of slopes into ±0.2.)
   FAIL if |order − expected| > tolerance and the expected order is
   outside the interval.
   Otherwise INCONCLUSIVE: the slopes have not settled on this ladder.

With DEFAULT_TOL = 0.2 an expected order off by one is rejected as soon as
the fit is within 0.8 of the truth. On the zoo losses with ladders 1/8 …
1/256 the measured slopes are within 0.07 of the theoretical ones.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Sequence

import mpmath
import numpy as np

from theorycheck.core.errors import DivergenceError, InputError, PrecisionError
from theorycheck.core.evidence import Case, Figure, Series, Verdict
from theorycheck.maths.numbers import as_fraction, as_mpf, as_mpf_vector
from theorycheck.maths.optimisers import StepMap, iterate
from theorycheck.numerics.integrate import MAX_DIGITS, SCIPY_DIGITS, FlowIntegrator, make_integrator, validate_backend

if TYPE_CHECKING:  # imported where used: a study against a cached integrator runs without sympy
    from theorycheck.maths.fields import Field

DEFAULT_TOL = 0.2
SETTLED = 0.1  # local slopes within this of the last one count as asymptotic
MIN_POINTS = 3
MIN_SIGNIFICANT = 3  # a fitted error has at least this many significant digits
TARGET_SIGNIFICANT = 30  # digits=None resolves every predicted error to this many
PILOT_RESOLVED = 1e-9  # a float64 pilot error above this (relative to scale) is trusted
MAX_AUTO_DIGITS = 600
FLOAT64_RTOL = 1e-13  # DOP853 tolerance of the float64 studies


@dataclass
class OrderStudy:
    """A convergence study: the ladder, its errors, the fit and the verdict.

    Attributes
    ----------
    kind : str
        "local", "global" or "fit" (errors supplied by the caller).
    steps, errors : list of float
        The ladder (largest step first) and ‖error‖₂ as floats; ``errors_mp``
        holds the errors as high-precision decimal strings.
    order, order_ci : float or None
        Least-squares slope over the fitted points and its 95 % interval.
    intercept : float or None
        log e = intercept + order·log h (natural logs) of the fit.
    local_slopes : list of float
        Slopes between successive resolved points (``len = resolved − 1``).
    last_slope : float or None
        The most asymptotic local slope.
    floor : float
        Errors at or below this are noise; ``noise`` is the estimated
        absolute error of each measurement.
    resolved : list of bool
        Points above the floor; ``used`` the ones in the asymptotic tail fit.
    significant_digits : list of float
        log10(error / noise) per point.
    """

    kind: str
    steps: list[float]
    errors: list[float]
    expected_order: float
    tolerance: float
    order: float | None
    order_ci: tuple[float, float] | None
    local_slopes: list[float]
    floor: float
    resolved: list[bool]
    verdict: Verdict
    reason: str
    digits: int
    backend: str
    errors_mp: list[str] = field(default_factory=list)
    used: list[bool] = field(default_factory=list)
    intercept: float | None = None
    last_slope: float | None = None
    noise: float = 0.0
    significant_digits: list[float] = field(default_factory=list)
    steps_exact: list[str] = field(default_factory=list)
    against: str = ""
    horizon: str | None = None
    elapsed_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def margin(self) -> float | None:
        """tolerance − |order − expected| (positive: within tolerance)."""
        return None if self.order is None else self.tolerance - abs(self.order - self.expected_order)

    def to_case(self, name: str) -> Case:
        """The study as one evidence case; ``data`` holds the whole ladder."""
        measured: dict[str, Any] = {"order": self.order, "last_slope": self.last_slope}
        if self.order_ci is not None:
            measured["order_ci_lo"], measured["order_ci_hi"] = self.order_ci
        sig = [s for s, r in zip(self.significant_digits, self.resolved) if r]
        measured["min_significant_digits"] = min(sig) if sig else None
        measured["resolved_points"] = sum(self.resolved)
        # timings stay out of the evidence so the same seed gives the same JSON bytes
        data = {k: v for k, v in asdict(self).items()
                if k not in ("verdict", "reason", "expected_order", "tolerance", "timings", "elapsed_s")}
        return Case(name=name, verdict=self.verdict, measured=measured, expected={"order": self.expected_order},
                    tolerance={"order": self.tolerance}, margin=self.margin, note=self.reason, data=data)

    @classmethod
    def from_case(cls, case: Case) -> "OrderStudy | None":
        """The study behind a case made by :meth:`to_case` (its ``data`` holds the ladder), or None."""
        from dataclasses import fields as dc_fields

        names = {f.name for f in dc_fields(cls)}
        d = {k: v for k, v in case.data.items() if k in names}
        if "steps" not in d or "errors" not in d:
            return None
        d.update(verdict=case.verdict, reason=case.note, expected_order=case.expected.get("order", math.nan),
                 tolerance=case.tolerance.get("order", math.nan))
        if d.get("order_ci") is not None:
            d["order_ci"] = tuple(d["order_ci"])
        try:
            return cls(**d)
        except TypeError:
            return None

    def figure(self, title: str) -> Figure:
        """Log-log ladder: resolved and floor points, the fitted line, the expected slope, the floor."""
        series = []
        res = [(h, e) for h, e, r in zip(self.steps, self.errors, self.resolved) if r and e > 0]
        unres = [(h, e) for h, e, r in zip(self.steps, self.errors, self.resolved) if not r and e > 0]
        if res:
            series.append(Series("error", [h for h, _ in res], [e for _, e in res], "points"))
        if unres:
            series.append(Series("at precision floor", [h for h, _ in unres], [e for _, e in unres], "points"))
        used = [(h, e) for h, e, u in zip(self.steps, self.errors, self.used) if u]
        if self.order is not None and self.intercept is not None and used:
            hs = [used[0][0], used[-1][0]]
            series.append(Series(f"fit: slope {self.order:.3f}", hs,
                                 [math.exp(self.intercept + self.order * math.log(h)) for h in hs], "line"))
        if used:
            h_ref, e_ref = used[-1]
            hs = [self.steps[0], self.steps[-1]]
            series.append(Series(f"expected slope {self.expected_order:g}", hs,
                                 [e_ref * (h / h_ref) ** self.expected_order for h in hs], "dashed"))
        return Figure(kind="loglog", title=title, xlabel="step size h", ylabel=f"{self.kind} error",
                      xscale="log", yscale="log", series=series,
                      annotations={"expected_slope": self.expected_order, "fitted_slope": self.order,
                                   "hline": self.floor, "hline_label": "precision floor", "verdict": str(self.verdict)})


# --- fitting --------------------------------------------------------------------------------

def _validate_order_args(expected_order: Any, tolerance: Any) -> tuple[float, float]:
    try:
        p, tol = float(expected_order), float(tolerance)
    except (TypeError, ValueError):
        raise InputError(f"`expected_order` and `tolerance` must be numbers, got {expected_order!r}, {tolerance!r}.") from None
    if not math.isfinite(p):
        raise InputError(f"`expected_order` must be finite, got {expected_order!r}.")
    if not math.isfinite(tol) or tol <= 0:
        raise InputError(f"`tolerance` must be positive and finite, got {tolerance!r}.")
    return p, tol


def validate_steps(steps: Sequence[Any]) -> list[Fraction]:
    """The ladder as exact rationals, largest first; at least 3 distinct positive steps."""
    try:
        items = list(steps)
    except TypeError:
        raise InputError(f"`steps` must be a sequence of step sizes, got {steps!r}.") from None
    fr = [as_fraction(s, f"steps[{i}]") for i, s in enumerate(items)]
    bad = [s for s in fr if s <= 0]
    if bad:
        raise InputError(f"step sizes must be positive, got {bad[0]}.")
    if len(set(fr)) != len(fr):
        raise InputError("step sizes must be distinct.")
    if len(fr) < MIN_POINTS:
        raise InputError(f"a step ladder needs at least {MIN_POINTS} step sizes to fit an order, got {len(fr)}.")
    return sorted(fr, reverse=True)


def fit_order(steps: Sequence[Any], errors: Sequence[Any], *, expected_order: float, floor: Any = 0.0,
              tolerance: float = DEFAULT_TOL, noise: Any = None) -> OrderStudy:
    """Fit e ≈ C h^p over the resolved asymptotic tail and judge it (rule in the module docstring).

    Parameters
    ----------
    steps : sequence, shape (n,)
        Step sizes (floats, strings or Fractions), in any order.
    errors : sequence, shape (n,)
        Errors (floats, mpf or decimal strings); compared with ``floor``
        at full precision.
    floor : float
        Errors ≤ floor are not fitted.
    noise : float, optional
        Absolute uncertainty of each error (default floor·10^-MIN_SIGNIFICANT),
        used for ``significant_digits``.
    """
    # scipy.special, not scipy.stats: the t quantile is the same function and the module loads in a
    # fraction of the time (a `theorycheck order` process is mostly start-up)
    from scipy.special import stdtrit

    p, tol = _validate_order_args(expected_order, tolerance)
    if len(steps) != len(errors):
        raise InputError(f"`steps` and `errors` differ in length ({len(steps)} vs {len(errors)}).")
    hs = validate_steps(steps)
    order_idx = sorted(range(len(steps)), key=lambda i: as_fraction(steps[i]), reverse=True)
    with mpmath.workdps(max(mpmath.mp.dps, 50)):
        es = [abs(as_mpf(errors[i], "errors")) for i in order_idx]
        fl = as_mpf(floor, "floor")
        nz = fl * mpmath.mpf(10) ** (-MIN_SIGNIFICANT) if noise is None else as_mpf(noise, "noise")
        resolved = [bool(e > fl and e > 0) for e in es]
        log_e = [float(mpmath.log(e)) if r else math.nan for e, r in zip(es, resolved)]
        sig = [float(mpmath.log10(e / nz)) if (e > 0 and nz > 0) else (math.inf if e > 0 else 0.0) for e in es]
        # the significant digits plus two, so the strings carry what was measured and little noise
        errors_mp = [mpmath.nstr(e, mpmath.mp.dps if not math.isfinite(sg) else min(mpmath.mp.dps, max(17, math.ceil(sg) + 2)))
                     for e, sg in zip(es, sig)]
    log_h = [math.log(h) for h in hs]
    idx = [i for i, r in enumerate(resolved) if r]
    slopes = [(log_e[b] - log_e[a]) / (log_h[b] - log_h[a]) for a, b in zip(idx, idx[1:])]

    def study(verdict: Verdict, reason: str, **kw: Any) -> OrderStudy:
        return OrderStudy(kind="fit", steps=[float(h) for h in hs], errors=[float(e) for e in es], expected_order=p,
                          tolerance=tol, order=kw.get("order"), order_ci=kw.get("order_ci"), local_slopes=slopes,
                          floor=float(fl), resolved=resolved, verdict=verdict, reason=reason, digits=0, backend="",
                          errors_mp=errors_mp, used=kw.get("used", [False] * len(hs)), intercept=kw.get("intercept"),
                          last_slope=slopes[-1] if slopes else None, noise=float(nz), significant_digits=sig,
                          steps_exact=[str(h) for h in hs])

    if len(idx) < MIN_POINTS:
        return study(Verdict.INCONCLUSIVE, f"precision floor: only {len(idx)} of {len(hs)} errors above the floor "
                                           f"{float(fl):.1e} (need {MIN_POINTS}); raise the digits or use larger steps")
    # asymptotic tail: drop large-h points whose local slope has not settled on the last one
    start = 0
    while len(idx) - start > MIN_POINTS and abs(slopes[start] - slopes[-1]) > SETTLED:
        start += 1
    tail = idx[start:]
    # ordinary least squares; cov=True scales by the residual variance on n − 2 degrees of freedom
    coef, cov = np.polyfit([log_h[i] for i in tail], [log_e[i] for i in tail], 1, cov=True)
    order, intercept = float(coef[0]), float(coef[1])
    half = float(stdtrit(len(tail) - 2, 0.975) * math.sqrt(max(float(cov[0, 0]), 0.0)))
    ci = (order - half, order + half)
    used = [i in tail for i in range(len(hs))]
    dev = abs(order - p)
    dropped = f", {start} pre-asymptotic point(s) dropped" if start else ""
    desc = (f"order {order:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] over {len(tail)} points{dropped}, "
            f"last local slope {slopes[-1]:.3f}; expected {p:g} ± {tol:g}")
    tail_slopes = slopes[start:]
    worst = max(abs(s - p) for s in tail_slopes)
    if dev <= tol and worst <= tol:
        verdict, reason = Verdict.PASS, desc
    elif dev > tol and not ci[0] <= p <= ci[1]:
        verdict, reason = Verdict.FAIL, desc + f": off by {dev:.3f}"
    elif dev <= tol:
        verdict, reason = (Verdict.INCONCLUSIVE, desc + f": a local slope of the tail is {worst:.3f} from the "
                           "expected order, more than the tolerance (not settled)")
    else:
        verdict, reason = Verdict.INCONCLUSIVE, desc + ": the interval contains the expected order but the fit is off"
    return study(verdict, reason, order=order, order_ci=ci, used=used, intercept=intercept)


# --- studies ----------------------------------------------------------------------------------

def _norm(u: Sequence[Any], v: Sequence[Any]) -> Any:
    return mpmath.sqrt(mpmath.fsum((a - b) ** 2 for a, b in zip(u, v)))


def _scale(*points: Sequence[Any]) -> Any:
    return max([mpmath.mpf(1)] + [abs(x) for p in points for x in p])


def _run(step: StepMap, theta: Sequence[Any], h: Any, n: int) -> list[Any]:
    """``n`` steps of the map: from one orbit where the map offers one (a slow-manifold map, which would otherwise
    place every iterate on its manifold afresh), else step by step."""
    orbit = getattr(step, "orbit", None)
    if orbit is None:
        return iterate(step, theta, h, n)
    return orbit(theta, h, n)[-1]


def _errors(kind: str, step: StepMap, against: Field | None, theta0: Sequence[Any], hs: Sequence[Fraction],
            horizon: Fraction | None, backend: str, digits: int,
            integrator: FlowIntegrator | None = None) -> tuple[list[Any], list[Any], Any]:
    """Errors and scales on the ladder at ``digits`` (working precision = the integrator's).

    ``integrator``, when given, is the flow of ``against`` at ``digits`` already built (``against``
    may then be None).
    """
    if integrator is None:
        if against is None:
            raise InputError("an error study needs the field to measure against, or its integrator.")
        integ = make_integrator(against, backend, digits)
    else:
        integ = integrator
    errs, scales = [], []
    with mpmath.workdps(integ.working_dps):
        th = as_mpf_vector(theta0, "theta0")
        if len(th) != integ.field.dim:
            raise InputError(f"`theta0` has {len(th)} coordinates, the field has {integ.field.dim}.")
        for h in hs:
            hh = as_mpf(h, "h")
            if kind == "local":
                a = iterate(step, th, hh, 1)  # one step, with iterate's checks for leaving the domain
                b = integ.run(th, hh, hh)
            else:
                T = Fraction(0) if horizon is None else horizon  # a global study always has one (checked by _study)
                a = _run(step, th, hh, int(T / h))
                b = integ.run(th, as_mpf(T), hh)
            errs.append(_norm(a, b))
            scales.append(_scale(th, a, b))
    return errs, scales, integ


def _choose_digits(kind: str, step: StepMap, against: Field, theta0: Sequence[Any], hs: list[Fraction],
                   horizon: Fraction | None, p: float, backend: str, digits: int | None) -> tuple[int, dict[str, float]]:
    """Working digits for the study (module docstring, "Precision")."""
    t0 = time.perf_counter()
    if backend == "scipy":
        return SCIPY_DIGITS, {}
    info: dict[str, float] = {}
    pilot_digits = SCIPY_DIGITS
    errs, scales, _ = _errors(kind, step, against, theta0, hs[:1], horizon, "scipy", SCIPY_DIGITS)
    if errs[0] <= scales[0] * PILOT_RESOLVED:
        # errors near float64 resolution: a multiprecision pilot tells tiny from zero
        pilot_digits = 60
        errs, scales, _ = _errors(kind, step, against, theta0, hs[:1], horizon, backend, pilot_digits)
    info["pilot_s"] = time.perf_counter() - t0
    e0, sc = errs[0], scales[0]
    pilot_floor = sc * mpmath.mpf(10) ** (MIN_SIGNIFICANT - pilot_digits)
    if not e0 > pilot_floor:
        # at the floor even at the pilot's precision (e.g. an exact modified field): measure there
        return digits if digits is not None else pilot_digits, info
    with mpmath.workdps(30):
        ratio = mpmath.mpf(hs[-1].numerator * hs[0].denominator) / (hs[-1].denominator * hs[0].numerator)
        e_min = e0 * ratio ** (p + 1)
        need = int(mpmath.ceil(mpmath.log10(sc / e_min))) + TARGET_SIGNIFICANT
        if digits is not None:
            predicted = [e0 * (mpmath.mpf(h.numerator * hs[0].denominator) / (h.denominator * hs[0].numerator)) ** p
                         for h in hs]
            floor = sc * mpmath.mpf(10) ** (MIN_SIGNIFICANT - digits)
            ok = sum(1 for e in predicted if e > floor)
            if ok < MIN_POINTS:
                raise PrecisionError(
                    f"digits={digits} is too low for the errors requested: only {ok} of {len(hs)} predicted errors "
                    f"(down to {mpmath.nstr(predicted[-1], 3)}) clear the floor {mpmath.nstr(floor, 3)}; "
                    f"use digits >= {need} or leave it unset.")
            return digits, info
    need = max(20, int(math.ceil(need / 10) * 10))
    if need > MAX_AUTO_DIGITS:
        raise PrecisionError(f"resolving errors down to {mpmath.nstr(e_min, 3)} needs {need} digits "
                             f"(more than {MAX_AUTO_DIGITS}); use larger steps or a shorter ladder.")
    return need, info


def _check_measured_digits(kind: str, step: StepMap, against: Field | None, theta0: Sequence[Any], hs: list[Fraction],
                           horizon: Fraction | None, p: float, backend: str, digits: int, errs: Sequence[Any],
                           scale: Any, floor: Any) -> None:
    """Refuse an explicit ``digits`` with which fewer than MIN_POINTS measured errors clear the floor.

    The digits needed come from the largest resolved error e_r at step h_r, extrapolated as in
    :func:`_choose_digits`: e_min = e_r·(h_min/h_r)^(p+1), digits = ⌈log10(scale/e_min)⌉ +
    TARGET_SIGNIFICANT. With no resolved error at all the errors may be exactly zero (a field that
    is the map's exact flow), so the float64 pilot of :func:`_choose_digits` tells "too few digits"
    (it raises) from "at the floor at any precision" (it returns; the study stays INCONCLUSIVE).
    """
    resolved = [(h, e) for h, e in zip(hs, errs) if e > floor]
    if not resolved:
        if against is None:  # a prebuilt integrator without its field: no pilot can be run
            raise PrecisionError(f"digits={digits}: none of the {len(hs)} measured errors clear the floor "
                                 f"{mpmath.nstr(floor, 3)}; measure with the field to tell too few digits from "
                                 "errors that are exactly zero.")
        _choose_digits(kind, step, against, theta0, hs, horizon, p, backend, digits)
        return
    h_r, e_r = resolved[0]
    ratio = mpmath.mpf(hs[-1].numerator * h_r.denominator) / (hs[-1].denominator * h_r.numerator)
    need = int(mpmath.ceil(mpmath.log10(scale / (e_r * ratio ** (p + 1))))) + TARGET_SIGNIFICANT
    raise PrecisionError(
        f"digits={digits} is too low for the errors requested: only {len(resolved)} of {len(hs)} measured errors "
        f"(from {mpmath.nstr(max(errs), 3)} down to {mpmath.nstr(min(errs), 3)}) clear the floor "
        f"{mpmath.nstr(floor, 3)}; use digits >= {need} or leave it unset.")


def _study(kind: str, step: StepMap, against: Field | None, theta0: Sequence[Any], steps: Sequence[Any],
           horizon: Any, expected_order: float, backend: str, digits: int | None, tolerance: float,
           integrator: FlowIntegrator | None = None) -> OrderStudy:
    """The study of :func:`local_error_study` / :func:`global_error_study`.

    ``integrator``: the flow of ``against`` on ``backend`` at ``digits`` (explicit), already built,
    e.g. loaded from the cache by :meth:`~theorycheck.numerics.integrate.HeyokaIntegrator.load`
    without the symbolic field (``against`` is then None): measured and judged exactly as with
    the field.
    """
    t0 = time.perf_counter()
    validate_backend(backend)
    p, tol = _validate_order_args(expected_order, tolerance)
    if integrator is not None:
        if digits is None or integrator.digits != digits or integrator.backend != backend:
            raise InputError("a prebuilt integrator needs explicit digits and must match them and the backend.")
    else:
        from theorycheck.maths.fields import Field

        if not isinstance(against, Field):
            raise InputError(f"`against` must be a theorycheck.maths.fields.Field, got {type(against).__name__}.")
    hs = validate_steps(steps)
    T = None
    if kind == "global":
        T = as_fraction(horizon, "horizon")
        if T <= 0:
            raise InputError(f"`horizon` must be positive, got {horizon!r}.")
        bad = [h for h in hs if (T / h).denominator != 1]
        if bad:
            raise InputError(f"the horizon {T} is not a whole number of steps of size {bad[0]}.")
    if digits is not None:
        if isinstance(digits, bool) or int(digits) != digits or not 5 <= digits <= MAX_DIGITS:
            raise InputError(f"`digits` must be an integer in [5, {MAX_DIGITS}], got {digits!r}.")
        digits = int(digits)
    if not callable(step):
        raise InputError("`step` must be a callable (theta, h) -> theta_next.")
    with mpmath.workdps(20):
        as_mpf_vector(theta0, "theta0")  # fail early on bad points
    if digits is None or backend == "scipy":
        if against is None:
            raise InputError("choosing the digits needs the field itself; give `digits` with a prebuilt integrator.")
        wd, timings = _choose_digits(kind, step, against, theta0, hs, T, p, backend, digits)
    else:
        # explicit digits: measured at once and judged on the measured errors (_check_measured_digits), so
        # no float64 pilot (and no scipy) is needed
        wd, timings = digits, {}
    t1 = time.perf_counter()
    errs, scales, integ = _errors(kind, step, against, theta0, hs, T, backend, wd, integrator)
    timings["measure_s"] = time.perf_counter() - t1
    timings["compile_s"] = integ.compile_s
    with mpmath.workdps(integ.working_dps):
        noise = max(scales) * mpmath.mpf(10) ** (-integ.digits)
        floor = noise * 10 ** MIN_SIGNIFICANT
        st = fit_order(hs, errs, expected_order=p, floor=floor, tolerance=tol, noise=noise)
        if digits is not None and backend != "scipy" and sum(st.resolved) < MIN_POINTS:
            _check_measured_digits(kind, step, against, theta0, hs, T, p, backend, digits, errs, max(scales), floor)
    st.kind = kind
    st.digits = integ.digits
    st.backend = backend
    st.against = integ.field.name
    st.horizon = None if T is None else str(T)
    st.timings = timings
    st.elapsed_s = time.perf_counter() - t0
    return st


def local_error_study(step: StepMap, against: Field | None, theta0: Sequence[Any], steps: Sequence[Any], *,
                      expected_order: float, backend: str = "heyoka", digits: int | None = None,
                      tolerance: float = DEFAULT_TOL, integrator: FlowIntegrator | None = None) -> OrderStudy:
    """Local error e(h) = ‖step(θ0, h) − φ^{against(h)}_h(θ0)‖₂ on the ladder, fitted and judged.

    GD against gradient flow has local order 2; against the IGR field
    −∇(L + (h/4)‖∇L‖²) order 3 (Barrett & Dherin, ICLR 2021, Thm 3.1); against
    the modified field truncated after h^k, order k + 2 (HLW, GNI, Thm IX.1.2).

    ``integrator`` (with explicit ``digits``): the flow of ``against`` already built at those
    digits on ``backend``, e.g. :meth:`~theorycheck.numerics.integrate.HeyokaIntegrator.load`
    from the cache without the symbolic field; ``against`` may then be None.

    Raises
    ------
    InputError
        Bad ladder, point, order, tolerance or backend.
    PrecisionError
        Fewer than 3 of the errors measured at an explicit ``digits`` clear the floor.
    DivergenceError
        A map or a flow left every bounded set.
    """
    return _study("local", step, against, theta0, steps, None, expected_order, backend, digits, tolerance, integrator)


def global_error_study(step: StepMap, against: Field | None, theta0: Sequence[Any], steps: Sequence[Any], *,
                       horizon: Any, expected_order: float, backend: str = "heyoka", digits: int | None = None,
                       tolerance: float = DEFAULT_TOL, integrator: FlowIntegrator | None = None) -> OrderStudy:
    """Global error e(h) = ‖step^N(θ0) − φ^{against(h)}_T(θ0)‖₂, N = T/h, fitted and judged.

    Every step must divide the horizon T exactly (as rationals). Global order
    is the local order minus one (HNW, *Solving ODEs I*, Thm II.3.4). ``integrator`` as in
    :func:`local_error_study`.
    """
    return _study("global", step, against, theta0, steps, horizon, expected_order, backend, digits, tolerance,
                  integrator)


def float64_local_errors(step: Callable[[np.ndarray, float], np.ndarray],
                         field: Callable[[float], Callable[[float, np.ndarray], np.ndarray]],
                         theta0: np.ndarray, steps: Sequence[float], rtol: float = FLOAT64_RTOL) -> list[float]:
    """e(h) = ‖step(θ₀, h) − φ_h(θ₀)‖₂ in float64, φ the flow of ``field(h)`` (scipy DOP853).

    For problems too large for symbolic fields (a network's loss): ``field(h)``
    returns the right-hand side ``t, θ ↦ θ̇`` of the flow compared with one step
    of size h. Errors below :func:`float64_floor` are rounding.
    """
    from scipy.integrate import solve_ivp

    theta0 = np.asarray(theta0, dtype=float)
    out = []
    for h in steps:
        sol = solve_ivp(field(h), (0.0, h), theta0, method="DOP853", rtol=rtol, atol=rtol * 1e-3)
        if not sol.success:
            raise DivergenceError(f"DOP853 could not integrate the flow at h={h}: {sol.message}")
        out.append(float(np.linalg.norm(step(theta0, h) - sol.y[:, -1])))
    return out


def float64_floor(theta0: np.ndarray, rtol: float = FLOAT64_RTOL) -> float:
    """Error level below which a float64 DOP853 local error cannot be trusted: 100·rtol·(1 + ‖θ₀‖)."""
    return 100.0 * rtol * (1.0 + float(np.linalg.norm(theta0)))


__all__ = [
    "DEFAULT_TOL", "FLOAT64_RTOL", "OrderStudy", "fit_order", "float64_floor", "float64_local_errors",
    "global_error_study", "local_error_study", "validate_steps", "MAX_AUTO_DIGITS", "MIN_POINTS", "MIN_SIGNIFICANT", "PILOT_RESOLVED", "SETTLED", "TARGET_SIGNIFICANT"]
