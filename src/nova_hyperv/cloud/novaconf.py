"""nova.conf and api-paste.ini for the local cloud, rendered for its folder and ports.

Both are written to <state>/etc on every start (so they always match the ports and paths
of this run) and nova reads them from there; they are meant to be read by people too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from configparser import ConfigParser
from io import StringIO

from nova_hyperv.cloud.catalog import root_url
from nova_hyperv.cloud.settings import COMPUTE_DRIVER, LISTEN_ADDRESS
from nova_hyperv.cloud.statedir import StateDir

#: The PCI devices the computes may pass through ([pci] device_spec) and the alias the
#: "hv.pci" flavor asks for: an NVIDIA Tesla T4, a card used with Discrete Device
#: Assignment. A host offers it only if its profile lists such a device dismounted for
#: DDA (the ws2022-dda host file has two).
PCI_DEVICE_SPECS = ({"vendor_id": "10de", "product_id": "1eb8"},)
PCI_ALIASES = ({"name": "gpu", "vendor_id": "10de", "product_id": "1eb8",
                "device_type": "type-PCI"},)
#: nova's default filters, and the two that send vNUMA and PCI flavors to a host that
#: can hold them (without them nova's claim on the chosen compute fails and retries).
SCHEDULER_FILTERS = ("ComputeFilter", "ComputeCapabilitiesFilter", "ImagePropertiesFilter",
                     "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter",
                     "NUMATopologyFilter", "PciPassthroughFilter")
CONTROLLER_HOST = "cloud-controller"


def sqlite_url(state: StateDir, name: str) -> str:
    return f"sqlite:///{state.database(name)}"


def render_nova_conf(state: StateDir, ports: Mapping[str, int], service_token: str) -> str:
    """nova.conf: fake (in-process) RPC, SQLite databases, our services' endpoints.

    nova reaches the placement, network and volume services with the cloud's `nova`
    account's token (keystoneauth's admin_token plugin), and the image service with the
    token of the user who asked, as it would with Keystone.
    """
    conf = ConfigParser(interpolation=None)
    conf.optionxform = str  # type: ignore[assignment,method-assign]
    admin_token = {"auth_type": "admin_token", "token": service_token}
    sections: dict[str, dict[str, object]] = {
        "DEFAULT": {
            "host": CONTROLLER_HOST,
            "my_ip": LISTEN_ADDRESS,
            "state_path": str(state.nova),
            "compute_driver": COMPUTE_DRIVER,
            "transport_url": "fake:/",
            "log_file": str(state.log),
            "use_stderr": False,
            "debug": False,
            # The computes discover nothing to resume; guests are what the host says.
            "resume_guests_state_on_host_boot": False,
            "instance_usage_audit": False,
            "heal_instance_info_cache_interval": -1,
            # Ctrl-C lets operations in flight finish: nova waits up to
            # manager_shutdown_timeout minus the 10 s it keeps for the driver's
            # cleanup_host.
            "graceful_shutdown_timeout": 60,
            "manager_shutdown_timeout": 40,
            "default_log_levels": ",".join((
                "amqp=WARN", "oslo.messaging=WARN", "oslo_messaging=WARN",
                "sqlalchemy=WARN", "stevedore=WARN", "keystoneauth=WARN",
                "urllib3=WARN", "cheroot=WARN", "glanceclient=WARN",
                "oslo_policy=WARN", "oslo.privsep.daemon=INFO", "alembic=WARN")),
        },
        "api_database": {"connection": sqlite_url(state, "nova_api")},
        "database": {"connection": sqlite_url(state, "nova_cell1")},
        "wsgi": {"api_paste_config": str(state.etc / "api-paste.ini")},
        "api": {"auth_strategy": "keystone"},
        "oslo_concurrency": {"lock_path": str(state.nova / "locks")},
        "oslo_messaging_notifications": {"driver": "noop"},
        "notifications": {"notification_format": "unversioned"},
        "oslo_policy": {"enforce_scope": True, "enforce_new_defaults": True},
        "conductor": {"workers": 1},
        "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
        "filter_scheduler": {"enabled_filters": ",".join(SCHEDULER_FILTERS)},
        # nova's image-cache pass finds the instances sharing a cache by CONF.host and
        # CONF.instances_path, which in this one process are the controller's, not the
        # computes': it would see no instance using any image. So it is off here.
        "image_cache": {"manager_interval": -1},
        # One machine's demo: no per-project limits on servers, vCPUs or memory (the
        # hosts' inventories still bound them).
        "quota": {"instances": -1, "cores": -1, "ram": -1},
        # RemoteFX flavors where the host can run them (the driver reports the
        # CUSTOM_HYPERV_REMOTEFX trait only there; hv.remotefx requires it).
        "hyperv": {"enable_remotefx": True},
        "glance": {"endpoint_override": root_url(ports["image"]), "num_retries": 1},
        "neutron": {**admin_token, "endpoint": root_url(ports["network"]),
                    "endpoint_override": root_url(ports["network"]),
                    "service_metadata_proxy": False},
        "cinder": {**admin_token, "endpoint": root_url(ports["volume"]),
                   "endpoint_template": root_url(ports["volume"]) + "/v3/%(project_id)s",
                   "os_region_name": "RegionOne"},
        "placement": {**admin_token, "endpoint": root_url(ports["placement"]),
                      "endpoint_override": root_url(ports["placement"])},
        "keystone": {**admin_token, "endpoint": root_url(ports["identity"]) + "/v3",
                     "endpoint_override": root_url(ports["identity"]) + "/v3"},
        # The shielding data (PDK) of shielded VMs: the driver reads it from the key
        # manager with the requesting user's token (castellan's [barbican] options).
        "barbican": {"barbican_endpoint": root_url(ports["key-manager"]),
                     "barbican_region_name": "RegionOne"},
        "service_user": {"send_service_user_token": False},
        "pci": {"device_spec": [json.dumps(spec) for spec in PCI_DEVICE_SPECS],
                "alias": [json.dumps(alias) for alias in PCI_ALIASES]},
        "vnc": {"enabled": False},
        "spice": {"enabled": False},
        "serial_console": {"enabled": False},
        "compute": {"consecutive_build_service_disable_threshold": 0},
    }
    for name, values in sections.items():
        if name != "DEFAULT":
            conf.add_section(name)
        for key, value in values.items():
            if isinstance(value, list):
                # MultiStrOpt: oslo.config reads repeated keys; ConfigParser cannot write
                # them, so they are joined below.
                conf.set(name, key, "\n".join(value))
            else:
                conf.set(name, key, _text(value))
    out = StringIO()
    out.write("# Generated by `nova-hyperv cloud` on every start; edits are overwritten.\n")
    conf.write(out)
    return _repeat_multiline_keys(out.getvalue())


def render_api_paste_ini(state: StateDir) -> str:
    """nova's v2.1 API behind the cloud's token check (DEMO ONLY) instead of authtoken."""
    return f"""\
