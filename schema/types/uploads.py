"""The ``Upload`` scalar: a file sent with the GraphQL multipart request spec.

Only ``gateway.graphql_http`` makes values of it, from a multipart request's file parts put at
the variables' paths its ``map`` names; a JSON value in its place (a string, an object) is
refused as a variable of the wrong type, so a file can never come from a JSON body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition


@dataclass(frozen=True, slots=True)
class UploadedFile:
    filename: str
    content_type: str | None
    data: bytes


def _parse(value: Any) -> UploadedFile:
    if not isinstance(value, UploadedFile):
        raise ValueError(
            "Upload: send the file as a part of a multipart/form-data request (the GraphQL "
            "multipart request spec), with null at its place in the variables"
        )
    return value


def _serialize(value: Any) -> Any:
    raise ValueError("Upload is an input type only")


Upload = NewType("Upload", UploadedFile)

UPLOAD = strawberry.scalar(
    name="Upload",
    description="A file sent as a part of a multipart/form-data request following the GraphQL "
    "multipart request spec (https://github.com/jaydenseric/graphql-multipart-request-spec); "
    "its place in the variables is null in 'operations'. Input only.",
    specified_by_url="https://github.com/jaydenseric/graphql-multipart-request-spec",
    serialize=_serialize,
    parse_value=_parse,
)

# For the schema's StrawberryConfig: strawberry.scalar on a class is deprecated.
SCALARS: dict[object, ScalarDefinition] = {Upload: UPLOAD}
