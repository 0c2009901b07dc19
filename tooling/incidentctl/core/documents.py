"""Markdown documents with YAML front-matter: split, parse fast, locate lines, edit minimally.

One YAML semantics for the whole tool: YAML 1.2's core schema as yaml-rs (a compiled Rust
parser, about 8x libyaml) reads it, for bulk reads, single reads and the re-parse that
verifies every edit alike. `yes`/`no`/`on`/`off` are strings, `010` is ten, timestamps stay
strings so the model judges them. Line numbers are only needed for files with a problem:
a text that yaml-rs refuses, or whose values break a limit, is read again by PyYAML's
node tree (with marks), which gives the line. Edits are surgical text replacements at node
marks, verified by re-parsing, so a command touches only the keys it owns and every
comment, quote and body byte survives.

The loader refuses, with the line, what YAML allows but a front-matter must not hold: a key
given twice (naming both lines), numbers beyond ±10^18 or not finite, mappings and lists
nested deeper than 64 levels, anchors, aliases, merge keys and tags outside the core schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
import yaml_rs

from incidentctl.core.errors import DocumentError
from incidentctl.core.model import Incident

MAX_BYTES = 1_000_000
_BOM = "\ufeff"
_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Base = yaml.SafeLoader


# What a front-matter may hold. Beyond these a value is a mistake or an attack, and Python
# itself would fail on it later (int() refuses more than 4,300 digits, deep data overflows
# the stack), so the loader refuses it with its line.
MAX_NUMBER = 10**18  # integers and floats beyond ±10^18 (or not finite) are refused
MAX_DEPTH = 64  # mappings and lists nested deeper are refused
_MAX_NUMBER_TEXT = 70  # longer number literals are refused before int() reads them


class _Refused(yaml.YAMLError):
    """Valid YAML that the loader will not build: `message` at `mark`, `earlier` for the
    first of two duplicated keys."""

    def __init__(
        self, mark: yaml.Mark, message: str, hint: str, earlier: yaml.Mark | None = None
    ) -> None:
        super().__init__(message)
        self.mark, self.message, self.hint, self.earlier = mark, message, hint, earlier


def _too_large(node: yaml.ScalarNode, what: str = "number too large") -> _Refused:
    text = node.value if len(node.value) <= 24 else f"{node.value[:10]}...{node.value[-6:]}"
    size = f" ({len(node.value):,} characters)" if len(node.value) > 24 else ""
    return _Refused(
        node.start_mark,
        f"{what}: {text}{size}; numbers must be finite and within ±10^18",
        "quote it if it is text, e.g. '12345678901234567890123'; else write a smaller number",
    )


class _Loader(_Base):  # type: ignore[misc]
    """Safe loader that leaves timestamps as strings so the model judges them, and refuses
    duplicated keys, numbers beyond ±10^18, nesting deeper than 64 and merge keys."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_depth(node)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are all different: a key given twice is refused with both
        lines (PyYAML keeps the last silently, and a later edit would change the first)."""
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in mapping
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
            if seen:
                raise _duplicate(self, node, key, key_node)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > _MAX_NUMBER_TEXT:
            raise _too_large(node)
        value: int = super().construct_yaml_int(node)
        if abs(value) > MAX_NUMBER:
            raise _too_large(node)
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value: float = super().construct_yaml_float(node)
        if value != value:
            raise _too_large(node, "not a number")
        if not -MAX_NUMBER <= value <= MAX_NUMBER:  # also false for .inf
            raise _too_large(node)
        return value

    def construct_merge(self, node: yaml.Node) -> None:
        raise _Refused(
            node.start_mark,
            "YAML merge keys (<<) are not allowed",
            "write the keys out in full",
        )


def _duplicate(loader: _Loader, node: yaml.MappingNode, key: Any, again: yaml.Node) -> _Refused:
    first = next(k for k, _ in node.value if loader.construct_object(k) == key)
    shown = repr(again.value) if isinstance(again, yaml.ScalarNode) else repr(key)
    return _Refused(
        again.start_mark,
        f"key {shown} appears twice",
        "keep one of them: YAML would silently use the last one",
        earlier=first.start_mark,
    )


def _deep(mark: yaml.Mark) -> _Refused:
    return _Refused(
        mark,
        f"nested more than {MAX_DEPTH} levels deep (mappings and lists)",
        "a few levels of keys and lists are all a front-matter or policy needs; flatten it",
    )


def _check_depth(root: yaml.Node) -> None:
    """Refuse mappings and lists nested more than MAX_DEPTH deep, at the first such line.

    One pass over the node tree without recursion, before anything is built from it."""
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _deep(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(value, yaml.ScalarNode):
                    pending.append((value, depth + 1))
                if not isinstance(key, yaml.ScalarNode):
                    pending.append((key, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(
                (item, depth + 1) for item in node.value if not isinstance(item, yaml.ScalarNode)
            )


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
_Loader.add_constructor("tag:yaml.org,2002:merge", _Loader.construct_merge)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


class _Dumper(yaml.SafeDumper):
    """Safe dumper that writes timestamps plain, as the loader reads them back: strings."""


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    """One file: its front-matter data and enough of its text to edit it in place."""

    path: Path
    data: dict[str, Any]
    front: str  # front-matter YAML text, LF line endings, no BOM
    body: str  # everything after the closing fence, LF line endings
    bom: bool = False
    crlf: bool = False
    _lines: LineIndex | None = field(default=None, repr=False)

    def text(self) -> str:
        """The document as it should be written back, BOM and line endings as found."""
        text = f"---\n{self.front}---\n{self.body}"
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return (_BOM if self.bom else "") + text

    @property
    def body_line(self) -> int:
        """Line (1-based, in the file) of the body's first line: after both fences."""
        return self.front.count("\n") + 3

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """Line (1-based, in the file) of the value at a key path, or its nearest parent."""
        if self._lines is None:
            self._lines = LineIndex(yaml.compose(self.front, Loader=_Loader), offset=1)
        return self._lines.line_of(loc)


