"""The claim registry as ordinary pytest tests: one test per registered claim, id = claim id.

Each runs the claim in quick mode and asserts what :mod:`theorycheck.running.pytest_plugin`
documents: not ERROR, same verdict as ``reports/baseline.json``; a published
claim that FAILs (consistently with the baseline) is shown as XFAIL, a finding
that stays visible without turning CI red. Key-number drift is checked by
``theorycheck compare`` in ``.ci/run``.
"""

import pytest

from theorycheck.running.pytest_plugin import claim_params, theory  # noqa: F401 - the fixture, also when the entry point is absent


@pytest.mark.parametrize("claim", claim_params())
def test_claim(claim, theory):  # noqa: F811
    ev = theory.check(claim)
    assert ev.claim_id == claim.id and ev.summary
