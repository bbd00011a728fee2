from codequorum.bench.frontier import Point
from codequorum.bench.report import MemberFigures
from codequorum.bench.results import (
    Report,
    StrategyFigures,
    _annotations,
    _labels_by_place,
    markdown,
)


def member(setting, problems, pass_at_1, cost):
    return MemberFigures("m", setting, problems, pass_at_1, 1.0, cost, 0)


def test_a_setting_collected_on_demand_is_reported_but_kept_off_the_frontier():
    greedy, on_demand = member("k1-t0", 10, 0.6, 2.0), member("k3-t0.6", 3, 0.3, 9.0)
    strategy = StrategyFigures("cascade", 10, 0.7, 1.2, 100, 3.0, 4.0, 1.0, 0)
    report = Report("codequorum bench", "x86_64, 2 cores", [greedy, on_demand], [strategy], 0.8)
    assert report.comparable_members() == [greedy]
    assert [p.name for p in report.points()] == ["m (k1-t0)", "cascade"]
    assert report.to_json_dict()["members"][1]["problems"] == 3  # still in the figures
    table = markdown(report)
    assert "| member m (k3-t0.6) | 3 (a subset: not on the frontier) | 30.0% |" in table
    assert "| member m (k1-t0) | 10 | 60.0% |" in table


def test_systems_at_the_same_place_share_one_label_in_the_picture():
    points = [Point("best-of", 10.771, 0.713), Point("rank", 10.772, 0.713), Point("single", 6.1, 0.671)]
    assert _labels_by_place(points) == {(10.77, 0.713): ["best-of", "rank"], (6.1, 0.671): ["single"]}


def test_points_too_close_for_a_label_each_share_one():
    places = [(0.0, 0.50), (17.73, 0.689), (17.94, 0.689), (28.0, 0.793), (40.0, 0.805), (28.7, 0.793)]
    assert _annotations(places) == [((0.0, 0.50), "1"), ((17.73, 0.689), "2,3"),
                                    ((28.0, 0.793), "4,6"), ((40.0, 0.805), "5")]
    assert _annotations([]) == []
