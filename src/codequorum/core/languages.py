"""Which language plugin serves a request, resolved once: by an editor's language name, a
file's extension or a markdown fence; and what the plugin says about the cursor's scope.

The detection functions take the loaded plugins as `{name: LanguageClass}` (what
`registry.load_all("languages")` returns) and answer with a plugin name, or None. Attributes
are read with defaults so that a third-party plugin missing one is skipped. The engine's
runtime holds one `Languages` (`Runtime.languages`): the server, the CLI, `fix` and the syntax
check ask it, so each resolves a language the same way, from plugins loaded once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from os import PathLike
from pathlib import PurePath
from typing import Any

from codequorum.core.registry import Registry
from codequorum.vocabulary.scope import Scope, scope_at

log = logging.getLogger(__name__)


class Languages:
    """The enabled language plugins, instantiated once each."""

    def __init__(self, registry: Registry) -> None:
        self._classes: dict[str, Any] = registry.load_all("languages")
        self._instances: dict[str, Any] = {}  # None: the plugin failed to start
        self._lock = threading.Lock()  # checks ask from worker threads

    @property
    def classes(self) -> Mapping[str, Any]:
        return self._classes

    def name_for(self, language_id: str | None, path: PurePath | None) -> str | None:
        """The plugin name for an editor's language id, else for the file's extension."""
        name = language_for_name(language_id, self._classes) if language_id else None
        if name is None and path is not None:
            name = language_for_path(path, self._classes)
        return name or language_id or None

    def plugin(self, name: str | None) -> Any | None:
        """The plugin's one instance; None for an unknown name or a plugin that failed to start
        (a broken plugin costs its evidence, not the request)."""
        if name is None or name not in self._classes:
            return None
        with self._lock:
            if name not in self._instances:
                self._instances[name] = _create(self._classes[name], name)
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


def _create(language_class: type, name: str) -> Any | None:
    try:
        return language_class()
    except Exception:  # a broken plugin must cost its evidence, not the request
        log.exception("language plugin %r could not be created", name)
        return None


def language_for_path(path: str | PathLike[str], languages: Mapping[str, type]) -> str | None:
    """The plugin claiming the file's extension; the longest match wins (".d.ts" over ".ts")."""
    filename = PurePath(path).name.lower()
    best: tuple[int, str] | None = None
    for name, language in languages.items():
        for extension in getattr(language, "extensions", ()):
            if filename.endswith(extension.lower()) and (best is None or len(extension) > best[0]):
                best = (len(extension), name)
    return best[1] if best else None


def language_for_fence(tag: str, languages: Mapping[str, type]) -> str | None:
    """The plugin for a fence's info string: "```py", "```python title=x", "```{.rust}"."""
    words = tag.strip().split()
    if not words:
        return None
    word = words[0].strip("{}").lstrip(".").lower()
    return _first_claiming(word, languages, ("markdown_tags",))


def language_for_name(name: str, languages: Mapping[str, type]) -> str | None:
    """The plugin for a language name as editors and users write it ("python", "c", "js")."""
    return _first_claiming(name.strip().lower(), languages, ("aliases", "markdown_tags"))


def _first_claiming(
    word: str, languages: Mapping[str, type], fields: tuple[str, ...]
) -> str | None:
    if word in languages:
        return word
    for field in fields:
        for name, language in languages.items():
            if word in (tag.lower() for tag in getattr(language, field, ())):
                return name
    return None
