import pytest

from series import moving_average


def test_each_window_is_averaged():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_one_window():
    assert moving_average([2, 4, 6], 3) == [4.0]


def test_a_window_must_be_positive():
    with pytest.raises(ValueError):
        moving_average([1], 0)
