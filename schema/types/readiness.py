from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers.access import Scope
from resolvers.db import Document
from resolvers.errors import BadUserInputError
from resolvers.readiness import Readiness, needed_codes, summary
from schema.context import Context
from schema.permissions import requires
from schema.settled import Loaded, MaybeAwaitable, with_loaded
from schema.types.enums import described
from schema.types.media import MediaRole

Info = strawberry.Info[Context, None]


@strawberry.enum(description="How much a failed readiness rule matters.")
class Severity(Enum):
    BLOCKER = described("blocker", "The product is not ready while this fails.")
    WARNING = described("warning", "Lowers the score; the product can still be ready.")


@strawberry.type(description="One readiness rule's verdict for a product on a channel.")
class ReadinessCheck:
    id: str = strawberry.field(description="The rule's ID, as in the channel's readiness rules.")
    passed: bool = strawberry.field(description="The product meets the rule.")
    severity: Severity = strawberry.field(description="Blocker or warning.")
    weight: int = strawberry.field(description="The rule's share of the score.")
    message: str = strawberry.field(description="What was found, naming assets and locales.")
    hint: str = strawberry.field(description="How to fix it.")


@strawberry.type(description="Whether a product is fit to publish on a channel, and why not.")
class ProductReadiness:
    channel: str = strawberry.field(description="The channel scored.")
    score: int = strawberry.field(description="0-100: weight of passed rules over all rules.")
    ready: bool = strawberry.field(description="No blocker failed.")
    result: strawberry.Private[Readiness]

    # The lists are built only when selected: a listing asks for the score alone.
    @strawberry.field(description="Locales checked.")
    def locales(self) -> list[str]:
        return list(self.result.locales)

    # Why a score is what it is (the checks and what they found missing) is editorial detail:
    # audit:read. Nullable so that a storefront selecting them keeps the score and the product.
    @strawberry.field(
        description="Every rule's verdict. Needs audit:read (null with FORBIDDEN without it).",
        extensions=requires(Scope.AUDIT_READ),
    )
    def checks(self) -> list[ReadinessCheck] | None:
        return [
            ReadinessCheck(
                id=c.id,
                passed=c.passed,
                severity=Severity(c.severity),
                weight=c.weight,
                message=c.message,
                hint=c.hint,
            )
            for c in self.result.checks
        ]

    @strawberry.field(
        description="Locales the checks found missing. Needs audit:read.",
        extensions=requires(Scope.AUDIT_READ),
    )
    def missing_locales(self) -> list[str] | None:
        return list(self.result.missing_locales)

    @strawberry.field(
        description="First-choice roles of the slots that need a placeholder. Needs audit:read.",
        extensions=requires(Scope.AUDIT_READ),
    )
    def missing_roles(self) -> list[MediaRole] | None:
        return [MediaRole(role) for role in self.result.missing_roles]


def resolve_readiness(
    info: Info, product: Document, channel: str, locale: str | None
) -> MaybeAwaitable[ProductReadiness]:
    """Computed on demand; assets, categories and attributes come through the page's loaders."""
    context = info.context
    channel = context.channel_name(channel)
    tag = context.locale(locale) if locale is not None else None

    def build(loaded: Loaded) -> ProductReadiness:
        categories = [
            loaded.categories[slug]
            for slug in product.get("categories") or []
            if slug in loaded.categories
        ]
        codes = needed_codes(categories)
        result = context.services.readiness_memo.evaluate(
            product,
            assets=loaded.assets,
            categories=categories,
            attributes={code: loaded.attributes.get(code) for code in codes},
            channel=channel,
            channels=context.services.channels,
            locales=context.locales,
            locale=tag,
            now=context.now,
            raws=context.loaders.raws,
        )
        return ProductReadiness(
            channel=channel, score=result.score, ready=result.ready, result=result
        )

    references = product.get("media") or []
    return with_loaded(info, build, references, categories=True, attributes=True)


@strawberry.type(description="How many products score within a range.")
class ScoreBand:
    min: int = strawberry.field(description="Lowest score of the band (inclusive).")
    max: int = strawberry.field(description="Highest score of the band (inclusive).")
    count: int = strawberry.field(description="Products whose score is in the band.")


@strawberry.type(description="A readiness rule and how many products fail it.")
class FailingCheck:
    id: str = strawberry.field(description="The rule's ID.")
    count: int = strawberry.field(description="Products failing this rule.")


@strawberry.type(
    description="A channels.toml that live replicas run or stored scores were computed with. "
    "During a rolling deploy that changes channel profiles there are two: stored scores follow "
    "one (adopted), and switch once when a majority of live replicas runs the newer one."
)
class ReadinessRules:
    rules_hash: str = strawberry.field(
        description="The rules' hash: the evaluator's version and the profiles' digest."
    )
    replicas: int = strawberry.field(description="Live replicas running these rules.")
    scores: int = strawberry.field(
        description="Products whose stored score on this channel was computed with these rules."
    )
    adopted: bool = strawberry.field(
        description="Stored scores follow these rules: the readiness follower of a replica "
        "running them rescores every product to them."
    )
    this_replica: bool = strawberry.field(description="The replica that answered runs these rules.")


@strawberry.type(description="Readiness of the whole catalog on a channel, from stored scores.")
class CatalogReadiness:
    channel: str = strawberry.field(description="The channel scored.")
    products: int = strawberry.field(description="Products in the catalog.")
    scored: int = strawberry.field(description="Products with a stored score.")
    stale: int = strawberry.field(
        description="Products whose stored score was not computed with the adopted rules "
        "(being redone, or never scored)."
    )
    ready: int = strawberry.field(description="Products with no failed blocker.")
    average_score: float | None = strawberry.field(
        description="Mean stored score; null when nothing is scored."
    )
    bands: list[ScoreBand] = strawberry.field(description="Score distribution in bands.")
    failing_checks: list[FailingCheck] = strawberry.field(
        description="Rules by how many products fail them, most frequent first."
    )
    rules: list[ReadinessRules] = strawberry.field(
        description="The rules live replicas run and stored scores carry: one outside a "
        "rolling deploy of channels.toml, two during one."
    )
    computed_at: datetime = strawberry.field(
        description="When these numbers were aggregated: dashboards share one aggregation for "
        "CATALOG_DASHBOARD_TTL_S seconds."
    )


async def resolve_catalog_readiness(info: Info, channel: str, top: int) -> CatalogReadiness:
    context = info.context
    channel = context.channel_name(channel)
    if not 0 <= top <= 100:
        raise BadUserInputError("'top' must be between 0 and 100", argumentName="top")
    services = context.services
    computed = await services.dashboards.get(
        ("readiness", channel), lambda: summary(services.catalog, services.channels, channel)
    )
    data = computed.value
    return CatalogReadiness(
        channel=channel,
        products=data["products"],
        scored=data["scored"],
        stale=data["stale"],
        ready=data["ready"],
        average_score=data["averageScore"],
        bands=[ScoreBand(**band) for band in data["bands"]],
        failing_checks=[FailingCheck(**row) for row in data["failing"][:top]],
        rules=[
            ReadinessRules(
                rules_hash=row["rulesHash"],
                replicas=row["replicas"],
                scores=row["scores"],
                adopted=row["adopted"],
                this_replica=row["thisReplica"],
            )
            for row in data["rules"]
        ],
        computed_at=computed.at,
    )
