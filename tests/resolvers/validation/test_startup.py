"""A bad validation.toml stops `serve` and every command before anything starts."""

from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.gateway.test_cli import clean_env, run


@pytest.mark.parametrize("command", [["serve"], ["seed", "--demo"], ["audit"]])
def test_a_bad_rule_stops_the_command_naming_file_and_line(
    tmp_path: Path, command: list[str]
) -> None:
    shipped = Settings().validation_path.read_text().splitlines()
    line = shipped.index("[attributes.weight]") + 4  # its "min = 0.001", 1-based
    assert shipped[line - 1] == "min = 0.001"
    shipped[line - 1] = 'min = "light"'
    rules = tmp_path / "validation.toml"
    rules.write_text("\n".join(shipped))
    result = run(*command, env=clean_env(CATALOG_VALIDATION=str(rules)))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"catalog-gateway: error: {rules}:{line}: attributes.weight.min: Input should be a "
        "valid number, unable to parse string as a number"
    )
