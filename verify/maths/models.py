"""The model protocol: a user's network f(θ, x) and its loss, with every derivative the measurements need.

A *model* maps parameters θ and one input x to outputs f(θ, x) ∈ R^k (a number,
k = 1, or a vector of k logits), written in one of three libraries:

* ``"autograd"``: ``f(params, x)`` with ``autograd.numpy``, ``params`` flat, shape (p,) (the built-in
  reference; per-sample Python loops, for small models);
* ``"jax"``: ``f(params, x)`` with ``jax.numpy``, ``params`` any pytree (flattened with
  ``jax.flatten_util.ravel_pytree``); every function below is ``jax.jit``-compiled once per model and
  reused at every point and call (``pip install theorycheck[jax]``);
* ``"torch"``: an ``nn.Module`` (its parameters through ``torch.func.functional_call``, its inputs
  one sample at a time as a batch of one) or a function ``f(params, x)`` of a flat tensor
  (``pip install theorycheck[torch]``).

:func:`model` builds a :class:`Model` (the library's functions, made once); :meth:`Model.at` binds it
to parameters θ and data (X, y) and gives a :class:`ModelPoint`, whose arrays stay on the framework's
device. The loss is L(θ) = (1/n) Σᵢ ℓ(fᵢ, yᵢ) with ℓ from :mod:`theorycheck.maths.output_losses`
(square, logistic, cross-entropy), and ∇²L = GN + R, the Gauss–Newton part
GN = (1/n)Σ Jᵢᵀ Λᵢ Jᵢ and the residual part R = (1/n)Σₐ ℓ′ₐ ∇²f_a.

A point gives, as float64 numpy:

* ``outputs()`` (n, k), ``value()`` L(θ), ``gradient()`` ∇L (p,);
* ``hvp(V)`` = ∇²L V, ``residual_hvp(V)`` = R V and ``gauss_newton_vp(V)`` = GN V, for V of shape (p,)
  or (p, b) (a block of b vectors at once);
* ``jacobians()``: the per-sample output Jacobians Jᵢ (k × p) *in chunks* of rows, and
  ``jacobian_products(rows, V)`` = Jᵢ Vᵀ for the samples ``rows`` (forward-mode products), which is
  how the n × n Gram matrix is streamed without ever holding n × p numbers;
* ``input_gradients()`` ∇ₓf (n, d) for a scalar model;
* :meth:`ModelPoint.hessian`, :meth:`~ModelPoint.gauss_newton`, :meth:`~ModelPoint.residual` and
  :meth:`~ModelPoint.jacobian_operator` as ``scipy.sparse.linalg.LinearOperator`` (with ``matmat``),
  so scipy's Lanczos and the trace estimators of :mod:`theorycheck.numerics.trace` serve every backend.

Chunks have one shape (the last is padded and its padding weighted 0), so a compiled function is never
traced twice. The two-layer net of :mod:`theorycheck.maths.networks` is one more instance
(:func:`theorycheck.maths.networks.two_layer_model`, closed forms).
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterator

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.output_losses import ArrayOps, OutputLoss, get_output_loss

#: The backends :func:`model` accepts.
BACKENDS = ("autograd", "jax", "torch")
#: Devices a model's arrays may live on (``cuda`` only where the framework sees a GPU).
DEVICES = ("cpu", "cuda")
#: Bytes the per-sample Jacobian chunks may take by default (a chunk is held while the next is computed).
DEFAULT_CHUNK_BYTES = 512 * 1024**2
#: Samples per call of the products (Hessian-vector products, the loss, outputs) by default.
PRODUCT_ROWS = 4096
#: Vectors per block of a batched product (``matmat``): one compiled shape for every block.
BLOCK = 32
#: At most this many numbers (p × vectors) per block, so that a block of a 10⁶-parameter model stays small.
BLOCK_NUMBERS = 2**22


class ModelError(InputError):
    """The user's model raised, or returned something that is not a finite number or vector per input."""


