"""Delivery URLs from templates: byte for byte what the SDK builds, for every shipped slot."""

from collections.abc import Iterator
from typing import Any

import cloudinary
import cloudinary.utils
import pytest

from cloudinary_emulator.server import sdk_config
from gateway.settings import Settings
from resolvers.assets import DamClient, DamConfig, UrlTemplate
from resolvers.channels import ChannelProfile, SlotProfile, load_channels
from resolvers.locales import LocaleResolver
from resolvers.media import UrlBuilder, slot_transformation

# What Cloudinary delivery looks like in production, and through the emulator (cname, http).
DAM_OPTIONS = {
    "cloudinary": {"secure": True},
    "emulator": sdk_config("http://127.0.0.1:9/", "demo", "key", "secret"),
}
PUBLIC_IDS = (
    "plain",
    "catalog/NW-RUN-001/hero-1",
    "catalog//double//slashes/",
    "Größe/Bild mit Leerzeichen ü €",
    "100%25 wool/a+b&c?d#e",
    "v123",
    "v123/front",
    "https://example.com/remote image.jpg",
    "http:bare",
    "",
)
VERSIONS = (None, 1712345678)
# A slot the shipped profiles lack: a named transformation first, then a watermark.
EXTRA_SLOT = SlotProfile(
    width=640,
    height=480,
    crop="pad",
    background="white",
    named_transformation="brand_frame",
    watermark="placeholders/watermark",
    densities=[1, 1.5, 2],
    roles=["hero"],
    placeholder="placeholders/product",
)


def shipped_profiles() -> dict[str, ChannelProfile]:
    settings = Settings()
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    return load_channels(settings.channels_path, locales).profiles


def every_slot() -> Iterator[tuple[str, SlotProfile]]:
    for channel, profile in shipped_profiles().items():
        for name, slot in profile.slots.items():
            yield f"{channel}.{name}", slot
    yield "extra", EXTRA_SLOT


def client(options: dict[str, Any]) -> DamClient:
    return DamClient(DamConfig("demo", "key", "secret", options))


def sdk_url(dam_options: dict[str, Any], public_id: str, **options: Any) -> str:
    """The SDK's URL, built without the gateway (as UrlBuilder built them before templates)."""
    credentials = {"cloud_name": "demo", "api_key": "key", "api_secret": "secret"}
    url, _ = cloudinary.utils.cloudinary_url(public_id, **{**credentials, **dam_options, **options})
    return str(url)


def slot_options(slot: SlotProfile, dpr: float | None, signed: bool) -> dict[str, Any]:
    options: dict[str, Any] = {
        "resource_type": slot.resource_type,
        "transformation": slot_transformation(slot, dpr),
        "sign_url": signed,
    }
    if slot.format != "auto":
        options["format"] = slot.format
    return options


