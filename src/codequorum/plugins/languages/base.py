"""Language plugins built on tree-sitter grammars.

A language answers three questions about code at a cursor: does a snippet parse there
(`insertion_verdict`), how many syntax errors a document has (`syntax_issues`), and whether
the cursor expects a whole block or just the rest of a line (`completion_scope`).
All offsets inside this module are UTF-8 byte offsets, as tree-sitter reports them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, runtime_checkable

import tree_sitter

from codequorum.plugins.languages.indentation import misindented
from codequorum.vocabulary.scope import Scope, scope_at

# "${" opens a substitution inside a JavaScript/TypeScript template string.
OPENERS = {"(": ")", "[": "]", "{": "}", "${": "}"}
CLOSERS = frozenset(OPENERS.values())
# Tokens that open a string; Python's grammar calls its opening quote "string_start".
QUOTES = frozenset({'"', "'", "`", '"""', "'''", "string_start"})
LITERALS = frozenset({
    "string", "template_string", "string_literal", "raw_string_literal",
    "interpreted_string_literal", "char_literal", "character_literal", "rune_literal",
    "text_block",
})


@dataclass(frozen=True)
class SyntaxVerdict:
    """What inserting a snippet at the cursor does to the document's syntax."""

    ok: bool  # the snippet adds no syntax error to the document
    new_errors: int  # ERROR/MISSING nodes the snippet added
    balanced: bool  # the snippet closes every bracket, string and comment it opens
    complete: bool  # the snippet ends where a statement or block ends


