"""The Mutation type: the areas' mutation classes (``schema/mutations/``) merged into one.

A new area adds its class here; each class is a plain ``@strawberry.type`` whose fields are
mutations, so areas never edit each other's modules.
"""

from __future__ import annotations

from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from schema.mutations.api_keys import ApiKeyMutations
from schema.mutations.categories import CategoryMutations
from schema.mutations.events import EventMutations
from schema.mutations.history import HistoryMutations
from schema.mutations.imports import ImportMutations
from schema.mutations.products import ProductMutations
from schema.mutations.workflow import WorkflowMutations

Mutation = merge_types(
    "Mutation",
    (
        ApiKeyMutations,
        CategoryMutations,
        EventMutations,
        HistoryMutations,
        ImportMutations,
        ProductMutations,
        WorkflowMutations,
    ),
)
# merge_types takes no description.
DESCRIPTION = "Writes: products, categories, imports, publishing, API keys and event redelivery."
get_object_definition(Mutation, strict=True).description = DESCRIPTION
