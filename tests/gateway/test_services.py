"""The services a serving process opens from its settings: which reads may go to secondaries."""

from __future__ import annotations

from pymongo.read_preferences import Primary, PrimaryPreferred

from gateway.services import load_profiles, open_services
from gateway.settings import Settings


async def test_reads_and_key_checks_follow_the_read_preference_and_writes_stay_primary(
    settings: Settings,
) -> None:
    configured = settings.model_copy(
        update={
            "read_preference": "primaryPreferred",
            "cloudinary_url": "cloudinary://key:secret@cloud",  # nothing is asked of it
        }
    )
    profiles = load_profiles(configured)
    async with open_services(configured, profiles, role="serve", indexes=False) as opened:
        services = opened.services
        keys = services.api_keys
        assert keys is not None
        # Through an election a replica keeps serving products and recognising keys...
        assert services.read_catalog.db.read_preference == PrimaryPreferred()
        assert keys.reads.read_preference == PrimaryPreferred()
        # ...while whatever writes, or reads what it just wrote, asks the primary.
        assert keys.collection.read_preference == Primary()
        assert services.catalog.db.read_preference == Primary()