def yaml_lines(text: str) -> LineIndex:
    """Every key path of a plain YAML file with its line; nothing if it does not parse."""
    try:
        return LineIndex(yaml.compose(text, Loader=_Loader), offset=0)
    except yaml.YAMLError:
        return LineIndex(None, offset=0, known=False)


class LineIndex:
    """Key path -> line (1-based) of a YAML text, built in one pass over its node tree.

    Locating each of n problems by walking the tree would take n times the file's size (40,000
    unknown keys took 42 s); a lookup here is one dictionary probe per level of the path."""

    def __init__(self, root: yaml.Node | None, *, offset: int, known: bool = True) -> None:
        self._top = 1 + offset if known else None
        self._lines: dict[tuple[str | int, ...], int] = {}
        pending: list[tuple[tuple[str | int, ...], yaml.Node | None]] = [((), root)]
        while pending:
            path, node = pending.pop()
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if not isinstance(key, yaml.ScalarNode):
                        continue
                    inner = (*path, key.value)
                    if inner not in self._lines:  # a duplicated key: the first one
                        self._lines[inner] = key.start_mark.line + 1 + offset
                        pending.append((inner, value))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    inner = (*path, index)
                    self._lines[inner] = item.start_mark.line + 1 + offset
                    pending.append((inner, item))

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """The line of the value at `loc`, else of its nearest parent, else the first line."""
        for end in range(len(loc), 0, -1):
            line = self._lines.get(loc[:end])
            if line is not None:
                return line
        return self._top


def file_too_large(path: Path | str, size: int) -> DocumentError:
    """The one size limit of every file the tool reads (the store checks it before reading)."""
    return DocumentError(
        path,
        f"file is {size:,} bytes, over the {MAX_BYTES:,}-byte limit",
        hint="incident files are small; move logs and dumps elsewhere and link to them",
        rule="size",
    )


