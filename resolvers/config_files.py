"""Version-controlled TOML configuration files validated by pydantic models.

A bad file stops start-up (or a CLI command) with the file, the line, the key and the reason,
so the person who edited it can go straight to the line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(ValueError):
    """A configuration file is invalid; the message names the file, line, key and reason."""


def read_config_text(path: Path, what: str, error: type[ConfigFileError]) -> str:
    """The file's text, or ``error`` naming the file and the operating system's reason."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from exc


def parse_config(text: str, source: str, model: type[M], error: type[ConfigFileError]) -> M:
    """Parse TOML ``text`` into ``model``, or raise ``error`` with ``source:line: key: reason``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: invalid TOML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        line = line_of(text, [str(p) for p in first["loc"]])
        reason = first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise error(f"{source}:{line}: {key}: {reason}{more}") from None


def line_of(text: str, loc: list[str]) -> int:
    """Best-effort line of a key path: the table header, then the key inside it."""
    lines = text.splitlines()
    best = 1
    # The longest prefix of the path that has its own [table] header.
    for depth in range(len(loc), 0, -1):
        header = "[" + ".".join(loc[:depth]) + "]"
        for number, line in enumerate(lines, start=1):
            if line.strip() == header:
                best = number
                rest = loc[depth:]
                if rest:
                    key = re.compile(rf"^\s*{re.escape(rest[0])}\s*=")
                    for offset, candidate in enumerate(lines[number:], start=number + 1):
                        if candidate.strip().startswith("["):
                            break
                        if key.match(candidate):
                            return offset
                return best
    # A top-level key: before the first table.
    if loc:
        key = re.compile(rf"^\s*{re.escape(loc[0])}\s*=")
        for number, line in enumerate(lines, start=1):
            if line.strip().startswith("["):
                break
            if key.match(line):
                return number
    return best
