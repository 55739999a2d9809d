"""The options every command that measures a user's model shares (``--model``, ``--params``, ``--backend`` …).

``--model FILE.py:NAME`` names a function ``f(params, x)`` (autograd, JAX or torch) or a torch
``nn.Module`` (an instance, or a class built with no arguments); ``--params`` holds θ:

* ``.npy``: the flat vector θ (p,);
* ``.npz``: named arrays, a JAX pytree ``{name: array}`` or a torch ``state_dict``;
* ``.pt``/``.pth``: a torch ``state_dict`` saved with ``torch.save(model.state_dict(), path)``, read with
  ``torch.load(..., weights_only=True)``, which refuses anything but tensors and containers of them
  (an arbitrary pickle is never unpickled).

``--backend auto`` (the default) takes torch for a module and autograd for a function. Before anything
large is allocated, the memory the streamed measurements need is estimated from n, k, p and the chunk
size (:func:`theorycheck.numerics.models.streaming_memory`) and a model that will not fit is refused.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from theorycheck.core.errors import InputError

#: Backends ``--backend`` accepts; ``auto`` picks torch for an nn.Module and autograd for a function.
BACKEND_CHOICES = ("auto", "autograd", "jax", "torch")


def add_model_arguments(p: argparse.ArgumentParser, *, model_required: bool, targets_help: str) -> None:
    """The model options: --model, --params, --features, --targets, --backend, --loss, --device."""
    p.add_argument("--model", required=model_required, metavar="FILE.py:NAME",
                   help="a function f(params, x) -> number or logits, or a torch nn.Module (instance or class)")
    p.add_argument("--params", metavar="P", help="θ: .npy flat vector, .npz named arrays, or a torch state_dict .pt")
    p.add_argument("--targets", metavar="Y.npy", help=targets_help)
    p.add_argument("--backend", default="auto", metavar="B",
                   help="auto (default: torch for an nn.Module, else autograd) | autograd | jax | torch")
    p.add_argument("--loss", default="square", metavar="L", help="square (default) | logistic | cross-entropy")
    p.add_argument("--device", default="cpu", metavar="D", help="cpu (default) | cuda (JAX and torch, where a GPU is)")


def _torch_state_dict(path: Path, label: str) -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        raise InputError(f"{label} is a torch file; reading it needs torch: `pip install theorycheck[torch]`.") \
            from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable or unsafe file: one line
        detail = " ".join(str(exc).split())[:160]
        raise InputError(f"{label} is not a state_dict torch can load safely (weights_only=True): {detail}") \
            from None
    if isinstance(obj, torch.Tensor):
        return {"": obj}
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise InputError(f"{label} must hold a state_dict (a dict of tensors), got {type(obj).__name__}.")
    return dict(obj)


def load_params(path: str, arg: str = "--params") -> Any:
    """θ from ``path``: a flat float64 array (.npy, text), or a dict of named arrays (.npz, torch .pt/.pth)."""
    import zipfile

    import numpy as np

    from theorycheck.core.datafile import load_array

    text = os.fspath(path)
    label = f"`{arg}` file {text!r}"
    p = Path(text)
    if p.is_file() and zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as z:
                names = z.namelist()
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputError(f"{label} is a damaged zip archive ({exc}).") from None
        if any(n.endswith("data.pkl") for n in names):
            sd = _torch_state_dict(p, label)
            return sd[""].detach().double().numpy().ravel() if list(sd) == [""] else sd
        try:
            with np.load(p, allow_pickle=False) as zf:
                out = {k: np.asarray(zf[k], dtype=float) for k in zf.files}
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise InputError(f"{label} is not a readable .npz archive of numeric arrays ({exc}).") from None
        if not out:
            raise InputError(f"{label} is an .npz archive with no arrays.")
        for k, v in out.items():
            if not np.all(np.isfinite(v)):
                raise InputError(f"{label}: array {k!r} holds NaN or inf.")
        return out
    theta = load_array(text, arg)
    if theta.ndim != 1:
        raise InputError(f"{label} must hold a 1-D vector θ (p,) (or named arrays in an .npz), got shape "
                         f"{theta.shape}.")
    return theta


def _resolve(obj: Any, backend: str, spec: str) -> tuple[Any, str]:
    """(model object, backend): a module class is built with no arguments; ``auto`` decides the backend."""
    import sys

    torch = sys.modules.get("torch")  # a torch model's file imported it; a JAX or autograd run never pays for it
    module_type: Any = torch.nn.Module if torch is not None else None
    is_module_class = module_type is not None and isinstance(obj, type) and issubclass(obj, module_type)
    if is_module_class:
        try:
            obj = obj()
        except Exception as exc:  # noqa: BLE001 - the user's class
            raise InputError(f"`--model` {spec!r}: the module class could not be built without arguments "
                             f"({type(exc).__name__}: {exc}); give an instance instead.") from None
    is_module = module_type is not None and isinstance(obj, module_type)
    if backend == "auto":
        backend = "torch" if is_module else "autograd"
    if is_module and backend != "torch":
        raise InputError(f"`--model` {spec!r} is a torch nn.Module: use --backend torch (or auto).")
    if not is_module and not callable(obj):
        raise InputError(f"`--model` {spec!r} must be a function f(params, x) or a torch nn.Module, got "
                         f"{type(obj).__name__}.")
    return obj, backend


def model_point(args: argparse.Namespace, *, targets_required: bool = False, gram: bool = True,
                features_key: str | None = None, targets_key: str | None = None) -> tuple[Any, dict[str, Any], Any]:
    """The :class:`~theorycheck.maths.models.ModelPoint` of the model options, a description of it, and θ as read.

    The description holds ``model``, ``backend``, ``loss``, ``device``, ``parameters`` (p), ``samples``
    (n), ``outputs`` (k) and ``targets`` (``"given"`` or ``"interpolating"``: without ``--targets`` θ is
    taken to interpolate, y = f(θ, X)). ``gram`` says whether the n·k × n·k Gram matrix will be formed
    (for the memory estimate).
    """
    from theorycheck.maths.models import BACKENDS, DEVICES, model
    from theorycheck.maths.output_losses import OUTPUT_LOSSES
    from theorycheck.numerics.models import streaming_memory
    from theorycheck.running.commands.stability import load_array
    from theorycheck.running.loading import import_object
    from theorycheck.running.validate import check_memory

    if args.backend not in BACKEND_CHOICES:
        raise InputError(f"`--backend` must be one of {', '.join(BACKEND_CHOICES)}, got {args.backend!r}.")
    if args.loss not in OUTPUT_LOSSES:
        raise InputError(f"`--loss` must be one of {', '.join(OUTPUT_LOSSES)}, got {args.loss!r}.")
    if args.device not in DEVICES:
        raise InputError(f"`--device` must be one of {', '.join(DEVICES)}, got {args.device!r}.")
    if args.features is None:
        raise InputError("`--model` needs `--features X.npy`: the model's inputs xᵢ.")
    if args.params is None:
        raise InputError("`--model` needs `--params P`: the parameters θ at which to measure.")
    if targets_required and args.targets is None:
        raise InputError("this command needs `--targets Y.npy`: the loss is trained on them.")
    X = load_array(args.features, "--features", features_key)
    if X.ndim < 2:
        raise InputError(f"`--features` must be an array (n, d, …) of the model's inputs, got shape {X.shape}.")
    params = load_params(args.params)
    y = None
    if args.targets is not None:
        y = load_array(args.targets, "--targets", targets_key)
    obj, backend = _resolve(import_object(args.model, "--model"), args.backend, args.model)
    assert backend in BACKENDS
    m = model(obj, backend, args.loss, device=args.device)
    theta = m.flatten(params)
    n = X.shape[0]
    # k is known only once the model has run on one input; a first estimate with k = 1 (and the cross-entropy
    # classes bounded by the outputs checked after binding) refuses hopeless sizes before anything runs
    from theorycheck.maths.models import DEFAULT_CHUNK_BYTES, chunk_rows

    chunk = chunk_rows(n, 1, theta.size, DEFAULT_CHUNK_BYTES)
    check_memory(streaming_memory(n, 1, theta.size, chunk, gram),
                 f"`--model` with p = {theta.size:,} parameters on n = {n:,} inputs (streamed: a chunk of {chunk} "
                 f"per-sample gradients{' and the n×n Gram matrix' if gram else ''})", "use fewer inputs")
    interpolating = y is None
    point = m.at(params, X, None)
    if interpolating:
        if args.loss != "square":
            raise InputError(f"without `--targets` θ is taken to interpolate, which the {args.loss} loss never "
                             "does: give `--targets`.")
        y = point.outputs()
    point = m.at(params, X, y)
    check_memory(streaming_memory(n, point.k, point.p, point.chunk, gram),
                 f"`--model` with {point.k} outputs, p = {point.p:,} parameters on n = {n:,} inputs", "use fewer inputs")
    info = {"model": args.model, "backend": backend, "loss": args.loss, "device": args.device,
            "parameters": int(point.p), "samples": int(n), "outputs": int(point.k),
            "targets": "interpolating" if interpolating else "given"}
    return point, info, params


def first_layer(spec: str | None, point: Any, params_names: dict[str, tuple[int, tuple[int, ...]]] | None = None
                ) -> Any:
    """``--first-layer`` as a :class:`~theorycheck.numerics.models.FirstLayer`: ``START:MxD`` or a parameter name."""
    from theorycheck.numerics.models import FirstLayer

    if spec is None:
        return None
    text = spec.strip()
    if ":" in text:
        start_text, _, shape_text = text.partition(":")
        parts = shape_text.lower().split("x")
        try:
            if len(start_text) > 20 or len(shape_text) > 41 or len(parts) != 2:
                raise ValueError
            start, m, d = int(start_text), int(parts[0]), int(parts[1])
        except ValueError:
            raise InputError(f"`--first-layer` must be START:MxD (e.g. 0:64x20) or a parameter name, got "
                             f"{spec!r}.") from None
        layer = FirstLayer(start, (m, d))
    else:
        names = params_names or {}
        if text not in names:
            matrices = [n for n, (_, shape) in names.items() if len(shape) == 2]
            known = (f"its 2-D ones: {', '.join(matrices[:8])}{', …' if len(matrices) > 8 else ''}" if matrices else
                     "it has no 2-D parameter, so give START:MxD" if names else
                     "its parameters are one flat vector, so give START:MxD")
            raise InputError(f"`--first-layer` {spec!r} is not a parameter of the model ({known}).")
        start, shape = names[text]
        if len(shape) != 2:
            raise InputError(f"`--first-layer` {spec!r} has shape {shape}; a first-layer weight is (m, d).")
        layer = FirstLayer(start, (int(shape[0]), int(shape[1])))
    layer.check(point)
    return layer


def parameter_layout(point: Any, params: Any) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Name → (offset in θ, shape) of each named parameter (torch modules in ``named_parameters`` order, JAX dicts
    in sorted-key order, as ``ravel_pytree`` flattens them); empty for a flat vector."""
    import numpy as np

    model = point.model
    module = getattr(model, "module", None)
    out: dict[str, tuple[int, tuple[int, ...]]] = {}
    if module is not None:
        offset = 0
        for name, v in module.named_parameters():
            out[name] = (offset, tuple(v.shape))
            offset += int(v.numel())
    elif isinstance(params, dict):
        offset = 0
        for name in sorted(params):
            shape = tuple(np.shape(params[name]))
            out[name] = (offset, shape)
            offset += int(np.prod(shape, dtype=np.int64))
    return out


def positive_number(text: str | None, arg: str) -> float | None:
    """The positive finite number written in ``text`` (None passes through)."""
    if text is None:
        return None
    import math

    try:
        value = float(text) if len(str(text)) <= 64 else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"`{arg}` must be a positive finite number, got {text!r}.")
    return value


def fraction(text: str, arg: str) -> float:
    """A number in (0, 1) written in ``text``."""
    value = positive_number(text, arg)
    assert value is not None
    if not value < 1:
        raise InputError(f"`{arg}` must lie strictly between 0 and 1, got {text!r}.")
    return value


__all__ = [
    "BACKEND_CHOICES", "add_model_arguments", "first_layer", "fraction", "load_params", "model_point",
    "parameter_layout", "positive_number",
]
