"""Unknown channels are refused before execution, so one bad argument cannot empty a page.

``media``, ``mediaManifest`` and ``readiness`` cannot be null: an unknown channel raised inside
one of them nulled its parents up to ``data``. Checking every ``channel`` argument (and input
field) of the operation against the configured channels first answers a request error naming
the channels instead, as a validation failure would, without turning the arguments into enums
(a breaking change of the contract).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from resolvers.channels import Channels
from schema.context import Context

CHANNEL = "channel"


class _ChannelValues(Visitor):
    """Collects the nodes of every argument or input field named ``channel``."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[ArgumentNode | ObjectFieldNode] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        if node.name.value == CHANNEL:
            self.nodes.append(node)

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        if node.name.value == CHANNEL:
            self.nodes.append(node)


def _value(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    return None  # null, or a value of another type that validation already refused


def unknown_channel_errors(
    document: DocumentNode, variables: Mapping[str, Any], channels: Channels
) -> list[GraphQLError]:
    """A BAD_USER_INPUT error for every ``channel`` value that names no configured channel."""
    collector = _ChannelValues()
    visit(document, collector)
    errors: list[GraphQLError] = []
    for node in collector.nodes:
        value = _value(node.value, variables)
        if isinstance(value, str) and channels.canonical(value) is None:
            errors.append(
                GraphQLError(
                    f"unknown channel {value!r}; channels: {', '.join(channels.names())}",
                    nodes=[node],
                    extensions={
                        "code": "BAD_USER_INPUT",
                        "argumentName": CHANNEL,
                        "channels": channels.names(),
                    },
                )
            )
    return errors


class KnownChannels(SchemaExtension):
    """Answers a request error, before anything executes, for an unknown channel."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if document is not None and isinstance(context, Context):
            errors = unknown_channel_errors(
                document, execution.variables or {}, context.services.channels
            )
            if errors:
                execution.result = ExecutionResult(data=None, errors=errors)
        yield
