"""What a benchmark run reports: figures per member and per strategy, written to `--out` as
results.json, results.md and frontier.png (pass@1 against cost per problem, the hull drawn)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codequorum.bench.frontier import Point, aiq, frontier
from codequorum.bench.replay import Outcome
from codequorum.bench.report import MemberFigures


@dataclass(frozen=True)
class StrategyFigures:
    strategy: str
    problems: int
    pass_at_1: float
    member_calls_per_problem: float
    tokens_per_problem: float
    cost_per_problem: float
    compute_seconds_per_problem: float
    replay_seconds: float  # checks and ranking during the replay, all problems
    misses: int  # problems where the pool lacked what the strategy asked for


def strategy_figures(outcomes: Sequence[Outcome]) -> list[StrategyFigures]:
    by_strategy: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_strategy[outcome.strategy].append(outcome)
    return [_figures(name, rows) for name, rows in by_strategy.items()]


def _figures(strategy: str, rows: list[Outcome]) -> StrategyFigures:
    n = len(rows)
    return StrategyFigures(
        strategy, n, sum(r.passed for r in rows) / n, sum(r.member_calls for r in rows) / n,
        sum(r.tokens for r in rows) / n, sum(r.cost for r in rows) / n,
        sum(r.compute_seconds for r in rows) / n, sum(r.seconds for r in rows),
        sum(r.error is not None for r in rows))


@dataclass(frozen=True)
class Report:
    command: str
    machine: str
    members: list[MemberFigures]
    strategies: list[StrategyFigures]
    oracle: float
    outcomes: list[Outcome] = field(default_factory=list)  # per strategy and problem

    def comparable_members(self) -> list[MemberFigures]:
        """Members whose setting covers every problem: a setting collected on demand covers only
        the problems a strategy sampled, usually the hard ones, and is no point on the frontier."""
        full = max((m.problems for m in self.members), default=0)
        return [m for m in self.members if m.problems == full]

    def points(self) -> list[Point]:
        return ([Point(f"{m.member} ({m.setting})", m.cost_per_problem, m.pass_at_1)
                 for m in self.comparable_members()]
                + [Point(s.strategy, s.cost_per_problem, s.pass_at_1) for s in self.strategies])

    def to_json_dict(self) -> dict[str, Any]:
        member_points = [Point(m.member, m.cost_per_problem, m.pass_at_1) for m in self.comparable_members()]
        return {
            "command": self.command, "machine": self.machine, "oracle": self.oracle,
            "members": [asdict(m) for m in self.members],
            "strategies": [asdict(s) for s in self.strategies],
            "frontier": [asdict(p) for p in frontier(self.points())],
            "aiq": {"members": aiq(member_points), "members_and_strategies": aiq(self.points())},
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def write_report(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.json", out / "results.md"]
    written[0].write_text(json.dumps(report.to_json_dict(), indent=2) + "\n", encoding="utf-8")
    written[1].write_text(markdown(report), encoding="utf-8")
    picture = plot_frontier(report, out / "frontier.png")
    return written + ([picture] if picture else [])


def markdown(report: Report) -> str:
    data = report.to_json_dict()
    lines = [f"Command: `{report.command}`  ", f"Machine: {report.machine}", "",
             "| system | problems | pass@1 | member calls / problem | tokens / problem | "
             "cost / problem | compute s / problem |", "|---|---|---|---|---|---|---|"]
    comparable = report.comparable_members()
    for m in report.members:
        subset = "" if m in comparable else " (a subset: not on the frontier)"
        lines.append(f"| member {m.member} ({m.setting}) | {m.problems}{subset} | {m.pass_at_1:.1%} | 1 | – | "
                     f"{m.cost_per_problem:.2f} | {m.compute_seconds_per_problem:.2f} |")
    for s in report.strategies:
        missed = f" ({s.misses} missed)" if s.misses else ""
        lines.append(f"| strategy {s.strategy} | {s.problems}{missed} | {s.pass_at_1:.1%} | "
                     f"{s.member_calls_per_problem:.2f} | {s.tokens_per_problem:.0f} | "
                     f"{s.cost_per_problem:.2f} | {s.compute_seconds_per_problem:.2f} |")
    on_frontier = ", ".join(p["name"] for p in data["frontier"])
    lines += ["", f"Oracle (any collected candidate passes): {report.oracle:.1%}  ",
              f"Frontier: {on_frontier}  ",
              f"AIQ: members {data['aiq']['members']:.3f}, members and strategies "
              f"{data['aiq']['members_and_strategies']:.3f}", ""]
    return "\n".join(lines)


def plot_frontier(report: Report, path: Path) -> Path | None:
    """frontier.png, or None without matplotlib (the bench extra has it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    points = report.points()
    hull = frontier(points)
    figure, axes = plt.subplots(figsize=(9, 4.8), dpi=100)
    key = []
    places = sorted(_labels_by_place(points).items())
    for number, ((cost, quality), names) in enumerate(places, 1):
        marker = "s" if all("(" in name for name in names) else "o"  # members square, strategies round
        axes.scatter(cost, quality * 100, marker=marker, zorder=3)
        key.append(f"{number:>2}  " + " = ".join(names))
    for (cost, quality), label in _annotations([place for place, _ in places]):
        axes.annotate(label, (cost, quality * 100), fontsize=7, xytext=(4, -9), textcoords="offset points")
    # names in a key beside the axes: long strategy names would cover each other on the plot
    figure.text(0.64, 0.93, "\n".join(key), fontsize=7, va="top", family="monospace")
    figure.subplots_adjust(left=0.08, right=0.62, bottom=0.11, top=0.95)
    axes.plot([p.cost for p in hull], [p.quality * 100 for p in hull], "--", color="grey",
              label="frontier (non-decreasing convex hull)", zorder=2)
    axes.set_xlabel("cost per problem (generated tokens x the member's price)")
    axes.set_ylabel("pass@1 (%)")
    axes.legend(fontsize=7, loc="lower right")
    axes.grid(alpha=0.3)
    figure.savefig(path)
    plt.close(figure)
    return path


def _annotations(places: Sequence[tuple[float, float]]) -> list[tuple[tuple[float, float], str]]:
    """One label per group of points too close for a label each (within 3% of the cost span
    and 2% of the pass@1 span), at the group's first point: "11,12" rather than "1112"."""
    if not places:
        return []
    costs, qualities = [c for c, _ in places], [q for _, q in places]
    near_cost, near_quality = 0.03 * (max(costs) - min(costs)), 0.02 * (max(qualities) - min(qualities))
    groups: list[tuple[tuple[float, float], list[int]]] = []
    for number, (cost, quality) in enumerate(places, 1):
        group = next((g for (c, q), g in groups if abs(cost - c) <= near_cost and abs(quality - q) <= near_quality), None)
        if group is None:
            groups.append(((cost, quality), [number]))
        else:
            group.append(number)
    return [(place, ",".join(map(str, numbers))) for place, numbers in groups]


def _labels_by_place(points: Sequence[Point]) -> dict[tuple[float, float], list[str]]:
    """Names of the points at each (cost, pass@1): systems that coincide share one label."""
    places: dict[tuple[float, float], list[str]] = {}
    for point in points:
        places.setdefault((round(point.cost, 2), round(point.quality, 4)), []).append(point.name)
    return places
