"""What an LSP client may change in its session's settings: an allow-list.

A client (an editor, or anyone who can reach the port, a local user on a loopback bind
included) tunes latency and picks among what the server's own configuration defines. Whatever
decides what the server connects to, reads, writes, runs or trusts (members with their URLs
and API keys, paths, the sandbox, ranking files, plugins, the engine, the transport limits)
comes only from the server's configuration file: otherwise a client could have the warm-up send
the server's API key to a URL of its choice, or make the server create files where it likes.

Each key is judged on its own: a refused key is reported with the reason, and the others apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from codequorum.config import ServerConfig, Settings

# [server] keys a client may set, within the schema's bounds.
TUNABLE = frozenset({
    "debounce_ms", "inline_deadline_s", "inline_settle_ratio", "inline_wait_for_all",
    "background_refine", "inline_max_tokens", "line_max_tokens", "prefix_chars", "suffix_chars",
    "context_chars", "alternatives", "cache_size", "generate_max_tokens", "warm_up", "feedback",
})
# [server] keys that choose among the members or strategies the server's configuration defines.
MEMBER_CHOICES = frozenset({"inline_members", "fix_members"})
STRATEGY_CHOICES = frozenset({"inline_strategy", "generate_strategy"})
# A client may lower these (memory held for it), not raise them above the server's own value.
CEILINGS = frozenset({"cache_size"})

_SERVER_ONLY_REASONS = {
    "feedback_db": "a path on the server",
    "fix_test_command": "a command the server runs (send `test` with codequorum.fix where the "
                        "server allows it: [server] client_test_command)",
    "client_test_command": "decides who may run commands on the server",
}
_SECTION_REASONS = {
    "members": "member definitions (backends, URLs, API keys, model files)",
    "include_default_members": "which members exist",
    "engine": "the engine's settings, shared by every client of the server",
    "strategies": "strategy options, shared by every client of the server",
    "scheduler": "the scheduler, shared by every client of the server",
    "models": "a path on the server",
    "plugins": "which plugins run",
    "sandbox": "the sandbox's limits",
    "ranking": "ranking files and scorers",
}


@dataclass(frozen=True)
class Refused:
    key: str  # dotted, as in the TOML file: "server.feedback_db"
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


@dataclass(frozen=True)
class ScreenedOptions:
    server: dict[str, Any] = field(default_factory=dict)  # the accepted [server] keys
    refused: tuple[Refused, ...] = ()


def screen(options: dict[str, Any], base: Settings,
           strategies: Callable[[], Iterable[str]]) -> ScreenedOptions:
    """The keys of `options` a client may set over `base` (the server's settings), and the rest."""
    accepted: dict[str, Any] = {}
    refused: list[Refused] = []
    for key, value in options.items():
        if key != "server":
            refused.append(Refused(key, _top_level_reason(key)))
        elif not isinstance(value, dict):
            refused.append(Refused("server", "expected a table of [server] settings"))
        else:
            for name, item in value.items():
                problem = _server_key_problem(name, item, base, strategies)
                if problem is None:
                    accepted[name] = item
                else:
                    refused.append(Refused(f"server.{name}", problem))
    return ScreenedOptions(accepted, tuple(refused))


def describe(refused: tuple[Refused, ...], origin: str) -> str:
    lines = "\n".join(f"  {item}" for item in refused)
    return f"codequorum: {origin}: not applied (the other settings are):\n{lines}"


def _top_level_reason(key: str) -> str:
    what = _SECTION_REASONS.get(key)
    if what is None:
        return "not a setting a client may send (clients may set [server] tuning keys only)"
    return f"{what}: only the server's configuration file sets it"


def _server_key_problem(name: str, value: Any, base: Settings,
                        strategies: Callable[[], Iterable[str]]) -> str | None:
    if name not in ServerConfig.model_fields:
        return "unknown key (check the spelling; see docs/configuration.md)"
    if name not in TUNABLE | MEMBER_CHOICES | STRATEGY_CHOICES:
        reason = _SERVER_ONLY_REASONS.get(name, "a limit of the server")
        return f"{reason}: only the server's configuration file sets it"
    trial = base.server.model_copy()
    try:
        setattr(trial, name, value)  # validate_assignment: the field's type and bounds
    except ValidationError as error:
        return "; ".join(problem["msg"] for problem in error.errors())
    value = getattr(trial, name)
    if name in CEILINGS and value > getattr(base.server, name):
        return f"at most the server's own value, {getattr(base.server, name)}"
    if name in MEMBER_CHOICES and value is not None:
        unknown = [member for member in value if member not in base.members]
        if unknown:
            return (f"unknown member(s) {', '.join(unknown)} "
                    f"(the server's members: {', '.join(base.members)})")
    if name in STRATEGY_CHOICES and value is not None:
        known = sorted(strategies())
        if value not in known:
            return f"{value!r} is not a strategy (known: {', '.join(known)})"
    return None

