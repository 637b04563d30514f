"""The network service: the part of Neutron v2.0 that nova and python-openstackclient use.

Networks, IPv4 subnets, ports with fixed IPs and port bindings, security groups (each
project gets its "default" one, as in Neutron), quotas (unlimited) and an empty list of
floating IPs. There are no agents and no data plane: a port becomes ACTIVE when nova
binds it to a host (binding:vif_type "hyperv", as neutron-hyperv-agent reports), so nova
sees active VIFs and waits for no network-vif-plugged event.
"""

from __future__ import annotations

import datetime
import ipaddress
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

import webob

from nova_hyperv.cloud.docstore import Doc, DocStore
from nova_hyperv.cloud.httpapi import (
    HttpError,
    JsonApp,
    Reply,
    bad_request,
    identity_of,
    json_body,
    not_found,
)
from nova_hyperv.cloud.tokens import Identity, TokenAuthority

VIF_TYPE_BOUND = "hyperv"
EXTENSIONS = (
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external "
                                "application"),
    ("port-security", "Port Security", "Provides port security"),
    ("security-group", "security-group", "The security groups extension."),
    ("quotas", "Quota management support", "Expose functions for quotas management per "
                                           "tenant"),
    ("standard-attr-description", "standard-attr-description", "Extension to add "
                                                               "descriptions to standard "
                                                               "attributes"),
)
# (collection, member, kind in the doc store)
_RESOURCES = (("networks", "network", "network"), ("subnets", "subnet", "subnet"),
              ("ports", "port", "port"),
              ("security-groups", "security_group", "security_group"))
_NOT_FILTERS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"})


