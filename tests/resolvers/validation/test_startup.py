"""A bad validation.toml stops `serve` and every command before anything starts."""

from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.gateway.test_cli import Command
from tests.gateway.test_cli import command as command  # the fixture: main in this process


@pytest.mark.parametrize("args", [["serve"], ["seed", "--demo"], ["audit"]])
def test_a_bad_rule_stops_the_command_naming_file_and_line(
    tmp_path: Path, args: list[str], command: Command
) -> None:
    shipped = Settings().validation_path.read_text().splitlines()
    line = shipped.index("[attributes.weight]") + 4  # its "min = 0.001", 1-based
    assert shipped[line - 1] == "min = 0.001"
    shipped[line - 1] = 'min = "light"'
    rules = tmp_path / "validation.toml"
    rules.write_text("\n".join(shipped))
    status, _, stderr = command(*args, CATALOG_VALIDATION=str(rules))
    assert status == 1
    assert stderr.strip() == (
        f"catalog-gateway: error: {rules}:{line}: attributes.weight.min: Input should be a "
        "valid number, unable to parse string as a number"
    )
