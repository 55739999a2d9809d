"""Exact flows of vector fields, one interface over three backends.

``flow(field, θ0, t, h=h)`` returns φ_t(θ0) for θ̇ = F(θ; h) with the step
symbol :data:`theorycheck.maths.fields.H` set to ``h``. Backends:

``heyoka``
    Adaptive Taylor method in multiprecision (``heyoka.real``) at mpmath's
    binary precision for digits + guard (≈ (digits + guard)·log₂10 bits),
    tolerance the machine epsilon of that precision (Biscani & Izzo,
    MNRAS 504 (2021) 2614). The system is compiled
    once per (field, precision), in compact mode (the default mode's code size
    grows with the Taylor order, ~90 at 256 bits, and took minutes to
    compile for a two-variable trigonometric field; compact mode 0.25 s) at
    LLVM opt level 0 (:data:`HEYOKA_OPT_LEVEL`), with ``h`` as runtime
    parameter ``par[0]``, and cached: in memory for the process, and on disk
    (:mod:`theorycheck.numerics.cache`; heyoka serialises the compiled code, so a
    later run or another worker loads it in milliseconds instead of compiling;
    :meth:`HeyokaIntegrator.load` finds it by the field's digest alone, without
    sympy); a run only resets time, state and ``h``.
``mpmath``
    ``mpmath.odefun`` (Taylor series, degree and step chosen by mpmath) at
    digits + guard decimal digits; slow, the portable reference.
``scipy``
    ``solve_ivp`` with DOP853, rtol 1e-13, float64: about 12 digits whatever
    ``digits`` asks (:attr:`FlowIntegrator.digits` records 12).

As in scipy's ``OdeSolver``, the public :meth:`FlowIntegrator.run` validates
and keeps the books and each backend fills in ``_run_impl``. All inputs go
through :func:`theorycheck.maths.optimisers.as_mpf` so that a GD map and the flow it is
compared with start from exactly the same numbers.
"""

from __future__ import annotations

import functools
import math
import sys
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Sequence, cast

import mpmath

from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths.numbers import as_mpf, as_mpf_vector
from theorycheck.maths.optimisers import DIVERGENCE_BOUND
from theorycheck.numerics import cache

if TYPE_CHECKING:  # imported where used: a cached heyoka integrator runs without sympy (HeyokaIntegrator.load)
    from theorycheck.maths.fields import Field

BACKENDS: tuple[str, ...] = ("heyoka", "mpmath", "scipy")
GUARD_DIGITS = 10  # working precision = digits + GUARD_DIGITS, so `digits` survive cancellation and step accumulation
SCIPY_DIGITS = 12  # what DOP853 at rtol 1e-13 delivers in float64
SCIPY_RTOL = 1e-13
SCIPY_ATOL = 1e-16
MAX_DIGITS = 2000
MAX_STEPS = 200_000  # heyoka steps per run before the run counts as stuck
# LLVM optimisation buys little when the arithmetic is MPFR calls: on the trig IGR field at 200 bits,
# opt_level 0 compiled in 0.11 s against 0.71 s at the default 3, and propagated 14 % slower (15.8 vs 13.9 ms);
# a study does a handful of runs per compiled system, so compile time wins
HEYOKA_OPT_LEVEL = 0


def digits_to_bits(digits: int) -> int:
    """Binary precision carrying ``digits`` decimal digits."""
    return int(math.ceil(digits * math.log2(10)))


