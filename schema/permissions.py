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


class PasswordChosen(BasePermission):
    """After an administrator's password reset, a session may read `me` and call
    `changePassword`, and nothing else until the user has chosen a password of their own: the
    one-time password was seen by someone else. Failures are PASSWORD_CHANGE_REQUIRED."""

    message = "This account's password was reset: choose a new one with changePassword first"

    def __init__(self) -> None:
        self.error_extensions = {"code": "PASSWORD_CHANGE_REQUIRED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        return actor is not None and not actor.must_change_password


# Typed as strawberry's parameter is: a list is invariant, so list[type[IsAuthenticated]] would not do.
# Every root field but `me` and `changePassword`.
AUTHENTICATED: list[type[BasePermission]] = [IsAuthenticated, PasswordChosen]
# Any valid session, including one that must change its password first.
SIGNED_IN: list[type[BasePermission]] = [IsAuthenticated]
