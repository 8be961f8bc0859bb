"""Parsed and validated documents, remembered by their text.

A console or BI client sends the same few documents over and over; parsing and validating one
cost about a quarter of a small query's time. The validation rules are fixed when the schema is
built (the limits come from Settings), so a text that parsed and validated once does so again:
its document is reused and validation skipped. Only documents that validated without errors
are kept (error objects are per request), only texts up to MAX_TEXT characters, and at most
MAX_DOCUMENTS of them (least recently used go first), so unique texts cannot grow memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

MAX_DOCUMENTS = 512
MAX_TEXT = 16_384


class DocumentCache:
    def __init__(self, size: int = MAX_DOCUMENTS) -> None:
        self.size = size
        self._valid: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, text: str) -> DocumentNode | None:
        document = self._valid.get(text)
        if document is not None:
            self._valid.move_to_end(text)
        return document

    def put(self, text: str, document: DocumentNode) -> None:
        if len(text) > MAX_TEXT:
            return
        self._valid[text] = document
        self._valid.move_to_end(text)
        while len(self._valid) > self.size:
            self._valid.popitem(last=False)


class PreparedDocuments(SchemaExtension):
    """Per request (a factory), over one DocumentCache per schema."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self.cache = cache
        self.hit = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            document = self.cache.get(context.query)
            if document is not None:
                context.graphql_document = document
                self.hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.hit and context.pre_execution_errors is None:  # no earlier check refused it
            context.pre_execution_errors = []  # strawberry then skips validation
        yield
        if not self.hit and context.pre_execution_errors == [] and context.query and context.graphql_document:
            self.cache.put(context.query, context.graphql_document)
