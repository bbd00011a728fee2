"""Days in a month of the Gregorian calendar."""

DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def is_leap(year):
    return year % 4 == 0


def days_in_month(year, month):
    """Days in `month` (1-12) of `year`."""
    if month == 2 and is_leap(year):
        return 29
    return DAYS[month]
