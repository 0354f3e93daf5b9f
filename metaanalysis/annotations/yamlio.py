"""Safe, bounded YAML loading that remembers where every value came from.

Annotation files arrive by pull request, so the loader treats them as hostile input:

* It builds on PyYAML's safe constructor: no Python objects are ever constructed. Events come
  from libyaml's C parser when available (iterative, ~10x faster) or PyYAML's pure-Python one;
  composing always runs the bounded Python code here, so both behave the same. Beyond
  that, *any* tag other than the plain YAML types (str, int, float, bool, null, map, seq and the
  implicit timestamp) is rejected, explicit ``!!binary``/``!!set``/``!!omap``/local ``!tags``
  included, so a file means the same thing in every YAML library.
* Input is bounded: a file larger than :data:`MAX_BYTES` is refused before parsing; a document
  with more than :data:`MAX_ALIASES` aliases, nested deeper than :data:`MAX_DEPTH`, or whose
  aliases would expand to more than :data:`MAX_NODES` nodes (the "billion laughs" bomb) is
  refused while composing, before anything is built. Each error names the bound.
* YAML 1.1's number and date traps are reported with their field: an integer must be written
  as a plain decimal (``^-?[0-9]+$``, no leading zero), because YAML 1.1 silently reads ``010``
  as the octal 8, ``0x7e6`` as 2022, ``1_2`` as 12 and ``1:30`` as 90 (base 60); an unquoted
  impossible date (``2022-02-30``) is reported with its field instead of aborting the file;
  a number longer than :data:`MAX_NUMBER_CHARS` characters is refused (Python would otherwise
  fail with its int-to-string digit limit). These are non-fatal problems of kind ``"value"``.
* Duplicate keys inside one mapping are reported with their full path (``setups[0].seeds``;
  plain PyYAML silently keeps the last), as are merge keys (``<<``), which would make duplicate
  detection ambiguous.
* A syntax error keeps the parser's line and words and leads with a plain hint at the likely
  cause (a tab, an unquoted ``: `` in a value, a missing ``- ``, an unclosed quote or bracket;
  :mod:`metaanalysis.annotations.syntax`).
* Mappings load as :class:`LineDict` and sequences as :class:`LineList`: ordinary ``dict``/``list``
  subclasses that carry the 1-based line of each key/item and the source text of scalar values.
  Validation maps a pydantic error location back to ``FILE:LINE`` with
  :func:`metaanalysis.annotations.locate.line_of`, and
  :func:`~metaanalysis.annotations.locate.quote_hint` explains YAML 1.1's traps (``2310.10010``
  is a float, ``no`` a boolean).

Problems that do not stop loading (duplicate keys, non-string keys) are collected in
:attr:`LoadResult.problems`; fatal ones raise :class:`YamlLoadError` with a line number.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .syntax import syntax_hint

#: largest annotation file accepted, in bytes (a paper record is a few KiB)
MAX_BYTES = 1_000_000
#: most aliases (``*name``) accepted in one document
MAX_ALIASES = 100
#: deepest nesting of mappings/sequences accepted
MAX_DEPTH = 50
#: most nodes a document may hold, counting each alias as a copy of what it points to
MAX_NODES = 100_000
#: longest number accepted, in characters (Python refuses ints of more than 4300 digits anyway)
MAX_NUMBER_CHARS = 100
#: what an integer must look like in an annotation file: a plain decimal, no leading zero
PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")

_TAG = "tag:yaml.org,2002:"
#: the only tags a node may carry (explicitly or by implicit resolution)
ALLOWED_TAGS = frozenset(
    _TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


def _too_deep() -> str:
    return f"nesting deeper than {MAX_DEPTH} levels; refused (limit {MAX_DEPTH})"


class YamlLoadError(Exception):
    """A file that cannot be loaded at all; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class LoadProblem:
    """A problem found while loading that does not prevent using the document.

    ``kind`` is ``"value"`` for a problem with one scalar value (an integer written in a YAML
    1.1 form such as ``010`` or ``0x7e6``, an impossible date, an overlong number): validation
    then shows it instead of pydantic's less specific error on the same field.
    """

    line: int
    field: str
    message: str
    kind: str = ""


