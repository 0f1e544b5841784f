"""The publishing workflow: submit, approve, reject, publish (now or scheduled), unpublish.

Every call takes many SKUs and answers per product, in order: all its channels move or none
do. A transition is one transaction per product: the product's ``workflow`` entries (guarded
by the states they were read in, and by the revision where one is pinned), one change event
per channel (``operation`` ``workflow.<transition>``, ``from``/``to``/``note``, for the outbox)
and, when publishing or unpublishing, the channel's snapshot. Approving and publishing run the
gates (``resolvers.workflow.gates``) on the revision that would go live.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import PyMongoError

from resolvers.access.principal import Principal
from resolvers.channels import Channels
from resolvers.db import Catalog, Document, as_utc
from resolvers.locales import LocaleResolver
from resolvers.upcasting import upcast_all
from resolvers.workflow.gates import GateFailure, Gates
from resolvers.workflow.publications import replace_snapshots, snapshot, with_readiness
from resolvers.workflow.states import ALLOWED_FROM, State, Transition, entry, state_of
from resolvers.writes.history import CONTENT_EVENTS, Actor, Provenance, events_after, state_at


@dataclass(frozen=True, slots=True)
class WorkflowError:
    code: str
    """NOT_FOUND, INVALID_TRANSITION, STALE_REVISION, FOUR_EYES, PUBLISH_GATE, CONFLICT,
    HISTORY_GAP."""
    sku: str
    message: str
    channel: str | None = None
    failures: tuple[GateFailure, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    sku: str
    product: Document | None = None
    """The working copy after the transition (None when it failed)."""
    errors: tuple[WorkflowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Move:
    """One channel's transition of one product, planned before anything is written."""

    channel: str
    transition: Transition
    before: dict[str, Any]
    after: dict[str, Any]
    revision: int
    snapshot_of: Document | None = None
    """The document to publish on the channel (the pinned revision)."""
    unpublish: bool = False


