"""The evidence a claim returns: verdicts, cases, figures' data, and the numbers behind them.

Every layer speaks this vocabulary: an order study turns its ladder into a
:class:`Case` and a :class:`Figure`, a property run collects cases, a claim
returns :class:`Evidence`, the report renders it. A claim never prints and a
report never computes; the types here are the only thing between them.
Everything is plain data that round-trips through JSON
(``Evidence.from_json(e.to_json()) == e``).

Non-finite floats are not valid JSON, so they are written as the strings
``"inf"``, ``"-inf"`` and ``"nan"`` and read back as floats.

A whole run (:class:`~theorycheck.reporting.record.RunRecord`), its file format
and its versions live in :mod:`theorycheck.reporting`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable, Mapping

#: Figure kinds the report knows how to draw (see :mod:`theorycheck.reporting.figures`).
FIGURE_KINDS = ("loglog", "curve", "scatter", "bar", "interval", "table")

#: What kind of statement a claim checks, with what its FAIL is called.
#: ``theorem``: the cited paper states it (its theorem or equation number given where it was checked);
#: ``derived``: a consequence derived here (the derivation is in the claim's docstring or formula module);
#: ``extrapolation``: a natural extension of a paper's statement that the paper does not make;
#: ``heuristic``: an informal prediction or experiment of the paper.
STATEMENT_KINDS: dict[str, str] = {
    "theorem": "contradicted published statement",
    "derived": "derivation not borne out",
    "extrapolation": "extrapolation not borne out",
    "heuristic": "heuristic not borne out",
}


def failure_label(kind: str) -> str:
    """What a FAIL of a statement of ``kind`` is called ("contradicted published statement" for a theorem)."""
    return STATEMENT_KINDS.get(kind, "FAIL of a statement of unknown kind")


#: What a claim can declare is expected of it: ``"pass"``, or ``"finding"`` (a published statement the numbers
#: contradict, reproduced on purpose: its FAIL is expected).
EXPECTATIONS = ("pass", "finding")

#: How a result is shown (console, report, README), from its verdict and the claim's expectation:
#: a declared finding that FAILs is a ``FINDING``, one that PASSes ``NO LONGER REPRODUCES``; the rest keep their
#: verdict. In the order counts are listed.
OUTCOMES = ("PASS", "FINDING", "FAIL", "INCONCLUSIVE", "ERROR", "NO LONGER REPRODUCES")


class Verdict(str, enum.Enum):
    """Outcome of a check. ``ERROR`` means the check itself raised."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def pass_if(cls, holds: bool) -> "Verdict":
        """PASS when the checked statement ``holds``, FAIL otherwise."""
        return cls.PASS if holds else cls.FAIL


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Aggregate case verdicts: any ERROR, else any FAIL, else any INCONCLUSIVE, else PASS.

    An empty collection is INCONCLUSIVE: no evidence decides nothing.
    """
    vs = list(verdicts)
    if not vs:
        return Verdict.INCONCLUSIVE
    for worst in (Verdict.ERROR, Verdict.FAIL, Verdict.INCONCLUSIVE):
        if worst in vs:
            return worst
    return Verdict.PASS


def outcome(verdict: Verdict, expect: str = "pass") -> str:
    """How a verdict is shown (one of :data:`OUTCOMES`) for a claim that declares ``expect``.

    A declared finding (``expect="finding"``) that FAILs reproduced its counterexample on purpose: ``FINDING``;
    one that PASSes no longer reproduces it: ``NO LONGER REPRODUCES``. Every other verdict is shown as itself
    (a declared finding that is INCONCLUSIVE is undecided, not a finding).
    """
    if expect == "finding" and verdict is Verdict.FAIL:
        return "FINDING"
    if expect == "finding" and verdict is Verdict.PASS:
        return "NO LONGER REPRODUCES"
    return str(verdict)


def broken_expectation(verdict: Verdict, expect: str = "pass") -> str:
    """Why ``verdict`` breaks the expectation ``expect`` (empty when it does not): what makes ``run`` exit 1.

    An ERROR always breaks it; a FAIL breaks ``"pass"``; a PASS breaks ``"finding"`` (the finding no longer
    reproduces). INCONCLUSIVE breaks neither.
    """
    if verdict is Verdict.ERROR:
        return "the check raised"
    if expect != "finding" and verdict is Verdict.FAIL:
        return "expected to PASS, FAILed"
    if expect == "finding" and verdict is Verdict.PASS:
        return "a known finding (expected FAIL) PASSed: the finding no longer reproduces"
    return ""


def outcome_counts(evidence: Iterable["Evidence"]) -> str:
    """The counts of a run as every view shows them: ``"38 PASS, 3 FINDING, 4 INCONCLUSIVE (2 declared findings)"``.

    Outcomes in :data:`OUTCOMES` order; INCONCLUSIVE says how many of its claims are declared findings that
    did not decide this time. ``"no claims"`` for none.
    """
    evs = list(evidence)
    counts: dict[str, int] = {}
    for e in evs:
        counts[e.outcome] = counts.get(e.outcome, 0) + 1
    undecided = sum(e.expect == "finding" and e.verdict is Verdict.INCONCLUSIVE for e in evs)
    parts = []
    for o in OUTCOMES:
        if counts.get(o):
            extra = ""
            if o == "INCONCLUSIVE" and undecided:
                extra = f" ({undecided} declared finding{'s' if undecided > 1 else ''})"
            parts.append(f"{counts[o]} {o}{extra}")
    return ", ".join(parts) or "no claims"


def jsonable(x: Any) -> Any:
    """Convert numbers (numpy, mpmath, sympy), tuples and dataclasses to JSON-ready values."""
    if isinstance(x, enum.Enum):
        return x.value
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if hasattr(x, "__dataclass_fields__"):
        return {f.name: jsonable(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "tolist") and not hasattr(x, "_mpf_"):  # numpy arrays and scalars
        return jsonable(x.tolist())
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def unjson_float(x: Any) -> Any:
    """Inverse of :func:`jsonable` for the non-finite float encodings."""
    if x in ("inf", "-inf", "nan"):
        return float(x)
    return x


def _floats(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: unjson_float(v) for k, v in d.items()}


def _known(cls: type, d: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the fields ``cls`` knows: a newer minor writer may add optional fields."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


@dataclass
class Series:
    """One line or point set of a figure: ``y`` against ``x``.

    ``style`` is ``"line"``, ``"points"`` (markers only), ``"dashed"`` (a fit
    or a reference curve) or ``"bar"``. For ``Figure.kind == "bar"`` the ``x``
    values may be category names (strings).
    """

    label: str
    x: list[Any]
    y: list[float]
    style: str = "line"  # "line" | "points" | "dashed" | "bar"


@dataclass
class Figure:
    """The data behind a figure; the report decides how it looks.

    ``kind`` names the renderer (one of :data:`FIGURE_KINDS`):

    ``"loglog"``
        Error ladders. Annotations: ``expected_slope`` (a reference line of
        that slope through the first point of the first series),
        ``fitted_slope`` (number, or ``{series label: number}``, shown in the
        legend; the fit itself is computed by the claim, never the report).
        A series whose label starts with "expected" replaces the guide.
    ``"curve"``
        A function of one variable, e.g. rho(eta). Annotations: ``vline``
        (number or list, e.g. eta*), ``vline_label``, ``hline`` (e.g. rho = 1),
        ``hline_label``.
    ``"scatter"``
        Bound (x) against measured (y). Annotations: ``diagonal`` (draw y = x;
        points above it violate ``measured <= bound``).
    ``"bar"``
        Categories (``x`` may be strings) against values; ``hline`` as above.
    ``"interval"``
        Estimates with confidence intervals: one series, ``x`` categories,
        ``y`` point estimates; ``annotations["ci_low"]`` and
        ``annotations["ci_high"]`` (lists aligned with ``x``); ``hline`` (e.g.
        0, the no-effect line) as above.
    ``"table"``
        No plot: ``annotations["columns"]`` (list of names) and
        ``annotations["rows"]`` (list of lists) are shown as a table.

    Unknown kinds are drawn as ``"curve"`` with a note, so a typo never loses
    the data.
    """

    kind: str
    title: str
    xlabel: str = ""
    ylabel: str = ""
    xscale: str = "linear"
    yscale: str = "linear"
    series: list[Series] = field(default_factory=list)
    annotations: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Figure":
        d = _known(cls, d)
        d["series"] = [
            Series(s["label"], [unjson_float(v) for v in s["x"]], [unjson_float(v) for v in s["y"]], s.get("style", "line"))
            for s in d.get("series", [])
        ]
        return cls(**d)


@dataclass
class Case:
    """One instance a claim was checked on (one loss, one dataset, one seed).

    ``measured`` and ``expected`` hold the numbers the verdict was taken from;
    ``margin`` is the signed slack of the inequality or order test (positive =
    satisfied), ``note`` says in words why the verdict is what it is.
    """

    name: str
    verdict: Verdict
    measured: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    tolerance: dict[str, Any] = field(default_factory=dict)
    margin: float | None = None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Case":
        d = _known(cls, d)
        d["verdict"] = Verdict(d["verdict"])
        for k in ("measured", "expected", "tolerance"):
            d[k] = _floats(d.get(k, {}))
        d["margin"] = unjson_float(d.get("margin"))
        return cls(**d)


def tightest(cases: Iterable[Case]) -> Case | None:
    """The case with the smallest margin (the first of equals), None when no case has a margin."""
    with_margin = [(c.margin, i, c) for i, c in enumerate(cases) if c.margin is not None]
    return min(with_margin)[2] if with_margin else None


@dataclass
class Evidence:
    """Everything a claim check found, enough to render and to regress against.

    ``key`` holds the few numbers that CI compares against the baseline (an
    order, a critical learning rate, a worst margin); ``summary`` is one line
    a person reads in the summary table. ``key_tolerance`` optionally gives a
    key its own comparison tolerance, ``{"order": {"rtol": 1e-3}}``, for
    numbers that are not reproducible to the default ``rtol`` (Monte Carlo
    estimates whose stream may change with a library version, iterative
    eigensolvers); keys without an entry use ``theorycheck compare --rtol``.
    ``warnings`` holds the distinct warnings the check emitted (overflow in a
    diverging run, ill-conditioning), recorded by the runner instead of being
    printed into the run's output.
    ``statement_kind`` is one of :data:`STATEMENT_KINDS` (empty in records
    written before schema version 3).
    ``traceback`` keeps the whole traceback of an ERROR (``reason`` holds its last line).
    ``expect`` is what the claim declared (:data:`EXPECTATIONS`; ``"pass"`` in records written before schema
    version 4); :attr:`outcome` is how the verdict is shown given it (FINDING for a declared finding that FAILs).
    ``settings`` records what the numbers were computed with; by convention
    ``backend`` ("mpmath", "heyoka", "scipy"), ``digits`` (decimal digits
    of working precision), ``quick`` and ``seed``.
    """

    claim_id: str
    verdict: Verdict
    summary: str
    title: str = ""
    source: str = ""
    statement: str = ""
    falsifier: str = ""
    statement_kind: str = ""
    key: dict[str, Any] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    counterexample: dict[str, Any] | None = None
    reason: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    key_tolerance: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    traceback: str = ""
    expect: str = "pass"

    @property
    def outcome(self) -> str:
        """How the verdict is shown (:func:`outcome` of the verdict and :attr:`expect`)."""
        return outcome(self.verdict, self.expect)

    @classmethod
    def from_cases(cls, claim_id: str, cases: list[Case], summary: str, **kw: Any) -> "Evidence":
        """Evidence whose verdict is the :func:`combine` of its cases."""
        return cls(claim_id=claim_id, verdict=combine(c.verdict for c in cases), summary=summary, cases=cases, **kw)

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Evidence":
        d = dict(d)
        d["verdict"] = Verdict(d["verdict"])
        d["key"] = _floats(d.get("key", {}))
        d["cases"] = [Case.from_dict(c) for c in d.get("cases", [])]
        d["figures"] = [Figure.from_dict(f) for f in d.get("figures", [])]
        d["elapsed_s"] = float(unjson_float(d.get("elapsed_s", 0.0)))
        d["key_tolerance"] = {k: {n: float(unjson_float(t)) for n, t in v.items()}
                              for k, v in (d.get("key_tolerance") or {}).items()}
        return cls(**_known(cls, d))


__all__ = ["EXPECTATIONS", "FIGURE_KINDS", "OUTCOMES", "STATEMENT_KINDS", "Case", "Evidence", "Figure", "Series",
           "Verdict", "broken_expectation", "combine", "failure_label", "jsonable", "outcome", "outcome_counts",
           "tightest", "unjson_float"]
