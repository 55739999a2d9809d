"""pytest integration: claims as ordinary tests, ``pytest --theory``, and ``pytest --theory-report DIR``.

``pytest --theory`` collects the user's claims (entry points of the group
``theorycheck.claims``, ``[tool.theorycheck] claims`` of the rootdir's
``pyproject.toml``, and ``--theory-claims MODULE_OR_FILE.py``) as test items
named ``theory::<claim id>``; ``--theory-builtins`` adds the built-in ones.
``--theory-regen`` rewrites the baseline (``--theory-baseline``) from the
claims that ran, on purpose, as pytest-regressions' ``--force-regen`` does.
The ``theory`` fixture runs one claim in an ordinary test
(``ev = theory.run("mybounds.my-bound")``) and judges it (``theory.check``).

Registered through the ``pytest11`` entry point (see pyproject.toml), so it is
active wherever theorycheck is installed; ``-p theorycheck.running.pytest_plugin`` loads it
by hand. Importing this module is cheap: theorycheck itself is imported only
when a hook needs it.

One test per claim (``tests/test_theory.py`` parametrises over
:func:`claim_params`, ids are claim ids). Claims run in quick mode with the
default seed, the settings the committed baseline was made with. What a claim
test asserts:

- the check did not break (verdict is not ERROR: that is a bug, red, with the
  check's traceback);
- the claim's expectation (:attr:`~theorycheck.claims.base.Claim.expect`)
  holds: a claim expected to ``pass`` that FAILs is red, with its summary,
  failing cases and counterexample; a ``finding`` (a published claim the
  numbers contradict) that FAILs is reported as ``XFAIL`` with the summary,
  visible in ``-ra`` output and the report, without turning CI red, and one
  that PASSes is red (the finding no longer reproduces);
- the verdict equals the baseline's (``--theory-baseline``, default
  ``reports/baseline.json``): a flipped verdict is a regression, red, until the
  baseline is updated on purpose (``theorycheck baseline`` or
  ``pytest --theory-regen``).

Key-number drift is judged by ``theorycheck compare`` in ``.ci/run`` (one place
holds the tolerances). A missing baseline file and a claim missing from the
baseline pass with a :class:`TheoryBaselineWarning`.

``--theory-report DIR`` writes the same report as ``theorycheck run --quick``
at the end of the session, reusing the evidence of claim tests that ran and
running the rest of the registry.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:
    from theorycheck.claims import Claim, RunContext
    from theorycheck.core.evidence import Evidence
    from theorycheck.reporting.record import RunRecord


class TheoryBaselineWarning(UserWarning):
    """No baseline file, a claim without an entry in it, or a baseline made with other settings."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("theorycheck", "theorycheck claims as tests")
    group.addoption("--theory", action="store_true", default=False,
                    help="collect the user's claims (entry points, [tool.theorycheck] claims, --theory-claims) as tests")
    group.addoption("--theory-builtins", action="store_true", default=False,
                    help="with --theory, also collect theorycheck's built-in claims")
    group.addoption("--theory-claims", action="append", default=[], metavar="MODULE_OR_FILE.py",
                    help="with --theory, also load the claims of this module or file (repeatable)")
    group.addoption("--theory-report", metavar="DIR", default=None,
                    help="after the session, write the theorycheck report to DIR (the collected claims with "
                         "--theory, else the whole registry)")
    group.addoption("--theory-baseline", metavar="FILE", default="reports/baseline.json",
                    help="baseline whose verdicts claim tests must reproduce (default reports/baseline.json, "
                         "relative to the rootdir)")
    group.addoption("--theory-regen", action="store_true", default=False,
                    help="rewrite the baseline from the claims that ran (flipped verdicts are then not failures)")
    group.addoption("--theory-full", action="store_true", default=False,
                    help="run claim tests in full (not quick) mode; verdicts are then not held to the quick baseline")


_KEY = pytest.StashKey["TheorySession"]()


