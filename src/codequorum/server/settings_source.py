"""Settings for a session: the configuration file, with the client's options laid over it.

Clients send settings in the TOML schema as JSON (`initializationOptions`,
`workspace/didChangeConfiguration`), either bare or under a "codequorum" key as editors that
group settings by extension do. A network client's options (TCP or WebSocket, loopback
included) go through the allow-list of `client_settings`: only the keys it allows are laid over
the file, the others are refused and reported, never applied. The stdio client is the editor
that started the server as the user's own process, but its settings may come from a workspace
(a repository's editor settings): it gets the same allow-list, plus switching the server's own
members on and off and the engine's request knobs; it never defines a member, a path or a limit.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codequorum.config import Settings, find_config_file, parse_strategy_spec, settings_from_dict
from codequorum.core.registry import Registry
from codequorum.server.client_settings import Refused, screen
from codequorum.vocabulary.errors import ConfigError

SECTION = "codequorum"


@dataclass(frozen=True)
class ClientSettings:
    """The settings a client's options give, and the options refused (not applied)."""

    settings: Settings
    refused: tuple[Refused, ...] = ()


class SettingsSource:
    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    @classmethod
    def load(cls, explicit: Path | None = None) -> SettingsSource:
        """The configuration file that `--config`, the environment or the defaults name."""
        path = find_config_file(explicit)
        if path is None:
            return cls({}, "built-in defaults")
        try:
            return cls(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from error
        except OSError as error:
            raise ConfigError(f"{path}: cannot be read: {error}") from error

    def settings(self) -> Settings:
        return settings_from_dict(self.data, self.source)

    def with_options(self, options: object, origin: str, trusted: bool = False) -> ClientSettings:
        """The file's settings with the allowed keys of `options` laid over them (`trusted`:
        the stdio client, which may also switch members and tune the engine; see
        `client_settings.py`); ConfigError names `origin` when the options are not an object."""
        layer = client_settings(options, origin)
        source = origin if self.source == "built-in defaults" else f"{origin} over {self.source}"
        base = self.settings()
        screened = screen(layer, base, lambda: strategy_names(base), own_editor=trusted)
        layer, refused = screened.layer(), screened.refused
        settings = settings_from_dict(deep_merge(self.data, layer), source)
        check_names(settings)
        return ClientSettings(settings, refused)


def strategy_names(settings: Settings) -> set[str]:
    return set(Registry(disabled=frozenset(settings.plugins.disabled)).names("strategies"))


def check_names(settings: Settings) -> None:
    """Strategies and members the server settings name must exist: found now, not at the
    first keystroke."""
    strategies = strategy_names(settings)
    named = {"[engine] strategy": settings.engine.strategy,
             "[server] inline_strategy": settings.server.inline_strategy,
             "[server] generate_strategy": settings.server.generate_strategy}
    for key, name in named.items():
        if name is not None and parse_strategy_spec(name)[0] not in strategies:
            raise ConfigError(f"{settings.source}: {key} = {name!r} is not a strategy "
                              f"(known: {', '.join(sorted(strategies))})")
    unknown = [m for m in settings.server.inline_members or [] if m not in settings.members]
    if unknown:
        raise ConfigError(f"{settings.source}: [server] inline_members names unknown member(s) "
                          f"{', '.join(unknown)} (members: {', '.join(settings.members)})")


def client_settings(options: object, origin: str) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ConfigError(f"{origin}: expected an object with codequorum settings, got {options!r}")
    nested = options.get(SECTION)
    return nested if isinstance(nested, dict) else options


def deep_merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
