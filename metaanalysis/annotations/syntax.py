"""Plain hints for YAML syntax errors: what the parser's words most likely mean in a paper record.

A parser reports where it gave up, in its own vocabulary ("mapping values are not allowed here",
"did not find expected '-' indicator"), and libyaml's C parser words the same mistake
differently from PyYAML's Python one. :func:`syntax_hint` looks at the parser's message *and*
at the source lines it points to, and names the usual cause in a contributor's words: a tab
character, an unquoted ``: `` inside a value, a list item without its ``- ``, a line indented
unlike its neighbours, an unclosed quote or bracket, text after a closing quote, or a value
starting with a character YAML reserves. The error keeps its line; the hint may name another
(where a quote or bracket was opened). When no rule fits, the hint lists the usual causes.
"""

from __future__ import annotations

import re

#: a ``key: value`` line (optionally a list item ``- key: value``); group 2 is the value
_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)?)([^\s#'\"\[\]{}][^:#]*?):(?:\s+|$)(.*)$")
#: a value that starts with a quoted string followed by more text: ``"A" study``
_TEXT_AFTER_QUOTE = re.compile(r"""^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*[^\s#]""")

#: the catch-all when no specific cause is recognised
GENERAL = (
    "check the indentation (spaces only, fields of one mapping in the same column), that each "
    "list item starts with '- ', and that values containing ': ' or ' #', or starting with one of "
    "[ ] { } * & ! | > ' \" % @ `, are quoted"
)


def _line(lines: list[str], number: int | None) -> str:
    """The 1-based line ``number`` of the text ('' when out of range)."""
    if number is None or not 1 <= number <= len(lines):
        return ""
    return lines[number - 1]


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _previous_content_line(lines: list[str], number: int) -> tuple[int, str] | None:
    """The nearest line before ``number`` that is neither blank nor a comment."""
    for n in range(number - 1, 0, -1):
        text = lines[n - 1]
        if text.strip() and not text.lstrip().startswith("#"):
            return n, text
    return None


def _tab(lines: list[str], candidates: list[int | None], problem: str) -> str | None:
    for n in candidates:
        if "\t" in _line(lines, n):
            return (f"line {n} contains a tab character; YAML indents with spaces only: replace "
                    "the tab with spaces")
    if "\\t" in problem or "tab" in problem:
        return "a tab character; YAML indents with spaces only: replace the tab with spaces"
    return None


def _colon_in_value(text: str, number: int) -> str | None:
    """A ``key: value`` line whose value holds another ``: `` (or ends with ``:``)."""
    m = _KEY_VALUE.match(text)
    if not m:
        return None
    value = m.group(3)
    if value.startswith(("'", '"')):
        return None
    if ": " in value or value.rstrip().endswith(":"):
        key = m.group(2).strip()
        return (f"the value of '{key}' on line {number} contains ': ' (a colon and a space), which "
                f"YAML reads as the start of another key: quote the whole value, as in "
                f"{key}: \"{value.strip()}\"")
    return None


def _indentation(text: str, number: int, lines: list[str]) -> str:
    prev = _previous_content_line(lines, number)
    if prev is not None and _indent(text) > _indent(prev[1]):
        return (f"line {number} is indented more than line {prev[0]} above it, so YAML reads it as "
                f"part of that line's value; give fields of one mapping the same indentation "
                f"(spaces only)")
    return (f"line {number} is not indented like the lines around it; fields of one mapping start "
            f"in the same column and the fields of a list item line up with the text after its '- '")


def _block_collection(lines: list[str], line: int | None, context_line: int | None) -> str | None:
    """A list (begun on ``context_line``) interrupted on ``line``: a missing ``- `` or a field
    indented unlike the item's other fields."""
    start = _line(lines, context_line)
    text = _line(lines, line)
    if not start.lstrip().startswith("-") or not text.strip():
        return None
    dash = _indent(start)
    if _indent(text) == dash and not text.lstrip().startswith("-"):
        return (f"line {line} is at the indentation of the list items begun on line {context_line} "
                f"but does not start with '- ': a new item needs '- '; a field of the item above "
                f"must be indented like that item's other fields")
    return _indentation(text, line, lines)


def syntax_hint(
    text: str,
    problem: str,
    context: str,
    line: int | None,
    context_line: int | None,
) -> str:
    """A plain explanation of a YAML syntax error (never empty; :data:`GENERAL` at worst).

    ``problem`` and ``context`` are the parser's words, ``line`` and ``context_line`` the
    1-based lines of its problem and context marks.
    """
    lines = text.splitlines()
    here = _line(lines, line)
    problem_l, context_l = problem.lower(), context.lower()

    tab = _tab(lines, [line, context_line], problem_l)
    if tab is not None:
        return tab
    if "quoted scalar" in context_l:
        if "escape" in problem_l:
            return (f"a backslash inside double quotes (line {line}) starts an escape sequence: "
                    f"write \\\\ for a backslash, or use single quotes")
        return (f"the quote opened on line {context_line} is never closed: end the value with the "
                f"same quote character; inside double quotes write a quote as \\\", inside single "
                f"quotes as ''")
    for opener, closer, what in (("[", "]", "flow sequence"), ("{", "}", "flow mapping")):
        if what in context_l:
            return (f"the '{opener}' opened on line {context_line} is not closed before line {line}, or "
                    f"an item in it lacks its comma: close it with '{closer}' and separate items with "
                    f"commas (quote items that contain ': ' or ',')")
    if "undefined alias" in problem_l or ("alias" in problem_l and "*" in here):
        return (f"a value on line {line} starts with '*', which YAML reads as an alias: quote the "
                f"value")
    m = _KEY_VALUE.match(here)
    if "cannot start any token" in problem_l:
        value = (m.group(3) if m else here.strip().removeprefix("- ")).lstrip()
        if value[:1] in ("@", "`", "%"):
            return f"a value on line {line} starts with '{value[0]}', which YAML reserves: quote the value"
    if m and _TEXT_AFTER_QUOTE.match(m.group(3)):
        return (f"text follows the closing quote on line {line}: quote the whole value (a quote "
                f"inside double quotes is written \\\", inside single quotes '')")
    if "mapping values are not allowed" in problem_l:
        return _colon_in_value(here, line or 0) or _indentation(here, line or 0, lines)
    if "expected '-' indicator" in problem_l or ("block collection" in context_l and "expected <block end>" in problem_l):
        hint = _block_collection(lines, line, context_line)
        if hint is not None:
            return hint
    if "could not find expected ':'" in problem_l or "simple key" in context_l:
        key_line = context_line or line
        return (f"line {key_line} is neither 'key: value' nor a list item '- value': a list item "
                f"may lack its '- ', a key its ': ', or a long value its quotes")
    if "block mapping" in context_l or "expected key" in problem_l:
        colon = _colon_in_value(here, line or 0)
        return colon or _indentation(here, line or 0, lines)
    return GENERAL


__all__ = ["GENERAL", "syntax_hint"]
