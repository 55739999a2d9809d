"""The slow manifold of any optimiser of the protocol: its expansion in h, and the orbit on it at high precision.

An optimiser (:mod:`theorycheck.maths.protocol`) is a map z = (θ, s) ↦
(Θ(θ, s, h), Σ(θ, s, h)) on parameters θ ∈ ℝ^d and state s ∈ ℝ^m. At h = 0 it
leaves θ where it is and the state relaxes to a fixed point s = S₀(θ); when
that fixed point attracts (the state's modes decay by factors below 1, e.g.
β for momentum), the points (θ, S₀(θ)) form a manifold of fixed points, and
for small h the map has an attracting invariant manifold near it, the *slow
manifold* s = S(θ; h) (Kovachki & Stuart, JMLR 22, 2021, for momentum; the
persistence of normally hyperbolic invariant manifolds, Fenichel 1971). Late
in training the iterates lie on it, and θ moves by the near-identity map

    Ψ_h(θ) = Θ(θ, S(θ; h), h) = θ + hψ₁(θ) + h²ψ₂(θ) + …,

which has a modified equation (:mod:`theorycheck.maths.optimizer_field`).

Expansion (:func:`expand`). With S = S₀ + hS₁ + h²S₂ + …, invariance of the
manifold under the step is

    Σ(θ, S(θ; h), h) = S(Ψ_h(θ); h).

Order 0: Σ(θ, S₀, 0) = S₀ and Θ(θ, S₀, 0) = θ fix S₀ (solved as a linear system;
the state updates of momentum and of Adam's moments are affine in the state).
Order k ≥ 1: with S₀ … S_{k−1} known and the unknown u = S_k, both sides are
expanded to h^k by running the step on truncated series
(:mod:`theorycheck.maths.series`), S_j(Ψ_h) by Taylor expansion about θ. The
h^k coefficient is affine in u, (I − ∂_sΣ₀ + S₀′∂_sΘ₀)u = b, which is solvable
exactly when no state mode has the factor 1 (a step counter or an accumulating
sum has no slow manifold: refused). Then ψ_k = [h^k] Θ(θ, S, h).

Everything is computed for a *generic* loss: ∂^αL is the symbol L_α and the
total derivative D_j acts by L_α ↦ L_{α+e_j} (the jet idea of
:mod:`theorycheck.maths.jets`, here over sympy expressions so that roots and
quotients are allowed); :meth:`SlowManifold.concrete` substitutes the derivatives
of the concrete loss. The expressions stay small, and an identity between two
generic results holds for every smooth loss in d variables.

Orbit (:func:`slow_orbit`). Numerically, θ₀ is placed on the slow manifold by
shooting: Newton on the start θ_s of a run that begins on the manifold of
fixed points (or on the truncated S(θ; h) when the expansion is at hand) and
reaches θ₀ after N steps, N chosen so that the fast modes, decaying by ρ per
step (:func:`fast_factor`), are below the working precision at θ₀.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths.numbers import as_mpf, as_mpf_vector
from theorycheck.maths.protocol import DIVERGENCE_BOUND, Optimizer, as_optimizer, mpmath_gradient
from theorycheck.maths.series import NotSmoothError, Series, deciding, lift

#: Longest transient (steps) the shooting runs: a state that settles more slowly is refused.
MAX_TRANSIENT = 5000
#: A state mode whose factor is within this of 1 does not settle.
UNIT_FACTOR = 1e-9

# --- the generic jet: L_α as symbols, the total derivative ---------------------------------------------------

_JET: dict[tuple[int, ...], sp.Dummy] = {}
_ALPHA: dict[sp.Dummy, tuple[int, ...]] = {}


def jet_symbol(alpha: Sequence[int]) -> sp.Dummy:
    """The symbol L_α standing for ∂^αL at θ (one per multi-index, shared by every derivation)."""
    a = tuple(int(x) for x in alpha)
    s = _JET.get(a)
    if s is None:
        s = sp.Dummy("L_" + "_".join(map(str, a)))
        _JET[a], _ALPHA[s] = s, a
    return s


def jet_index(symbol: Any) -> tuple[int, ...] | None:
    """α of the symbol L_α (None for any other symbol)."""
    return _ALPHA.get(symbol)


def total_derivative(expr: sp.Expr, j: int, variables: Sequence[sp.Symbol]) -> sp.Expr:
    """D_j expr = ∂expr/∂θ_j + Σ_α ∂expr/∂L_α · L_{α+e_j}: the derivative along θ_j of a jet expression."""
    out = sp.diff(expr, variables[j])
    for s in expr.free_symbols:
        a = _ALPHA.get(s)  # type: ignore[call-overload]
        if a is not None:
            up = list(a)
            up[j] += 1
            out = out + sp.diff(expr, s) * jet_symbol(up)
    return out


def concrete(expr: sp.Expr, loss: Any) -> sp.Expr:
    """A jet expression with ∂^αL of the concrete ``loss`` substituted for every L_α."""
    table = {s: loss.derivative(_ALPHA[s]) for s in expr.free_symbols if s in _ALPHA}
    return expr.xreplace(table) if table else expr


def _unit(d: int, i: int) -> tuple[int, ...]:
    return tuple(int(k == i) for k in range(d))


def _multi_indices(d: int, top: int) -> list[tuple[int, ...]]:
    """Every α ∈ ℕ^d with 1 ≤ |α| ≤ top, by increasing |α|."""
    out: list[tuple[int, ...]] = []
    level = [tuple([0] * d)]
    for _ in range(top):
        nxt = sorted({a[:i] + (a[i] + 1,) + a[i + 1:] for a in level for i in range(d)}, reverse=True)
        out += nxt
        level = nxt
    return out


def _monomials(delta: Sequence[Series], top: int) -> dict[tuple[int, ...], Series]:
    """δ^α/α! for 1 ≤ |α| ≤ top (δ = O(h), so terms beyond the series' order vanish)."""
    d = len(delta)
    out: dict[tuple[int, ...], Series] = {}
    for a in _multi_indices(d, top):
        i = max(k for k in range(d) if a[k])
        lower = a[:i] + (a[i] - 1,) + a[i + 1:]
        prev = out.get(lower)
        term = delta[i] if prev is None else prev * delta[i]
        out[a] = term / a[i]
    return out


def series_gradient(loss: Any, order: int) -> Callable[[Sequence[Any]], list[Series]]:
    """``grad(point)`` on series: ∇L(θ + δ) = Σ_β L_{β+e_i} δ^β/β! for a generic loss (the derivatives of ``loss``
    itself at a point whose order-0 part is not θ)."""
    xs = loss.variables
    d = len(xs)

    def grad(point: Sequence[Any]) -> list[Series]:
        pts = [lift(p, order) for p in point]
        if len(pts) != d:
            raise InputError(f"grad(point) needs {d} coordinates, got {len(pts)}.")
        x0 = [p.c[0] for p in pts]
        delta = [Series([sp.S.Zero, *p.c[1:]]) for p in pts]
        moving = any(any(c != 0 for c in s.c) for s in delta)
        generic = all(a == b for a, b in zip(x0, xs))
        monos = _monomials(delta, order) if moving else {}
        out = []
        for i in range(d):
            if generic:
                def value(a: tuple[int, ...]) -> sp.Expr:
                    return jet_symbol(a)
            else:
                shift = dict(zip(xs, x0))

                def value(a: tuple[int, ...]) -> sp.Expr:
                    return loss.derivative(a).xreplace(shift)
            e = _unit(d, i)
            acc = Series.constant(value(e), order)
            for b, mono in monos.items():
                acc = acc + mono * value(tuple(x + y for x, y in zip(b, e)))
            out.append(acc)
        return out

    return grad


# --- the expansion ---------------------------------------------------------------------------------------------


def _solve_affine(equations: Sequence[sp.Expr], unknowns: Sequence[sp.Symbol], opt: Optimizer, k: int) -> list[sp.Expr]:
    """The unique solution u of the affine equations (InputError when there is none or many)."""
    eqs = [e for e in equations if e != 0]
    if not unknowns:
        return []
    try:
        A, b = sp.linear_eq_to_matrix(eqs, list(unknowns))
    except sp.solvers.solveset.NonlinearError:
        raise InputError(f"{opt.describe()}: the fixed point of its state at h = 0 solves a nonlinear equation; the "
                         "symbolic route needs a state update affine in the state (as momentum and moment averages "
                         "are); use the derivative-free route.") from None
    if A.shape[0] == A.shape[1]:
        det = A.det()
        if det == 0:
            raise _no_settling(opt, k)
        return list(A.LUsolve(b))
    sol = sp.linsolve((A, b), list(unknowns))
    if not sol:
        raise InputError(f"{opt.describe()}: at order h^{k} its state has no consistent expansion (no slow manifold).")
    (values,) = tuple(sol)
    if any(v.free_symbols & set(unknowns) for v in values):
        raise _no_settling(opt, k)
    return list(values)


def _no_settling(opt: Optimizer, k: int) -> InputError:
    return InputError(f"{opt.describe()}: its state does not settle onto a slow manifold (a state mode with factor 1 "
                      f"at h = 0, e.g. a step counter or an accumulating sum; found at order h^{k}): no modified "
                      "equation on a slow manifold exists. Write decaying quantities (β^k) as state that decays.")


@dataclass
class SlowManifold:
    """The expansion of a rule's slow manifold and of the θ-map on it, for a generic loss.

    Attributes
    ----------
    optimizer : Optimizer
    loss : Loss
    state : list of list of sympy.Expr
        S₀, S₁, …: ``state[k][i]`` is the h^k coefficient of state entry i (jet symbols L_α for ∂^αL).
    psi : list of list of sympy.Expr
        ψ₀ = θ, ψ₁, …: ``psi[k][i]`` is the h^k coefficient of coordinate i of Ψ_h(θ).
    point : tuple or None
        Where comparisons in the step were decided (None: the step has none).
    """

    optimizer: Optimizer
    loss: Any
    state: list[list[sp.Expr]]
    psi: list[list[sp.Expr]]
    point: tuple[Any, ...] | None = None
    _state_fn: Callable[[Sequence[Any], Any], list[Any]] | None = field(default=None, repr=False)
    _flow_fn: Callable[[Sequence[Any]], list[Any]] | None = field(default=None, repr=False)

    @property
    def state_size(self) -> int:
        return len(self.state[0]) if self.state else 0

    @property
    def order(self) -> int:
        """The highest power of h in ψ."""
        return len(self.psi) - 1

    def concrete(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with the derivatives of the loss substituted (:func:`concrete`)."""
        return concrete(expr, self.loss)

    def state_function(self) -> Callable[[Sequence[Any], Any], list[Any]] | None:
        """(θ, h) ↦ S₀(θ) + hS₁(θ) + … in mpmath (the start of the shooting); None without state (compiled once)."""
        if not self.state_size:
            return None
        if self._state_fn is None:
            self._state_fn = self._compile_state()
        return self._state_fn

    def leading_flow(self) -> Callable[[Sequence[Any]], list[Any]]:
        """θ ↦ F₀(θ) = ψ₁(θ), the leading flow, in mpmath (compiled once)."""
        if self._flow_fn is None:
            fn = sp.lambdify(self.loss.variables, [self.concrete(c) for c in self.psi[1]], modules="mpmath", cse=True)
            self._flow_fn = lambda theta: [mpmath.mpmathify(v) for v in fn(*theta)]
        return self._flow_fn

    def _compile_state(self) -> Callable[[Sequence[Any], Any], list[Any]]:
        hs = sp.Dummy("h")
        comps = [sp.Add(*[hs**k * self.concrete(S[i]) for k, S in enumerate(self.state)])
                 for i in range(self.state_size)]
        fn = sp.lambdify((self.loss.variables, hs), comps, modules="mpmath", cse=True)

        def state_at(theta: Sequence[Any], h: Any) -> list[Any]:
            return [mpmath.mpf(v) if not isinstance(v, (mpmath.mpf, mpmath.mpc)) else v for v in fn(tuple(theta), h)]

        return state_at


def _point_decider(opt: Optimizer, loss: Any, point: Sequence[Any], unknowns: Sequence[sp.Symbol]
                   ) -> Callable[[sp.Expr, bool], int]:
    """The sign at ``point`` of an expression in θ, L_α and the order-0 state unknowns (the settled state there)."""
    from theorycheck.maths.numbers import as_fraction

    exact = [as_fraction(p, "point") for p in point]
    values: dict[Any, Any] = {x: sp.Rational(p.numerator, p.denominator) for x, p in zip(loss.variables, exact)}
    cache: dict[sp.Dummy, Any] = {}
    unknown = set(unknowns)

    def sign_of(expr: sp.Expr, guard: bool = False) -> int:
        if expr.free_symbols & unknown and not unknown <= set(values):
            if guard:
                return 2  # a guard on the unknown state: the solve for the state decides
            # a decision on the state itself at h = 0: the settled state at the point, found once
            with mpmath.workdps(40):
                settled = settle(opt, loss, as_mpf_vector(point, "point"))
            values.update({u: sp.Float(mpmath.nstr(v, 40), 40) for u, v in zip(unknowns, settled)})
        table = dict(values)
        for s in expr.free_symbols:
            a = _ALPHA.get(s)  # type: ignore[call-overload]
            if a is not None:
                if s not in cache:
                    cache[s] = sp.N(loss.derivative(a).xreplace(
                        {x: values[x] for x in loss.variables}), 40)
                table[s] = cache[s]
        v = sp.N(expr.xreplace(table), 30)
        if not v.is_real:
            raise NotSmoothError("the step compares a value that is not real at the point")
        return 0 if abs(v) < sp.Float("1e-25") else (1 if v > 0 else -1)

    return sign_of


def expand(optimizer: Any, loss: Any, order: int, point: Sequence[Any] | None = None) -> SlowManifold:
    """The slow manifold S₀ … and the θ-map coefficients ψ₁ … ψ_order of ``optimizer`` (module docstring).

    Parameters
    ----------
    optimizer : Optimizer or anything :func:`~theorycheck.maths.protocol.as_optimizer` accepts
    loss : Loss
        Fixes the dimension d and the variables (the expansion is generic in its derivatives).
    order : int
        The highest power of h of Ψ_h wanted (the modified field to h^K needs ψ up to h^{K+1}).
    point : sequence of d numbers, optional
        Where comparisons in the step (sign, clipping, max) are decided; needed only by such steps.

    Raises
    ------
    InputError
        The step cannot be evaluated on series (file and line named), is not smooth at the point, does not reduce
        to θ at h = 0, or its state does not settle.
    """
    opt = as_optimizer(optimizer)
    key = (id(opt), tuple(sorted((k, str(v)) for k, v in opt.hyperparameters.items())), loss, int(order),
           None if point is None else tuple(str(p) for p in point))
    hit = _EXPANSIONS.get(key)
    if hit is not None and hit[0] is opt:
        return hit[1]
    out = _expand(opt, loss, int(order), None if point is None else tuple(point))
    if len(_EXPANSIONS) > 64:
        _EXPANSIONS.clear()
    _EXPANSIONS[key] = (opt, out)
    return out


_EXPANSIONS: dict[tuple[Any, ...], tuple[Optimizer, SlowManifold]] = {}


def _expand(opt: Optimizer, loss: Any, order: int, point: tuple[Any, ...] | None) -> SlowManifold:
    if order < 0:
        raise InputError(f"order must be ≥ 0, got {order}.")
    xs = list(loss.variables)
    m = len(opt.initial_state(xs, kind="sympy"))
    u = [sp.Dummy(f"s{i}") for i in range(m)]
    sign_of = _point_decider(opt, loss, point, u) if point is not None else None

    def run(k: int, state: list[Series]) -> tuple[list[Series], list[Series]]:
        theta = [Series.constant(x, k) for x in xs]
        with deciding(sign_of):
            th, st = opt.apply(theta, state, series_gradient(loss, k), Series.variable(k), kind="series")
        return [lift(x, k) for x in th], [lift(x, k) for x in st]

    # order 0: the fixed point of the state at h = 0, where θ must not move
    th0, st0 = run(0, [Series([ui]) for ui in u])
    moved = [a.c[0] - x for a, x in zip(th0, xs)]
    S0 = _solve_affine([s.c[0] - ui for s, ui in zip(st0, u)] + moved, u, opt, 0)
    table0 = dict(zip(u, S0))
    if any(sp.simplify(e.xreplace(table0)) != 0 for e in moved):
        raise InputError(f"{opt.describe()}: at h = 0 its step moves θ (θ⁺ ≠ θ at the settled state); the protocol "
                         "needs a rule that reduces to θ⁺ = θ as h → 0, with h the step size.")
    state_terms: list[list[sp.Expr]] = [S0]
    psi: list[list[sp.Expr]] = [list(xs)]
    for k in range(1, order + 1):
        series_state = [Series([*(S[i] for S in state_terms), u[i]]) for i in range(m)]
        th, st = run(k, series_state)
        top = [x.c[k] for x in th]
        needs_state = any(e.free_symbols & set(u) for e in top)
        if k < order or needs_state:
            delta = [Series([sp.S.Zero, *x.c[1:]]) for x in th]
            rhs = _compose_state(state_terms, delta, xs, k)
            Sk = _solve_affine([s.c[k] - r.c[k] - ui for s, r, ui in zip(st, rhs, u)], u, opt, k)
            state_terms.append(Sk)
            top = [e.xreplace(dict(zip(u, Sk))) for e in top]
        psi.append(top)
    return SlowManifold(opt, loss, state_terms, psi, point)


def _compose_state(terms: Sequence[Sequence[sp.Expr]], delta: Sequence[Series], xs: Sequence[sp.Symbol],
                   k: int) -> list[Series]:
    """Σ_{j<k} h^j S_j(θ + δ) to h^k, S_j(θ + δ) = Σ_β D^βS_j δ^β/β! (δ = O(h))."""
    d = len(xs)
    m = len(terms[0]) if terms else 0
    monos = _monomials(delta, k)
    out = [Series.constant(0, k) for _ in range(m)]
    shift = Series.variable(k)
    for j, S in enumerate(terms):
        hj = Series.constant(1, k)
        for _ in range(j):
            hj = hj * shift
        for i in range(m):
            acc = Series.constant(S[i], k)
            derivs: dict[tuple[int, ...], sp.Expr] = {tuple([0] * d): S[i]}
            for a, mono in monos.items():
                if sum(a) > k - j:
                    continue
                c = max(q for q in range(d) if a[q])
                lower = a[:c] + (a[c] - 1,) + a[c + 1:]
                derivs[a] = total_derivative(derivs[lower], c, xs)
                if derivs[a] != 0:
                    acc = acc + mono * derivs[a]
            out[i] = out[i] + hj * acc
    return out


# --- numerics: the state at h = 0, its factor, the orbit --------------------------------------------------------


def settle(optimizer: Any, loss: Any, theta: Sequence[Any], max_steps: int = MAX_TRANSIENT) -> list[Any]:
    """The state's fixed point at h = 0 with θ held (iterating the step at h = 0 from ``init_state(θ)``), in mpmath
    at the current precision."""
    opt = as_optimizer(optimizer)
    th = as_mpf_vector(theta, "theta")
    st = opt.initial_state(th)
    if not st:
        return []
    grad = mpmath_gradient(loss)
    zero = mpmath.mpf(0)
    tol = mpmath.mpf(10) ** (-int(mpmath.mp.dps) + 3)
    change = mpmath.inf
    for _ in range(max_steps):
        _, nxt = opt.apply(th, st, grad, zero)
        if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) and abs(v) <= DIVERGENCE_BOUND
                   for v in map(mpmath.mpmathify, nxt)):
            raise InputError(f"{opt.describe()}: its state diverges at h = 0 (no fixed point to settle onto).")
        scale = max([mpmath.mpf(1)] + [abs(v) for v in nxt])
        change = max(abs(a - b) for a, b in zip(nxt, st))
        st = list(nxt)
        if change <= tol * scale:
            return st
    raise InputError(f"{opt.describe()}: its state never settles at θ₀ (after {max_steps} steps at h = 0 it still "
                     f"changes by {mpmath.nstr(change, 3)}): there is no slow manifold to place θ₀ on. A state that "
                     "counts or accumulates has none; one that settles by a factor close to 1 needs a smaller factor.")


def fast_factor(optimizer: Any, loss: Any, theta: Sequence[Any], state: Sequence[Any] | None = None) -> float:
    """ρ: the largest factor by which the state's modes decay per step at h = 0 (0 for a stateless rule).

    From the Jacobian of the step at h = 0 at the settled state (forward differences at the current precision):
    of ∂s⁺/∂s when θ⁺ does not depend on the state there, else of the whole map with the d eigenvalues 1 of the
    manifold of fixed points removed. ``state``: the settled state at θ when known (else found by :func:`settle`).
    """
    opt = as_optimizer(optimizer)
    th = as_mpf_vector(theta, "theta")
    st = settle(opt, loss, th) if state is None else [as_mpf(x, "state") for x in state]
    m, d = len(st), len(th)
    if m == 0:
        return 0.0
    grad = mpmath_gradient(loss)
    zero = mpmath.mpf(0)
    eps = mpmath.mpf(10) ** (-(int(mpmath.mp.dps) // 2))
    base_th, base_st = opt.apply(th, st, grad, zero)
    z = th + st
    J = mpmath.matrix(d + m, d + m)
    for j in range(d + m):
        zp = list(z)
        zp[j] += eps
        a, b = opt.apply(zp[:d], zp[d:], grad, zero)
        for i, (new, old) in enumerate(zip(a + b, base_th + base_st)):
            J[i, j] = (new - old) / eps
    coupled = max((abs(J[i, d + j]) for i in range(d) for j in range(m)), default=0)
    if coupled < eps * 100:
        block = mpmath.matrix(m, m)
        for i in range(m):
            for j in range(m):
                block[i, j] = J[d + i, d + j]
        rho = float(max(abs(e) for e in mpmath.eig(block, left=False, right=False)))
    else:
        eig = sorted(mpmath.eig(J, left=False, right=False), key=lambda e: abs(e - 1))
        rho = float(max(abs(e) for e in eig[d:]))
    if rho >= 1 - UNIT_FACTOR:
        raise InputError(f"{opt.describe()}: its state is multiplied by up to {rho:.6g} per step at h = 0, so it "
                         "does not decay and there is no slow manifold; its modes must shrink (a momentum factor "
                         "below 1, for instance).")
    return rho


def transient_steps(rho: float, digits: int, h: Any = None, start_order: int = 0) -> int:
    """N with ρ^N·h^{start_order+1} ≤ 10^{−digits} (the fast modes left at θ₀ after N steps from a start accurate to
    O(h^{start_order+1})); refused beyond :data:`MAX_TRANSIENT`."""
    if rho <= 0:
        return 2
    if rho >= 1 - UNIT_FACTOR:
        raise InputError(f"the state is multiplied by up to {rho:.6g} per step at h = 0: it does not decay, so there "
                         "is no slow manifold.")
    need = digits * math.log(10)
    if h is not None:
        need += (start_order + 1) * math.log(float(h))
    n = max(2, int(math.ceil(need / -math.log(rho))) + 2)
    if n > MAX_TRANSIENT:
        raise InputError(f"the state shrinks by a factor {rho:.6g} per step: placing θ₀ on its slow manifold needs "
                         f"{n} steps (more than {MAX_TRANSIENT}); use a smaller momentum factor or fewer digits.")
    return n


def slow_orbit(optimizer: Any, loss: Any, theta0: Sequence[Any], h: Any, n: int, digits: int | None = None, *,
               manifold: SlowManifold | None = None, rho: float | None = None) -> list[list[Any]]:
    """θ₀, θ₁, …, θ_n of ``optimizer`` on its slow manifold through θ₀ (mpmath at ``digits``, default the caller's).

    Shooting (module docstring): Newton on the start θ_s of a run of N steps that ends at θ₀. The run starts on
    S(θ_s; h) truncated (``manifold``) or on the settled state at h = 0. A stateless rule is simply iterated.
    Keep N·h of order one: the start lies a time ≈ N·h upstream, and Newton must invert the run.
    """
    from theorycheck.maths.momentum import _newton

    opt = as_optimizer(optimizer)
    digits = int(mpmath.mp.dps) if digits is None else int(digits)
    grad = mpmath_gradient(loss)
    with mpmath.workdps(digits + 10):
        th0 = as_mpf_vector(theta0, "theta0")
        hh = as_mpf(h, "h")
        if not opt.initial_state(th0):
            path = [th0]
            for _ in range(int(n)):
                path.append(_checked(opt, opt.apply(path[-1], [], grad, hh)[0], hh))
            return path
        start_state = manifold.state_function() if manifold is not None else None
        start_order = len(manifold.state) - 1 if manifold is not None and start_state is not None else 0
        if rho is None:
            rho = fast_factor(opt, loss, th0, None if start_state is None else start_state(th0, 0))
        factor = rho
        N = transient_steps(factor, digits + 2, hh, start_order)

        def run(start: list[Any], steps: int) -> list[list[Any]]:
            st = start_state(start, hh) if start_state is not None else settle(opt, loss, start)
            th, path = list(start), [list(start)]
            for _ in range(steps):
                th, st = opt.apply(th, st, grad, hh)
                path.append(_checked(opt, th, hh))
            return path

        def miss(*start: Any) -> list[Any]:
            end = run(list(start), N)[-1]
            return [e - t for e, t in zip(end, th0)]

        guess = _upstream(manifold, th0, N * hh) if manifold is not None else None
        try:
            start = _newton(miss, th0, digits, what=opt.label, guess=guess)
        except (ZeroDivisionError, OverflowError, DivergenceError):
            raise DivergenceError(f"could not place θ₀ on the slow manifold of {opt.label}: a run of {N} steps from "
                                  f"upstream diverged at h = {mpmath.nstr(hh, 6)}; try smaller steps or more digits "
                                  "(`order --steps`, `--digits`).") from None
        return [list(q) for q in run(start, N + int(n))[N:]]


def _upstream(manifold: SlowManifold, theta: Sequence[Any], time: Any, substeps: int = 64) -> list[Any] | None:
    """θ₀ carried a ``time`` upstream along the leading flow F₀ = ψ₁ (classical RK4 backwards at 20 digits): where
    the shooting's run should start. None when that leaves every bounded set (then Newton starts from the drift of
    a forward run instead)."""
    flow = manifold.leading_flow()
    try:
        with mpmath.workdps(20):
            y = [mpmath.mpf(x) for x in theta]
            dt = -mpmath.mpf(time) / substeps
            for _ in range(substeps):
                k1 = flow(y)
                k2 = flow([a + dt / 2 * b for a, b in zip(y, k1)])
                k3 = flow([a + dt / 2 * b for a, b in zip(y, k2)])
                k4 = flow([a + dt * b for a, b in zip(y, k3)])
                y = [a + dt / 6 * (p + 2 * q + 2 * r + w) for a, p, q, r, w in zip(y, k1, k2, k3, k4)]
                if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) and abs(v) < 1e6 for v in y):
                    return None
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return [+v for v in y]


def _checked(opt: Optimizer, th: Sequence[Any], h: Any) -> list[Any]:
    if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) and abs(v) <= DIVERGENCE_BOUND
               for v in map(mpmath.mpmathify, th)):
        raise DivergenceError(f"{opt.describe()} diverged with h={mpmath.nstr(h, 8)}: an iterate is not a finite real "
                              "number of size at most 1e100.")
    return [mpmath.mpmathify(v) for v in th]


class SlowMap:
    """Ψ_h: θ ↦ the next iterate of an optimiser on its slow manifold through θ (a StepMap with an orbit).

    Calls are cached per (precision, h, θ), so studies against several fields share the shootings; :meth:`orbit`
    gives θ₀ … θ_n from one shooting (what a global study needs).
    """

    def __init__(self, optimizer: Any, loss: Any, digits: int | None = None, manifold: SlowManifold | None = None):
        self.optimizer = as_optimizer(optimizer)
        self.loss = loss
        self.digits = digits
        self.manifold = manifold
        self.name = self.optimizer.label
        self.dim = loss.dim
        self._cache: dict[tuple[str, ...], list[Any]] = {}
        self._rho: dict[tuple[str, ...], float] = {}

    def orbit(self, theta: Sequence[Any], h: Any, n: int) -> list[list[Any]]:
        """θ, Ψ_h(θ), …, Ψ_h^n(θ) on the slow manifold."""
        key = tuple(map(str, theta))
        if key not in self._rho and self.optimizer.initial_state(list(theta), kind="mpmath"):
            with mpmath.workdps(int(mpmath.mp.dps) + 10):
                start = self._start()
                settled = None if start is None else start(as_mpf_vector(theta, "theta"), 0)
                self._rho[key] = fast_factor(self.optimizer, self.loss, theta, settled)
        return slow_orbit(self.optimizer, self.loss, theta, h, n, self.digits, manifold=self.manifold,
                          rho=self._rho.get(key))

    def _start(self) -> Callable[[Sequence[Any], Any], list[Any]] | None:
        return None if self.manifold is None else self.manifold.state_function()

    def __call__(self, theta: Sequence[Any], h: Any) -> list[Any]:
        key = (str(mpmath.mp.dps), str(h), *map(str, theta))
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = self.orbit(theta, h, 1)[1]
        return list(self._cache[key])

    def __repr__(self) -> str:
        return f"slow map of {self.name}"


__all__ = [
    "MAX_TRANSIENT", "SlowManifold", "SlowMap", "UNIT_FACTOR", "concrete", "expand", "fast_factor", "jet_index",
    "jet_symbol", "series_gradient", "settle", "slow_orbit", "total_derivative", "transient_steps",
]
