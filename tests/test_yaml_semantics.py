"""One YAML for the whole tool (1.2 core schema): what validate accepts is what every command
reads and re-verifies; what it refuses is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentctl.core.documents import dump_scalar, load_yaml
from incidentctl.core.errors import DocumentError
from incidentctl.core.timevalues import parse_timestamp
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


# -- top_level: a few top-level values from their own lines (overdue's settled pre-scan) ------

COLUMN_ZERO_INSIDE = {  # a line at column 0 inside a scalar or flow collection: refused
    "double-quoted": 'title: "abc\nclosed_at: 2026-01-01T00:00:00Z\n  def"\n',
    "single-quoted": "title: 'abc\nclosed_at: 2026-01-01T00:00:00Z'\n",
    "in a sequence": 'services:\n- "abc\nclosed_at: 2026-01-01T00:00:00Z\n  def"\n',
    "nested": 'timeline:\n  - text: "abc\nclosed_at: 2026-01-01T00:00:00Z\n    def"\n',
    "plain": "title: abc\ndef\nclosed_at: 2026-01-01T00:00:00Z\n",
    "flow sequence": "services: [a,\nclosed_at: 2026-01-01T00:00:00Z]\n",
    "flow mapping": "x: {a: 1,\nclosed_at: 2026-01-01T00:00:00Z}\n",
    "block scalar": "summary: |\nabc\nclosed_at: 2026-01-01T00:00:00Z\n",
}


@pytest.mark.parametrize("text", COLUMN_ZERO_INSIDE.values(), ids=COLUMN_ZERO_INSIDE)
def test_the_reader_refuses_a_column_zero_line_inside_a_value(text: str) -> None:
    """What `top_level` rests on: in a front-matter the reader accepts, a line at column 0
    begins a top-level entry. Should a new yaml-rs accept one of these, this fails first."""
    with pytest.raises(DocumentError):
        load_yaml(Path("f.md"), text)


WANTED = frozenset({"closed_at", "priority", "security_breach", "data_loss", "policy"})
FRONTS = [
    "id: INC-1\npriority: P3\nclosed_at: 2026-11-01T10:00:00Z\nsecurity_breach: false\n",
    "priority: \"P3\"   # quoted, with a comment\nclosed_at: '2026-11-01T10:00:00Z'\n",
    "title: a\n  b\npriority: P3\ntimeline:\n  - at: 2026-11-01T10:00:00Z\nclosed_at: x\n",
    "closed_at:\n  2026-11-01T10:00:00Z\npriority: P3\n",  # its value on the next line
    "security_breach: false\n  # an indented comment\npriority: P3\n",
    "priority: P3\n\nclosed_at: 2026-11-01T10:00:00Z\n",  # a blank line after one
    "priority: P3\n# a comment\nclosed_at: 2026-11-01T10:00:00Z\n",
    "services:\n- a\npriority: P3\nsecurity_breach:\n- true\n",
    '"security_breach": true\npriority: P3\n',  # a quoted key
    "security-breach: true\npriority: P3\n",
    "? security_breach\n: true\npriority: P3\n",
    "{priority: P3, closed_at: 2026-11-01T10:00:00Z}\n",
    "priority: P3\npriority: P0\n",  # a duplicate: refused
    "priority : P3\nclosed_at:    2026-11-01T10:00:00Z\ndata_loss: no\n",
    "priority: P3\nclosed_at: &a 2026-11-01T10:00:00Z\n",
    "priority: P3\nclosed_at: 2026-11-01T10:00:00Z\n...\n",
    "- priority: P3\n",
    "",
    "priority: P3\nsummary: |\n  closed_at: 2026-11-01T10:00:00Z\nsecurity_breach: false\n",
]


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("crlf", [False, True])
def test_top_level_values_are_the_whole_documents_or_none(front: str, crlf: bool) -> None:
    """Either None (judge the document in full), or for every wanted key exactly what the
    whole document holds, present or absent; whatever a document the reader refuses."""
    from incidentctl.core.documents import parse, top_level

    text = f"---\n{front}---\n\n# Notes\n"
    raw = (text.replace("\n", "\r\n") if crlf else text).encode()
    top = top_level(raw, WANTED)
    try:
        whole = parse(Path("f.md"), raw).data
    except DocumentError:
        return
    if top is not None:
        assert {k: whole[k] for k in WANTED if k in whole} == top


def test_top_level_reads_the_repositorys_incidents_as_a_full_parse_does() -> None:
    from incidentctl.core.documents import parse, top_level

    files = sorted(Path(__file__).resolve().parent.parent.glob("incidents/*/*/*/incident.md"))
    assert files
    for path in files:
        whole = parse(path, path.read_bytes()).data
        top = top_level(path.read_bytes(), WANTED)
        assert top == {k: whole[k] for k in WANTED if k in whole}, path


def test_the_settled_pre_scan_reads_only_the_fields_it_names() -> None:
    """`settled_as_written` reads no field outside `timers.SETTLING_FIELDS` (what the
    pre-scan extracts): a field read but not extracted would count as absent."""
    from incidentctl.deadlines import timers
    from tests.test_timers import POLICY, closed

    read: set[str] = set()

    class Recording(dict):  # type: ignore[type-arg]
        def get(self, key: object, default: object = None) -> object:
            read.add(str(key))
            return super().get(key, default)

        def __getitem__(self, key: object) -> object:
            read.add(str(key))
            return super().__getitem__(key)

    front = closed(timers.Priority.P3).model_dump(mode="json", exclude_none=True)
    approved = timers.PirState(approved=True, approved_at=parse_timestamp("2026-11-26T00:00:00Z"))
    for pir in (None, approved):
        timers.settled_as_written(Recording(front), pir, POLICY)
    assert read
    assert read <= timers.SETTLING_FIELDS
