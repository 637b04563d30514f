"""The demo token check in front of nova's API and placement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.unit.cloud.client import make_call

from nova_hyperv.cloud.nova_auth import TokenCheck, paste_filter_factory
from nova_hyperv.cloud.settings import SERVICES
from nova_hyperv.cloud.statedir import StateDir
from nova_hyperv.cloud.tokens import TokenAuthority

PORTS = {name: 31000 + i for i, name in enumerate(SERVICES)}


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Stands for nova: shows the identity headers it would build its context from."""
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_X_")}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def test_a_valid_token_becomes_keystone_headers(authority: TokenAuthority,
                                                demo_token: str) -> None:
    call = make_call(TokenCheck(_echo, authority, PORTS))
    seen = call("GET", "/v2.1/servers", demo_token).json
    demo = authority.account("demo")
    assert (seen["HTTP_X_USER_ID"], seen["HTTP_X_PROJECT_ID"], seen["HTTP_X_ROLES"]) == (
        demo.user_id, demo.project_id, "member,reader")
    catalog = json.loads(seen["HTTP_X_SERVICE_CATALOG"])
    assert {entry["type"] for entry in catalog} >= {"image", "network", "volumev3"}


def test_identity_headers_sent_by_the_client_are_dropped(authority: TokenAuthority,
                                                         demo_token: str) -> None:
    call = make_call(TokenCheck(_echo, authority))
    seen = call("GET", "/v2.1/servers", demo_token,
                headers={"X-Roles": "admin", "X-Project-Id": "someone-else",
                         "X-Is-Admin-Project": "True"}).json
    assert seen["HTTP_X_ROLES"] == "member,reader"
    assert seen["HTTP_X_PROJECT_ID"] == authority.account("demo").project_id
    assert seen["HTTP_X_IS_ADMIN_PROJECT"] == "False"


@pytest.mark.parametrize("token", [None, "admin", "nhc1.e30.bad"])
def test_no_valid_token_no_entry(authority: TokenAuthority, token: str | None) -> None:
    call = make_call(TokenCheck(_echo, authority))
    answer = call("GET", "/v2.1/servers", token, headers={"X-Roles": "admin"})
    assert answer.status == 401 and "Authentication required" in answer.json["error"][
        "message"]


def test_public_paths_and_placement_style(authority: TokenAuthority, admin_token: str
                                          ) -> None:
    call = make_call(TokenCheck(_echo, authority, public_paths=("/",),
                                placement_style=True))
    assert call("GET", "/").status == 200
    seen = call("GET", "/resource_providers", admin_token).json
    admin = authority.account("admin")
    # placement's own no-auth filter reads user:project from the token.
    assert seen["HTTP_X_AUTH_TOKEN"] == f"{admin.user_id}:{admin.project_id}"


def test_the_paste_filter_reads_the_state_folder(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    manifest = state.load_or_create_manifest()
    ports_file = tmp_path / "ports.json"
    ports_file.write_text(json.dumps(PORTS))
    wrap = paste_filter_factory({}, state_dir=str(tmp_path), ports_file=str(ports_file))
    authority = TokenAuthority(manifest["secret"], [])
    from nova_hyperv.cloud.statedir import accounts

    token = authority.issue(accounts(manifest)["admin"])[0]
    call = make_call(wrap(_echo))
    assert call("GET", "/v2.1/flavors", token).json["HTTP_X_USER_NAME"] == "admin"
