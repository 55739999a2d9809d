"""``theorycheck stability``: output, sweep files, and one line + exit 2 for every bad input."""

import json

import numpy as np
import pytest

from theorycheck.numerics.stability import critical_learning_rate_features
from theorycheck.running.cli import main


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    paths = {"X": tmp_path / "X.npy", "H": tmp_path / "H.npy"}
    np.save(paths["X"], X)
    np.save(paths["H"], np.einsum("ni,nj->nij", X, X))
    bad = {
        "1d": np.ones(4), "3d_features": np.ones((2, 2, 2)), "nan": np.array([[np.nan, 1.0], [1.0, 2.0]]),
        "nonsquare": np.ones((3, 2, 4)), "asym": np.array([[[1.0, 2.0], [0.0, 1.0]]]),
        "indef": np.array([[[1.0, 0.0], [0.0, -2.0]]]), "nan_h": np.full((1, 2, 2), np.nan),
        "strings": np.array(["a", "b"]),
    }
    for k, v in bad.items():
        paths[k] = tmp_path / f"{k}.npy"
        np.save(paths[k], v)
    paths["garbage"] = tmp_path / "garbage.npy"
    paths["garbage"].write_text("not numpy")
    paths["dir"] = tmp_path
    return paths


def test_json_has_the_promised_keys(files, capsys):
    assert main(["stability", "--features", str(files["X"]), "--batch", "2", "--sampling", "without", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for k in ("eta_star", "sharpness", "non_uniformity", "gd_threshold", "conditions"):
        assert k in out
    X = np.load(files["X"])
    assert out["eta_star"] == pytest.approx(critical_learning_rate_features(X, 2, "without"), rel=1e-8)
    for c in out["conditions"].values():
        assert {"threshold", "kind", "holds_at_eta_star", "eta_star_over_threshold"} <= set(c)
        assert c["holds_at_eta_star"] == (c["eta_star_over_threshold"] <= 1 + 1e-8)


def test_hessians_give_the_same_eta_as_features(files, capsys):
    main(["stability", "--features", str(files["X"]), "--batch", "3", "--json"])
    a = json.loads(capsys.readouterr().out)["eta_star"]
    main(["stability", "--hessians", str(files["H"]), "--batch", "3", "--json"])
    assert json.loads(capsys.readouterr().out)["eta_star"] == pytest.approx(a, rel=1e-8)


def test_table_output(files, capsys):
    assert main(["stability", "--features", str(files["X"]), "--batch", "1"]) == 0
    assert "eta_star" in capsys.readouterr().out


def test_sweep_writes_json_and_png(files, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["stability", "--features", str(files["X"]), "--sweep-batch", "1,2,4,6", "--out", str(out)]) == 0
    doc = json.loads((out / "stability_sweep.json").read_text())
    etas = [r["eta_star"] for r in doc["rows"]]
    assert doc["batches"] == [1, 2, 4, 6] and etas == sorted(etas)
    assert (out / "stability_sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["stability", "--features", str(files["X"]), "--sweep-batch", "1,2", "--out", str(out)]) == 0
    assert json.loads((out / "stability_sweep.json").read_text())["batches"] == [1, 2]  # its own output: replaced


def test_a_sweep_into_a_directory_theorycheck_did_not_write_is_refused_before_it_runs(files, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    (mine / "stability_sweep.json").write_text("my own sweep")
    argv = ["stability", "--features", str(files["X"]), "--sweep-batch", "1,2", "--out", str(mine)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "did not write" in err and "notes.txt" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt", "stability_sweep.json"]
    assert (mine / "stability_sweep.json").read_text() == "my own sweep"


@pytest.mark.parametrize("argv,needle", [
    (["--features", "{nonsquare}", "--batch", "1"], "2-D"),
    (["--hessians", "{nonsquare}", "--batch", "1"], "square"),
    (["--hessians", "{asym}", "--batch", "1"], "not symmetric"),
    (["--features", "{nan}", "--batch", "1"], "non-finite"),
    (["--hessians", "{nan_h}", "--batch", "1"], "non-finite"),
    (["--features", "{X}", "--batch", "0"], "--batch"),
    (["--features", "{X}", "--batch", "7"], "--batch"),
    (["--features", "{X}", "--batch", "two"], "--batch"),
    (["--features", "{1d}", "--batch", "1"], "2-D"),
    (["--features", "{3d_features}", "--batch", "1"], "2-D"),
    (["--features", "{X}/missing.npy", "--batch", "1"], "does not exist"),
    (["--features", "{garbage}", "--batch", "1"], "neither a .npy/.npz array nor a numeric"),
    (["--features", "{dir}", "--batch", "1"], "directory"),
    (["--features", "{strings}", "--batch", "1"], "not real numbers"),
    (["--hessians", "{indef}", "--batch", "1"], "not a minimum"),
    (["--features", "{X}", "--batch", "1", "--sampling", "maybe"], "--sampling"),
    (["--features", "{X}"], "--batch"),
    (["--features", "{X}", "--sweep-batch", "1,9"], "--sweep-batch"),
    (["--features", "{X}", "--sweep-batch", "1,x"], "--sweep-batch"),
    (["--features", "{X}", "--batch", "1", "--rtol", "0"], "--rtol"),
    (["--features", "{X}", "--hessians", "{H}", "--batch", "1"], "not allowed"),
])
def test_bad_input_is_one_line_and_exit_2(files, capsys, argv, needle):
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    argv = [a.replace(f"{files['X']}/missing.npy", str(files["dir"] / "missing.npy")) for a in argv]
    try:
        rc = main(["stability", *argv])
    except SystemExit as exc:  # argparse usage errors (mutually exclusive options) exit directly
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err


def test_a_sufficient_condition_failing_at_eta_star_is_read_as_expected(files, capsys):
    assert main(["stability", "--features", str(files["X"]), "--batch", "2", "--json"]) == 0
    conds = json.loads(capsys.readouterr().out)["conditions"]
    wme = conds["wu_ma_e_sufficient"]
    assert wme["kind"] == "sufficient" and "expected" in wme["reading"] or wme["holds_at_eta_star"]
    for c in conds.values():
        if c["kind"] == "necessary":
            assert c["reading"].startswith("holds") == c["holds_at_eta_star"]
    assert main(["stability", "--features", str(files["X"]), "--batch", "2"]) == 0
    table = capsys.readouterr().out
    if not wme["holds_at_eta_star"]:
        assert "no (expected for a sufficient condition)" in table


# --- a user's model: --model FILE.py:NAME --params --features [--targets] -----------------------------

@pytest.fixture()
def model_files(tmp_path, files):
    X = np.load(files["X"])
    theta = np.array([0.5, -1.0, 2.0])
    paths = {"X": files["X"], "dir": tmp_path}
    # f(θ, x) = θ·x: gᵢ = xᵢ, so Hᵢ = gᵢgᵢᵀ = xᵢxᵢᵀ, the --features route's square loss
    (tmp_path / "stab_linear_model.py").write_text("import autograd.numpy as np\n\n"
                                                   "def f(params, x):\n    return np.dot(params, x)\n")
    (tmp_path / "stab_broken_model.py").write_text("def f(params, x):\n    return params[99]\n")
    (tmp_path / "stab_syntax_model.py").write_text("def f(params, x)\n    return 0\n")
    (tmp_path / "stab_vector_model.py").write_text("def f(params, x):\n    return params[:, None] * x\n")
    for name, arr in (("theta", theta), ("y", X @ theta), ("y_off", X @ theta + 0.25), ("y_short", X[:3, 0])):
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], arr)
    for k in ("linear", "broken", "syntax", "vector"):
        paths[k] = f"{tmp_path / f'stab_{k}_model.py'}:f"
    paths["no_name"] = f"{tmp_path / 'stab_linear_model.py'}:g"
    return paths


def _fmt(argv, paths):
    return [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]


def test_a_linear_model_gives_the_features_route(model_files, capsys):
    assert main(["stability", "--features", str(model_files["X"]), "--batch", "2", "--json"]) == 0
    direct = json.loads(capsys.readouterr().out)
    argv = _fmt(["stability", "--model", "{linear}", "--params", "{theta}", "--features", "{X}", "--targets", "{y}",
                 "--batch", "2", "--json"], model_files)
    assert main(argv) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["eta_star"] == pytest.approx(direct["eta_star"], rel=1e-8)
    assert out["sharpness"] == pytest.approx(direct["sharpness"], rel=1e-10)
    assert out["parameters"] == 3 and out["backend"] == "autograd" and out["max_abs_residual"] < 1e-12
    assert captured.err == ""


def test_a_model_off_interpolation_is_measured_with_a_note(model_files, capsys):
    argv = _fmt(["stability", "--model", "{linear}", "--params", "{theta}", "--features", "{X}", "--targets",
                 "{y_off}", "--batch", "2"], model_files)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "max |f(θ, xᵢ) − yᵢ| = 0.25" in captured.out
    assert len(captured.err.strip().splitlines()) == 1 and "does not interpolate" in captured.err


@pytest.mark.parametrize("argv,needle", [
    (["--model", "{no_name}", "--params", "{theta}", "--features", "{X}"], "has no 'g'"),
    (["--model", "{dir}/absent.py:f", "--params", "{theta}", "--features", "{X}"], "does not exist"),
    (["--model", "{dir}/stab_linear_model.py", "--params", "{theta}", "--features", "{X}"], "FILE.py:NAME"),
    (["--model", "{syntax}", "--params", "{theta}", "--features", "{X}"], "SyntaxError"),
    (["--model", "{broken}", "--params", "{theta}", "--features", "{X}"], "the model failed while computing"),
    (["--model", "{vector}", "--params", "{theta}", "--features", "{X}"], "a number or a vector"),
    (["--model", "{linear}", "--features", "{X}"], "needs `--params"),
    (["--model", "{linear}", "--params", "{X}", "--features", "{X}"], "1-D"),
    (["--model", "{linear}", "--params", "{theta}", "--hessians", "{X}"], "needs `--features"),
    (["--model", "{linear}", "--params", "{theta}", "--features", "{X}", "--targets", "{y_short}"], "targets must have shape"),
    (["--model", "{linear}", "--params", "{theta}", "--features", "{X}", "--backend", "tf"], "--backend"),
    (["--params", "{theta}", "--features", "{X}"], "belongs to `--model"),
    (["--model", "no_such_module_xyz:f", "--params", "{theta}", "--features", "{X}"], "no module named"),
])
def test_bad_model_input_is_one_line_and_exit_2(model_files, capsys, argv, needle):
    rc = main(["stability", *_fmt(argv, model_files), "--batch", "2"])
    assert rc == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err and "Traceback" not in err