class LineDict(dict):
    """A dict that remembers the line of each key and the source text of scalar values
    (``quoted``: the keys whose value was a quoted scalar)."""

    line: int = 1
    key_lines: dict[Any, int]
    raw: dict[Any, str]
    quoted: set[Any]


class LineList(list):
    """A list that remembers the line of each item and the source text of scalar items
    (``quoted``: the indices of quoted scalars)."""

    line: int = 1
    item_lines: list[int]
    raw: dict[int, str]
    quoted: set[int]


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """A location as written in messages: ``setups[0].params.n`` (pydantic's ``[key]`` dropped)."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _quoted(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style in ("'", '"')


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Bounded:
    """Line tracking, duplicate-key detection, tag whitelist and bounds, over any PyYAML parser.

    Mixed into a loader *before* PyYAML's pure-Python ``Composer``, so composing always runs
    the bounded Python code below, whichever parser (libyaml's C one or PyYAML's Python one)
    produces the events.
    """

    problems: list[LoadProblem]
    _aliases: int
    _depth: int
    _path: list[Any]

    def _init_bounds(self) -> None:
        self.problems = []
        self._aliases = 0
        self._depth = 0
        # where the constructor is (children are constructed depth-first, deep=True), so that
        # scalar problems can name their field; None while a mapping key is being constructed
        self._path = []

    # -- composing (bounds) ---------------------------------------------------------------
    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[misc]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlLoadError(
                    f"more than {MAX_ALIASES} aliases (*name) in one document; refused "
                    f"(limit {MAX_ALIASES}, a guard against alias bombs)",
                    mark.line + 1,
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLoadError(_too_deep(), mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node:
        node = super().compose_document()
        _check_expansion(node, aliases=self._aliases > 0)
        return node

    # -- constructing ---------------------------------------------------------------------
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node.tag not in ALLOWED_TAGS:
            raise YamlLoadError(
                f"YAML tag {node.tag!r} is not allowed (only plain strings, numbers, booleans, "
                "null, mappings and lists; tags are rejected, never executed)",
                _line(node),
            )
        return super().construct_object(node, deep=deep)

    def construct_yaml_map(self, node: MappingNode):
        data = LineDict()
        data.line = _line(node)
        data.key_lines = {}
        data.raw = {}
        data.quoted = set()
        yield data
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.problems.append(
                    LoadProblem(_line(key_node), self._field("<<"), "merge keys (<<) are not supported")
                )
                continue
            if not isinstance(key_node, ScalarNode):
                raise YamlLoadError("mapping keys must be plain strings", _line(key_node))
            self._path.append(None)  # a key: its own form is checked below, not as a value
            try:
                key = self.construct_object(key_node, deep=True)
            finally:
                self._path.pop()
            if not isinstance(key, str):
                self.problems.append(
                    LoadProblem(
                        _line(key_node),
                        self._field(key_node.value),
                        f"key {key_node.value!r} was read by YAML as {describe(key)}; "
                        f"quote it: \"{key_node.value}\"",
                    )
                )
                key = key_node.value
            if key in data:
                self.problems.append(
                    LoadProblem(
                        _line(key_node),
                        self._field(key),
                        f"duplicate key (first on line {data.key_lines[key]}); "
                        "each key may appear once in a mapping",
                    )
                )
                continue
            self._path.append(key)
            try:
                data[key] = self.construct_object(value_node, deep=True)
            finally:
                self._path.pop()
            data.key_lines[key] = _line(key_node)
            if isinstance(value_node, ScalarNode):
                data.raw[key] = value_node.value
                if _quoted(value_node):
                    data.quoted.add(key)

    def construct_yaml_seq(self, node: SequenceNode):
        data = LineList()
        data.line = _line(node)
        data.item_lines = []
        data.raw = {}
        data.quoted = set()
        yield data
        for i, child in enumerate(node.value):
            self._path.append(i)
            try:
                data.append(self.construct_object(child, deep=True))
            finally:
                self._path.pop()
            data.item_lines.append(_line(child))
            if isinstance(child, ScalarNode):
                data.raw[i] = child.value
                if _quoted(child):
                    data.quoted.add(i)

    def _field(self, key: Any) -> str:
        """The full path of ``key`` in the mapping being constructed (``setups[0].seeds``):
        children are constructed depth-first (``deep=True``), so ``_path`` is that mapping's."""
        return field_name([p for p in self._path if p is not None] + [key])

    # -- scalars: YAML 1.1's surprising numbers and dates -----------------------------------
    def _value_problem(self, node: Node, message: str) -> bool:
        """Record a problem with the scalar being constructed; False while constructing a key
        (keys are checked by ``construct_yaml_map``)."""
        if None in self._path:
            return False
        self.problems.append(LoadProblem(_line(node), field_name(self._path), message, kind="value"))
        return True

    def _too_long(self, node: ScalarNode) -> bool:
        text = node.value
        if len(text) <= MAX_NUMBER_CHARS:
            return False
        self._value_problem(
            node,
            f"YAML reads this {len(text)}-character value as a number, longer than the limit of "
            f"{MAX_NUMBER_CHARS} characters; refused (quote it if it is text)",
        )
        return True

    def construct_yaml_int(self, node: ScalarNode) -> Any:
        if self._too_long(node):
            return node.value
        value = super().construct_yaml_int(node)
        text = node.value
        if not PLAIN_INT.fullmatch(text):
            self._value_problem(node, _int_form_message(text, value))
        return value

    def construct_yaml_float(self, node: ScalarNode) -> Any:
        if self._too_long(node):
            return node.value
        return super().construct_yaml_float(node)

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            reason = str(exc) or type(exc).__name__
            if not self._value_problem(
                node,
                f"YAML reads the unquoted value {node.value} as a date, and it is not a valid one "
                f"({reason}); quote it: \"{node.value}\"",
            ):
                raise YamlLoadError(
                    f"YAML reads the key {node.value} as a date, and it is not a valid one "
                    f"({reason}); quote it: \"{node.value}\"",
                    _line(node),
                ) from None
            return node.value


