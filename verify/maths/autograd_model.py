"""The autograd backend of the model protocol: the reference, a Python loop over samples (small models)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.models import Model, check_output_shape
from theorycheck.maths.output_losses import ArrayOps, OutputLoss


class AutogradModel(Model):
    """``f(params, x)`` in ``autograd.numpy`` with flat params: the reference backend (Python loops over samples)."""

    backend = "autograd"

    def __init__(self, f: Callable[..., Any], loss: str | OutputLoss = "square", device: str = "cpu") -> None:
        super().__init__(loss, device)
        if device != "cpu":
            raise InputError("the autograd backend runs on the CPU only; use --backend jax or torch for CUDA.")
        import autograd.numpy as anp
        from autograd import grad, jacobian
        from autograd.scipy.special import logsumexp

        self._anp = anp
        self._ops = ArrayOps(lambda a: anp.sum(a, axis=1), lambda a: logsumexp(a, axis=1),
                             lambda z: anp.logaddexp(0.0, z),
                             lambda f_, y: f_[np.arange(len(y)), np.asarray(y, dtype=int)])

        def fv(th: Any, x: Any) -> Any:
            out = f(th, x)
            check_output_shape(out)
            return anp.reshape(out, (-1,))

        self._fv = fv
        self._jac = jacobian(fv, 0)
        self._xgrad = grad(lambda th, x: fv(th, x)[0], 1)
        self._grad = grad

    def flatten(self, params: Any) -> np.ndarray:
        return np.asarray(params, dtype=float).ravel()

    def _device(self, a: np.ndarray) -> Any:
        return a

    def _outs(self, th: Any, Xc: Any) -> Any:
        return self._anp.stack([self._fv(th, x) for x in Xc])

    def _outputs(self, th: Any, Xc: Any) -> Any:
        return self._outs(th, Xc)

    def _jacobian(self, th: Any, Xc: Any) -> Any:
        return np.stack([self._jac(th, x) for x in Xc])

    def _jvp(self, th: Any, Xc: Any, V: Any) -> Any:
        return np.einsum("ckp,bp->bck", self._jacobian(th, Xc), V)

    def _vjp(self, th: Any, Xc: Any, U: Any) -> Any:
        return np.einsum("ckp,ck->p", self._jacobian(th, Xc), U)

    def _lossfn(self, Xc: Any, yc: Any, wc: Any) -> Callable[[Any], Any]:
        anp = self._anp
        return lambda th: anp.sum(wc * self.loss.value(self._ops, self._outs(th, Xc), yc))

    def _loss_grad(self, th: Any, Xc: Any, yc: Any, wc: Any) -> tuple[Any, Any]:
        L = self._lossfn(Xc, yc, wc)
        return L(th), self._grad(L)(th)

    def _hvp_of(self, L: Callable[[Any], Any], th: Any, V: Any) -> Any:
        g = self._grad(L)
        return np.stack([self._grad(lambda t, v=v: self._anp.dot(g(t), v))(th) for v in V])

    def _hvp(self, th: Any, Xc: Any, yc: Any, wc: Any, V: Any) -> Any:
        return self._hvp_of(self._lossfn(Xc, yc, wc), th, V)

    def _residual_hvp(self, th: Any, Xc: Any, Wc: Any, V: Any) -> Any:
        return self._hvp_of(lambda t: self._anp.sum(Wc * self._outs(t, Xc)), th, V)

    def _input_gradients(self, th: Any, Xc: Any) -> Any:
        return np.stack([np.ravel(self._xgrad(th, x)) for x in Xc])


__all__ = ["AutogradModel"]