def decode(path: Path, raw: bytes) -> tuple[str, bool, bool]:
    """Bytes to LF text; remembers a BOM and CRLF endings so a write keeps them."""
    if len(raw) > MAX_BYTES:
        raise file_too_large(path, len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(
            path,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            line=line,
            hint="save the file as UTF-8",
            rule="encoding",
        ) from None
    bom = text.startswith(_BOM)
    if bom:
        text = text[1:]
    crlf = "\r\n" in text
    if crlf:
        text = text.replace("\r\n", "\n")
    return text, bom, crlf


def parse(path: Path, raw: bytes) -> Document:
    """Split and parse a document; every problem is a DocumentError with a line."""
    text, bom, crlf = decode(path, raw)
    refuse_conflict_markers(path, text)
    if not text.startswith("---"):
        raise DocumentError(
            path,
            "no YAML front-matter",
            line=1,
            hint="the file must start with a line '---', the YAML fields, then another '---'",
            rule="front-matter",
        )
    fences = _fences(text)
    if not fences or fences[0].start() != 0 or len(fences) < 2:
        raise DocumentError(
            path,
            "front-matter is not closed",
            line=1,
            hint="end the YAML fields with a line containing only '---'",
            rule="front-matter",
        )
    first, second = fences[0], fences[1]
    front = text[first.end() + 1 : second.start()]
    body = text[second.end() + 1 :] if second.end() < len(text) else ""
    data = load_yaml(path, front, line_offset=1)
    if not isinstance(data, dict):
        raise DocumentError(
            path,
            "front-matter must be a mapping of fields (key: value)",
            line=2,
            rule="front-matter",
        )
    return Document(path=path, data=data, front=front, body=body, bom=bom, crlf=crlf)


def top_level(raw: bytes, keys: frozenset[str]) -> dict[str, Any] | None:
    """Some top-level values of a document's front-matter, read from their own lines only:
    what a reader that needs a few scalars reads first, judging the document in full when
    this says None (`overdue`'s settled incidents, at a fifth of a full parse).

    yaml-rs refuses a line at column 0 inside any scalar or flow collection (tested), so in
    a front-matter it accepts, the lines that start at column 0 (not blank, not comments)
    begin its top-level entries. When every such line is a plain `key:` and each wanted key's
    line is followed directly by the next such line (its value cannot go on below), those
    lines alone parse, with the one reader (`load_yaml`), to exactly the values the whole
    document has. Anything else is None: a column-0 line of any other form, a wanted key's
    value that may go on below its line (or a blank line after it), a duplicate (refused by
    the parse), a file that does not decode or has no front-matter. A wanted key absent
    from the result is absent from the document, or the document does not parse."""
    try:
        text, _, _ = decode(_NOWHERE, raw)
    except DocumentError:
        return None
    fences = _fences(text)
    if len(fences) < 2 or fences[0].start() != 0:
        return None
    front = text[fences[0].end() : fences[1].start()]  # from the newline before its first line
    if _NOT_A_PLAIN_KEY.search(front):
        return None
    lines = []
    for found in _wanted(keys).finditer(front):
        end = front.find("\n", found.end())
        after = front[end + 1 : end + 2]
        if end < 0 or not (after == "" or after == "_" or (after.isascii() and after.isalpha())):
            return None  # its value may go on below its line
        lines.append(front[found.start() + 1 : end])
    try:
        data = load_yaml(_NOWHERE, "\n".join(lines))
    except DocumentError:
        return None
    return data if isinstance(data, dict) else {} if data is None else None


_NOWHERE = Path()
# After a newline: a line that is neither blank, indented, a comment nor a plain `key:` entry.
_NOT_A_PLAIN_KEY = re.compile(r"\n(?:[^ \t#\nA-Za-z_]|[A-Za-z_][A-Za-z0-9_]*+(?![ \t]*:[ \t\n]))")


@lru_cache(maxsize=8)
def _wanted(keys: frozenset[str]) -> re.Pattern[str]:
    """The start of a wanted key's line."""
    names = "|".join(sorted(map(re.escape, keys)))
    return re.compile(rf"\n(?:{names})[ \t]*:(?=[ \t\n])")


def _fences(text: str) -> list[re.Match[str]]:
    """The front-matter's two fence lines (fewer if missing): the first at the start, the
    next found by a plain search for a line starting '---' (five times faster than a
    MULTILINE regex scan over the text, and the body's rules are never looked at)."""
    first = _FENCE.match(text)
    if first is None:
        return []
    at = first.end()
    while (found := text.find("\n---", at)) >= 0:
        second = _FENCE.match(text, found + 1)
        if second is not None:
            return [first, second]
        at = found + 4
    return [first]


_CONFLICT_START = re.compile(r"^<{7}(?: |$)", re.MULTILINE)
_CONFLICT_MIDDLE = re.compile(r"^={7}$", re.MULTILINE)
_CONFLICT_END = re.compile(r"^>{7}(?: |$)", re.MULTILINE)


def refuse_conflict_markers(path: Path, text: str) -> None:
    """A file git could not merge holds its markers; say so instead of "malformed YAML".

    All three markers, in order, at the start of a line: a lone `=======` is a markdown
    heading underline."""
    if "<<<<<<<" not in text:
        return
    start = _CONFLICT_START.search(text)
    middle = _CONFLICT_MIDDLE.search(text, start.end()) if start else None
    end = _CONFLICT_END.search(text, middle.end()) if middle else None
    if start is None or end is None:
        return
    raise DocumentError(
        path,
        "unresolved merge conflict (<<<<<<<, =======, >>>>>>> markers)",
        line=text.count("\n", 0, start.start()) + 1,
        hint="keep the right lines of each side and delete the markers; the incidentctl merge "
        "driver merges timelines by itself (see the README: merging branches)",
        rule="merge-conflict",
    )


def load_yaml(path: Path, text: str, *, line_offset: int = 0) -> Any:
    """Parse YAML (1.2 core schema) safely: no anchors, aliases or foreign tags, numbers and
    nesting within the limits; every refusal located (file and line)."""
    if ("&" in text or "*" in text or "!" in text) and _SUSPECT_TOKENS.search(text):
        _refuse_tokens(path, text, line_offset)
    try:
        data = yaml_rs.loads(text, parse_datetime=False, alias_limits=_NO_ALIASES)
    except yaml_rs.YAMLDecodeError as exc:
        raise _located_error(path, text, line_offset, str(exc)) from None
    problem = _beyond_limits(data)  # a tenth of the parse's time
    if problem is not None:
        raise _located_limit(path, text, line_offset, *problem) from None
    return data


# A screen that can only say "maybe": a text it passes over has no anchor, alias or tag.
_SUSPECT_TOKENS = re.compile(r"(?:^|[\s\[{,:\-?])[&*!][^\s\]},]", re.MULTILINE)
_NO_ALIASES = yaml_rs.AliasLimits(max_total_replayed_events=0)
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)


