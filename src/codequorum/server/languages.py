"""Which language plugin serves a document, and what it says about the cursor's scope."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from codequorum.core.registry import Registry
from codequorum.plugins.languages.detect import language_for_name, language_for_path
from codequorum.vocabulary.scope import Scope, scope_at

log = logging.getLogger(__name__)


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
        """"line" where the cursor's line is to be finished, else "block".

        The language plugin decides; a plugin that is missing or fails leaves the decision
        to the plain-text rule every plugin starts from (`core.scope.scope_at`).
        """
        plugin = self.plugin(name)
        if plugin is not None:
            try:
                scope: Scope = plugin.completion_scope(prefix, suffix)
                return scope
            except Exception:  # a broken plugin must not cost the user the completion
                log.exception("language plugin %s failed to decide the completion scope", name)
        return scope_at(prefix, suffix)

    def comment_prefix(self, name: str | None) -> str:
        plugin_class = self._classes.get(name or "")
        return str(getattr(plugin_class, "comment_prefix", "#" if name in (None, "python") else "//"))
