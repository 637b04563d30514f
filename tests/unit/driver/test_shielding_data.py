"""The shielding data (PDK) from Barbican: secrets in order, errors that name the
reference. Barbican is faked at its HTTP edge (requests-mock)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import requests_mock
from nova import context as nova_context
from nova import exception
from oslo_config import cfg

from nova_hyperv.ops.shielding import ShieldingDataStore

BARBICAN = "http://barbican.test:9311"
CONTAINER = "0c1e7a39-58a2-4d52-9d5f-1f6a8d35f2a1"


@pytest.fixture
def store() -> ShieldingDataStore:
    conf = cfg.ConfigOpts()
    found = ShieldingDataStore(conf)
    conf(args=[], default_config_files=[])
    conf.set_override("barbican_endpoint", BARBICAN, group="barbican")
    return found


@pytest.fixture
def barbican() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mocker:
        mocker.get(BARBICAN, json={"versions": {"values": [{
            "id": "v1", "status": "CURRENT", "min_version": "1.0", "max_version": "1.1",
            "links": [{"rel": "self", "href": f"{BARBICAN}/v1/"}]}]}})
        mocker.get(re.compile(f"^{re.escape(BARBICAN)}/v1/"), status_code=404,
                   json={"code": 404, "title": "Not Found",  # as Barbican answers
                         "description": "Not Found. Sorry but your container is in "
                                        "another castle."})
        yield mocker


def container(mocker: requests_mock.Mocker, parts: dict[str, bytes]) -> None:
    refs = []
    for name, payload in parts.items():
        ref = f"{BARBICAN}/v1/secrets/{uuid.uuid5(uuid.NAMESPACE_URL, name)}"
        refs.append({"name": name, "secret_ref": ref})
        mocker.get(ref, json={"secret_ref": ref, "status": "ACTIVE", "secret_type": "opaque",
                              "content_types": {"default": "application/octet-stream"}})
        mocker.get(f"{ref}/payload", content=payload)
    mocker.get(f"{BARBICAN}/v1/containers/{CONTAINER}", json={
        "container_ref": f"{BARBICAN}/v1/containers/{CONTAINER}", "type": "generic",
        "status": "ACTIVE", "secret_refs": refs})


def request_context() -> nova_context.RequestContext:
    return nova_context.RequestContext("user", "project", is_admin=False,
                                       auth_token="token-of-the-user")


def test_secrets_are_joined_in_numeric_order_with_the_users_token(
        store: ShieldingDataStore, barbican: requests_mock.Mocker) -> None:
    container(barbican, {"10": b"-ten", "2": b"-two", "1": b"one"})
    assert store.fetch_pdk(request_context(), CONTAINER) == b"one-two-ten"
    assert {r.headers.get("X-Auth-Token") for r in barbican.request_history} == {
        "token-of-the-user"}


def test_an_unknown_container_names_the_reference(store: ShieldingDataStore,
                                                   barbican: requests_mock.Mocker) -> None:
    with pytest.raises(exception.InvalidInput,
                       match=f"img_pdk_reference = '{CONTAINER}': Barbican answered 404"):
        store.fetch_pdk(request_context(), CONTAINER)


def test_an_empty_container_is_refused(store: ShieldingDataStore,
                                       barbican: requests_mock.Mocker) -> None:
    container(barbican, {})
    with pytest.raises(exception.InvalidInput, match="holds no secrets"):
        store.fetch_pdk(request_context(), CONTAINER)


def test_barbican_down_is_the_hosts_trouble(store: ShieldingDataStore,
                                            barbican: requests_mock.Mocker) -> None:
    barbican.get(f"{BARBICAN}/v1/containers/{CONTAINER}", status_code=503,
                 json={"code": 503, "title": "Service Unavailable", "description": ""})
    with pytest.raises(exception.NovaException, match="from Barbican failed") as caught:
        store.fetch_pdk(request_context(), CONTAINER)
    assert not isinstance(caught.value, exception.InvalidInput)
