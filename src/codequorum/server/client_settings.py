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
    "inline_hard_cap_s", "warm_fallbacks", "warm_on_open",
})
# What the editor that started the server over stdio may set beyond that: it is the user's own
# editor, but its settings may come from a workspace (a repository's .vscode/settings.json), so
# it too never defines a member, a URL, a path, a limit or a secret: it may switch the server's
# own members on or off and tune the engine's request knobs.
OWN_EDITOR_ENGINE = frozenset({"strategy", "deadline_s", "hard_cap_s", "max_tokens", "temperature"})
OWN_EDITOR_MEMBER = frozenset({"enabled"})
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
    "distill": "where verified answers are kept for distill (a path on the server)",
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
    engine: dict[str, Any] = field(default_factory=dict)  # the own editor's [engine] keys
    members: dict[str, Any] = field(default_factory=dict)  # the own editor's member switches

    def layer(self) -> dict[str, Any]:
        """The accepted options as a settings table to lay over the server's."""
        tables = {"server": self.server, "engine": self.engine, "members": self.members}
        return {name: table for name, table in tables.items() if table}


def screen(options: dict[str, Any], base: Settings, strategies: Callable[[], Iterable[str]],
           own_editor: bool = False) -> ScreenedOptions:
    """The keys of `options` a client may set over `base` (the server's settings), and the rest.
    `own_editor`: the stdio client, which may also switch members and tune the engine."""
    accepted: dict[str, Any] = {}
    engine: dict[str, Any] = {}
    members: dict[str, Any] = {}
    refused: list[Refused] = []
    for key, value in options.items():
        if own_editor and key == "engine" and isinstance(value, dict):
            engine, problems = _engine_keys(value, base, strategies)
            refused += problems
        elif own_editor and key == "members" and isinstance(value, dict):
            members, problems = _member_switches(value, base)
            refused += problems
        elif key != "server":
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
    return ScreenedOptions(accepted, tuple(refused), engine, members)


def _engine_keys(table: dict[str, Any], base: Settings,
                 strategies: Callable[[], Iterable[str]]) -> tuple[dict[str, Any], list[Refused]]:
    accepted: dict[str, Any] = {}
    refused: list[Refused] = []
    for name, value in table.items():
        if name not in OWN_EDITOR_ENGINE:
            refused.append(Refused(f"engine.{name}", "not an engine setting a client may send"))
            continue
        trial = base.engine.model_copy()
        try:
            setattr(trial, name, value)
        except ValidationError as error:
            refused.append(Refused(f"engine.{name}", "; ".join(p["msg"] for p in error.errors())))
            continue
        if name == "strategy" and value.split(":", 1)[0] not in set(strategies()):
            refused.append(Refused("engine.strategy", f"{value!r} is not a strategy"))
            continue
        accepted[name] = value
    return accepted, refused


def _member_switches(table: dict[str, Any], base: Settings) -> tuple[dict[str, Any], list[Refused]]:
    accepted: dict[str, Any] = {}
    refused: list[Refused] = []
    for name, fields in table.items():
        if name not in base.members:
            refused.append(Refused(f"members.{name}", "member definitions (backends, URLs, API keys, "
                                   "model files): only the server's configuration file defines them"))
            continue
        for key, value in (fields.items() if isinstance(fields, dict) else [("", fields)]):
            if key in OWN_EDITOR_MEMBER and isinstance(value, bool):
                accepted.setdefault(name, {})[key] = value
            else:
                refused.append(Refused(f"members.{name}.{key}" if key else f"members.{name}",
                                       "only `enabled` (true or false) of the server's own members"))
    return accepted, refused


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

