import pytest

from weather import to_celsius, to_fahrenheit


def test_freezing_and_boiling():
    assert to_celsius(32) == 0
    assert to_celsius(212) == 100
    assert to_fahrenheit(100) == 212


def test_a_round_trip():
    assert to_celsius(to_fahrenheit(37.0)) == pytest.approx(37.0)
