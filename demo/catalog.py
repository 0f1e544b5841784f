"""A deterministic demo catalog (brands, categories, attributes, products) and its seeding.

The catalog is realistic enough to demo the gateway: localized names with regional fallback
locales, colour/size variants, bundles, accessories and Cloudinary media references. It also
carries a small set of planted data-quality defects, recorded in :class:`PlantedDefects`, so an
audit can be tested against a known answer. Everything not recorded there is clean.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.documents import (
    SCHEMA_VERSION,
    AttributeDefinitionDocument,
    AttributeType,
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
CONTENT_LOCALES: tuple[str, ...] = ("en-US", "de-DE", "fr-FR", "it-IT")
MIN_PRODUCTS = 50
BLANK_ATTRIBUTE = "gtin"
LONG_NAME_LIMIT = 150
MISSING_ASSET_PREFIX = "catalog/missing/"
SEED_CHUNK = 1_000
# Fixed so that the same (products, seed) always yields the same timestamps.
DEMO_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------
# Public result types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MissingTranslation:
    """``name`` and ``description`` of product ``sku`` have no ``locale`` entry."""

    sku: str
    locale: str


@dataclass(frozen=True, slots=True)
class NearDuplicateName:
    """Two products of one brand whose names are equal under :func:`normalize_name`."""

    brand: str
    sku: str
    duplicate_sku: str
    name: str
    duplicate_name: str


@dataclass(frozen=True, slots=True)
class SkuCollision:
    """Two product SKUs equal under :func:`normalize_sku` (case, ``-`` vs ``_``)."""

    sku: str
    colliding_sku: str


@dataclass(frozen=True, slots=True)
class MissingRequiredAttribute:
    """Product ``sku`` lacks ``code``, required by its category ``category``."""

    sku: str
    category: str
    code: str


@dataclass(frozen=True, slots=True)
class BrokenReference:
    """Product ``sku`` lists ``missing_sku``, which no product has, in ``field``."""

    sku: str
    field: Literal["related", "accessories"]
    missing_sku: str


@dataclass(frozen=True, slots=True)
class MissingAsset:
    """Product ``sku`` references ``public_id``, which no DAM asset will ever have."""

    sku: str
    public_id: str


@dataclass(frozen=True, slots=True)
class LongName:
    """Product ``sku`` has a name longer than ``LONG_NAME_LIMIT`` in ``locale``."""

    sku: str
    locale: str
    length: int


@dataclass(frozen=True, slots=True)
class PlantedDefects:
    """Exactly which records carry which planted defect; every other record is clean."""

    missing_translations: tuple[MissingTranslation, ...]
    always_blank_attribute: str  # defined, set to "" on some products, never filled
    missing_hero_media: tuple[str, ...]  # product SKUs without a "hero" media reference
    near_duplicate_names: tuple[NearDuplicateName, ...]
    sku_collisions: tuple[SkuCollision, ...]
    missing_required_attributes: tuple[MissingRequiredAttribute, ...]
    broken_references: tuple[BrokenReference, ...]
    missing_assets: tuple[MissingAsset, ...]
    long_names: tuple[LongName, ...]

    def product_skus(self) -> frozenset[str]:
        """SKUs of every product involved in a per-product defect."""
        skus: set[str] = set(self.missing_hero_media)
        skus.update(d.sku for d in self.missing_translations)
        for pair in self.near_duplicate_names:
            skus.update((pair.sku, pair.duplicate_sku))
        for collision in self.sku_collisions:
            skus.update((collision.sku, collision.colliding_sku))
        skus.update(d.sku for d in self.missing_required_attributes)
        skus.update(d.sku for d in self.broken_references)
        skus.update(d.sku for d in self.missing_assets)
        skus.update(d.sku for d in self.long_names)
        return frozenset(skus)


@dataclass(frozen=True, slots=True)
class DemoCatalog:
    """Documents for the ``attributes``, ``categories`` and ``products`` collections."""

    attributes: list[AttributeDefinitionDocument]
    categories: list[CategoryDocument]
    products: list[ProductDocument]
    defects: PlantedDefects


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What :func:`seed_demo_catalog` inserted."""

    products: int
    variants: int
    categories: int
    attributes: int
    media_references: int


class CatalogNotEmptyError(ValueError):
    """The catalog already holds products and the caller did not ask to replace them."""


# ---------------------------------------------------------------------------------------------
# Static content. Translations are (en-US, de-DE, fr-FR, it-IT) tuples.
# ---------------------------------------------------------------------------------------------

T4 = tuple[str, str, str, str]
_LANG_INDEX: dict[str, int] = {tag: i for i, tag in enumerate(CONTENT_LOCALES)}
# Regional locales get a name override on a handful of products only; everything else must
# come from the fallback chain (de-AT -> de-DE -> en-US).
_REGIONAL: dict[str, tuple[str, str]] = {
    "de-AT": ("de-DE", " (Edition Österreich)"),
    "fr-CA": ("fr-FR", " (édition canadienne)"),
}

COLORS: tuple[str, ...] = (
    "black",
    "white",
    "grey",
    "navy",
    "blue",
    "red",
    "green",
    "olive",
    "yellow",
    "orange",
    "pink",
    "beige",
)
LETTER_SIZES: tuple[str, ...] = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES: tuple[str, ...] = tuple(str(size) for size in range(36, 48))
COUNTRIES: tuple[str, ...] = ("DE", "IT", "PT", "FR", "PL", "RO", "VN", "CN", "TW", "US")
SEASONS: tuple[str, ...] = ("spring-summer", "autumn-winter", "all-season")
CONNECTIVITY: tuple[str, ...] = ("bluetooth", "usb-c", "wifi", "nfc", "aux")


@dataclass(frozen=True, slots=True)
class _AttributeSpec:
    code: str
    type: AttributeType
    label: T4
    localizable: bool = False
    unit: str | None = None
    options: tuple[str, ...] | None = None
    # Default value range of number attributes, and how many decimals (0 = int).
    low: float = 0.0
    high: float = 0.0
    decimals: int = 0


