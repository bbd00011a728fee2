from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# The fixture projects carry tests of their own, failing on purpose (`codequorum fix` repairs
# them in the sandbox): they are data, not part of this suite.
collect_ignore = ["fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _a_user_data_dir_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """What the commands keep for the user (feedback, router memory, verified answers) goes to
    a folder of the suite's own, for the processes the tests start too, never to the user's."""
    patch = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("user-data")
    patch.setenv("XDG_DATA_HOME", str(data))
    yield data
    patch.undo()
