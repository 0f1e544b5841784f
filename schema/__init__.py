"""Strawberry types and the Schema object of the catalog subgraph."""

from schema.schema import CatalogSchema, build_schema

__all__ = ["CatalogSchema", "build_schema"]
