"""The cost-quality frontier and RouterBench's AIQ (Hu et al. 2024).

Each system (a member, a strategy) is a point (cost per problem, pass@1). Mixing two systems
at random reaches any point on the segment between them, so what a set of systems can achieve
is the upper convex hull of its points; and paying more never has to lose quality, so the
hull is made non-decreasing. AIQ is the area under that curve over the cost range, divided by
the range: the average quality the set offers across budgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    name: str
    cost: float
    quality: float


def frontier(points: Sequence[Point]) -> list[Point]:
    """The non-decreasing upper convex hull, cheapest first."""
    ordered = sorted(points, key=lambda p: (p.cost, -p.quality))
    hull: list[Point] = []
    for point in ordered:
        if hull and point.quality <= hull[-1].quality:
            continue  # costs more, gives no more: never on a non-decreasing frontier
        while len(hull) >= 2 and _not_convex(hull[-2], hull[-1], point):
            hull.pop()
        hull.append(point)
    return hull


def _not_convex(a: Point, b: Point, c: Point) -> bool:
    """b lies on or below the segment a–c."""
    cross = (b.cost - a.cost) * (c.quality - a.quality) - (b.quality - a.quality) * (c.cost - a.cost)
    return cross >= 0


def aiq(points: Sequence[Point], low: float | None = None, high: float | None = None) -> float:
    """Area under the frontier between `low` and `high` (default: the cheapest and the dearest
    point), divided by that range; beyond the dearest frontier point the curve stays flat."""
    hull = frontier(points)
    if not hull:
        return 0.0
    low = hull[0].cost if low is None else low
    high = max(p.cost for p in points) if high is None else high
    if high <= low:
        return hull[0].quality
    return _area(hull, low, high) / (high - low)


def _area(hull: list[Point], low: float, high: float) -> float:
    xs = [p.cost for p in hull] + [max(high, hull[-1].cost)]
    ys = [p.quality for p in hull] + [hull[-1].quality]
    area = 0.0
    for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:]):
        left, right = max(x0, low), min(x1, high)
        if right <= left:
            continue
        slope = (y1 - y0) / (x1 - x0) if x1 > x0 else 0.0
        area += (right - left) * (y0 + slope * (left - x0) + y0 + slope * (right - x0)) / 2
    return area
