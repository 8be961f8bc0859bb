"""The GraphQL schema, built in one place with its limits.

How the types are annotated: a type served straight from a row (`Notice`, `Enterprise`...)
declares its fields in GraphQL terms, since strawberry reads them off the row, and its
resolvers take the row as `strawberry.Parent[models.X]`. Everywhere else the annotation says
what Python holds, and `graphql_type=` names what the schema shows when the two differ: a
resolver returning `models.Notice` for `Notice`, a payload field holding a row, an `int` shown
as `Tonnes`, an input holding the number as the client sent it (`services.values.Raw`) or an
upload. So mypy checks every value, with no casts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from core.db import unavailable
from core.settings import Settings
from schema.alarms.mutations import AlarmMutations
from schema.alarms.queries import AlarmQueries
from schema.allocation.mutations import AllocationMutations
from schema.allocation.queries import AllocationQueries
from schema.compliance.mutations import ComplianceMutations
from schema.compliance.preview import BalancePreviewQueries
from schema.compliance.queries import ComplianceQueries
from schema.documents import DocumentCache, PreparedDocuments
from schema.downloads.mutations import DownloadMutations
from schema.energy.mutations import EnergyMutations
from schema.energy.queries import EnergyQueries
from schema.enterprises.mutations import EnterpriseMutations
from schema.enterprises.queries import EnterpriseQueries
from schema.history.mutations import HistoryMutations
from schema.history.queries import HistoryQueries
from schema.identity.accounts import AccountMutations
from schema.identity.directory import UserDirectoryQueries
from schema.identity.mutations import IdentityMutations
from schema.identity.one_login import OneLoginPerRequest
from schema.identity.queries import IdentityQueries
from schema.limits import InputLimits
from schema.live.shared import SharedEventExecutionContext
from schema.live.subscriptions import Subscription
from schema.observe import ObserveOperation
from schema.scalars import SCALARS, date_time
from schema.statistics.mutations import StatisticsMutations
from schema.statistics.queries import StatisticsQueries
from schema.tokens.mutations import TokenMutations
from schema.tokens.queries import TokenQueries
from schema.verification.mutations import VerificationMutations
from schema.verification.queries import VerificationQueries


@strawberry.type(description="Read the compliance data in your scope.")
class Query(
    IdentityQueries,
    EnterpriseQueries,
    ComplianceQueries,
    AlarmQueries,
    HistoryQueries,
    AllocationQueries,
    EnergyQueries,
    StatisticsQueries,
    TokenQueries,
    UserDirectoryQueries,
    BalancePreviewQueries,
    VerificationQueries,
):
    pass


@strawberry.type(
    description="Every mutation returns a payload with `errors`: empty on success, coded otherwise."
)
class Mutation(
    IdentityMutations,
    AccountMutations,
    EnterpriseMutations,
    ComplianceMutations,
    AlarmMutations,
    HistoryMutations,
    AllocationMutations,
    EnergyMutations,
    StatisticsMutations,
    TokenMutations,
    DownloadMutations,
    VerificationMutations,
):
    pass


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask bugs, never the errors we raise on purpose (auth, pagination, validation), nor a
    database outage, which the HTTP view answers with 503 (api/outage.py)."""
    return (
        error.original_error is not None
        and not isinstance(error.original_error, GraphQLError)
        and not (error.extensions and "code" in error.extensions)
        and not unavailable(error.original_error)
    )


class _MaskErrors(MaskErrors):
    """MaskErrors without its runtime Protocol isinstance check on results that carry no
    error: nothing to mask there, and that check cost ~8 % of an API process's CPU when
    fanning an event out to subscribers."""

    def _process_result(self, result: object) -> None:
        if getattr(result, "errors", None):
            super()._process_result(result)


class Schema(strawberry.Schema):
    """Logs only unexpected errors: a refused token or a bad query is the client's business, not a bug."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _is_unexpected(error):
                StrawberryLogger.error(error, execution_context)


def _tracing() -> list[Any]:
    """Strawberry's OpenTelemetry extension: a span per operation (named after it) and per
    resolver, on the global tracer provider, which `opentelemetry-instrument` configures from the
    OTEL_* variables. Without the opentelemetry packages: a warning, and no tracing."""
    try:
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError:
        logging.getLogger(__name__).warning(
            "OTEL_* is set but opentelemetry is not installed: pip install 'ccms[otel]'; no tracing"
        )
        return []
    return [OpenTelemetryExtension]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The limits' rules are built once, so that every request validates with the same rules
    # and a document that passed them once can be reused (schema/documents.py).
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        OneLoginPerRequest,
    ]
    documents = DocumentCache()
    extensions: list = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(rules),
        # Before PreparedDocuments: the input limits depend on each request's variables, so
        # they are checked even when the document's validation is remembered.
        InputLimits,
        lambda: PreparedDocuments(documents),
        ObserveOperation,
    ]
    if not settings.debug:
        extensions.append(lambda: _MaskErrors(should_mask_error=_is_unexpected))
    if settings.tracing:
        extensions.extend(_tracing())
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            auto_camel_case=True, scalar_map={**SCALARS, datetime: date_time(settings.timezone)}
        ),
        # Subscription events that read nothing but the event are executed once, not once per subscriber.
        execution_context_class=SharedEventExecutionContext,
    )
