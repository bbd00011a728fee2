"""Which language plugin serves a document, and what it says about the cursor's scope."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from codequorum.core.registry import Registry
from codequorum.plugins.languages.detect import language_for_name, language_for_path
from codequorum.server.suggestions import Scope

log = logging.getLogger(__name__)

_BLOCK_OPENERS = (":", "{", "(", "[")


class Languages:
    """The enabled language plugins, instantiated once each."""

    def __init__(self, registry: Registry) -> None:
        self._classes: dict[str, Any] = registry.load_all("languages")
        self._instances: dict[str, Any] = {}

    def name_for(self, language_id: str | None, path: PurePath | None) -> str | None:
        """The plugin name for an editor's language id, else for the file's extension."""
        name = language_for_name(language_id, self._classes) if language_id else None
        if name is None and path is not None:
            name = language_for_path(path, self._classes)
        return name or language_id or None

    def plugin(self, name: str | None) -> Any | None:
        if name is None or name not in self._classes:
            return None
        if name not in self._instances:
            self._instances[name] = self._classes[name]()
        return self._instances[name]

    def scope(self, name: str | None, prefix: str, suffix: str) -> Scope:
        """"block" where the cursor expects new statements, else "line".

        The language plugin decides from the syntax tree; a plugin that is missing or fails
        leaves the decision to a plain-text rule.
        """
        plugin = self.plugin(name)
        if plugin is not None:
            try:
                scope: Scope = plugin.completion_scope(prefix, suffix)
                return scope
            except Exception:  # a broken plugin must not cost the user the completion
                log.exception("language plugin %s failed to decide the completion scope", name)
        return fallback_scope(prefix, suffix)

    def comment_prefix(self, name: str | None) -> str:
        plugin_class = self._classes.get(name or "")
        return str(getattr(plugin_class, "comment_prefix", "#" if name in (None, "python") else "//"))


def fallback_scope(prefix: str, suffix: str) -> Scope:
    """Text after the cursor on its line, or a line already begun, means "finish this line"."""
    line_before = prefix.rpartition("\n")[2]
    line_after = suffix.partition("\n")[0]
    if line_after.strip():
        return "line"
    if not line_before.strip() or line_before.rstrip().endswith(_BLOCK_OPENERS):
        return "block"
    return "line"
