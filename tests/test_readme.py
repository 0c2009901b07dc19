"""The README's examples run as written on this repository's samples.

Every ```sh block that the README precedes with `<!-- runs-on-samples -->` is run here command
by command, through the real CLI (in-process, as the `cli` fixture does), in a fresh copy of the
samples (incidents/, runbooks/, policies/, maintenances/, CODEOWNERS) committed in a temporary
git repository with a bare `origin`, so `git push` works too. The clock is the samples' now
(`INCIDENTCTL_NOW`, the one scripts/main-job.sh uses); a command with its own `--now` replays
another time. Each command must exit 0, or N when its comment says `exit N`.

The runner reads the little sh the README needs, and fails on anything else, naming the line:
`\\` continuations, `#` comments, quoting, `NAME=$(command)` and `"$NAME"`, and `&&` between
commands; the commands are incidentctl and git.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, NOW, Invoke, Result, git

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = "<!-- runs-on-samples -->"
SAMPLES = ("incidents", "runbooks", "policies", "maintenances", "CODEOWNERS")

_CAPTURE = re.compile(r"([A-Za-z_]\w*)=\$")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_EXIT = re.compile(r"\bexit (\d+)\b")
_OPERATORS = {"&&", "(", ")"}


@dataclass(frozen=True)
class Block:
    line: int  # README line of the block's first command line
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Command:
    line: int  # README line where the command starts
    source: str  # as written, continuations joined
    chain: tuple[tuple[str, ...], ...]  # the commands joined by &&
    capture: str | None  # NAME of NAME=$(command)
    expect: int


def marked_blocks(markdown: str) -> list[Block]:
    """The ```sh blocks right after a marker line (blank lines between are allowed)."""
    lines = markdown.splitlines()
    blocks = []
    for number, text in enumerate(lines):
        if text.strip() != MARKER:
            continue
        start = number + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start == len(lines) or lines[start].strip() != "```sh":
            raise AssertionError(f"README.md:{number + 1}: {MARKER} must precede a ```sh block")
        end = start + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise AssertionError(f"README.md:{start + 1}: the ```sh block is not closed")
        blocks.append(Block(start + 2, tuple(lines[start + 1 : end])))
    return blocks


def split_comment(line: str) -> tuple[str, str]:
    """(code, comment): a `#` starts a comment outside quotes, at the start or after a space."""
    quote = None
    escaped = False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1 :]
    return line, ""


def commands(block: Block) -> list[Command]:
    out: list[Command] = []
    pending: list[str] = []
    first = block.line
    for number, text in enumerate(block.lines, start=block.line):
        if not pending:
            first = number
        if text.endswith("\\"):
            pending.append(text[:-1])
            continue
        source = " ".join(part.strip() for part in [*pending, text])
        pending = []
        code, comment = split_comment(source)
        if code.strip():
            out.append(parse(first, source, code, comment))
    if pending:
        raise AssertionError(f"README.md:{first}: the last command ends with a continuation")
    return out


def parse(line: int, source: str, code: str, comment: str) -> Command:
    lexer = shlex.shlex(code, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    tokens = list(lexer)
    where = f"README.md:{line}: `{source}`"
    capture = None
    captured = _CAPTURE.fullmatch(tokens[0]) if len(tokens) > 3 else None
    if captured and tokens[1] == "(" and tokens[-1] == ")":
        capture = captured.group(1)
        tokens = tokens[2:-1]
    chain: list[tuple[str, ...]] = [()]
    for token in tokens:
        if token == "&&" and chain[-1] and capture is None:
            chain.append(())
        elif token in _OPERATORS or (token and set(token) <= set(lexer.punctuation_chars)):
            raise AssertionError(f"{where}: this runner does not read {token!r}")
        else:
            chain[-1] = (*chain[-1], token)
    if not chain[-1]:
        raise AssertionError(f"{where}: a command is missing")
    exit_code = _EXIT.search(comment)
    expect = int(exit_code.group(1)) if exit_code else 0
    if expect and len(chain) > 1:
        raise AssertionError(f"{where}: an expected exit code needs a single command")
    for argv in chain:
        if argv[0] not in ("incidentctl", "git"):
            raise AssertionError(f"{where}: this runner runs incidentctl and git, not {argv[0]}")
    return Command(line, source, tuple(chain), capture, expect)


BLOCKS = marked_blocks(README.read_text(encoding="utf-8"))


def test_readme_marks_its_runnable_blocks() -> None:
    # at 3 a.m., PIRs, runbooks, communications, status page, maintenance, metrics
    assert len(BLOCKS) >= 7
    assert all(commands(block) for block in BLOCKS)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This repository's samples, committed in a fresh git repository with a bare origin (for
    `git push`); the clock at the samples' now. Overrides conftest's `repo`, so `cli` runs here."""
    root = tmp_path / "samples"
    root.mkdir()
    for name in SAMPLES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy2(source, root / name)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "samples")
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "-u", "origin", "main")
    monkeypatch.setenv("INCIDENTCTL_NOW", NOW)
    return root


def _expand(argv: tuple[str, ...], variables: dict[str, str], where: str) -> list[str]:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise AssertionError(f"{where}: ${name} is not set by an earlier command")
        return variables[name]

    return [_VARIABLE.sub(value, arg) for arg in argv]


def _run_git(root: Path, args: list[str]) -> Result:
    env = {**os.environ, **GIT_ENV, "HOME": str(root)}
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: f"README.md:{block.line}")
def test_readme_block_runs_on_the_samples(block: Block, repo: Path, cli: Invoke) -> None:
    variables: dict[str, str] = {}
    for command in commands(block):
        where = f"README.md:{command.line}: `{command.source}`"
        for argv in command.chain:
            args = _expand(argv, variables, where)
            result = cli(*args[1:]) if args[0] == "incidentctl" else _run_git(repo, args[1:])
            detail = f"{where} exited {result.code}, expected {command.expect}\n"
            assert result.code == command.expect, detail + result.out + result.err
        if command.capture is not None:
            value = result.out.strip()
            assert len(value.splitlines()) == 1, f"{where}: printed {result.out!r}, not one value"
            variables[command.capture] = value
