"""Running untrusted, model-generated code under bubblewrap (see docs/sandbox.md)."""

from codequorum.sandbox.limits import SandboxLimits
from codequorum.sandbox.result import SandboxResult
from codequorum.sandbox.runner import (
    DEFAULT_WORK_PATH,
    Sandbox,
    SandboxError,
    SandboxUnavailable,
    bubblewrap_available,
    run_command_json,
)

__all__ = [
    "DEFAULT_WORK_PATH",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailable",
    "bubblewrap_available",
    "run_command_json",
]
