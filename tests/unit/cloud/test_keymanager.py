"""The key manager service: Barbican's secrets and containers, as the driver reads them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from barbicanclient import client as barbican_client
from barbicanclient import exceptions as barbican_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from tests.unit.cloud.client import Call, make_call

from hyperv_emulator import shielding_data
from nova_hyperv.cloud import keymanager, samples
from nova_hyperv.cloud.docstore import DocStore
from nova_hyperv.cloud.server import HttpService
from nova_hyperv.cloud.tokens import TokenAuthority


@pytest.fixture
def service(store: DocStore) -> keymanager.KeyManagerService:
    return keymanager.KeyManagerService(store)


@pytest.fixture
def call(service: keymanager.KeyManagerService, authority: TokenAuthority) -> Call:
    return make_call(keymanager.build_app(service, authority))


def _secret(call: Call, token: str, data: bytes, name: str = "part") -> str:
    answer = call("POST", "/v1/secrets", token, {
        "name": name, "payload": base64.b64encode(data).decode(),
        "payload_content_type": "application/octet-stream",
        "payload_content_encoding": "base64"})
    assert answer.status == 201, answer.json
    return str(answer.json["secret_ref"])


def _container(call: Call, token: str, refs: list[str]) -> str:
    answer = call("POST", "/v1/containers", token, {
        "name": "pdk", "type": "generic",
        "secret_refs": [{"name": str(n), "secret_ref": r} for n, r in enumerate(refs, 1)]})
    assert answer.status == 201, answer.json
    return str(answer.json["container_ref"])


def test_a_container_lists_its_secrets_whose_payloads_come_back_as_stored(
        call: Call, demo_token: str) -> None:
    refs = [_secret(call, demo_token, b"\x00first\xff"), _secret(call, demo_token, b"two")]
    container = _container(call, demo_token, refs)
    shown = call("GET", container.replace("http://localhost", ""), demo_token).json
    assert [(s["name"], s["secret_ref"]) for s in shown["secret_refs"]] == [
        ("1", refs[0]), ("2", refs[1])]
    path = refs[0].replace("http://localhost", "")
    meta = call("GET", path, demo_token).json
    assert meta["content_types"] == {"default": "application/octet-stream"}
    payload = call("GET", f"{path}/payload", demo_token)
    assert (payload.status, payload.body) == (200, b"\x00first\xff")


def test_another_project_cannot_read_or_delete_but_admins_read(
        call: Call, demo_token: str, admin_token: str) -> None:
    ref = _secret(call, admin_token, b"admin's").replace("http://localhost", "")
    hidden = call("GET", f"{ref}/payload", demo_token)
    assert hidden.status == 404
    # Barbican's error body, which barbicanclient prints as "title: description"
    assert hidden.json["title"] == "Not Found"
    assert "this project may read" in hidden.json["description"]
    assert call("DELETE", ref, demo_token).status == 404
    mine = _secret(call, demo_token, b"demo's").replace("http://localhost", "")
    assert call("GET", f"{mine}/payload", admin_token).body == b"demo's"
    assert call("DELETE", mine, demo_token).status == 204
    assert call("GET", mine, demo_token).status == 404


def test_a_public_container_is_read_by_every_project_and_deleted_by_its_own(
        call: Call, service: keymanager.KeyManagerService, authority: TokenAuthority,
        demo_token: str) -> None:
    admin = authority.validate(authority.issue(authority.account("admin"))[0])
    secret = service.store_secret(admin, {"payload": "c2FtcGxl",
                                          "payload_content_encoding": "base64"}, public=True)
    container = service.create_container(admin, {
        "name": "shared", "secret_refs": [{"name": "1", "secret_ref": secret["id"]}]},
        public=True)
    assert call("GET", f"/v1/containers/{container['id']}", demo_token).status == 200
    assert call("GET", f"/v1/secrets/{secret['id']}/payload", demo_token).body == b"sample"
    assert call("DELETE", f"/v1/containers/{container['id']}", demo_token).status == 403
    assert [c["name"] for c in call("GET", "/v1/containers?name=shared", demo_token)
            .json["containers"]] == ["shared"]


@pytest.mark.parametrize(("body", "message"), [
    ({"payload": ""}, "payload: a secret needs a non-empty payload"),
    ({"payload": "!!", "payload_content_encoding": "base64"}, "payload: not base64"),
    ({"payload": "x", "payload_content_encoding": "gzip"}, "payload_content_encoding='gzip'"),
    ({"payload": "x", "payload_content_type": "image/png"}, "payload_content_type='image/png'"),
])
def test_bad_secrets_are_refused_naming_the_field(call: Call, demo_token: str,
                                                  body: dict[str, Any], message: str) -> None:
    answer = call("POST", "/v1/secrets", demo_token, body)
    assert answer.status == 400 and message in answer.json["description"]


def test_a_container_of_secrets_the_project_cannot_read_is_refused(
        call: Call, demo_token: str, admin_token: str) -> None:
    ref = _secret(call, admin_token, b"admin's")
    answer = call("POST", "/v1/containers", demo_token, {
        "type": "generic", "secret_refs": [{"name": "1", "secret_ref": ref}]})
    assert answer.status == 404
    assert call("POST", "/v1/containers", demo_token, {"type": "rsa"}).status == 400


@pytest.fixture
def served(service: keymanager.KeyManagerService, authority: TokenAuthority
           ) -> Iterator[str]:
    http = HttpService("key-manager", keymanager.build_app(service, authority), 0)
    http.start()
    yield f"http://127.0.0.1:{http.port}"
    http.stop()


def test_the_sample_pdk_is_shielding_data_the_emulated_host_reads(tmp_path: Any) -> None:
    path = tmp_path / "sample.pdk"
    path.write_bytes(samples.sample_pdk())
    read = shielding_data.read_pdk(path)
    assert (read.shielded, read.fsk_keys) == (True, ("@@ComputerName@@",))


def test_python_barbicanclient_reads_the_sample_pdk_as_the_driver_does(
        served: str, service: keymanager.KeyManagerService, authority: TokenAuthority,
        demo_token: str) -> None:
    admin = authority.validate(authority.issue(authority.account("admin"))[0])
    pdk = samples.sample_pdk()
    half = len(pdk) // 2
    parts = [service.store_secret(admin, {
        "payload": base64.b64encode(part).decode(), "payload_content_encoding": "base64"},
        public=True) for part in (pdk[:half], pdk[half:])]
    container = service.create_container(admin, {"name": samples.SAMPLE_PDK, "secret_refs": [
        {"name": str(n), "secret_ref": p["id"]} for n, p in enumerate(parts, 1)]}, public=True)
    # As ops.shielding does: a token session (the user's), the [barbican] endpoint.
    session = ks_session.Session(auth=token_endpoint.Token(served, demo_token))
    barbican = barbican_client.Client(session=session, endpoint=served, version="v1")
    secrets = barbican.containers.get(container["id"]).secrets
    data = b"".join(secrets[name].payload for name in sorted(secrets))
    assert data == pdk
    with pytest.raises(barbican_exceptions.HTTPClientError) as refused:
        barbican.containers.get("5f0c5b5e-0000-4000-8000-000000000000")
    assert refused.value.status_code == 404
