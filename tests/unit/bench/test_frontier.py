import pytest

from codequorum.bench.frontier import Point, aiq, frontier


def names(points):
    return [p.name for p in points]


def test_the_frontier_keeps_the_upper_convex_hull_cheapest_first():
    points = [Point("cheap", 1, 0.4), Point("below", 2, 0.45), Point("mid", 3, 0.7), Point("dear", 5, 0.8)]
    assert names(frontier(points)) == ["cheap", "mid", "dear"]  # "below" lies under cheap–mid


def test_a_dearer_point_that_is_no_better_is_off_the_frontier():
    points = [Point("good", 1, 0.8), Point("dear", 4, 0.6), Point("same", 2, 0.8)]
    assert names(frontier(points)) == ["good"]


def test_aiq_is_the_mean_quality_under_the_frontier_over_the_cost_range():
    # a line from (0, 0) to (2, 1), then flat at 1 up to 4: area 1 + 2 = 3 over a range of 4
    points = [Point("a", 0, 0.0), Point("b", 2, 1.0), Point("c", 4, 0.5)]
    assert aiq(points) == pytest.approx(3 / 4)


def test_aiq_of_one_point_is_its_quality():
    assert aiq([Point("only", 3, 0.7)]) == pytest.approx(0.7)
    assert aiq([]) == 0.0


def test_adding_a_point_above_the_frontier_raises_aiq():
    members = [Point("small", 1, 0.5), Point("large", 3, 0.7)]
    assert aiq(members + [Point("ensemble", 2, 0.75)]) > aiq(members)