class FlowIntegrator(ABC):
    """The exact flow of one field at one accuracy.

    Parameters
    ----------
    field : Field
    digits : int
        Significant decimal digits the result must carry; the computation
        runs at ``digits + GUARD_DIGITS``.

    Attributes
    ----------
    runs : int
        Completed runs; ``run_s`` their total wall time, ``compile_s`` the
        one-off set-up time (heyoka's JIT compilation).
    """

    backend: ClassVar[str]

    def __init__(self, field: Field, digits: int = 40) -> None:
        _check_field(field)
        if isinstance(digits, bool) or int(digits) != digits or not 1 <= digits <= MAX_DIGITS:
            raise InputError(f"`digits` must be an integer in [1, {MAX_DIGITS}], got {digits!r}.")
        self.field = field
        self.digits = int(digits)
        self.runs = 0
        self.run_s = 0.0
        self.compile_s = 0.0

    @property
    def working_dps(self) -> int:
        """Decimal digits the arithmetic is carried out in."""
        return self.digits + GUARD_DIGITS

    @property
    def accuracy(self) -> float:
        """Relative accuracy promised for the result, 10^-digits."""
        return 10.0 ** (-self.digits)

    def run(self, theta0: Sequence[Any], t: Any, h: Any = 0) -> list[Any]:
        """φ_t(θ0) of θ̇ = F(θ; h), as mpmath numbers carrying ``digits`` digits.

        Raises
        ------
        InputError
            Wrong dimension, non-finite input, negative time.
        DivergenceError
            The solution left every bounded set before time ``t``.
        """
        t0 = time.perf_counter()
        with mpmath.workdps(self.working_dps):
            th = as_mpf_vector(theta0, "theta0")
            if len(th) != self.field.dim:
                raise InputError(f"`theta0` has {len(th)} coordinates, the field has {self.field.dim}.")
            tt = as_mpf(t, "t")
            if tt < 0:
                raise InputError(f"`t` must be non-negative, got {t!r}.")
            hh = as_mpf(h, "h")
            out = th if tt == 0 else self._run_impl(th, tt, hh)
            if not all(mpmath.isfinite(x) for x in out):
                raise DivergenceError(f"the flow of {self.field.name!r} is not finite at t={mpmath.nstr(tt, 8)} (h={mpmath.nstr(hh, 8)}).")
        self.runs += 1
        self.run_s += time.perf_counter() - t0
        return list(out)

    @abstractmethod
    def _run_impl(self, theta0: list[Any], t: Any, h: Any) -> list[Any]:
        """Integrate at the current mpmath precision; inputs are mpf, t > 0."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.field.name!r}, digits={self.digits})"


class HeyokaIntegrator(FlowIntegrator):
    """Taylor integration in ``heyoka.real`` at mpmath's precision for digits + guard."""

    backend = "heyoka"

    def __init__(self, field: Field, digits: int = 40) -> None:
        super().__init__(field, digits)
        from theorycheck.maths.fields import H

        hy = import_heyoka()
        self._hy = hy
        self.bits = heyoka_bits(self.digits)
        t0 = time.perf_counter()
        # heyoka rejects parameter values for a system without parameters
        self._has_h = any(getattr(c, "has", lambda *_: False)(H) for c in field.components)
        self.cache_key = _cache_key(field_digest(field), field.dim, self.bits, hy.__version__)
        self.cached = False
        ta = _load_compiled(self.cache_key)
        if ta is None:
            ta = self._compile()
            _store_compiled(self.cache_key, ta)
        else:
            self.cached = True
        self._ta = ta
        self.compile_s = time.perf_counter() - t0

    @classmethod
    def load(cls, described: "DescribedField", digits: int) -> "HeyokaIntegrator | None":
        """The integrator of a field known only by its description, from the on-disk cache; None on a miss.

        No sympy is involved: ``described`` names the field (its :func:`field_digest`, dimension,
        whether it depends on h) as recorded when it was built, and the compiled code is the cache
        entry a :class:`HeyokaIntegrator` of that field stored. The caller builds the field itself
        when this misses.
        """
        if isinstance(digits, bool) or int(digits) != digits or not 1 <= digits <= MAX_DIGITS:
            raise InputError(f"`digits` must be an integer in [1, {MAX_DIGITS}], got {digits!r}.")
        t0 = time.perf_counter()
        hy = import_heyoka()
        bits = heyoka_bits(int(digits))
        key = _cache_key(described.digest, described.dim, bits, hy.__version__)
        ta = _load_compiled(key)
        if ta is None:
            return None
        self = cls.__new__(cls)  # FlowIntegrator.__init__ wants the sympy field this path does without
        # the compiled integrator only reads the field's name and dimension, which the description carries
        self.field = cast("Field", described)
        self.digits, self.runs, self.run_s = int(digits), 0, 0.0
        self._hy, self.bits, self._has_h, self.cache_key, self.cached, self._ta = hy, bits, described.has_h, key, True, ta
        self.compile_s = time.perf_counter() - t0
        return self

    def _compile(self) -> Any:
        hy = self._hy
        names = [str(v) for v in self.field.variables]
        hvars = hy.make_vars(*names) if len(names) > 1 else [hy.make_vars(*names)]
        sys = list(zip(hvars, self.field.heyoka(self.bits)))
        zero = hy.real(0, self.bits)
        pars = [zero] if self._has_h else []
        # tol defaults to the epsilon of `bits`; the guard digits absorb the accumulation over steps
        return hy.taylor_adaptive(sys, [zero] * self.field.dim, fp_type=hy.real, prec=self.bits, pars=pars,
                                  compact_mode=True, opt_level=HEYOKA_OPT_LEVEL)

    @property
    def taylor_order(self) -> int:
        return int(self._ta.order)

    def _real(self, x: Any) -> Any:
        """An mpf as a heyoka real, exactly (the mantissa fits in ``bits``)."""
        hy = self._hy
        x = mpmath.mpf(x)
        man, exp = x.man_exp  # unsigned mantissa
        man = -man if x < 0 else man
        if -1000 < exp < 1000:
            return hy.real(int(man), self.bits) * hy.real(2.0 ** exp, self.bits)
        return hy.real(mpmath.nstr(x, self.working_dps + 5, min_fixed=1, max_fixed=0), self.bits)

    def _run_impl(self, theta0: list[Any], t: Any, h: Any) -> list[Any]:
        hy = self._hy
        ta = self._ta
        ta.time = hy.real(0, self.bits)
        for i, x in enumerate(theta0):
            ta.state[i] = self._real(x)
        if self._has_h:
            ta.pars[0] = self._real(h)
        # near a finite-time blow-up the steps shrink geometrically and MPFR never overflows: stop at the bound
        res = ta.propagate_until(self._real(t), max_steps=MAX_STEPS, callback=_bounded)
        if res[0] != hy.taylor_outcome.time_limit:
            raise DivergenceError(f"the flow of {self.field.name!r} left |θ| ≤ {DIVERGENCE_BOUND:g} or took more than "
                                  f"{MAX_STEPS} steps (heyoka: {res[0].name} at t={float(ta.time):.6g}).")
        with mpmath.workprec(self.bits):
            return [mpmath.mpf(str(v)) for v in ta.state]


