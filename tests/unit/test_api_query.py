"""A query parameter of one value, given twice, is a 400 naming it on every route."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient

from voxhub.api.app import install_common
from voxhub.api.query import refuse_repeated_query
from voxhub.services import Services

from .conftest import issue_key


def _routes_with_query(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path, a query parameter) of each documented fixed-path operation with one."""
    document: dict[str, Any] = client.get("/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            if names and "{" not in path:
                found.append((method.upper(), path, names[0]))
    return found


def test_the_documented_fixed_paths_with_a_query_are_found(client: TestClient) -> None:
    paths = {path for _, path, _ in _routes_with_query(client)}
    assert {"/v3/voices", "/v3/assets", "/v3/assets/search", "/v3/webhooks/events"} <= paths


def test_a_parameter_given_twice_is_refused_everywhere(
    client: TestClient, services: Services
) -> None:
    key = issue_key(services)
    for method, path, name in _routes_with_query(client):
        response = client.request(method, f"{path}?{name}=1&{name}=2", headers={"x-api-key": key})
        assert response.status_code == 400, (path, name, response.text)
        assert response.json()["error"]["param"] == name


def test_one_value_each_still_answers(client: TestClient, services: Services) -> None:
    key = issue_key(services)
    response = client.get("/v3/voices?limit=5&type=public", headers={"x-api-key": key})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 5


def test_a_list_typed_parameter_takes_many_values() -> None:
    app = FastAPI(dependencies=[Depends(refuse_repeated_query)])
    install_common(app)

    @app.get("/tags")
    def tags(
        tag: Annotated[list[str], Query()], one: Annotated[str | None, Query()] = None
    ) -> list[str]:
        return tag

    with TestClient(app) as test_client:
        assert test_client.get("/tags?tag=a&tag=b").json() == ["a", "b"]
        refused = test_client.get("/tags?tag=a&one=x&one=y")
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "one"


@pytest.mark.parametrize("query", ["limit=5&limit=5", "token=&token="])
def test_the_same_value_twice_is_still_twice(
    client: TestClient, services: Services, query: str
) -> None:
    response = client.get(f"/v3/voices?{query}", headers={"x-api-key": issue_key(services)})
    assert response.status_code == 400
