"""Refuses an operation its caller may not run (the gateway's trusted documents,
:mod:`gateway.trusted_documents`), over HTTP and over the WebSocket alike.

The refusal is the validation step's answer: strawberry turns validation errors into an
error result on every transport, where an exception from a parse hook would end a
WebSocket operation with no answer at all. The document has been parsed by then, which the
token limit keeps cheap."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.viewer import Viewer

#: Why ``viewer`` may not run the operation text, or ``None`` when it may.
TrustCheck = Callable[[Viewer | None, str], GraphQLError | None]


def trusted_only(check: TrustCheck) -> type[SchemaExtension]:
    """An extension class (strawberry builds one per operation) that applies ``check``."""

    class TrustedOnly(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            viewer = getattr(context.context, "viewer", None)
            refusal = check(viewer, context.query or "")
            if refusal is not None:
                # Runs after the validation cache's hook (this extension comes last), and
                # strawberry skips its own validation when errors are already there.
                context.pre_execution_errors = [refusal]
            yield

    return TrustedOnly