@runtime_checkable
class Language(Protocol):
    """What the rest of codequorum needs from a language plugin."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]  # with the dot: ".py"
    comment_prefix: ClassVar[str]  # "#" or "//"
    markdown_tags: ClassVar[tuple[str, ...]]  # fence names: "python", "py"

    def syntax_issues(self, source: str) -> int: ...

    def insertion_verdict(self, prefix: str, snippet: str, suffix: str) -> SyntaxVerdict: ...

    def completion_scope(self, prefix: str, suffix: str) -> Scope: ...


@dataclass(frozen=True)
class _Span:
    start: int
    end: int

    def touches(self, other: _Span) -> bool:
        return self.start <= other.end and other.start <= self.end

    def widened(self, source: bytes) -> _Span:
        """The span grown over the whitespace around it: error recovery places a MISSING
        token right after the last real token, which may be lines before the cursor."""
        start, end = self.start, self.end
        while start > 0 and source[start - 1:start].isspace():
            start -= 1
        while end < len(source) and source[end:end + 1].isspace():
            end += 1
        return _Span(start, end)


@dataclass(frozen=True)
class _Issue:
    """An ERROR or MISSING node, or an empty required body."""

    span: _Span
    origin: int  # where the broken construct starts: the ERROR itself, or a MISSING's parent

    @classmethod
    def of(cls, node: tree_sitter.Node) -> _Issue:
        owner = node.parent if node.start_byte == node.end_byte and node.parent else node
        return cls(_Span(node.start_byte, node.end_byte), owner.start_byte)


@dataclass(frozen=True)
class _Insertion:
    """A document parsed with a snippet inserted at `start`; the snippet ends at `end`."""

    source: bytes
    start: int
    end: int
    tree: tree_sitter.Tree

    @property
    def root(self) -> tree_sitter.Node:
        return self.tree.root_node

    @property
    def content_start(self) -> int:
        text = self.source[self.start:self.end]
        return self.start + len(text) - len(text.lstrip())

    @property
    def content_end(self) -> int:
        return self.start + len(self.source[self.start:self.end].rstrip())

    def to_original(self, span: _Span) -> _Span:
        """The span in the document without the snippet; snippet text collapses to `start`."""
        return _Span(self._map(span.start), self._map(span.end))

    def made_by_snippet(self, issue: _Issue) -> bool:
        """True for an issue in a construct the snippet started, so new whatever its place."""
        return self.start <= issue.origin < self.end

    def _map(self, offset: int) -> int:
        if offset <= self.start:
            return offset
        if offset >= self.end:
            return offset - (self.end - self.start)
        return self.start


class TreeSitterLanguage(ABC):
    """Base of the built-in languages: one instance per language, safe to share across threads.

    Subclasses set the class attributes and return their grammar from `grammar()`.
    """

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    comment_prefix: ClassVar[str]
    markdown_tags: ClassVar[tuple[str, ...]]
    aliases: ClassVar[tuple[str, ...]] = ()  # other names editors use (LSP language ids)
    body_types: ClassVar[frozenset[str]]  # nodes holding a list of statements or members
    block_openers: ClassVar[tuple[str, ...]] = ("{", ":")  # a body may follow these on a line
    scope_probes: ClassVar[tuple[str, ...]]  # items that parse only where a body is expected
    # Body nodes the grammar accepts empty although the language does not (Python's block).
    required_bodies: ClassVar[tuple[str, ...]] = ()
    block_comment_opener: ClassVar[str | None] = "/*"
    # Blocks are made by indentation (Python): misaligned statements are issues the grammar
    # does not report (`indentation.py`).
    indentation_blocks: ClassVar[bool] = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._language: tree_sitter.Language | None = None
        self._queries: dict[str, tree_sitter.Query] = {}  # by pattern text, built on first use
        self._local = threading.local()  # tree-sitter parsers must not be shared by threads

    @abstractmethod
    def grammar(self) -> object:
        """The grammar capsule from the language's tree-sitter package."""

    @property
    def ts_language(self) -> tree_sitter.Language:
        with self._lock:
            if self._language is None:
                self._language = tree_sitter.Language(self.grammar())
            return self._language

    def parse(self, source: bytes) -> tree_sitter.Tree:
        parser: tree_sitter.Parser | None = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = tree_sitter.Parser(self.ts_language)
        return parser.parse(source)

    def syntax_issues(self, source: str) -> int:
        """Number of ERROR and MISSING nodes, empty required bodies and (where blocks are made
        by indentation) misindented statements in `source`."""
        encoded = source.encode()
        return len(self._issues(self.parse(encoded).root_node, encoded))

    def insertion_verdict(self, prefix: str, snippet: str, suffix: str) -> SyntaxVerdict:
        before = self._issues_without_snippet(prefix, suffix)
        after = self._insert(prefix, snippet, suffix)
        new_errors = self._new_issues(before, after)
        balanced = self._balanced(after)
        return SyntaxVerdict(
            ok=new_errors == 0,
            new_errors=new_errors,
            balanced=balanced,
            # A snippet that leaves a block or string open stops inside it, not at a boundary.
            complete=balanced and self._ends_an_item(after),
        )

    def completion_scope(self, prefix: str, suffix: str) -> Scope:
        """"line" where the cursor's line is to be finished, "block" where whole lines go.

        The text rule (`core.scope.scope_at`) first: only indentation before the cursor (an
        empty line, or the start of a line in front of existing code) is a block; code on
        both sides of it is a line. At the end of a line already begun, the syntax tree
        decides: a body may follow this language's block openers, else the line ends there.
        """
        line_before = prefix.rpartition("\n")[2]
        if not line_before.strip() or scope_at(prefix, suffix) == "line":
            return scope_at(prefix, suffix)
        if not line_before.rstrip().endswith(self.block_openers):
            return "line"
        return "block" if self._statement_fits(prefix, suffix) else "line"

    # -- syntax issues ---------------------------------------------------------------------

    def _issues(self, node: tree_sitter.Node, source: bytes) -> list[_Issue]:
        found = [_Issue.of(n) for n in _error_nodes(node)]
        found += [_Issue.of(n) for n in self._empty_bodies(node)]
        if self.indentation_blocks:
            found += [_Issue(_Span(start, end), start) for start, end in misindented(source, self._bodies(node))]
        return found

    def _bodies(self, node: tree_sitter.Node) -> list[tree_sitter.Node]:
        return self._captured_bodies(node, sorted(self.body_types))

    def _empty_bodies(self, node: tree_sitter.Node) -> list[tree_sitter.Node]:
        if not self.required_bodies:
            return []
        return [body for body in self._captured_bodies(node, self.required_bodies)
                if body.start_byte == body.end_byte]

    def _captured_bodies(self, node: tree_sitter.Node, kinds: Sequence[str]) -> list[tree_sitter.Node]:
        """The nodes of these kinds under `node` (itself included)."""
        patterns = " ".join(f"({kind}) @body" for kind in kinds)
        query = self._queries.get(patterns)
        if query is None:
            query = self._queries[patterns] = tree_sitter.Query(self.ts_language, patterns)
        return tree_sitter.QueryCursor(query).captures(node).get("body", [])

    def _issues_without_snippet(self, prefix: str, suffix: str) -> list[_Span]:
        source = (prefix + suffix).encode()
        return [issue.span.widened(source) for issue in self._issues(self.parse(source).root_node, source)]

    def _insert(self, prefix: str, snippet: str, suffix: str) -> _Insertion:
        head, body = prefix.encode(), snippet.encode()
        source = head + body + suffix.encode()
        return _Insertion(source, len(head), len(head) + len(body), self.parse(source))

    def _new_issues(self, before: list[_Span], after: _Insertion) -> int:
        # An issue overlapping one the document already had is the same broken spot, moved or
        # resized by error recovery; comparing places rather than counts lets a snippet that
        # repairs a broken spot (or leaves it alone) pass while one that breaks code fails.
        count = 0
        for issue in self._issues(after.root, after.source):
            moved = after.to_original(issue.span)
            if after.made_by_snippet(issue) or not any(moved.touches(old) for old in before):
                count += 1
        return count

    # -- balance and completeness ----------------------------------------------------------

    def _balanced(self, ins: _Insertion) -> bool:
        if _opens_literal(ins) or self._opens_block_comment(ins):
            return False
        return _brackets_balanced(_tokens_up_to(ins.root, ins.end), ins.start)

    def _opens_block_comment(self, ins: _Insertion) -> bool:
        """True when the snippet has a comment opener that is not inside a literal or comment.

        Grammars do not recover an unclosed `/*` as a comment: it lexes as a `/` operator.
        """
        if not self.block_comment_opener:
            return False
        opener = self.block_comment_opener.encode()
        at = ins.source.find(opener, ins.start, ins.end)
        while at != -1:
            if not _inside_literal(ins.root.descendant_for_byte_range(at, at + 1)):
                return True
            at = ins.source.find(opener, at + 1, ins.end)
        return False

    def _ends_an_item(self, ins: _Insertion) -> bool:
        """True when the statement or member holding the snippet's last token ends with the
        snippet, or on the same line (text after the cursor may finish it), without errors."""
        if ins.content_end <= ins.content_start:
            return False
        last = ins.root.descendant_for_byte_range(ins.content_end - 1, ins.content_end)
        if last is None:
            return False
        item = self._enclosing_item(last)
        line_end = ins.source.find(b"\n", ins.content_end)
        line_end = len(ins.source) if line_end == -1 else line_end
        return item.end_byte <= line_end and not self._issues(item, ins.source)

    def _enclosing_item(self, node: tree_sitter.Node) -> tree_sitter.Node:
        """The statement, declaration or member that holds `node`."""
        while node.parent is not None and node.parent.type not in self.body_types:
            node = node.parent
        return node

    # -- completion scope ------------------------------------------------------------------

    def _statement_fits(self, prefix: str, suffix: str) -> bool:
        before = self._issues_without_snippet(prefix, suffix)
        return any(self._probe_fits(before, self._insert(prefix, probe, suffix))
                   for probe in self._probes(prefix, suffix))

    def _probe_fits(self, before: list[_Span], ins: _Insertion) -> bool:
        return (self._new_issues(before, ins) == 0 and not _errors_around(ins)
                and self._is_body_item(ins))

    def _probes(self, prefix: str, suffix: str) -> Iterator[str]:
        yield from self.scope_probes
        # A cursor at column 0 of a blank line inside an indented block: try the probe at the
        # indentation of the code that follows, as the editor would indent the completion.
        indent = _next_line_indent(suffix)
        if indent and (not prefix or prefix.endswith("\n")):
            yield from (indent + probe for probe in self.scope_probes)

    def _is_body_item(self, ins: _Insertion) -> bool:
        """True when the probe parsed as a whole statement/member of a body."""
        node = ins.root.descendant_for_byte_range(ins.content_start, ins.content_start + 1)
        if node is None:
            return False
        while node.parent is not None and node.parent.type not in self.body_types:
            node = node.parent
            if node.start_byte < ins.content_start or node.end_byte > ins.content_end:
                return False
        inside = ins.content_start <= node.start_byte and node.end_byte <= ins.content_end
        return node.parent is not None and inside


