"""A session keyring of its own for every sandboxed process (keyctl JOIN_SESSION_KEYRING).

A child inherits its parent's session keyring and, as a possessor, may search and read the keys
in it and add its own, whatever its uid and in whatever namespaces: without a keyring of its
own, sandboxed code could read the server's keys (measured: a key the server process held was
read back by `keyctl(KEYCTL_READ)` from inside bubblewrap) and plant keys that the next sandbox
finds. Kernel keyrings are not namespaced by bubblewrap, so this is done between fork and exec.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
from collections.abc import Callable

KEYCTL_JOIN_SESSION_KEYRING = 1
# keyctl is not wrapped by glibc: its system call number, per architecture.
_KEYCTL_SYSCALL = {"x86_64": 250, "aarch64": 219, "arm64": 219, "riscv64": 219, "i386": 288,
                   "i686": 288, "armv7l": 311, "ppc64le": 271, "s390x": 280}
# keyctl refused outright (seccomp, a kernel without keys): the child cannot use keys either.
_KEYS_UNAVAILABLE = (errno.ENOSYS, errno.EPERM, errno.EACCES)


def _prepared() -> Callable[[], int] | None:
    """The foreign call, set up once at import, so that the child only has to call it."""
    number = _KEYCTL_SYSCALL.get(platform.machine())
    if number is None:
        return None
    try:
        syscall = ctypes.CDLL(None, use_errno=True).syscall
    except (OSError, AttributeError):
        return None
    syscall.restype = ctypes.c_long
    syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p]
    return lambda: syscall(number, KEYCTL_JOIN_SESSION_KEYRING, None)


_JOIN = _prepared()


def join_new_session_keyring() -> None:
    """Give this process a new, empty, anonymous session keyring; fail closed if that fails.

    Runs in the child between fork and exec (preexec_fn): one foreign call, nothing else.
    """
    if _JOIN is None or _JOIN() >= 0:
        return
    code = ctypes.get_errno()
    if code not in _KEYS_UNAVAILABLE:
        raise OSError(code, f"cannot give the sandbox a session keyring of its own: {os.strerror(code)}")
