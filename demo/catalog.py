"""The demo catalog: brands, categories, attributes and products, generated deterministically.

The catalog is realistic enough to demo the gateway: localized names with regional fallback
locales, colour/size variants, bundles, accessories and Cloudinary media references. It also
carries a small set of planted data-quality defects (``demo.defects``), so an audit can be
tested against a known answer. Its words, brands and category tree are the tables in
``demo/data/`` (``demo.tables``); seeding it into MongoDB is ``demo.seeding``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from demo.defects import (
    BLANK_ATTRIBUTE,
    DefectRoles,
    PlantedDefects,
    colliding_sku,
    deleted_in_dam,
    plant_defects,
    plant_spec_sheet,
)
from demo.tables import (
    ATTRIBUTE_SPECS,
    BRANDS,
    BUNDLE_WORDS,
    CARE_INSTRUCTIONS,
    CLOSERS,
    COLORS,
    CONTENT_LOCALES,
    FEATURES,
    MATERIALS,
    REGIONAL,
    SERIES,
    T4,
    TIERS,
    TREE,
    AttributeSpec,
    Brand,
    Leaf,
    Mid,
    Root,
)
from resolvers.documents import (
    SCHEMA_VERSION,
    AttributeDefinitionDocument,
    AttributeValue,
    BundleComponent,
    CategoryDocument,
    LocalizedText,
    MediaReference,
    MediaRole,
    ProductDocument,
    ProductStatus,
    VariantDocument,
)
from resolvers.locales import canonical_tag
from resolvers.normal_forms import normalize_name

DEFAULT_LOCALES: tuple[str, ...] = ("en-US", "de-DE", "de-AT", "fr-FR", "fr-CA", "it-IT")
MIN_PRODUCTS = 50
# Fixed so that the same (products, seed) always yields the same timestamps.
DEMO_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

_LANG_INDEX: dict[str, int] = {tag: i for i, tag in enumerate(CONTENT_LOCALES)}
_SPECS_BY_CODE: dict[str, AttributeSpec] = {spec.code: spec for spec in ATTRIBUTE_SPECS}
if BLANK_ATTRIBUTE not in _SPECS_BY_CODE:  # pragma: no cover - a broken demo/data
    raise ValueError(f"demo/data/attributes.toml must define {BLANK_ATTRIBUTE!r}")


@dataclass(frozen=True, slots=True)
class DemoCatalog:
    """Documents for the ``attributes``, ``categories`` and ``products`` collections."""

    attributes: list[AttributeDefinitionDocument]
    categories: list[CategoryDocument]
    products: list[ProductDocument]
    defects: PlantedDefects


@dataclass(frozen=True, slots=True)
class _LeafInfo:
    """A leaf with what the generator derives from its place in the tree."""

    leaf: Leaf
    mid: Mid
    root: Root
    required: tuple[str, ...]  # the leaf's and its ancestors', in order, without repeats
    siblings: tuple[Leaf, ...]
    ranges: dict[str, tuple[float, float]]


def _leaf_infos() -> tuple[_LeafInfo, ...]:
    infos: list[_LeafInfo] = []
    for root in TREE:
        for mid in root.mids:
            for leaf in mid.leaves:
                infos.append(
                    _LeafInfo(
                        leaf=leaf,
                        mid=mid,
                        root=root,
                        required=tuple(dict.fromkeys((*mid.required, *leaf.required))),
                        siblings=tuple(s for s in mid.leaves if s is not leaf),
                        ranges={code: (low, high) for code, low, high in leaf.ranges},
                    )
                )
    return tuple(infos)


_LEAVES: tuple[_LeafInfo, ...] = _leaf_infos()
_LEAF_BY_SLUG: dict[str, _LeafInfo] = {info.leaf.slug: info for info in _LEAVES}
_LEAF_CUM_WEIGHTS: tuple[float, ...] = tuple(
    sum(info.root.weight for info in _LEAVES[: i + 1]) for i in range(len(_LEAVES))
)
_BRANDS_BY_ROOT: dict[str, tuple[Brand, ...]] = {
    root.slug: tuple(b for b in BRANDS if root.slug in b.roots) for root in TREE
}

# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LocalePlan:
    content: tuple[tuple[str, int], ...]  # (tag, index into T4 translations)
    primary: str
    regional: tuple[tuple[str, str, str], ...]  # (tag, base tag, name suffix)
    droppable: tuple[str, ...]  # locales a planted missing translation may lack

    def text(self, translations: T4) -> LocalizedText:
        return {tag: translations[i] for tag, i in self.content}


def _plan_locales(locales: Sequence[str]) -> _LocalePlan:
    tags = list(dict.fromkeys(canonical_tag(tag) for tag in locales))
    content = tuple((tag, _LANG_INDEX[tag]) for tag in tags if tag in _LANG_INDEX)
    if not content:
        raise ValueError(
            f"none of the locales {', '.join(tags) or '(none)'} has demo content; "
            f"include at least one of {', '.join(CONTENT_LOCALES)}"
        )
    content_tags = [tag for tag, _ in content]
    primary = "en-US" if "en-US" in content_tags else content_tags[0]
    regional = tuple(
        (tag, base, suffix)
        for tag in tags
        if tag in REGIONAL
        for base, suffix in [REGIONAL[tag]]
        if base in content_tags
    )
    droppable: tuple[str, ...] = tuple(t for t in ("de-DE", "fr-FR") if t in content_tags) or tuple(
        t for t in content_tags if t != primary
    )
    return _LocalePlan(content, primary, regional, droppable)


def _reference_time(now: datetime | None) -> datetime:
    if now is None:
        return DEMO_NOW
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (MongoDB stores UTC)")
    # MongoDB keeps milliseconds; whole seconds make timestamps survive a round trip exactly.
    return now.astimezone(UTC).replace(microsecond=0)


def generate_demo_catalog(
    products: int = 300,
    seed: int = 7,
    locales: Sequence[str] = DEFAULT_LOCALES,
    now: datetime | None = None,
) -> DemoCatalog:
    """Build the demo catalog; the same arguments always give the same documents.

    Content is written in the requested locales among ``CONTENT_LOCALES``; ``de-AT`` and
    ``fr-CA`` only get a name override on a handful of products. Timestamps lie before ``now``
    (default ``DEMO_NOW``). Documents carry no ``_id``.
    """
    if products < MIN_PRODUCTS:
        raise ValueError(
            f"the demo catalog needs at least {MIN_PRODUCTS} products (every planted defect "
            f"goes on two or more of them); got {products}"
        )
    plan = _plan_locales(locales)
    return _Generator(random.Random(seed), plan, _reference_time(now), products).run()


def _attribute_documents(plan: _LocalePlan) -> list[AttributeDefinitionDocument]:
    documents: list[AttributeDefinitionDocument] = []
    for spec in ATTRIBUTE_SPECS:
        document = AttributeDefinitionDocument(
            code=spec.code,
            type=spec.type,
            label=plan.text(spec.label),
            localizable=spec.localizable,
        )
        if spec.unit is not None:
            document["unit"] = spec.unit
        if spec.options is not None:
            document["options"] = list(spec.options)
        documents.append(document)
    return documents


def _category_documents(plan: _LocalePlan) -> list[CategoryDocument]:
    documents: list[CategoryDocument] = []
    for r, root in enumerate(TREE):
        documents.append(
            CategoryDocument(
                slug=root.slug,
                name=plan.text(root.name),
                parent=None,
                ancestors=[],
                position=r,
                requiredAttributes=[],
            )
        )
        for m, mid in enumerate(root.mids):
            documents.append(
                CategoryDocument(
                    slug=mid.slug,
                    name=plan.text(mid.name),
                    parent=root.slug,
                    ancestors=[root.slug],
                    position=m,
                    requiredAttributes=list(mid.required),
                )
            )
            for leaf_position, leaf in enumerate(mid.leaves):
                documents.append(
                    CategoryDocument(
                        slug=leaf.slug,
                        name=plan.text(leaf.name),
                        parent=mid.slug,
                        ancestors=[root.slug, mid.slug],
                        position=leaf_position,
                        requiredAttributes=list(leaf.required),
                    )
                )
    return documents


def _sample(rng: random.Random, pool: Sequence[str], count: int, exclude: str) -> list[str]:
    if count <= 0 or not pool:
        return []
    picked = rng.sample(pool, min(len(pool), count + 1))
    return [sku for sku in picked if sku != exclude][:count]


def _join(*words: str) -> str:
    return " ".join(word for word in words if word)


class _Generator:
    """One generation run; all randomness comes from ``rng``, consumed in a fixed order."""

    def __init__(self, rng: random.Random, plan: _LocalePlan, now: datetime, count: int) -> None:
        self.rng = rng
        self.plan = plan
        self.now = now
        self.count = count
        self.per_defect = max(2, count // 100)
        self.used_names: dict[str, set[str]] = {brand.name: set() for brand in BRANDS}
        self.taken: set[int] = set()
        self.pool: list[int] = []

    def run(self) -> DemoCatalog:
        self._skeleton()
        self._roles()
        documents = [self._product(i) for i in range(self.count)]
        self._relate(documents)
        defects = plant_defects(
            documents,
            self.defects,
            self.rng,
            primary=self.plan.primary,
            droppable=self.plan.droppable,
            leaves=[info.leaf for info in self.leaves],
            brands=self.brands,
        )
        self._regional(documents)
        defects = self._contract_defects(documents, defects)
        return DemoCatalog(
            attributes=_attribute_documents(self.plan),
            categories=_category_documents(self.plan),
            products=documents,
            defects=defects,
        )

    # -- who is what ------------------------------------------------------------------------

    def _skeleton(self) -> None:
        rng = self.rng
        # Every leaf gets at least one product, so every category and attribute is exercised.
        first = list(range(len(_LEAVES)))
        rng.shuffle(first)
        rest = rng.choices(_LEAVES, cum_weights=_LEAF_CUM_WEIGHTS, k=self.count - len(first))
        self.leaves: list[_LeafInfo] = [_LEAVES[i] for i in first] + rest
        self.brands: list[Brand] = [rng.choice(_BRANDS_BY_ROOT[i.root.slug]) for i in self.leaves]

    def _take(self, count: int, eligible: Callable[[int], bool] | None = None) -> list[int]:
        picked: list[int] = []
        for index in self.pool:
            if len(picked) == count:
                break
            if index not in self.taken and (eligible is None or eligible(index)):
                picked.append(index)
                self.taken.add(index)
        if len(picked) < count:
            raise RuntimeError("not enough products to plant the demo defects")  # pragma: no cover
        return picked

    def _roles(self) -> None:
        rng, k = self.rng, self.per_defect
        self.pool = list(range(self.count))
        rng.shuffle(self.pool)

        def spare(index: int) -> bool:
            # Copies take over their original's category, so they must not come from the
            # first products, which give every leaf one product.
            return index >= len(_LEAVES)

        # Originals of SKU collisions have no variants, so variant SKUs never collide as well.
        collision_originals = self._take(k, lambda i: not self.leaves[i].leaf.sizes)
        collision_twins = self._take(k, spare)
        duplicate_originals = self._take(k)
        duplicate_copies = self._take(k, spare)
        # A duplicate is the same product entered twice: same brand and category.
        for original, copy in [
            *zip(collision_originals, collision_twins, strict=True),
            *zip(duplicate_originals, duplicate_copies, strict=True),
        ]:
            self.leaves[copy] = self.leaves[original]
            self.brands[copy] = self.brands[original]
        missing_translation = self._take(k) if self.plan.droppable else []
        no_hero = self._take(k)
        missing_required = self._take(k)
        broken_reference = self._take(k)
        missing_asset = self._take(k)
        long_name = self._take(2)
        self.defects = DefectRoles(
            collision_originals=collision_originals,
            collision_twins=collision_twins,
            duplicate_originals=duplicate_originals,
            duplicate_copies=duplicate_copies,
            missing_translation=missing_translation,
            no_hero=no_hero,
            missing_required=missing_required,
            broken_reference=broken_reference,
            missing_asset=missing_asset,
            long_name=long_name,
        )
        self.bundles = set(self._take(max(2, self.count // 80)))
        self.regional = self._take(max(3, self.count // 100)) if self.plan.regional else []
        self.no_variants = set(collision_originals) | set(collision_twins)

        self.skus = [
            f"{brand.prefix}-{info.leaf.code}-{i + 1:06d}"
            for i, (brand, info) in enumerate(zip(self.brands, self.leaves, strict=True))
        ]
        for n, (original, twin) in enumerate(
            zip(collision_originals, collision_twins, strict=True)
        ):
            self.skus[twin] = colliding_sku(n, self.skus[original])

    def _contract_defects(
        self, documents: list[ProductDocument], defects: PlantedDefects
    ) -> PlantedDefects:
        """Defects only a channel contract finds, planted after everything else: they take no
        part in the random stream, so every other product is what it was without them."""
        deleted = deleted_in_dam(documents)
        gone = {d.sku for d in deleted}
        spare = [
            i
            for i in self.pool
            if i not in self.taken
            and i not in self.bundles
            and documents[i]["status"] == "published"
            and documents[i]["sku"] not in gone
        ]
        sheets = (plant_spec_sheet(documents[spare[0]], self.plan.primary),) if spare else ()
        return replace(defects, spec_sheet_descriptions=sheets, deleted_in_dam=deleted)

    # -- one product --------------------------------------------------------------------------

    def _product(self, i: int) -> ProductDocument:
        rng, info, brand, sku = self.rng, self.leaves[i], self.brands[i], self.skus[i]
        bundle = i in self.bundles
        categories = [info.leaf.slug]
        required = info.required
        if i not in self.taken and info.mid.cross_list and rng.random() < 0.08:
            sibling = _LEAF_BY_SLUG[rng.choice(info.siblings).slug]
            categories.append(sibling.leaf.slug)
            required = tuple(dict.fromkeys((*required, *sibling.required)))

        name = self._name(brand, info, bundle)
        closer = rng.choice(CLOSERS)
        description = {
            tag: f"{name[tag]} - {info.mid.pitch[t]} {closer[t]}" for tag, t in self.plan.content
        }

        codes = list(required)
        codes += [c for c in info.leaf.optional if c not in required and rng.random() < 0.5]
        attributes = {code: self._value(code, info) for code in codes}
        if rng.random() < 0.25:
            # An ERP export with an empty GTIN column: the attribute is there, but blank.
            attributes[BLANK_ATTRIBUTE] = AttributeValue(value="")

        variants = [] if bundle or i in self.no_variants else self._variants(sku, info, attributes)

        roll = rng.random()
        status: ProductStatus = (
            "published" if roll < 0.85 else "draft" if roll < 0.95 else "archived"
        )
        age = rng.randint(14 * 86_400, 900 * 86_400)
        created = self.now - timedelta(seconds=age)
        updated = created + timedelta(seconds=rng.randint(0, age))
        return ProductDocument(
            sku=sku,
            status=status,
            brand=brand.name,
            name=name,
            description=description,
            categories=categories,
            attributes=attributes,
            variants=variants,
            accessories=[],
            bundle=[],
            related=[],
            media=self._media(sku, variants),
            schemaVersion=SCHEMA_VERSION,
            revision=1,
            createdAt=created,
            updatedAt=updated,
        )

    def _name(self, brand: Brand, info: _LeafInfo, bundle: bool) -> LocalizedText:
        rng = self.rng
        noun = rng.choice(info.leaf.nouns)
        series = rng.choice(SERIES)
        tier = rng.choice(TIERS)
        used = self.used_names[brand.name]
        number = 1
        while True:
            suffix = str(number) if number > 1 else ""
            extra = BUNDLE_WORDS[0] if bundle else ""
            key = normalize_name(_join(series, noun[0], tier, suffix, extra))
            if key not in used:
                used.add(key)
                break
            number += 1
        names: LocalizedText = {}
        for tag, t in self.plan.content:
            extra = BUNDLE_WORDS[t] if bundle else ""
            # French and Italian put the noun first: "Chaussure de trail Aeris Pro".
            head = (series, noun[t]) if t < 2 else (noun[t], series)
            names[tag] = _join(*head, tier, suffix, extra)
        return names

    def _value(self, code: str, info: _LeafInfo) -> AttributeValue:
        rng, plan = self.rng, self.plan
        spec = _SPECS_BY_CODE[code]
        if code == "material":
            return AttributeValue(value=plan.text(MATERIALS[rng.choice(info.mid.materials)]))
        if code == "care_instructions":
            return AttributeValue(value=plan.text(rng.choice(CARE_INSTRUCTIONS)))
        if code == "features":
            keys = rng.sample(info.mid.features, rng.randint(2, min(4, len(info.mid.features))))
            return AttributeValue(
                value={tag: [FEATURES[key][t] for key in keys] for tag, t in plan.content}
            )
        if code == "size":
            return AttributeValue(value=rng.choice(("S", "M", "L")))
        if code == "warranty_years":
            return AttributeValue(value=rng.choice((1, 2, 2, 2, 3, 5)), unit="years")
        if spec.type == "boolean":
            return AttributeValue(value=rng.random() < 0.6)
        if spec.type == "number":
            low, high = info.ranges.get(code, (spec.low, spec.high))
            raw = rng.uniform(low, high)
            number: float = round(raw, spec.decimals) if spec.decimals else round(raw)
            assert spec.unit is not None
            return AttributeValue(value=number, unit=spec.unit)
        assert spec.options is not None
        if spec.type == "list":
            picked = set(rng.sample(spec.options, rng.randint(1, 3)))
            return AttributeValue(value=[o for o in spec.options if o in picked])
        return AttributeValue(value=rng.choice(spec.options))

    def _variants(
        self, sku: str, info: _LeafInfo, attributes: dict[str, AttributeValue]
    ) -> list[VariantDocument]:
        rng = self.rng
        sizes_available = info.leaf.sizes
        if not sizes_available:
            product_color = attributes.get("color")
            if product_color is None or rng.random() >= 0.25:
                return []
            value = str(product_color["value"])
            return [VariantDocument(sku=f"{sku}-{value.upper()}", options={"color": value})]
        n_colors = rng.choice((1, 2, 2, 3))
        n_sizes = rng.randint(2 if n_colors == 1 else 1, min(6 // n_colors, len(sizes_available)))
        start = rng.randint(0, len(sizes_available) - n_sizes)
        sizes = sizes_available[start : start + n_sizes]
        colors = rng.sample(COLORS, n_colors)
        weight = attributes.get("weight")
        # Occasionally the largest size is noticeably heavier, which variants record as an override.
        heavier = weight is not None and rng.random() < 0.3
        variants: list[VariantDocument] = []
        for color in colors:
            for size in sizes:
                variant = VariantDocument(
                    sku=f"{sku}-{color.upper()}-{size}", options={"color": color, "size": size}
                )
                if heavier and weight is not None and size == sizes[-1]:
                    variant["attributes"] = {
                        "weight": AttributeValue(value=round(weight["value"] * 1.08, 2), unit="kg")
                    }
                variants.append(variant)
        return variants

    def _media(self, sku: str, variants: list[VariantDocument]) -> list[MediaReference]:
        rng = self.rng
        swatches: dict[str, str] = {}
        for variant in variants:
            swatches.setdefault(variant["options"]["color"], variant["sku"])
        total = rng.randint(3, 8 - len(swatches))
        has_video = rng.random() < 0.2
        shots: tuple[MediaRole, ...] = (
            "front",
            "side",
            "back",
            "detail",
            "detail",
            "lifestyle",
            "lifestyle",
        )
        slots = total - 1 - (1 if has_video else 0)
        roles: list[tuple[MediaRole, str | None]] = [("hero", None)]
        roles += [(shots[j], None) for j in sorted(rng.sample(range(len(shots)), slots))]
        if has_video:
            roles.append(("video", None))
        roles += [("swatch", variant_sku) for variant_sku in swatches.values()]
        return media_references(sku, roles)

    # -- relations ----------------------------------------------------------------------------

    def _relate(self, documents: list[ProductDocument]) -> None:
        rng = self.rng
        by_leaf: dict[str, list[str]] = {}
        # Bundles never contain bundles, so a bundle cannot end up containing itself.
        components: dict[str, list[str]] = {}
        for i, document in enumerate(documents):
            info = self.leaves[i]
            by_leaf.setdefault(info.leaf.slug, []).append(document["sku"])
            if i not in self.bundles:
                components.setdefault(info.mid.slug, []).append(document["sku"])
                components.setdefault(info.root.slug, []).append(document["sku"])
        accessory_pools: dict[str, list[str]] = {
            info.leaf.slug: [sku for slug in info.leaf.accessories for sku in by_leaf.get(slug, ())]
            for info in _LEAVES
        }
        for i, document in enumerate(documents):
            info, sku = self.leaves[i], document["sku"]
            document["related"] = _sample(
                rng, by_leaf[info.leaf.slug], rng.choice((0, 1, 2, 2, 3, 4)), sku
            )
            document["accessories"] = _sample(
                rng, accessory_pools[info.leaf.slug], rng.choice((0, 0, 1, 2, 3)), sku
            )
            if i in self.bundles:
                # A kit from one department (a kitchen set) when it has enough products.
                pool = components.get(info.mid.slug, [])
                if len(pool) < 6:
                    pool = components[info.root.slug]
                parts = _sample(rng, pool, rng.randint(2, 5), sku)
                document["bundle"] = [
                    BundleComponent(sku=part, quantity=rng.choice((1, 1, 1, 2, 3)))
                    for part in parts
                ]

    def _regional(self, documents: list[ProductDocument]) -> None:
        """A name override in a regional locale on a few products (no defect: by design)."""
        for n, i in enumerate(self.regional):
            tag, base, suffix = self.plan.regional[n % len(self.plan.regional)]
            name = documents[i]["name"]
            name[tag] = name[base] + suffix


def media_references(
    sku: str, roles: Sequence[tuple[MediaRole, str | None]]
) -> list[MediaReference]:
    """References in the given order, numbered per role (``catalog/{sku}/{role}-{n}``)."""
    counters: dict[str, int] = {}
    media: list[MediaReference] = []
    for position, (role, variant_sku) in enumerate(roles):
        counters[role] = counters.get(role, 0) + 1
        reference = MediaReference(
            publicId=f"catalog/{sku}/{role}-{counters[role]}", role=role, position=position
        )
        if variant_sku is not None:
            reference["variantSku"] = variant_sku
        media.append(reference)
    return media
