"""``catalog-gateway keys``: the first admin key comes from here."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import MongoClient

from gateway.cli import main

PEPPER = "p" * 32


@pytest.fixture
def env(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_KEY_PEPPER", PEPPER)
    monkeypatch.setenv("CATALOG_KEY_ENV", "test")


def keys(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["keys", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.usefixtures("env")
def test_create_list_rotate_revoke(
    capsys: pytest.CaptureFixture[str], mongodb_uri: str, db_name: str
) -> None:
    status, out, err = keys(
        capsys, "create", "--name", "nightly sync", "--role", "integration", "--source", "erp",
        "--expires", "90d",
    )  # fmt: skip
    assert status == 0
    secret = out.strip()
    assert secret.startswith("cgw_test_")
    assert len(out.splitlines()) == 1  # $(catalog-gateway keys create …) captures the key alone
    assert "not shown again" in err
    key_id = secret.split("_")[2]

    status, out, _ = keys(capsys, "list")
    assert status == 0
    assert key_id in out
    assert "nightly sync" in out
    assert "active" in out
    with MongoClient[dict[str, Any]](mongodb_uri) as client:
        stored = client[db_name]["api_keys"].find_one({"_id": key_id})
    assert stored is not None
    assert secret.split("_", 3)[3] not in out
    assert stored["secrets"][0]["hash"] not in out

    status, out, err = keys(capsys, "rotate", key_id, "--overlap", "1h")
    assert status == 0
    assert out.strip() != secret
    assert "previous secret works until" in err

    status, _, err = keys(capsys, "revoke", key_id)
    assert status == 0
    assert "revoked" in err
    _, out, _ = keys(capsys, "list")
    assert "revoked" in out


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--name", "x", "--role", "owner"], "unknown role 'owner'; roles: storefront"),
        (["create", "--name", "x", "--role", "editor"], "must expire"),
        (["create", "--name", "x", "--role", "viewer", "--channel", "fax"], "unknown channel"),
        (["revoke", "nosuchkey123"], "no API key 'nosuchkey123'"),
    ],
)
def test_bad_requests_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, out, err = keys(capsys, *args)
    assert status == 1
    assert out == ""
    assert err.startswith("catalog-gateway: error: ")
    assert message in err
    assert len(err.splitlines()) == 1


@pytest.mark.usefixtures("env")
def test_a_bad_duration_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "create", "--name", "x", "--role", "viewer", "--expires", "soon"])
    assert exit_info.value.code == 2
    assert "'soon' is not a duration like 90d" in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_without_a_pepper_keys_cannot_be_made(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CATALOG_KEY_PEPPER")
    status, _, err = keys(capsys, "create", "--name", "x", "--role", "viewer")
    assert status == 1
    assert "CATALOG_KEY_PEPPER is required" in err