def _int_form_message(text: str, value: int) -> str:
    """Why an integer written as ``text`` (YAML 1.1 read it as ``value``) is refused."""
    body = text.lstrip("+-")
    digits = body.replace("_", "")
    if body[:2].lower() == "0x":
        form, plain = f"the hexadecimal number {value}", str(value)
    elif body[:2].lower() == "0b":
        form, plain = f"the binary number {value}", str(value)
    elif ":" in body:
        form, plain = f"the base-60 (sexagesimal) number {value}", str(value)
    elif len(digits) > 1 and digits.startswith("0"):
        decimal = int(digits, 10) * (-1 if text.startswith("-") else 1)
        also = f" (or {value} if octal was meant)" if decimal != value else ""
        form, plain = f"the octal number {value}", f"{decimal}{also}"
    else:  # underscores or a plus sign
        form, plain = f"the number {value}", str(value)
    return (
        f"YAML 1.1 reads the unquoted value {text} as {form}; write integers as plain decimals "
        f"(digits only, no leading zero): {plain}; or quote it if it is text: \"{text}\""
    )


class BoundedSafeLoader(_Bounded, yaml.SafeLoader):
    """The bounded loader on PyYAML's pure-Python parser (used when libyaml is missing)."""

    def __init__(self, stream: Any) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._init_bounds()


_LOADERS: list[type] = [BoundedSafeLoader]

try:  # libyaml's C *parser* (events only); composing and constructing stay in Python
    from yaml._yaml import CParser as _CParser
    from yaml.composer import Composer as _Composer
    from yaml.constructor import SafeConstructor as _SafeConstructor
    from yaml.resolver import Resolver as _Resolver

    class FastBoundedLoader(_Bounded, _Composer, _CParser, _SafeConstructor, _Resolver):  # type: ignore[misc]
        """The bounded loader on libyaml's parser (about 5x faster; its parser is iterative)."""

        def __init__(self, stream: Any) -> None:
            _CParser.__init__(self, stream)
            _Composer.__init__(self)
            _SafeConstructor.__init__(self)
            _Resolver.__init__(self)
            self._init_bounds()

    _LOADERS.append(FastBoundedLoader)
    Loader: type = FastBoundedLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    Loader = BoundedSafeLoader

