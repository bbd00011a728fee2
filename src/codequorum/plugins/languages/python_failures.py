"""Python's answer to `FailureLocator`: tracebacks, pytest reports and test-file names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import tree_sitter

from codequorum.plugins.languages.failures import Definition, FailureFrame

# A standard traceback entry:  File "/sandbox/pkg/mod.py", line 3, in add
_TRACEBACK = re.compile(r'^\s*File "(?P<path>[^"]+\.py)", line (?P<line>\d+)(?:, in (?P<function>\S+))?')
# pytest's report lines:  pkg/mod.py:3: in add   /   tests/test_mod.py:7: AssertionError
_PYTEST = re.compile(r"^(?P<path>[^\s:\"]+\.py):(?P<line>\d+): (?:in (?P<function>\S+)|\w+)")


class PythonFailures:
    """Mixed into `PythonLanguage`; relies on its tree-sitter `parse`."""

    if TYPE_CHECKING:
        def parse(self, source: bytes) -> tree_sitter.Tree: ...  # from TreeSitterLanguage

    def failure_frames(self, output: str) -> list[FailureFrame]:
        frames = []
        for row in output.splitlines():
            match = _TRACEBACK.match(row) or _PYTEST.match(row)
            if match:
                frames.append(FailureFrame(match["path"], int(match["line"]), match["function"]))
        return frames

    def is_test_file(self, path: str) -> bool:
        pure = PurePosixPath(path)
        name = pure.name
        return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
                or any(part in ("tests", "test") for part in pure.parts[:-1]))

    def definitions(self, source: str) -> list[Definition]:
        tree = self.parse(source.encode())
        lines = source.split("\n")
        found = []
        for node in _walk(tree.root_node):
            if node.type != "function_definition":
                continue
            name = node.child_by_field_name("name")
            outer = node.parent if node.parent and node.parent.type == "decorated_definition" else node
            row, column = outer.start_point
            indent = lines[row][:column] if row < len(lines) else ""
            found.append(Definition(
                name=name.text.decode() if name is not None and name.text else "",
                start=row + 1,
                end=outer.end_point[0] + 1,
                indent=indent if not indent.strip() else "",
            ))
        return found

    def called_names(self, source: str, line: int, last: int | None = None) -> list[str]:
        tree = self.parse(source.encode())
        last = line if last is None else last
        names = []
        for node in _walk(tree.root_node):
            if node.type != "call" or node.end_point[0] + 1 < line or node.start_point[0] + 1 > last:
                continue
            function = node.child_by_field_name("function")
            if function is not None and function.type == "attribute":
                function = function.child_by_field_name("attribute")
            if function is not None and function.type == "identifier" and function.text:
                names.append(function.text.decode())
        return names


def _walk(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))
