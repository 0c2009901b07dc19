"""Minimal edits inside a PIR's `actions` list: set keys of one item, keep everything else.

Like editing.py for top-level keys: only the text span of the changed value is replaced (or
one line is added to the item), found from libyaml node marks, so comments, key order,
quoting and the markdown body stay byte for byte. Pirs.write re-parses the result.
"""

from __future__ import annotations

from typing import Any

import yaml

from incidentctl.core.documents import _Loader, dump_scalar


def _item(front: str, index: int) -> yaml.MappingNode:
    root = yaml.compose(front, Loader=_Loader)
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "actions"
                and isinstance(value, yaml.SequenceNode)
                and index < len(value.value)
                and isinstance(value.value[index], yaml.MappingNode)
            ):
                item: yaml.MappingNode = value.value[index]
                return item
    raise ValueError(f"actions[{index}] is not a mapping in the front-matter")


def set_action_key(front: str, index: int, key: str, value: Any) -> str:
    """Set `key` of the index-th action to a scalar `value`."""
    item = _item(front, index)
    text = dump_scalar(value)
    for k, v in item.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            if not isinstance(v, yaml.ScalarNode) or v.style in ("|", ">"):
                raise ValueError(f"actions[{index}].{key} is not a plain value")
            start, end = int(v.start_mark.index), int(v.end_mark.index)
            if v.value == "" and not v.style and start == end:  # `key:` with nothing after it
                return front[:start] + " " + text + front[end:]
            if v.style in ("'", '"') and isinstance(value, str):
                text = dump_scalar(value, style=v.style)
            return front[:start] + text + front[end:]
    if item.flow_style:
        end = int(item.end_mark.index) - 1  # the closing brace
        return front[:end].rstrip() + f", {key}: {text}" + front[end:]
    first_key = item.value[0][0]
    indent = " " * first_key.start_mark.column
    last_value = item.value[-1][1]
    end = int(last_value.end_mark.index)
    line_end = front.find("\n", end)
    if line_end == -1:
        return front + f"\n{indent}{key}: {text}\n"
    # after the last value's line (past comments trailing on that line)
    if last_value.end_mark.column == 0:  # a block value ends at the start of the next line
        line_end = end - 1
    return front[: line_end + 1] + f"{indent}{key}: {text}\n" + front[line_end + 1 :]