_ATTRIBUTE_SPECS: tuple[_AttributeSpec, ...] = (
    _AttributeSpec("color", "enum", ("Color", "Farbe", "Couleur", "Colore"), options=COLORS),
    _AttributeSpec(
        "size", "enum", ("Size", "Größe", "Taille", "Taglia"), options=LETTER_SIZES + SHOE_SIZES
    ),
    _AttributeSpec("material", "text", ("Material", "Material", "Matière", "Materiale"), True),
    _AttributeSpec(
        "weight",
        "number",
        ("Weight", "Gewicht", "Poids", "Peso"),
        unit="kg",
        low=0.1,
        high=2.0,
        decimals=2,
    ),
    _AttributeSpec(
        "width_cm",
        "number",
        ("Width", "Breite", "Largeur", "Larghezza"),
        unit="cm",
        low=10,
        high=80,
        decimals=1,
    ),
    _AttributeSpec(
        "height_cm",
        "number",
        ("Height", "Höhe", "Hauteur", "Altezza"),
        unit="cm",
        low=5,
        high=60,
        decimals=1,
    ),
    _AttributeSpec(
        "waterproof", "boolean", ("Waterproof", "Wasserdicht", "Imperméable", "Impermeabile")
    ),
    _AttributeSpec(
        "dishwasher_safe",
        "boolean",
        (
            "Dishwasher safe",
            "Spülmaschinenfest",
            "Compatible lave-vaisselle",
            "Lavabile in lavastoviglie",
        ),
    ),
    _AttributeSpec(
        "features", "list", ("Features", "Merkmale", "Caractéristiques", "Caratteristiche"), True
    ),
    _AttributeSpec(
        "connectivity",
        "list",
        ("Connectivity", "Konnektivität", "Connectivité", "Connettività"),
        options=CONNECTIVITY,
    ),
    _AttributeSpec(
        "power_w",
        "number",
        ("Power", "Leistung", "Puissance", "Potenza"),
        unit="W",
        low=5,
        high=2400,
    ),
    _AttributeSpec(
        "capacity_l",
        "number",
        ("Capacity", "Fassungsvermögen", "Contenance", "Capacità"),
        unit="L",
        low=0.2,
        high=8.0,
        decimals=1,
    ),
    _AttributeSpec(
        "battery_life_h",
        "number",
        ("Battery life", "Akkulaufzeit", "Autonomie", "Autonomia della batteria"),
        unit="h",
        low=4,
        high=60,
    ),
    _AttributeSpec(
        "care_instructions",
        "text",
        ("Care instructions", "Pflegehinweise", "Conseils d'entretien", "Istruzioni per la cura"),
        True,
    ),
    _AttributeSpec(
        "warranty_years",
        "number",
        ("Warranty", "Garantie", "Garantie", "Garanzia"),
        unit="years",
        low=1,
        high=5,
    ),
    _AttributeSpec(
        "country_of_origin",
        "enum",
        ("Country of origin", "Herkunftsland", "Pays d'origine", "Paese di origine"),
        options=COUNTRIES,
    ),
    _AttributeSpec("season", "enum", ("Season", "Saison", "Saison", "Stagione"), options=SEASONS),
    _AttributeSpec(BLANK_ATTRIBUTE, "text", ("GTIN", "GTIN", "GTIN", "GTIN")),
)
_SPECS_BY_CODE: dict[str, _AttributeSpec] = {spec.code: spec for spec in _ATTRIBUTE_SPECS}

MATERIALS: dict[str, T4] = {
    "mesh": ("Engineered mesh", "Mesh-Gewebe", "Maille technique", "Rete tecnica"),
    "leather": ("Full-grain leather", "Vollnarbenleder", "Cuir pleine fleur", "Pelle pieno fiore"),
    "suede": ("Suede", "Wildleder", "Daim", "Camoscio"),
    "cotton": ("Organic cotton", "Bio-Baumwolle", "Coton biologique", "Cotone biologico"),
    "merino": ("Merino wool", "Merinowolle", "Laine mérinos", "Lana merino"),
    "polyester": (
        "Recycled polyester",
        "Recyceltes Polyester",
        "Polyester recyclé",
        "Poliestere riciclato",
    ),
    "nylon": ("Ripstop nylon", "Ripstop-Nylon", "Nylon ripstop", "Nylon ripstop"),
    "down": ("Duck down", "Entendaune", "Duvet de canard", "Piumino d'anatra"),
    "stainless": ("Stainless steel", "Edelstahl", "Acier inoxydable", "Acciaio inossidabile"),
    "cast_iron": ("Cast iron", "Gusseisen", "Fonte", "Ghisa"),
    "ceramic": ("Ceramic", "Keramik", "Céramique", "Ceramica"),
    "porcelain": ("Porcelain", "Porzellan", "Porcelaine", "Porcellana"),
    "glass": ("Borosilicate glass", "Borosilikatglas", "Verre borosilicate", "Vetro borosilicato"),
    "bamboo": ("Bamboo", "Bambus", "Bambou", "Bambù"),
    "aluminium": ("Aluminium", "Aluminium", "Aluminium", "Alluminio"),
    "abs": ("ABS plastic", "ABS-Kunststoff", "Plastique ABS", "Plastica ABS"),
    "silicone": ("Silicone", "Silikon", "Silicone", "Silicone"),
    "tpe": ("TPE foam", "TPE-Schaum", "Mousse TPE", "Schiuma TPE"),
}

FEATURES: dict[str, T4] = {
    "breathable": ("Breathable", "Atmungsaktiv", "Respirant", "Traspirante"),
    "lightweight": ("Lightweight", "Leicht", "Léger", "Leggero"),
    "reflective": (
        "Reflective details",
        "Reflektierende Details",
        "Détails réfléchissants",
        "Dettagli riflettenti",
    ),
    "recycled": (
        "Recycled materials",
        "Recycelte Materialien",
        "Matériaux recyclés",
        "Materiali riciclati",
    ),
    "quick_dry": ("Quick-dry", "Schnelltrocknend", "Séchage rapide", "Asciugatura rapida"),
    "windproof": ("Windproof", "Winddicht", "Coupe-vent", "Antivento"),
    "cushioned": ("Cushioned sole", "Gedämpfte Sohle", "Semelle amortie", "Suola ammortizzata"),
    "induction": (
        "Induction compatible",
        "Induktionsgeeignet",
        "Compatible induction",
        "Compatibile con induzione",
    ),
    "non_stick": (
        "Non-stick coating",
        "Antihaftbeschichtung",
        "Revêtement antiadhésif",
        "Rivestimento antiaderente",
    ),
    "anc": (
        "Active noise cancelling",
        "Aktive Geräuschunterdrückung",
        "Réduction de bruit active",
        "Cancellazione attiva del rumore",
    ),
    "fast_charging": ("Fast charging", "Schnellladen", "Charge rapide", "Ricarica rapida"),
    "foldable": ("Foldable", "Faltbar", "Pliable", "Pieghevole"),
    "ergonomic": (
        "Ergonomic design",
        "Ergonomisches Design",
        "Design ergonomique",
        "Design ergonomico",
    ),
    "touch": ("Touch controls", "Touch-Steuerung", "Commandes tactiles", "Comandi touch"),
    "stackable": ("Stackable", "Stapelbar", "Empilable", "Impilabile"),
    "non_slip": ("Non-slip", "Rutschfest", "Antidérapant", "Antiscivolo"),
}

CARE_INSTRUCTIONS: tuple[T4, ...] = (
    (
        "Machine wash at 30 °C",
        "Maschinenwäsche bei 30 °C",
        "Lavage en machine à 30 °C",
        "Lavaggio in lavatrice a 30 °C",
    ),
    ("Hand wash only", "Nur Handwäsche", "Lavage à la main uniquement", "Lavare solo a mano"),
    (
        "Wipe clean with a damp cloth",
        "Mit einem feuchten Tuch abwischen",
        "Nettoyer avec un chiffon humide",
        "Pulire con un panno umido",
    ),
    (
        "Do not tumble dry",
        "Nicht im Trockner trocknen",
        "Ne pas sécher en machine",
        "Non asciugare in asciugatrice",
    ),
)

