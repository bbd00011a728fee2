"""Finds plugins by kind and name through entry points, as for any third-party package."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

from codequorum.vocabulary.errors import PluginError

log = logging.getLogger(__name__)

# Each plugin kind and the entry-point group a package registers it under.
GROUPS = {
    "backends": "codequorum.backends",
    "strategies": "codequorum.strategies",
    "checks": "codequorum.checks",
    "languages": "codequorum.languages",
}

PluginKind = Literal["backends", "strategies", "checks", "languages"]

_SINGULAR = {"backends": "backend", "strategies": "strategy", "checks": "check",
             "languages": "language"}


@dataclass
class Registry:
    """Entry points per plugin kind; objects are imported on first use and cached.

    `disabled` holds "kind.name" strings (e.g. "checks.syntax") from the settings.
    """

    disabled: frozenset[str] = frozenset()
    _loaded: dict[tuple[str, str], Any] = field(default_factory=dict)

    def register(self, kind: PluginKind, name: str, plugin: Any) -> None:
        """Add a plugin in code (an embedding application, a test) next to the entry points."""
        self._loaded[(kind, name)] = plugin

    def names(self, kind: PluginKind) -> list[str]:
        registered = {name for (k, name) in self._loaded if k == kind}
        found = {ep.name for ep in entry_points(group=GROUPS[kind])}
        return sorted(name for name in registered | found if self.enabled(kind, name))

    def enabled(self, kind: PluginKind, name: str) -> bool:
        return f"{kind}.{name}" not in self.disabled

    def load(self, kind: PluginKind, name: str) -> Any:
        if not self.enabled(kind, name):
            raise PluginError(f"{_SINGULAR[kind]} plugin {name!r} is disabled in [plugins] disabled")
        key = (kind, name)
        if key not in self._loaded:
            self._loaded[key] = self._import(kind, name)
        return self._loaded[key]

    def load_all(self, kind: PluginKind) -> dict[str, Any]:
        """Every enabled plugin of a kind; one that fails to import is logged and left out."""
        plugins: dict[str, Any] = {}
        for name in self.names(kind):
            try:
                plugins[name] = self.load(kind, name)
            except PluginError as error:
                log.error("%s", error)
        return plugins

    def _import(self, kind: PluginKind, name: str) -> Any:
        matches: list[EntryPoint] = [
            ep for ep in entry_points(group=GROUPS[kind]) if ep.name == name
        ]
        if not matches:
            available = ", ".join(self.names(kind)) or "none"
            raise PluginError(f"no {_SINGULAR[kind]} plugin named {name!r} (available: {available})")
        try:
            return matches[0].load()
        except Exception as error:  # a broken third-party plugin must not take us down
            raise PluginError(
                f"{_SINGULAR[kind]} plugin {name!r} ({matches[0].value}) failed to load: {error}"
            ) from error
