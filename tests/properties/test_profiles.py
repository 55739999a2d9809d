import pytest

from theorycheck.properties import profiles


@pytest.mark.parametrize(
    "env, expected",
    [({}, "dev"), ({"CI": "true"}, "ci"), ({"THEORYCHECK_PROFILE": "thorough", "CI": "true"}, "thorough")],
)
def test_profile_selection(monkeypatch, env, expected):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("THEORYCHECK_PROFILE", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert profiles.selected_profile() == expected


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("THEORYCHECK_PROFILE", "fast")
    with pytest.raises(ValueError, match="THEORYCHECK_PROFILE='fast'"):
        profiles.selected_profile()