CLOSERS: tuple[T4, ...] = (
    (
        "Designed in Europe and tested in everyday use.",
        "In Europa entworfen und im Alltag getestet.",
        "Conçu en Europe et testé au quotidien.",
        "Progettato in Europa e testato ogni giorno.",
    ),
    (
        "Backed by our satisfaction guarantee.",
        "Mit unserer Zufriedenheitsgarantie.",
        "Couvert par notre garantie satisfaction.",
        "Coperto dalla nostra garanzia di soddisfazione.",
    ),
    (
        "Made with responsibly sourced materials.",
        "Aus verantwortungsvoll beschafften Materialien.",
        "Fabriqué avec des matériaux d'origine responsable.",
        "Realizzato con materiali di provenienza responsabile.",
    ),
    (
        "A favorite with our customers.",
        "Ein Liebling unserer Kundschaft.",
        "Un favori de nos clients.",
        "Uno dei preferiti dai nostri clienti.",
    ),
)

# Model lines and tiers: with the leaf nouns they make names that are unique within a brand.
SERIES: tuple[str, ...] = (
    "Aeris",
    "Summit",
    "Vento",
    "Nordic",
    "Atlas",
    "Luma",
    "Orbit",
    "Terra",
    "Cascade",
    "Ember",
    "Solace",
    "Pulse",
    "Harbor",
    "Zenith",
    "Drift",
    "Granite",
    "Meridian",
    "Halo",
    "Sable",
    "Tundra",
    "Vista",
    "Echo",
    "Nova",
    "Ridge",
)
TIERS: tuple[str, ...] = (
    "",
    "Pro",
    "Lite",
    "Plus",
    "Max",
    "Evo",
    "Elite",
    "Classic",
    "Flex",
    "Air",
)
BUNDLE_WORDS: T4 = ("Bundle", "Bundle", "Pack", "Kit")
LONG_NAME_TAIL: tuple[str, ...] = (
    "Lightweight Breathable Everyday Essential for Men and Women",
    "Perfect Gift Idea for Every Occasion",
    "Available in Multiple Colors and Sizes",
    "Premium Quality with Extended Warranty",
    "New 2025 Collection with Free Shipping and Easy Returns",
)


@dataclass(frozen=True, slots=True)
class _Brand:
    name: str
    prefix: str
    roots: tuple[str, ...]


BRANDS: tuple[_Brand, ...] = (
    _Brand("Northwind", "NW", ("apparel", "outdoor")),
    _Brand("Alpenglow", "AG", ("apparel", "outdoor")),
    _Brand("Trailcraft", "TC", ("apparel", "outdoor")),
    _Brand("Maison Lumière", "ML", ("apparel", "home")),
    _Brand("Hearth & Co", "HC", ("home",)),
    _Brand("Copperleaf", "CL", ("home",)),
    _Brand("Voltaic", "VT", ("electronics",)),
    _Brand("Sonara", "SN", ("electronics",)),
)