def _error_nodes(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
        if node.has_error:
            stack.extend(node.children)


def _errors_around(ins: _Insertion) -> bool:
    """True when an error touches the inserted text, other than a closer missing after it.

    Error recovery can parse a probe as a statement next to an ERROR that swallowed the line
    before it (`d = {"a":` then `pass`); such a spot does not expect a body.
    """
    span = _Span(ins.start, ins.end)
    for node in _error_nodes(ins.root):
        if node.is_missing and node.start_byte >= ins.end:
            continue
        if span.touches(_Span(node.start_byte, node.end_byte).widened(ins.source)):
            return True
    return False


def _tokens_up_to(root: tree_sitter.Node, limit: int) -> Iterator[tree_sitter.Node]:
    """Leaf tokens that start before `limit` (MISSING ones up to it), in document order."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.start_byte > limit or (node.start_byte == limit and not node.is_missing):
            continue
        if node.child_count == 0:
            yield node
        else:
            stack.extend(reversed(node.children))


def _brackets_balanced(tokens: Iterator[tree_sitter.Node], snippet_start: int) -> bool:
    """Scan tokens up to the snippet's end: the snippet may close brackets the prefix opened,
    but every bracket it opens must close inside it, and no closer may mismatch."""
    stack: list[tuple[str, bool]] = []  # (expected closer, opened by the snippet)
    for token in tokens:
        in_snippet = token.start_byte >= snippet_start
        if token.is_missing:
            if _is_quote_the_snippet_left_open(token, snippet_start):
                return False
        elif token.type in OPENERS:
            stack.append((OPENERS[token.type], in_snippet))
        elif token.type in CLOSERS:
            if in_snippet and not _close_strictly(stack, token.type):
                return False
            if not in_snippet:
                _close_leniently(stack, token.type)
        elif in_snippet and _is_unterminated_quote(token):
            return False
    return not any(opened_by_snippet for _, opened_by_snippet in stack)


def _close_strictly(stack: list[tuple[str, bool]], closer: str) -> bool:
    if not stack or stack[-1][0] != closer:
        return False
    stack.pop()
    return True


def _close_leniently(stack: list[tuple[str, bool]], closer: str) -> None:
    """The prefix may itself be broken: drop unclosed openers up to a matching one, if any."""
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth][0] == closer:
            del stack[depth:]
            return


def _is_quote_the_snippet_left_open(missing: tree_sitter.Node, snippet_start: int) -> bool:
    string = missing.parent
    return missing.type in QUOTES and string is not None and string.start_byte >= snippet_start


def _is_unterminated_quote(token: tree_sitter.Node) -> bool:
    # Grammars recover from a string that never ends by wrapping its opening quote in ERROR.
    return token.type in QUOTES and token.parent is not None and token.parent.is_error


def _opens_literal(ins: _Insertion) -> bool:
    """True when a string or comment starting in the snippet runs on past its end."""
    if ins.content_end <= ins.content_start:
        return False
    node = ins.root.descendant_for_byte_range(ins.content_end - 1, ins.content_end)
    while node is not None:
        if _is_literal(node) and node.start_byte >= ins.start and node.end_byte > ins.content_end:
            return True
        node = node.parent
    return False


def _inside_literal(node: tree_sitter.Node | None) -> bool:
    while node is not None:
        if _is_literal(node):
            return True
        node = node.parent
    return False


def _is_literal(node: tree_sitter.Node) -> bool:
    return node.type in LITERALS or "comment" in node.type or "regex" in node.type


def _next_line_indent(suffix: str) -> str:
    for line in suffix.split("\n"):
        if line.strip():
            return line[: len(line) - len(line.lstrip())]
    return ""
