"""Routing and errors shared by the cloud's services."""

from __future__ import annotations

import pytest
from tests.unit.cloud.client import make_call

from nova_hyperv.cloud.httpapi import HttpError, JsonApp, Reply
from nova_hyperv.cloud.tokens import TokenAuthority


@pytest.fixture
def app(authority: TokenAuthority) -> JsonApp:
    app = JsonApp("demo", authority)
    app.route("GET", "/", lambda r: {"hello": "world"}, public=True)
    app.route("GET", "/things/{thing_id}", lambda r, thing_id: {"id": thing_id})
    app.route("DELETE", "/things/{thing_id}", lambda r, thing_id: Reply(204))

    def boom(request: object) -> None:
        raise ZeroDivisionError("internal detail")

    def refuse(request: object) -> None:
        raise HttpError(409, "busy")

    app.route("GET", "/boom", boom)
    app.route("GET", "/refuse", refuse)
    return app


def test_routes_tokens_and_methods(app: JsonApp, admin_token: str) -> None:
    call = make_call(app)
    assert call("GET", "/").json == {"hello": "world"}
    assert call("GET", "/things/a7/", admin_token).json == {"id": "a7"}
    assert call("HEAD", "/things/a7", admin_token).status == 200
    assert call("DELETE", "/things/a7", admin_token).status == 204
    assert call("GET", "/things/a7").status == 401
    wrong = call("PUT", "/things/a7", admin_token)
    assert wrong.status == 405 and "allowed: DELETE, GET" in wrong.json["error"]["message"]
    missing = call("GET", "/nothing", admin_token)
    assert missing.status == 404 and "not a resource of the demo service" in \
        missing.json["error"]["message"]


def test_errors_become_openstack_error_bodies(app: JsonApp, admin_token: str) -> None:
    call = make_call(app)
    refused = call("GET", "/refuse", admin_token)
    assert refused.status == 409
    assert refused.json["error"] == {"code": 409, "title": "Conflict", "message": "busy"}
    assert refused.json["NeutronError"]["message"] == "busy"
    broken = call("GET", "/boom", admin_token)
    assert broken.status == 500 and "internal detail" not in broken.body.decode()
