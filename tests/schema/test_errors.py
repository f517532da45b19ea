"""The error policy in isolation: codes kept, internals masked."""

from __future__ import annotations

from graphql import GraphQLError

from connectors.errors import UpstreamUnavailable
from connectors.records import Source
from resolvers.errors import BadUserInput
from schema.errors import INTERNAL_MESSAGE, classify


def _resolver_error(exc: Exception) -> GraphQLError:
    return GraphQLError(str(exc), path=["customer"], original_error=exc)


def test_unexpected_exceptions_are_masked() -> None:
    error = _resolver_error(RuntimeError("password=hunter2 at db01"))
    classify(error)
    assert error.message == INTERNAL_MESSAGE
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error.formatted)


def test_domain_errors_keep_message_code_and_extensions() -> None:
    error = _resolver_error(BadUserInput("`first` may not exceed 100", extensions={"max": 100}))
    classify(error)
    assert error.message == "`first` may not exceed 100"
    assert error.extensions == {"code": "BAD_USER_INPUT", "max": 100}


def test_upstream_errors_name_their_source() -> None:
    error = _resolver_error(
        UpstreamUnavailable("shopify is down", source=Source("shopify"), operation="customers")
    )
    classify(error)
    assert error.extensions is not None
    assert error.extensions["code"] == "UPSTREAM_UNAVAILABLE"
    assert error.extensions["source"] == "shopify"


def test_document_errors_are_classified_by_kind() -> None:
    cases = {
        "Syntax Error: Expected Name, found <EOF>.": "GRAPHQL_PARSE_FAILED",
        "Cannot query field 'x' on type 'Query'.": "GRAPHQL_VALIDATION_FAILED",
        "'q' exceeds maximum operation depth of 12": "QUERY_TOO_DEEP",
        "500 aliases found. Allowed: 30": "TOO_MANY_ALIASES",
        "Maximum introspection depth exceeded": "INTROSPECTION_TOO_DEEP",
    }
    for message, code in cases.items():
        error = GraphQLError(message)
        classify(error)
        assert error.extensions == {"code": code}, message
