"""The emulated hosts the benchmarks run on.

`PROFILE` is a Windows Server 2022 host with two host disks (the LUNs the volume
operations pass through). `new_host` makes a fresh one: every driver of a round-trip
run gets its own, of the same profile.

`scale_host(n)` is a host already holding `n` Nova instances, built straight through
the emulator's session API (a few calls per VM, no os-win, nothing counted) and kept
in a cache folder: the build depends only on `n`, the emulator's source and this
module's, so a later run with the same code reuses it. Each run works on its own copy.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import hyperv_emulator
import vhdfile
from bench.flows import InstanceSpec, Nic
from hyperv_emulator import init_host
from hyperv_emulator.host import Host
from hyperv_emulator.instances import Instance
from hyperv_emulator.profiles import PRESETS, HostDisk, NumaNode
from hyperv_emulator.session import Session

VOLUME_DISKS = (3, 4)

PROFILE = PRESETS["ws2022"].replace(
    disks=tuple(HostDisk(n, 20 * 2**30, f"BENCH-LUN-{n}") for n in VOLUME_DISKS),
)

# A host big enough for a third of 1000 VMs of 512 MB to run (2 x 128 GB).
SCALE_PROFILE = PRESETS["ws2022"].replace(
    numa_nodes=(NumaNode(131072, 16), NumaNode(131072, 16)),
)
SCALE_VM_MEMORY_MB = 512
RUNNING_EVERY = 3  # every third VM runs; the others are off


def new_host(state: Path) -> Host:
    state.parent.mkdir(parents=True, exist_ok=True)
    return init_host(state, PROFILE, overwrite=True)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("NOVA_HYPERV_BENCH_CACHE", Path(base) / "nova-hyperv-bench"))


def build_fingerprint() -> str:
    """A digest of the emulator's source and of this builder: a cached host is reused
    only by the same code."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    root = Path(hyperv_emulator.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class ScaleHost:
    state: Path  # the cached state file (copy it before use: `copy_to`)
    disks: Path  # the instances' folders and root disks
    instances: tuple[InstanceSpec, ...]

    def copy_to(self, target: Path) -> Path:
        """A private copy of the state file (SQLite's backup: consistent whatever the WAL)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        with sqlite3.connect(self.state) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        return target


def scale_instance(number: int, disks: Path) -> InstanceSpec:
    """The n-th instance of a scale host: generation 1 (compute-hyperv's default), a
    dynamic VHD root on IDE, one NIC on the vSwitch, COM1 to a pipe."""
    name = f"instance-{number:05d}"
    directory = disks / name
    return InstanceSpec(
        name=name, uuid=str(uuid.UUID(int=number + 1, version=4)), generation=1,
        memory_mb=SCALE_VM_MEMORY_MB, vcpus=1, directory=directory,
        root=directory / "root.vhd",
        nics=(Nic(f"port-{number:05d}", f"fa:16:3e:{number >> 16 & 0xFF:02x}:"
                                        f"{number >> 8 & 0xFF:02x}:{number & 0xFF:02x}"),),
    )


def scale_host(count: int, cache_dir: Path | None = None) -> ScaleHost:
    """The cached host with `count` instances; built (and cached) when missing."""
    cache = cache_dir or default_cache_dir()
    stem = f"scale-{count}-{build_fingerprint()}"
    state = cache / f"{stem}.db"
    manifest = cache / f"{stem}.json"
    disks = cache / f"{stem}.disks"
    if not (state.exists() and manifest.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        # Built in place (an emulated host keeps sibling folders named after its state
        # file, so it cannot be renamed): the manifest, written last, marks it complete.
        _remove(state, disks)
        try:
            _build(state, [scale_instance(n, disks) for n in range(count)])
        except BaseException:
            _remove(state, disks)
            raise
        manifest.write_text(json.dumps({"count": count, "disks": str(disks)}))
        _prune(cache, count, keep=stem)
    recorded = Path(json.loads(manifest.read_text())["disks"])
    return ScaleHost(state, recorded, tuple(scale_instance(n, recorded) for n in range(count)))


def _remove(*paths: Path) -> None:
    """Remove each path and whatever beside it shares its name (SQLite's -wal and -shm)."""
    for path in paths:
        for found in path.parent.glob(glob.escape(path.name) + "*"):
            if found.is_dir():
                shutil.rmtree(found)
            else:
                found.unlink(missing_ok=True)


def _prune(cache: Path, count: int, keep: str) -> None:
    """Hosts of `count` VMs built by other code are never used again: remove them."""
    for path in cache.glob(f"scale-{count}-*"):
        if not path.name.startswith(keep + "."):
            _remove(path)


# -- building -----------------------------------------------------------------------


class _Templates:
    """The \\Default templates, read once and reused for every VM."""

    def __init__(self, session: Session) -> None:
        def one(wql: str) -> Instance:
            return session.query(wql)[0]

        def rasd(subtype: str, cls: str = "Msvm_ResourceAllocationSettingData") -> Instance:
            return one(f"SELECT * FROM {cls} WHERE ResourceSubType = '{subtype}' "
                       "AND InstanceID LIKE '%\\\\Default'")

        self.scsi = rasd("Microsoft:Hyper-V:Synthetic SCSI Controller")
        self.drive = rasd("Microsoft:Hyper-V:Synthetic Disk Drive")
        self.vhd = rasd("Microsoft:Hyper-V:Virtual Hard Disk",
                        "Msvm_StorageAllocationSettingData")
        self.nic = one("SELECT * FROM Msvm_SyntheticEthernetPortSettingData "
                       "WHERE InstanceID LIKE '%\\\\Default'")
        self.port = one("SELECT * FROM Msvm_EthernetPortAllocationSettingData "
                        "WHERE InstanceID LIKE '%\\\\Default'")
        self.switch = str(one("SELECT * FROM Msvm_VirtualEthernetSwitch").path)
        self.vsms = str(one("SELECT * FROM Msvm_VirtualSystemManagementService").path)


def _build(state: Path, instances: list[InstanceSpec]) -> None:
    host = init_host(state, SCALE_PROFILE, overwrite=True)
    with host.session() as session:
        templates = _Templates(session)
        for number, spec in enumerate(instances):
            _make_disk(spec)
            _define(session, templates, spec, running=number % RUNNING_EVERY == 0)


def _make_disk(spec: InstanceSpec) -> None:
    spec.directory.mkdir(parents=True, exist_ok=True)
    if not spec.root.exists():
        vhdfile.create(spec.root, "vhd", "dynamic", 2**30)


def _define(session: Session, t: _Templates, spec: InstanceSpec, *, running: bool) -> None:
    vssd = session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = spec.name
    vssd["Notes"] = [spec.uuid]
    vssd["AutomaticStartupAction"] = 2
    for root in ("ConfigurationDataRoot", "LogDataRoot", "SnapshotDataRoot",
                 "SuspendDataRoot", "SwapFileDataRoot"):
        vssd[root] = str(spec.directory)
    nic = spec.nics[0]
    t.nic["ElementName"] = nic.port_id
    t.nic["Address"] = nic.mac.replace(":", "")
    t.nic["StaticMacAddress"] = True
    t.nic["VirtualSystemIdentifiers"] = [f"{{{uuid.uuid4()}}}"]
    t.scsi["VirtualSystemIdentifiers"] = [f"{{{uuid.uuid4()}}}"]
    defined = session.invoke(t.vsms, "DefineSystem", SystemSettings=vssd,
                             ResourceSettings=[t.scsi, t.nic])
    system = str(defined["ResultingSystem"])
    guid = system.rsplit('Name="', 1)[1].rstrip('"')
    devices = session.query("SELECT * FROM CIM_ResourceAllocationSettingData "
                            f"WHERE InstanceID LIKE 'Microsoft:{guid}%'")
    changes = []
    for device in devices:
        subtype = device.get("ResourceSubType")
        if subtype == "Microsoft:Hyper-V:Memory":
            for prop in ("VirtualQuantity", "Reservation", "Limit"):
                device[prop] = spec.memory_mb
            changes.append(device)
        elif subtype == "Microsoft:Hyper-V:Processor":
            device["VirtualQuantity"] = spec.vcpus
            changes.append(device)
        elif subtype == "Microsoft:Hyper-V:Serial Port" and str(device["InstanceID"]).endswith(
                "\\0"):
            device["Connection"] = [spec.pipe("rw")]
            changes.append(device)
    session.invoke(t.vsms, "ModifyResourceSettings", ResourceSettings=changes)
    ide0 = next(d for d in devices if d.get("ResourceSubType")
                == "Microsoft:Hyper-V:Emulated IDE Controller" and d.get("Address") == "0")
    nic_path = next(str(d.path) for d in devices if d.get("ElementName") == nic.port_id)
    t.drive["Parent"] = str(ide0.path)
    t.drive["AddressOnParent"] = 0
    t.port["Parent"] = nic_path
    t.port["HostResource"] = [t.switch]
    t.port["ElementName"] = nic.port_id
    added = session.invoke(t.vsms, "AddResourceSettings", AffectedConfiguration=system,
                           ResourceSettings=[t.drive, t.port])
    t.vhd["Parent"] = str(added["ResultingResourceSettings"][0])
    t.vhd["HostResource"] = [str(spec.root)]
    session.invoke(t.vsms, "AddResourceSettings", AffectedConfiguration=system,
                   ResourceSettings=[t.vhd])
    if running:
        started = session.invoke(system, "RequestStateChange", RequestedState=2)
        if started.job:
            session.get(started.job)
