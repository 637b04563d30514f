"""The nova-computes of the cloud: which driver they load, and what each host needs first.

One nova-compute per emulated host, all in this process. Before each starts:
- `prepare_compute_host` makes the host exist. For HyperVDriver that is an emulated
  Hyper-V host state file in the host's folder (created once from the profile, reused on
  every later start) and `[hyperv] host_uri = emulated://<that file>`, which the driver
  reads when nova creates it. The stand-in fake driver needs only its folder.
- nova 34 keeps ONE node identity per process (`$state_path/compute_id`,
  nova.virt.node), because it runs one nova-compute per process. The first host uses it
  unchanged; hosts 2..N of a driver that relies on it get their own, kept in their
  folder (`give_own_node_identity`), or they would all claim the first host's node.
- nova 34 has one `[DEFAULT] instances_path` per process too. Hosts 2..N get their own
  (`own_instances_path`, in their folder), set before their driver is created (which
  reads it then): separate hosts' files, as cold migration between them expects.
  The functional tests' hosts use both the same way.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nova_hyperv.cloud.settings import CloudSettings
from nova_hyperv.cloud.statedir import StateDir

if TYPE_CHECKING:
    from hyperv_emulator.profiles import HostProfile

ALIAS = "nova.virt.nova_hyperv_cloud"
EMULATED_HOST_FILE = "hyperv-host.db"
NODE_ID_FILE = "compute_id"
INSTANCES_DIR = "instances"


def register_driver_alias(state: StateDir, profile: HostProfile) -> None:
    """Let nova load `nova_hyperv_cloud.PersistentFakeDriver` (nova.virt only), sized
    and versioned as a host of `profile`."""
    from nova_hyperv.cloud import fake_driver

    fake_driver.HOSTS_DIR = state.root / "hosts"
    fake_driver.WINDOWS_VERSION = profile.windows_version
    driver = fake_driver.PersistentFakeDriver
    driver.vcpus = profile.logical_processors
    driver.memory_mb = profile.memory_mb
    driver.local_gb = profile.local_disk_gb
    sys.modules.setdefault(ALIAS, fake_driver)


def emulated_hostname(host: str) -> str:
    """The Windows computer name of a host (15 characters at most, as NetBIOS wants)."""
    return host.upper()[:15]


def prepare_compute_host(settings: CloudSettings, state: StateDir, host: str,
                         create_host: Callable[[Path, str, str], None] | None = None
                         ) -> dict[str, str]:
    """Make `host` ready for its nova-compute; returns the [hyperv] options it needs."""
    folder = state.host(host)
    folder.mkdir(parents=True, exist_ok=True)
    if not settings.uses_hyperv_driver:
        return {}
    path = folder / EMULATED_HOST_FILE
    if not path.exists():
        (create_host or create_emulated_host)(path, settings.profile, emulated_hostname(host))
    return {"host_uri": f"emulated://{path}"}


def create_emulated_host(path: Path, profile: str, hostname: str) -> None:
    """A fresh emulated Hyper-V host of `profile`, named `hostname`, kept in `path`."""
    from hyperv_emulator.profiles import load_profile

    try:
        from hyperv_emulator.host import init_host  # the emulated host library's entry
    except ImportError as error:
        raise RuntimeError(
            "HyperVDriver needs an emulated Hyper-V host, and this installation's "
            f"hyperv_emulator cannot create one yet ({error}); run the cloud with the "
            "default compute driver"
        ) from error
    init_host(path, load_profile(profile).replace(hostname=hostname))


def own_instances_path(folder: Path) -> Path:
    """The instances_path of a host after the first (its own, in its folder)."""
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
