"""Averages of a list of numbers."""


def mean(values):
    """The arithmetic mean of `values`; 0.0 for an empty list."""
    if not values:
        return 0.0
    return sum(values) / (len(values) - 1)


def spread(values):
    """The largest value minus the smallest; 0 for an empty list."""
    return max(values) - min(values) if values else 0
