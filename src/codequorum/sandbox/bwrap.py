"""Finding bubblewrap and probing, once, whether it can create a sandbox on this machine."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

from codequorum.sandbox.argv import isolation_flags, system_mounts
from codequorum.sandbox.errors import SandboxUnavailable
from codequorum.sandbox.identity import drops_privileges, identity_kwargs

INSTALL_HINT = (
    "install it with `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`"
)
NAMESPACE_HINT = (
    "bubblewrap needs unprivileged user namespaces: `sysctl user.max_user_namespaces` must be above 0, "
    "`kernel.unprivileged_userns_clone` (older Debian kernels) must be 1, and on Ubuntu 24.04+ "
    "`kernel.apparmor_restrict_unprivileged_userns` must be 0 or bwrap needs an AppArmor profile; "
    "inside Docker the default seccomp profile blocks them"
)


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def bubblewrap_available() -> bool:
    """Whether bwrap is installed and can actually create a sandbox here."""
    bwrap = find_bwrap()
    if bwrap is None:
        return False
    try:
        probe(bwrap, drops_privileges())
    except SandboxUnavailable:
        return False
    return True


@functools.cache
def probe(bwrap: str, drop_privileges: bool) -> bool:
    """Start one empty sandbox; returns whether bwrap is 0.8+ (--disable-userns, --size).

    Raises SandboxUnavailable (not cached, so a fixed machine recovers) when bwrap fails.
    """
    recent = bwrap_version(bwrap) >= (0, 8)
    argv = [bwrap, *isolation_flags(recent), *system_mounts(), "--", "/usr/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                              **identity_kwargs(drop_privileges))
        problem = done.stderr.strip() if done.returncode != 0 else None
    except (OSError, subprocess.SubprocessError) as error:
        problem = str(error)
    if problem is not None:
        raise SandboxUnavailable(
            f"bubblewrap ({bwrap}) cannot create a sandbox here: {problem}. {NAMESPACE_HINT}"
        )
    return recent


def bwrap_version(bwrap: str) -> tuple[int, ...]:
    try:
        done = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxUnavailable(f"bubblewrap ({bwrap}) does not run: {error}") from error
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", done.stdout)
    return tuple(int(part) for part in match.groups() if part) if match else (0,)
