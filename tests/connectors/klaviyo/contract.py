"""Validation of Klaviyo exchanges against the official OpenAPI documents.

The specs are OpenAPI 3.0.2, whose schema dialect is JSON Schema draft 4 plus ``nullable``.
They are validated with ``jsonschema``'s draft-4 validator over a ``referencing`` registry
holding each document, after one rewrite: ``nullable: true`` becomes an explicit ``null``
alternative (added to ``type``/``enum``, or an ``anyOf`` around ``$ref``/composites, where
OpenAPI 3.0 tooling reads the flag the same way). ``date-time`` and ``uri`` formats are
checked.

:class:`Contract` validates a whole exchange: the request's query parameters (names, and
values against each parameter's schema), required headers, the request body against the
operation's ``requestBody`` schema, and the response body against the schema of its status
(``200``, ``4XX``...).

Validation with ``jsonschema`` costs about a millisecond per event resource, so in a collection
longer than :data:`SAMPLE` items :meth:`Contract.check_response` validates the envelope with
the first and last ``SAMPLE // 2`` items (every item is rendered by the same code, so a shape
error shows in any of them); :meth:`Contract.check_response` with ``sample=False`` validates
all of them, which the dedicated contract tests do once per resource type.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.specs import SPECS as ALL_SPECS
from tests.specs import missing

SPECS = ALL_SPECS / "klaviyo"
DOCUMENTS = ("profiles", "events", "metrics", "lists", "data_privacy")
MEDIA_TYPE = "application/vnd.api+json"
SAMPLE = 50


def specs_available() -> bool:
    return all((SPECS / f"{name}.json").is_file() for name in DOCUMENTS)


SKIP_REASON = missing("Klaviyo's OpenAPI documents (" + ", ".join(DOCUMENTS) + ")", SPECS)


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        if "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        elif any(k in out for k in ("$ref", "allOf", "oneOf", "anyOf")):
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _formats() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if "T" not in value:
            raise ValueError("no time part")
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError("no offset")
        return True

    @checker.checks("uri", raises=ValueError)
    def is_uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc:
            raise ValueError("not an absolute URI")
        return True

    return checker


@dataclass(frozen=True, slots=True)
class Operation:
    document: str
    method: str
    template: str
    spec: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec["operationId"])


class Contract:
    def __init__(self, folder: Path = SPECS) -> None:
        self.raw: dict[str, dict[str, Any]] = {
            name: json.loads((folder / f"{name}.json").read_text()) for name in DOCUMENTS
        }
        self.documents = {name: _nullable(copy.deepcopy(doc)) for name, doc in self.raw.items()}
        registry: Registry[Any] = Registry()
        for name, document in self.documents.items():
            resource = Resource.from_contents(document, default_specification=DRAFT4)
            registry = registry.with_resource(self.uri(name), resource)
        self.registry = registry
        self.format_checker = _formats()
        self._validators: dict[tuple[str, str], Draft4Validator] = {}
        self._operations: list[tuple[re.Pattern[str], Operation]] = []
        for name, document in self.documents.items():
            for template, item in document["paths"].items():
                pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
                for method, spec in item.items():
                    if isinstance(spec, dict) and "operationId" in spec:
                        self._operations.append(
                            (pattern, Operation(name, method.upper(), template, spec))
                        )

    @staticmethod
    def uri(document: str) -> str:
        return f"urn:klaviyo:{document}"

    def validator(self, document: str, pointer: str) -> Draft4Validator:
        """A validator for the schema at ``pointer`` (``components/schemas/X``) in a document."""
        key = (document, pointer)
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft4Validator(
                {"$ref": f"{self.uri(document)}#/{pointer}"},
                registry=self.registry,
                format_checker=self.format_checker,
            )
            self._validators[key] = validator
        return validator

    def schema_errors(self, document: str, schema: str, instance: Any) -> list[str]:
        """Problems of ``instance`` against ``components/schemas/<schema>``."""
        return self._errors(document, f"components/schemas/{schema}", instance)

    def _errors(self, document: str, pointer: str, instance: Any) -> list[str]:
        validator = self.validator(document, pointer)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in validator.iter_errors(instance)
        ]

    def operation(self, method: str, path: str) -> Operation | None:
        path = path.rstrip("/") or "/"
        for pattern, operation in self._operations:
            if operation.method == method.upper() and pattern.match(path):
                return operation
        return None

    # --- exchanges --------------------------------------------------------------------------

    def check_request(
        self,
        operation: Operation,
        *,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
    ) -> list[str]:
        problems: list[str] = []
        parameters = {p["name"]: p for p in self._parameters(operation)}
        for name, value in query.items():
            parameter = parameters.get(name)
            if parameter is None or parameter.get("in") != "query":
                problems.append(f"query parameter {name!r} is not in the spec")
                continue
            problems += [f"query {name}: {e}" for e in self._parameter_errors(parameter, value)]
        lowered = {k.lower() for k in headers}
        for parameter in parameters.values():
            if (
                parameter.get("in") == "header"
                and parameter.get("required")
                and parameter["name"].lower() not in lowered
            ):
                problems.append(f"required header {parameter['name']!r} missing")
        request_body = operation.spec.get("requestBody")
        if request_body is not None:
            if body is None:
                if request_body.get("required"):
                    problems.append("required request body missing")
            else:
                pointer = self._content_pointer(operation, ["requestBody"])
                problems += [f"request body {e}" for e in self._errors(*pointer, body)]
        elif body is not None:
            problems.append("the operation takes no request body")
        return problems

    def check_response(
        self, operation: Operation, status: int, body: Any, *, sample: bool = True
    ) -> list[str]:
        responses = operation.spec["responses"]
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            return [f"status {status} is not documented for {operation.operation_id}"]
        response = responses[key]
        content = self._resolve(operation.document, response).get("content")
        if not content:
            return [] if body is None else [f"status {status} documents no body"]
        if body is None:
            return [f"status {status} must carry a body"]
        document, pointer = self._response_pointer(operation, key, response)
        if sample and isinstance(body, dict) and isinstance(body.get("data"), list):
            items = body["data"]
            if len(items) > SAMPLE:
                body = {**body, "data": items[: SAMPLE // 2] + items[-(SAMPLE // 2) :]}
        return [f"response {status} {e}" for e in self._errors(document, pointer, body)]

    # --- helpers ----------------------------------------------------------------------------

    def _parameters(self, operation: Operation) -> list[Mapping[str, Any]]:
        return [self._resolve(operation.document, p) for p in operation.spec.get("parameters", [])]

    def _parameter_errors(self, parameter: Mapping[str, Any], value: str) -> list[str]:
        schema = parameter.get("schema", {})
        values: Any
        if schema.get("type") == "array":
            values = [v for v in value.split(",")]
        elif schema.get("type") == "integer":
            try:
                values = int(value)
            except ValueError:
                return [f"{value!r} is not an integer"]
        else:
            values = value
        validator = Draft4Validator(schema, format_checker=self.format_checker)
        return [e.message for e in validator.iter_errors(values)]

    def _resolve(self, document: str, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            target: Any = self.documents[document]
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _content_pointer(self, operation: Operation, path: list[str]) -> tuple[str, str]:
        node: Any = operation.spec
        for part in path:
            node = node[part]
        schema = node["content"][MEDIA_TYPE]["schema"]
        ref = schema.get("$ref")
        if ref is None:
            raise AssertionError(f"inline schema in {operation.operation_id}")
        return operation.document, ref.lstrip("#/")

    def _response_pointer(
        self, operation: Operation, key: str, response: Mapping[str, Any]
    ) -> tuple[str, str]:
        ref = response.get("$ref")
        if ref is not None:
            return operation.document, ref.lstrip("#/") + f"/content/{_escape(MEDIA_TYPE)}/schema"
        schema = response["content"][MEDIA_TYPE]["schema"]
        if "$ref" in schema:
            return operation.document, schema["$ref"].lstrip("#/")
        path = f"{operation.template}"
        return (
            operation.document,
            f"paths/{_escape(path)}/{operation.method.lower()}/responses/{key}/content/"
            f"{_escape(MEDIA_TYPE)}/schema",
        )

    @cached_property
    def rate_limits(self) -> dict[str, Mapping[str, str]]:
        """``operationId -> x-klaviyo-ratelimit`` over every document."""
        return {
            op.operation_id: op.spec["x-klaviyo-ratelimit"]
            for _, op in self._operations
            if "x-klaviyo-ratelimit" in op.spec
        }


def _escape(segment: str) -> str:
    """A JSON pointer segment (``/`` -> ``~1``)."""
    return segment.replace("~", "~0").replace("/", "~1")
