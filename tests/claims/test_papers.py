"""Papers and their statements: every built-in claim is under a paper, every statement stands one clear way."""

import pytest

from theorycheck.claims import papers, registry, statements
from theorycheck.core.errors import InputError

#: The papers the report must have a section for (the ones the claims cite).
REQUIRED = ("barrett-dherin-2021", "ma-ying-2021", "wu-ma-e-2018", "smith-dherin-barrett-de-2021",
            "cattaneo-klusowski-shigida-2024", "ghosh-lyu-zhang-wang-2023", "kovachki-stuart-2021",
            "mulayoff-michaeli-2024", "cohen-et-al-2021")


def test_every_registered_builtin_claim_is_under_a_paper():
    # a claim added without a statement to check (a new claim of another branch, say) fails here: add its id to
    # the statement it checks in theorycheck/claims/statements.py
    ids = [c.id for c in registry.builtin_claims()]
    assert papers.unplaced(ids) == [], "claims under no paper's statement"


def test_every_claim_a_statement_names_is_registered():
    assert papers.unknown_claims(c.id for c in registry.all_claims()) == []


def test_the_papers_the_claims_cite_have_their_statements():
    keys = [p.key for p in papers.all_papers()]
    assert set(REQUIRED) <= set(keys) and len(keys) == len(set(keys))
    for p in papers.all_papers():
        assert p.citation and p.statements
        for s in p.statements:
            assert s.status in papers.STATUSES
            assert bool(s.claims) or s.not_checked, (p.key, s.where)  # checked, or says why not
            assert s.place.endswith(papers.UNCHECKED_NUMBER + ")") != s.where_checked


def test_ma_ying_lists_both_open_questions_as_extrapolations():
    p = papers.get_paper("ma-ying-2021")
    open_qs = [s for s in p.statements if s.status == "open question"]
    assert [s.claims for s in open_qs] == [("nets.deep-multiplicative",), ("nets.sobolev-non-interpolating",)]
    assert {registry.get(c).statement_kind for s in open_qs for c in s.claims} == {"extrapolation"}


def test_the_momentum_and_adam_papers_name_the_claims_that_check_them():
    ks = papers.get_paper("kovachki-stuart")
    nesterov = [s for s in ks.statements if "Nesterov's accelerated gradient" in s.text]
    assert [s.claims for s in nesterov] == [("implicit.nesterov-modified-flow",)]
    assert "implicit.momentum-rescaled-flow" in ks.statements[0].claims
    assert any("implicit.ghosh-heavy-ball-regulariser" in s.claims for s in papers.get_paper("ghosh").statements)
    assert any("implicit.cattaneo-adaptive-first-order" in s.claims for s in papers.get_paper("cattaneo").statements)


@pytest.mark.parametrize("name,key", [("ma-ying", "ma-ying-2021"), ("Ma & Ying 2021", "ma-ying-2021"),
                                      ("BARRETT", "barrett-dherin-2021"), ("cohen", "cohen-et-al-2021")])
def test_a_paper_is_found_by_key_short_name_or_unique_prefix(name, key):
    assert papers.get_paper(name).key == key


@pytest.mark.parametrize("name,says", [("nope", "unknown paper 'nope'"), ("hairer", "ambiguous"), ("", "unknown")])
def test_an_unknown_or_ambiguous_paper_lists_the_known_ones(name, says):
    with pytest.raises(InputError, match=says) as err:
        papers.get_paper(name)
    assert "ma-ying-2021" in str(err.value) and "\n" not in str(err.value)


def test_a_statement_must_say_how_it_stands():
    with pytest.raises(InputError, match="why none does"):
        papers.Statement("Thm. 1", "a statement")
    with pytest.raises(InputError, match="keep one"):
        papers.Statement("Thm. 1", "a statement", claims=("x",), not_checked="because")
    assert papers.Statement("talk", "open?", open_question=True, not_checked="no claim yet").status == "open question"


def test_a_users_paper_is_registered_once(monkeypatch):
    monkeypatch.setattr(papers, "_PAPERS", dict(papers._PAPERS))
    mine = papers.Paper("my-2025", "Me 2025", "Me, My bound, 2025",
                        statements=(papers.Statement("Thm. 1", "my bound", claims=("mybounds.my-bound",)),))
    papers.register_paper(mine)
    assert papers.get_paper("my-2025") is mine and papers.papers_of("mybounds.my-bound") == [mine]
    papers.register_paper(mine)  # the same paper again (a module imported twice) is fine
    with pytest.raises(InputError, match="two papers have the key"):
        papers.register_paper(papers.Paper("my-2025", "Other", "Other", statements=mine.statements))
    with pytest.raises(InputError, match="lower-case"):
        papers.Paper("My Paper", "x", "x", statements=mine.statements)


def test_a_run_records_only_the_papers_of_its_claims_with_all_their_statements():
    got = papers.papers_json(["stability.closed-form"])
    assert [p["key"] for p in got] == ["ma-ying-2021", "mulayoff-michaeli-2024"]
    assert len(got[1]["statements"]) == len(statements.MULAYOFF_MICHAELI_2024.statements)
    assert len(papers.papers_json()) == len(papers.all_papers())
