"""The emulator's optional ``storage_dir``: assets survive a restart, through the official SDK."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import cloudinary.api
import cloudinary.uploader
import httpx
import pytest

from cloudinary_emulator import Emulator, EmulatorConfig, EmulatorServer
from cloudinary_emulator.persistence import CorruptAssetFileError
from tests.emulator.helpers import url_for
from tests.emulator_fixtures import open_image, png_bytes

CLOUD = "persist-test"
API_KEY = "123456789012345"
API_SECRET = "persist-secret"
SIZE = (240, 160)


def config_for(storage_dir: Path) -> EmulatorConfig:
    return EmulatorConfig(
        cloud_name=CLOUD, api_key=API_KEY, api_secret=API_SECRET, storage_dir=storage_dir
    )


@pytest.fixture
def storage_dir(tmp_path: Path) -> Path:
    return tmp_path / "cloudinary"


def upload(sdk: dict[str, Any], public_id: str, **options: Any) -> dict[str, Any]:
    data = png_bytes(*SIZE, seed=public_id)
    result: dict[str, Any] = cloudinary.uploader.upload(data, public_id=public_id, **sdk, **options)
    return result


def by_ids(sdk: dict[str, Any], *public_ids: str) -> dict[str, dict[str, Any]]:
    """What the Admin API says of the assets, less the URLs (each server has its own port)."""
    result = cloudinary.api.resources_by_ids(
        list(public_ids), tags=True, context=True, metadata=True, **sdk
    )
    return {
        resource["public_id"]: {
            key: value for key, value in resource.items() if key not in ("url", "secure_url")
        }
        for resource in result["resources"]
    }


def metadata_files(storage_dir: Path) -> list[Path]:
    return sorted((storage_dir / "assets").glob("*.json"))


def test_assets_survive_a_restart(storage_dir: Path, http: httpx.Client) -> None:
    context = {"alt": "Red shoe | side = left", "caption": "Ünïcode"}
    with EmulatorServer(config_for(storage_dir)) as first:
        sdk = first.sdk_config()
        original = upload(
            sdk, "catalog/SKU-1/hero", tags=["hero", "red"], context=context, metadata={"sku": "1"}
        )
        upload(sdk, "catalog/SKU-1/side")
        cloudinary.uploader.add_tag("later", ["catalog/SKU-1/side"], **sdk)
        cloudinary.api.update("catalog/SKU-1/side", context={"alt": "Side"}, **sdk)
        before = by_ids(sdk, "catalog/SKU-1/hero", "catalog/SKU-1/side")

    with EmulatorServer(config_for(storage_dir)) as second:
        sdk = second.sdk_config()
        after = by_ids(sdk, "catalog/SKU-1/hero", "catalog/SKU-1/side")
        assert after == before
        hero = after["catalog/SKU-1/hero"]
        assert hero["version"] == original["version"]
        assert hero["asset_id"] == original["asset_id"]
        assert hero["created_at"] == original["created_at"]
        assert hero["tags"] == ["hero", "red"]
        assert hero["context"] == {"custom": context}
        assert hero["metadata"] == {"sku": "1"}
        side = after["catalog/SKU-1/side"]
        assert (side["tags"], side["context"]) == (["later"], {"custom": {"alt": "Side"}})

        # Delivery renders the stored bytes.
        response = http.get(url_for(sdk, "catalog/SKU-1/hero", format="png"))
        assert response.content == png_bytes(*SIZE, seed="catalog/SKU-1/hero")
        resized = http.get(
            url_for(sdk, "catalog/SKU-1/hero", width=120, crop="scale", format="jpg")
        )
        assert open_image(resized.content).size == (120, 80)

        # New assets sort and version after the restored ones.
        newer = upload(sdk, "catalog/SKU-1/new", tags=["hero"])
        assert newer["version"] > original["version"]
        listed = cloudinary.api.resources_by_tag("hero", **sdk)["resources"]
        assert [r["public_id"] for r in listed] == ["catalog/SKU-1/new", "catalog/SKU-1/hero"]
        # Stats are not persisted: the restarted emulator counts only its own calls.
        stats = second.emulator.stats
        assert stats.admin_calls_by_operation == {"resources_by_ids": 1, "resources_by_tag": 1}
        assert stats.upload_calls_by_operation == {"upload": 1}
        assert stats.delivery_requests == 2


def test_overwrite_and_deletes_persist(storage_dir: Path) -> None:
    with EmulatorServer(config_for(storage_dir)) as first:
        sdk = first.sdk_config()
        for name in ("keep", "destroyed", "deleted"):
            upload(sdk, name)
        replaced = cloudinary.uploader.upload(
            png_bytes(60, 40, seed="other"), public_id="keep", **sdk
        )
        assert cloudinary.uploader.destroy("destroyed", **sdk)["result"] == "ok"
        assert cloudinary.api.delete_resources(["deleted"], **sdk)["deleted"] == {
            "deleted": "deleted"
        }
    assert len(metadata_files(storage_dir)) == 1
    # Only the overwriting version's bytes are left.
    assert len(list((storage_dir / "assets").glob("*.bin"))) == 1

    with EmulatorServer(config_for(storage_dir)) as second:
        sdk = second.sdk_config()
        found = by_ids(sdk, "keep", "destroyed", "deleted")
        assert list(found) == ["keep"]
        assert found["keep"]["version"] == replaced["version"]
        assert (found["keep"]["width"], found["keep"]["height"]) == (60, 40)


def test_corrupt_files_are_skipped_with_a_warning(
    storage_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with EmulatorServer(config_for(storage_dir)) as first:
        sdk = first.sdk_config()
        upload(sdk, "good")
        upload(sdk, "garbled")
        upload(sdk, "truncated")
        upload(sdk, "wrong-type")
    files = {
        json.loads(path.read_text())["public_id"]: path for path in metadata_files(storage_dir)
    }
    files["garbled"].write_bytes(b'{"schema": 1, "public_id": "garb')
    truncated = json.loads(files["truncated"].read_text())
    data_file = storage_dir / "assets" / truncated["data_file"]
    data_file.write_bytes(data_file.read_bytes()[:100])
    wrong = json.loads(files["wrong-type"].read_text())
    wrong["tags"] = "not-a-list"
    files["wrong-type"].write_text(json.dumps(wrong))

    with caplog.at_level(logging.WARNING, logger="cloudinary_emulator.persistence"):
        second = EmulatorServer(config_for(storage_dir))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert all(message.startswith("Skipping unreadable") for message in warnings)
    with second:
        sdk = second.sdk_config()
        assert list(by_ids(sdk, "good", "garbled", "truncated", "wrong-type")) == ["good"]
        # The emulator works on: a new upload under a skipped ID is stored again.
        upload(sdk, "garbled")
    # Files next to the skipped metadata are left for inspection, not deleted.
    assert data_file.exists()
    restarted = Emulator(config_for(storage_dir))
    assert restarted.get_asset("garbled") is not None


def test_seed_image_reset_and_interrupted_writes(storage_dir: Path) -> None:
    first = Emulator(config_for(storage_dir))
    seeded = first.seed_image("seeded/one", width=32, height=24, tags=["seed"], context={"a": "b"})
    first.seed_video("seeded/clip", duration=3.5)
    assets = storage_dir / "assets"
    # What a crash mid-write leaves: a temporary file and bytes no metadata points at.
    (assets / ".half-written.json.x1y2.tmp").write_bytes(b"{")
    (assets / f"{'0' * 64}.deadbeef.bin").write_bytes(b"orphan")

    second = Emulator(config_for(storage_dir))
    restored = second.get_asset("seeded/one")
    assert restored == seeded
    clip = second.get_asset("seeded/clip", resource_type="video")
    assert clip is not None
    assert clip.duration == 3.5
    assert sorted(path.suffix for path in assets.iterdir()) == [".bin", ".bin", ".json", ".json"]

    second.reset()
    assert list(assets.iterdir()) == []
    assert len(Emulator(config_for(storage_dir)).store) == 0


def test_storage_dir_accepts_a_string(tmp_path: Path) -> None:
    config = EmulatorConfig(storage_dir=str(tmp_path / "s"))  # type: ignore[arg-type]
    assert config.storage_dir == tmp_path / "s"
    assert EmulatorConfig().storage_dir is None


def test_bytes_are_read_when_first_used(storage_dir: Path) -> None:
    # Start-up reads the metadata only (the demo's 1,771 pictures were 180 MB read and hashed).
    seeded = Emulator(config_for(storage_dir)).seed_image("seeded/lazy", width=32, height=24)
    restored = Emulator(config_for(storage_dir)).get_asset("seeded/lazy")
    assert restored is not None
    [data_file] = (storage_dir / "assets").glob("*.bin")
    # Other bytes of the same size, written behind the emulator's back after its start.
    data_file.write_bytes(bytes(len(seeded.data)))
    assert (restored.size, restored.etag) == (seeded.size, seeded.etag)
    with pytest.raises(CorruptAssetFileError, match="changed since the emulator loaded it"):
        _ = restored.data
    # Read before the change, the bytes are the emulator's own from then on.
    data_file.write_bytes(seeded.data)
    again = Emulator(config_for(storage_dir)).get_asset("seeded/lazy")
    assert again is not None
    assert again.data == seeded.data
    data_file.write_bytes(bytes(len(seeded.data)))
    assert again == seeded
