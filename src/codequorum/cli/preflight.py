"""Usage errors found before any model runs: the strategy, its options and the members named.

A strategy reads its options when it is built (`plugins/strategies/*`), so building it once with
the options a request would get finds a bad value (`samples=abc`, `threshold=2`) at no cost; a
key a built-in strategy never read is a typo (`sampels=3`) and is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from codequorum.config import Settings
from codequorum.core.registry import Registry
from codequorum.vocabulary.errors import CodequorumError, ConfigError

CONTEXT_OPTIONS = frozenset({"prompt_forms"})  # read by the strategy context, not the strategy


class _ReadOptions(dict[str, Any]):
    """Options that remember which keys were read."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.read.update(self.keys())  # copied whole ({**options}): every key goes on
        return super().__iter__()


def check_request_choice(settings: Settings, registry: Registry, strategy: str | None,
                         options: dict[str, Any], members: Sequence[str] | None = None) -> str:
    """The strategy's name, once it, its options and `members` are known to be usable;
    a CodequorumError (exit 2) otherwise."""
    name, configured = settings.resolve_strategy(strategy)
    known = registry.names("strategies")
    if name not in known:
        raise ConfigError(f"unknown strategy {name!r} (known: {', '.join(known)})")
    check_members(settings, members or ())
    check_members(settings, [options["member"]] if options.get("member") else ())
    built = registry.load("strategies", name)
    given = _ReadOptions(configured | options)
    try:
        built(given)
    except CodequorumError:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise ConfigError(f"strategy {name}: an option has a value it cannot use: {error} "
                          f"(options: {_listed(configured | options)})") from None
    unread = set(given.keys()) - given.read - CONTEXT_OPTIONS
    if unread and built.__module__.startswith("codequorum."):
        raise ConfigError(f"strategy {name} has no option {', '.join(sorted(unread))} "
                          "(docs/strategies.md lists each strategy's options)")
    return name


def check_members(settings: Settings, names: Iterable[str]) -> None:
    unknown = [name for name in names if name not in settings.members]
    if unknown:
        raise ConfigError(f"unknown member(s) {', '.join(unknown)} (configured in {settings.source}: "
                          f"{', '.join(settings.members) or 'none'})")


def _listed(options: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in options.items()) or "none"
