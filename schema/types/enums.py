from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Publication status of a product.")
class ProductStatus(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@strawberry.enum
class AttributeType(Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    LIST = "list"


@strawberry.enum
class ProductSortField(Enum):
    NAME = "name"
    SKU = "sku"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    READINESS = "readiness"


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"