def builder(dam: DamClient, signed: bool) -> UrlBuilder:
    profile = next(iter(shipped_profiles().values()))
    return UrlBuilder(dam, profile.model_copy(update={"signed": signed}))


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("dam_options", DAM_OPTIONS.values(), ids=DAM_OPTIONS.keys())
def test_slot_urls_equal_sdk_urls(dam_options: dict[str, Any], signed: bool) -> None:
    dam = client(dam_options)
    urls = builder(dam, signed)
    for name, slot in every_slot():
        for dpr in (None, *slot.densities):
            assert dam.url_template(**slot_options(slot, dpr, signed)) is not None, name
            for public_id in PUBLIC_IDS:
                for version in VERSIONS:
                    asset = {"publicId": public_id, "version": version}
                    expected = sdk_url(
                        dam_options, public_id, **slot_options(slot, dpr, signed), version=version
                    )
                    assert urls.url(slot, public_id, asset, dpr) == expected, (name, public_id)
        entries = [
            sdk_url(dam_options, "a b/c", **slot_options(slot, density, signed), version=7)
            + f" {density:g}x"
            for density in slot.densities
        ]
        assert urls.srcset(slot, "a b/c", {"version": 7}) == ", ".join(entries), name


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("dam_options", DAM_OPTIONS.values(), ids=DAM_OPTIONS.keys())
def test_poster_and_streaming_urls_equal_sdk_urls(
    dam_options: dict[str, Any], signed: bool
) -> None:
    dam = client(dam_options)
    urls = builder(dam, signed)
    for name, slot in every_slot():
        image_slot = slot.model_copy(update={"resource_type": "image", "format": "jpg"})
        frame = slot_transformation(image_slot)
        frame[0 if not slot.named_transformation else 1]["start_offset"] = "auto"
        for public_id in PUBLIC_IDS:
            for version in VERSIONS:
                video = {"publicId": public_id, "version": version}
                assert urls.poster_url(slot, video) == sdk_url(
                    dam_options,
                    public_id,
                    resource_type="video",
                    transformation=frame,
                    format="jpg",
                    sign_url=signed,
                    version=version,
                ), (name, public_id)
                with_poster = {**video, "poster": f"{public_id} poster"}
                assert urls.poster_url(slot, with_poster) == sdk_url(
                    dam_options,
                    f"{public_id} poster",
                    transformation=slot_transformation(image_slot),
                    format="jpg",
                    sign_url=signed,
                ), (name, public_id)
                assert urls.streaming_url(video) == sdk_url(
                    dam_options,
                    public_id,
                    resource_type="video",
                    format="m3u8",
                    transformation=[{"streaming_profile": "auto"}],
                    sign_url=signed,
                    version=version,
                ), public_id


def test_copied_slots_share_one_template(monkeypatch: pytest.MonkeyPatch) -> None:
    dam = client({"secure": True})
    derived: list[dict[str, Any]] = []
    original = DamClient.url_template

    def spy(self: DamClient, **options: Any) -> UrlTemplate | None:
        derived.append(options)
        return original(self, **options)

    monkeypatch.setattr(DamClient, "url_template", spy)
    slot = shipped_profiles()["web"].slots["card"]
    for _ in range(3):
        # The GraphQL layer copies slots per call; the template key must not see that.
        builder(dam, False).url(slot.model_copy(), "catalog/x/hero-1", {"version": 3})
    builder(dam, True).url(slot, "catalog/x/hero-1", {"version": 3})
    assert len(derived) == 2
    assert dam.stats.urls_built == 4


def test_a_url_built_again_is_filled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    dam = client({"secure": True})
    fills: list[tuple[str, Any]] = []
    original = UrlTemplate.fill

    def spy(self: UrlTemplate, public_id: str, version: int | str | None = None) -> str:
        fills.append((public_id, version))
        return original(self, public_id, version)

    monkeypatch.setattr(UrlTemplate, "fill", spy)
    slot = shipped_profiles()["web"].slots["card"]
    urls = builder(dam, False)
    built = [
        urls.url(slot, public_id, {"version": version})
        for _ in range(3)
        for public_id in ("catalog/x/hero-1", "Größe/Bild ü")
        for version in (None, 3)
    ]
    expected = [
        sdk_url({"secure": True}, public_id, **slot_options(slot, None, False), version=version)
        for public_id in ("catalog/x/hero-1", "Größe/Bild ü")
        for version in (None, 3)
    ]
    assert built == expected * 3
    # Once per id and version (deriving the template checks it on ids of its own).
    assert [f for f in fills if f[0] in ("catalog/x/hero-1", "Größe/Bild ü")] == [
        (public_id, version)
        for public_id in ("catalog/x/hero-1", "Größe/Bild ü")
        for version in (None, 3)
    ]
    assert dam.stats.urls_built == 12


@pytest.mark.parametrize(
    "options",
    [
        {"cdn_subdomain": True},
        {"secure_cdn_subdomain": True},
        {"private_cdn": True, "cdn_subdomain": True},
        {"long_url_signature": True},
        {"signature_algorithm": "sha256"},
        {"use_root_path": True},
        {"shorten": True},
    ],
)
def test_options_a_template_cannot_follow_fall_back_to_the_sdk(options: dict[str, Any]) -> None:
    dam_options = {"secure": True, **options}
    dam = client(dam_options)
    urls = builder(dam, True)
    slot = shipped_profiles()["web"].slots["card"]
    assert dam.url_template(**slot_options(slot, 2, True)) is None
    for public_id in PUBLIC_IDS:
        assert urls.url(slot, public_id, {"version": 5}, 2) == sdk_url(
            dam_options, public_id, **slot_options(slot, 2, True), version=5
        )
    assert dam.stats.urls_built == len(PUBLIC_IDS)