Loc = tuple[str | int, ...]


def _beyond_limits(data: Any) -> tuple[Loc, str] | None:
    """The key path of the first value the loader refuses, and why ("deep", "number",
    "merge"); None if every value is within the limits (a walk over plain values, with the
    path built only for a refusal: this runs on every document)."""
    if type(data) is dict or type(data) is list:
        return _beyond_in(data, 1)
    if type(data) in (int, float) and not -MAX_NUMBER <= data <= MAX_NUMBER:
        return (), "number"
    return None


def _beyond_in(node: dict[Any, Any] | list[Any], depth: int) -> tuple[Loc, str] | None:
    """`_beyond_limits` below `node`, which sits `depth` levels down."""
    if type(node) is dict:
        if "<<" in node:
            return ("<<",), "merge"
        items: Any = node.items()
    else:
        items = enumerate(node)
    for key, value in items:
        kind = type(value)
        if kind is str:
            continue
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                return (key,), "deep"
            found = _beyond_in(value, depth + 1)
            if found is not None:
                return (key, *found[0]), found[1]
        elif (kind is int or kind is float) and not -MAX_NUMBER <= value <= MAX_NUMBER:
            return (key,), "number"
    return None


def _located_limit(
    path: Path, text: str, line_offset: int, loc: Loc, refused: str
) -> DocumentError:
    """A value beyond the limits, at its line and in PyYAML's words where it refuses the same
    value (its node tree has the marks)."""
    try:
        yaml.load(text, Loader=_Loader)
    except _Refused as exc:
        return refusal(path, exc, line_offset)
    except (yaml.YAMLError, RecursionError):
        pass
    line = yaml_lines(text).line_of(loc)
    line = line + line_offset if line is not None else None
    if refused == "merge":
        message, hint = "YAML merge keys (<<) are not allowed", "write the keys out in full"
    elif refused == "deep":
        message = f"nested more than {MAX_DEPTH} levels deep (mappings and lists)"
        hint = "a few levels of keys and lists are all a front-matter or policy needs; flatten it"
    else:
        message = "number too large, or not a number; numbers must be finite and within ±10^18"
        hint = "quote it if it is text, e.g. '12345678901234567890123'; else write a smaller number"
    return DocumentError(path, message, line=line, hint=hint, rule="yaml")


_RS_POSITION = re.compile(r"at line (\d+), column (\d+)")


def _located_error(path: Path, text: str, line_offset: int, problem: str) -> DocumentError:
    """A text yaml-rs refused, located: PyYAML reads it again for the line and its own
    wording; if PyYAML (YAML 1.1) would accept it, yaml-rs's message and line stand."""
    try:
        yaml.load(text, Loader=_Loader)
    except _Refused as exc:
        return refusal(path, exc, line_offset)
    except yaml.MarkedYAMLError as exc:
        return _pyyaml_error(path, text, line_offset, exc)
    except yaml.YAMLError as exc:
        return DocumentError(path, f"malformed YAML: {exc}", rule="yaml")
    except RecursionError:
        deep = f"nested more than {MAX_DEPTH} levels deep (mappings and lists)"
        return DocumentError(path, deep, hint="flatten it", rule="yaml")
    where = _RS_POSITION.search(problem)
    line = int(where.group(1)) + line_offset if where else None
    lines = [part for part in problem.strip().splitlines() if part.strip()]
    said = lines[-1].strip() if lines else "invalid YAML"
    if "alias" in said:
        said = "YAML anchors and aliases (&name, *name) are not allowed"
    return DocumentError(
        path,
        f"malformed YAML: {said}" if "not allowed" not in said else said,
        line=line,
        hint="check indentation and quoting; values containing ': ' or '#' need quotes",
        rule="yaml",
    )


