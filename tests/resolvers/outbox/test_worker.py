"""The delivery worker against a receiver on 127.0.0.1 and a real MongoDB: signed, retried,
dead-lettered, redelivered, never echoed, in order per product, one delivery per event across
workers, and nothing lost when a worker dies mid-request. Time is passed in, never slept."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from resolvers.access.principal import Principal
from resolvers.access.roles import Role
from resolvers.db import Database, Document
from resolvers.outbox import (
    DeliveryWorker,
    NotRedeliverableError,
    Status,
    Subscription,
    list_deliveries,
    redeliver,
)
from resolvers.outbox.signing import verify
from resolvers.outbox.store import deliveries
from resolvers.writes.changes import FieldChange
from resolvers.writes.history import Actor, Provenance, event_document
from tests.command_counter import CommandCounter
from tests.resolvers.outbox.receiver import Received, receiver

KEY, OLD_KEY = b"new secret of 32 bytes or more!!", b"old secret of 32 bytes or more!!"
ROLE = Role("editor", "", frozenset(), None)  # type: ignore[arg-type]
EDITOR = Actor(Principal("key", ROLE, "Ed", key_id="ed-key"), end_user="ed@example.com")
ERP = Actor(Principal("key", ROLE, "ERP sync", key_id="erp-key", source="erp"))
LATER = timedelta(hours=2)  # past any backoff of these tests' few attempts


def subscription(url: str, **options: Any) -> Subscription:
    return Subscription(
        name=options.pop("name", "shop"),
        url=url,
        events=options.pop("events", ("product.*",)),
        secrets=options.pop("secrets", (KEY,)),
        **options,
    )


async def record(
    db: Database,
    sku: str,
    revision: int,
    *,
    actor: Actor = EDITOR,
    operation: str = "update",
    paths: Sequence[tuple[str, ...]] = (("name", "en-US"),),
) -> Document:
    """An event as the writer records it (resolvers.writes.history)."""
    event = event_document(
        {"sku": sku, "_id": None},
        revision,
        operation,  # type: ignore[arg-type]
        [FieldChange(path, "before", "after") for path in paths],
        actor,
        Provenance("req-1"),
        datetime.now(UTC),
    )
    await db["change_events"].insert_one(event)
    return event


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def now() -> datetime:
    return datetime.now(UTC)


async def drain(workers: Sequence[DeliveryWorker], at: datetime, passes: int = 20) -> None:
    """Run passes of every worker at once until nothing is pending or delivering."""
    for _ in range(passes):
        await asyncio.gather(*(w.run_once(at) for w in workers))
        if not await deliveries(workers[0].db).count_documents(
            {"status": {"$in": ["pending", "delivering"]}}
        ):
            return
        at += LATER
    raise AssertionError("deliveries still pending")


def worker(db: Database, http: httpx.AsyncClient, *subscriptions: Subscription) -> DeliveryWorker:
    return DeliveryWorker(db, subscriptions, http, jitter=lambda: 0.0)


async def test_a_delivery_is_signed_with_both_secrets_and_describes_the_event(
    db: Database, http: httpx.AsyncClient
) -> None:
    event = await record(db, "P-1", 4, paths=[("name", "en-US"), ("brand",)])
    async with receiver() as hook:
        report = await worker(db, http, subscription(hook.url, secrets=(KEY, OLD_KEY))).run_once()
        assert (report.created, report.delivered) == (1, 1)
        [request] = hook.received
    # A receiver holding either secret (rotation) verifies it; another secret does not.
    assert verify(KEY, request.headers, request.body)
    assert verify(OLD_KEY, request.headers, request.body)
    assert not verify(b"another secret", request.headers, request.body)
    assert not verify(KEY, request.headers, request.body + b" ")
    assert request.headers["webhook-signature"].count("v1,") == 2
    assert request.id == str(event["_id"])
    body = request.json
    assert body["id"] == str(event["_id"])
    assert (body["type"], body["schemaVersion"]) == ("product.update", 1)
    assert body["data"]["sku"] == "P-1"
    assert body["data"]["revision"] == 4
    assert body["data"]["changedFields"] == [["name", "en-US"], ["brand"]]
    assert body["data"]["actor"] == {
        "label": "ed-key",
        "keyId": "ed-key",
        "name": "Ed",
        "source": None,
        "endUser": "ed@example.com",
    }
    [delivery] = await list_deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status) == (Status.DELIVERED, 1, 200)


async def test_a_failing_receiver_gets_retries_with_the_same_id_until_it_answers(
    db: Database, http: httpx.AsyncClient
) -> None:
    await record(db, "P-1", 1)
    t0 = now()
    async with receiver(lambda received, index: 503 if index < 2 else 204) as hook:
        deliverer = worker(db, http, subscription(hook.url))
        assert (await deliverer.run_once(t0)).retrying == 1
        # Not due again before its backoff (2 s scaled by 50-100 % jitter: 1 s here).
        assert (await deliverer.run_once(t0 + timedelta(milliseconds=900))).retrying == 0
        assert len(hook.received) == 1
        assert (await deliverer.run_once(t0 + timedelta(seconds=1))).retrying == 1
        # Exponential: 2 s after the second failure.
        assert (await deliverer.run_once(t0 + timedelta(seconds=2.9))).delivered == 0
        assert (await deliverer.run_once(t0 + timedelta(seconds=3))).delivered == 1
        assert (await deliverer.run_once(t0 + LATER)).delivered == 0
    assert len(hook.received) == 3
    assert len({r.id for r in hook.received}) == 1
    assert len({r.body for r in hook.received}) == 1
    [delivery] = await list_deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status) == (Status.DELIVERED, 3, 204)


async def test_dead_after_max_attempts_then_redelivered(
    db: Database, http: httpx.AsyncClient
) -> None:
    await record(db, "P-1", 1)
    healthy = False
    async with receiver(lambda received, index: 200 if healthy else 500) as hook:
        deliverer = worker(db, http, subscription(hook.url, max_attempts=3))
        at = now()
        await drain([deliverer], at)
        assert len(hook.received) == 3
        [dead] = await list_deliveries(db, status=Status.DEAD)
        assert (dead.attempts, dead.last_status, dead.last_error) == (3, 500, "HTTP 500")
        # A dead delivery holds up nothing but itself: it is not pending any more.
        assert await list_deliveries(db, status=Status.PENDING) == []

        healthy = True
        again = await redeliver(db, dead.id, at)
        assert (again.status, again.attempts) == (Status.PENDING, 0)
        with pytest.raises(NotRedeliverableError):
            await redeliver(db, dead.id, at)
        assert (await deliverer.run_once(at)).delivered == 1
    assert [r.id for r in hook.received] == [hook.received[0].id] * 4
    [delivery] = await list_deliveries(db)
    assert delivery.status is Status.DELIVERED


async def test_never_echoed_to_the_source_system_that_caused_it(
    db: Database, http: httpx.AsyncClient
) -> None:
    await record(db, "P-1", 1, actor=ERP)
    by_editor = await record(db, "P-1", 2)
    async with receiver() as erp, receiver() as shop:
        deliverer = worker(
            db,
            http,
            subscription(erp.url, name="erp", source="erp"),
            subscription(shop.url, name="shop"),
        )
        await drain([deliverer], now())
    assert [r.id for r in erp.received] == [str(by_editor["_id"])]
    assert [r.json["data"]["revision"] for r in shop.received] == [1, 2]


async def test_event_types_and_channels_filter(db: Database, http: httpx.AsyncClient) -> None:
    await record(db, "P-1", 1, operation="create")
    await record(db, "P-1", 2, operation="archive")
    # Workflow transitions as the publishing workflow records them: one event per channel.
    for channel in ("web", "print"):
        published = await record(db, "P-1", 3, operation="publish")
        transition = {"channel": channel, "from": "APPROVED", "to": "PUBLISHED", "note": None}
        await db["change_events"].update_one(
            {"_id": published["_id"]}, {"$set": {"workflow": transition}}
        )
    async with receiver() as hook:
        deliverer = worker(
            db,
            http,
            subscription(hook.url, events=("product.create", "product.pub*"), channels={"web"}),
        )
        await drain([deliverer], now())
    assert [(r.json["type"], r.json["data"]["channels"]) for r in hook.received] == [
        ("product.create", []),
        ("product.publish", ["web"]),
    ]
    assert hook.received[1].json["data"]["workflow"] == {
        "channel": "web",
        "from": "APPROVED",
        "to": "PUBLISHED",
        "note": None,
    }


async def test_in_order_per_product_a_later_event_waits_for_an_earlier_one(
    db: Database, http: httpx.AsyncClient
) -> None:
    for revision in (1, 2, 3, 3):  # two events of one revision: a transition on two channels
        await record(db, "P-1", revision)
    await record(db, "P-2", 1)

    def answer(received: Received, index: int) -> int:
        data = received.json["data"]
        first_try = sum(r.body == received.body for r in hook.received) == 1
        return 500 if (data["sku"], data["revision"]) == ("P-1", 1) and first_try else 200

    async with receiver(answer) as hook:
        deliverer = worker(db, http, subscription(hook.url))
        t0 = now()
        first = await deliverer.run_once(t0)
        # P-1 r1 failed and holds P-1 r2 and r3 back; P-2 is not held up by it.
        assert (first.delivered, first.retrying) == (1, 1)
        assert len(hook.received) == 2
        await drain([deliverer], t0 + LATER)
    p1 = [r for r in hook.received if r.json["data"]["sku"] == "P-1"]
    assert [r.json["data"]["revision"] for r in p1] == [1, 1, 2, 3, 3]
    events = await db["change_events"].find({"sku": "P-1"}).sort("_id", 1).to_list()
    assert [r.id for r in p1[1:]] == [str(e["_id"]) for e in events]


async def test_two_workers_deliver_each_event_exactly_once(
    db: Database, http: httpx.AsyncClient
) -> None:
    events = [await record(db, f"P-{n}", revision) for n in range(12) for revision in (1, 2)]
    async with receiver() as hook:
        shop = subscription(hook.url)
        await drain([worker(db, http, shop), worker(db, http, shop)], now())
    assert sorted(r.id for r in hook.received) == sorted(str(e["_id"]) for e in events)
    assert await deliveries(db).count_documents({}) == len(events)


async def test_a_worker_killed_mid_delivery_is_taken_over_when_its_claim_expires(
    db: Database, http: httpx.AsyncClient
) -> None:
    event = await record(db, "P-1", 1)
    second = await record(db, "P-1", 2)
    async with receiver() as hook:
        shop = subscription(hook.url, timeout_s=5)
        hook.hold = asyncio.Event()
        t0 = now()
        dying = asyncio.create_task(worker(db, http, shop).run_once(t0))
        await hook.wait_for(1)
        dying.cancel()  # the replica dies while the receiver has the request
        with pytest.raises(asyncio.CancelledError):
            await dying
        hook.hold.set()
        hook.hold = None

        restarted = worker(db, http, shop)  # another replica, or the same one restarted
        # The claim still runs (twice the timeout and 10 s): nobody sends it meanwhile, and
        # the product's next event waits behind it.
        assert (await restarted.run_once(t0 + timedelta(seconds=19))).delivered == 0
        assert len(hook.received) == 1
        assert (await restarted.run_once(t0 + timedelta(seconds=20))).delivered == 1
        await drain([restarted], t0 + timedelta(seconds=21))
    # At least once: the event the dead worker may have delivered is sent again, same id.
    assert [r.id for r in hook.received] == [str(event["_id"])] * 2 + [str(second["_id"])]
    [latest, first] = await list_deliveries(db)
    assert (first.status, first.attempts) == (Status.DELIVERED, 2)
    assert latest.status is Status.DELIVERED


async def test_an_unreachable_receiver_is_a_failed_attempt(
    db: Database, http: httpx.AsyncClient
) -> None:
    await record(db, "P-1", 1)
    async with receiver() as hook:
        url = hook.url  # closed when the block ends: nothing listens there any more
    deliverer = worker(db, http, subscription(url, max_attempts=1))
    assert (await deliverer.run_once(now())).dead == 1
    [dead] = await list_deliveries(db, status=Status.DEAD)
    assert dead.last_status is None
    assert dead.last_error is not None
    assert dead.last_error.startswith("ConnectError")


async def test_a_long_queue_behind_a_failing_event_does_not_starve_other_products(
    db: Database, http: httpx.AsyncClient
) -> None:
    await db["change_events"].insert_many(
        [
            event_document(
                {"sku": "P-1"}, revision, "update", [], EDITOR, Provenance(), datetime.now(UTC)
            )
            for revision in range(1, 151)
        ]
    )
    other = await record(db, "P-2", 1)

    def answer(received: Received, index: int) -> int:
        return 500 if received.json["data"]["sku"] == "P-1" else 200

    async with receiver(answer) as hook:
        deliverer = worker(db, http, subscription(hook.url))  # 100 due deliveries per pass
        t0 = now()
        # P-1's first event fails; its 149 successors wait for its retry in 1 s and stop
        # taking the places of the due batch; P-2's event goes out before that retry.
        for offset in (0, 0.5, 0.6):
            await deliverer.run_once(t0 + timedelta(seconds=offset))
    assert [r.id for r in hook.received if r.json["data"]["sku"] == "P-2"] == [str(other["_id"])]
    assert [
        r.json["data"]["revision"] for r in hook.received if r.json["data"]["sku"] == "P-1"
    ] == [1]


async def test_mongodb_commands_of_an_idle_pass_and_of_one_delivery(
    db: Database, http: httpx.AsyncClient, command_counter: CommandCounter
) -> None:
    async with receiver() as hook:
        deliverer = worker(db, http, subscription(hook.url))
        # One clock reading: a cursor moves (one more command) only when a second has passed.
        t0 = now()
        await deliverer.run_once(t0)  # creates the cursors
        with command_counter.record(db.name) as idle:
            await deliverer.run_once(t0)
        # The lease, then per event collection the cursor and its new events (none); nothing
        # is due.
        assert idle.names() == Counter(
            {
                "findAndModify:leases": 1,
                "findAndModify:event_cursors": 2,
                "find:change_events": 1,
                "find:category_events": 1,
                "find:event_deliveries": 1,
            }
        )
        await record(db, "P-1", 1)
        with command_counter.record(db.name) as busy:
            assert (await deliverer.run_once(t0)).delivered == 1
    # Fan-out: the new event's id, which deliveries it has (none), the event, the insert.
    # Delivery: what is due, the queue heads, the claim, the outcome, its successors.
    assert busy.names() == Counter(
        {
            "findAndModify:leases": 1,
            "findAndModify:event_cursors": 2,
            "find:change_events": 2,
            "find:category_events": 1,
            "find:event_deliveries": 2,
            "insert:event_deliveries": 1,
            "aggregate:event_deliveries": 1,
            "findAndModify:event_deliveries": 1,
            "update:event_deliveries": 2,
        }
    )


async def test_a_hanging_receiver_holds_up_only_its_own_subscription(
    db: Database, http: httpx.AsyncClient
) -> None:
    events = [await record(db, "P-1", 1), await record(db, "P-1", 2)]
    async with receiver() as stuck, receiver() as shop:
        stuck.hold = asyncio.Event()
        hanging = subscription(stuck.url, name="stuck", timeout_s=60)
        running = asyncio.create_task(
            worker(db, http, hanging, subscription(shop.url)).run(poll_s=0.01)
        )
        try:
            await asyncio.wait_for(stuck.wait_for(1), timeout=20)
            # While the stuck receiver keeps its request (for up to a minute), the other
            # subscription gets both events, one pass after the other.
            await asyncio.wait_for(shop.wait_for(2), timeout=20)
        finally:
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            stuck.hold.set()
    assert [r.id for r in shop.received] == [str(e["_id"]) for e in events]
