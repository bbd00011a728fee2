from dates.months import days_in_month, is_leap


def test_leap_years():
    assert is_leap(2024) and is_leap(2000)
    assert not is_leap(2023) and not is_leap(1900)


def test_month_lengths():
    assert days_in_month(2023, 1) == 31
    assert days_in_month(2023, 4) == 30
    assert days_in_month(2023, 12) == 31


def test_february():
    assert days_in_month(2024, 2) == 29
    assert days_in_month(1900, 2) == 28
