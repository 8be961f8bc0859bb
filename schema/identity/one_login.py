"""One `login` per request, refused before anything runs.

Each `login` costs an argon2 verification. Aliases (`a: login(...) b: login(...)`) would let
one request try thirty passwords and hold a hashing thread for seconds, so a document whose
mutation selects `login` more than once (directly, through aliases or through fragments) is
refused during validation with TOO_MANY_LOGINS, before any field executes or hashes.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)

from services.errors import ErrorCode, ServiceError

LOGIN = "login"


class OneLoginPerRequest(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation != OperationType.MUTATION:
            return
        logins = self._logins(node.selection_set, set())
        # Fields with the same response key are merged into one execution; different keys are not.
        keys = {(field.alias or field.name).value for field in logins}
        if len(keys) > 1:
            self.report_error(
                GraphQLError(
                    f"Only one login per request: this one has {len(keys)}",
                    logins,
                    extensions={"code": ErrorCode.TOO_MANY_LOGINS.value},
                    original_error=ServiceError(
                        ErrorCode.TOO_MANY_LOGINS,
                        "Only one login per request: this one has {count}",
                        params={"count": len(keys)},
                    ),
                )
            )

    def _logins(self, selection_set: SelectionSetNode, seen: set[str]) -> list[FieldNode]:
        """The root `login` fields, looking through fragments (each spread once: cycles are
        another rule's error)."""
        found: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == LOGIN:
                    found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found += self._logins(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    found += self._logins(fragment.selection_set, seen)
        return found
