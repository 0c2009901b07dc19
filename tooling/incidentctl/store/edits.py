"""Minimal edits to front-matter text: set a top-level key, append to or insert into a
top-level list, find the lines of a top-level entry.

Each edit replaces only the text span of the value it changes, found from libyaml node
marks, so comments, key order, quoting and the markdown body stay byte for byte. The caller
verifies the result by re-parsing (see Collection.save).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from incidentctl.core.documents import _Loader, dump_block, dump_scalar, load_yaml


def _root(front: str) -> yaml.MappingNode:
    node = yaml.compose(front, Loader=_Loader)
    if not isinstance(node, yaml.MappingNode):
        raise ValueError("front-matter is not a mapping")
    return node


def _flow_items(text: str) -> list[Any]:
    """A flow list's items, read as every file is read (the one YAML semantics)."""
    items = load_yaml(Path("<front-matter>"), text)
    return list(items) if isinstance(items, list) else []


def _find(root: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in root.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def _content_end(node: yaml.Node, text: str) -> int:
    """Index just after the last character that belongs to the node's content."""
    if isinstance(node, yaml.ScalarNode):
        end = int(node.end_mark.index)
        if node.style in ("|", ">"):
            while end > node.start_mark.index and text[end - 1] == "\n":
                end -= 1
        return end
    if getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    ends = [int(node.start_mark.index)]
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            ends.append(_content_end(k, text))
            ends.append(_content_end(v, text))
    elif isinstance(node, yaml.SequenceNode):
        ends.extend(_content_end(v, text) for v in node.value)
    return max(ends)


def _is_block(node: yaml.Node) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return node.style in ("|", ">") or node.start_mark.line != node.end_mark.line
    return not getattr(node, "flow_style", False) and bool(node.value)


def _render_value(value: Any, indent: int) -> str:
    """Text that follows `key:`: ' scalar' or a newline and an indented block."""
    if isinstance(value, dict | list) and value:
        return "\n" + dump_block(value, indent).rstrip("\n")
    if isinstance(value, list):
        return " []"
    if isinstance(value, dict):
        return " {}"
    return " " + dump_scalar(value)


def set_key(front: str, key: str, value: Any) -> str:
    """Set a top-level key, replacing only its value's text, or add it at the end."""
    root = _root(front)
    found = _find(root, key)
    if found is None:
        suffix = "" if not front or front.endswith("\n") else "\n"
        return front + suffix + key + ":" + _render_value(value, 2) + "\n"
    key_node, value_node = found
    indent = key_node.start_mark.column + 2
    start = int(key_node.end_mark.index)
    colon = front.index(":", start)
    simple_old = not _is_block(value_node)
    simple_new = not (isinstance(value, dict | list) and value)
    if simple_old and simple_new and value_node.start_mark.index > colon:
        v_start = int(value_node.start_mark.index)
        v_end = _content_end(value_node, front)
        if (
            isinstance(value_node, yaml.ScalarNode)
            and value_node.value == ""
            and v_end == v_start
            and value_node.tag.endswith(":null")
            and not value_node.style
        ):
            # `key:` with nothing after it: write right after the colon
            return front[: colon + 1] + _render_value(value, indent) + front[colon + 1 :]
        style = value_node.style if isinstance(value_node, yaml.ScalarNode) else None
        if style in ("'", '"') and isinstance(value, str):
            text = dump_scalar(value, style=style)
        else:
            text = _render_value(value, indent)[1:]
        return front[:v_start] + text + front[v_end:]
    v_end = _content_end(value_node, front)
    if value_node.start_mark.index <= colon:
        v_end = colon + 1
    return front[:colon] + ":" + _render_value(value, indent) + front[v_end:]


def append_item(front: str, key: str, item: Any) -> str:
    """Append one item to a top-level block list, in the list's own indentation."""
    root = _root(front)
    found = _find(root, key)
    if found is None:
        return set_key(front, key, [item])
    _, value_node = found
    if not isinstance(value_node, yaml.SequenceNode) or not value_node.value:
        return set_key(front, key, [item])
    if value_node.flow_style:
        start, end = int(value_node.start_mark.index), int(value_node.end_mark.index)
        existing = _flow_items(front[start:end])
        if isinstance(item, dict | list):
            return set_key(front, key, [*existing, item])
        return front[: end - 1].rstrip() + ", " + dump_scalar(item) + front[end - 1 :]
    first = value_node.value[0]
    line_start = front.rfind("\n", 0, first.start_mark.index) + 1
    dash_col = front.rfind("-", line_start, first.start_mark.index) - line_start
    last_end = _content_end(value_node.value[-1], front)
    newline = front.find("\n", last_end)
    insert_at = len(front) if newline == -1 else newline + 1
    prefix = "" if newline != -1 else "\n"
    return front[:insert_at] + prefix + dump_block([item], dash_col) + front[insert_at:]


def insert_item(front: str, key: str, index: int, item: Any) -> str:
    """Insert one item before the index-th item of a top-level block list (at the end when
    `index` is its length), in the list's own indentation."""
    root = _root(front)
    found = _find(root, key)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return append_item(front, key, item)
    items = found[1].value
    if index >= len(items) or found[1].flow_style:
        if index >= len(items):
            return append_item(front, key, item)
        existing = _flow_items(front[found[1].start_mark.index : found[1].end_mark.index])
        return set_key(front, key, [*existing[:index], item, *existing[index:]])
    target = items[index]
    line_start = front.rfind("\n", 0, target.start_mark.index) + 1
    dash_col = front.rfind("-", line_start, target.start_mark.index) - line_start
    return front[:line_start] + dump_block([item], dash_col) + front[line_start:]


def entry_span(front: str, key: str) -> tuple[int, int] | None:
    """The text of a top-level entry: from its key's line to the end of its value's last
    line (comments on lines of their own after it are not part of it). None if absent."""
    found = _find(_root(front), key)
    if found is None:
        return None
    key_node, value_node = found
    start = front.rfind("\n", 0, key_node.start_mark.index) + 1
    end = max(_content_end(value_node, front), int(key_node.end_mark.index))
    newline = front.find("\n", end - 1 if end and front[end - 1] == "\n" else end)
    return start, len(front) if newline == -1 else newline + 1