class TheorySession:
    """Per-pytest-session cache of claim evidence and the loaded baseline."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        #: evidence by claim id (the first instance run under that id), and by the instance's repr
        self.evidence: dict[str, Evidence] = {}
        self._by_repr: dict[str, Evidence] = {}
        self.collected: list[Claim] = []
        self._baseline: RunRecord | None = None
        self._baseline_error: str | None = None
        self._baseline_loaded = False
        self._warned_missing = False

    @property
    def ctx(self) -> "RunContext":
        from theorycheck.claims import RunContext

        return RunContext(quick=not self.config.getoption("theory_full"))

    def baseline_path(self) -> Path:
        p = Path(self.config.getoption("theory_baseline"))
        return p if p.is_absolute() else self.config.rootpath / p

    def baseline(self) -> "RunRecord | None":
        """The baseline, None when there is none; a malformed one fails the claim tests with its message."""
        if not self._baseline_loaded:
            from theorycheck.core.errors import MalformedFileError
            from theorycheck.reporting.record import load_run

            self._baseline_loaded = True
            path = self.baseline_path()
            if path.exists():
                try:
                    self._baseline = load_run(path, "baseline")
                except MalformedFileError as exc:
                    self._baseline_error = str(exc)
        if self._baseline_error and not self.config.getoption("theory_regen"):
            pytest.fail(self._baseline_error, pytrace=False)
        return self._baseline

    def claim(self, claim: "Claim | str") -> "Claim":
        """``claim`` itself, or the registered claim with that id (user claims of the session loaded first)."""
        if not isinstance(claim, str):
            return claim
        from theorycheck.running.loading import resolve

        load_session_claims(self.config)
        return resolve(claim)

    def run(self, claim: "Claim | str") -> "Evidence":
        """The claim's evidence in this session (each instance run once; a mutant is another instance)."""
        from theorycheck.running.runner import run_one

        c = self.claim(claim)
        key = repr(c)  # a dataclass repr names every constant: a mutant is run on its own
        if key not in self._by_repr:
            self._by_repr[key] = run_one(c, self.ctx)
            self.evidence.setdefault(c.id, self._by_repr[key])
        return self._by_repr[key]

    def check(self, claim: "Claim | str") -> "Evidence":
        """Run ``claim`` and assert what a claim test asserts (module docstring)."""
        from theorycheck.core.evidence import Verdict, failure_label

        c = self.claim(claim)
        ev = self.run(c)
        if ev.verdict is Verdict.ERROR:
            pytest.fail(f"{c.id}: the check raised: {ev.reason}\n\n{ev.traceback}".rstrip(), pytrace=False)
        expected = None if self.config.getoption("theory_regen") else self._baseline_verdict(c.id)
        if expected is not None and ev.verdict is not expected:
            pytest.fail(f"{c.id}: verdict {expected} in the baseline, {ev.verdict} now ({ev.summary}"
                        f"{'; ' + ev.reason if ev.reason else ''}). If intended, update the baseline: "
                        f"`pytest --theory --theory-regen` or `theorycheck baseline`.\n\n{describe_evidence(ev)}",
                        pytrace=False)
        broken = c.broken_expectation(ev.verdict)
        if broken:
            pytest.fail(f"{c.id}: {broken}: {ev.summary}\n\n{describe_evidence(ev)}", pytrace=False)
        if ev.verdict is Verdict.FAIL:
            pytest.xfail(f"finding: {failure_label(ev.statement_kind)} ({ev.summary})")
        return ev

    def _baseline_verdict(self, claim_id: str) -> Any:
        base = self.baseline()
        if base is None:
            if not self._warned_missing:
                self._warned_missing = True
                warnings.warn(TheoryBaselineWarning(
                    f"no baseline at {self.baseline_path()}: verdicts are held to the claims' expectations only; "
                    f"write one with `pytest --theory --theory-regen` or `theorycheck baseline`"), stacklevel=3)
            return None
        same = {k: base.settings.get(k) for k in ("quick", "seed")} == {"quick": self.ctx.quick, "seed": self.ctx.seed}
        b = base.by_id().get(claim_id)
        if not same:
            warnings.warn(TheoryBaselineWarning(f"{claim_id}: baseline made with settings {base.settings}; "
                                                f"verdict not compared"), stacklevel=3)
        elif b is None:
            warnings.warn(TheoryBaselineWarning(f"{claim_id}: not in the baseline {self.baseline_path()}; "
                                                f"run `theorycheck baseline` (or `pytest --theory --theory-regen`) "
                                                f"to add it"), stacklevel=3)
        else:
            return b.verdict
        return None


def describe_evidence(ev: "Evidence") -> str:
    """The evidence a failed claim test shows (:func:`theorycheck.reporting.failure.describe_evidence`)."""
    from theorycheck.reporting.failure import describe_evidence as describe

    return describe(ev)


def _session(config: pytest.Config) -> TheorySession:
    if _KEY not in config.stash:
        config.stash[_KEY] = TheorySession(config)
    return config.stash[_KEY]


@pytest.fixture(scope="session")
def theory(request: pytest.FixtureRequest) -> TheorySession:
    """The session's :class:`TheorySession`: ``theory.run(claim)`` gives evidence, ``theory.check(claim)`` judges it."""
    return _session(request.config)


def claim_params() -> list[Any]:
    """``pytest.param(claim, id=claim.id)`` for every registered claim, for ``@pytest.mark.parametrize``."""
    from theorycheck import claims

    return [pytest.param(c, id=c.id) for c in claims.all_claims()]


