"""Arguments many fields share, with their descriptions (IDE hints and generated types)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.types.inputs import ProductFilterInput, ProductSortInput
from schema.types.media import MediaRole

Locale = Annotated[
    str | None,
    strawberry.argument(
        description="BCP 47 locale, e.g. de-AT; default: CATALOG_DEFAULT_LOCALE. Missing text "
        "falls back along the locale's chain (see extensions.localeFallbacks)."
    ),
]
Channel = Annotated[
    str, strawberry.argument(description="A channel of channels.toml, e.g. web or mobile.")
]
After = Annotated[
    str | None,
    strawberry.argument(description="Start after this cursor (the previous page's endCursor)."),
]
AttributeCodes = Annotated[
    list[str] | None,
    strawberry.argument(description="Only the attributes with these codes; all when omitted."),
]
MediaRoles = Annotated[
    list[MediaRole] | None,
    strawberry.argument(description="Only media with these roles; all when omitted."),
]
MediaFirst = Annotated[
    int | None, strawberry.argument(description="At most this many; all when omitted.")
]
ProductFilter = Annotated[
    ProductFilterInput | None,
    strawberry.argument(description="Which products; all when omitted."),
]
ProductSort = Annotated[
    ProductSortInput | None,
    strawberry.argument(description="The order; by SKU ascending when omitted."),
]
First = Annotated[
    int,
    strawberry.argument(description="Page size: how many items from the start or after 'after'."),
]