class NetworkService:
    def __init__(self, store: DocStore) -> None:
        self.store = store
        self._lock = threading.RLock()

    # -- shared by the app and the first-start set-up
    def create_network(self, who: Identity, fields: dict[str, Any]) -> Doc:
        project = _project(who, fields)
        network = _stamp({
            "id": str(uuid.uuid4()), "name": "", "tenant_id": project, "project_id": project,
            "admin_state_up": True, "status": "ACTIVE", "shared": False, "subnets": [],
            "mtu": 1500, "router:external": False, "port_security_enabled": True,
            "provider:network_type": "flat", "provider:physical_network": None,
            "provider:segmentation_id": None, "availability_zones": ["nova"],
            "availability_zone_hints": [], "ipv4_address_scope": None,
            "ipv6_address_scope": None, "is_default": False, "tags": [],
            "description": "",
        })
        network.update(_settable(fields, ("name", "admin_state_up", "shared", "mtu",
                                          "port_security_enabled", "description",
                                          "router:external")))
        if network["shared"] and not who.is_admin:
            raise HttpError(403, "Only administrators may create shared networks.")
        return self.store.put("network", network)

    def create_subnet(self, who: Identity, fields: dict[str, Any]) -> Doc:
        network = self._visible("network", str(fields.get("network_id")), who)
        if fields.get("ip_version", 4) != 4:
            raise bad_request(f"ip_version={fields.get('ip_version')}: this network service "
                              "offers IPv4 subnets only")
        try:
            cidr = ipaddress.IPv4Network(str(fields.get("cidr")), strict=True)
        except ValueError as error:
            raise bad_request(f"cidr={fields.get('cidr')!r}: {error}") from None
        if cidr.num_addresses < 4:
            raise bad_request(f"cidr={cidr}: a subnet needs at least 4 addresses (/30)")
        hosts = list(cidr.hosts())
        gateway = fields.get("gateway_ip", str(hosts[0]))
        project = _project(who, fields)
        subnet = _stamp({
            "id": str(uuid.uuid4()), "name": "", "network_id": network["id"],
            "tenant_id": project, "project_id": project, "ip_version": 4, "cidr": str(cidr),
            "gateway_ip": gateway, "enable_dhcp": True, "dns_nameservers": [],
            "host_routes": [], "ipv6_ra_mode": None, "ipv6_address_mode": None,
            "subnetpool_id": None, "service_types": [], "tags": [], "description": "",
            "allocation_pools": fields.get("allocation_pools") or [
                {"start": str(hosts[1]), "end": str(hosts[-1])}],
        })
        subnet.update(_settable(fields, ("name", "enable_dhcp", "dns_nameservers",
                                         "host_routes", "description")))
        with self.store.transaction():
            self.store.put("subnet", subnet)
            self.store.update("network", network["id"],
                              lambda n: n["subnets"].append(subnet["id"]))
        return subnet

    def create_port(self, who: Identity, fields: dict[str, Any]) -> Doc:
        network = self._visible("network", str(fields.get("network_id")), who)
        project = _project(who, fields)
        with self._lock, self.store.transaction():
            groups = fields.get("security_groups")
            if groups is None:
                groups = [self.default_security_group(project)["id"]]
            port = _stamp({
                "id": str(uuid.uuid4()), "name": "", "network_id": network["id"],
                "tenant_id": project, "project_id": project, "admin_state_up": True,
                "status": "DOWN", "mac_address": fields.get("mac_address") or _mac(),
                "fixed_ips": [], "device_id": "", "device_owner": "",
                "security_groups": groups,
                "port_security_enabled": network["port_security_enabled"],
                "allowed_address_pairs": [], "extra_dhcp_opts": [], "dns_name": "",
                "dns_assignment": [], "description": "", "tags": [],
                "binding:host_id": "", "binding:vif_type": "unbound",
                "binding:vif_details": {}, "binding:vnic_type": "normal",
                "binding:profile": {}, "resource_request": None,
                "propagate_uplink_status": False,
            })
            port.update(_settable(fields, ("name", "admin_state_up", "device_id",
                                           "device_owner", "dns_name", "description",
                                           "binding:vnic_type", "binding:profile",
                                           "port_security_enabled")))
            port["fixed_ips"] = self._allocate_ips(network, fields.get("fixed_ips"))
            _bind(port, fields.get("binding:host_id"))
            return self.store.put("port", port)

    def update_port(self, who: Identity, port_id: str, fields: dict[str, Any]) -> Doc:
        self._owned("port", port_id, who)
        unknown = sorted(set(fields) - {
            "name", "admin_state_up", "device_id", "device_owner", "dns_name", "description",
            "binding:host_id", "binding:profile", "binding:vnic_type", "security_groups",
            "port_security_enabled", "allowed_address_pairs", "extra_dhcp_opts"})
        if unknown:
            raise bad_request(f"port attribute(s) {', '.join(unknown)} cannot be updated "
                              "here")

        def change(port: Doc) -> None:
            host = fields.pop("binding:host_id", None)
            port.update(fields)
            if host is not None:
                _bind(port, host)
            port["updated_at"] = _now()
            port["revision_number"] += 1

        return self.store.update("port", port_id, change) or {}

    def default_security_group(self, project: str) -> Doc:
        with self._lock:
            found = self.store.all("security_group", lambda g: g["project_id"] == project
                                   and g["name"] == "default")
            if found:
                return found[0]
            group_id = str(uuid.uuid4())
            rules = [
                {"id": str(uuid.uuid4()), "direction": direction, "ethertype": ethertype,
                 "protocol": None, "port_range_min": None, "port_range_max": None,
                 "remote_ip_prefix": None,
                 "remote_group_id": group_id if direction == "ingress" else None,
                 "security_group_id": group_id, "tenant_id": project,
                 "project_id": project, "description": ""}
                for direction in ("ingress", "egress") for ethertype in ("IPv4", "IPv6")
            ]
            return self.store.put("security_group", _stamp({
                "id": group_id, "name": "default", "description": "Default security group",
                "tenant_id": project, "project_id": project, "stateful": True,
                "shared": False, "tags": [], "security_group_rules": rules,
            }))

    def _allocate_ips(self, network: Doc, requested: Any) -> list[dict[str, str]]:
        subnets = {s["id"]: s for s in self.store.all(
            "subnet", lambda s: s["network_id"] == network["id"])}
        if not subnets:
            return []
        used = {ip["ip_address"] for p in self.store.all(
            "port", lambda p: p["network_id"] == network["id"]) for ip in p["fixed_ips"]}
        wanted = requested or [{"subnet_id": next(iter(subnets))}]
        allocated = []
        for item in wanted:
            subnet = subnets.get(item.get("subnet_id")) if item.get("subnet_id") else next(
                iter(subnets.values()))
            if subnet is None:
                raise bad_request(f"fixed_ips subnet_id {item.get('subnet_id')} is not a "
                                  f"subnet of network {network['id']}")
            if item.get("ip_address"):
                address = item["ip_address"]
                if address in used:
                    raise HttpError(409, f"IP address {address} already allocated in subnet "
                                         f"{subnet['id']}")
            else:
                address = _free_address(subnet, used)
            used.add(address)
            allocated.append({"subnet_id": subnet["id"], "ip_address": address})
        return allocated

    def _visible(self, kind: str, doc_id: str, who: Identity) -> Doc:
        doc = self.store.get(kind, doc_id)
        if doc is None or not _can_see(doc, who):
            raise not_found(kind.replace("_", " ").title(), doc_id)
        return doc

    def _owned(self, kind: str, doc_id: str, who: Identity) -> Doc:
        doc = self._visible(kind, doc_id, who)
        if not (who.is_admin or doc["project_id"] == who.project_id):
            raise HttpError(403, f"You are not allowed to change {kind} {doc_id}.")
        return doc


