"""The stand-in compute driver of the local cloud until HyperVDriver can start.

nova's MediumFakeDriver with the changes a stand-in for a Hyper-V host needs:
- it poses as the profile's Hyper-V host to the scheduler: hypervisor type "hyperv", the
  profile's Windows version, and HyperVDriver's capabilities (hence its traits: VHDX
  images, Secure Boot, ...), so requests schedule as they will with the real driver.
  It has no NUMA topology and no PCI devices, so vNUMA and PCI flavors find no host;
- its VMs (name, power state, size) are kept in a file in the host's folder, so after a
  restart the servers nova lists are still on their host, in the same power state;
- its node identity is nova's default (`$state_path/compute_id`, the base class's
  `get_nodenames_by_uuid`), as a real single-node driver's is, instead of the fake's
  per-process random ids, so a restarted nova-compute finds its compute node again.

nova loads it as `compute_driver = nova_hyperv_cloud.PersistentFakeDriver` through the
`nova.virt.nova_hyperv_cloud` alias that `computes.register_driver_alias` installs in the
cloud's process (nova 34 looks drivers up under nova.virt only).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from nova.objects import fields
from nova.virt import driver, fake
from oslo_utils import versionutils

from nova_hyperv.driver import HyperVDriver

#: Where host folders are (<state>/hosts); set by the cloud before computes start.
HOSTS_DIR: Path | None = None
#: The Windows version of the hosts' profile (Win32_OperatingSystem.Version).
WINDOWS_VERSION = "10.0.20348"
STATE_FILE = "fake-vms.json"


class PersistentFakeDriver(fake.MediumFakeDriver):
    capabilities = dict(HyperVDriver.capabilities)
    get_nodenames_by_uuid = driver.ComputeDriver.get_nodenames_by_uuid

    def __init__(self, virtapi: Any, read_only: bool = False) -> None:
        super().__init__(virtapi, read_only)
        self._state_file: Path | None = None
        self._save_lock = threading.Lock()
        self._sizes: dict[str, tuple[int, int, int]] = {}
        self._started = time.monotonic()
        self.host_status_base.update(
            hypervisor_type=fields.HVType.HYPERV,
            hypervisor_version=versionutils.convert_version_to_int(WINDOWS_VERSION),
            supported_instances=[(fields.Architecture.X86_64, fields.HVType.HYPERV,
                                  fields.VMMode.HVM)],
        )

    def init_host(self, host: str) -> None:
        super().init_host(host)
        self.host_status_base["hypervisor_hostname"] = host
        if HOSTS_DIR is None:
            raise RuntimeError("PersistentFakeDriver.HOSTS_DIR is not set: this driver "
                               "belongs to `nova-hyperv cloud`")
        folder = HOSTS_DIR / host
        folder.mkdir(parents=True, exist_ok=True)
        self._state_file = folder / STATE_FILE
        if self._state_file.exists():
            for uuid, vm in json.loads(self._state_file.read_text()).items():
                self.instances[uuid] = fake.FakeInstance(vm["name"], vm["state"], uuid)
                size = (vm["vcpus"], vm["memory_mb"], vm["root_gb"])
                self._sizes[uuid] = size
                self.resources.claim(vcpus=size[0], mem=size[1], disk=size[2])

    def get_host_uptime(self) -> str:
        # What `uptime` prints, which is what nova shows for a hypervisor.
        seconds = int(time.monotonic() - self._started)
        return f"up {seconds // 60} min, load average: 0.00, 0.00, 0.00"

    def get_available_resource(self, nodename: str) -> dict[str, Any]:
        resources = super().get_available_resource(nodename)
        # The fake's own per-process node uuid would hide nova's persistent one.
        resources.pop("uuid", None)
        return resources

    # Everything that changes the set of VMs or their power state is saved at once.
    def spawn(self, context: Any, instance: Any, *args: Any, **kwargs: Any) -> None:
        super().spawn(context, instance, *args, **kwargs)
        flavor = instance.flavor
        self._sizes[instance.uuid] = (flavor.vcpus, flavor.memory_mb, flavor.root_gb)
        self._save()

    def destroy(self, context: Any, instance: Any, *args: Any, **kwargs: Any) -> None:
        super().destroy(context, instance, *args, **kwargs)
        self._sizes.pop(instance.uuid, None)
        self._save()

    def power_off(self, instance: Any, timeout: int = 0, retry_interval: int = 0) -> None:
        super().power_off(instance, timeout, retry_interval)
        self._save()

    def power_on(self, context: Any, instance: Any, *args: Any, **kwargs: Any) -> None:
        super().power_on(context, instance, *args, **kwargs)
        self._save()

    def _save(self) -> None:
        if self._state_file is None:
            return
        with self._save_lock:
            vms = {}
            for uuid, vm in list(self.instances.items()):
                vcpus, memory_mb, root_gb = self._sizes.get(uuid, (0, 0, 0))
                vms[uuid] = {"name": vm.name, "state": vm.state, "vcpus": vcpus,
                             "memory_mb": memory_mb, "root_gb": root_gb}
            partial = self._state_file.with_suffix(".tmp")
            with open(partial, "w") as stream:
                json.dump(vms, stream, indent=1)
                stream.flush()
                os.fsync(stream.fileno())
            partial.replace(self._state_file)
