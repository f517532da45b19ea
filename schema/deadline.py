"""Every GraphQL operation runs under a deadline (:mod:`connectors.deadline`).

The extension sets it when execution starts, so every upstream call the operation makes,
however deep in resolvers, DataLoader batches and the tasks they start, gets at most what is
left of it; an upstream part still unanswered when it passes is ``null`` with
``UPSTREAM_TIMEOUT`` and the rest of the answer is returned.

Queries get ``query`` seconds and mutations ``mutation`` seconds (longer: a mutation's writes
and the rebuild after them should finish rather than stop half-way). The deadline is per
operation, not per transport: a query over the WebSocket gets the same one as over HTTP. A
subscription gets none (its stream lives as long as the client wants), but every upstream call
made while resolving one of its events is still bounded by its own per-attempt timeout and
retry budget.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from connectors import deadline


class OperationDeadline(SchemaExtension):
    def __init__(self, *, query: float, mutation: float) -> None:
        self.seconds: dict[OperationType, float] = {
            OperationType.QUERY: query,
            OperationType.MUTATION: mutation,
        }

    def on_execute(self) -> Iterator[None]:
        seconds = self.seconds.get(self.execution_context.operation_type)
        with deadline.within(seconds):
            yield