_LOADED = pytest.StashKey[bool]()


def load_session_claims(config: pytest.Config) -> list["Claim"]:
    """Load the user's claims once per session (entry points, the rootdir's pyproject.toml, ``--theory-claims``)."""
    from theorycheck.claims import registry
    from theorycheck.core.errors import TheorycheckError
    from theorycheck.running.loading import load_user_claims

    if not config.stash.get(_LOADED, False):
        config.stash[_LOADED] = True
        try:
            load_user_claims(config.getoption("theory_claims") or (), directory=config.rootpath)
        except TheorycheckError as exc:
            raise pytest.UsageError(f"theorycheck: {exc}") from None
    return registry.user_claims()


class ClaimItem(pytest.Item):
    """One claim as a test item: runs it and asserts what :meth:`TheorySession.check` asserts."""

    def __init__(self, *, claim: "Claim", **kw: Any) -> None:
        super().__init__(**kw)
        self.claim = claim
        self.add_marker(pytest.mark.theory)

    def runtest(self) -> None:
        _session(self.config).check(self.claim)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "theorycheck", None, f"claim {self.claim.id}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "theory: a theorycheck claim collected by `pytest --theory`")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    if not config.getoption("theory"):
        return
    from theorycheck.claims import registry

    user = load_session_claims(config)
    chosen = (registry.builtin_claims() if config.getoption("theory_builtins") else []) + user
    s = _session(config)
    s.collected = chosen
    # tryfirst: the items exist before -k / -m deselect
    items.extend(ClaimItem.from_parent(session, name=f"theory::{c.id}", nodeid=f"theory::{c.id}", claim=c)
                 for c in chosen)
    # the items are not collected from a file, so the terminal's "collected N items" has not counted them
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and isinstance(getattr(reporter, "_numcollected", None), int):
        reporter._numcollected += len(chosen)


def _collected_or_registry(config: pytest.Config) -> "list[Claim]":
    from theorycheck import claims

    s = _session(config)
    return s.collected if config.getoption("theory") else claims.all_claims()


def _record(config: pytest.Config, evidence: "list[Evidence]") -> "RunRecord":
    from theorycheck.reporting.environment import describe
    from theorycheck.reporting.record import RunRecord
    from theorycheck.running.runner import precision

    env = describe()
    env["precision"] = precision()
    ctx = _session(config).ctx
    return RunRecord(environment=env, settings={"quick": ctx.quick, "seed": ctx.seed, "executor": "serial"},
                     claims=evidence)


def record_from_session(config: pytest.Config) -> "RunRecord":
    """A run of the collected claims (``--theory``) or of the whole registry: the cached evidence, the rest run now."""
    s = _session(config)
    return _record(config, [s.run(c) for c in _collected_or_registry(config)])


def _ran(config: pytest.Config) -> "Iterator[Evidence]":
    s = _session(config)
    order = [c.id for c in _collected_or_registry(config)]
    yield from (s.evidence[cid] for cid in order if cid in s.evidence)
    yield from (e for cid, e in s.evidence.items() if cid not in order)


def _regen(config: pytest.Config) -> str:
    """Write the baseline from the claims that ran; the line to show, or why not."""
    from theorycheck.core.evidence import Verdict
    from theorycheck.reporting.record import save_run

    s = _session(config)
    evidence = list(_ran(config))
    if not evidence:
        return "theorycheck baseline not written: no claim ran"
    errors = [e.claim_id for e in evidence if e.verdict is Verdict.ERROR]
    if errors:
        return f"theorycheck baseline not written: {len(errors)} claim(s) are ERROR ({', '.join(errors)})"
    path = save_run(_record(config, evidence).without_timings(), s.baseline_path())
    return f"theorycheck baseline written: {path} ({len(evidence)} claims)"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.getoption("theory_regen", False):
        session.config.stash[_REGEN_KEY] = _regen(session.config)
    out = session.config.getoption("theory_report", None)
    if not out:
        return
    from theorycheck.reporting.report import write_run

    path = write_run(record_from_session(session.config), out)
    session.config.stash[_REPORT_KEY] = str(path)


_REPORT_KEY = pytest.StashKey[str]()
_REGEN_KEY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    line = config.stash.get(_REGEN_KEY, None)
    if line:
        terminalreporter.write_line(line)
    path = config.stash.get(_REPORT_KEY, None)
    if path:
        terminalreporter.write_line(f"theorycheck report: {path}/index.html")


__all__ = [
    "ClaimItem", "TheoryBaselineWarning", "TheorySession", "claim_params", "describe_evidence",
    "load_session_claims", "pytest_addoption", "pytest_collection_modifyitems", "pytest_configure",
    "pytest_sessionfinish", "pytest_terminal_summary", "record_from_session", "theory",
]