class MpmathIntegrator(FlowIntegrator):
    """``mpmath.odefun`` (Taylor series) at digits + guard decimal digits."""

    backend = "mpmath"

    def _run_impl(self, theta0: list[Any], t: Any, h: Any) -> list[Any]:
        f = self.field

        def rhs(_t: Any, y: Sequence[Any]) -> list[Any]:
            if not all(abs(v) <= DIVERGENCE_BOUND for v in y):
                raise DivergenceError(f"the flow of {f.name!r} left |θ| ≤ {DIVERGENCE_BOUND:g} (mpmath.odefun).")
            return [mpmath.mpf(v) for v in f.mpmath(y, h)]

        sol = mpmath.odefun(rhs, 0, list(theta0))
        return list(sol(t))


class ScipyIntegrator(FlowIntegrator):
    """``scipy.integrate.solve_ivp`` with DOP853 in float64 (about 12 digits)."""

    backend = "scipy"

    def __init__(self, field: Field, digits: int = SCIPY_DIGITS) -> None:
        super().__init__(field, digits)
        self.digits = SCIPY_DIGITS  # float64 gives no more, whatever was asked

    @property
    def working_dps(self) -> int:
        return 17

    def _run_impl(self, theta0: list[Any], t: Any, h: Any) -> list[Any]:
        import numpy as np
        from scipy.integrate import solve_ivp

        hf = float(h)
        f = self.field
        sol = solve_ivp(lambda _t, y: f.numpy(y, hf), (0.0, float(t)), np.array([float(x) for x in theta0]),
                        method="DOP853", rtol=SCIPY_RTOL, atol=SCIPY_ATOL)
        if not sol.success:
            raise DivergenceError(f"DOP853 failed integrating {f.name!r}: {sol.message}")
        return [mpmath.mpf(float(v)) for v in sol.y[:, -1]]


def _bounded(ta: Any) -> bool:
    """heyoka step callback: go on while every coordinate is finite and within the bound."""
    return all(abs(float(x)) <= DIVERGENCE_BOUND for x in ta.state)


#: Kind of the on-disk cache entries of compiled integrators (:mod:`theorycheck.numerics.cache`).
CACHE_KIND = "heyoka-taylor"


class DescribedField(NamedTuple):
    """What a cached heyoka integrator needs to know of its field: enough to find it and to run it.

    ``name`` and ``dim`` as in :class:`~theorycheck.maths.fields.Field`, ``digest`` its
    :func:`field_digest`, ``has_h`` whether it depends on the step symbol (heyoka's ``par[0]``).
    """

    name: str
    dim: int
    digest: str
    has_h: bool


def field_digest(field: Field) -> str:
    """The SHA-256 of a field's pickled (variables, components): the field's part of an integrator's cache key.

    sympy pickles the whole expression tree, so equal bytes mean equal fields, and pickling takes a
    millisecond where printing a large modified field (``srepr``) takes a fraction of a second. Equal
    fields that pickle differently only cost a compilation (a miss), never a wrong integrator.
    """
    import hashlib
    import pickle

    return hashlib.sha256(pickle.dumps((tuple(field.variables), tuple(field.components)), protocol=4)).hexdigest()


