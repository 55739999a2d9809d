"""Claims of the optimiser protocol: each passes, and each mutant (a wrong factor, power, rescaling, sign) FAILs."""

from fractions import Fraction

import pytest

from theorycheck import claims
from theorycheck.claims import RunContext, optimizers
from theorycheck.core.evidence import Verdict

QUICK = RunContext(quick=True)
ALL = (optimizers.ProtocolHandDerivations, optimizers.MomentumRescaledFlow, optimizers.NesterovModifiedFlow,
       optimizers.GhoshHeavyBallRegulariser, optimizers.CattaneoAdaptiveFirstOrder)


def test_the_claims_are_registered_with_their_kinds():
    ids = {c.id: c for c in claims.all_claims()}
    kinds = {"implicit.optimizer-protocol-hand-derivations": "derived", "implicit.momentum-rescaled-flow": "theorem",
             "implicit.nesterov-modified-flow": "derived", "implicit.ghosh-heavy-ball-regulariser": "theorem",
             "implicit.cattaneo-adaptive-first-order": "derived"}
    for cls in ALL:
        assert ids[cls.id].statement_kind == kinds[cls.id]


# each claim's PASS in quick mode is held by tests/running/test_theory.py (every registered claim, against the baseline)


@pytest.mark.parametrize("cls,mutant", [
    (optimizers.ProtocolHandDerivations, {"nesterov_factor": 3, "losses": ("quadratic",)}),
    (optimizers.ProtocolHandDerivations, {"dampening_offset": 0, "losses": ("quadratic",)}),
    (optimizers.MomentumRescaledFlow, {"rescaling": 1}),
    (optimizers.NesterovModifiedFlow, {"factor": "(1 + beta)/(1 - beta)"}),
    (optimizers.GhoshHeavyBallRegulariser, {"kappa": 1}),
    (optimizers.CattaneoAdaptiveFirstOrder, {"sign": -1}),
], ids=["nesterov-factor", "dampening-power", "unrescaled-flow", "heavy-ball-factor-for-nesterov", "no-amplification",
        "wrong-sign"])
def test_mutants_fail(cls, mutant):
    ev = cls(**mutant).run(QUICK)
    assert ev.verdict is Verdict.FAIL, ev.summary


def test_the_nesterov_factor_is_weaker_than_heavy_balls():
    from theorycheck.maths.momentum import regulariser_factor

    for b in (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10)):
        assert regulariser_factor(b, 1) < regulariser_factor(b, 0)
