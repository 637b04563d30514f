"""The nova-computes of the cloud: one per emulated Hyper-V host, each with its own files.

All computes run in this process and load `hyperv.HyperVDriver`. Before each starts,
`prepare_compute_host` makes its host exist and says what its driver must see when nova
creates it (the driver reads both once, when it is created):
- `[hyperv] host_uri = emulated://<hosts/<host>/hyperv-host.db>`: the host's state file,
  created once from the host's profile and reused as it is on every later start (a
  host keeps the profile it was made with);
- `instances_path = hosts/<host>/instances`: each host its own instance files and
  image cache, as separate machines would have;
and the host reaches the volume service's SMB share (`\\\\cloud\\volumes`, the
cloud's volumes/ folder), where Hyper-V opens SMB volumes.
nova 34 keeps ONE node identity per process (`$state_path/compute_id`, nova.virt.node),
because it runs one nova-compute per process. The first host uses it unchanged; hosts
2..N get their own, kept in their folder (`give_own_node_identity`), or they would all
claim the first host's node.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nova_hyperv.cloud.settings import CloudSettings, resolve_profile
from nova_hyperv.cloud.statedir import StateDir

EMULATED_HOST_FILE = "hyperv-host.db"
INSTANCES_DIR = "instances"
NODE_ID_FILE = "compute_id"


def emulated_hostname(host: str) -> str:
    """The Windows computer name of a host (15 characters at most, as NetBIOS wants)."""
    return host.upper()[:15]


def host_state_file(state: StateDir, host: str) -> Path:
    return state.host(host) / EMULATED_HOST_FILE


def prepare_compute_host(settings: CloudSettings, state: StateDir, host: str
                         ) -> dict[str, dict[str, str]]:
    """Make `host` ready for its nova-compute; returns the options its driver needs,
    by group ("DEFAULT", "hyperv")."""
    folder = state.host(host)
    instances = own_instances_path(folder)
    instances.mkdir(parents=True, exist_ok=True)
    path = host_state_file(state, host)
    if not path.exists():
        create_emulated_host(path, settings.profile_of(host), emulated_hostname(host))
    reach_volume_share(path, state.volumes)
    return {"DEFAULT": {"instances_path": str(instances)},
            "hyperv": {"host_uri": f"emulated://{path}"}}


def reach_volume_share(path: Path, volumes: Path) -> None:
    """Put the volume service's share on the host's network (once), backed by the
    cloud's volumes folder: Hyper-V opens SMB volumes by their UNC path."""
    from hyperv_emulator import open_host
    from nova_hyperv.cloud.volumes import SHARE

    storage = open_host(path).storage
    if SHARE.lower() not in {share.lower() for share in storage.smb_shares()}:
        volumes.mkdir(parents=True, exist_ok=True)
        storage.add_smb_share(SHARE, str(volumes))


def create_emulated_host(path: Path, profile: str, hostname: str) -> None:
    """A fresh emulated Hyper-V host of `profile`, named `hostname`, kept in `path`."""
    from hyperv_emulator import init_host
    from hyperv_emulator.profiles import load_profile

    init_host(path, load_profile(resolve_profile(profile)).replace(hostname=hostname))


def describe_host(state: StateDir, host: str) -> str:
    """What the host's emulated Windows is and offers, in a few words."""
    from hyperv_emulator import open_host

    profile = open_host(host_state_file(state, host)).profile
    offers = [f"{profile.caption} ({profile.windows_version})"]
    if profile.guarded:
        offers.append("guarded")
    offers += [f"RemoteFX GPU {gpu.name}" for gpu in profile.remotefx_gpus]
    if profile.assignable_devices:
        offers.append(f"{len(profile.assignable_devices)} PCI device(s) for DDA ("
                      + ", ".join(sorted({f"{d.vendor_id}:{d.product_id}".lower()
                                          for d in profile.assignable_devices})) + ")")
    return ", ".join(offers)


def own_instances_path(folder: Path) -> Path:
    """A host's own instances_path, in its folder (the cloud's hosts; the functional
    tests' hosts after the first)."""
    return folder / INSTANCES_DIR


def give_own_node_identity(driver: Any, folder: Path) -> str | None:
    """A node uuid of the host's own for a driver that uses nova's per-process one.

    Returns the uuid, or None when the driver has its own `get_nodenames_by_uuid` (then
    it knows its nodes and nothing is changed).
    """
    from nova.virt.driver import ComputeDriver

    if type(driver).get_nodenames_by_uuid is not ComputeDriver.get_nodenames_by_uuid:
        return None
    path = folder / NODE_ID_FILE
    if not path.exists():
        path.write_text(str(uuid.uuid4()))
    node_uuid = str(uuid.UUID(path.read_text().strip()))
    plain_resources = driver.get_available_resource

    def nodenames_by_uuid(refresh: bool = False) -> dict[str, str]:
        return {node_uuid: driver.get_available_nodes(refresh)[0]}

    def available_resource(nodename: str) -> dict[str, Any]:
        # The resource tracker takes the node uuid from here, else from nova.virt.node.
        return {**plain_resources(nodename), "uuid": node_uuid}

    driver.get_nodenames_by_uuid = nodenames_by_uuid
    driver.get_available_resource = available_resource
    return node_uuid


class _AnyOf(str):
    """A host name that equals every host of this process (compared as nova does)."""

    hosts: frozenset[str] = frozenset()

    def __eq__(self, other: object) -> bool:
        return other in self.hosts or str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


class _ConfWithLocalHosts:
    """nova's CONF, but its `host` is every compute host of this process."""

    def __init__(self, conf: Any, host: str) -> None:
        self._conf = conf
        self.host = host

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conf, name)


def treat_computes_as_local(hosts: Iterable[str]) -> None:
    """nova detaches a volume from the driver only where `CONF.host ==
    instance.host` (nova.virt.block_device), which in a process of several computes
    is true for none of them (CONF.host is the controller's name). The computes of
    this process all hold their own instances, so there every compute host is local."""
    from nova.virt import block_device

    conf = block_device.CONF
    real = conf._conf if isinstance(conf, _ConfWithLocalHosts) else conf
    local = _AnyOf(real.host)
    local.hosts = frozenset(hosts)
    block_device.CONF = _ConfWithLocalHosts(real, local)
