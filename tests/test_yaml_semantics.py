"""One YAML for the whole tool (1.2 core schema): what validate accepts is what every command
reads and re-verifies; what it refuses is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentctl.core.documents import dump_scalar, load_yaml
from incidentctl.core.errors import DocumentError
from tests.conftest import Invoke, declare, incident_file


def test_yes_no_on_are_text_and_leading_zeros_are_decimal() -> None:
    data = load_yaml(Path("x.yaml"), "a: yes\nb: no\nc: on\nd: 010\ne: true\nf: 2026-11-27\n")
    assert data == {"a": "yes", "b": "no", "c": "on", "d": 10, "e": True, "f": "2026-11-27"}


@pytest.mark.parametrize("text", ["0o10", "yes", "010", "null", "1e3", "~", "true", "- a", "a: b"])
def test_a_written_string_reads_back_as_that_string(text: str) -> None:
    assert load_yaml(Path("x.yaml"), f"k: {dump_scalar(text)}\n") == {"k": text}


@pytest.mark.parametrize(
    ("value", "shown"),
    [("!foo x", "YAML tag !foo is not allowed"), ("&a x", "anchors and aliases")],
)
def test_foreign_tags_and_anchors_are_refused_with_their_line(value: str, shown: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_yaml(Path("x.yaml"), f"a: 1\nb: {value}\n", line_offset=1)
    assert shown in caught.value.message
    assert caught.value.line == 3


def test_core_tags_are_read() -> None:
    assert load_yaml(Path("x.yaml"), "a: !!str 010\n") == {"a": "010"}


def test_a_merge_key_is_refused_at_its_line() -> None:
    with pytest.raises(DocumentError) as caught:
        load_yaml(Path("x.yaml"), "a: 1\nb:\n  <<: {c: 1}\n")
    assert "merge keys" in caught.value.message
    assert caught.value.line == 3


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(DocumentError) as caught:
        load_yaml(Path("x.yaml"), "a: 1\nb: [1, 2\nc: 3\n")
    assert caught.value.line is not None
    assert caught.value.rule == "yaml"


def test_an_edit_reads_back_under_the_same_semantics(repo: Path, cli: Invoke) -> None:
    """A timeline message that YAML 1.1 and 1.2 read differently survives the edit's check."""
    incident_id = declare(cli)
    for message in ("0o10", "yes", "010"):
        result = cli("update", incident_id, "-m", message, "--at", "2026-11-27T15:05:00Z")
        assert result.code == 0, result.err
    assert cli("validate").code == 0
    text = incident_file(repo, incident_id).read_text()
    assert 'text: "0o10"' in text  # quoted: plain, YAML 1.2 would read the number 8
    events = load_yaml(Path("x"), text.split("---\n")[1])["timeline"]
    assert {"0o10", "yes", "010"} <= {e.get("text") for e in events}