@dataclass(frozen=True, slots=True)
class _Leaf:
    slug: str
    code: str  # the category part of the SKU
    name: T4
    nouns: tuple[T4, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    sizes: tuple[str, ...] = ()  # non-empty: products vary by colour and these sizes
    ranges: tuple[tuple[str, float, float], ...] = ()  # (code, low, high) number overrides
    accessories: tuple[str, ...] = ()  # leaf slugs whose products are offered as accessories


@dataclass(frozen=True, slots=True)
class _Mid:
    slug: str
    name: T4
    required: tuple[str, ...]
    materials: tuple[str, ...]
    features: tuple[str, ...]
    pitch: T4
    leaves: tuple[_Leaf, ...]
    cross_list: bool = False  # products may also be listed in a sibling leaf


@dataclass(frozen=True, slots=True)
class _Root:
    slug: str
    name: T4
    weight: float  # share of products
    mids: tuple[_Mid, ...]


_SHOE_OPTIONAL = ("waterproof", "features", "care_instructions", "country_of_origin")
_TREE: tuple[_Root, ...] = (
    _Root(
        "apparel",
        ("Apparel", "Bekleidung", "Vêtements", "Abbigliamento"),
        3.0,
        (
            _Mid(
                "footwear",
                ("Footwear", "Schuhe", "Chaussures", "Calzature"),
                ("material",),
                ("mesh", "leather", "suede", "polyester"),
                ("breathable", "lightweight", "cushioned", "reflective", "recycled"),
                (
                    "Built for long days on your feet, with a supportive fit and a grippy outsole.",
                    "Für lange Tage auf den Beinen, mit stützender Passform und griffiger Sohle.",
                    "Conçue pour les longues journées, avec un bon maintien et une semelle "
                    "adhérente.",
                    "Pensata per le giornate lunghe, con calzata avvolgente e suola aderente.",
                ),
                (
                    _Leaf(
                        "running-shoes",
                        "RUN",
                        (
                            "Running shoes",
                            "Laufschuhe",
                            "Chaussures de running",
                            "Scarpe da running",
                        ),
                        (
                            (
                                "Running Shoe",
                                "Laufschuh",
                                "Chaussure de running",
                                "Scarpa da running",
                            ),
                            ("Trail Runner", "Trailschuh", "Chaussure de trail", "Scarpa da trail"),
                            (
                                "Road Racer",
                                "Wettkampfschuh",
                                "Chaussure de compétition",
                                "Scarpa da gara",
                            ),
                        ),
                        ("material", "weight", "season"),
                        _SHOE_OPTIONAL,
                        SHOE_SIZES,
                        (("weight", 0.2, 0.45),),
                        ("socks", "caps"),
                    ),
                    _Leaf(
                        "hiking-boots",
                        "HIK",
                        (
                            "Hiking boots",
                            "Wanderschuhe",
                            "Chaussures de randonnée",
                            "Scarponi da trekking",
                        ),
                        (
                            (
                                "Hiking Boot",
                                "Wanderstiefel",
                                "Botte de randonnée",
                                "Scarpone da trekking",
                            ),
                            (
                                "Mountain Boot",
                                "Bergstiefel",
                                "Chaussure de montagne",
                                "Scarpone da montagna",
                            ),
                        ),
                        ("material", "weight", "waterproof"),
                        ("features", "season", "care_instructions", "country_of_origin"),
                        SHOE_SIZES,
                        (("weight", 0.5, 1.2),),
                        ("socks", "gloves"),
                    ),
                    _Leaf(
                        "sneakers",
                        "SNK",
                        ("Sneakers", "Sneaker", "Baskets", "Sneaker"),
                        (
                            ("Sneaker", "Sneaker", "Basket", "Sneaker"),
                            ("Court Shoe", "Hallenschuh", "Chaussure de court", "Scarpa da campo"),
                            ("Low-Top", "Halbschuh", "Basket basse", "Sneaker bassa"),
                        ),
                        ("material", "weight"),
                        ("season", *_SHOE_OPTIONAL),
                        SHOE_SIZES,
                        (("weight", 0.3, 0.6),),
                        ("socks",),
                    ),
                ),
                cross_list=True,
            ),
            _Mid(
                "tops",
                ("Tops", "Oberteile", "Hauts", "Top"),
                ("material", "care_instructions"),
                ("cotton", "merino", "polyester"),
                ("breathable", "quick_dry", "recycled", "lightweight"),
                (
                    "A soft, breathable layer for training and everyday wear.",
                    "Eine weiche, atmungsaktive Schicht für Training und Alltag.",
                    "Une couche douce et respirante pour le sport et le quotidien.",
                    "Uno strato morbido e traspirante per l'allenamento e ogni giorno.",
                ),
                (
                    _Leaf(
                        "t-shirts",
                        "TEE",
                        ("T-shirts", "T-Shirts", "T-shirts", "T-shirt"),
                        (
                            ("T-Shirt", "T-Shirt", "T-shirt", "T-shirt"),
                            ("Tech Tee", "Funktionsshirt", "T-shirt technique", "Maglia tecnica"),
                        ),
                        ("season",),
                        ("features", "country_of_origin", "weight"),
                        LETTER_SIZES,
                        (("weight", 0.1, 0.25),),
                        ("caps",),
                    ),
                    _Leaf(
                        "hoodies",
                        "HOD",
                        ("Hoodies", "Hoodies", "Sweats à capuche", "Felpe con cappuccio"),
                        (
                            ("Hoodie", "Kapuzenpullover", "Sweat à capuche", "Felpa con cappuccio"),
                            ("Zip Hoodie", "Kapuzenjacke", "Sweat zippé", "Felpa con zip"),
                        ),
                        ("season", "weight"),
                        ("features", "country_of_origin"),
                        LETTER_SIZES,
                        (("weight", 0.35, 0.7),),
                        ("caps", "gloves"),
                    ),
                    _Leaf(
                        "shirts",
                        "SHI",
                        ("Shirts", "Hemden", "Chemises", "Camicie"),
                        (
                            ("Shirt", "Hemd", "Chemise", "Camicia"),
                            (
                                "Flannel Shirt",
                                "Flanellhemd",
                                "Chemise en flanelle",
                                "Camicia di flanella",
                            ),
                        ),
                        ("season",),
                        ("features", "country_of_origin", "weight"),
                        LETTER_SIZES,
                        (("weight", 0.2, 0.4),),
                    ),
                ),
                cross_list=True,
            ),
            _Mid(
                "outerwear",
                ("Outerwear", "Jacken", "Vestes", "Capispalla"),
                ("material", "season"),
                ("nylon", "polyester", "down"),
                ("windproof", "reflective", "recycled", "lightweight", "breathable"),
                (
                    "Keeps wind and weather out while you stay on the move.",
                    "Hält Wind und Wetter ab, während du in Bewegung bleibst.",
                    "Vous protège du vent et des intempéries en mouvement.",
                    "Ti protegge da vento e maltempo mentre sei in movimento.",
                ),
                (
                    _Leaf(
                        "rain-jackets",
                        "RJK",
                        ("Rain jackets", "Regenjacken", "Vestes de pluie", "Giacche antipioggia"),
                        (
                            ("Rain Jacket", "Regenjacke", "Veste de pluie", "Giacca antipioggia"),
                            (
                                "Shell Jacket",
                                "Hardshelljacke",
                                "Veste hardshell",
                                "Giacca hardshell",
                            ),
                        ),
                        ("waterproof", "weight"),
                        ("features", "care_instructions", "country_of_origin"),
                        LETTER_SIZES,
                        (("weight", 0.25, 0.6),),
                        ("gloves", "caps"),
                    ),
                    _Leaf(
                        "down-jackets",
                        "DJK",
                        ("Down jackets", "Daunenjacken", "Doudounes", "Piumini"),
                        (
                            ("Down Jacket", "Daunenjacke", "Doudoune", "Piumino"),
                            (
                                "Puffer Vest",
                                "Steppweste",
                                "Doudoune sans manches",
                                "Gilet imbottito",
                            ),
                        ),
                        ("weight", "care_instructions"),
                        ("features", "waterproof", "country_of_origin"),
                        LETTER_SIZES,
                        (("weight", 0.3, 0.9),),
                        ("gloves", "caps"),
                    ),
                ),
                cross_list=True,
            ),
            _Mid(
                "apparel-accessories",
                ("Accessories", "Accessoires", "Accessoires", "Accessori"),
                ("material",),
                ("cotton", "merino", "polyester", "leather"),
                ("breathable", "quick_dry", "windproof", "recycled"),
                (
                    "The finishing touch for every outdoor outfit.",
                    "Der letzte Schliff für jedes Outdoor-Outfit.",
                    "La touche finale de toute tenue outdoor.",
                    "Il tocco finale per ogni outfit outdoor.",
                ),
                (
                    _Leaf(
                        "socks",
                        "SCK",
                        ("Socks", "Socken", "Chaussettes", "Calze"),
                        (
                            (
                                "Running Sock",
                                "Laufsocke",
                                "Chaussette de running",
                                "Calza da running",
                            ),
                            (
                                "Hiking Sock",
                                "Wandersocke",
                                "Chaussette de randonnée",
                                "Calza da trekking",
                            ),
                        ),
                        ("care_instructions",),
                        ("features", "country_of_origin"),
                        ("S", "M", "L", "XL"),
                    ),
                    _Leaf(
                        "caps",
                        "CAP",
                        ("Caps", "Kappen", "Casquettes", "Cappellini"),
                        (
                            ("Cap", "Kappe", "Casquette", "Cappellino"),
                            ("Beanie", "Mütze", "Bonnet", "Berretto"),
                        ),
                        ("care_instructions",),
                        ("features", "season"),
                        ("S", "M", "L"),
                    ),
                    _Leaf(
                        "gloves",
                        "GLV",
                        ("Gloves", "Handschuhe", "Gants", "Guanti"),
                        (
                            ("Glove", "Handschuh", "Gant", "Guanto"),
                            ("Liner Glove", "Unterziehhandschuh", "Sous-gant", "Sottoguanto"),
                        ),
                        ("waterproof", "season"),
                        ("features", "care_instructions"),
                        ("S", "M", "L", "XL"),
                    ),
                ),
            ),
        ),
    ),
    _Root(
        "home",
        ("Home", "Wohnen", "Maison", "Casa"),
        2.0,
        (
            _Mid(
                "kitchen",
                ("Kitchen", "Küche", "Cuisine", "Cucina"),
                ("material",),
                ("stainless", "cast_iron", "ceramic", "aluminium", "glass"),
                ("induction", "non_stick", "ergonomic", "stackable"),
                (
                    "Made for everyday cooking and easy to clean.",
                    "Für das tägliche Kochen gemacht und leicht zu reinigen.",
                    "Conçu pour la cuisine de tous les jours et facile à nettoyer.",
                    "Pensato per la cucina di tutti i giorni e facile da pulire.",
                ),
                (
                    _Leaf(
                        "cookware",
                        "CKW",
                        ("Cookware", "Kochgeschirr", "Cuisson", "Pentole"),
                        (
                            ("Frying Pan", "Bratpfanne", "Poêle", "Padella"),
                            ("Saucepan", "Kochtopf", "Casserole", "Casseruola"),
                            ("Dutch Oven", "Bräter", "Cocotte", "Casseruola in ghisa"),
                        ),
                        ("capacity_l", "dishwasher_safe", "weight"),
                        (
                            "color",
                            "width_cm",
                            "care_instructions",
                            "country_of_origin",
                            "warranty_years",
                            "features",
                        ),
                        ranges=(("capacity_l", 1.0, 8.0), ("weight", 0.8, 5.5)),
                        accessories=("knives",),
                    ),
                    _Leaf(
                        "knives",
                        "KNF",
                        ("Knives", "Messer", "Couteaux", "Coltelli"),
                        (
                            ("Chef's Knife", "Kochmesser", "Couteau de chef", "Coltello da chef"),
                            ("Bread Knife", "Brotmesser", "Couteau à pain", "Coltello da pane"),
                            ("Paring Knife", "Schälmesser", "Couteau d'office", "Spelucchino"),
                        ),
                        ("weight", "dishwasher_safe"),
                        ("country_of_origin", "warranty_years", "care_instructions"),
                        ranges=(("weight", 0.08, 0.35),),
                        accessories=("cutlery",),
                    ),
                    _Leaf(
                        "kettles",
                        "KTL",
                        ("Kettles", "Wasserkocher", "Bouilloires", "Bollitori"),
                        (
                            (
                                "Electric Kettle",
                                "Elektrischer Wasserkocher",
                                "Bouilloire électrique",
                                "Bollitore elettrico",
                            ),
                            (
                                "Gooseneck Kettle",
                                "Schwanenhals-Wasserkocher",
                                "Bouilloire col de cygne",
                                "Bollitore a collo di cigno",
                            ),
                        ),
                        ("capacity_l", "power_w", "color"),
                        ("warranty_years", "weight", "features", "country_of_origin"),
                        ranges=(
                            ("capacity_l", 0.8, 1.8),
                            ("power_w", 1200, 3000),
                            ("weight", 0.7, 1.6),
                        ),
                        accessories=("glassware",),
                    ),
                ),
            ),
            _Mid(
                "tableware",
                ("Tableware", "Geschirr", "Arts de la table", "Tavola"),
                ("dishwasher_safe",),
                ("porcelain", "ceramic", "glass", "stainless", "bamboo"),
                ("stackable", "recycled", "lightweight"),
                (
                    "Timeless tableware for everyday meals and special occasions.",
                    "Zeitloses Geschirr für jeden Tag und besondere Anlässe.",
                    "Des arts de la table intemporels pour le quotidien et les grandes occasions.",
                    "Stoviglie senza tempo per ogni giorno e le occasioni speciali.",
                ),
                (
                    _Leaf(
                        "plates",
                        "PLT",
                        ("Plates", "Teller", "Assiettes", "Piatti"),
                        (
                            ("Dinner Plate", "Speiseteller", "Assiette plate", "Piatto piano"),
                            ("Bowl", "Schale", "Bol", "Ciotola"),
                        ),
                        ("material", "width_cm"),
                        ("color", "country_of_origin"),
                        ranges=(("width_cm", 12, 32),),
                        accessories=("cutlery",),
                    ),
                    _Leaf(
                        "glassware",
                        "GLS",
                        ("Glassware", "Gläser", "Verres", "Bicchieri"),
                        (
                            ("Tumbler", "Trinkglas", "Gobelet", "Bicchiere"),
                            ("Wine Glass", "Weinglas", "Verre à vin", "Calice"),
                        ),
                        ("capacity_l", "material"),
                        ("height_cm", "country_of_origin"),
                        ranges=(("capacity_l", 0.2, 0.6), ("height_cm", 8, 25)),
                    ),
                    _Leaf(
                        "cutlery",
                        "CUT",
                        ("Cutlery", "Besteck", "Couverts", "Posate"),
                        (
                            ("Cutlery Set", "Besteckset", "Ménagère", "Set di posate"),
                            (
                                "Dessert Spoon",
                                "Dessertlöffel",
                                "Cuillère à dessert",
                                "Cucchiaino da dessert",
                            ),
                        ),
                        ("material",),
                        ("weight", "country_of_origin"),
                        ranges=(("weight", 0.05, 2.5),),
                    ),
                ),
            ),
            _Mid(
                "bath",
                ("Bath", "Bad", "Salle de bain", "Bagno"),
                ("material", "care_instructions"),
                ("cotton", "bamboo", "polyester"),
                ("quick_dry", "non_slip", "recycled"),
                (
                    "Soft, absorbent and made to last through many washes.",
                    "Weich, saugfähig und langlebig, auch nach vielen Wäschen.",
                    "Doux, absorbant et résistant aux lavages répétés.",
                    "Morbido, assorbente e resistente ai lavaggi.",
                ),
                (
                    _Leaf(
                        "towels",
                        "TWL",
                        ("Towels", "Handtücher", "Serviettes", "Asciugamani"),
                        (
                            ("Bath Towel", "Badetuch", "Drap de bain", "Telo bagno"),
                            ("Hand Towel", "Handtuch", "Serviette de toilette", "Asciugamano"),
                        ),
                        ("width_cm", "height_cm", "color"),
                        ("features", "country_of_origin"),
                        ranges=(("width_cm", 30, 100), ("height_cm", 50, 180)),
                        accessories=("bath-mats",),
                    ),
                    _Leaf(
                        "bath-mats",
                        "BMT",
                        ("Bath mats", "Badematten", "Tapis de bain", "Tappetini da bagno"),
                        (
                            ("Bath Mat", "Badematte", "Tapis de bain", "Tappetino da bagno"),
                            ("Shower Mat", "Duschmatte", "Tapis de douche", "Tappetino doccia"),
                        ),
                        ("width_cm", "height_cm"),
                        ("color", "country_of_origin", "features"),
                        ranges=(("width_cm", 40, 80), ("height_cm", 50, 120)),
                        accessories=("towels",),
                    ),
                ),
            ),
        ),
    ),
    _Root(
        "electronics",
        ("Electronics", "Elektronik", "Électronique", "Elettronica"),
        2.0,
        (
            _Mid(
                "audio",
                ("Audio", "Audio", "Audio", "Audio"),
                ("warranty_years",),
                ("abs", "aluminium", "silicone"),
                ("anc", "fast_charging", "touch", "foldable"),
                (
                    "Rich, detailed sound for music, podcasts and calls.",
                    "Satter, detailreicher Klang für Musik, Podcasts und Anrufe.",
                    "Un son riche et détaillé pour la musique, les podcasts et les appels.",
                    "Suono ricco e dettagliato per musica, podcast e chiamate.",
                ),
                (
                    _Leaf(
                        "headphones",
                        "HPH",
                        ("Headphones", "Kopfhörer", "Casques", "Cuffie"),
                        (
                            (
                                "Wireless Headphones",
                                "Funkkopfhörer",
                                "Casque sans fil",
                                "Cuffie wireless",
                            ),
                            (
                                "Studio Headphones",
                                "Studiokopfhörer",
                                "Casque de studio",
                                "Cuffie da studio",
                            ),
                        ),
                        ("connectivity", "battery_life_h", "color", "weight"),
                        ("features", "country_of_origin"),
                        ranges=(("battery_life_h", 20, 60), ("weight", 0.18, 0.4)),
                        accessories=("chargers", "power-banks"),
                    ),
                    _Leaf(
                        "speakers",
                        "SPK",
                        ("Speakers", "Lautsprecher", "Enceintes", "Altoparlanti"),
                        (
                            (
                                "Portable Speaker",
                                "Tragbarer Lautsprecher",
                                "Enceinte portable",
                                "Altoparlante portatile",
                            ),
                            (
                                "Bookshelf Speaker",
                                "Regallautsprecher",
                                "Enceinte bibliothèque",
                                "Diffusore da scaffale",
                            ),
                        ),
                        ("connectivity", "power_w", "waterproof"),
                        ("weight", "color", "features", "width_cm", "height_cm"),
                        ranges=(
                            ("power_w", 10, 120),
                            ("weight", 0.4, 6.0),
                            ("width_cm", 10, 30),
                            ("height_cm", 10, 40),
                        ),
                        accessories=("chargers",),
                    ),
                    _Leaf(
                        "earbuds",
                        "EBD",
                        ("Earbuds", "In-Ear-Kopfhörer", "Écouteurs", "Auricolari"),
                        (
                            (
                                "True Wireless Earbuds",
                                "True-Wireless-Ohrhörer",
                                "Écouteurs sans fil",
                                "Auricolari true wireless",
                            ),
                            (
                                "Sport Earbuds",
                                "Sport-Ohrhörer",
                                "Écouteurs de sport",
                                "Auricolari sportivi",
                            ),
                        ),
                        ("connectivity", "battery_life_h", "waterproof"),
                        ("color", "features"),
                        ranges=(("battery_life_h", 5, 12),),
                        accessories=("chargers", "power-banks"),
                    ),
                ),
                cross_list=True,
            ),
            _Mid(
                "computer-accessories",
                (
                    "Computer accessories",
                    "Computerzubehör",
                    "Accessoires informatiques",
                    "Accessori per computer",
                ),
                ("warranty_years",),
                ("abs", "aluminium"),
                ("ergonomic", "touch", "lightweight"),
                (
                    "Designed for comfortable, productive work at your desk.",
                    "Für komfortables, produktives Arbeiten am Schreibtisch entwickelt.",
                    "Conçu pour un travail confortable et productif au bureau.",
                    "Progettato per lavorare alla scrivania in modo comodo e produttivo.",
                ),
                (
                    _Leaf(
                        "keyboards",
                        "KBD",
                        ("Keyboards", "Tastaturen", "Claviers", "Tastiere"),
                        (
                            (
                                "Mechanical Keyboard",
                                "Mechanische Tastatur",
                                "Clavier mécanique",
                                "Tastiera meccanica",
                            ),
                            (
                                "Compact Keyboard",
                                "Kompakttastatur",
                                "Clavier compact",
                                "Tastiera compatta",
                            ),
                        ),
                        ("connectivity", "color", "width_cm"),
                        ("weight", "features"),
                        ranges=(("width_cm", 28, 46), ("weight", 0.4, 1.2)),
                        accessories=("mice",),
                    ),
                    _Leaf(
                        "mice",
                        "MSE",
                        ("Mice", "Mäuse", "Souris", "Mouse"),
                        (
                            ("Wireless Mouse", "Funkmaus", "Souris sans fil", "Mouse wireless"),
                            (
                                "Vertical Mouse",
                                "Vertikalmaus",
                                "Souris verticale",
                                "Mouse verticale",
                            ),
                        ),
                        ("connectivity", "weight"),
                        ("color", "battery_life_h", "features"),
                        ranges=(("weight", 0.06, 0.14), ("battery_life_h", 40, 400)),
                        accessories=("keyboards",),
                    ),
                    _Leaf(
                        "monitors",
                        "MON",
                        ("Monitors", "Monitore", "Écrans", "Monitor"),
                        (
                            ("Monitor", "Monitor", "Écran", "Monitor"),
                            (
                                "Ultrawide Monitor",
                                "Ultrawide-Monitor",
                                "Écran ultra-large",
                                "Monitor ultrawide",
                            ),
                        ),
                        ("width_cm", "height_cm", "power_w"),
                        ("weight", "connectivity", "country_of_origin"),
                        ranges=(
                            ("width_cm", 50, 120),
                            ("height_cm", 30, 60),
                            ("power_w", 15, 90),
                            ("weight", 3.0, 9.0),
                        ),
                        accessories=("keyboards", "mice"),
                    ),
                ),
            ),
            _Mid(
                "mobile-accessories",
                (
                    "Mobile accessories",
                    "Handyzubehör",
                    "Accessoires mobiles",
                    "Accessori per smartphone",
                ),
                ("warranty_years",),
                ("abs", "silicone", "leather"),
                ("fast_charging", "lightweight"),
                (
                    "Keeps your devices charged and protected on the go.",
                    "Hält deine Geräte unterwegs geladen und geschützt.",
                    "Garde vos appareils chargés et protégés en déplacement.",
                    "Mantiene i tuoi dispositivi carichi e protetti in viaggio.",
                ),
                (
                    _Leaf(
                        "chargers",
                        "CHG",
                        ("Chargers", "Ladegeräte", "Chargeurs", "Caricabatterie"),
                        (
                            (
                                "Wall Charger",
                                "Netzladegerät",
                                "Chargeur secteur",
                                "Caricatore da parete",
                            ),
                            (
                                "Wireless Charger",
                                "Kabelloses Ladegerät",
                                "Chargeur sans fil",
                                "Caricatore wireless",
                            ),
                        ),
                        ("power_w", "connectivity"),
                        ("weight", "color"),
                        ranges=(("power_w", 15, 140), ("weight", 0.05, 0.4)),
                    ),
                    _Leaf(
                        "power-banks",
                        "PWB",
                        ("Power banks", "Powerbanks", "Batteries externes", "Power bank"),
                        (
                            ("Power Bank", "Powerbank", "Batterie externe", "Power bank"),
                            (
                                "Slim Power Bank",
                                "Slim-Powerbank",
                                "Batterie externe fine",
                                "Power bank sottile",
                            ),
                        ),
                        ("power_w", "weight", "connectivity"),
                        ("color",),
                        ranges=(("power_w", 10, 100), ("weight", 0.12, 0.6)),
                        accessories=("chargers",),
                    ),
                    _Leaf(
                        "phone-cases",
                        "CAS",
                        (
                            "Phone cases",
                            "Handyhüllen",
                            "Coques de téléphone",
                            "Cover per smartphone",
                        ),
                        (
                            ("Phone Case", "Handyhülle", "Coque de téléphone", "Cover"),
                            ("Folio Case", "Klapphülle", "Étui folio", "Custodia a libro"),
                        ),
                        ("material", "color"),
                        ("features",),
                        accessories=("chargers",),
                    ),
                ),
            ),
        ),
    ),
    _Root(
        "outdoor",
        ("Outdoor", "Outdoor", "Plein air", "Outdoor"),
        1.5,
        (
            _Mid(
                "camping",
                ("Camping", "Camping", "Camping", "Campeggio"),
                ("weight",),
                ("nylon", "polyester", "down", "aluminium", "stainless"),
                ("lightweight", "windproof", "foldable", "recycled"),
                (
                    "Reliable gear for nights under the stars.",
                    "Zuverlässige Ausrüstung für Nächte unter freiem Himmel.",
                    "Un équipement fiable pour vos nuits à la belle étoile.",
                    "Attrezzatura affidabile per le notti sotto le stelle.",
                ),
                (
                    _Leaf(
                        "tents",
                        "TNT",
                        ("Tents", "Zelte", "Tentes", "Tende"),
                        (
                            ("Dome Tent", "Kuppelzelt", "Tente dôme", "Tenda a cupola"),
                            ("Tunnel Tent", "Tunnelzelt", "Tente tunnel", "Tenda a tunnel"),
                        ),
                        ("waterproof", "material", "features"),
                        ("season", "width_cm", "height_cm", "country_of_origin"),
                        ranges=(
                            ("weight", 1.2, 6.0),
                            ("width_cm", 120, 300),
                            ("height_cm", 90, 200),
                        ),
                        accessories=("sleeping-bags", "camping-stoves"),
                    ),
                    _Leaf(
                        "sleeping-bags",
                        "SLB",
                        ("Sleeping bags", "Schlafsäcke", "Sacs de couchage", "Sacchi a pelo"),
                        (
                            ("Sleeping Bag", "Schlafsack", "Sac de couchage", "Sacco a pelo"),
                            ("Mummy Bag", "Mumienschlafsack", "Sac sarcophage", "Sacco a mummia"),
                        ),
                        ("material", "season"),
                        ("features", "care_instructions"),
                        ranges=(("weight", 0.6, 2.2),),
                        accessories=("tents",),
                    ),
                    _Leaf(
                        "camping-stoves",
                        "STV",
                        ("Camping stoves", "Campingkocher", "Réchauds", "Fornelli da campeggio"),
                        (
                            (
                                "Camping Stove",
                                "Campingkocher",
                                "Réchaud de camping",
                                "Fornello da campeggio",
                            ),
                            (
                                "Backpacking Stove",
                                "Trekkingkocher",
                                "Réchaud de trek",
                                "Fornelletto da trekking",
                            ),
                        ),
                        ("power_w", "material"),
                        ("features", "country_of_origin"),
                        ranges=(("power_w", 1000, 3200), ("weight", 0.08, 1.5)),
                    ),
                ),
            ),
            _Mid(
                "cycling",
                ("Cycling", "Radsport", "Cyclisme", "Ciclismo"),
                (),
                ("abs", "aluminium", "polyester"),
                ("reflective", "lightweight", "recycled"),
                (
                    "Ride safer, day and night.",
                    "Sicherer unterwegs, bei Tag und Nacht.",
                    "Roulez plus sereinement, de jour comme de nuit.",
                    "Pedala più sicuro, di giorno e di notte.",
                ),
                (
                    _Leaf(
                        "bike-helmets",
                        "HLM",
                        ("Bike helmets", "Fahrradhelme", "Casques de vélo", "Caschi da bici"),
                        (
                            ("Road Helmet", "Rennradhelm", "Casque route", "Casco da strada"),
                            ("MTB Helmet", "MTB-Helm", "Casque VTT", "Casco MTB"),
                        ),
                        ("size", "color", "weight"),
                        ("features", "country_of_origin"),
                        ranges=(("weight", 0.22, 0.45),),
                        accessories=("bike-lights",),
                    ),
                    _Leaf(
                        "bike-lights",
                        "BLT",
                        ("Bike lights", "Fahrradbeleuchtung", "Éclairage vélo", "Luci per bici"),
                        (
                            ("Front Light", "Frontlicht", "Éclairage avant", "Luce anteriore"),
                            ("Rear Light", "Rücklicht", "Éclairage arrière", "Luce posteriore"),
                        ),
                        ("power_w", "battery_life_h", "waterproof"),
                        ("weight",),
                        ranges=(
                            ("power_w", 1, 12),
                            ("battery_life_h", 2, 14),
                            ("weight", 0.03, 0.2),
                        ),
                        accessories=("bike-helmets",),
                    ),
                ),
            ),
            _Mid(
                "fitness",
                ("Fitness", "Fitness", "Fitness", "Fitness"),
                (),
                ("tpe", "cast_iron", "silicone"),
                ("non_slip", "foldable", "ergonomic"),
                (
                    "Solid equipment for workouts at home and in the studio.",
                    "Solide Ausrüstung für das Training zu Hause und im Studio.",
                    "Un équipement solide pour s'entraîner à la maison et en salle.",
                    "Attrezzatura solida per allenarsi a casa e in palestra.",
                ),
                (
                    _Leaf(
                        "yoga-mats",
                        "YGM",
                        ("Yoga mats", "Yogamatten", "Tapis de yoga", "Tappetini da yoga"),
                        (
                            ("Yoga Mat", "Yogamatte", "Tapis de yoga", "Tappetino da yoga"),
                            (
                                "Travel Yoga Mat",
                                "Reise-Yogamatte",
                                "Tapis de yoga de voyage",
                                "Tappetino da yoga da viaggio",
                            ),
                        ),
                        ("material", "width_cm", "height_cm", "color"),
                        ("weight", "features"),
                        ranges=(
                            ("width_cm", 58, 80),
                            ("height_cm", 170, 200),
                            ("weight", 0.8, 2.5),
                        ),
                        accessories=("dumbbells",),
                    ),
                    _Leaf(
                        "dumbbells",
                        "DMB",
                        ("Dumbbells", "Kurzhanteln", "Haltères", "Manubri"),
                        (
                            ("Dumbbell", "Kurzhantel", "Haltère", "Manubrio"),
                            (
                                "Adjustable Dumbbell",
                                "Verstellbare Kurzhantel",
                                "Haltère réglable",
                                "Manubrio regolabile",
                            ),
                        ),
                        ("weight", "material"),
                        ("color", "country_of_origin"),
                        ranges=(("weight", 1.0, 24.0),),
                        accessories=("yoga-mats",),
                    ),
                ),
            ),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class _LeafInfo:
    """A leaf with what the generator derives from its place in the tree."""

    leaf: _Leaf
    mid: _Mid
    root: _Root
    required: tuple[str, ...]  # the leaf's and its ancestors', in order, without repeats
    siblings: tuple[_Leaf, ...]
    ranges: dict[str, tuple[float, float]]


def _leaf_infos() -> tuple[_LeafInfo, ...]:
    infos: list[_LeafInfo] = []
    for root in _TREE:
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
_BRANDS_BY_ROOT: dict[str, tuple[_Brand, ...]] = {
    root.slug: tuple(b for b in BRANDS if root.slug in b.roots) for root in _TREE
}

# Near-duplicate spellings of one name: each is equal to the original under normalize_name.
_NEAR_DUPLICATES: tuple[Callable[[str], str], ...] = (
    lambda name: name + " ",
    lambda name: name.replace(" ", "-", 1),
    lambda name: name.replace(" ", "  ", 1),
    lambda name: name.lower(),
)
# Colliding spellings of one SKU: each is equal to the original under normalize_sku.
_SKU_COLLISIONS: tuple[Callable[[str], str], ...] = (
    lambda sku: sku.lower().replace("-", "_"),
    lambda sku: sku.replace("-", "_"),
    lambda sku: sku.lower(),
)

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
        if tag in _REGIONAL
        for base, suffix in [_REGIONAL[tag]]
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
    for spec in _ATTRIBUTE_SPECS:
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
    for r, root in enumerate(_TREE):
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
        defects = self._plant(documents)
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
        self.brands: list[_Brand] = [rng.choice(_BRANDS_BY_ROOT[i.root.slug]) for i in self.leaves]

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
        self.collision_originals = self._take(k, lambda i: not self.leaves[i].leaf.sizes)
        self.collision_twins = self._take(k, spare)
        self.duplicate_originals = self._take(k)
        self.duplicate_copies = self._take(k, spare)
        # A duplicate is the same product entered twice: same brand and category.
        for original, copy in [
            *zip(self.collision_originals, self.collision_twins, strict=True),
            *zip(self.duplicate_originals, self.duplicate_copies, strict=True),
        ]:
            self.leaves[copy] = self.leaves[original]
            self.brands[copy] = self.brands[original]
        self.missing_translation = self._take(k) if self.plan.droppable else []
        self.no_hero = self._take(k)
        self.missing_required = self._take(k)
        self.broken_reference = self._take(k)
        self.missing_asset = self._take(k)
        self.long_name = self._take(2)
        self.bundles = set(self._take(max(2, self.count // 80)))
        self.regional = self._take(max(3, self.count // 100)) if self.plan.regional else []
        self.no_variants = set(self.collision_originals) | set(self.collision_twins)

        self.skus = [
            f"{brand.prefix}-{info.leaf.code}-{i + 1:06d}"
            for i, (brand, info) in enumerate(zip(self.brands, self.leaves, strict=True))
        ]
        for n, (original, twin) in enumerate(
            zip(self.collision_originals, self.collision_twins, strict=True)
        ):
            self.skus[twin] = _SKU_COLLISIONS[n % len(_SKU_COLLISIONS)](self.skus[original])

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
            createdAt=created,
            updatedAt=updated,
        )

    def _name(self, brand: _Brand, info: _LeafInfo, bundle: bool) -> LocalizedText:
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

    # -- defects ------------------------------------------------------------------------------

    def _plant(self, documents: list[ProductDocument]) -> PlantedDefects:
        rng, plan = self.rng, self.plan

        collisions = tuple(
            SkuCollision(self.skus[original], self.skus[twin])
            for original, twin in zip(self.collision_originals, self.collision_twins, strict=True)
        )

        duplicates: list[NearDuplicateName] = []
        for n, (original, copy) in enumerate(
            zip(self.duplicate_originals, self.duplicate_copies, strict=True)
        ):
            respell = _NEAR_DUPLICATES[n % len(_NEAR_DUPLICATES)]
            source, target = documents[original], documents[copy]
            target["name"] = {tag: respell(text) for tag, text in source["name"].items()}
            target["description"] = dict(source["description"])
            duplicates.append(
                NearDuplicateName(
                    brand=source["brand"],
                    sku=source["sku"],
                    duplicate_sku=target["sku"],
                    name=source["name"][plan.primary],
                    duplicate_name=target["name"][plan.primary],
                )
            )

        translations: list[MissingTranslation] = []
        for n, i in enumerate(self.missing_translation):
            locale = plan.droppable[n % len(plan.droppable)]
            del documents[i]["name"][locale]
            del documents[i]["description"][locale]
            translations.append(MissingTranslation(documents[i]["sku"], locale))

        for i in self.no_hero:
            media = [m for m in documents[i]["media"] if m["role"] != "hero"]
            for position, reference in enumerate(media):
                reference["position"] = position
            documents[i]["media"] = media

        missing_required: list[MissingRequiredAttribute] = []
        for i in self.missing_required:
            document, leaf = documents[i], self.leaves[i].leaf
            code = rng.choice(leaf.required)
            document["attributes"].pop(code, None)
            for variant in document["variants"]:
                overrides = variant.get("attributes")
                if overrides is not None:
                    overrides.pop(code, None)
                    if not overrides:
                        del variant["attributes"]
            missing_required.append(MissingRequiredAttribute(document["sku"], leaf.slug, code))

        broken: list[BrokenReference] = []
        for n, i in enumerate(self.broken_reference):
            document, info = documents[i], self.leaves[i]
            # Running numbers stop at self.count, so this SKU was never generated.
            missing_sku = f"{self.brands[i].prefix}-{info.leaf.code}-{self.count + 1 + n:06d}"
            if n % 2 == 0:
                document["related"] = [*document["related"][:3], missing_sku]
                broken.append(BrokenReference(document["sku"], "related", missing_sku))
            else:
                document["accessories"] = [*document["accessories"][:2], missing_sku]
                broken.append(BrokenReference(document["sku"], "accessories", missing_sku))

        assets: list[MissingAsset] = []
        for i in self.missing_asset:
            document = documents[i]
            reference = next(
                m for m in reversed(document["media"]) if m["role"] not in ("hero", "swatch")
            )
            suffix = reference["publicId"].rsplit("/", 1)[1]
            reference["publicId"] = f"{MISSING_ASSET_PREFIX}{document['sku']}/{suffix}"
            assets.append(MissingAsset(document["sku"], reference["publicId"]))

        long_names: list[LongName] = []
        for n, i in enumerate(self.long_name):
            name = documents[i]["name"]
            # The marketplace-style keyword stuffing that overflows storefront title fields.
            tail = LONG_NAME_TAIL[n % len(LONG_NAME_TAIL) :] + LONG_NAME_TAIL
            parts: list[str] = []
            text = name[plan.primary]
            for part in tail:
                parts.append(part)
                text = f"{name[plan.primary]} | {', '.join(parts)}"
                if len(text) > LONG_NAME_LIMIT:
                    break
            name[plan.primary] = text
            long_names.append(LongName(documents[i]["sku"], plan.primary, len(text)))

        for n, i in enumerate(self.regional):
            tag, base, suffix = plan.regional[n % len(plan.regional)]
            name = documents[i]["name"]
            name[tag] = name[base] + suffix

        return PlantedDefects(
            missing_translations=tuple(translations),
            always_blank_attribute=BLANK_ATTRIBUTE,
            missing_hero_media=tuple(documents[i]["sku"] for i in self.no_hero),
            near_duplicate_names=tuple(duplicates),
            sku_collisions=collisions,
            missing_required_attributes=tuple(missing_required),
            broken_references=tuple(broken),
            missing_assets=tuple(assets),
            long_names=tuple(long_names),
        )


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


async def seed_demo_catalog(
    db: AsyncDatabase[Any],
    *,
    products: int = 300,
    seed: int = 7,
    locales: Sequence[str] = DEFAULT_LOCALES,
    replace: bool = False,
) -> SeedReport:
    """Insert the demo catalog into ``products``, ``categories`` and ``attributes``.

    Refuses with :class:`CatalogNotEmptyError` when products exist, unless ``replace`` is set,
    which first deletes every document of the three collections (indexes are kept).
    """
    existing = await db["products"].count_documents({})
    if existing and not replace:
        raise CatalogNotEmptyError(
            f"the catalog already holds {existing} product(s) in {db.name}.products; "
            f"use --replace to delete products, categories and attributes and seed again"
        )
    # Generating 10,000 products takes about a second: keep it off the event loop.
    catalog = await asyncio.to_thread(
        generate_demo_catalog, products=products, seed=seed, locales=locales
    )
    if replace:
        for name in ("products", "categories", "attributes"):
            await db[name].delete_many({})
    await _insert(db["attributes"], catalog.attributes)
    await _insert(db["categories"], catalog.categories)
    await _insert(db["products"], catalog.products)
    return SeedReport(
        products=len(catalog.products),
        variants=sum(len(p["variants"]) for p in catalog.products),
        categories=len(catalog.categories),
        attributes=len(catalog.attributes),
        media_references=sum(len(p["media"]) for p in catalog.products),
    )


async def _insert(collection: AsyncCollection[Any], documents: Sequence[Any]) -> None:
    for start in range(0, len(documents), SEED_CHUNK):
        await collection.insert_many(documents[start : start + SEED_CHUNK], ordered=False)


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
