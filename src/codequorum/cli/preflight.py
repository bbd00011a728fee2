"""Usage errors found before any model runs: the strategy, its options and the members named.

A strategy's options are checked against its options model (`core/strategy_options.py`: a key
it does not take, `sampels=3`, or a value it cannot use, `samples=abc`) and the strategy is built
once with them (`threshold=2`), at no cost: no model is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from codequorum.config import Settings
from codequorum.core.registry import Registry
from codequorum.core.strategy_options import strategy_options
from codequorum.vocabulary.errors import CodequorumError, ConfigError

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
    plugin = registry.load("strategies", name)
    given = configured | options
    try:
        plugin(strategy_options(name, plugin, given))
    except CodequorumError:
        raise
    except (TypeError, ValueError, KeyError) as error:  # a plugin without an options model
        raise ConfigError(f"strategy {name}: an option has a value it cannot use: {error} "
                          f"(options: {_listed(given)})") from None
    return name


def check_members(settings: Settings, names: Iterable[str]) -> None:
    unknown = [name for name in names if name not in settings.members]
    if unknown:
        raise ConfigError(f"unknown member(s) {', '.join(unknown)} (configured in {settings.source}: "
                          f"{', '.join(settings.members) or 'none'})")


def _listed(options: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in options.items()) or "none"
