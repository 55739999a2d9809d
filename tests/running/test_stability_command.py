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
