"""No tracebacks, tested by generation: argument vectors drawn for every subcommand end in exit 2 and one line.

The subcommands and their options are read from the CLI's own parser (:func:`build_parser`), so a new
command or option is fuzzed without touching this file. Each example is one call of the CLI's ``main`` in
this process (no subprocess), drawn as a user's mistake would be: every required argument present, some
optional ones, and at least one value that cannot be right — numbers of every size and sign, NaN, inf,
integers of hundreds of digits, text that is not UTF-8, empty files, files of the wrong shape or kind,
directories where files belong. The rest are flags, choices and, where the table below knows one, a
value that is right, so that the wrong one is met past the first check. Every example must end with
exit code 2 and exactly one line on stderr, never a traceback, within :data:`SECONDS` (a bound on the
work an example may start: a wrong value must be refused before any).

Where a wrong value cannot be told from a right one by its option alone, the option is not the one made
wrong: an output (``--out``: a new name is a fine output) and free text (metavar ``TEXT``: any caption
is a caption). Both still receive wrong values beside the one that is. A flag that by design accepts what
would otherwise be wrong (:data:`LENIENT`: ``compare --allow-missing`` and a missing baseline) is left out
of an example whose wrong value it would excuse.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import signal
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theorycheck.properties import profiles
from theorycheck.running.cli import build_parser, main

#: Examples over all subcommands together (split evenly): 1000 under the dev and ci profiles, ten times as many
#: under thorough (``THEORYCHECK_PROFILE``).
TOTAL_EXAMPLES = 10_000 if profiles.selected_profile() == "thorough" else 1000
#: Wall-clock bound on one example: refusing bad input takes milliseconds (the first example of a
#: command also pays its imports).
SECONDS = 20.0


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = _subparsers()
PER_COMMAND = math.ceil(TOTAL_EXAMPLES / len(COMMANDS))


# --- the values --------------------------------------------------------------------------------------

#: Numbers no option takes: non-finite, beyond float64 or 64 bits, negative, not numbers at all.
NUMBERS = ["nan", "NaN", "-nan", "inf", "-inf", "+Infinity", "1e400", "-1e400", "1e999999999", str(10**400),
           str(-(10**400)), "9" * 5000, "-1", "-0.5", "1/0", "0/0", "0x1p3", "", " ", "--1"]
#: Odd numbers some options take (a zero tolerance, a tolerance of 1e19, Arabic-Indic digits, 2**63 where a float
#: is meant): drawn beside the wrong value, never as it.
ODD_NUMBERS = ["0", "-0", "1e-400", "١٢", str(10**19), str(-(10**19)), str(2**63), str(10**64)]
TEXT = ["\udcff\udcfe", "caf\udce9", "a\nb", "x" * 10000, "=", ",,,", "a=,b=", "::", "-", "é=ü"]

#: Values known to be right for an option (by option string or positional name), filled in by the fixture.
RIGHT: dict[str, list[str]] = {
    "--loss": ["quadratic", "trig", "a**2 + b**2"], "--at": ["a=0.3,b=-0.2"], "--against": ["igr", "modified:1"],
    "--steps": ["1/8,1/16,1/32"], "--beta": ["1/2"], "--beta1": ["1/4"], "--beta2": ["1/2"], "--eps": ["1/1000"],
    "--digits": ["30"], "--kind": ["local"], "--expected-order": ["3"], "--batch": ["2"], "--sweep-batch": ["1,2"],
    "--sampling": ["with", "without"], "--rtol": ["1e-8"], "--width": ["3"], "--lr": ["0.1"], "--seed": ["0", "7"],
    "--tol": ["1e-10"], "--activation": ["tanh"], "--init-scale": ["1"], "--order": ["1"], "--caption": ["Claims"],
    "--claim": ["stability.closed-form"], "claim_id": ["stability.closed-form"], "--atol": ["1e-12"],
}


def _write_files(d) -> dict[str, list[str]]:
    """The wrong files (and the right ones, added to :data:`RIGHT`) in ``d``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    np.save(d / "X.npy", X)
    np.save(d / "y.npy", np.sin(X[:, 0]))
    A = rng.standard_normal((5, 3, 3))
    np.save(d / "H.npy", np.einsum("nij,nkj->nik", A, A))
    from theorycheck.core.evidence import Evidence, Verdict
    from theorycheck.reporting.record import RunRecord, save_run

    save_run(RunRecord(environment={}, settings={"quick": True, "seed": 20211},
                       claims=[Evidence("stability.closed-form", Verdict.PASS, "s")]), d / "results.json")
    RIGHT.update({"--features": [str(d / "X.npy")], "--targets": [str(d / "y.npy")], "--hessians": [str(d / "H.npy")],
                  "results": [str(d / "results.json")], "baseline": [str(d / "results.json")],
                  "new": [str(d / "results.json")], "--from": [str(d / "results.json")]})
    wrong = {
        "empty": b"", "empty.npy": b"", "empty.json": b"", "empty.csv": b"", "blank.txt": b"\n\n",
        "latin1.txt": b"caf\xe9 \xff\xfe\x00", "latin1.json": b'{"a": "\xff"}', "latin1.py": b"x = '\xff'\n",
        "latin1.csv": b"1,2\n\xff,3\n", "syntax.py": b"def (:\n", "letters.csv": b"a,b\nc,d\n",
        "ragged.csv": b"1,2\n3\n",
        "object.json": b"{}", "list.json": b"[1, 2]", "deep.json": b"[" * 100_000, "notnpy.npy": b"\x93NUMPY garbage",
    }
    for name, content in wrong.items():
        (d / name).write_bytes(content)
    arrays = {"wrong4d.npy": np.zeros((2, 2, 2, 2)), "scalar.npy": np.array(3.0), "nan.npy": np.full((6, 2), np.nan),
              "inf.npy": np.full((6, 2), np.inf), "huge.npy": np.full((6, 2), 1e300), "one_row.npy": np.ones((1, 2)),
              "strings.npy": np.array(["a", "b"]), "complex.npy": np.ones((6, 2)) * 1j, "empty2d.npy": np.zeros((0, 2)),
              "wide.npy": np.ones((2, 40))}
    for name, arr in arrays.items():
        np.save(d / name, arr)
    np.save(d / "object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(d / "noarrays.npz")
    folder = d / "a-folder"
    folder.mkdir()
    (folder / "someone-elses.txt").write_text("not theorycheck's")
    files = [str(d / n) for n in [*wrong, *arrays, "object.npy", "noarrays.npz"]]
    return {"files": files + [str(folder), str(folder) + "/", str(d / "empty" / "below-a-file"), "/dev/null"]}


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    return _write_files(tmp_path_factory.mktemp("fuzz"))


# --- the argument vectors ----------------------------------------------------------------------------


def _kind(action: argparse.Action) -> str:
    """flag | choice | output | text | value: how an option is drawn (from the parser's own declaration)."""
    if action.nargs == 0:
        return "flag"
    if action.choices is not None:
        return "choice"
    if action.dest == "out":
        return "output"
    if action.metavar == "TEXT":
        return "text"
    return "value"


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def _words(action: argparse.Action, value: str | None) -> list[str]:
    if not action.option_strings:
        return [value]  # a positional
    option = action.option_strings[-1] if action.nargs == 0 else action.option_strings[0]
    if value is None:
        return [option]
    if value.startswith("-"):
        return [f"{option}={value}"]  # "--lr=-inf": a negative value, not the next option
    return [option, value]


#: Flags that make some arguments' wrong values acceptable on purpose: flag → the dests it excuses.
LENIENT = {"--allow-missing": {"baseline"}}


@st.composite
def argvs(draw, command: str, pools: dict[str, list[str]]):
    """``[command, ...]``: the required arguments, one optional argument in four, and exactly one of them (an
    option whose wrong values are always wrong) given a wrong value; the others right where :data:`RIGHT` knows a
    right value (four times in five), else odd."""
    parser = COMMANDS[command]
    wrong = st.sampled_from(NUMBERS + TEXT + pools["files"])
    odd = st.sampled_from(NUMBERS + ODD_NUMBERS + TEXT + pools["files"])
    actions = _actions(parser)
    included = [a for a in actions if a.required or not a.option_strings or draw(st.integers(0, 3)) == 0]
    for group in parser._mutually_exclusive_groups:  # one of each exclusive group (or none, if it may be left out)
        members = [a for a in group._group_actions if a in actions]
        keep = draw(st.sampled_from(members)) if group.required or draw(st.booleans()) else None
        included = [a for a in included if a not in members or a is keep] + ([keep] if keep and keep not in included
                                                                             else [])
    target = draw(st.sampled_from([a for a in included if _kind(a) in ("value", "choice")]
                                  or [a for a in actions if _kind(a) in ("value", "choice")]))
    if target not in included:
        included.append(target)
    chosen: list[tuple[argparse.Action, str | None, bool]] = []  # (action, value, is it the wrong one)
    for action in included:
        kind = _kind(action)
        right = RIGHT.get(action.option_strings[0] if action.option_strings else action.dest)
        if action is target:
            chosen.append((action, draw(wrong), True))
        elif kind == "flag":
            chosen.append((action, None, False))
        elif kind == "choice" and draw(st.integers(0, 4)) != 0:
            chosen.append((action, draw(st.sampled_from(list(action.choices))), False))
        elif right and draw(st.integers(0, 4)) != 0:
            chosen.append((action, draw(st.sampled_from(right)), False))
        else:
            chosen.append((action, draw(odd), False))
    excused = {a.dest for a, _, bad in chosen if bad}
    chosen = [c for c in chosen if not (c[0].option_strings and LENIENT.get(c[0].option_strings[0], set()) & excused)]
    # positionals in their order, then the options in any order
    positionals = [c for c in chosen if not c[0].option_strings]
    options = draw(st.permutations([c for c in chosen if c[0].option_strings]))
    words = [command]
    for action, value, _ in positionals + list(options):
        words += _words(action, value)
    return words


class _Overran(BaseException):
    pass


def _alarm(signum, frame):
    raise _Overran()


def _invoke(argv: list[str]) -> tuple[int, str]:
    """(exit code, stderr) of ``theorycheck ARGV`` run in this process, as the console script would run it."""
    err, out = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.resetwarnings()  # the interpreter's own filters: what a user's terminal would show
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.simplefilter("ignore", category)
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    except _Overran:
        pytest.fail(f"theorycheck {json.dumps(argv)} ran past {SECONDS} s: a wrong value was not refused before "
                    "the work")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    # a directory of no project: a default output (reports/latest, reports/baseline.json) lands in a scratch folder
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_generated_bad_arguments_end_in_exit_2_and_one_line(command, pools):
    ran: list[list[str]] = []

    @settings(max_examples=PER_COMMAND, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(argv=argvs(command, pools))
    def check(argv):
        ran.append(argv)
        code, err = _invoke(argv)
        lines = err.strip("\n").splitlines()
        where = f"theorycheck {json.dumps(argv, ensure_ascii=True)}"
        assert "Traceback" not in err, f"{where}: a traceback:\n{err}"
        assert code == 2, f"{where}: exit {code}, stderr {err!r}"
        assert len(lines) == 1 and lines[0].startswith("theorycheck: "), f"{where}: stderr {err!r}"

    check()
    assert len(ran) >= PER_COMMAND  # TOTAL_EXAMPLES over all commands, really run


#: Pinned cases: each once ended in a traceback, a hang or exit 0 ({X}, {y}: right data files; {d}: the data folder).
PINNED = [
    ["flatness", "--features", "{X}", "--targets", "{y}", "--lr", "0.1", "--width", str(10**400)],
    ["flatness", "--features", "{X}", "--targets", "{y}", "--lr", "nan", "--width", "3"],
    ["flatness", "--features", "9" * 400, "--targets", "{y}", "--lr", "0.1", "--width", "3"],
    ["baseline", "--out", "9" * 400],
    ["order", "--loss", "quadratic", "--beta", "nan"],
    ["order", "--loss", "quadratic", "--horizon", "nan"],
    ["order", "--loss", "quadratic", "--expected-order", "-1"],
    ["modified", "--loss", "1e999999999", "--order", "1"],
    ["modified", "--loss", "a\nb", "--order", "1"],
    ["modified", "--loss", "nan", "--order", "1"],
    ["compare", "nan", "nan", "--allow-missing"],
    ["baseline", "--from", "{d}/results.json", "--claims", "nan"],
]


@pytest.mark.parametrize("argv", PINNED, ids=[" ".join(a)[:60] for a in PINNED])
def test_pinned_bad_arguments_end_in_exit_2_and_one_line(argv, pools):
    d = pools["files"][0].rsplit("/", 1)[0]
    argv = [a.format(X=RIGHT["--features"][0], y=RIGHT["--targets"][0], d=d) for a in argv]
    code, err = _invoke(argv)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, code, err)


def test_the_generator_draws_every_option_of_every_command(pools):
    """Every option and positional of every command is drawn (and made the wrong one) in a few hundred examples."""
    for command, parser in COMMANDS.items():
        seen: set[str] = set()

        @settings(max_examples=200, database=None, deadline=None)
        @given(argv=argvs(command, pools))
        def draw(argv):
            seen.update(w.split("=", 1)[0] for w in argv[1:] if w.startswith("--"))

        draw()
        options = {o for a in _actions(parser) for o in a.option_strings[:1] if a.nargs != 0}
        assert options <= seen, f"{command}: options never drawn: {sorted(options - seen)}"
