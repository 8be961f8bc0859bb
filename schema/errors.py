"""Expected errors as data: every mutation returns `errors: [UserError!]!` beside its result."""

from __future__ import annotations

import strawberry

from services.errors import ErrorCode as ServiceErrorCode
from services.errors import ServiceError, not_found
from services.values import MAX_ID

ErrorCode = strawberry.enum(
    ServiceErrorCode,
    name="ErrorCode",
    description="Stable error codes. Clients switch on these; messages are for people and may change.",
)


@strawberry.type(description="An expected error: the action was refused and nothing changed.")
class UserError:
    code: ErrorCode = strawberry.field(description="Stable machine-readable code.")
    message: str = strawberry.field(description="Human-readable explanation.")
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase), when one is.", default=None
    )

    @classmethod
    def of(cls, error: ServiceError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type
class Payload:
    errors: list[UserError] = strawberry.field(
        description="Empty on success; otherwise why nothing changed.", default_factory=list
    )

    @classmethod
    def failed(cls, error: ServiceError) -> Payload:
        return cls(errors=[UserError.of(error)])


def parse_id(value: strawberry.ID | str, field: str, what: str) -> int:
    """IDs are opaque strings to clients; a malformed one is simply not found."""
    try:
        number = int(str(value))
    except ValueError:
        raise not_found(what, field) from None
    if not 0 < number <= MAX_ID:
        raise not_found(what, field)
    return number