def _pyyaml_error(
    path: Path, text: str, line_offset: int, exc: yaml.MarkedYAMLError
) -> DocumentError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 + line_offset if mark else None
    problem = exc.problem or "invalid YAML"
    if mark and "maximum nesting depth" in problem:  # libyaml's own limit, at 1,000
        return refusal(path, _deep(mark), line_offset)
    if mark and _tab_indented(text, mark.line):
        return DocumentError(
            path,
            "malformed YAML: a tab in the indentation (YAML cannot be indented with tabs)",
            line=line,
            hint="indent with spaces: replace the tabs at the start of the line with "
            "spaces (2 per level, like the lines around it)",
            rule="yaml",
        )
    context = f" ({exc.context})" if exc.context else ""
    return DocumentError(
        path,
        f"malformed YAML: {problem}{context}",
        line=line,
        hint="check indentation and quoting; values containing ': ' or '#' need quotes",
        rule="yaml",
    )


def _tab_indented(text: str, index: int) -> bool:
    """Whether line `index` (0-based) of `text` has a tab in its leading whitespace."""
    lines = text.split("\n")
    if not 0 <= index < len(lines):
        return False
    line = lines[index]
    return "\t" in line[: len(line) - len(line.lstrip(" \t"))]


def refusal(path: Path, exc: _Refused, line_offset: int) -> DocumentError:
    """A value the loader refused, located; a duplicated key also names its first line."""
    message = exc.message
    if exc.earlier is not None:
        message += f" (first at line {exc.earlier.line + 1 + line_offset})"
    return DocumentError(
        path, message, line=exc.mark.line + 1 + line_offset, hint=exc.hint, rule="yaml"
    )


def _refuse_tokens(path: Path, text: str, line_offset: int) -> None:
    """Anchors, aliases and tags outside the core schema, refused at their line."""
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                raise DocumentError(
                    path,
                    "YAML anchors and aliases (&name, *name) are not allowed",
                    line=token.start_mark.line + 1 + line_offset,
                    hint="write the value out in full; aliases can expand without bound",
                    rule="yaml",
                )
            if isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                tag = "tag:yaml.org,2002:" + suffix if handle == "!!" else f"{handle}{suffix}"
                if tag not in _CORE_TAGS:
                    raise DocumentError(
                        path,
                        f"YAML tag {handle}{suffix} is not allowed",
                        line=token.start_mark.line + 1 + line_offset,
                        hint="remove the tag: plain values, quoted text, lists and mappings "
                        "are all a front-matter or policy holds",
                        rule="yaml",
                    )
    except yaml.MarkedYAMLError:
        return  # the parser reports the syntax error with its line


def dump_scalar(value: Any, *, style: str | None = None) -> str:
    """One YAML scalar as it would appear after `key: ` (quoted in `style` if given)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    out = yaml.dump(text, Dumper=_Dumper, allow_unicode=True, width=1 << 30, default_style=style)
    out = out.removesuffix("\n").removesuffix("\n...").rstrip("\n")
    if "\n" in out or not _reads_back(out, text):
        # multi-line, or a plain form YAML 1.2 reads otherwise (PyYAML's dumper quotes by
        # YAML 1.1: `0o10` would come back as 8): a JSON-style quoted form reads back exactly
        out = json.dumps(text, ensure_ascii=False)
    return out


def _reads_back(scalar: str, text: str) -> bool:
    try:
        return bool(yaml_rs.loads(f"k: {scalar}\n", parse_datetime=False) == {"k": text})
    except yaml_rs.YAMLDecodeError:
        return False


def dump_block(value: Any, indent: int) -> str:
    """A mapping or list as block YAML lines at `indent` spaces, ending with a newline."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n")
                lines.append(dump_block(item, indent + 2))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: []\n")
            elif isinstance(item, dict):
                lines.append(f"{pad}{key}: {{}}\n")
            else:
                lines.append(f"{pad}{key}: {dump_scalar(item)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                inner = dump_block(item, indent + 2)
                lines.append(f"{pad}- " + inner[indent + 2 :])
            else:
                lines.append(f"{pad}- {dump_scalar(item)}\n")
    return "".join(lines)


@dataclass
class Loaded:
    """A parsed incident with the document it came from (for located errors and edits)."""

    doc: Document
    incident: Incident

    @property
    def path(self) -> Path:
        return self.doc.path