def build_app(service: NetworkService, authority: TokenAuthority) -> JsonApp:
    app = JsonApp("network", authority)
    store = service.store

    def versions(request: webob.Request) -> dict[str, Any]:
        return {"versions": [{"id": "v2.0", "status": "CURRENT",
                              "links": [{"rel": "self",
                                         "href": f"{request.host_url}/v2.0/"}]}]}

    def v2(request: webob.Request) -> dict[str, Any]:
        return {"resources": [{"name": member, "collection": collection,
                               "links": [{"rel": "self", "href":
                                          f"{request.host_url}/v2.0/{collection}"}]}
                              for collection, member, _ in _RESOURCES]}

    def extensions(request: webob.Request) -> dict[str, Any]:
        return {"extensions": [{"alias": alias, "name": name, "description": text,
                                "links": [], "updated": "2013-01-01T00:00:00-00:00"}
                               for alias, name, text in EXTENSIONS]}

    def extension(request: webob.Request, alias: str) -> dict[str, Any]:
        for item in extensions(request)["extensions"]:
            if item["alias"] == alias:
                return {"extension": item}
        raise not_found("Extension", alias)

    def lister(collection: str, kind: str) -> Callable[[webob.Request], dict[str, Any]]:
        def list_docs(request: webob.Request) -> dict[str, Any]:
            who = identity_of(request)
            if kind == "security_group":
                service.default_security_group(who.project_id)
            docs = store.all(kind, lambda d: _can_see(d, who))
            return {collection.replace("-", "_"): _filtered(docs, request.GET)}
        return list_docs

    def shower(member: str, kind: str) -> Callable[..., dict[str, Any]]:
        def show(request: webob.Request, doc_id: str) -> dict[str, Any]:
            return {member: _fields(service._visible(kind, doc_id, identity_of(request)),
                                    request.GET.getall("fields"))}
        return show

    def deleter(kind: str) -> Callable[..., Reply]:
        def delete(request: webob.Request, doc_id: str) -> Reply:
            who = identity_of(request)
            doc = service._owned(kind, doc_id, who)
            with store.transaction():
                _check_unused(store, kind, doc)
                store.delete(kind, doc_id)
                if kind == "subnet":
                    store.update("network", doc["network_id"],
                                 lambda n: n["subnets"].remove(doc_id))
            return Reply(204)
        return delete

    def create_network(request: webob.Request) -> Reply:
        return Reply(201, {"network": service.create_network(
            identity_of(request), json_body(request, "network"))})

    def create_subnet(request: webob.Request) -> Reply:
        return Reply(201, {"subnet": service.create_subnet(
            identity_of(request), json_body(request, "subnet"))})

    def create_port(request: webob.Request) -> Reply:
        return Reply(201, {"port": service.create_port(
            identity_of(request), json_body(request, "port"))})

    def update_port(request: webob.Request, doc_id: str) -> dict[str, Any]:
        return {"port": service.update_port(identity_of(request), doc_id,
                                            json_body(request, "port"))}

    def update_network(request: webob.Request, doc_id: str) -> dict[str, Any]:
        who = identity_of(request)
        service._owned("network", doc_id, who)
        fields = _settable(json_body(request, "network"),
                           ("name", "admin_state_up", "description", "mtu"))
        return {"network": store.update("network", doc_id, lambda n: n.update(fields))}

    def create_security_group(request: webob.Request) -> Reply:
        who = identity_of(request)
        fields = json_body(request, "security_group")
        project = _project(who, fields)
        if not fields.get("name"):
            raise bad_request("a security group needs a name")
        group = _stamp({"id": str(uuid.uuid4()), "name": fields["name"],
                        "description": fields.get("description", ""), "tenant_id": project,
                        "project_id": project, "stateful": True, "shared": False,
                        "tags": [], "security_group_rules": []})
        return Reply(201, {"security_group": store.put("security_group", group)})

    def list_rules(request: webob.Request) -> dict[str, Any]:
        who = identity_of(request)
        rules = [rule for group in store.all("security_group", lambda d: _can_see(d, who))
                 for rule in group["security_group_rules"]]
        return {"security_group_rules": _filtered(rules, request.GET)}

    def quota(request: webob.Request, project_id: str) -> dict[str, Any]:
        identity_of(request)
        return {"quota": dict.fromkeys(("network", "subnet", "port", "router", "floatingip",
                                        "security_group", "security_group_rule",
                                        "subnetpool", "rbac_policy"), -1)}

    def nothing(collection: str) -> Callable[[webob.Request], dict[str, Any]]:
        def empty(request: webob.Request) -> dict[str, Any]:
            identity_of(request)
            return {collection: []}
        return empty

    app.route("GET", "/", versions, public=True)
    app.route("GET", "/v2.0", v2)
    app.route("GET", "/v2.0/extensions", extensions)
    app.route("GET", "/v2.0/extensions/{alias}", extension)
    for collection, member, kind in _RESOURCES:
        app.route("GET", f"/v2.0/{collection}", lister(collection, kind))
        app.route("GET", f"/v2.0/{collection}/{{doc_id}}", shower(member, kind))
        app.route("DELETE", f"/v2.0/{collection}/{{doc_id}}", deleter(kind))
    app.route("POST", "/v2.0/networks", create_network)
    app.route("PUT", "/v2.0/networks/{doc_id}", update_network)
    app.route("POST", "/v2.0/subnets", create_subnet)
    app.route("POST", "/v2.0/ports", create_port)
    app.route("PUT", "/v2.0/ports/{doc_id}", update_port)
    app.route("POST", "/v2.0/security-groups", create_security_group)
    app.route("GET", "/v2.0/security-group-rules", list_rules)
    app.route("GET", "/v2.0/quotas/{project_id}", quota)
    for collection in ("floatingips", "routers", "trunks", "segments", "qos/policies"):
        app.route("GET", f"/v2.0/{collection}", nothing(collection.split("/")[-1]))
    return app


