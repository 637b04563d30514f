"""The service catalog: where each service of the cloud answers, as Keystone v3 lists it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nova_hyperv.cloud.settings import LISTEN_ADDRESS

REGION = "RegionOne"

# service -> (catalog type, name, path below the root of its port)
_SERVICES: Mapping[str, tuple[str, str, str]] = {
    "identity": ("identity", "keystone", "/v3"),
    "compute": ("compute", "nova", "/v2.1"),
    "image": ("image", "glance", ""),
    "network": ("network", "neutron", ""),
    # Cinder's endpoint names the project, as Keystone catalogs list it.
    "volume": ("volumev3", "cinderv3", "/v3/{project_id}"),
    "placement": ("placement", "placement", ""),
    "key-manager": ("key-manager", "barbican", ""),
}


def root_url(port: int) -> str:
    return f"http://{LISTEN_ADDRESS}:{port}"


def endpoint_url(service: str, port: int, project_id: str) -> str:
    path = _SERVICES[service][2].format(project_id=project_id)
    return root_url(port) + path


def build_catalog(ports: Mapping[str, int], project_id: str) -> list[dict[str, Any]]:
    """The catalog for a token scoped to `project_id`: one entry per service."""
    catalog = []
    for service, port in ports.items():
        kind, name, _ = _SERVICES[service]
        url = endpoint_url(service, port, project_id)
        catalog.append({
            "id": f"{service}-service",
            "type": kind,
            "name": name,
            "endpoints": [
                {"id": f"{service}-{interface}", "interface": interface, "region": REGION,
                 "region_id": REGION, "url": url}
                for interface in ("public", "internal", "admin")
            ],
        })
    return catalog
