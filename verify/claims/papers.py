"""Papers and their statements, each statement with the claims that check it: the report's paper-by-paper view.

A :class:`Paper` lists its statements in the paper's own order (theorem,
proposition, prediction, experiment), and each :class:`Statement` says how it
stands here:

* **checked**: ``claims`` names the registered claims that check it;
* **not checked**: ``not_checked`` gives the reason (a data set at ImageNet
  scale, a training curve of a large architecture, no claim yet);
* **open question**: ``open_question=True`` for a question the authors leave
  open; the claims under it, if any, are extrapolations.

``where`` is the statement's place in the paper ("Theorem 3.1", "Sec. 2").
Unless ``where_checked`` is set the number was not read in the paper, and every
view says so ("number not checked against the paper").

The built-in papers are data, in :mod:`theorycheck.claims.statements`: putting
a new claim under a statement is one id added to its ``claims``. A user's
package registers its own papers with :func:`register_paper` (claim ids as
``theorycheck list`` shows them, namespace included). Every built-in claim is
under at least one paper (:func:`unplaced` is empty; a test holds it).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from theorycheck.core.errors import InputError

#: How a statement stands: one of these (:attr:`Statement.status`).
STATUSES = ("checked", "not checked", "open question")

#: The module that holds the built-in papers (loaded on first use).
BUILTIN_PAPERS = "theorycheck.claims.statements"

#: What a number not read in the paper is marked with.
UNCHECKED_NUMBER = "number not checked against the paper"


@dataclass(frozen=True)
class Statement:
    """One statement of a paper and how it stands here (module docstring).

    Parameters
    ----------
    where : str
        Its place in the paper: "Theorem 3.1", "Sec. 4", "abstract".
    text : str
        The statement, in this package's notation.
    claims : tuple of str
        Ids of the claims that check it (empty when not checked).
    not_checked : str
        Why no claim checks it; required when ``claims`` is empty.
    open_question : bool
        A question the authors leave open (its claims, if any, are extrapolations).
    where_checked : bool
        Whether the number in ``where`` was read in the paper.
    note : str
        How the claims bear on it, when that is not the whole statement.
    """

    where: str
    text: str
    claims: tuple[str, ...] = ()
    not_checked: str = ""
    open_question: bool = False
    where_checked: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if not self.text or not self.where:
            raise InputError("a paper's statement needs its `where` and its `text`.")
        if not self.claims and not self.not_checked:
            raise InputError(f"statement {self.where!r} ({self.text[:40]}…): give the claims that check it or, in "
                             f"`not_checked`, why none does.")
        if self.claims and self.not_checked:
            raise InputError(f"statement {self.where!r}: both claims and a not-checked reason; keep one.")

    @property
    def status(self) -> str:
        """``"open question"``, ``"checked"`` or ``"not checked"`` (:data:`STATUSES`)."""
        if self.open_question:
            return "open question"
        return "checked" if self.claims else "not checked"

    @property
    def place(self) -> str:
        """``where``, marked when its number was not read in the paper."""
        return self.where if self.where_checked else f"{self.where} ({UNCHECKED_NUMBER})"

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "where_checked": self.where_checked, "text": self.text,
                "claims": list(self.claims), "status": self.status, "not_checked": self.not_checked,
                "note": self.note}


@dataclass(frozen=True)
class Paper:
    """A paper (or book) the claims cite, with its statements in its own order.

    ``key`` is its short identifier (``ma-ying-2021``), ``short`` how the report
    names it ("Ma & Ying 2021"), ``citation`` the full reference and ``url``
    where to read it.
    """

    key: str
    short: str
    citation: str
    url: str = ""
    statements: tuple[Statement, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", self.key):
            raise InputError(f"paper key {self.key!r}: lower-case letters, digits, '-' and '.' only.")
        if not self.statements:
            raise InputError(f"paper {self.key!r} lists no statements.")

    def claim_ids(self) -> list[str]:
        """Every claim under one of its statements, each once, in statement order."""
        return list(dict.fromkeys(c for s in self.statements for c in s.claims))

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "short": self.short, "citation": self.citation, "url": self.url,
                "statements": [s.to_json() for s in self.statements]}


_PAPERS: dict[str, Paper] = {}
_loaded = False


def register_paper(paper: Paper) -> Paper:
    """Add ``paper`` (a user's package calls this at import); a second paper under the same key is refused."""
    old = _PAPERS.get(paper.key)
    if old is not None and old != paper:
        raise InputError(f"two papers have the key {paper.key!r}; rename one.")
    _PAPERS[paper.key] = paper
    return paper


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module(BUILTIN_PAPERS)


def all_papers() -> list[Paper]:
    """Every registered paper: the built-in ones (in :mod:`~theorycheck.claims.statements` order), then users'."""
    _load()
    return list(_PAPERS.values())


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def get_paper(name: str) -> Paper:
    """The paper named ``name``: its key, its short name, or a unique prefix of either, ignoring case and
    punctuation ("ma-ying", "Ma & Ying 2021", "barrett"). An unknown or ambiguous name is an
    :class:`~theorycheck.core.errors.InputError` that lists the known papers."""
    papers = all_papers()
    want = _norm(name)
    exact = [p for p in papers if want and want in (_norm(p.key), _norm(p.short))]
    found = exact or [p for p in papers if want and (_norm(p.key).startswith(want) or _norm(p.short).startswith(want))]
    if len(found) == 1:
        return found[0]
    known = ", ".join(p.key for p in papers)
    if found:
        raise InputError(f"paper {name!r} is ambiguous: it names {', '.join(p.key for p in found)}; known papers: "
                         f"{known}.")
    raise InputError(f"unknown paper {name!r}; known papers: {known}.")


def papers_of(claim_id: str) -> list[Paper]:
    """The papers with a statement that ``claim_id`` checks, in paper order."""
    return [p for p in all_papers() if claim_id in p.claim_ids()]


def unplaced(claim_ids: Iterable[str]) -> list[str]:
    """The ids among ``claim_ids`` that are under no paper's statement."""
    placed = {c for p in all_papers() for c in p.claim_ids()}
    return [c for c in claim_ids if c not in placed]


def unknown_claims(claim_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(paper key, claim id) for every claim a statement names that is not among ``claim_ids`` (a typo, a
    claim renamed or removed)."""
    known = set(claim_ids)
    return [(p.key, c) for p in all_papers() for c in p.claim_ids() if c not in known]


def papers_json(claim_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The papers as JSON, for a run's record: only papers with a statement that one of ``claim_ids`` checks
    (every paper when None), each with all its statements (the unchecked ones too)."""
    ids = None if claim_ids is None else set(claim_ids)
    return [p.to_json() for p in all_papers() if ids is None or ids & set(p.claim_ids())]


__all__ = ["BUILTIN_PAPERS", "STATUSES", "UNCHECKED_NUMBER", "Paper", "Statement", "all_papers", "get_paper",
           "papers_json", "papers_of", "register_paper", "unknown_claims", "unplaced"]
