"""``flatness --model``, ``sharpness`` and ``stability --model`` on a user's network (autograd, JAX, a torch module
with its state_dict): the numbers of the Python API, the files, and one line + exit 2 for every bad input."""

import json

import numpy as np
import pytest

from theorycheck.running.cli import main

pytestmark = [pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")]

TORCH_NET = '''import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 6)
        self.fc2 = nn.Linear(6, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))
'''


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    theta = rng.standard_normal(6 * 3 + 6)
    paths = {"X": tmp_path / "X.npy", "theta": tmp_path / "theta.npy", "y": tmp_path / "y.npy",
             "labels": tmp_path / "labels.npy", "dir": tmp_path, "out": tmp_path / "out"}
    np.save(paths["X"], X)
    np.save(paths["theta"], theta)
    np.save(paths["y"], np.sin(X[:, 0]))
    np.save(paths["labels"], (X[:, 0] > 0).astype(float))
    np.save(tmp_path / "short.npy", theta[:5])
    (tmp_path / "mc_auto.py").write_text(
        "import autograd.numpy as anp\n\ndef f(p, x):\n    W = anp.reshape(p[:18], (6, 3))\n"
        "    return anp.dot(p[18:], anp.tanh(W @ x))\n\ndef nan(p, x):\n    return anp.log(-anp.abs(p[0])) + x[0]\n\n"
        "def raises(p, x):\n    raise RuntimeError('boom')\n\ndef matrix(p, x):\n    return anp.outer(p, x)\n\nnot_a_model = 3\n")
    (tmp_path / "mc_jax.py").write_text(
        "import jax.numpy as jnp\n\ndef f(prm, x):\n    return jnp.dot(prm['a'], jnp.tanh(prm['W'] @ x))\n")
    np.savez(tmp_path / "jax_params.npz", W=theta[:18].reshape(6, 3), a=theta[18:])
    np.savez(tmp_path / "wrong_params.npz", W=theta[:18].reshape(6, 3), b=theta[18:])
    for k in ("f", "nan", "raises", "matrix", "not_a_model"):
        paths[k] = f"{tmp_path / 'mc_auto.py'}:{k}"
    paths["jax"] = f"{tmp_path / 'mc_jax.py'}:f"
    return paths


def _fmt(argv, paths):
    return [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]


def test_flatness_model_gives_the_numbers_of_the_python_api(files, capsys):
    import autograd.numpy as anp

    from theorycheck.maths.models import model
    from theorycheck.numerics import models as M

    argv = _fmt(["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}",
                 "--first-layer", "0:6x3", "--lr", "0.1", "--json"], files)
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    X, y, theta = np.load(files["X"]), np.load(files["y"]), np.load(files["theta"])
    pt = model(lambda p, x: anp.dot(p[18:], anp.tanh(anp.reshape(p[:18], (6, 3)) @ x))).at(theta, X, y)
    assert out["lambda_max"] == pytest.approx(M.top_hessian_eigenvalue(pt), rel=1e-8)
    assert out["trace_error"]["method"] == "exact" and out["trace"] == pytest.approx(
        np.trace(np.column_stack([pt.hvp(e) for e in np.eye(24)])), rel=1e-10)
    assert out["gauss_newton_trace"] == pytest.approx(M.gauss_newton_trace(pt), rel=1e-12)
    assert out["multiplicative"]["holds"] and out["threshold"] == pytest.approx(20.0)
    assert out["eta_lambda_max_over_2"] == pytest.approx(0.05 * out["lambda_max"])
    assert {"model", "backend", "loss", "device", "parameters", "samples", "outputs", "targets", "train_loss",
            "max_abs_residual", "input_grad_sq_mean"} <= set(out)


def test_a_jax_pytree_and_its_first_layer_by_name(files, capsys):
    argv = _fmt(["flatness", "--model", "{jax}", "--backend", "jax", "--params", "{dir}/jax_params.npz",
                 "--features", "{X}", "--first-layer", "W", "--json"], files)
    assert main(argv) == 0
    jax_out = json.loads(capsys.readouterr().out)
    assert jax_out["targets"] == "interpolating" and jax_out["max_abs_residual"] == 0.0
    assert jax_out["trace"] == pytest.approx(jax_out["gauss_newton_trace"], rel=1e-10)  # H = GN there
    assert jax_out["multiplicative"]["first_layer"] == {"start": 0, "shape": [6, 3]}


def test_a_torch_module_from_its_state_dict_across_the_commands(files, capsys, tmp_path):
    torch = pytest.importorskip("torch")
    (tmp_path / "mc_torch.py").write_text(TORCH_NET)
    import importlib.util

    spec = importlib.util.spec_from_file_location("mc_torch_ref", tmp_path / "mc_torch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    torch.save(mod.Net().state_dict(), tmp_path / "theta.pt")
    base = _fmt(["--model", "{dir}/mc_torch.py:Net", "--params", "{dir}/theta.pt", "--features", "{X}",
                 "--targets", "{y}"], files)
    assert main(["flatness", *base, "--first-layer", "fc1.weight", "--json"]) == 0
    flat = json.loads(capsys.readouterr().out)
    assert flat["backend"] == "torch" and flat["parameters"] == 6 * 3 + 6 + 6 + 1
    assert main(["stability", *base, "--batch", "3", "--json"]) == 0
    stab = json.loads(capsys.readouterr().out)
    assert 0 < stab["eta_star"] <= stab["gd_threshold"] * (1 + 1e-9) and stab["backend"] == "torch"
    assert main(["sharpness", *base, "--lr", "0.2", "--steps", "30", "--every", "10", "--out", str(files["out"]),
                 "--json"]) == 0
    sh = json.loads(capsys.readouterr().out)
    assert [r["step"] for r in sh["trace"]] == [0, 10, 20, 30] and sh["status"] == "completed"
    assert sh["trace"][0]["lambda_max"] == pytest.approx(flat["lambda_max"], rel=1e-5)
    assert sh["trace"][-1]["loss"] < sh["trace"][0]["loss"]
    assert (files["out"] / "sharpness.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((files["out"] / "sharpness.json").read_text())
    assert len(saved["final_params"]) == flat["parameters"]
    assert main(["flatness", *base, "--first-layer", "fc1", "--json"]) == 2
    err = capsys.readouterr().err.strip()  # the matrices are offered, the biases are not
    assert "its 2-D ones: fc1.weight, fc2.weight)" in err and "bias" not in err, err


def test_sharpness_replaces_its_own_output_and_refuses_a_users_directory(files, capsys, tmp_path):
    base = _fmt(["sharpness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}",
                 "--lr", "0.05", "--steps", "4", "--every", "2"], files)
    assert main([*base, "--out", str(files["out"])]) == 0 and main([*base, "--out", str(files["out"])]) == 0
    assert sorted(p.name for p in files["out"].iterdir()) == [".theorycheck-report.json", "sharpness.json",
                                                               "sharpness.png"]
    capsys.readouterr()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    (mine / "sharpness.json").write_text("my own trace")
    assert main([*base, "--out", str(mine)]) == 2
    err = capsys.readouterr().err.strip()
    assert "did not write" in err and len(err.splitlines()) == 1, err
    assert (mine / "sharpness.json").read_text() == "my own trace" and (mine / "notes.txt").exists()


def test_a_diverging_sharpness_run_writes_its_trace_and_exits_non_zero(files, capsys):
    argv = _fmt(["sharpness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}",
                 "--lr", "40", "--steps", "200", "--every", "1", "--out", "{out}", "--json"], files)
    assert main(argv) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    err = captured.err.strip().splitlines()[-1]
    assert doc["status"] == "diverged" and doc["steps"] < 200
    assert f"diverged at step {doc['steps']} of 200" in err and "smaller --lr" in err
    assert "Traceback" not in captured.err
    saved = json.loads((files["out"] / "sharpness.json").read_text())
    assert saved["status"] == "diverged" and saved["trace"] == doc["trace"]


def test_cross_entropy_and_logistic_on_the_command_line(files, capsys):
    argv = _fmt(["stability", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets",
                 "{labels}", "--loss", "logistic", "--batch", "2", "--json"], files)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["loss"] == "logistic" and "never interpolates" in captured.err


BAD = [
    (["flatness", "--model", "{raises}", "--params", "{theta}", "--features", "{X}"], "RuntimeError: boom"),
    (["flatness", "--model", "{nan}", "--params", "{theta}", "--features", "{X}"], "non-finite"),
    (["flatness", "--model", "{matrix}", "--params", "{theta}", "--features", "{X}"], "a number or a vector"),
    (["flatness", "--model", "{not_a_model}", "--params", "{theta}", "--features", "{X}"], "must be a function"),
    (["flatness", "--model", "{f}", "--params", "{dir}/short.npy", "--features", "{X}"], "the model failed"),
    (["flatness", "--model", "{jax}", "--backend", "jax", "--params", "{dir}/wrong_params.npz", "--features",
      "{X}"], "KeyError"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--device", "cuda"], "CPU only"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--device", "tpu"], "--device"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--backend", "tf"], "--backend"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--loss", "hinge"], "--loss"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--loss", "logistic"],
     "give `--targets`"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--first-layer", "0:9x9"],
     "does not fit"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--first-layer", "fc1"],
     "not a parameter"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--first-layer", "0:" + "9" * 400],
     "START:MxD"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--trace-rtol", "nan"],
     "--trace-rtol"),
    (["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--width", "3"], "built-in"),
    (["flatness", "--params", "{theta}", "--features", "{X}", "--targets", "{y}", "--width", "3", "--lr", "0.1"],
     "belongs to `--model"),
    (["flatness", "--model", "{f}", "--params", "{dir}", "--features", "{X}"], "directory"),
    (["flatness", "--model", "{f}", "--params", "{X}", "--features", "{X}"], "1-D"),
    (["sharpness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--lr", "0.1"], "--targets"),
    (["sharpness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}", "--lr", "inf"],
     "--lr"),
    (["sharpness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}", "--lr", "0.1",
      "--steps", "9" * 400], "--steps"),
    (["sharpness", "--model", "{f}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}", "--lr", "0.1",
      "--out", "{X}/sub"], "is a file"),
]


@pytest.mark.parametrize("argv,needle", BAD, ids=[f"{a[0]}-{n[:18]}" for a, n in BAD])
def test_bad_model_input_is_one_line_exit_2_and_nothing_written(files, capsys, argv, needle):
    assert main(_fmt(argv, files)) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not files["out"].exists()


def test_a_model_too_large_even_streamed_is_refused_before_it_runs(files, capsys, monkeypatch):
    from theorycheck.running import validate

    monkeypatch.setattr(validate, "available_memory", lambda: 4096)
    assert main(_fmt(["flatness", "--model", "{f}", "--params", "{theta}", "--features", "{X}"], files)) == 2
    assert "needs about" in capsys.readouterr().err


def test_a_state_dict_that_is_not_only_tensors_is_refused_unread(files, capsys, tmp_path):
    torch = pytest.importorskip("torch")
    (tmp_path / "mc_torch.py").write_text(TORCH_NET)
    torch.save({"fc1.weight": torch.zeros(6, 3), "evil": np.dtype}, tmp_path / "evil.pt")  # not weights-only
    argv = _fmt(["flatness", "--model", "{dir}/mc_torch.py:Net", "--params", "{dir}/evil.pt", "--features", "{X}"],
                files)
    assert main(argv) == 2
    assert "weights_only" in capsys.readouterr().err
