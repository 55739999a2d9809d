"""The JAX backend of the model protocol: parameter pytrees flattened with ``ravel_pytree``, every function
``jax.jit``-compiled once per model (``pip install theorycheck[jax]``)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.models import Model, check_output_shape
from theorycheck.maths.output_losses import ArrayOps, OutputLoss


class JaxModel(Model):
    """``f(params, x)`` in ``jax.numpy``, params any pytree; every function ``jax.jit``-compiled once here."""

    backend = "jax"
    own_threads = True
    compiled = True

    def __init__(self, f: Callable[..., Any], loss: str | OutputLoss = "square", device: str = "cpu",
                 template: Any = None) -> None:
        super().__init__(loss, device)
        try:
            import jax
        except ImportError:
            raise InputError("the JAX backend needs JAX: `pip install theorycheck[jax]`.") from None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree

        try:
            self._dev = jax.devices("cuda" if device == "cuda" else "cpu")[0]
        except RuntimeError:
            raise InputError("--device cuda: JAX sees no CUDA device here (install jax[cuda12] on a machine "
                             "with a GPU, or use --device cpu).") from None
        self._jax, self._jnp, self._ravel = jax, jnp, ravel_pytree
        self._unravel: Callable[[Any], Any] | None = None
        if template is not None:
            self.flatten(template)
        loss_ = self.loss
        ops = ArrayOps(lambda a: jnp.sum(a, axis=1), lambda a: jax.nn.logsumexp(a, axis=1),
                       lambda z: jnp.logaddexp(0.0, z),
                       lambda f_, y: jnp.take_along_axis(f_, y.astype(int)[:, None], axis=1)[:, 0])

        def fv(th: Any, x: Any) -> Any:
            out = f(self._unravel(th) if self._unravel is not None else th, x)
            check_output_shape(out)
            return jnp.reshape(out, (-1,))

        outs = jax.vmap(fv, in_axes=(None, 0))

        def jvp_(th: Any, Xc: Any, V: Any) -> Any:
            return jax.vmap(lambda v: jax.jvp(lambda t: outs(t, Xc), (th,), (v,))[1])(V)

        def vjp_(th: Any, Xc: Any, U: Any) -> Any:
            return jax.vjp(lambda t: outs(t, Xc), th)[1](U)[0]

        def lossfn(th: Any, Xc: Any, yc: Any, wc: Any) -> Any:
            return jnp.sum(wc * loss_.value(ops, outs(th, Xc), yc))

        def hvp_of(scalar: Callable[[Any], Any], th: Any, V: Any) -> Any:
            g = jax.grad(scalar)
            return jax.vmap(lambda v: jax.jvp(g, (th,), (v,))[1])(V)

        self._f_outputs = jax.jit(outs)
        self._f_jac = jax.jit(jax.vmap(jax.jacrev(fv), in_axes=(None, 0)))
        self._f_jvp = jax.jit(jvp_)
        self._f_vjp = jax.jit(vjp_)
        self._f_loss = jax.jit(jax.value_and_grad(lossfn))
        self._f_hvp = jax.jit(lambda th, Xc, yc, wc, V: hvp_of(lambda t: lossfn(t, Xc, yc, wc), th, V))
        self._f_rhvp = jax.jit(lambda th, Xc, Wc, V: hvp_of(lambda t: jnp.sum(Wc * outs(t, Xc)), th, V))
        self._f_xgrad = jax.jit(jax.vmap(jax.grad(lambda th, x: fv(th, x)[0], argnums=1), in_axes=(None, 0)))

    def flatten(self, params: Any) -> np.ndarray:
        if isinstance(params, np.ndarray) and self._unravel is None:
            return params.astype(float).ravel()
        try:
            flat, unravel = self._ravel(params)
        except Exception as exc:  # noqa: BLE001 - not a pytree of arrays
            raise InputError(f"the parameters are not a pytree of arrays: {type(exc).__name__}: {exc}") from None
        if self._unravel is None:
            self._unravel = unravel
        return np.asarray(flat, dtype=float)

    def _device(self, a: np.ndarray) -> Any:
        return self._jax.device_put(np.asarray(a, dtype=np.float64), self._dev)

    def _outputs(self, th: Any, Xc: Any) -> Any:
        return self._f_outputs(th, Xc)

    def _jacobian(self, th: Any, Xc: Any) -> Any:
        return self._f_jac(th, Xc)

    def _jvp(self, th: Any, Xc: Any, V: Any) -> Any:
        return self._f_jvp(th, Xc, V)

    def _vjp(self, th: Any, Xc: Any, U: Any) -> Any:
        return self._f_vjp(th, Xc, U)

    def _loss_grad(self, th: Any, Xc: Any, yc: Any, wc: Any) -> tuple[Any, Any]:
        return self._f_loss(th, Xc, yc, wc)

    def _hvp(self, th: Any, Xc: Any, yc: Any, wc: Any, V: Any) -> Any:
        return self._f_hvp(th, Xc, yc, wc, V)

    def _residual_hvp(self, th: Any, Xc: Any, Wc: Any, V: Any) -> Any:
        return self._f_rhvp(th, Xc, Wc, V)

    def _input_gradients(self, th: Any, Xc: Any) -> Any:
        return self._f_xgrad(th, Xc)


__all__ = ["JaxModel"]
