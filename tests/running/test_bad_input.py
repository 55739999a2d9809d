"""Every bad input and fault of the command line, one row each: the exit code, one line on stderr, no traceback.

The rows are the inputs a new (or careless) user tries: directories of their own files as ``--out``,
baselines that would shrink or loosen the regression, numbers out of range, files that are not what their
names say, sizes that cannot fit in memory, runs that diverge. A row whose expected exit code is 0, 1 or 3
is an input accepted sensibly; its stderr must then be empty (or the one warning the row names).
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from theorycheck import claims
from theorycheck.core.errors import UnknownClaimError
from theorycheck.reporting.record import load_run, save_run
from theorycheck.reporting.report import write_run
from theorycheck.running.cli import main

from _synthetic import ToyFail, ToyPass, record

N_TERMS = 20_000


@pytest.fixture
def toys(monkeypatch):
    reg = {c.id: c for c in (ToyPass(), ToyFail())}

    def get(cid):
        if cid not in reg:
            raise UnknownClaimError(f"unknown claim id {cid!r}.")
        return reg[cid]

    monkeypatch.setattr(claims, "all_claims", lambda: list(reg.values()))
    monkeypatch.setattr(claims, "get", get)
    return reg


@pytest.fixture
def ws(tmp_path, toys, monkeypatch):
    """A project directory with data files, a baseline and results files of every kind the rows need."""
    from theorycheck.claims import RunContext
    from theorycheck.running.runner import run_claims

    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = np.sin(X.sum(axis=1))
    f = {"root": root}
    for name, arr in {"X": X, "y": y, "Xbig": X * 1e300, "Xtiny": X * 1e-300}.items():
        np.save(root / f"{name}.npy", arr)
        f[name] = root / f"{name}.npy"
    np.savez(root / "two.npz", X=X, y=y)
    (root / "two.npz").rename(root / "npz_named.npy")
    f["npz_named"] = root / "npz_named.npy"
    (root / "text.npy").write_text("some notes\nnot numbers at all\n")
    f["text"] = root / "text.npy"
    (root / "empty.npy").write_bytes(b"")
    f["empty"] = root / "empty.npy"
    (root / "pickle.npy").write_bytes(pickle.dumps({"x": 1}))
    f["pickle"] = root / "pickle.npy"
    np.savetxt(root / "X.csv", X, delimiter=",", header="a,b,c", comments="")
    f["csv"] = root / "X.csv"
    # a directory of the user's own files, and a checkout-like reports/ folder
    (root / "mine" / "sub").mkdir(parents=True)
    (root / "mine" / "notes.txt").write_text("my notes")
    (root / "mine" / "sub" / "data.csv").write_text("1,2\n")
    f["mine"] = root / "mine"
    (root / "reports" / "example").mkdir(parents=True)
    (root / "reports" / "example" / "index.html").write_text("<p>example</p>")
    f["reports"] = root / "reports"
    (root / "afile").write_text("x")
    f["afile"] = root / "afile"
    # runs: the baseline, and candidates differing in claim set, mode, seed, tolerance, ids
    rec = run_claims(list(toys.values()), RunContext(quick=True), progress=False)
    base = root / "reports" / "baseline.json"
    save_run(rec.without_timings(), base)
    f["base"] = base
    doc = json.loads(base.read_text())

    def variant(name, change):
        d = json.loads(json.dumps(doc))
        change(d)
        (root / f"{name}.json").write_text(json.dumps(d))
        f[name] = root / f"{name}.json"

    variant("same", lambda d: None)
    variant("smaller", lambda d: d["claims"].pop())
    variant("full", lambda d: d["settings"].update(quick=False))
    variant("seed", lambda d: d["settings"].update(seed=7))

    def loosened(d):
        d["claims"][0]["key"]["value"] = 2.0
        d["claims"][0]["key_tolerance"] = {"value": {"rtol": 1e9}}

    variant("loosened", loosened)

    def duplicated(d):
        first = json.loads(json.dumps(d["claims"][0]))
        first["verdict"] = "FAIL"
        d["claims"].insert(0, first)

    variant("duplicated", duplicated)
    nested = "[" * 100_000 + "]" * 100_000
    (root / "nested.json").write_text(nested)
    f["nested"] = root / "nested.json"
    f["huge_expr"] = "+".join(f"a**{i % 5}*b" for i in range(N_TERMS))
    monkeypatch.chdir(root / "sub")
    return f


# (row id, argv, exit code, text the one stderr line must contain; "" means stderr is empty)
ROWS = [
    # --- run: the output directory
    ("run --out a directory of the user's files", ["run", "--quick", "--out", "{mine}"], 2, "did not write"),
    ("run --out reports in a checkout", ["run", "--quick", "--out", "{reports}"], 2, "baseline.json"),
    ("run --out under a file", ["run", "--quick", "--out", "{afile}/r"], 2, "a parent of it is a file"),
    ("run --out an existing file", ["run", "--quick", "--out", "{afile}"], 2, "not a directory"),
    ("run --out in /proc", ["run", "--quick", "--out", "/proc/theorycheck-r"], 2, "cannot write"),
    ("run --out ''", ["run", "--quick", "--out", ""], 2, "empty"),
    ("run --out . (the project)", ["run", "--quick", "--out", "{root}"], 2, "did not write"),
    ("run --out while another run writes it", ["run", "--quick", "--out", "{root}/busy"], 75, "another theorycheck"),
    ("run --seed=-1", ["run", "--seed=-1", "--out", "{root}/r"], 2, "--seed"),
    ("run --seed 2**40", ["run", "--seed", str(2**40), "--out", "{root}/r"], 2, "--seed"),
    ("run unknown --claim", ["run", "--claim", "toy-pas", "--out", "{root}/r"], 2, "unknown claim"),
    ("run --claim X --claim X", ["run", "--quiet", "--claim", "toy-pass", "--claim", "toy-pass", "--out", "{root}/r"],
     0, ""),
    ("run --scheduler without dask", ["run", "--scheduler", "tcp://x:1", "--out", "{root}/r"], 2, "--scheduler"),
    # --- compare
    ("compare: tolerance taken from the new run", ["compare", "{base}", "{loosened}", "--quiet"], 1, ""),
    ("compare: duplicated claim id", ["compare", "{base}", "{duplicated}"], 2, "more than once"),
    ("compare: deeply nested JSON", ["compare", "{base}", "{nested}"], 2, "nested too deeply"),
    ("compare: missing baseline", ["compare", "{root}/nope.json", "{same}"], 2, "does not exist"),
    ("compare: missing baseline, --allow-missing", ["compare", "{root}/nope.json", "{same}", "--allow-missing"], 0,
     "warning: no baseline"),
    ("compare: a directory", ["compare", "{root}", "{same}"], 2, "is a directory"),
    ("compare: --rtol -1", ["compare", "{base}", "{same}", "--rtol", "-1"], 2, "--rtol"),
    # --- baseline
    ("baseline --from a smaller claim set", ["baseline", "--from", "{smaller}", "--out", "{base}"], 1,
     "claim(s) removed"),
    ("baseline --from a full (non-quick) run", ["baseline", "--from", "{full}", "--out", "{base}"], 1, "quick"),
    ("baseline --from another seed", ["baseline", "--from", "{seed}", "--out", "{base}"], 1, "seed"),
    ("baseline --from ''", ["baseline", "--from", ""], 2, "--from` is empty"),
    ("baseline --from nested JSON", ["baseline", "--from", "{nested}", "--out", "{base}"], 2, "nested too deeply"),
    ("baseline --from duplicated ids", ["baseline", "--from", "{duplicated}", "--out", "{base}"], 2, "more than once"),
    ("baseline --out a directory", ["baseline", "--from", "{same}", "--out", "{root}"], 2, "is a directory"),
    # --- order
    ("order a**2+b (constant gradient component)", ["order", "--loss", "a**2+b", "--at", "a=0.5,b=1"], 0, ""),
    ("order a+b (GD is the flow: exact)", ["order", "--loss", "a+b", "--at", "a=0.5,b=1"], 3, ""),
    ("order h**2+a", ["order", "--loss", "h**2+a", "--at", "h=0.5,a=1"], 0, ""),
    ("order log(a) at a=-1 (not real)", ["order", "--loss", "log(a)", "--at", "a=-1"], 2, "not a finite real"),
    ("order log(a) at a=0", ["order", "--loss", "log(a)", "--at", "a=0"], 2, "not a finite real"),
    ("order --at a=1e999", ["order", "--loss", "a**2*b", "--at", "a=1e999,b=1"], 2, "out of range"),
    ("order --at a=inf", ["order", "--loss", "a**2*b", "--at", "a=inf,b=1"], 2, "finite"),
    ("order --steps 1e-999,...", ["order", "--loss", "a**2", "--at", "a=1", "--steps", "1e-999,1e-998,1e-997"], 2,
     "out of range"),
    ("order --steps with a zero", ["order", "--loss", "a**2", "--at", "a=1", "--steps", "0,1/8,1/16"], 2, "positive"),
    ("order 20,000-term expression", ["order", "--loss", "{huge_expr}", "--at", "a=0.5,b=1"], 2, "characters"),
    ("order a**(10**10**10)", ["order", "--loss", "a**(10**10**10)", "--at", "a=0.5"], 2, "exponent"),
    ("order --digits 2000", ["order", "--loss", "a**2", "--at", "a=1", "--digits", "2000"], 2, "--digits"),
    ("order --digits 8 (too few for the measured errors)", ["order", "--loss", "trig", "--digits", "8"], 2,
     "measured errors"),
    ("order a+b --digits 30 (exact: zero errors are not too few digits)",
     ["order", "--loss", "a+b", "--at", "a=0.5,b=1", "--digits", "30"], 3, ""),
    ("order --against modified:8 on a nested exponential", ["order", "--loss", "exp(exp(exp(a*b)))", "--at",
                                                             "a=0.1,b=0.2", "--against", "modified:8"], 2, "took more"),
    ("order code in --loss", ["order", "--loss", "__import__('os').system('true')", "--at", "a=1"], 2, "only arithmetic"),
    ("order unknown --against", ["order", "--loss", "a**2", "--at", "a=1", "--against", "wrong"], 2, "unknown field"),
    # --- flatness
    ("flatness diverging: --lr 0.5, width 32", ["flatness", "--features", "{X}", "--targets", "{y}", "--width", "32",
                                                "--lr", "0.5"], 2, "GD diverged at step"),
    ("flatness diverging: --lr 1e6", ["flatness", "--features", "{X}", "--targets", "{y}", "--width", "32", "--lr",
                                      "1e6"], 2, "try a smaller --lr"),
    ("flatness features ×1e300", ["flatness", "--features", "{Xbig}", "--targets", "{y}", "--width", "4", "--lr",
                                  "0.1"], 2, "overflow"),
    ("flatness empty file", ["flatness", "--features", "{empty}", "--targets", "{y}", "--width", "4", "--lr", "0.1"], 2,
     "is empty"),
    ("flatness --seed=-1", ["flatness", "--features", "{X}", "--targets", "{y}", "--width", "4", "--lr", "0.1",
                            "--seed=-1"], 2, "--seed"),
    ("flatness --width 100000000", ["flatness", "--features", "{X}", "--targets", "{y}", "--width", "100000000",
                                    "--lr", "0.1"], 2, "needs about"),
    ("flatness .npz renamed .npy, two arrays", ["flatness", "--features", "{npz_named}", "--targets", "{y}", "--width",
                                                "4", "--lr", "0.1"], 2, "choose one with `--key`"),
    ("flatness a text file", ["flatness", "--features", "{text}", "--targets", "{y}", "--width", "4", "--lr", "0.1"], 2,
     "neither a .npy/.npz array nor a numeric"),
    ("flatness a directory", ["flatness", "--features", "{root}", "--targets", "{y}", "--width", "4", "--lr", "0.1"], 2,
     "is a directory"),
    ("flatness a pickle", ["flatness", "--features", "{pickle}", "--targets", "{y}", "--width", "4", "--lr", "0.1"], 2,
     "never loads pickles"),
    ("flatness CSV with a header", ["flatness", "--features", "{csv}", "--targets", "{y}", "--width", "4", "--lr", "0.1",
                                    "--steps", "20"], 0, ""),
    # --- sharpness
    ("sharpness a matrix as --params", ["sharpness", "--model", "{root}/absent.py:f", "--params", "{X}", "--features",
                                        "{X}", "--targets", "{y}", "--lr", "0.1"], 2, "1-D"),
    # --- stability
    ("stability features ×1e300", ["stability", "--features", "{Xbig}", "--batch", "2"], 2, "overflow"),
    ("stability features ×1e-300", ["stability", "--features", "{Xtiny}", "--batch", "2"], 2, "underflow"),
    ("stability --batch with --out (ignored)", ["stability", "--features", "{X}", "--batch", "2", "--out", "{root}/s"],
     2, "--sweep-batch"),
    ("stability --sweep-batch --out under a file", ["stability", "--features", "{X}", "--sweep-batch", "1,2", "--out",
                                                     "{afile}/s"], 2, "a parent of it is a file"),
    ("stability --sweep-batch --out a directory of the user's files", ["stability", "--features", "{X}",
                                                                       "--sweep-batch", "1,2", "--out", "{mine}"],
     2, "did not write"),
    ("stability .npz renamed .npy with --key", ["stability", "--features", "{npz_named}", "--key", "X", "--batch", "2",
                                                "--json"], 0, ""),
    ("stability a text file", ["stability", "--features", "{text}", "--batch", "2"], 2, "neither"),
    ("stability a directory", ["stability", "--features", "{root}", "--batch", "2"], 2, "is a directory"),
    ("stability empty file", ["stability", "--features", "{empty}", "--batch", "2"], 2, "is empty"),
    # --- list / show
    ("list --tag misspelled", ["list", "--tag", "stabilty"], 2, "no claim carries"),
    ("show unknown id", ["show", "toy-pas"], 2, "unknown claim"),
    ("show --paper unknown", ["show", "--paper", "no-such-paper"], 2, "known papers: barrett-dherin-2021"),
    ("show --paper ambiguous", ["show", "--paper", "hairer"], 2, "ambiguous"),
    ("show neither id nor --paper", ["show"], 2, "one of the two"),
    ("show both id and --paper", ["show", "toy-pass", "--paper", "ma-ying"], 2, "one of the two"),
    ("show --json without --paper", ["show", "toy-pass", "--json"], 2, "go with `--paper NAME`"),
    ("show --paper --results missing", ["show", "--paper", "ma-ying", "--results", "{root}/none.json"], 2,
     "does not exist"),
    ("show --paper --results not JSON", ["show", "--paper", "ma-ying", "--results", "{text}"], 2, "not valid JSON"),
    ("modified --at a=1e999", ["modified", "--loss", "a**2*b", "--order", "2", "--at", "a=1e999,b=1"], 2,
     "out of range"),
    ("modified a**(10**10**10)", ["modified", "--loss", "a**(10**10**10)", "--order", "1"], 2, "exponent"),
    ("modified --order 99", ["modified", "--loss", "a*b", "--order", "99"], 2, "between 0 and"),
    ("table of deeply nested JSON", ["table", "{nested}"], 2, "nested too deeply"),
    ("table --out in /proc", ["table", "{base}", "--out", "/proc/claims.tex"], 2, "cannot write"),
]


@pytest.mark.parametrize("argv,code,needle", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_row(ws, capsys, monkeypatch, argv, code, needle):
    argv = [a.format(**ws) if "{" in a and "**" not in a else a for a in argv]
    if "took more" in needle:
        monkeypatch.setattr("theorycheck.running.commands.order.SYMBOLIC_SECONDS", 1)
    held = None
    if any(a.endswith("/busy") for a in argv):  # another run holds the directory
        from theorycheck.reporting.outdir import claim_output

        held = claim_output(ws["root"] / "busy")
    before_mine = sorted(p.name for p in ws["mine"].rglob("*"))
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    finally:
        if held is not None:
            held.release()
    out, err = capsys.readouterr()
    assert rc == code, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    if needle:
        assert len(err.strip().splitlines()) == 1, err
        assert needle in err, err
    else:
        assert err.strip() == "", err
    # nothing of the user's was touched
    assert sorted(p.name for p in ws["mine"].rglob("*")) == before_mine
    assert (ws["reports"] / "example" / "index.html").read_text() == "<p>example</p>"
    assert load_run(ws["base"]).by_id().keys() == {"toy-pass", "toy-fail"}


def test_run_claim_twice_writes_it_once(ws):
    assert main(["run", "--quiet", "--claim", "toy-pass", "--claim", "toy-pass", "--out", str(ws["root"] / "r")]) == 0
    assert [e.claim_id for e in load_run(ws["root"] / "r" / "results.json").claims] == ["toy-pass"]


def test_baseline_from_a_subdirectory_writes_the_project_baseline(ws, capsys):
    assert main(["baseline", "--from", str(ws["same"])]) == 0
    assert not (ws["root"] / "sub" / "reports").exists()
    assert "wrote " + str(ws["base"]) in capsys.readouterr().out


def test_baseline_force_and_claim_selection(ws, capsys):
    assert main(["baseline", "--from", str(ws["smaller"]), "--out", str(ws["base"]), "--force"]) == 0
    assert [e.claim_id for e in load_run(ws["base"]).claims] == ["toy-pass"]
    # rerunning one claim adds it back without touching the others
    assert main(["baseline", "--claim", "toy-fail", "--out", str(ws["base"]), "--quiet"]) == 0
    assert [e.claim_id for e in load_run(ws["base"]).claims] == ["toy-pass", "toy-fail"]


def test_a_loosened_tolerance_in_the_new_run_does_not_hide_a_doubled_number(ws, capsys):
    assert main(["compare", str(ws["base"]), str(ws["loosened"])]) == 1
    assert "toy-pass: key value 1 -> 2" in capsys.readouterr().out


def test_an_unwritable_out_fails_before_any_claim_runs(ws, monkeypatch):
    ran = []
    monkeypatch.setattr("theorycheck.running.runner.run_one", lambda c, ctx: ran.append(c) or None)
    assert main(["run", "--out", str(ws["afile"] / "r")]) == 2
    assert ran == []


def test_the_table_holds_every_subcommand():
    from theorycheck.running.cli import COMMAND_MODULES

    names = {m.rsplit(".", 1)[1].rstrip("_") for m in COMMAND_MODULES}
    assert names <= {r[1][0] for r in ROWS}
    assert len(ROWS) == len({r[0] for r in ROWS})


def test_write_run_into_a_users_directory_is_refused_from_the_library_too(tmp_path):
    from theorycheck.core.errors import InputError

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError):
        write_run(record(), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_sizes_that_cannot_fit_are_refused_from_the_shapes_alone(monkeypatch):
    from theorycheck.core.errors import InputError
    from theorycheck.running import validate
    from theorycheck.running.commands import stability

    monkeypatch.setattr(validate, "available_memory", lambda: 8 * 1024**3)
    with pytest.raises(InputError, match=r"needs about 59.9 GiB, more than the 8 GiB"):
        stability._check_size((10**6, 10**3), "--features")
    with pytest.raises(InputError, match=r"needs more bytes than any machine has"):  # a 400-digit size: one line
        stability._check_size((10**400, 10**3), "--features")
    stability._check_size((500, 50), "--features")  # 20 MB: fine
    stability._check_size((2000, 1000), "--features")  # a few hundred MiB: what the problem really holds


def test_a_field_too_large_to_compile_is_refused_before_integration(monkeypatch, capsys):
    monkeypatch.setattr("theorycheck.running.commands.order.MAX_FIELD_OPS", 1000)
    assert main(["order", "--loss", "exp(exp(exp(a*b)))", "--at", "a=0.1,b=0.2", "--against", "modified:2"]) == 2
    err = capsys.readouterr().err
    assert "operations, more than 1,000" in err and len(err.strip().splitlines()) == 1