def _bind(port: Doc, host: str | None) -> None:
    """Bound to a host: ACTIVE at once (no agent to wait for); unbound: DOWN."""
    if host is None:
        return
    port["binding:host_id"] = host
    if host:
        port.update({"binding:vif_type": VIF_TYPE_BOUND, "status": "ACTIVE",
                     "binding:vif_details": {"port_filter": False}})
    else:
        port.update({"binding:vif_type": "unbound", "status": "DOWN",
                     "binding:vif_details": {}})


def _check_unused(store: DocStore, kind: str, doc: Doc) -> None:
    if kind == "network":
        ports = store.all("port", lambda p: p["network_id"] == doc["id"]
                          and p["device_owner"].startswith("compute:"))
        if ports:
            raise HttpError(409, f"Unable to complete operation on network {doc['id']}. "
                                 f"There are one or more ports still in use on the network "
                                 f"(for example {ports[0]['id']}).")
        for subnet in doc["subnets"]:
            store.delete("subnet", subnet)
        for port in store.all("port", lambda p: p["network_id"] == doc["id"]):
            store.delete("port", port["id"])
    elif kind == "subnet":
        users = store.all("port", lambda p: any(ip["subnet_id"] == doc["id"]
                                               for ip in p["fixed_ips"]))
        if users:
            raise HttpError(409, f"Unable to complete operation on subnet {doc['id']}: one "
                                 f"or more ports have an IP allocation from this subnet.")
    elif kind == "security_group":
        if doc["name"] == "default":
            raise HttpError(409, "Removing default security group not allowed.")
        users = store.all("port", lambda p: doc["id"] in p["security_groups"])
        if users:
            raise HttpError(409, f"Security Group {doc['id']} in use.")


def _filtered(docs: list[Doc], params: Any) -> list[Doc]:
    for key in set(params.keys()) - _NOT_FILTERS:
        wanted = params.getall(key)
        if key == "fixed_ips":
            docs = [d for d in docs if any(_fixed_ip_matches(ip, wanted)
                                           for ip in d.get("fixed_ips", []))]
            continue
        docs = [d for d in docs if _text(d.get(key)) in wanted
                or (key == "tenant_id" and _text(d.get("project_id")) in wanted)]
    fields = params.getall("fields")
    return [_fields(d, fields) for d in docs]


def _fixed_ip_matches(ip: dict[str, str], wanted: list[str]) -> bool:
    for condition in wanted:
        key, _, value = condition.partition("=")
        if ip.get(key) != value:
            return False
    return True


def _fields(doc: Doc, fields: list[str]) -> Doc:
    return {k: v for k, v in doc.items() if k in fields} if fields else doc


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def _can_see(doc: Doc, who: Identity) -> bool:
    return who.is_admin or doc.get("project_id") == who.project_id or bool(doc.get("shared"))


def _project(who: Identity, fields: dict[str, Any]) -> str:
    project = fields.get("project_id") or fields.get("tenant_id") or who.project_id
    if project != who.project_id and not who.is_admin:
        raise HttpError(403, f"You may not create resources in project {project}.")
    return str(project)


def _settable(fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: fields[name] for name in names if name in fields}


def _free_address(subnet: Doc, used: set[str]) -> str:
    taken = used | {subnet.get("gateway_ip")}
    for pool in subnet["allocation_pools"]:
        start = int(ipaddress.IPv4Address(pool["start"]))
        end = int(ipaddress.IPv4Address(pool["end"]))
        for number in range(start, end + 1):
            address = str(ipaddress.IPv4Address(number))
            if address not in taken:
                return address
    raise HttpError(409, f"No more IP addresses available on subnet {subnet['id']}.")


def _mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


def _stamp(doc: Doc) -> Doc:
    now = _now()
    doc.update(created_at=now, updated_at=now, revision_number=1)
    return doc


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
