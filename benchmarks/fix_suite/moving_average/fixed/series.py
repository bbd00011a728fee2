"""Smoothing a series of measurements."""


def moving_average(values, window):
    """The mean of each run of `window` consecutive values, in order."""
    if window <= 0:
        raise ValueError("window must be positive")
    return [sum(values[i:i + window]) / window for i in range(len(values) - window + 1)]
