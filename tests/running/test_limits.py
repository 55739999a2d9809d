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


def test_a_tick_lost_in_a_weakref_callback_is_not_reported_and_the_next_one_ends_the_block():
    import sys
    import weakref

    class Thing:
        pass

    reported = []
    outer = sys.unraisablehook
    record = reported.append
    sys.unraisablehook = record
    try:
        with pytest.raises(TimeLimitError):
            with time_limit(0.05, "too slow"):
                thing = Thing()

                def spin():
                    end = time.perf_counter() + 0.3
                    while time.perf_counter() < end:  # the first tick fires in here, where it can only be printed
                        pass

                weakref.finalize(thing, spin)
                del thing
                time.sleep(2)
        assert sys.unraisablehook is record
    finally:
        sys.unraisablehook = outer
    assert reported == []
