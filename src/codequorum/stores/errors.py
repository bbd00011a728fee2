"""The one error a store raises."""

from __future__ import annotations

from codequorum.vocabulary.errors import CodequorumError


class StoreError(CodequorumError):
    """A store could not be opened, read or written; the message names it and what to check."""
