"""The error policy: every error a client sees has a message and an ``extensions.code``.

Errors raised on purpose (:class:`resolvers.errors.OmnigateError`, the connectors'
``UpstreamError``, permission denials) keep their message and code. A store failure
(:class:`resolvers.store.StoreError`) keeps its code (``STORE_UNAVAILABLE``) but gets its
public message: its own names the driver's error, which is for the log. Parse and validation
errors keep graphql-core's message, which describes the document, not the server; so do
variable values the request got wrong (``BAD_USER_INPUT`` naming the ``variable``). Anything
else is an unexpected exception: its message may hold internals, so the client gets
``Internal server error`` and the log gets the traceback.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError, VariableDefinitionNode

from connectors.errors import UpstreamError
from resolvers.errors import OmnigateError
from resolvers.store import StoreError

log = logging.getLogger("omnigate.graphql")

INTERNAL_MESSAGE = "Internal server error."

#: Validation messages of the limit rules, by their wording (ours, strawberry's, graphql-core's).
_LIMIT_CODES: tuple[tuple[str, str], ...] = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found", "TOO_MANY_ALIASES"),
    ("tokens. parsing aborted", "TOO_MANY_TOKENS"),
    ("maximum introspection depth exceeded", "INTROSPECTION_TOO_DEEP"),
)


def classify(error: GraphQLError) -> None:
    """Set ``extensions.code`` on ``error`` in place and mask what must not leak."""
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, OmnigateError):
        extensions.update(original.extensions)
        extensions["code"] = original.code
    elif isinstance(original, UpstreamError):
        extensions["code"] = original.code
        extensions["source"] = str(original.source)
    elif isinstance(original, StoreError):
        path = ".".join(str(p) for p in error.path or ())
        log.warning("store failure at %s: %s", path, original)
        error.message = original.public_message
        error.original_error = None
        extensions = {"code": original.code}
    elif "code" in extensions:
        pass  # e.g. permission classes set their own code
    elif (variable := _bad_variable(error)) is not None:
        extensions["code"] = "BAD_USER_INPUT"
        extensions["variable"] = variable
    elif original is None and error.path is None:
        extensions["code"] = _document_error_code(error.message)
    else:
        log.error(
            "unexpected error in resolver at %s",
            ".".join(str(p) for p in error.path or ()),
            exc_info=original,
        )
        error.message = INTERNAL_MESSAGE
        error.original_error = None
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
    error.extensions = extensions


def _bad_variable(error: GraphQLError) -> str | None:
    """The variable whose value the request got wrong (null for a non-null type, missing, of
    the wrong type). graphql-core reports those against the variable's definition, before
    any field runs, wrapping the coercion error; validation errors that point at a variable
    definition (unused, used in the wrong position) wrap nothing, and stay document errors."""
    if error.path is not None or not isinstance(error.original_error, GraphQLError):
        return None
    for node in error.nodes or ():
        if isinstance(node, VariableDefinitionNode):
            return node.variable.name.value
    return None


def _document_error_code(message: str) -> str:
    lowered = message.lower()
    for fragment, code in _LIMIT_CODES:
        if fragment in lowered:
            return code
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"
