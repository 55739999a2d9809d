import math

import pytest

from theorycheck.core.errors import InputError, TheorycheckError, UnknownClaimError, require_finite


def test_require_finite_accepts_numbers_and_names_the_argument():
    assert require_finite("eta", "0.5") == 0.5
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(InputError, match="`eta` must be finite"):
            require_finite("eta", bad)


def test_unknown_claim_message_is_not_quoted_like_a_keyerror():
    assert str(UnknownClaimError("unknown claim id 'x'.")) == "unknown claim id 'x'."
    assert issubclass(UnknownClaimError, TheorycheckError)
