"""Every GraphQL example of the README and of docs/*.md runs against the demo catalog.

The examples are the ```graphql blocks and the query inside the README's curl command. Each runs
against the seeded 300-product demo catalog (``tests.demo_fixtures``) and must answer without
errors and with something in it: no null or empty root field, no listing with ``totalCount: 0``
or no ``edges``. A block that cannot run as it stands (an id that differs per database, a
schema excerpt) says so on the line before it, in an HTML comment that gives the reason:
``<!-- docs-example: not runnable, REASON -->``.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    OperationDefinitionNode,
    parse,
)
from graphql.execution.types import IncrementalDeferResult

from resolvers.services import Services
from tests.graphql_helpers import execute

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
NOT_RUNNABLE = re.compile(r"\s*<!--\s*docs-example:\s*not runnable,\s*(?P<reason>\S.*?)\s*-->\s*")
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`\s]*)\s*$")


@dataclass(frozen=True, slots=True)
class Example:
    page: str
    line: int  # of the opening fence (or of the curl command)
    query: str
    skip: str | None  # why the block is not runnable


def _blocks(text: str) -> list[tuple[int, str, str, str]]:
    """(line of the opening fence, info string, body, the last non-blank line before it)."""
    lines = text.splitlines()
    found = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next(
            (
                j
                for j in range(index + 1, len(lines))
                if lines[j].strip() == "```" and lines[j].startswith(opening["indent"])
            ),
            None,
        )
        assert end is not None, f"unclosed code block at line {index + 1}"
        before = next((lines[j] for j in range(index - 1, -1, -1) if lines[j].strip()), "")
        found.append((index + 1, opening["info"], "\n".join(lines[index + 1 : end]), before))
        index = end + 1
    return found


def _curl_queries(script: str) -> list[str]:
    """The GraphQL queries POSTed by the curl commands of a shell block (``-d '{"query": …}'``)."""
    queries = []
    for command in re.split(r"(?<!\\)\n", script):
        words = shlex.split(command.replace("\\\n", " "), comments=True)
        if not words or words[0] != "curl":
            continue
        for flag, value in itertools.pairwise(words):
            if flag in ("-d", "--data", "--data-raw", "--data-binary"):
                queries.append(json.loads(value)["query"])
    return queries


def examples() -> list[Example]:
    found = []
    for path in PAGES:
        page = path.relative_to(ROOT).as_posix()
        for line, info, body, before in _blocks(path.read_text(encoding="utf-8")):
            marker = NOT_RUNNABLE.fullmatch(before)  # a line of its own, not prose quoting it
            skip = marker["reason"] if marker else None
            if info == "graphql":
                found.append(Example(page, line, body, skip))
            elif info in ("sh", "bash", "shell") and path.name == "README.md":
                found += [Example(page, line, query, skip) for query in _curl_queries(body)]
    return found


EXAMPLES = examples()
RUNNABLE = [example for example in EXAMPLES if example.skip is None]


def test_the_pages_have_examples_and_few_are_not_runnable() -> None:
    pages = {example.page for example in RUNNABLE}
    assert {"README.md", "docs/api.md", "docs/media.md", "docs/readiness.md"} <= pages
    # Ids that differ per database (a product's ObjectId, an import job's id): the rest run.
    assert len(EXAMPLES) - len(RUNNABLE) <= 2, [e for e in EXAMPLES if e.skip is not None]


def empty_results(data: dict[str, Any]) -> list[str]:
    """Root fields that are null or empty lists, and listings (at any depth) without rows."""
    problems = [
        f"{name} is {json.dumps(value)}" for name, value in data.items() if value in (None, [])
    ]

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if value.get("totalCount") == 0:
                problems.append(f"{path}.totalCount is 0")
            if value.get("edges") == []:
                problems.append(f"{path}.edges is empty")
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for position, item in enumerate(value):
                walk(item, f"{path}[{position}]")

    for name, value in data.items():
        walk(value, name)
    return problems


@pytest.mark.parametrize(
    "example", RUNNABLE, ids=[f"{example.page}:{example.line}" for example in RUNNABLE]
)
async def test_example_runs_against_the_demo_catalog(example: Example, demo: Services) -> None:
    operations = [
        definition
        for definition in parse(example.query).definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    # One operation per block: several anonymous ones are not a valid document, and a reader
    # pasting the block into GraphiQL should get one answer.
    assert len(operations) == 1, f"{len(operations)} operations in one block"
    result = await whole(await execute(demo, example.query))
    assert result.errors is None, [error.formatted for error in result.errors]
    assert result.data is not None
    assert empty_results(result.data) == []


async def whole(result: Any) -> ExecutionResult:
    """An example using @defer or @stream, its parts put together as a client would."""
    if not isinstance(result, ExperimentalIncrementalExecutionResults):
        return result  # type: ignore[no-any-return]
    initial = result.initial_result
    data, errors = initial.data, list(initial.errors or [])
    paths = {pending.id: pending.path for pending in initial.pending or []}
    async for later in result.subsequent_results:
        paths.update({pending.id: pending.path for pending in later.pending or []})
        for part in later.incremental or []:
            errors += part.errors or []
            target: Any = data
            for key in paths[part.id]:
                target = target[key]
            if isinstance(part, IncrementalDeferResult):
                for key in part.sub_path or []:
                    target = target[key]
                target.update(part.data)
            else:
                target.extend(part.items)
        for completed in later.completed or []:
            errors += completed.errors or []
    return ExecutionResult(data, errors or None)
