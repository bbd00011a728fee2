"""Running untrusted, model-generated code under bubblewrap (see docs/sandbox.md)."""

from codequorum.sandbox.argv import DEFAULT_WORK_PATH
from codequorum.sandbox.bwrap import bubblewrap_available
from codequorum.sandbox.errors import SandboxError, SandboxUnavailable
from codequorum.sandbox.limits import SandboxLimits
from codequorum.sandbox.result import SandboxResult
from codequorum.sandbox.runner import Sandbox, run_command_json

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
