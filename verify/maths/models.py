"""The model protocol: a user's network f(θ, x) and its loss, with every derivative the measurements need.

A *model* maps parameters θ and one input x to outputs f(θ, x) ∈ R^k (a number,
k = 1, or a vector of k logits), written in one of three libraries:

The backends are one module each (:mod:`theorycheck.maths.autograd_model`,
:mod:`theorycheck.maths.jax_model`, :mod:`theorycheck.maths.torch_model`), imported when asked for:

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
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterator

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.output_losses import OutputLoss, get_output_loss

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
    #: Whether the backend compiles its functions for one shape (JAX's jit): then every block of vectors is
    #: padded to :data:`BLOCK` columns so that one compilation serves them all; an eager backend would spend a
    #: whole product on each padding column.
    compiled: bool = False
    #: Whether the framework computes on a thread pool of its own (PyTorch's, XLA's), beside NumPy's BLAS.
    own_threads: bool = False

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
        """apply() on V (p, b) in blocks of :data:`BLOCK` columns (padded to one shape where the backend compiles),
        result (p, b)."""
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
            pad = width - blk.shape[0] if self.model.compiled else 0
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
            return sum((self.model._host(self.model._hvp(self._th, Xc, y_, w, Vd))
                        for Xc, y_, w in zip(self._prod.X, yc, self._prod.w)), np.zeros(()))

        return self._blocks(V, apply)

    @_user_code("residual-part products")
    def residual_hvp(self, V: np.ndarray) -> np.ndarray:
        """R V, R = Σᵢₐ (ℓ′ᵢₐ/n) ∇²_θ f_{ia}: the Hessian less its Gauss–Newton part (0 at interpolation)."""
        if "rw" not in self._cache:
            W = self.residual_weights()
            self._cache["rw"] = [self.model._device(self._prod.padded(W, r) * (self._prod.weights(r, 1) > 0)[:, None])
                                 for r in self._prod.rows]

        def apply(Vd: Any) -> np.ndarray:
            return sum((self.model._host(self.model._residual_hvp(self._th, Xc, Wc, Vd))
                        for Xc, Wc in zip(self._prod.X, self._cache["rw"])), np.zeros(()))

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


def check_output_shape(out: Any) -> None:
    """One line unless a model's output for one input is a number or a vector (k outputs)."""
    shape = tuple(getattr(out, "shape", ()))
    if len(shape) > 1:
        raise ModelError(f"f(params, x) must return a number or a vector of outputs, got shape {shape}.")


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
        from theorycheck.maths.torch_model import TorchModel

        return TorchModel(f, loss, device, dtype)
    if not callable(f):
        raise InputError(f"a model must be a function f(params, x), got {type(f).__name__}.")
    if backend == "jax":
        from theorycheck.maths.jax_model import JaxModel

        return JaxModel(f, loss, device, template)
    from theorycheck.maths.autograd_model import AutogradModel

    return AutogradModel(f, loss, device)


__all__ = [
    "BACKENDS", "BLOCK", "BLOCK_NUMBERS", "DEFAULT_CHUNK_BYTES", "DEVICES", "Model", "ModelError", "ModelPoint",
    "PRODUCT_ROWS", "check_output_shape", "chunk_rows", "model",
]
