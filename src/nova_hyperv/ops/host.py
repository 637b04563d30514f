"""The compute node: the connection to the host, its resources, traits and uptime.

Everything here is per host and costs a fixed number of round trips: the host's
description is read once per resource-tracker period (get_available_resource) and
reused by update_provider_tree and the spawn path. Disk space is the file system of
instances_path (the driver runs on the host).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import threading
from typing import Any

import os_resource_classes as orc
import os_traits
from nova import exception, objects
from nova.compute import utils as compute_utils
from nova.objects import fields as obj_fields
from oslo_serialization import jsonutils

from nova_hyperv import cim
from nova_hyperv.conf import HostUri
from nova_hyperv.hyperv import HostInfo, HyperVClient
from nova_hyperv.ops import request as nova_request
from nova_hyperv.rules.remotefx import REMOTEFX_TRAIT, host_offers_remotefx

__all__ = ["MIN_WINDOWS", "VTPM_TRAITS", "HostOps"]

MIN_WINDOWS = (6, 2, 0)  # Windows / Hyper-V Server 2012, as compute-hyperv required
GEN2_WINDOWS = (6, 3, 0)
VTPM_WINDOWS = (10, 0, 0)
# Hyper-V's virtual TPM is a TPM 2.0; nova's scheduler asks for a version trait and an
# interface trait (TIS unless the flavor or image says CRB). Hyper-V does not let the
# interface be chosen, so a guarded host reports both.
VTPM_TRAITS = (os_traits.COMPUTE_SECURITY_TPM_2_0, os_traits.COMPUTE_SECURITY_TPM_TIS,
               os_traits.COMPUTE_SECURITY_TPM_CRB)


def _cim_datetime(text: str | None) -> datetime.datetime | None:
    """A CIM datetime (yyyymmddHHMMSS.mmmmmm+UUU) as an aware datetime."""
    if not text or len(text) < 21:
        return None
    try:
        stamp = datetime.datetime.strptime(text[:21], "%Y%m%d%H%M%S.%f")
        offset = int(text[21:25] or 0) * (-1 if text[21:22] == "-" else 1) \
            if len(text) >= 25 else 0
    except ValueError:
        return None
    return stamp.replace(tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)))


def uptime_text(last_boot: datetime.datetime | None,
                now: datetime.datetime | None = None) -> str:
    """`uptime`'s format, which nova's os-hypervisors API shows."""
    now = now or datetime.datetime.now(datetime.UTC)
    up = max(datetime.timedelta(0), now - last_boot) if last_boot else datetime.timedelta(0)
    days, rest = up.days, up.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    span = f"{days} day{'s' if days != 1 else ''}, {hours:2d}:{minutes:02d}" if days \
        else f"{hours:2d}:{minutes:02d}"
    return (f" {now.strftime('%H:%M:%S')} up {span},  0 users,  "
            "load average: 0.00, 0.00, 0.00")


class HostOps:
    def __init__(self, host_uri: HostUri, conf: Any) -> None:
        self.host_uri = host_uri
        self.conf = conf
        # Read once, like host_uri: several computes in one process (functional tests,
        # the local cloud) each keep the instances_path set when they were created.
        self.instances_path = str(conf.instances_path)
        self._lock = threading.Lock()
        self._client: HyperVClient | None = None

    @property
    def client(self) -> HyperVClient:
        with self._lock:
            if self._client is None:
                session = cim.connect(self.host_uri.scheme, self.host_uri.path)
                self._client = HyperVClient(session)
            return self._client

    def counting(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """Count the CIM round trips of a driver operation under its name (when the
        adapter counts: the emulated host; PyMI on Windows does not)."""
        with self._lock:
            client = self._client
        if client is None:
            return contextlib.nullcontext()
        return cim.count_round_trips(client.session, name)

    def init_host(self) -> HostInfo:
        info = self.client.host(refresh=True)
        if info.windows_version < MIN_WINDOWS:
            raise exception.HypervisorTooOld(version=".".join(map(str, MIN_WINDOWS[:2])))
        os.makedirs(self.instances_path, exist_ok=True)
        return info

    def info(self) -> HostInfo:
        return self.client.host()

    def nodename(self) -> str:
        return self.info().hostname

    # -- resources -----------------------------------------------------------------

    def _disk_gb(self) -> tuple[int, int]:
        os.makedirs(self.instances_path, exist_ok=True)
        usage = shutil.disk_usage(self.instances_path)
        return usage.total >> 30, usage.used >> 30

    def _numa_topology(self, info: HostInfo) -> objects.NUMATopology:
        cells, first = [], 0
        for node in info.nodes:
            cpus = set(range(first, first + node.logical_processors))
            first += node.logical_processors
            cells.append(objects.NUMACell(
                id=node.id, cpuset=cpus, pcpuset=set(), memory=node.memory_mb,
                cpu_usage=0, memory_usage=0, pinned_cpus=set(),
                # Nova's NUMA accounting counts memory in pages; Hyper-V gives VMs 4 KiB
                # pages (no huge pages to request).
                mempages=[objects.NUMAPagesTopology(size_kb=4, total=node.memory_mb * 256,
                                                    used=0, reserved=0)],
                siblings=[], socket=None, network_metadata=objects.NetworkMetadata(
                    physnets=set(), tunneled=False),
            ))
        return objects.NUMATopology(cells=cells)

    def available_resource(self) -> dict[str, Any]:
        info = self.client.host(refresh=True)
        total_gb, used_gb = self._disk_gb()
        cpu_info = {
            "vendor": info.processor_vendor, "model": info.processor_name,
            "arch": obj_fields.Architecture.X86_64, "features": [],
            "topology": {"sockets": info.sockets,
                         "cores": max(1, info.cores // max(1, info.sockets)),
                         "threads": max(1, info.logical_processors // max(1, info.cores))},
        }
        pci = [{
            "address": device.address, "vendor_id": device.vendor_id,
            "product_id": device.product_id, "dev_id": device.instance_path,
            "dev_type": obj_fields.PciDeviceType.STANDARD, "numa_node": None,
            "label": f"label_{device.vendor_id}_{device.product_id}",
        } for device in info.pci_devices if device.address]
        return {
            "vcpus": info.logical_processors,
            "memory_mb": info.memory_mb,
            "memory_mb_used": info.memory_mb - info.free_memory_mb,
            "local_gb": total_gb,
            "local_gb_used": used_gb,
            "disk_available_least": total_gb - used_gb,
            "vcpus_used": 0,
            "hypervisor_type": obj_fields.HVType.HYPERV,
            "hypervisor_version": info.hypervisor_version,
            "hypervisor_hostname": info.hostname,
            "cpu_info": jsonutils.dumps(cpu_info),
            "supported_instances": [(obj_fields.Architecture.X86_64,
                                     obj_fields.HVType.HYPERV, obj_fields.VMMode.HVM)],
            "numa_topology": self._numa_topology(info)._to_json(),
            "pci_passthrough_devices": jsonutils.dumps(pci),
        }

    def inventory(self, ratios: dict[str, float], reserved_disk_gb: int) -> dict[str, Any]:
        info = self.info()
        total_gb, _ = self._disk_gb()

        def entry(total: int, ratio: float, reserved: int) -> dict[str, Any]:
            return {"total": total, "min_unit": 1, "max_unit": total, "step_size": 1,
                    "allocation_ratio": ratio, "reserved": reserved}

        return {
            orc.VCPU: entry(info.logical_processors, ratios[orc.VCPU],
                            self.conf.reserved_host_cpus),
            orc.MEMORY_MB: entry(info.memory_mb, ratios[orc.MEMORY_MB],
                                 self.conf.reserved_host_memory_mb),
            orc.DISK_GB: entry(total_gb, ratios[orc.DISK_GB], reserved_disk_gb),
        }

    def traits(self) -> dict[str, bool]:
        """Host-dependent traits: present (True) or to be removed (False)."""
        info = self.info()
        vtpm = info.facts.guarded and info.windows_version >= VTPM_WINDOWS
        remotefx = host_offers_remotefx(info.facts, nova_request.hyperv_config(self.conf))
        return {**dict.fromkeys(VTPM_TRAITS, vtpm), REMOTEFX_TRAIT: remotefx}

    def capabilities(self, base: dict[str, bool]) -> dict[str, bool]:
        """The class's capabilities, narrowed to what this host's Windows offers."""
        info = self.info()
        found = dict(base)
        found["supports_secure_boot"] = base.get("supports_secure_boot", False) and \
            info.windows_version >= GEN2_WINDOWS
        found["supports_vtpm"] = base.get("supports_vtpm", False) and \
            info.facts.guarded and info.windows_version >= VTPM_WINDOWS
        return found

    def uptime(self) -> str:
        return uptime_text(_cim_datetime(self.info().last_boot))

    @staticmethod
    def reserved_disk_gb(reserved_host_disk_mb: int) -> int:
        return compute_utils.convert_mb_to_ceil_gb(reserved_host_disk_mb)
