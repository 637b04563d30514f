"""The identity service as keystoneauth and nova use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.unit.cloud.client import Call, make_call

from nova_hyperv.cloud import identity
from nova_hyperv.cloud.settings import SERVICES
from nova_hyperv.cloud.tokens import TokenAuthority

PORTS = {name: 30000 + i for i, name in enumerate(SERVICES)}


@pytest.fixture
def call(authority: TokenAuthority) -> Call:
    return make_call(identity.build_app(authority, PORTS))


def _password_auth(user: str, password: str, project: str | None = None) -> dict[str, Any]:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return {"auth": auth}


def test_version_discovery_needs_no_token(call: Call) -> None:
    root = call("GET", "/")
    assert root.status == 300
    assert root.json["versions"]["values"][0]["id"].startswith("v3")
    assert call("GET", "/v3").json["version"]["links"][0]["href"].endswith("/v3/")


def test_password_gives_a_token_with_the_catalog(call: Call, authority: TokenAuthority
                                                 ) -> None:
    admin = authority.account("admin")
    answer = call("POST", "/v3/auth/tokens", body=_password_auth("admin", admin.password,
                                                                 "admin"))
    assert answer.status == 201
    token = answer.headers["X-Subject-Token"]
    assert authority.validate(token).user_name == "admin"
    body = answer.json["token"]
    assert body["project"]["id"] == admin.project_id
    assert {r["name"] for r in body["roles"]} == {"admin", "member", "reader"}
    urls = {entry["type"]: entry["endpoints"][0]["url"] for entry in body["catalog"]}
    assert urls["compute"] == f"http://127.0.0.1:{PORTS['compute']}/v2.1"
    assert urls["volumev3"] == f"http://127.0.0.1:{PORTS['volume']}/v3/{admin.project_id}"
    assert urls["key-manager"] == f"http://127.0.0.1:{PORTS['key-manager']}"
    assert set(urls) == {"identity", "compute", "image", "network", "volumev3", "placement",
                         "key-manager"}


def test_a_token_can_be_rescoped_and_validated(call: Call, authority: TokenAuthority,
                                               demo_token: str, admin_token: str) -> None:
    rescoped = call("POST", "/v3/auth/tokens", body={"auth": {"identity": {
        "methods": ["token"], "token": {"id": demo_token}}}})
    assert rescoped.status == 201
    assert authority.validate(rescoped.headers["X-Subject-Token"]).user_name == "demo"
    shown = call("GET", "/v3/auth/tokens", token=admin_token,
                 headers={"X-Subject-Token": demo_token})
    assert shown.json["token"]["user"]["name"] == "demo"
    assert call("GET", "/v3/auth/tokens", token=admin_token,
                headers={"X-Subject-Token": "nhc1.x.y"}).status == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [(lambda a: _password_auth("admin", "wrong"), 401, "requires authentication"),
     (lambda a: _password_auth("demo", a.account("demo").password, "admin"), 401,
      "no role on project admin"),
     (lambda a: {"auth": {"identity": {"methods": ["totp"]}}}, 400,
      "accepts 'password' and 'token'"),
     (lambda a: {"nothing": 1}, 400, "'auth' object")],
)
def test_bad_requests_for_a_token_say_why(call: Call, authority: TokenAuthority,
                                          body: Callable[[TokenAuthority], dict[str, Any]],
                                          status: int, message: str) -> None:
    answer = call("POST", "/v3/auth/tokens", body=body(authority))
    assert answer.status == status
    assert message in answer.json["error"]["message"]


def test_projects_are_visible_to_their_members_and_admins(call: Call, authority: TokenAuthority,
                                                          demo_token: str, admin_token: str
                                                          ) -> None:
    demo = authority.account("demo")
    assert [p["name"] for p in call("GET", "/v3/projects", token=demo_token).json[
        "projects"]] == ["demo"]
    assert {p["name"] for p in call("GET", "/v3/projects", token=admin_token).json[
        "projects"]} == {"admin", "demo", "service"}
    assert call("GET", f"/v3/projects/{demo.project_id}", token=admin_token).json[
        "project"]["name"] == "demo"
    admin_project = authority.account("admin").project_id
    assert call("GET", f"/v3/projects/{admin_project}", token=demo_token).status == 404
    assert call("GET", "/v3/projects").status == 401
