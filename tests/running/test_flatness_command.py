"""``theorycheck flatness``: one JSON object on success, one line and exit 2 on bad input."""

import json

import numpy as np
import pytest

from theorycheck.maths import networks
from theorycheck.running.cli import main


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    y = np.sin(2 * X[:, 0])
    paths = {}
    for name, arr in {"X": X, "y": y, "y_short": y[:4], "X_nan": np.where(np.eye(10, 3) > 0, np.nan, X),
                      "y_inf": np.where(np.arange(10) == 2, np.inf, y), "X_str": np.array([["a", "b"]] * 10),
                      "X_1d": X[:, 0]}.items():
        p = tmp_path / f"{name}.npy"
        np.save(p, arr)
        paths[name] = str(p)
    (tmp_path / "junk.npy").write_text("not an array")
    paths["junk"] = str(tmp_path / "junk.npy")
    return paths


def test_flatness_prints_one_recomputable_json_object(files, capsys):
    rc = main(["flatness", "--features", files["X"], "--targets", files["y"], "--width", "12", "--optimizer", "gd",
               "--lr", "0.3", "--seed", "1", "--tol", "1e-8", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    for k in ("train_loss", "interpolated", "trace", "lambda_max", "input_grad_sq_mean", "bound"):
        assert k in out
    assert out["interpolated"] is True and out["train_loss"] <= 1e-8
    net = networks.TwoLayerNet.from_json(out["params"])
    X, y = np.load(files["X"]), np.load(files["y"])
    assert networks.loss(net, X, y) == pytest.approx(out["train_loss"])
    # every link of the chain is the one the nets.sobolev-flatness claim checks
    chain = networks.sobolev_chain(net, X, y).to_json()
    assert {k: out[k] for k in chain} == pytest.approx(chain)
    assert out["input_grad_sq_mean"] <= out["multiplicative_step"] <= out["min_x_step"] <= out["bound"]


def test_not_interpolating_is_an_outcome_not_an_error(files, capsys):
    rc = main(["flatness", "--features", files["X"], "--targets", files["y"], "--width", "4", "--lr", "0.01",
               "--steps", "3"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["interpolated"] is False


BAD = [
    (["--targets", "{y_short}"], "shape"),
    (["--features", "{X_nan}"], "non-finite"),
    (["--targets", "{y_inf}"], "non-finite"),
    (["--features", "{X_str}"], "not real numbers"),
    (["--features", "{X_1d}"], "shape"),
    (["--features", "{junk}"], "no numbers"),
    (["--features", "/nonexistent/X.npy"], "does not exist"),
    (["--width", "0"], "width"),
    (["--lr", "0"], "lr"),
    (["--lr", "-0.1"], "lr"),
    (["--optimizer", "sgd"], "batch"),
    (["--optimizer", "sgd", "--batch", "0"], "batch"),
    (["--optimizer", "sgd", "--batch", "11"], "batch"),
    (["--batch", "5"], "batch"),
    (["--steps", "0"], "steps"),
    (["--optimizer", "adam"], "invalid choice"),
    (["--activation", "sine"], "activation"),
]


@pytest.mark.parametrize("override, msg", BAD)
def test_bad_input_gets_one_line_and_exit_2(files, capsys, override, msg):
    base = {"--features": files["X"], "--targets": files["y"], "--width": "4", "--lr": "0.1"}
    extra = []
    it = iter(override)
    for k in it:
        v = next(it).format(**files)
        if k in base:
            base[k] = v
        else:
            extra += [k, v]
    argv = ["flatness"] + [x for kv in base.items() for x in kv] + extra
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and msg in err and "Traceback" not in err
