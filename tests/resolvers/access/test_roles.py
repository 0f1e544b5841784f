from __future__ import annotations

from pathlib import Path

import pytest

from resolvers.access import Principal, RoleConfigError, Roles, Scope, load_roles, parse_roles

SHIPPED = Path(__file__).parents[3] / "gateway" / "roles.toml"


@pytest.fixture(scope="module")
def roles() -> Roles:
    return load_roles(SHIPPED)


def test_shipped_roles_grant_what_the_readme_promises(roles: Roles) -> None:
    scopes = {name: roles.roles[name].scopes for name in roles.names()}
    assert scopes["storefront"] == {Scope.CATALOG_READ}
    assert Scope.CATALOG_READ_DRAFTS in scopes["viewer"]
    assert Scope.CATALOG_WRITE not in scopes["viewer"]
    assert Scope.CATALOG_PUBLISH in scopes["lead"]
    assert Scope.CATALOG_PUBLISH not in scopes["editor"]
    assert Scope.AUDIT_READ not in scopes["integration"]
    assert scopes["admin"] == set(Scope)
    assert [name for name in roles.names() if roles.roles[name].can_write] == [
        "editor",
        "lead",
        "integration",
        "admin",
    ]


def test_a_storefront_sees_published_products_only(roles: Roles) -> None:
    storefront = Principal.anonymous(roles.roles["storefront"])
    viewer = Principal("key", roles.roles["viewer"], "nightly export", key_id="k1")
    draft = {"sku": "A", "status": "draft"}
    assert not storefront.product_visible(draft)
    assert storefront.product_visible({"sku": "B", "status": "published"})
    assert storefront.product_clause() == {"status": "published"}
    assert viewer.product_visible(draft)
    assert viewer.product_clause() is None


def test_channels_bound_a_key(roles: Roles) -> None:
    email_only = Principal(
        "key", roles.roles["storefront"], "newsletter", channels=frozenset({"email"})
    )
    assert email_only.may_read_channel("email")
    assert not email_only.may_read_channel("web")
    assert Principal.anonymous(roles.roles["storefront"]).may_read_channel("web")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('"catalog:read"]\nrate = { burst = 120', '"catalog:raed"]\nrate = { burst = 120'),
            "x.toml:{line}: roles.storefront.scopes.0: Input should be",
        ),
        (("burst = 600", "burst = 0"), "roles.integration.rate.burst: Input should be greater"),
        (("[roles.admin]", "[roles.Admin]"), "roles.Admin: role names must be lowercase"),
        (("[roles.storefront]", "[roles.shop]"), "the 'storefront' role is required"),
        (('"pim"', '"P I M"'), "x.toml:{line}: sources.0: source system names must be"),
        (('scopes = ["catalog:read"]', 'scopes = ["catalog:read", "catalog:read"]'), "twice"),
    ],
)
def test_a_bad_roles_file_names_the_line_and_the_key(edit: tuple[str, str], expected: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert edit[0] in text
    edited = text.replace(edit[0], edit[1], 1)
    # The line of the edit in the shipped file, which comments may move.
    line = text[: text.index(edit[0])].count("\n") + 1
    expected = expected.replace("{line}", str(line))
    with pytest.raises(RoleConfigError, match=expected.replace("(", r"\(")) as raised:
        parse_roles(edited, "x.toml")
    assert str(raised.value).startswith("x.toml:")


def test_an_unreadable_roles_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RoleConfigError, match="cannot read the roles"):
        load_roles(tmp_path / "missing.toml")
