"""The time limit on symbolic work: it fires even through code that swallows exceptions, and only once."""

import time

import pytest

from theorycheck.running.limits import TimeLimitError, time_limit


def test_a_block_past_its_limit_ends_with_the_message():
    with pytest.raises(TimeLimitError, match="too slow"):
        with time_limit(0.2, "too slow"):
            time.sleep(5)


def test_code_that_swallows_exceptions_cannot_outlive_the_limit():
    t0 = time.perf_counter()
    with pytest.raises(TimeLimitError):
        with time_limit(0.2, "bounded"):
            while time.perf_counter() - t0 < 10:
                try:
                    time.sleep(0.01)
                except Exception:  # noqa: BLE001 - what a library might do
                    pass
    assert time.perf_counter() - t0 < 3


def test_a_block_within_its_limit_leaves_no_timer_behind():
    with time_limit(0.5, "x"):
        pass
    time.sleep(0.8)  # a stray SIGALRM would kill the process here
