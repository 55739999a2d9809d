"""A user's model as code: ``f(params, x)``, and its derivatives by automatic differentiation.

A *model* is a function ``f(params, x) -> float`` of a flat parameter vector
``params`` (shape (p,)) and one input ``x`` (shape (d,)), written with
``autograd.numpy`` (the built-in backend), ``jax.numpy`` or ``torch``. Its
loss on data (X, y) is the square loss

    L(θ) = (1/2n) Σᵢ (f(θ, xᵢ) − yᵢ)².

:func:`model_derivatives` wraps ``f`` in a :class:`ModelDerivatives` that
gives, in float64 numpy arrays,

* ``outputs(θ, X)``: f(θ, xᵢ), shape (n,);
* ``per_sample_gradients(θ, X)``: ∇_θ f(θ, xᵢ) as rows, shape (n, p);
* ``input_gradients(θ, X)``: ∇ₓ f(θ, xᵢ) as rows, shape (n, d);
* ``hvp(θ, X, y, v)``: ∇²L(θ) v, shape (p,), by forward-over-reverse (or
  reverse-over-reverse) differentiation: never the p×p Hessian.

These are what the stability and flatness measurements of
:mod:`theorycheck.numerics.models` consume (per-sample gradients give the
Gauss–Newton part Gᵀ G/n and, at an interpolating minimum, the per-sample
Hessians gᵢgᵢᵀ of η*(B); Hessian-vector products give λ_max and Tr H).

The JAX and PyTorch adapters import their library only when asked for
(``pip install theorycheck[jax]`` / ``theorycheck[torch]``); JAX is switched
to 64-bit floats (``jax_enable_x64``) when its adapter is built, so that all
three backends agree to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError

#: The backends :func:`model_derivatives` accepts.
BACKENDS = ("autograd", "jax", "torch")


@dataclass(frozen=True)
class ModelDerivatives:
    """The derivatives of a model ``f(params, x)`` on one backend (module docstring); all arrays float64 numpy."""

    backend: str
    outputs: Callable[[np.ndarray, np.ndarray], np.ndarray]
    per_sample_gradients: Callable[[np.ndarray, np.ndarray], np.ndarray]
    input_gradients: Callable[[np.ndarray, np.ndarray], np.ndarray]
    hvp: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

    def loss(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """L(θ) = (1/2n) Σ (f(θ, xᵢ) − yᵢ)²."""
        r = self.outputs(theta, X) - y
        return 0.5 * float(r @ r) / len(y)

    def gradient(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∇L(θ) = (1/n) Gᵀ r, shape (p,), from the per-sample gradients G and residuals r."""
        r = self.outputs(theta, X) - y
        return self.per_sample_gradients(theta, X).T @ r / len(y)


def _autograd(f: Callable[..., Any]) -> ModelDerivatives:
    import autograd.numpy as anp
    from autograd import grad

    gtheta = grad(f, 0)
    gx = grad(f, 1)

    def outputs(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.array([float(f(theta, x)) for x in X])

    def loss(theta: Any, X: np.ndarray, y: np.ndarray) -> Any:
        r = anp.stack([f(theta, x) for x in X]) - y
        return 0.5 * anp.dot(r, r) / len(y)

    gl = grad(loss, 0)

    def hvp(theta: np.ndarray, X: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.asarray(grad(lambda th: anp.dot(gl(th, X, y), v))(theta), dtype=float)

    return ModelDerivatives(
        "autograd", outputs,
        lambda theta, X: np.array([gtheta(theta, x) for x in X], dtype=float).reshape(len(X), -1),
        lambda theta, X: np.array([gx(theta, x) for x in X], dtype=float).reshape(len(X), -1),
        hvp)


def _jax(f: Callable[..., Any]) -> ModelDerivatives:
    try:
        import jax
    except ImportError:
        raise InputError("the JAX backend needs JAX: `pip install theorycheck[jax]`.") from None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    batched = jax.jit(jax.vmap(f, in_axes=(None, 0)))
    psg = jax.jit(jax.vmap(jax.grad(f, 0), in_axes=(None, 0)))
    ing = jax.jit(jax.vmap(jax.grad(f, 1), in_axes=(None, 0)))

    def loss(theta: Any, X: Any, y: Any) -> Any:
        r = jax.vmap(f, in_axes=(None, 0))(theta, X) - y
        return 0.5 * jnp.dot(r, r) / y.shape[0]

    gl = jax.grad(loss, 0)
    hv = jax.jit(lambda theta, X, y, v: jax.jvp(lambda th: gl(th, X, y), (theta,), (v,))[1])

    def arr(a: np.ndarray) -> Any:
        return jnp.asarray(np.asarray(a, dtype=np.float64))

    return ModelDerivatives(
        "jax",
        lambda theta, X: np.asarray(batched(arr(theta), arr(X)), dtype=float),
        lambda theta, X: np.asarray(psg(arr(theta), arr(X)), dtype=float),
        lambda theta, X: np.asarray(ing(arr(theta), arr(X)), dtype=float),
        lambda theta, X, y, v: np.asarray(hv(arr(theta), arr(X), arr(y), arr(v)), dtype=float))


def _torch(f: Callable[..., Any]) -> ModelDerivatives:
    try:
        import torch
        from torch.func import grad, jvp, vmap
    except ImportError:
        raise InputError("the PyTorch backend needs torch: `pip install theorycheck[torch]`.") from None

    def t(a: np.ndarray) -> Any:
        return torch.as_tensor(np.asarray(a, dtype=np.float64))

    def loss(theta: Any, X: Any, y: Any) -> Any:
        r = vmap(f, in_dims=(None, 0))(theta, X) - y
        return 0.5 * torch.dot(r, r) / y.shape[0]

    gl = grad(loss, argnums=0)

    def hvp(theta: np.ndarray, X: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
        X_, y_ = t(X), t(y)
        return jvp(lambda th: gl(th, X_, y_), (t(theta),), (t(v),))[1].detach().numpy()

    def numpy(fn: Callable[..., Any]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        return lambda theta, X: fn(t(theta), t(X)).detach().numpy()

    return ModelDerivatives(
        "torch", numpy(vmap(f, in_dims=(None, 0))), numpy(vmap(grad(f, argnums=0), in_dims=(None, 0))),
        numpy(vmap(grad(f, argnums=1), in_dims=(None, 0))), hvp)


def model_derivatives(f: Callable[..., Any], backend: str = "autograd") -> ModelDerivatives:
    """Wrap a model ``f(params, x) -> float`` in its derivatives on ``backend`` (autograd, jax or torch).

    Parameters
    ----------
    f : callable
        ``f(params, x)``, ``params`` shape (p,), ``x`` shape (d,), traceable by the backend.
    backend : {"autograd", "jax", "torch"}

    Returns
    -------
    ModelDerivatives
        Outputs (n,), per-sample parameter gradients (n, p), input gradients (n, d) and
        Hessian-vector products of the square loss (p,).
    """
    if not callable(f):
        raise InputError(f"a model must be a function f(params, x), got {type(f).__name__}.")
    makers = {"autograd": _autograd, "jax": _jax, "torch": _torch}
    if backend not in makers:
        raise InputError(f"unknown model backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    return makers[backend](f)


__all__ = ["BACKENDS", "ModelDerivatives", "model_derivatives"]