@functools.lru_cache(maxsize=None)  # a look-up reads the installed distributions' metadata: ~10 ms
def package_version(name: str) -> str:
    """The installed version of a distribution (``"unknown"`` when it is not installed, e.g. a bare source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        return "unknown"


def heyoka_bits(digits: int) -> int:
    """heyoka's precision for ``digits``: mpmath's binary precision at digits + guard, so an mpf input converts exactly."""
    dps = int(digits) + GUARD_DIGITS
    return max(digits_to_bits(dps), mpmath.libmp.dps_to_prec(dps))


def import_heyoka() -> Any:
    """``import heyoka``, without its sympy bridge when sympy is not loaded yet.

    heyoka imports sympy at start-up (a third of a second) only for its optional ``to_sympy`` and
    ``from_sympy``, which theorycheck does not use (:func:`theorycheck.maths.fields.to_heyoka`
    converts expressions itself). A process that has not needed sympy (a warm ``theorycheck order``)
    imports heyoka with sympy marked absent, the way heyoka starts where sympy is not installed;
    sympy itself stays importable afterwards.
    """
    # "sympy.core" rather than "sympy": a module may hold sympy as a lazy_loader handle not loaded yet
    if "heyoka" in sys.modules or "sympy.core" in sys.modules:
        import heyoka

        return heyoka
    absent = object()
    before = sys.modules.get("sympy", absent)
    sys.modules["sympy"] = None  # type: ignore[assignment]  # "not installed", for the duration of this import
    try:
        import heyoka
    finally:
        if sys.modules.get("sympy", absent) is None:
            if before is absent:
                del sys.modules["sympy"]
            else:
                sys.modules["sympy"] = before  # type: ignore[assignment]
    return heyoka


def _cache_key(digest: str, dim: int, bits: int, heyoka_version: str) -> dict[str, Any]:
    """Everything a compiled Taylor integrator depends on: the field (its :func:`field_digest`), precision,
    options, versions."""
    return {"field": digest, "dim": int(dim), "bits": int(bits), "compact_mode": True, "opt_level": HEYOKA_OPT_LEVEL,
            "fp_type": "real", "heyoka": heyoka_version, "sympy": package_version("sympy"),
            "theorycheck": package_version("theorycheck")}


def _load_compiled(key: dict[str, Any]) -> Any:
    """The cached integrator of ``key``, or None.

    heyoka serialises the compiled code with pickle, so unpickling runs whatever the entry says: only an entry
    :func:`theorycheck.numerics.cache.load` authenticated (this user's MAC) is ever unpickled.
    """
    import pickle

    payload = cache.load(CACHE_KIND, key)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - an authenticated entry that still does not load is rebuilt, never trusted
        cache.STATS["rejected"] += 1
        return None


def _store_compiled(key: dict[str, Any], ta: Any) -> None:
    import pickle

    try:
        payload = pickle.dumps(ta)
    except Exception:  # noqa: BLE001 - an integrator that cannot be serialised is simply not kept
        return
    cache.store(CACHE_KIND, key, payload)


_CLASSES: dict[str, type[FlowIntegrator]] = {c.backend: c for c in (HeyokaIntegrator, MpmathIntegrator, ScipyIntegrator)}
_CACHE: dict[tuple[Any, ...], FlowIntegrator] = {}
_CACHE_MAX = 64


def _check_field(field: Any) -> None:
    from theorycheck.maths.fields import Field

    if not isinstance(field, Field):
        raise InputError(f"`field` must be a theorycheck.maths.fields.Field, got {type(field).__name__}.")


def validate_backend(backend: str, name: str = "backend") -> str:
    """Return ``backend`` if it is one of :data:`BACKENDS`, else raise :class:`InputError` naming ``name``."""
    if backend not in BACKENDS:
        raise InputError(f"`{name}` must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    return backend


def make_integrator(field: Field, backend: str = "heyoka", digits: int = 40) -> FlowIntegrator:
    """The integrator of ``field`` on ``backend`` at ``digits``, built once and cached.

    The cache key is the field's symbolic content (variables and components),
    so two equal fields built separately share one compiled heyoka system.
    """
    validate_backend(backend)
    _check_field(field)
    if backend == "scipy":
        digits = SCIPY_DIGITS
    key = (backend, int(digits), field.variables, field.components)
    integ = _CACHE.get(key)
    if integ is None:
        integ = _CLASSES[backend](field, digits)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = integ
    return integ


def flow(field: Field, theta0: Sequence[Any], t: Any, *, h: Any = 0, backend: str = "heyoka", digits: int = 40) -> list[Any]:
    """φ_t(θ0) of θ̇ = F(θ; h) on ``backend`` to about ``digits`` significant digits."""
    return make_integrator(field, backend, digits).run(theta0, t, h)


__all__ = [
    "BACKENDS", "CACHE_KIND", "DescribedField", "FlowIntegrator", "GUARD_DIGITS", "HEYOKA_OPT_LEVEL", "HeyokaIntegrator",
    "MAX_DIGITS", "MAX_STEPS", "MpmathIntegrator", "SCIPY_ATOL", "SCIPY_DIGITS", "SCIPY_RTOL", "ScipyIntegrator",
    "digits_to_bits", "field_digest", "flow", "heyoka_bits", "import_heyoka", "make_integrator", "package_version",
    "validate_backend",
]
