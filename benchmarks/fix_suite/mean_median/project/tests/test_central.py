from stats.central import mean, median


def test_mean():
    assert mean([2, 4, 9]) == 5


def test_median_of_an_odd_count():
    assert median([9, 1, 5]) == 5


def test_median_of_an_even_count():
    assert median([4, 1, 3, 2]) == 2.5
