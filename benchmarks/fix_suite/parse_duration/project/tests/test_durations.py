import pytest

from timing.durations import parse_duration


def test_hours_and_minutes():
    assert parse_duration("1h30m") == 5400


def test_one_unit():
    assert parse_duration("45s") == 45
    assert parse_duration(" 2h ") == 7200


@pytest.mark.parametrize("text", ["", "h", "90", "1h30", "1x"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)
