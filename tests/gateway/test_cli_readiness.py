"""``catalog-gateway readiness refresh [--rules HASH]``: which rules stored scores follow."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.common import CLIError
from gateway.cli.readiness import refresh
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.readiness import stale_query
from resolvers.readiness.rollout import Heartbeat, adopted_rules, beating
from resolvers.readiness.store import materialize, rules_hash
from tests.demo_fixtures import NOW
from tests.fixtures.small_catalog import load_small_catalog
from tests.gateway.test_readiness_rollout import with_hero_weighing
from tests.resolvers.readiness.test_follower import CHANNELS, LOCALES

BEAT = timedelta(seconds=5)


async def test_refresh_switches_to_the_rules_it_is_given_and_refuses_unknown_ones(
    settings: Settings, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await materialize(catalog, CHANNELS, LOCALES, NOW)
    total = await catalog.products.count_documents({})
    new = with_hero_weighing(settings, 30, tmp_path / "new")
    new_channels = load_profiles(new).channels
    old_hash, new_hash = rules_hash(CHANNELS), rules_hash(new_channels)
    # A replica of each rules: no majority, stored scores stay with the old ones.
    async with (
        beating(Heartbeat(db, old_hash, interval=BEAT)),
        beating(Heartbeat(db, new_hash, interval=BEAT)),
    ):
        with pytest.raises(CLIError) as refused:
            await refresh(new)
        assert str(refused.value) == (
            f"stored scores follow rules {old_hash}, and this channels.toml is {new_hash}: "
            f"run `readiness refresh --rules {new_hash}` to switch them to these"
        )
        with pytest.raises(CLIError) as unknown:
            await refresh(new, "2:0123")
        assert str(unknown.value).startswith("unknown rules 2:0123: the rules known are ")
        assert f"{old_hash} (1 live replicas)" in str(unknown.value)
        assert f"{new_hash} (1 live replicas)" in str(unknown.value)
        assert await catalog.products.count_documents(stale_query(CHANNELS)) == 0

        assert await refresh(new, new_hash) == 0
        assert capsys.readouterr().out == (
            f"readiness recomputed for {total} products on web, mobile, email, marketplace "
            f"(rules {new_hash})\n"
        )
        assert await catalog.products.count_documents(stale_query(new_channels)) == 0
        adopted = await adopted_rules(db)
        assert adopted is not None
        assert (adopted.rules_hash, adopted.by) == (new_hash, "command")

        # Back to the old rules from a machine with the new channels.toml: only a replica
        # of the old rules can score with them, so the command leaves that to its follower.
        assert await refresh(new, old_hash) == 0
        assert "the readiness follower of a replica running them" in capsys.readouterr().out
        assert await catalog.products.count_documents(stale_query(new_channels)) == 0
    adopted = await adopted_rules(db)
    assert adopted is not None
    assert adopted.rules_hash == old_hash
