"""What goes wrong before a sandboxed command can start."""

from __future__ import annotations

from codequorum.vocabulary.errors import CodequorumError


class SandboxError(CodequorumError):
    """A sandboxed run could not be set up."""


class SandboxUnavailable(SandboxError):
    """Bubblewrap is missing or cannot create a sandbox on this machine."""