# Generated by `nova-hyperv cloud`. nova's own api-paste.ini, with keystonemiddleware's
# authtoken replaced by the local cloud's token check (nova_hyperv.cloud.nova_auth):
# demo only, served on {LISTEN_ADDRESS} only.
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21

[pipeline:openstack_compute_api_v21]
pipeline = http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit
    cloud_token keystonecontext osapi_compute_app_v21

[pipeline:oscomputeversions]
pipeline = faultwrap request_log http_proxy_to_wsgi oscomputeversionapp

[pipeline:oscomputeversion_v2]
pipeline = compute_req_id faultwrap request_log http_proxy_to_wsgi oscomputeversionapp_v2

[filter:cloud_token]
paste.filter_factory = nova_hyperv.cloud.nova_auth:paste_filter_factory
state_dir = {state.root}
ports_file = {state.etc / "ports.json"}

[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory

[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory

[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory

[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory

[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
"""


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _repeat_multiline_keys(text: str) -> str:
    # ConfigParser writes "key = a\n\tb"; oslo.config wants "key = a\nkey = b".
    lines, key = [], None
    for line in text.splitlines():
        if line.startswith("\t") and key:
            lines.append(f"{key} = {line.strip()}")
            continue
        key = line.split("=", 1)[0].strip() if "=" in line else None
        lines.append(line)
    return "\n".join(lines) + "\n"
