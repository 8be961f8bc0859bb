"""Expected errors as data: every mutation returns `errors: [UserError!]!` beside its result.

A service raises `ServiceError`; this module is the one place where it becomes data: the
mutation's payload with `errors` (`mutation`), or a coded top-level error for a query, which
has no payload to carry it (`CodedErrors`). Resolvers hold no try/except of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from core.logs import note_error
from services.errors import ErrorCode, ServiceError, not_found
from services.i18n import render
from services.i18n.languages import Language
from services.values import MAX_ID

strawberry.enum(
    ErrorCode,
    name="ErrorCode",
    description="Stable error codes. Clients switch on these; messages are for people and may change.",
)


@strawberry.type(description="An expected error: the action was refused and nothing changed.")
class UserError:
    code: ErrorCode = strawberry.field(description="Stable machine-readable code.")
    message: str = strawberry.field(
        description=(
            "Human-readable explanation in the reader's language: Accept-Language (zh-CN or en), else "
            "the server's CCMS_LANGUAGE (zh-CN by default). Switch on `code`, never on this."
        )
    )
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase), when one is.", default=None
    )
    retry_after_seconds: int | None = strawberry.field(
        description="For TOO_MANY_ATTEMPTS: seconds to wait before the next attempt; null otherwise.",
        default=None,
    )

    @classmethod
    def of(cls, error: ServiceError, language: str) -> UserError:
        return cls(
            code=error.code,
            message=error.in_language(language),
            field=error.field,
            retry_after_seconds=error.retry_after_seconds,
        )


@strawberry.type
class Payload:
    errors: list[UserError] = strawberry.field(
        description="Empty on success; otherwise why nothing changed.", default_factory=list
    )

    @classmethod
    def failed(cls, error: ServiceError, language: str) -> Self:
        return cls(errors=[UserError.of(part, language) for part in error.parts()])


class ErrorsInPayload(FieldExtension):
    """A `ServiceError` from the resolver becomes the field's payload with its `errors`."""

    def __init__(self) -> None:
        self.payload: type[Payload] | None = None

    def apply(self, field: Any) -> None:
        self.field = field

    def _failed(self, error: ServiceError, info: Info) -> Payload:
        if self.payload is None:  # the return type is resolved once the schema is built
            self.payload = self.field.type
        assert self.payload is not None and issubclass(self.payload, Payload)
        for part in error.parts():
            note_error(part.code.value)
        return self.payload.failed(error, info.context.language)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return next_(source, info, **kwargs)
        except ServiceError as error:
            return self._failed(error, info)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except ServiceError as error:
            return self._failed(error, info)


class CodedErrors(FieldExtension):
    """For queries: a `ServiceError` (a bad filter, say) becomes a top-level error carrying its
    code, like INVALID_PAGINATION, since a query's result has no `errors` of its own.
    `with_field` adds the input field at fault, for forms that point at it."""

    def __init__(self, *, with_field: bool = False) -> None:
        self.with_field = with_field

    def _coded(self, error: ServiceError, info: Info) -> GraphQLError:
        extensions: dict[str, str | int] = {"code": error.code.value}
        if self.with_field and error.field:
            extensions["field"] = error.field
        if error.retry_after_seconds is not None:
            extensions["retryAfterSeconds"] = error.retry_after_seconds
        return GraphQLError(error.in_language(info.context.language), extensions=extensions)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return next_(source, info, **kwargs)
        except ServiceError as error:
            raise self._coded(error, info) from None

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except ServiceError as error:
            raise self._coded(error, info) from None


def coded(error: ServiceError) -> GraphQLError:
    """A top-level error carrying `error`'s code, for code outside a field with CodedErrors
    (pagination, validation rules); `localise` gives it the reader's language."""
    return GraphQLError(error.message, extensions={"code": error.code.value}, original_error=error)


def localise(errors: Sequence[GraphQLError], language: Language) -> None:
    """Top-level errors in the reader's language, before the response is written: those made
    from a ServiceError are rendered from it; the codes raised with an English text of their
    own (permissions, limits) get their catalog message in Chinese. Masked bugs stay masked."""
    for error in errors:
        cause: BaseException | None = error.original_error
        while cause is not None and not isinstance(cause, ServiceError):
            cause = cause.original_error if isinstance(cause, GraphQLError) else None
        if isinstance(cause, ServiceError):
            error.message = cause.in_language(language)
            continue
        code = (error.extensions or {}).get("code")
        if language != "en" and isinstance(code, str):
            error.message = render.code_text(code, language) or error.message


def mutation(
    *, description: str, permission_classes: Sequence[type[BasePermission]] = ()
) -> Callable[[Callable[..., Awaitable[Payload]]], StrawberryField]:
    """`strawberry.mutation` for a resolver returning a payload, whose `errors` carry any
    `ServiceError`: a resolver returning anything else is a type error."""
    field: StrawberryField = strawberry.mutation(
        description=description, permission_classes=list(permission_classes), extensions=[ErrorsInPayload()]
    )
    return field


def parse_id(value: strawberry.ID | str, field: str, what: str) -> int:
    """IDs are opaque strings to clients; a malformed one is simply not found."""
    try:
        number = int(str(value))
    except ValueError:
        raise not_found(what, field) from None
    if not 0 < number <= MAX_ID:
        raise not_found(what, field)
    return number
