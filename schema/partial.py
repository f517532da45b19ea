"""Adds the errors resolvers reported beside their data (see :mod:`resolvers.partial`)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers import partial


class PartialErrors(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        errors = partial.begin()
        yield
        result = self.execution_context.result
        if not errors or result is None:
            return
        extra = [
            GraphQLError(
                e.message,
                path=list(e.path) if e.path else None,
                extensions={"code": e.code, **dict(e.extensions)},
            )
            for e in errors
        ]
        result.errors = [*(result.errors or []), *extra]
