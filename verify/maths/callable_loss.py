"""A loss written as a Python function of a parameter vector, differentiated automatically.

``L(theta) -> float`` written with ``autograd.numpy`` (the built-in backend) or
``jax.numpy`` gives, by automatic differentiation in float64, the gradient
∇L(θ) (shape (d,)) and Hessian-vector products ∇²L(θ)v (shape (d,)), which is
all GD's step, the gradient flow and the IGR field −∇(L + (h/4)‖∇L‖²) =
−(g + (h/2)Hg) need (:mod:`theorycheck.numerics.callable_order`). Higher
modified terms and high precision need the loss as a symbolic expression
(:func:`theorycheck.maths.losses.parse_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError

#: The backends :func:`callable_loss` accepts.
BACKENDS = ("autograd", "jax")


@dataclass(frozen=True)
class CallableLoss:
    """A Python-function loss with its AD derivatives (float64 numpy in, numpy out)."""

    fn: Callable[[Any], Any]
    backend: str
    gradient: Callable[[np.ndarray], np.ndarray]
    hvp: Callable[[np.ndarray, np.ndarray], np.ndarray]
    name: str = "callable"

    def __call__(self, theta: np.ndarray) -> float:
        return float(self.fn(np.asarray(theta, dtype=float)))


def callable_loss(fn: Callable[[Any], Any], backend: str = "autograd", name: str | None = None) -> CallableLoss:
    """Wrap ``fn(theta) -> float`` (autograd- or JAX-traceable) with its gradient and Hessian-vector product.

    Parameters
    ----------
    fn : callable
        The loss L(θ), θ of shape (d,).
    backend : {"autograd", "jax"}

    Returns
    -------
    CallableLoss
        ``gradient(θ)`` (d,), ``hvp(θ, v)`` (d,).
    """
    if not callable(fn):
        raise InputError(f"a loss must be a function of the parameter vector, got {type(fn).__name__}.")
    label = str(name or getattr(fn, "__name__", "callable"))
    if backend == "autograd":
        import autograd.numpy as anp
        from autograd import grad

        g = grad(fn)
        hv = grad(lambda th, v: anp.dot(g(th), v))
        return CallableLoss(fn, backend, lambda th: np.asarray(g(np.asarray(th, dtype=float)), dtype=float),
                            lambda th, v: np.asarray(hv(np.asarray(th, dtype=float), np.asarray(v, dtype=float)),
                                                     dtype=float), label)
    if backend == "jax":
        try:
            import jax
        except ImportError:
            raise InputError("the JAX backend needs JAX: `pip install theorycheck[jax]`.") from None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        gj = jax.jit(jax.grad(fn))
        hj = jax.jit(lambda th, v: jax.jvp(jax.grad(fn), (th,), (v,))[1])
        return CallableLoss(fn, backend, lambda th: np.asarray(gj(jnp.asarray(th, dtype=jnp.float64))),
                            lambda th, v: np.asarray(hj(jnp.asarray(th, dtype=jnp.float64),
                                                        jnp.asarray(v, dtype=jnp.float64))), label)
    raise InputError(f"unknown loss backend {backend!r}; choose one of {', '.join(BACKENDS)}.")


__all__ = ["BACKENDS", "CallableLoss", "callable_loss"]