def test_global_sdk_settings_also_disable_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads options it is not given from its global configuration.
    monkeypatch.setattr(cloudinary.config(), "cdn_subdomain", True)
    dam = client({"secure": True})
    slot = shipped_profiles()["web"].slots["card"]
    assert dam.url_template(**slot_options(slot, None, False)) is None
    url = builder(dam, False).url(slot, "catalog/x/hero-1", None)
    assert url == sdk_url({"secure": True}, "catalog/x/hero-1", **slot_options(slot, None, False))
    assert "://res-" in url


def test_a_template_that_disagrees_with_the_sdk_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill = UrlTemplate.fill

    def off_by_one(self: UrlTemplate, public_id: str, version: int | str | None = None) -> str:
        url = fill(self, public_id, version)
        return url.replace("/", "//", 1) if "/" in public_id else url

    monkeypatch.setattr(UrlTemplate, "fill", off_by_one)
    dam = client({"secure": True})
    slot = shipped_profiles()["web"].slots["card"]
    assert dam.url_template(**slot_options(slot, None, False)) is None
    assert builder(dam, False).url(slot, "a/b", None) == sdk_url(
        {"secure": True}, "a/b", **slot_options(slot, None, False)
    )


def test_fill_refuses_what_the_sdk_passes_through() -> None:
    template = client({"secure": True}).url_template(transformation=[{"width": 10}])
    assert template is not None
    assert template.fill("a b/c", 4) == sdk_url(
        {"secure": True}, "a b/c", transformation=[{"width": 10}], version=4
    )
    for public_id in ("", "https://example.com/x.jpg"):
        with pytest.raises(ValueError, match="not templated"):
            template.fill(public_id)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("dam_options", DAM_OPTIONS.values(), ids=DAM_OPTIONS.keys())
def test_without_templates_the_sdk_builds_every_url_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, dam_options: dict[str, Any], signed: bool
) -> None:
    templated = builder(client(dam_options), signed)
    plain_dam = DamClient(DamConfig("demo", "key", "secret", dam_options), url_templates=False)
    plain = builder(plain_dam, signed)
    calls: list[str] = []
    sdk = cloudinary.utils.cloudinary_url

    def counted(public_id: str, **options: Any) -> Any:
        calls.append(public_id)
        return sdk(public_id, **options)

    def no_templates(self: DamClient, **options: Any) -> UrlTemplate | None:
        raise AssertionError("a template was derived")

    for name, slot in every_slot():
        for public_id in PUBLIC_IDS:
            for version in VERSIONS:
                asset = {"publicId": public_id, "version": version}
                expected = (
                    templated.url(slot, public_id, asset),
                    templated.srcset(slot, public_id, asset),
                    templated.poster_url(slot, asset),
                    templated.poster_url(slot, {**asset, "poster": f"{public_id} poster"}),
                    templated.streaming_url(asset),
                )
                with monkeypatch.context() as patch:
                    patch.setattr(cloudinary.utils, "cloudinary_url", counted)
                    patch.setattr(DamClient, "url_template", no_templates)
                    built = plain_dam.stats.urls_built
                    got = (
                        plain.url(slot, public_id, asset),
                        plain.srcset(slot, public_id, asset),
                        plain.poster_url(slot, asset),
                        plain.poster_url(slot, {**asset, "poster": f"{public_id} poster"}),
                        plain.streaming_url(asset),
                    )
                assert got == expected, (name, public_id, version)
                # One SDK call per URL: the srcset's densities, two posters, one stream.
                assert len(calls) == plain_dam.stats.urls_built - built == 4 + len(slot.densities)
                calls.clear()
    assert plain_dam._templates == {}
    assert templated.dam._templates
