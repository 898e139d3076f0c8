"""The hosted API's schemas, vendored in tests/data, as validators."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tests.conftest import DATA

__all__ = [
    "hosted_list_response_validator",
    "hosted_request_validator",
    "hosted_speech_request_validator",
    "hosted_speech_response_validator",
    "hosted_validator",
    "seed_document",
    "seed_response_validator",
]


@cache
def seed_document() -> dict[str, Any]:
    """The user's specification: the OpenAPI document of Get Voice."""
    document: dict[str, Any] = yaml.safe_load((DATA / "get-voice.openapi.yaml").read_text())
    return document


def seed_response_validator(status: int) -> Draft202012Validator:
    """Validates a Get Voice response body of ``status`` against the seed's schema for it."""
    operation = "#/paths/~1v3~1voices~1{voice_id}/get"
    pointer = f"{operation}/responses/{status}/content/application~1json/schema"
    # The whole document is the root, so the pointer and its component $refs resolve in it.
    return Draft202012Validator({**seed_document(), "$ref": pointer})


def _nullable_to_json_schema(node: Any) -> Any:
    """The schemas file writes OpenAPI 3.0 ``nullable: true``; JSON Schema wants a null type."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _nullable_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


def hosted_list_response_validator() -> Draft202012Validator:
    schemas = json.loads((DATA / "heygen-v3-schemas.json").read_text())
    schema = _nullable_to_json_schema(schemas["GET /v3/voices"]["response_schema"])
    schema["required"] = ["data", "has_more", "next_token"]
    schema["properties"]["data"]["items"]["additionalProperties"] = True
    return Draft202012Validator(schema)


def _hosted(operation: str, part: str) -> dict[str, Any]:
    schemas = json.loads((DATA / "heygen-v3-schemas.json").read_text())
    schema: dict[str, Any] = _nullable_to_json_schema(schemas[operation][part])
    return schema


def hosted_speech_response_validator() -> Draft202012Validator:
    """Generate Speech's response as the hosted API describes it; ``data`` is required."""
    schema = _hosted("POST /v3/voices/speech", "response_schema")
    schema["required"] = ["data"]
    return Draft202012Validator(schema)


def hosted_speech_request_validator() -> Draft202012Validator:
    return Draft202012Validator(_hosted("POST /v3/voices/speech", "request_schema"))


def hosted_request_validator(operation: str) -> Draft202012Validator:
    """A request body of ``operation`` as the hosted API describes it."""
    return Draft202012Validator(_hosted(operation, "request_schema"))


def hosted_validator(operation: str) -> Draft202012Validator:
    """A response of ``operation`` as the hosted API describes it; ``data`` is required."""
    schema = _hosted(operation, "response_schema")
    schema["required"] = ["data"]
    return Draft202012Validator(schema)
