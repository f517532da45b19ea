"""Square's published OpenAPI document as a JSON Schema validator, for contract tests.

``shared/specs/square/api.json`` is OpenAPI 3.0, whose schema dialect is not quite JSON
Schema: ``nullable: true`` allows ``null``, and a ``$ref`` may carry sibling keywords. It is
translated once per test session into draft 2020-12 (``nullable`` -> a ``null`` alternative)
and loaded into a ``referencing`` registry, so every ``#/components/schemas/...`` reference
resolves against the whole document.

Validation is *stricter* than the spec on one point: objects that list their ``properties``
reject any other property (unless the spec itself says ``additionalProperties``). Square's
own schemas leave that open, but a sandbox or a request that invents a field is exactly the
drift these tests exist to catch.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.specs import SPECS, missing

SPEC_PATH = SPECS / "square" / "api.json"
SPEC_URI = "urn:square:api.json"

_OPENAPI_ONLY = (
    "nullable",
    "readOnly",
    "writeOnly",
    "example",
    "examples",
    "x-release-status",
    "x-enum-elements",
    "x-sq-sdk-sample-code",
    "x-webhook",
    "x-api",
    "x-since",
    "x-params-example",
    "error-category",
)


def require_spec() -> Path:
    if not SPEC_PATH.is_file():
        pytest.skip(missing("Square's OpenAPI document", SPEC_PATH))
    return SPEC_PATH


@functools.cache
def _document() -> dict[str, Any]:
    with require_spec().open(encoding="utf-8") as fh:
        result: dict[str, Any] = json.load(fh)
    return result


def _translate(schema: Any) -> Any:
    """OpenAPI 3.0 schema object -> JSON Schema 2020-12 (recursively)."""
    if isinstance(schema, list):
        return [_translate(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    nullable = schema.get("nullable") is True
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OPENAPI_ONLY or key == "description":
            continue
        if key == "properties":
            out[key] = {name: _translate(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _translate(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_translate(s) for s in value]
        elif key == "$ref":
            out[key] = value.replace("#/", f"{SPEC_URI}#/", 1)
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if nullable:
        if "$ref" in out and len(out) == 1:
            return {"anyOf": [out, {"type": "null"}]}
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def _registry() -> Registry:
    document = _document()
    translated = {
        "components": {
            "schemas": {
                name: _translate(s) for name, s in document["components"]["schemas"].items()
            }
        }
    }
    return Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(translated))


@functools.cache
def validator(schema_name: str) -> Draft202012Validator:
    if schema_name not in _document()["components"]["schemas"]:
        raise KeyError(f"no component schema {schema_name!r} in the Square spec")
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}, registry=_registry()
    )


def errors(schema_name: str, instance: Any) -> list[str]:
    """Every violation, as ``path: message`` lines (empty when valid)."""
    found: Iterator[ValidationError] = validator(schema_name).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]


def assert_valid(schema_name: str, instance: Any) -> None:
    problems = errors(schema_name, instance)
    assert not problems, f"{schema_name} violations:\n" + "\n".join(problems[:20])


# --- operations ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    template: str
    operation_id: str
    request_schema: str | None
    response_schema: str | None
    scopes: tuple[str, ...]


def _schema_name(ref: dict[str, Any] | None) -> str | None:
    if not ref or "$ref" not in ref:
        return None
    return str(ref["$ref"]).rsplit("/", 1)[-1]


@functools.cache
def operations() -> tuple[tuple[re.Pattern[str], Operation], ...]:
    found: list[tuple[re.Pattern[str], Operation]] = []
    for template, item in _document()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$")
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ok = op.get("responses", {}).get("200", {}).get("content", {})
            scopes = tuple(
                s for entry in op.get("security") or [] for s in entry.get("oauth2") or []
            )
            found.append(
                (
                    pattern,
                    Operation(
                        method.upper(),
                        template,
                        op.get("operationId", ""),
                        _schema_name(body.get("schema")),
                        _schema_name(ok.get("application/json", {}).get("schema")),
                        scopes,
                    ),
                )
            )
    # Literal paths before templated ones (/v2/orders/search before /v2/orders/{order_id}).
    found.sort(key=lambda pair: pair[1].template.count("{"))
    return tuple(found)


def operation(method: str, path: str) -> Operation:
    for pattern, op in operations():
        if op.method == method.upper() and pattern.match(path):
            return op
    raise AssertionError(f"{method} {path} is not an operation of the Square spec")


@functools.cache
def webhook_schemas() -> dict[str, str]:
    """Event type (``inventory.count.updated``) -> its component schema name."""
    return {
        schema["x-webhook"]["event"]: name
        for name, schema in _document()["components"]["schemas"].items()
        if isinstance(schema.get("x-webhook"), dict) and "event" in schema["x-webhook"]
    }


def webhook_scopes(schema_name: str) -> tuple[str, ...]:
    hook = _document()["components"]["schemas"][schema_name].get("x-webhook") or {}
    return tuple(hook.get("scopes") or ())
