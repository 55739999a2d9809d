"""pytest integration: claims as ordinary tests, and ``pytest --theory-report DIR``.

Registered through the ``pytest11`` entry point (see pyproject.toml), so it is
active wherever theorycheck is installed; ``-p theorycheck.running.pytest_plugin`` loads it
by hand. Importing this module is cheap: theorycheck itself is imported only
when a hook needs it.

One test per claim (``tests/test_theory.py`` parametrises over
:func:`claim_params`, ids are claim ids). Claims run in quick mode with the
default seed, the settings the committed baseline was made with. What a claim
test asserts:

- the check did not break (verdict is not ERROR: that is a bug, red);
- the verdict equals the committed baseline's (``reports/baseline.json``):
  a flipped verdict is a regression, red, until the baseline is updated on
  purpose (``theorycheck baseline``);
- a published claim that FAILs, consistently with the baseline (or a new claim
  not yet in it), is a *finding*: it is reported as ``XFAIL`` with the summary,
  visible in ``-ra`` output and the report, without turning CI red.

Key-number drift is judged by ``theorycheck compare`` in ``.ci/run`` (one place
holds the tolerances). A claim missing from the baseline passes with a
:class:`TheoryBaselineWarning`.

``--theory-report DIR`` writes the same report as ``theorycheck run --quick``
at the end of the session, reusing the evidence of claim tests that ran and
running the rest of the registry.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from theorycheck.claims import Claim, RunContext
    from theorycheck.core.evidence import Evidence
    from theorycheck.reporting.record import RunRecord


class TheoryBaselineWarning(UserWarning):
    """A claim has no entry in the baseline, or the baseline was made with other settings."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("theorycheck", "theorycheck claims as tests")
    group.addoption("--theory-report", metavar="DIR", default=None,
                    help="after the session, write the theorycheck report of the whole registry to DIR")
    group.addoption("--theory-baseline", metavar="FILE", default="reports/baseline.json",
                    help="baseline whose verdicts claim tests must reproduce (default reports/baseline.json, "
                         "relative to the rootdir)")
    group.addoption("--theory-full", action="store_true", default=False,
                    help="run claim tests in full (not quick) mode; verdicts are then not held to the quick baseline")


_KEY = pytest.StashKey["TheorySession"]()


class TheorySession:
    """Per-pytest-session cache of claim evidence and the loaded baseline."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.evidence: dict[str, Evidence] = {}
        self._baseline: RunRecord | None = None
        self._baseline_error: str | None = None
        self._baseline_loaded = False

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
        if self._baseline_error:
            pytest.fail(self._baseline_error, pytrace=False)
        return self._baseline

    def run(self, claim: "Claim") -> "Evidence":
        """The claim's evidence in this session (run once, cached by id)."""
        from theorycheck.running.runner import run_one

        if claim.id not in self.evidence:
            self.evidence[claim.id] = run_one(claim, self.ctx)
        return self.evidence[claim.id]

    def check(self, claim: "Claim") -> "Evidence":
        """Run ``claim`` and assert what a claim test asserts (module docstring)."""
        from theorycheck.core.evidence import Verdict, failure_label

        ev = self.run(claim)
        if ev.verdict is Verdict.ERROR:
            pytest.fail(f"{claim.id}: the check raised: {ev.reason}", pytrace=False)
        base = self.baseline()
        expected = None
        if base is not None:
            same = {k: base.settings.get(k) for k in ("quick", "seed")} == {"quick": self.ctx.quick,
                                                                               "seed": self.ctx.seed}
            b = base.by_id().get(claim.id)
            if not same:
                warnings.warn(TheoryBaselineWarning(f"{claim.id}: baseline made with settings {base.settings}; "
                                                    f"verdict not compared"), stacklevel=2)
            elif b is None:
                warnings.warn(TheoryBaselineWarning(f"{claim.id}: not in the baseline {self.baseline_path()}; "
                                                    f"run `theorycheck baseline` to add it"), stacklevel=2)
            else:
                expected = b.verdict
        if expected is not None and ev.verdict is not expected:
            pytest.fail(f"{claim.id}: verdict {expected} in the baseline, {ev.verdict} now ({ev.summary}"
                        f"{'; ' + ev.reason if ev.reason else ''}). If intended, update the baseline: "
                        f"`theorycheck baseline`.", pytrace=False)
        if ev.verdict is Verdict.FAIL:
            pytest.xfail(f"finding: {failure_label(ev.statement_kind)} ({ev.summary})")
        return ev


def _session(config: pytest.Config) -> TheorySession:
    if _KEY not in config.stash:
        config.stash[_KEY] = TheorySession(config)
    return config.stash[_KEY]


@pytest.fixture(scope="session")
def theory(request: pytest.FixtureRequest) -> TheorySession:
    """The session's :class:`TheorySession`: ``theory.check(claim)`` runs and judges a claim."""
    return _session(request.config)


def claim_params() -> list[Any]:
    """``pytest.param(claim, id=claim.id)`` for every registered claim, for ``@pytest.mark.parametrize``."""
    from theorycheck import claims

    return [pytest.param(c, id=c.id) for c in claims.all_claims()]


def record_from_session(config: pytest.Config) -> "RunRecord":
    """A run of the whole registry: the session's cached evidence, and the rest run now."""
    from theorycheck import claims
    from theorycheck.reporting.environment import describe
    from theorycheck.reporting.record import RunRecord
    from theorycheck.running.runner import precision

    s = _session(config)
    evidence = [s.run(c) for c in claims.all_claims()]
    env = describe()
    env["precision"] = precision()
    ctx = s.ctx
    return RunRecord(environment=env, settings={"quick": ctx.quick, "seed": ctx.seed, "executor": "serial"},
                     claims=evidence)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = session.config.getoption("theory_report", None)
    if not out:
        return
    from theorycheck.reporting.report import write_run

    path = write_run(record_from_session(session.config), out)
    session.config.stash[_REPORT_KEY] = str(path)


_REPORT_KEY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    path = config.stash.get(_REPORT_KEY, None)
    if path:
        terminalreporter.write_line(f"theorycheck report: {path}/index.html")


__all__ = [
    "TheoryBaselineWarning", "TheorySession", "claim_params", "pytest_addoption", "pytest_sessionfinish",
    "pytest_terminal_summary", "record_from_session", "theory",
]
