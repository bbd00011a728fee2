"""Which language plugin handles a file, a markdown fence or an editor's language name.

Each function takes the loaded plugins as `{name: LanguageClass}` (what
`registry.load_all("languages")` returns) and answers with a plugin name, or None.
Attributes are read with defaults so that a third-party plugin missing one is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import PurePath


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
