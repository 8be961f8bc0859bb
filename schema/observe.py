"""The GraphQL operation's name and error codes, for the request log and the metrics.

The HTTP middleware (api/observe.py) labels a request with what this extension notes: the
operation's name (`anonymous` when it has none) as soon as the document is parsed, so every
line logged while it runs carries it, and each top-level error's code once it is done (payload
errors are noted where they are made, in schema/errors.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from core.logs import note_error, note_operation

# Labels for top-level errors that carry no code of ours (not API error codes: metrics only).
UNCODED_REQUEST_ERROR = "GRAPHQL_VALIDATION_FAILED"  # did not parse or validate
UNCODED_FIELD_ERROR = "INTERNAL_ERROR"  # a bug, masked outside CCMS_DEBUG


class ObserveOperation(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        note_operation(self.execution_context.operation_name)
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.operation_name is not None or context.graphql_document is None:
            note_operation(context.operation_name)
        result = context.result
        errors = list(getattr(result, "errors", None) or []) + list(context.pre_execution_errors or [])
        for error in errors:
            note_error(code_of(error))


def code_of(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    return UNCODED_REQUEST_ERROR if error.path is None else UNCODED_FIELD_ERROR
