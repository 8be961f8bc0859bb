"""Field guards. They decide only *whether* a caller may ask; services decide *what* it sees."""

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info


class IsAuthenticated(BasePermission):
    """Requires a valid bearer token. Failures are top-level errors with code UNAUTHENTICATED."""

    message = "Authentication required: send 'Authorization: Bearer <token>' (see the login mutation)"
    error_extensions: ClassVar[dict[str, str]] = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.actor is not None


AUTHENTICATED = [IsAuthenticated]