for _cls in _LOADERS:
    for _name in ("map", "seq", "int", "float", "timestamp"):
        _cls.add_constructor(_TAG + _name, getattr(_Bounded, f"construct_yaml_{_name}"))


def _check_expansion(root: Node | None, aliases: bool = True) -> None:
    """Refuse documents that hold more than MAX_NODES nodes once aliases are expanded
    (memoised, O(nodes)); ``aliases`` says whether the document uses any (for the message)."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    # iterative post-order walk; shared (aliased) nodes are counted once per reference
    stack: list[tuple[Node, bool]] = [(root, False)]
    visiting: set[int] = set()
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in visiting:
            raise YamlLoadError("recursive alias (a node contains itself); refused", _line(node))
        children: list[Node]
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if done:
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_NODES:
                raise YamlLoadError(
                    f"document expands to more than {MAX_NODES} nodes through aliases; refused "
                    f"(limit {MAX_NODES}, a guard against alias bombs)"
                    if aliases
                    else f"document has more than {MAX_NODES} nodes (keys, values and list items); "
                    f"refused (limit {MAX_NODES}; a paper record needs a few hundred)",
                    _line(node),
                )
            sizes[id(node)] = total
        else:
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


@dataclass
class LoadResult:
    """A loaded document (``None`` when empty) and the non-fatal problems found on the way."""

    data: Any
    problems: list[LoadProblem] = field(default_factory=list)


def load_text(text: str, loader_class: type | None = None) -> LoadResult:
    """Load one YAML document from text; raises :class:`YamlLoadError` (with line) when unusable."""
    loader = (loader_class or Loader)(text)
    try:
        try:
            if not loader.check_node():  # empty stream
                return LoadResult(None, loader.problems)
            node = loader.get_node()
            if loader.check_event(yaml.DocumentStartEvent):
                mark = loader.peek_event().start_mark
                raise YamlLoadError(
                    "more than one YAML document (---) in the file; put one record per file",
                    mark.line + 1,
                )
            data = loader.construct_document(node) if node is not None else None
            return LoadResult(data, loader.problems)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = exc.problem or "invalid YAML"
            if "maximum nesting depth" in problem:
                # libyaml's own depth limit (PyYAML >= 6.0.4 wheels) can fire in the scanner,
                # before the composer reaches MAX_DEPTH: the same refusal, in the same words
                raise YamlLoadError(_too_deep(), line) from None
            context = f" {exc.context}" if exc.context else ""
            context_line = exc.context_mark.line + 1 if exc.context_mark is not None else None
            if context_line is not None and mark is not None and context_line != line:
                context += f" started on line {context_line}"
            hint = syntax_hint(text, problem, exc.context or "", line, context_line)
            raise YamlLoadError(f"YAML syntax error: {hint} (the parser says: {problem}{context})", line) from None
        except yaml.YAMLError as exc:
            raise YamlLoadError(f"YAML error: {str(exc).splitlines()[0]}") from None
        except RecursionError:
            raise YamlLoadError(
                f"nesting too deep to parse (limit {MAX_DEPTH} levels)"
            ) from None
        except (TypeError, ValueError) as exc:  # a value the constructors could not build
            raise YamlLoadError(f"cannot read a value: {exc}") from None
    finally:
        loader.dispose()


def load_file(path: Path) -> LoadResult:
    """Load one YAML file, refusing files over :data:`MAX_BYTES` and non-UTF-8 text."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise YamlLoadError(f"cannot read file: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise YamlLoadError(
            f"file is {size} bytes, larger than the limit of {MAX_BYTES} bytes; refused"
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise YamlLoadError(f"cannot read file: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:  # grew since stat
        raise YamlLoadError(f"file is larger than the limit of {MAX_BYTES} bytes; refused")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlLoadError("file is not valid UTF-8 text", line) from None
    text = text.removeprefix("\ufeff")
    return load_text(text)


