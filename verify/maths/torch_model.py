"""The PyTorch backend of the model protocol: an ``nn.Module`` through ``torch.func.functional_call``, or a
function of a flat tensor (``pip install theorycheck[torch]``)."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.models import Model, check_output_shape
from theorycheck.maths.output_losses import ArrayOps, OutputLoss

#: Multiply-adds one backward pass of a module's per-sample Jacobian may spend on a sub-batch: the sub-batch
#: holds about this many over p samples (1 ≤ b ≤ 32), so small nets amortise the per-call cost of a backward
#: pass over several samples while large ones stay at O(p) per sample.
JACOBIAN_BLOCK_WORK = 200_000


class TorchModel(Model):
    """An ``nn.Module`` (through ``torch.func.functional_call``) or a function ``f(params, x)`` of a flat tensor.

    A module sees one sample at a time as a batch of one (``module(x[None])[0]``), so layers that need a batch
    dimension work; its buffers (e.g. batch-norm statistics) are constants. It is copied to float64 (or
    ``dtype``) on ``device`` once; its parameters are θ in the order of ``named_parameters()``.
    """

    backend = "torch"
    own_threads = True

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
                check_output_shape(out[0])
                return out[0].reshape(-1)
        elif callable(f):
            def fv(th: Any, x: Any) -> Any:
                out = f(th, x)
                check_output_shape(out)
                return out.reshape(-1)
        else:
            raise InputError(f"a torch model must be an nn.Module or a function f(params, x), got "
                             f"{type(f).__name__}.")

        outs = func.vmap(fv, in_dims=(None, 0))
        batch_outs: Callable[[Any, Any], Any] = outs
        if self.module is not None:
            def module_outs(th: Any, Xc: Any) -> Any:  # the module on the whole chunk: no per-sample vmap needed
                parts = torch.split(th, self._sizes)
                params = {k: t.view(s) for k, t, s in zip(self._names, parts, self._shapes)}
                return func.functional_call(module, {**params, **buffers}, (Xc,)).reshape(Xc.shape[0], -1)

            batch_outs = module_outs

        self._batch_outs = batch_outs
        self._batch_loss = lambda th, Xc, yc, wc: (wc * loss_.value(ops, batch_outs(th, Xc), yc)).sum()
        self._batch_weighted = lambda th, Xc, Wc: (Wc * batch_outs(th, Xc)).sum()
        self._graphs: dict[tuple[int, str], tuple[Any, Any, Any]] = {}
        self._outs = outs
        self._f_jvp = lambda th, Xc, V: func.vmap(lambda v: func.jvp(lambda t: outs(t, Xc), (th,), (v,))[1])(V)
        if self.module is None:  # a plain function is per-sample only: its gradients through torch.func
            self._f_jac = func.vmap(func.jacrev(fv), in_dims=(None, 0))
            self._f_vjp = lambda th, Xc, U: func.vjp(lambda t: outs(t, Xc), th)[1](U)[0]
            self._f_loss = func.grad_and_value(lambda th, Xc, yc, wc: (wc * loss_.value(ops, outs(th, Xc), yc)).sum())
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

    # A module is batched, so its gradients come from torch.autograd on the chunk, one backward pass each;
    # torch.func's grad, jacrev and vjp would cost a process over a second the first time they run (they import
    # torch._dynamo), more than the whole Jacobian of a small net. A plain function f(params, x) is per-sample
    # only, through torch.func.

    def _leaf(self, th: Any) -> Any:
        return th.detach().requires_grad_(True)

    def _jacobian(self, th: Any, Xc: Any) -> Any:
        if self.module is None:
            return self._f_jac(th, Xc)
        torch = self._torch
        leaf, n = self._leaf(th), Xc.shape[0]
        block = max(1, min(32, JACOBIAN_BLOCK_WORK // max(th.numel(), 1)))
        rows = []
        with torch.enable_grad():
            for s in range(0, n, block):
                out = self._batch_outs(leaf, Xc[s:s + block]).reshape(-1)
                rows += [torch.autograd.grad(out[i], leaf, retain_graph=i + 1 < out.numel())[0]
                         for i in range(out.numel())]
        return torch.stack(rows).reshape(n, -1, th.numel())

    def _jvp(self, th: Any, Xc: Any, V: Any) -> Any:
        return self._f_jvp(th, Xc, V)

    def _vjp(self, th: Any, Xc: Any, U: Any) -> Any:
        if self.module is None:
            return self._f_vjp(th, Xc, U)
        torch = self._torch
        leaf = self._leaf(th)
        with torch.enable_grad():
            return torch.autograd.grad(self._batch_outs(leaf, Xc), leaf, U.reshape(Xc.shape[0], -1))[0]

    def _loss_grad(self, th: Any, Xc: Any, yc: Any, wc: Any) -> tuple[Any, Any]:
        if self.module is None:
            g, v = self._f_loss(th, Xc, yc, wc)
            return v, g
        torch = self._torch
        leaf = self._leaf(th)
        with torch.enable_grad():
            value = self._batch_loss(leaf, Xc, yc, wc)
            return value.detach(), torch.autograd.grad(value, leaf)[0]

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
        if self.module is None:
            return self._f_xgrad(th, Xc)
        torch = self._torch
        x = Xc.detach().requires_grad_(True)
        with torch.enable_grad():  # the samples are independent (eval mode): ∇ₓ of the sum is each ∇ₓfᵢ
            return torch.autograd.grad(self._batch_outs(th.detach(), x)[:, 0].sum(), x)[0]


__all__ = ["JACOBIAN_BLOCK_WORK", "TorchModel"]
