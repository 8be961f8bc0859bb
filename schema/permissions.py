"""Field guards. They decide only *whether* a caller may ask; services decide *what* it sees."""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info


class IsAuthenticated(BasePermission):
    """Requires a valid bearer token. Failures are top-level errors with code UNAUTHENTICATED."""

    message = "Authentication required: send 'Authorization: Bearer <token>' (see the login mutation)"

    def __init__(self) -> None:
        # Per instance, as BasePermission declares it (strawberry builds one per field).
        self.error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.actor is not None


# Typed as strawberry's parameter is: a list is invariant, so list[type[IsAuthenticated]] would not do.
AUTHENTICATED: list[type[BasePermission]] = [IsAuthenticated]
