"""Who the sandboxed process runs as: root hands it to nobody (uid 65534), anyone else keeps theirs."""

from __future__ import annotations

import os
from typing import Any

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534  # nogroup


def drops_privileges() -> bool:
    """Root hands the child to uid 65534; anyone else runs it as themselves."""
    return os.geteuid() == 0


def identity_kwargs(drop_privileges: bool) -> dict[str, Any]:
    """`subprocess.Popen` arguments for the child's identity."""
    # Set before bwrap starts: bwrap's own --uid would still be root outside the user namespace.
    if not drop_privileges:
        return {}
    return {"user": SANDBOX_UID, "group": SANDBOX_GID, "extra_groups": []}
