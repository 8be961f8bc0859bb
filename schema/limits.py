"""Limits on a request's input, checked as soon as it is parsed, before anything is converted.

Every list argument and list input field declares its largest size with `@maxItems(count:)`
(`MaxItems`, shown in the printed schema). `InputLimits` walks the operation's arguments, the
literal values and the raw JSON variables alike, and refuses a longer list with TOO_MANY_ITEMS,
and a string holding U+0000 (which PostgreSQL cannot store) with INVALID_CHARACTER, as coded
top-level errors. graphql-core coerces variables and strawberry converts them into input objects
only after validation: 100,000 rows used to be converted (seconds of CPU, the event loop held)
before the service counted them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.language.visitor import BREAK
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema_directive import Location

from services.errors import ErrorCode


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    name="maxItems",
    description="At most `count` items: a longer list is refused with TOO_MANY_ITEMS before anything runs.",
)
class MaxItems:
    count: int = strawberry.field(description="The largest number of items accepted.")


def max_items(count: int) -> list[object]:
    """`directives=` for a list argument or input field."""
    return [MaxItems(count=count)]


class InputLimits(SchemaExtension):
    """Refuses an operation whose input breaks a limit, before validation and execution."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            error = first_violation(context.schema._schema, document, context.variables or {})
            if error is not None:
                # Set before validation runs: strawberry then skips it and answers this error.
                context.pre_execution_errors = [error]
        yield


def first_violation(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
) -> GraphQLError | None:
    finder = _Finder(TypeInfo(schema), variables)
    visit(document, TypeInfoVisitor(finder.type_info, finder))
    return finder.error


def limit_of(definition: GraphQLArgument | GraphQLInputField) -> int | None:
    strawberry_definition = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    for directive in getattr(strawberry_definition, "directives", None) or ():
        if isinstance(directive, MaxItems):
            return directive.count
    return None


class _Finder(Visitor):
    def __init__(self, type_info: TypeInfo, variables: dict[str, Any]) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables = variables
        self.error: GraphQLError | None = None

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> Any:
        definition = self.type_info.get_argument()
        if definition is None:  # unknown argument: validation reports it
            return None
        self.error = self._node(node.value, definition.type, limit_of(definition), node.name.value, node)
        return BREAK if self.error else None

    def _node(
        self, value: ValueNode, type_: GraphQLInputType, limit: int | None, name: str, at: ArgumentNode
    ) -> GraphQLError | None:
        type_ = _nullable(type_)
        if isinstance(value, VariableNode):
            return self._raw(self.variables.get(value.name.value), type_, limit, name, at)
        if isinstance(value, ListValueNode):
            if limit is not None and len(value.values) > limit:
                return _too_many(name, limit, at)
            item_type = type_.of_type if isinstance(type_, GraphQLList) else type_
            for item in value.values:
                if error := self._node(item, item_type, None, name, at):
                    return error
        elif isinstance(value, ObjectValueNode) and isinstance(type_, GraphQLInputObjectType):
            for field in value.fields:
                definition = type_.fields.get(field.name.value)
                if definition is None:  # unknown field: validation reports it
                    continue
                if error := self._node(
                    field.value, definition.type, limit_of(definition), field.name.value, at
                ):
                    return error
        elif isinstance(value, StringValueNode) and "\x00" in value.value:
            return _nul(name, at)
        return None

    def _raw(
        self, value: Any, type_: GraphQLInputType, limit: int | None, name: str, at: ArgumentNode
    ) -> GraphQLError | None:
        type_ = _nullable(type_)
        if isinstance(value, list):
            if limit is not None and len(value) > limit:
                return _too_many(name, limit, at)
            item_type = type_.of_type if isinstance(type_, GraphQLList) else type_
            for item in value:
                if error := self._raw(item, item_type, None, name, at):
                    return error
        elif isinstance(value, dict):
            fields = type_.fields if isinstance(type_, GraphQLInputObjectType) else {}
            for key, item in value.items():
                definition = fields.get(key)
                # A key the type lacks fails coercion later; its strings are still checked here.
                item_type = definition.type if definition is not None else type_
                item_limit = limit_of(definition) if definition is not None else None
                if error := self._raw(item, item_type, item_limit, key, at):
                    return error
        elif isinstance(value, str) and "\x00" in value:
            return _nul(name, at)
        return None


def _nullable(type_: GraphQLInputType) -> GraphQLInputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _too_many(name: str, limit: int, at: ArgumentNode) -> GraphQLError:
    return GraphQLError(
        f"{name}: at most {limit:,} items",
        at,
        extensions={"code": ErrorCode.TOO_MANY_ITEMS.value, "field": name},
    )


def _nul(name: str, at: ArgumentNode) -> GraphQLError:
    return GraphQLError(
        f"{name} contains a NUL character",
        at,
        extensions={"code": ErrorCode.INVALID_CHARACTER.value, "field": name},
    )
