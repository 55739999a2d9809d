"""`theorycheck modified`: terms, gradient-field test at the point, modified loss, LaTeX and JSON, bad input."""

import json

import pytest

from theorycheck.running.cli import main


def test_rosenbrock_text_names_the_first_non_gradient_term(capsys):
    assert main(["modified", "--loss", "rosenbrock", "--order", "2"]) == 0
    out = capsys.readouterr().out
    assert "F2:" in out and "NOT a gradient field; ||J - J^T||_F = 200.083 (0.328 of ||J||_F)" in out
    assert "modified loss (f = -grad L~ to h^1)" in out and "F2 is not a gradient field" in out


def test_json_and_latex(capsys):
    assert main(["modified", "--loss", "(3*a**2 + 2*a*b + b**2)/2", "--order", "2", "--at", "a=1,b=1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["modified_loss_order"] == 2 and [t["gradient"] for t in doc["terms"]] == [True, True, True]
    assert doc["terms"][1]["field"] == ["-5*a - 2*b", "-2*a - b"]  # -1/2 A^2 θ with A = [[3, 1], [1, 1]]
    assert all(t["asymmetry"] == 0 for t in doc["terms"])
    assert main(["modified", "--loss", "a**2*b", "--order", "1", "--latex"]) == 0
    out = capsys.readouterr().out
    assert "a^{2} b" in out and "\\frac" in out or "a^{4}" in out


@pytest.mark.parametrize("argv, message", [
    (["--loss", "a", "--order", "9"], "`--order` must be an integer between 0 and 8, got 9"),
    (["--loss", "a", "--order", "x"], "`--order` must be an integer"),
    (["--loss", "log(a)", "--order", "1", "--at", "a=0"], "not a finite real number at a=0"),
    (["--loss", "a*b", "--order", "1", "--at", "a=1"], "no value given for variable(s) b"),
    (["--loss", "", "--order", "1"], "the loss expression is empty"),
])
def test_bad_input_is_one_line(capsys, argv, message):
    assert main(["modified", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