@dataclass(frozen=True, slots=True)
class Workflow:
    catalog: Catalog
    channels: Channels
    locales: LocaleResolver
    gates: Gates
    four_eyes: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # -- transitions --------------------------------------------------------------------

    async def submit(
        self,
        skus: Sequence[str],
        channels: Sequence[str],
        actor: Actor,
        provenance: Provenance,
        note: str | None = None,
    ) -> list[Outcome]:
        return await self._run(Transition.SUBMIT, skus, channels, actor, provenance, note=note)

    async def approve(
        self,
        skus: Sequence[str],
        channels: Sequence[str],
        actor: Actor,
        provenance: Provenance,
        note: str | None = None,
    ) -> list[Outcome]:
        return await self._run(Transition.APPROVE, skus, channels, actor, provenance, note=note)

    async def reject(
        self,
        skus: Sequence[str],
        channels: Sequence[str],
        actor: Actor,
        provenance: Provenance,
        note: str,
    ) -> list[Outcome]:
        return await self._run(Transition.REJECT, skus, channels, actor, provenance, note=note)

    async def publish(
        self,
        skus: Sequence[str],
        channels: Sequence[str],
        actor: Actor,
        provenance: Provenance,
        at: datetime | None = None,
    ) -> list[Outcome]:
        """Publish the approved revision now, or at ``at`` (SCHEDULED) when it is later."""
        now = self.clock()
        if at is not None and at > now:
            return await self._run(Transition.SCHEDULE, skus, channels, actor, provenance, at=at)
        return await self._run(Transition.PUBLISH, skus, channels, actor, provenance)

    async def unpublish(
        self,
        skus: Sequence[str],
        channels: Sequence[str],
        actor: Actor,
        provenance: Provenance,
        note: str | None = None,
    ) -> list[Outcome]:
        return await self._run(Transition.UNPUBLISH, skus, channels, actor, provenance, note=note)

    async def withdraw(
        self, sku: str, actor: Actor, provenance: Provenance, note: str = "archived"
    ) -> Outcome | None:
        """Take an archived product off every channel it is published or scheduled on (one
        unpublish event each); None when it is on none. Archiving withdraws it: storefronts
        stop seeing it at once, and it comes back only through review."""
        product = await self.catalog.products.find_one({"sku": sku}, {"workflow": 1})
        live = [
            channel
            for channel in self.channels.names()
            if product is not None
            and (
                entry(product, channel).get("publishedRevision") is not None
                or state_of(product, channel) is State.SCHEDULED
            )
        ]
        if not live:
            return None
        [outcome] = await self.unpublish([sku], live, actor, provenance, note=note)
        return outcome

    async def fire_due(self, now: datetime | None = None) -> list[Outcome]:
        """Publish every schedule that is due, gates run again on the pinned revision; a
        schedule whose gates fail becomes SCHEDULE_FAILED with the reasons (and its event),
        and nothing is published. Answers the publications tried by this call (a failed
        one carries its errors). Each schedule fires once even when several replicas run
        this at the same moment: the write is guarded by the SCHEDULED state it was read in.
        """
        now = now or self.clock()
        names = self.channels.names()
        query = {
            "$or": [
                {
                    f"workflow.{c}.state": State.SCHEDULED.value,
                    f"workflow.{c}.scheduledAt": {"$lte": now},
                }
                for c in names
            ]
        }
        products = await self.catalog.products.find(query, {"sku": 1, "workflow": 1}).to_list()
        outcomes: list[Outcome] = []
        actor = Actor(Principal.system())
        provenance = Provenance()
        for product in products:
            for channel in names:
                current = entry(product, channel)
                scheduled_at = current.get("scheduledAt")
                if current.get("state") != State.SCHEDULED.value or scheduled_at is None:
                    continue
                if as_utc(scheduled_at) > now:
                    continue
                [outcome] = await self._run(
                    Transition.PUBLISH, [product["sku"]], [channel], actor, provenance, due=True
                )
                if any(e.code == "CONFLICT" for e in outcome.errors):
                    continue  # fired (or cancelled) elsewhere meanwhile
                if outcome.errors and not await self._fail_schedule(
                    product["sku"], channel, outcome, actor, provenance
                ):
                    continue  # failed (or fired) elsewhere meanwhile
                outcomes.append(outcome)
        return outcomes

    async def _fail_schedule(
        self, sku: str, channel: str, failed: Outcome, actor: Actor, provenance: Provenance
    ) -> bool:
        """Record SCHEDULE_FAILED with the reasons; False when the schedule was gone."""
        reasons = [f.to_document() for e in failed.errors for f in e.failures] or [
            {"check": e.code, "channel": channel, "message": e.message, "hint": "", "path": []}
            for e in failed.errors
        ]
        [written] = await self._run(
            Transition.SCHEDULE_FAIL, [sku], [channel], actor, provenance, reasons=reasons
        )
        return written.ok

    # -- the common path ----------------------------------------------------------------

    async def _run(
        self,
        transition: Transition,
        skus: Sequence[str],
        channels: Sequence[str],
        actor: Actor,
        provenance: Provenance,
        *,
        note: str | None = None,
        at: datetime | None = None,
        due: bool = False,
        reasons: list[Document] | None = None,
    ) -> list[Outcome]:
        now = self.clock()
        wanted = list(dict.fromkeys(skus))
        found = {
            d["sku"]: d
            for d in upcast_all(
                await self.catalog.products.find({"sku": {"$in": wanted}}).to_list()
            )
        }
        plans: dict[str, list[_Move]] = {}
        errors: dict[str, list[WorkflowError]] = {}
        for sku in wanted:
            product = found.get(sku)
            if product is None:
                errors[sku] = [WorkflowError("NOT_FOUND", sku, f"no product with SKU {sku!r}")]
                continue
            moves, problems = await self._plan(
                transition, product, channels, actor, note, at, now, due, reasons
            )
            if problems:
                errors[sku] = problems
            else:
                plans[sku] = moves
        await self._gate(transition, found, plans, errors, now)
        outcomes: list[Outcome] = []
        for sku in wanted:
            if sku in errors:
                outcomes.append(Outcome(sku, errors=tuple(errors[sku])))
                continue
            written = await self._write(found[sku], plans[sku], actor, provenance, now)
            outcomes.append(written)
        return outcomes

    async def _plan(
        self,
        transition: Transition,
        product: Document,
        channels: Sequence[str],
        actor: Actor,
        note: str | None,
        at: datetime | None,
        now: datetime,
        due: bool,
        reasons: list[Document] | None,
    ) -> tuple[list[_Move], list[WorkflowError]]:
        sku = product["sku"]
        revision = int(product.get("revision", 1))
        who = actor.principal.label
        moves: list[_Move] = []
        problems: list[WorkflowError] = []
        for channel in channels:
            before = entry(product, channel)
            state = state_of(product, channel)
            allowed = ALLOWED_FROM[transition]
            if transition is Transition.PUBLISH and not due:
                allowed = allowed - {State.SCHEDULED}
            if state not in allowed:
                problems.append(_invalid(sku, channel, state, transition, allowed))
                continue
            after = {**before, "note": note, "reasons": None, "updatedAt": now}
            pinned = int(before.get("revision", revision))
            move = _Move(channel, transition, before, after, revision)
            if transition is Transition.SUBMIT:
                if state is State.IN_REVIEW and pinned == revision:
                    problems.append(
                        WorkflowError(
                            "INVALID_TRANSITION",
                            sku,
                            f"{sku} revision {revision} is already in review on {channel}",
                            channel,
                        )
                    )
                    continue
                after.update(
                    state=State.IN_REVIEW,
                    revision=revision,
                    submittedBy=who,
                    submittedAt=now,
                    scheduledAt=None,
                )
            elif transition is Transition.APPROVE:
                if pinned != revision:
                    problems.append(_stale(sku, channel, pinned, revision, "submitted"))
                    continue
                if self.four_eyes:
                    editor = await self._last_editor(sku)
                    if who in {editor, before.get("submittedBy")}:
                        problems.append(
                            WorkflowError(
                                "FOUR_EYES",
                                sku,
                                f"{who} edited or submitted {sku}; another lead must approve it",
                                channel,
                            )
                        )
                        continue
                after.update(state=State.APPROVED, approvedBy=who, approvedAt=now)
                move.snapshot_of = product  # gated, not written
            elif transition is Transition.REJECT:
                after.update(state=State.DRAFT, rejectedBy=who, rejectedAt=now)
            elif transition in (Transition.PUBLISH, Transition.SCHEDULE):
                move.revision = pinned
                if transition is Transition.SCHEDULE:
                    after.update(state=State.SCHEDULED, scheduledAt=at, scheduledBy=who)
                else:
                    after.update(
                        state=State.PUBLISHED,
                        publishedRevision=pinned,
                        publishedBy=who,
                        publishedAt=now,
                        scheduledAt=None,
                    )
                pinned_document = await self._at_revision(product, pinned)
                if pinned_document is None:
                    problems.append(
                        WorkflowError(
                            "HISTORY_GAP",
                            sku,
                            f"revision {pinned} of {sku} cannot be rebuilt from its history; "
                            "submit the current revision again",
                            channel,
                        )
                    )
                    continue
                move.snapshot_of = pinned_document
            elif transition is Transition.SCHEDULE_FAIL:
                after.update(state=State.SCHEDULE_FAILED, reasons=reasons, failedAt=now)
            elif transition is Transition.UNPUBLISH:
                after.update(
                    state=State.UNPUBLISHED,
                    scheduledAt=None,
                    publishedRevision=None,
                    unpublishedBy=who,
                    unpublishedAt=now,
                )
                move.unpublish = before.get("publishedRevision") is not None
            moves.append(move)
        return moves, problems

    async def _gate(
        self,
        transition: Transition,
        found: dict[str, Document],
        plans: dict[str, list[_Move]],
        errors: dict[str, list[WorkflowError]],
        now: datetime,
    ) -> None:
        """Run the gates once for every product that needs them, and fail those that fail."""
        if transition not in (Transition.APPROVE, Transition.PUBLISH, Transition.SCHEDULE):
            return
        gated = [(sku, move) for sku, moves in plans.items() for move in moves if move.snapshot_of]
        if not gated:
            return
        # Per (product, channel): the channel decides readiness and rights, so each pinned
        # document is checked on its own channel (one batch, whatever the number).
        by_channel: dict[str, list[tuple[str, _Move]]] = {}
        for sku, move in gated:
            by_channel.setdefault(move.channel, []).append((sku, move))
        for channel, pairs in by_channel.items():
            documents = [m.snapshot_of for _, m in pairs if m.snapshot_of is not None]
            results = await self.gates.check(documents, [channel], now)
            for (sku, _), failures in zip(pairs, results, strict=True):
                if failures:
                    errors.setdefault(sku, []).append(_gate_error(sku, channel, failures))
        for sku in errors:
            plans.pop(sku, None)

    async def _write(
        self,
        product: Document,
        moves: list[_Move],
        actor: Actor,
        provenance: Provenance,
        now: datetime,
    ) -> Outcome:
        sku = product["sku"]
        guard: Document = {"_id": product["_id"]}
        update: Document = {}
        events = []
        for move in moves:
            key = f"workflow.{move.channel}"
            previous = move.before.get("state")
            guard[f"{key}.state"] = previous if previous is not None else {"$exists": False}
            if move.transition is Transition.APPROVE:
                guard["revision"] = move.revision
            if move.transition in (Transition.PUBLISH, Transition.SCHEDULE_FAIL) and previous == (
                State.SCHEDULED.value
            ):
                # The schedule read is the one that fires: another replica's firing (or an
                # unpublish meanwhile) changed it, and this write matches nothing.
                guard[f"{key}.scheduledAt"] = move.before.get("scheduledAt")
            after = {k: v for k, v in move.after.items() if v is not None}
            update[key] = after
            events.append(self._event(product, move, actor, provenance, now))
        publishing = [m for m in moves if m.transition is Transition.PUBLISH]
        snapshots: dict[str, Document] = {}
        if publishing:
            documents = await with_readiness(
                self.catalog,
                self.channels,
                self.locales,
                [m.snapshot_of for m in publishing if m.snapshot_of is not None],
                now,
            )
            for move, document in zip(publishing, documents, strict=True):
                snapshots[move.channel] = snapshot(
                    document, move.channel, actor.principal.label, now
                )
        conflict = Outcome(
            sku,
            errors=(
                WorkflowError(
                    "CONFLICT",
                    sku,
                    f"{sku} changed while this ran (an edit or another transition); "
                    "read it again and retry",
                ),
            ),
        )
        client = self.catalog.db.client
        try:
            async with client.start_session() as session, await session.start_transaction():
                updated = await self.catalog.products.find_one_and_update(
                    guard, {"$set": update}, session=session, return_document=True
                )
                if updated is None:
                    await session.abort_transaction()
                    return conflict
                for channel, document in snapshots.items():
                    await replace_snapshots(self.catalog, channel, [document], session=session)
                for move in moves:
                    if move.unpublish:
                        await self.catalog.publications(move.channel).delete_one(
                            {"_id": product["_id"]}, session=session
                        )
                await self.catalog.change_events.insert_many(events, session=session)
        except PyMongoError as exc:
            # Another transition of the same product committed first (a write conflict):
            # this one wrote nothing, like a guard that matched nothing.
            if exc.has_error_label("TransientTransactionError"):
                return conflict
            raise
        return Outcome(sku, product=updated)

    def _event(
        self, product: Document, move: _Move, actor: Actor, provenance: Provenance, now: datetime
    ) -> Document:
        before_state = move.before.get("state") or State.DRAFT.value
        after_state = str(move.after["state"])
        workflow: Document = {
            "channel": move.channel,
            "from": before_state,
            "to": after_state,
            "note": move.after.get("note"),
            "revision": move.revision,
        }
        if move.after.get("scheduledAt") is not None:
            workflow["scheduledAt"] = move.after["scheduledAt"]
        if move.after.get("reasons"):
            workflow["reasons"] = move.after["reasons"]
        return {
            "sku": product["sku"],
            "productId": product["_id"],
            "revision": move.revision,
            "operation": move.transition.operation,
            "actor": actor.to_document(),
            "requestId": provenance.request_id,
            "importJob": provenance.import_job,
            "at": now,
            "changes": [
                {
                    "path": ["workflow", move.channel, "state"],
                    "before": move.before.get("state"),
                    "after": after_state,
                }
            ],
            "workflow": workflow,
            "transition": ObjectId(),
        }

    async def _at_revision(self, product: Document, revision: int) -> Document | None:
        current = int(product.get("revision", 1))
        if revision == current:
            return product
        rebuilt = state_at(
            product, await events_after(self.catalog, product["sku"], revision), revision
        )
        if rebuilt is not None:
            rebuilt["revision"] = revision
        return rebuilt

    async def _last_editor(self, sku: str) -> str | None:
        event = await self.catalog.change_events.find_one(
            {"sku": sku, **CONTENT_EVENTS}, {"actor.label": 1}, sort=[("revision", -1)]
        )
        return None if event is None else (event.get("actor") or {}).get("label")


def _invalid(
    sku: str, channel: str, state: State, transition: Transition, allowed: frozenset[State]
) -> WorkflowError:
    if state is State.SCHEDULED:
        return WorkflowError(
            "INVALID_TRANSITION",
            sku,
            f"{sku} is SCHEDULED on {channel}: unpublish it to cancel the schedule first",
            channel,
        )
    names = ", ".join(s.value for s in State if s in allowed)
    return WorkflowError(
        "INVALID_TRANSITION",
        sku,
        f"{sku} is {state.value} on {channel}: {transition.value} needs {names}",
        channel,
    )


def _stale(sku: str, channel: str, pinned: int, current: int, what: str) -> WorkflowError:
    return WorkflowError(
        "STALE_REVISION",
        sku,
        f"{sku} was {what} at revision {pinned} on {channel} and edited since (now {current}); "
        "submit it again",
        channel,
    )


def _gate_error(sku: str, channel: str, failures: list[GateFailure]) -> WorkflowError:
    checks = ", ".join(dict.fromkeys(f.check for f in failures))
    return WorkflowError(
        "PUBLISH_GATE",
        sku,
        f"{sku} cannot go live on {channel}: {checks}",
        channel,
        tuple(failures),
    )