def _user_code(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a method that calls the user's model; any error it raises becomes one :class:`ModelError` line."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except InputError:
                raise
            except MemoryError:
                raise InputError(f"the model ran out of memory while computing {what}; use fewer samples or a "
                                 "smaller chunk.") from None
            except Exception as exc:  # noqa: BLE001 - the user's model: one line naming it, not a traceback
                detail = " ".join(str(exc).split())
                detail = detail if len(detail) <= 200 else detail[:197] + "..."
                raise ModelError(f"the model failed while computing {what}: {type(exc).__name__}: {detail}") \
                    from None
        return inner
    return wrap


def chunk_rows(n: int, k: int, p: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """Samples per chunk: as many per-sample Jacobians (k × p float64 each) as fit in ``chunk_bytes``, at most n."""
    per_row = 8 * max(1, k) * max(1, p)
    return int(max(1, min(n, chunk_bytes // per_row)))


def _finite(a: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(a)):
        raise ModelError(f"the model gave non-finite {what} (NaN or inf) at these parameters and inputs.")
    return a


class Model(ABC):
    """A model f(θ, x) ∈ R^k with its loss on one backend: the functions are built once, at construction.

    Subclasses (one per backend) implement the hooks below on *device* arrays of one padded chunk:
    ``_outputs(th, Xc)`` (c, k), ``_jacobian(th, Xc)`` (c, k, p), ``_jvp(th, Xc, V)`` (b, c, k) for
    tangents V (b, p), ``_vjp(th, Xc, U)`` (p,) = Σᵢ Jᵢᵀuᵢ, ``_loss_grad(th, Xc, yc, wc)`` (Σ wᵢℓᵢ and its
    gradient), ``_hvp(th, Xc, yc, wc, V)`` (b, p), ``_residual_hvp(th, Xc, Wc, V)`` (b, p) = Σᵢ∇²⟨Wᵢ, fᵢ⟩V
    and ``_input_gradients(th, Xc)``; plus the conversions ``_device``/``_host`` and ``flatten``.
    """

    backend: str = ""

    def __init__(self, loss: str | OutputLoss = "square", device: str = "cpu") -> None:
        self.loss = get_output_loss(loss)
        if device not in DEVICES:
            raise InputError(f"the device must be one of {', '.join(DEVICES)}, got {device!r}.")
        self.device = device

    # -- conversions -----------------------------------------------------------------------------------

    @abstractmethod
    def flatten(self, params: Any) -> np.ndarray:
        """θ as a flat float64 vector (p,), from whatever the model takes (a flat array, a pytree, a state_dict)."""

    @abstractmethod
    def _device(self, a: np.ndarray) -> Any:
        ...

    def _host(self, a: Any) -> np.ndarray:
        return np.asarray(a, dtype=float)

    # -- hooks -----------------------------------------------------------------------------------------

    @abstractmethod
    def _outputs(self, th: Any, Xc: Any) -> Any: ...

    @abstractmethod
    def _jacobian(self, th: Any, Xc: Any) -> Any: ...

    @abstractmethod
    def _jvp(self, th: Any, Xc: Any, V: Any) -> Any: ...

    @abstractmethod
    def _vjp(self, th: Any, Xc: Any, U: Any) -> Any: ...

    @abstractmethod
    def _loss_grad(self, th: Any, Xc: Any, yc: Any, wc: Any) -> tuple[Any, Any]: ...

    @abstractmethod
    def _hvp(self, th: Any, Xc: Any, yc: Any, wc: Any, V: Any) -> Any: ...

    @abstractmethod
    def _residual_hvp(self, th: Any, Xc: Any, Wc: Any, V: Any) -> Any: ...

    @abstractmethod
    def _input_gradients(self, th: Any, Xc: Any) -> Any: ...

    def gram(self, point: "ModelPoint") -> np.ndarray | None:
        """The output Gram matrix JJᵀ (nk × nk) in closed form, where the model has one (else None: streamed)."""
        return None

    # -- binding ---------------------------------------------------------------------------------------

    def at(self, params: Any, X: Any, y: Any | None = None, *, chunk: int | None = None,
           chunk_bytes: int = DEFAULT_CHUNK_BYTES, product_chunk: int = PRODUCT_ROWS) -> "ModelPoint":
        """The model at θ = ``params`` on inputs X (n, …) with targets y (or none): a :class:`ModelPoint`.

        ``chunk`` (samples per chunk) defaults to what ``chunk_bytes`` of per-sample Jacobians hold.
        """
        return ModelPoint(self, params, X, y, chunk=chunk, chunk_bytes=chunk_bytes, product_chunk=product_chunk)

    # -- conveniences over a point (each builds it afresh: for loops, bind once with ``at``) ----------------

    def value(self, params: Any, X: Any, y: Any) -> float:
        """L(θ) on (X, y)."""
        return self.at(params, X, y).value()

    def gradient(self, params: Any, X: Any, y: Any) -> np.ndarray:
        """∇L(θ) on (X, y), flat (p,)."""
        return self.at(params, X, y).gradient()


class _Chunks:
    """Row ranges of one chunk size, with the inputs, targets and weights of each padded to that size on the device."""

    def __init__(self, point: "ModelPoint", size: int) -> None:
        self.size = size
        self.rows = [slice(s, min(s + size, point.n)) for s in range(0, point.n, size)]
        self.X = [point.model._device(self.padded(point.X, r)) for r in self.rows]
        self.w = [point.model._device(self.weights(r, point.n)) for r in self.rows]
        self.y = None if point.y is None else [point.model._device(self.padded(point.y, r)) for r in self.rows]

    def padded(self, A: np.ndarray, rows: slice) -> np.ndarray:
        """Rows ``rows`` of A padded to ``size`` rows with copies of its first row (weighted 0)."""
        part = A[rows]
        short = self.size - part.shape[0]
        if short:
            part = np.concatenate([part, np.repeat(part[:1], short, axis=0)])
        return np.ascontiguousarray(part)

    def weights(self, rows: slice, n: int) -> np.ndarray:
        w = np.zeros(self.size)
        w[: rows.stop - rows.start] = 1.0 / n
        return w


class ModelPoint:
    """A :class:`Model` at parameters θ on data (X, y): the device arrays are made once, here.

    Attributes: ``model``, ``theta`` (p,) float64, ``X``, ``y`` (as the loss reads them, or None),
    ``n`` samples, ``k`` outputs per sample, ``p`` parameters, ``chunk`` samples per chunk of per-sample
    Jacobians and ``product_chunk`` samples per call of the products (Hessian-vector products, loss,
    outputs: memory of activations only, so larger).
    """

    def __init__(self, model: Model, params: Any, X: Any, y: Any | None, *, chunk: int | None,
                 chunk_bytes: int, product_chunk: int = PRODUCT_ROWS) -> None:
        self.model = model
        theta = _finite(np.ascontiguousarray(model.flatten(params), dtype=float).ravel(), "parameters")
        if theta.size == 0:
            raise InputError("the model has no parameters.")
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim < 2 or Xa.shape[0] < 1 or not np.all(np.isfinite(Xa)):
            raise InputError(f"inputs must be a finite array of n ≥ 1 rows (n, d, …), got shape {Xa.shape}.")
        self.theta, self.X = theta, np.ascontiguousarray(Xa)
        self.n, self.p = Xa.shape[0], theta.size
        self._th = model._device(theta)
        first = self._first_output()
        self.k = first.shape[1]
        size = int(chunk) if chunk is not None else chunk_rows(self.n, self.k, self.p, chunk_bytes)
        if size < 1 or product_chunk < 1:
            raise InputError(f"`chunk` must be a positive number of samples, got {chunk!r}.")
        self.chunk = min(size, self.n)
        self.product_chunk = min(max(self.chunk, int(product_chunk)), self.n)
        self.y = None if y is None else model.loss.check_targets(np.asarray(y, dtype=float), self.n, self.k)
        self._jac = _Chunks(self, self.chunk)
        self._prod = self._jac if self.product_chunk == self.chunk else _Chunks(self, self.product_chunk)
        self._cache: dict[str, Any] = {}

    def moved(self, params: Any) -> "ModelPoint":
        """The same model on the same data at other parameters (the device copies of the data are shared)."""
        import copy

        other = copy.copy(self)
        theta = _finite(np.ascontiguousarray(self.model.flatten(params), dtype=float).ravel(), "parameters")
        if theta.size != self.p:
            raise InputError(f"the parameters changed size: {self.p} before, {theta.size} now.")
        other.theta, other._th, other._cache = theta, self.model._device(theta), {}
        return other

    @property
    def chunks(self) -> list[slice]:
        """The row ranges of the chunks of per-sample Jacobians, in order."""
        return list(self._jac.rows)

    @_user_code("the outputs f(θ, xᵢ)")
    def _first_output(self) -> np.ndarray:
        x0 = self.model._device(np.ascontiguousarray(self.X[:1]))
        out = self.model._host(self.model._outputs(self._th, x0))
        if out.ndim != 2 or out.shape[0] != 1 or out.shape[1] < 1:
            raise ModelError(f"f(params, x) must return a number or a vector of k outputs per input; it returned "
                             f"shape {tuple(out.shape[1:]) if out.ndim else ()} per input.")
        return _finite(out, "outputs")

    def _need_targets(self) -> Any:
        if self._prod.y is None:
            raise InputError("this measurement needs targets y (the loss), and none were given.")
        return self._prod.y

    # -- values ----------------------------------------------------------------------------------------

    @_user_code("the outputs f(θ, xᵢ)")
    def outputs(self) -> np.ndarray:
        """f(θ, xᵢ) per sample, shape (n, k)."""
        if "outputs" not in self._cache:
            parts = [self.model._host(self.model._outputs(self._th, Xc))[: r.stop - r.start]
                     for r, Xc in zip(self._prod.rows, self._prod.X)]
            self._cache["outputs"] = _finite(np.concatenate(parts), "outputs")
        return self._cache["outputs"]

    @_user_code("the loss and its gradient")
    def _loss_and_gradient(self) -> tuple[float, np.ndarray]:
        if "grad" not in self._cache:
            yc = self._need_targets()
            total, g = 0.0, np.zeros(self.p)
            for Xc, y_, w in zip(self._prod.X, yc, self._prod.w):
                v, gc = self.model._loss_grad(self._th, Xc, y_, w)
                total += float(self.model._host(v))
                g += self.model._host(gc)
            self._cache["grad"] = (total, _finite(g, "gradient"))
        return self._cache["grad"]

    def value(self) -> float:
        """L(θ) = (1/n) Σ ℓ(fᵢ, yᵢ)."""
        return self._loss_and_gradient()[0]

    def gradient(self) -> np.ndarray:
        """∇L(θ), shape (p,)."""
        return self._loss_and_gradient()[1].copy()

    def residual_weights(self) -> np.ndarray:
        """ℓ′(fᵢ, yᵢ)/n, shape (n, k): the weights of the residual part R = Σᵢₐ (ℓ′ᵢₐ/n) ∇²f_{ia}."""
        if self.y is None:
            raise InputError("the residual part of the Hessian needs targets y, and none were given.")
        return self.model.loss.first_derivative(self.outputs(), self.y) / self.n

    def curvature_root(self) -> np.ndarray:
        """Λᵢ^{1/2} per sample (n, k, k): the loss's second derivative in the outputs, square-rooted."""
        return self.model.loss.curvature_root(self.outputs())

    # -- products --------------------------------------------------------------------------------------

    def _blocks(self, V: np.ndarray, apply: Callable[[Any], Any]) -> np.ndarray:
        """apply() on V (p, b) in blocks of :data:`BLOCK` columns (one compiled shape), result (p, b)."""
        V = np.asarray(V, dtype=float)
        single = V.ndim == 1
        V2 = V[:, None] if single else V
        if V2.shape[0] != self.p:
            raise InputError(f"a product needs vectors of length p = {self.p}, got {V2.shape[0]}.")
        b = V2.shape[1]
        width = 1 if b == 1 else max(1, min(BLOCK, BLOCK_NUMBERS // self.p))  # a block's tangents and activations
        out = np.empty((self.p, b))
        for s in range(0, b, width):
            blk = V2[:, s:s + width].T
            pad = width - blk.shape[0]
            if pad:
                blk = np.concatenate([blk, np.zeros((pad, self.p))])
            res = np.asarray(apply(self.model._device(np.ascontiguousarray(blk))))
            out[:, s:s + width] = res[: width - pad].T
        _finite(out, "Hessian-vector products")
        return out[:, 0] if single else out

    @_user_code("Hessian-vector products")
    def hvp(self, V: np.ndarray) -> np.ndarray:
        """∇²L(θ) V for V of shape (p,) or (p, b) (forward-over-reverse, never the p × p Hessian)."""
        yc = self._need_targets()

        def apply(Vd: Any) -> np.ndarray:
            out = 0.0
            for Xc, y_, w in zip(self._prod.X, yc, self._prod.w):
                out = out + self.model._host(self.model._hvp(self._th, Xc, y_, w, Vd))
            return out

        return self._blocks(V, apply)

    @_user_code("residual-part products")
    def residual_hvp(self, V: np.ndarray) -> np.ndarray:
        """R V, R = Σᵢₐ (ℓ′ᵢₐ/n) ∇²_θ f_{ia}: the Hessian less its Gauss–Newton part (0 at interpolation)."""
        if "rw" not in self._cache:
            W = self.residual_weights()
            self._cache["rw"] = [self.model._device(self._prod.padded(W, r) * (self._prod.weights(r, 1) > 0)[:, None])
                                 for r in self._prod.rows]

        def apply(Vd: Any) -> np.ndarray:
            out = 0.0
            for Xc, Wc in zip(self._prod.X, self._cache["rw"]):
                out = out + self.model._host(self.model._residual_hvp(self._th, Xc, Wc, Vd))
            return out

        return self._blocks(V, apply)

    @_user_code("Gauss–Newton products")
    def gauss_newton_vp(self, V: np.ndarray) -> np.ndarray:
        """GN V = (1/n) Σᵢ Jᵢᵀ Λᵢ Jᵢ V, by forward- then reverse-mode products (no Jacobian held)."""
        V = np.asarray(V, dtype=float)
        single = V.ndim == 1
        V2 = V[:, None] if single else V
        lam_root = self.curvature_root()
        lam = np.einsum("nab,nbc->nac", lam_root, lam_root) / self.n
        out = np.zeros((self.p, V2.shape[1]))
        for j in range(V2.shape[1]):
            t = self.model._device(np.ascontiguousarray(V2[:, j][None, :]))
            for r, Xc in zip(self._prod.rows, self._prod.X):
                Jv = self.model._host(self.model._jvp(self._th, Xc, t))[0]  # (chunk, k)
                U = np.zeros_like(Jv)
                m = r.stop - r.start
                U[:m] = np.einsum("nab,nb->na", lam[r], Jv[:m])
                out[:, j] += self.model._host(self.model._vjp(self._th, Xc, self.model._device(U)))
        _finite(out, "Gauss–Newton products")
        return out[:, 0] if single else out

    @_user_code("per-sample Jacobians")
    def jacobians(self) -> Iterator[tuple[slice, np.ndarray]]:
        """(rows, Jᵢ for i in rows, shape (len(rows), k, p)) chunk by chunk: at most ``chunk`` × k × p numbers.

        Not checked for NaN here (a pass over 10⁸ numbers per chunk): what reduces them checks the result.
        """
        for r, Xc in zip(self._jac.rows, self._jac.X):
            J = self.model._host(self.model._jacobian(self._th, Xc))[: r.stop - r.start]
            yield r, J.reshape(r.stop - r.start, self.k, self.p)  # checked where they are reduced (norms, Gram)

    @_user_code("Jacobian-vector products")
    def jacobian_products(self, index: int, V: np.ndarray) -> np.ndarray:
        """Jᵢ Vᵀ for the samples of chunk ``index``: shape (len(rows), k, b) for V (b, p), b ≤ chunk·k."""
        r = self._jac.rows[index]
        b = V.shape[0]
        width = self.chunk * self.k
        if b > width:
            raise InputError(f"at most {width} tangents per call, got {b}.")
        Vp = V if b == width else np.concatenate([V, np.zeros((width - b, self.p))])
        out = self.model._host(self.model._jvp(self._th, self._jac.X[index], self.model._device(np.ascontiguousarray(Vp))))
        return _finite(np.moveaxis(out[:b], 0, -1)[: r.stop - r.start], "Jacobian-vector products")

    def per_sample_gradients(self) -> np.ndarray:
        """∇_θ fᵢ as rows, shape (n, p), for a scalar model (all n × p numbers: for small models)."""
        if self.k != 1:
            raise InputError(f"per-sample gradients are for scalar models; this one has k = {self.k} outputs.")
        return np.concatenate([J[:, 0, :] for _, J in self.jacobians()])

    @_user_code("input gradients")
    def input_gradients(self) -> np.ndarray:
        """∇ₓ f(θ, xᵢ) as rows, shape (n, d) (inputs flattened), for a scalar model."""
        if self.k != 1:
            raise InputError(f"input gradients are for scalar models; this one has k = {self.k} outputs.")
        parts = [self.model._host(self.model._input_gradients(self._th, Xc))[: r.stop - r.start]
                 for r, Xc in zip(self._prod.rows, self._prod.X)]
        return _finite(np.concatenate(parts).reshape(self.n, -1), "input gradients")

    # -- operators -------------------------------------------------------------------------------------

    def _operator(self, fn: Callable[[np.ndarray], np.ndarray]) -> Any:
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator((self.p, self.p), matvec=fn, rmatvec=fn, matmat=fn, dtype=float)

    def hessian(self) -> Any:
        """∇²L(θ) as a symmetric ``LinearOperator`` (p × p) of Hessian-vector products."""
        return self._operator(self.hvp)

    def gauss_newton(self) -> Any:
        """GN = (1/n)Σ Jᵢᵀ Λᵢ Jᵢ as a ``LinearOperator`` (PSD; = ∇²L at an interpolating square-loss minimum)."""
        return self._operator(self.gauss_newton_vp)

    def residual(self) -> Any:
        """R = ∇²L − GN as a ``LinearOperator`` (0 where every ℓ′ᵢ = 0)."""
        return self._operator(self.residual_hvp)

    def jacobian_operator(self) -> Any:
        """J (nk × p), the stacked per-sample output Jacobians, as a ``LinearOperator`` (JVPs; VJPs for Jᵀ)."""
        from scipy.sparse.linalg import LinearOperator

        def mv(v: np.ndarray) -> np.ndarray:
            t = self.model._device(np.ascontiguousarray(np.asarray(v, dtype=float).ravel()[None, :]))
            parts = [self.model._host(self.model._jvp(self._th, Xc, t))[0][: r.stop - r.start]
                     for r, Xc in zip(self._prod.rows, self._prod.X)]
            return np.concatenate(parts).ravel()

        def rmv(u: np.ndarray) -> np.ndarray:
            U = np.asarray(u, dtype=float).reshape(self.n, self.k)
            out = np.zeros(self.p)
            for r, Xc in zip(self._prod.rows, self._prod.X):
                Ur = self._prod.padded(U, r) * (self._prod.weights(r, 1) > 0)[:, None]
                out += self.model._host(self.model._vjp(self._th, Xc, self.model._device(Ur)))
            return out

        return LinearOperator((self.n * self.k, self.p), matvec=mv, rmatvec=rmv, dtype=float)


# --------------------------------------------------------------------------- backends


def _check_scalar_or_vector(out: Any) -> None:
    shape = tuple(getattr(out, "shape", ()))
    if len(shape) > 1:
        raise ModelError(f"f(params, x) must return a number or a vector of outputs, got shape {shape}.")


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
            _check_scalar_or_vector(out)
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
        return np.stack([self._grad(lambda t: self._anp.dot(g(t), v))(th) for v in V])

    def _hvp(self, th: Any, Xc: Any, yc: Any, wc: Any, V: Any) -> Any:
        return self._hvp_of(self._lossfn(Xc, yc, wc), th, V)

    def _residual_hvp(self, th: Any, Xc: Any, Wc: Any, V: Any) -> Any:
        return self._hvp_of(lambda t: self._anp.sum(Wc * self._outs(t, Xc)), th, V)

    def _input_gradients(self, th: Any, Xc: Any) -> Any:
        return np.stack([np.ravel(self._xgrad(th, x)) for x in Xc])


class JaxModel(Model):
    """``f(params, x)`` in ``jax.numpy``, params any pytree; every function ``jax.jit``-compiled once here."""

    backend = "jax"

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
            _check_scalar_or_vector(out)
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


class TorchModel(Model):
    """An ``nn.Module`` (through ``torch.func.functional_call``) or a function ``f(params, x)`` of a flat tensor.

    A module sees one sample at a time as a batch of one (``module(x[None])[0]``), so layers that need a batch
    dimension work; its buffers (e.g. batch-norm statistics) are constants. It is copied to float64 (or
    ``dtype``) on ``device`` once; its parameters are θ in the order of ``named_parameters()``.
    """

    backend = "torch"

    def __init__(self, f: Any, loss: str | OutputLoss = "square", device: str = "cpu",
                 dtype: str = "float64") -> None:
        super().__init__(loss, device)
        try:
            import torch
            from torch import func
        except ImportError:
            raise InputError("the PyTorch backend needs torch: `pip install theorycheck[torch]`.") from None
        if device == "cuda" and not torch.cuda.is_available():
            raise InputError("--device cuda: torch sees no CUDA device here (torch.cuda.is_available() is False); "
                             "use --device cpu.")
        if dtype not in ("float64", "float32"):
            raise InputError(f"the dtype must be float64 or float32, got {dtype!r}.")
        self._torch = torch
        self._dtype = torch.float64 if dtype == "float64" else torch.float32
        self._dev = torch.device(device)
        loss_ = self.loss
        ops = ArrayOps(lambda a: a.sum(dim=1), lambda a: torch.logsumexp(a, dim=1),
                       lambda z: torch.logaddexp(z, torch.zeros_like(z)),
                       lambda f_, y: f_.gather(1, y.long()[:, None])[:, 0])
        self.module = None
        if isinstance(f, torch.nn.Module):
            import copy

            module = copy.deepcopy(f).to(device=self._dev, dtype=self._dtype).eval()
            self.module = module
            self._names = [k for k, _ in module.named_parameters()]
            self._shapes = [tuple(v.shape) for _, v in module.named_parameters()]
            self._sizes = [int(math.prod(s)) for s in self._shapes]
            buffers = dict(module.named_buffers())

            def fv(th: Any, x: Any) -> Any:
                parts = torch.split(th, self._sizes)
                params = {k: t.view(s) for k, t, s in zip(self._names, parts, self._shapes)}
                out = func.functional_call(module, {**params, **buffers}, (x.unsqueeze(0),))
                _check_scalar_or_vector(out[0])
                return out[0].reshape(-1)
        elif callable(f):
            def fv(th: Any, x: Any) -> Any:
                out = f(th, x)
                _check_scalar_or_vector(out)
                return out.reshape(-1)
        else:
            raise InputError(f"a torch model must be an nn.Module or a function f(params, x), got "
                             f"{type(f).__name__}.")

        outs = func.vmap(fv, in_dims=(None, 0))
        if self.module is not None:
            def batch_outs(th: Any, Xc: Any) -> Any:  # the module on the whole chunk: no per-sample vmap needed
                parts = torch.split(th, self._sizes)
                params = {k: t.view(s) for k, t, s in zip(self._names, parts, self._shapes)}
                return func.functional_call(module, {**params, **buffers}, (Xc,)).reshape(Xc.shape[0], -1)
        else:
            batch_outs = outs

        def lossfn(th: Any, Xc: Any, yc: Any, wc: Any) -> Any:
            return (wc * loss_.value(ops, outs(th, Xc), yc)).sum()

        self._batch_loss = lambda th, Xc, yc, wc: (wc * loss_.value(ops, batch_outs(th, Xc), yc)).sum()
        self._batch_weighted = lambda th, Xc, Wc: (Wc * batch_outs(th, Xc)).sum()
        self._graphs: dict[tuple[int, str], tuple[Any, Any, Any]] = {}

        def hvp_of(scalar: Callable[[Any], Any], th: Any, V: Any) -> Any:
            g = func.grad(scalar)
            return func.vmap(lambda v: func.jvp(g, (th,), (v,))[1])(V)

        self._outs = outs
        self._f_jac = func.vmap(func.jacrev(fv), in_dims=(None, 0))
        self._f_jvp = lambda th, Xc, V: func.vmap(lambda v: func.jvp(lambda t: outs(t, Xc), (th,), (v,))[1])(V)
        self._f_vjp = lambda th, Xc, U: func.vjp(lambda t: outs(t, Xc), th)[1](U)[0]
        self._f_loss = func.grad_and_value(lossfn)
        self._f_hvp = lambda th, Xc, yc, wc, V: hvp_of(lambda t: lossfn(t, Xc, yc, wc), th, V)
        self._f_rhvp = lambda th, Xc, Wc, V: hvp_of(lambda t: (Wc * outs(t, Xc)).sum(), th, V)
        self._f_xgrad = func.vmap(func.grad(lambda th, x: fv(th, x)[0], argnums=1), in_dims=(None, 0))

    def flatten(self, params: Any) -> np.ndarray:
        torch = self._torch
        if self.module is not None and isinstance(params, dict):
            missing = [k for k in self._names if k not in params]
            if missing:
                raise InputError(f"the parameters lack {missing[0]!r} of the module (it has "
                                 f"{', '.join(self._names[:6])}{'…' if len(self._names) > 6 else ''}).")
            parts = []
            for k, s in zip(self._names, self._shapes):
                v = params[k]
                v = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
                if tuple(v.shape) != s:
                    raise InputError(f"parameter {k!r} has shape {tuple(v.shape)}, the module expects {s}.")
                parts.append(np.asarray(v, dtype=float).ravel())
            return np.concatenate(parts)
        if self.module is not None and params is None:
            return np.concatenate([v.detach().cpu().double().numpy().ravel() for v in self.module.parameters()])
        if isinstance(params, torch.Tensor):
            params = params.detach().cpu().numpy()
        flat = np.asarray(params, dtype=float).ravel()
        if self.module is not None and flat.size != sum(self._sizes):
            raise InputError(f"the module has {sum(self._sizes)} parameters, got a flat vector of {flat.size}.")
        return flat

    def _device(self, a: np.ndarray) -> Any:
        return self._torch.as_tensor(np.asarray(a), dtype=self._dtype, device=self._dev)

    def _host(self, a: Any) -> np.ndarray:
        if isinstance(a, self._torch.Tensor):
            return a.detach().to("cpu", self._torch.float64).numpy()
        return np.asarray(a, dtype=float)

    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self._torch.no_grad():
            return fn(*args)

    def _outputs(self, th: Any, Xc: Any) -> Any:
        return self._run(self._outs, th, Xc)

    def _jacobian(self, th: Any, Xc: Any) -> Any:
        return self._f_jac(th, Xc)

    def _jvp(self, th: Any, Xc: Any, V: Any) -> Any:
        return self._f_jvp(th, Xc, V)

    def _vjp(self, th: Any, Xc: Any, U: Any) -> Any:
        return self._f_vjp(th, Xc, U)

    def _loss_grad(self, th: Any, Xc: Any, yc: Any, wc: Any) -> tuple[Any, Any]:
        g, v = self._f_loss(th, Xc, yc, wc)
        return v, g

    def _graph_hvp(self, kind: str, th: Any, Xc: Any, scalar: Any, V: Any) -> Any:
        """∇²(scalar)V by one backward pass through a gradient graph built once per (chunk, θ) and kept.

        The gradient g = ∇scalar(θ) is formed with ``create_graph=True`` at the first product at this θ; every
        later product is ``autograd.grad(g, θ, v)``, the retained-graph route whose per-call cost is one backward
        pass rather than the tracing of torch.func's transforms. The graph of the previous θ is dropped when θ
        changes.
        """
        torch = self._torch
        key = (id(Xc), kind)
        cached = self._graphs.get(key)
        if cached is None or cached[0] is not th:
            leaf = th.detach().clone().requires_grad_(True)
            with torch.enable_grad():
                g = torch.autograd.grad(scalar(leaf), leaf, create_graph=True)[0]
            cached = (th, leaf, g)
            self._graphs[key] = cached
        _, leaf, g = cached
        # one backward pass per vector: on CPU twice as fast as is_grads_batched's vmap over the backward
        return torch.stack([torch.autograd.grad(g, leaf, v, retain_graph=True)[0] for v in V])

    def _hvp(self, th: Any, Xc: Any, yc: Any, wc: Any, V: Any) -> Any:
        return self._graph_hvp("loss", th, Xc, lambda t: self._batch_loss(t, Xc, yc, wc), V)

    def _residual_hvp(self, th: Any, Xc: Any, Wc: Any, V: Any) -> Any:
        return self._graph_hvp("residual", th, Xc, lambda t: self._batch_weighted(t, Xc, Wc), V)

    def _input_gradients(self, th: Any, Xc: Any) -> Any:
        return self._f_xgrad(th, Xc)


def model(f: Any, backend: str = "autograd", loss: str | OutputLoss = "square", *, device: str = "cpu",
          template: Any = None, dtype: str = "float64") -> Model:
    """The :class:`Model` of ``f`` on ``backend``, with its loss (square, logistic or cross-entropy).

    Parameters
    ----------
    f : callable or torch.nn.Module
        ``f(params, x)`` returning a number or a vector of k outputs, traceable by the backend; for torch
        also an ``nn.Module``.
    backend : {"autograd", "jax", "torch"}
    loss : {"square", "logistic", "cross-entropy"} or OutputLoss
    device : {"cpu", "cuda"}
        Where the arrays live (JAX and torch); ``cuda`` without a GPU is one :class:`InputError`.
    template : pytree, optional
        JAX only: a parameter pytree fixing the structure flat θ is unravelled into.
    dtype : {"float64", "float32"}
        torch only: the module is copied to this precision (JAX runs in float64).

    Returns
    -------
    Model
        Bind it to parameters and data with :meth:`Model.at`.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown model backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "torch":
        return TorchModel(f, loss, device, dtype)
    if not callable(f):
        raise InputError(f"a model must be a function f(params, x), got {type(f).__name__}.")
    if backend == "jax":
        return JaxModel(f, loss, device, template)
    return AutogradModel(f, loss, device)


__all__ = [
    "AutogradModel", "BACKENDS", "BLOCK", "BLOCK_NUMBERS", "DEFAULT_CHUNK_BYTES", "DEVICES", "JaxModel", "Model", "ModelError",
    "ModelPoint", "PRODUCT_ROWS", "TorchModel", "chunk_rows", "model",
]
