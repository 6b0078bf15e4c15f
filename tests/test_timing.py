import time

import pytest

from course_utils import seconds_per_call


def test_measures_the_time_per_call():
    t = seconds_per_call(lambda: time.sleep(0.01), repeats=3, number=2)
    assert 0.009 < t < 0.2


def test_calls_repeats_times_number():
    calls = []
    seconds_per_call(lambda: calls.append(1), repeats=3, number=4)
    assert len(calls) == 12


def test_min_takes_the_fastest_round_and_median_the_middle_one():
    delays = iter([0.0, 0.03, 0.0, 0.03, 0.03] * 2)
    fast = seconds_per_call(lambda: time.sleep(next(delays)), repeats=5, statistic="min")
    slow = seconds_per_call(lambda: time.sleep(next(delays)), repeats=5)
    assert fast < 0.02 < slow


@pytest.mark.parametrize(
    "kwargs, error",
    [({"repeats": 0}, ValueError), ({"number": 1.5}, TypeError),
     ({"statistic": "mean"}, ValueError)],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        seconds_per_call(lambda: None, **kwargs)
    with pytest.raises(TypeError, match="function"):
        seconds_per_call(42)
