"""The network service as neutronclient (nova) and openstacksdk (the client) use it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.cloud.client import Call, make_call

from nova_hyperv.cloud import network
from nova_hyperv.cloud.docstore import DocStore
from nova_hyperv.cloud.tokens import TokenAuthority


@pytest.fixture
def service(store: DocStore) -> network.NetworkService:
    return network.NetworkService(store)


@pytest.fixture
def call(service: network.NetworkService, authority: TokenAuthority) -> Call:
    return make_call(network.build_app(service, authority))


@pytest.fixture
def private(call: Call, admin_token: str) -> dict[str, Any]:
    net = call("POST", "/v2.0/networks", admin_token,
               {"network": {"name": "private", "shared": True}}).json["network"]
    subnet = call("POST", "/v2.0/subnets", admin_token, {"subnet": {
        "network_id": net["id"], "cidr": "10.0.0.0/29", "ip_version": 4}}).json["subnet"]
    return {"network": net, "subnet": subnet}


def test_ports_get_the_next_free_address_and_activate_when_bound(
        call: Call, demo_token: str, private: dict[str, Any]) -> None:
    net = private["network"]
    made = [call("POST", "/v2.0/ports", demo_token,
                 {"port": {"network_id": net["id"], "device_owner": "compute:nova"}})
            for _ in range(2)]
    assert [m.status for m in made] == [201, 201]
    ports = [m.json["port"] for m in made]
    # .1 is the gateway; the pool starts after it.
    assert [p["fixed_ips"][0]["ip_address"] for p in ports] == ["10.0.0.2", "10.0.0.3"]
    assert ports[0]["status"] == "DOWN" and ports[0]["binding:vif_type"] == "unbound"
    assert ports[0]["mac_address"].startswith("fa:16:3e:")
    bound = call("PUT", f"/v2.0/ports/{ports[0]['id']}", demo_token, {"port": {
        "binding:host_id": "hyperv-host-1", "device_id": "vm-1"}}).json["port"]
    assert (bound["status"], bound["binding:vif_type"], bound["device_id"]) == (
        "ACTIVE", network.VIF_TYPE_BOUND, "vm-1")
    unbound = call("PUT", f"/v2.0/ports/{ports[0]['id']}", demo_token, {"port": {
        "binding:host_id": ""}}).json["port"]
    assert unbound["status"] == "DOWN"


def test_a_full_subnet_says_so(call: Call, admin_token: str, private: dict[str, Any]
                               ) -> None:
    # /29: 6 hosts, .1 the gateway, 5 for ports.
    for _ in range(5):
        assert call("POST", "/v2.0/ports", admin_token, {"port": {
            "network_id": private["network"]["id"]}}).status == 201
    full = call("POST", "/v2.0/ports", admin_token, {"port": {
        "network_id": private["network"]["id"]}})
    assert full.status == 409 and "No more IP addresses" in full.json["NeutronError"][
        "message"]


def test_filters_fields_and_the_nova_quota_query(call: Call, admin_token: str,
                                                 private: dict[str, Any]) -> None:
    net_id = private["network"]["id"]
    call("POST", "/v2.0/ports", admin_token, {"port": {"network_id": net_id,
                                                        "device_id": "a"}})
    call("POST", "/v2.0/ports", admin_token, {"port": {"network_id": net_id,
                                                        "device_id": "b"}})
    found = call("GET", "/v2.0/ports?device_id=b&fields=id&fields=device_id",
                 admin_token).json["ports"]
    assert len(found) == 1 and set(found[0]) == {"id", "device_id"}
    by_ip = call("GET", "/v2.0/ports?fixed_ips=ip_address%3D10.0.0.2", admin_token).json
    assert [p["device_id"] for p in by_ip["ports"]] == ["a"]
    assert call("GET", f"/v2.0/networks?id={net_id}&shared=True", admin_token).json[
        "networks"][0]["subnets"] == [private["subnet"]["id"]]
    assert call("GET", "/v2.0/quotas/any", admin_token).json["quota"]["port"] == -1
    assert call("GET", "/v2.0/floatingips", admin_token).json == {"floatingips": []}
    aliases = {e["alias"] for e in call("GET", "/v2.0/extensions", admin_token).json[
        "extensions"]}
    assert {"binding", "security-group", "port-security"} <= aliases


def test_each_project_has_a_default_security_group(call: Call, demo_token: str,
                                                   admin_token: str,
                                                   authority: TokenAuthority) -> None:
    groups = call("GET", "/v2.0/security-groups?fields=id&fields=name", demo_token).json[
        "security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    again = call("GET", "/v2.0/security-groups", demo_token).json["security_groups"]
    assert [g["id"] for g in again] == [groups[0]["id"]]
    refused = call("DELETE", f"/v2.0/security-groups/{groups[0]['id']}", demo_token)
    assert refused.status == 409
    made = call("POST", "/v2.0/security-groups", demo_token,
                {"security_group": {"name": "web"}})
    assert made.status == 201
    assert call("DELETE", f"/v2.0/security-groups/{made.json['security_group']['id']}",
                demo_token).status == 204
    demo_project = authority.account("demo").project_id
    rules = call("GET", "/v2.0/security-group-rules", demo_token).json[
        "security_group_rules"]
    assert rules and {r["project_id"] for r in rules} == {demo_project}


def test_projects_see_shared_and_own_networks_only(call: Call, admin_token: str,
                                                   demo_token: str, private: dict[str, Any]
                                                   ) -> None:
    hidden = call("POST", "/v2.0/networks", admin_token,
                  {"network": {"name": "admin-only"}}).json["network"]
    names = {n["name"] for n in call("GET", "/v2.0/networks", demo_token).json["networks"]}
    assert names == {"private"}
    assert call("GET", f"/v2.0/networks/{hidden['id']}", demo_token).status == 404
    shared = call("POST", "/v2.0/networks", demo_token,
                  {"network": {"name": "x", "shared": True}})
    assert shared.status == 403


def test_deleting_what_is_in_use_is_refused(call: Call, admin_token: str,
                                            private: dict[str, Any]) -> None:
    net, subnet = private["network"], private["subnet"]
    port = call("POST", "/v2.0/ports", admin_token, {"port": {
        "network_id": net["id"], "device_owner": "compute:nova"}}).json["port"]
    assert call("DELETE", f"/v2.0/networks/{net['id']}", admin_token).status == 409
    assert call("DELETE", f"/v2.0/subnets/{subnet['id']}", admin_token).status == 409
    assert call("DELETE", f"/v2.0/ports/{port['id']}", admin_token).status == 204
    assert call("DELETE", f"/v2.0/subnets/{subnet['id']}", admin_token).status == 204
    assert call("GET", f"/v2.0/networks/{net['id']}", admin_token).json["network"][
        "subnets"] == []
    assert call("DELETE", f"/v2.0/networks/{net['id']}", admin_token).status == 204


@pytest.mark.parametrize(
    ("subnet", "message"),
    [({"cidr": "10.0.0.0/33"}, "cidr='10.0.0.0/33'"),
     ({"cidr": "10.0.0.1/24"}, "has host bits set"),
     ({"cidr": "10.0.0.0/31"}, "at least 4 addresses"),
     ({"cidr": "fd00::/64", "ip_version": 6}, "IPv4 subnets only")],
)
def test_bad_subnets_are_refused(call: Call, admin_token: str, private: dict[str, Any],
                                 subnet: dict[str, Any], message: str) -> None:
    answer = call("POST", "/v2.0/subnets", admin_token, {"subnet": {
        "network_id": private["network"]["id"], **subnet}})
    assert answer.status == 400 and message in answer.json["NeutronError"]["message"]
