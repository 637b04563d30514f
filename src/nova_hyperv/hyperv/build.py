"""Building a VM from a VmPlan, in as few round trips as Hyper-V's dependencies allow.

The chain (each step needs a path the one before it returned):

1. DefineSystem: the VM with every system setting (name, notes = instance uuid,
   generation, Secure Boot and its template, vNUMA on/off, the host-shutdown action,
   BIOS boot order, data roots) and, embedded, the SCSI controller.
2. One query for the VM's devices (`InstanceID LIKE 'Microsoft:<VM>%'`): the default
   processor, memory, serial ports and IDE controllers, and the SCSI controller, as the
   host spells their paths.
3. ModifyResourceSettings: processor (count, nested virtualization, CPU-feature limit,
   vNUMA size), memory (static or dynamic, vNUMA size) and the serial ports' pipes.
4. AddResourceSettings: every drive (Parent = its controller) and every NIC, in the
   plan's boot order, so a host that appends new boot entries (Hyper-V does) already
   boots in that order. A volume's drive carries the volume id as ElementName; an
   iSCSI / FC volume's is a passthrough drive holding the host disk (no medium).
5. AddResourceSettings: every medium (Parent = its drive; the IOPS limit with it; an SMB
   volume's image too) and every NIC's switch connection (Parent = its NIC); then, only
   for ports with an access VLAN or MAC spoofing, AddFeatureSettings on that connection
   (one per port).
6. Generation 2: one query maps the boot entries created with the drives and NICs
   (Msvm_LogicalIdentity) and one reads the VM's settings; BootSourceOrder is written
   only if it is not already the plan's order.

Steps 3 and 4 do not depend on each other but are different methods, so they cannot
share a call. If anything fails after step 1, the VM is destroyed before the error (one
VmCreateFailed naming the step) is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from nova_hyperv.cim import (
    CimError,
    CimInstance,
    CimSession,
    like_prefix,
    parse_path,
    quote,
    same_path,
)
from nova_hyperv.hyperv import names, network
from nova_hyperv.hyperv.errors import HostConfigurationError, VmCreateFailed
from nova_hyperv.hyperv.host import VSwitch, assignable_devices
from nova_hyperv.hyperv.names import ResourceType, SubType, VmState
from nova_hyperv.hyperv.vms import Vm
from nova_hyperv.hyperv.volumes.hostdisks import HostVolume
from nova_hyperv.rules import DiskPlan, VmPlan

__all__ = ["DATA_ROOTS", "create_vm", "destroy_defined"]

LOG = logging.getLogger(__name__)

S3_ADDRESS_REMOTEFX = "02C1,00000000,01"  # the S3 controller's Address with RemoteFX
REMOTEFX_RESOLUTIONS = {"1024x768": 0, "1280x1024": 1, "1600x1200": 2, "1920x1200": 3,
                        "2560x1600": 4, "3840x2160": 5}  # MaximumScreenResolution
DATA_ROOTS = ("ConfigurationDataRoot", "SnapshotDataRoot", "SuspendDataRoot",
              "SwapFileDataRoot", "LogDataRoot")


@dataclass
class _Devices:
    processor: CimInstance
    memory: CimInstance
    ide: dict[int, str] = field(default_factory=dict)
    scsi: list[str] = field(default_factory=list)
    serial: dict[int, CimInstance] = field(default_factory=dict)
    nics: dict[str, str] = field(default_factory=dict)
    display: str | None = None  # the synthetic display controller (RemoteFX replaces it)
    s3: CimInstance | None = None  # generation 1's S3 display controller


def _new(session: CimSession, class_name: str, **values: object) -> CimInstance:
    instance = session.new_instance(class_name)
    for name, value in values.items():
        instance[name] = value
    return instance


def _vssd(session: CimSession, plan: VmPlan, data_root: str,
          version: tuple[int, int, int]) -> CimInstance:
    vssd = _new(
        session, names.VSSD,
        ElementName=plan.name, Notes=list(plan.notes),
        VirtualSystemSubType=names.SUBTYPES[plan.generation],
        AutomaticStartupAction=names.STARTUP_NONE,
        AutomaticShutdownAction=names.SHUTDOWN_ACTIONS[plan.host_shutdown_action],
        VirtualNumaEnabled=plan.numa is not None,
    )
    for root in DATA_ROOTS:
        vssd[root] = data_root
    if plan.generation == 2:
        vssd["SecureBootEnabled"] = plan.secure_boot.enabled
        # The template property exists from Windows Server 2016 (build 10240) on; before
        # it, Microsoft Windows is the only template (the rules refuse the others there).
        if plan.secure_boot.enabled and plan.secure_boot.template_id and version >= (10, 0, 0):
            vssd["SecureBootTemplateId"] = plan.secure_boot.template_id
    else:
        vssd["BootOrder"] = [names.BIOS_BOOT_DEVICES[d] for d in plan.boot_order]
    return vssd


def _scsi_controller(session: CimSession) -> CimInstance:
    return _new(session, names.RASD, ResourceType=int(ResourceType.SCSI_CONTROLLER),
                ResourceSubType=SubType.SCSI_CONTROLLER)


def _read_devices(session: CimSession, guid: str) -> _Devices:
    found = session.query(f"SELECT * FROM {names.ANY_RASD} WHERE InstanceID LIKE "
                          f"{like_prefix(f'Microsoft:{guid}')}")
    by_type: dict[int, list[CimInstance]] = {}
    for device in found:
        by_type.setdefault(int(device.get("ResourceType", 0)), []).append(device)
    devices = _Devices(processor=by_type[ResourceType.PROCESSOR][0],
                       memory=by_type[ResourceType.MEMORY][0])
    for device in found:
        subtype = device.get("ResourceSubType")
        if subtype == SubType.IDE_CONTROLLER:
            devices.ide[int(device.get("Address", 0))] = device.path
        elif subtype == SubType.SCSI_CONTROLLER:
            devices.scsi.append(device.path)
        elif subtype == SubType.SERIAL_PORT:
            devices.serial[_com_number(device)] = device
        elif subtype == SubType.SYNTHETIC_NIC:
            devices.nics[str(device.get("ElementName"))] = device.path
        elif subtype == SubType.SYNTHETIC_DISPLAY:
            devices.display = device.path
        elif subtype == SubType.S3_DISPLAY:
            devices.s3 = device
    return devices


def _com_number(port: CimInstance) -> int:
    slot = str(port.get("AddressOnParent", "")).strip()
    if slot.isdigit():
        return int(slot) + 1
    digits = "".join(c for c in str(port.get("ElementName", "")) if c.isdigit())
    return int(digits or 0)


def _defaults(plan: VmPlan, devices: _Devices) -> list[CimInstance]:
    cpu, ram = devices.processor, devices.memory
    cpu["VirtualQuantity"] = plan.processors.count
    cpu["Limit"] = 100000
    cpu["LimitProcessorFeatures"] = plan.processors.limit_cpu_features
    if plan.processors.nested_virtualization:
        cpu["ExposeVirtualizationExtensions"] = True
    memory = plan.memory
    ram["DynamicMemoryEnabled"] = memory.dynamic
    ram["VirtualQuantity"] = memory.startup_mb
    ram["Reservation"] = memory.minimum_mb
    ram["Limit"] = memory.maximum_mb
    if plan.numa is not None:
        cpu["MaxProcessorsPerNumaNode"] = plan.numa.cpus_per_node
        ram["MaxMemoryBlocksPerNumaNode"] = plan.numa.memory_mb_per_node
    changed = [cpu, ram]
    if plan.remotefx is not None and devices.s3 is not None:
        devices.s3["Address"] = S3_ADDRESS_REMOTEFX  # generation 1 with RemoteFX
        changed.append(devices.s3)
    for port in plan.serial_ports:
        device = devices.serial.get(port.port)
        if device is None:
            raise CimError(f"the VM has no COM {port.port} serial port")
        device["Connection"] = [port.pipe]
        changed.append(device)
    return changed


def _boot_ordered(plan: VmPlan) -> list[DiskPlan | str]:
    """Drives and NIC names in boot order (then the drives the order leaves out)."""
    disks = {d.name: d for d in plan.disks}
    nics = {n.name for n in plan.nics}
    ordered: list[DiskPlan | str] = []
    if plan.generation == 2:
        for name in plan.boot_order:
            if name in disks:
                ordered.append(disks.pop(name))
            elif name in nics:
                ordered.append(name)
                nics.discard(name)
    ordered.extend(disks.values())
    ordered.extend(n.name for n in plan.nics if n.name in nics)
    return ordered


def _drive(session: CimSession, disk: DiskPlan, devices: _Devices,
           volume: HostVolume | None) -> CimInstance:
    """The drive of a disk; a volume's drive carries the volume id (its serial tag), and
    an iSCSI / FC volume's is a passthrough drive naming the host disk."""
    controllers = devices.ide if disk.bus == "ide" else dict(enumerate(devices.scsi))
    controller = controllers.get(disk.controller)
    if controller is None:
        raise CimError(f"the VM has no {disk.bus.upper()} controller {disk.controller} for "
                       f"disk {disk.name}")
    dvd = disk.device == "dvd"
    drive = _new(session, names.RASD,
                 ResourceType=int(ResourceType.DVD_DRIVE if dvd else ResourceType.DISK_DRIVE),
                 ResourceSubType=SubType.DVD_DRIVE if dvd else SubType.DISK_DRIVE,
                 Parent=controller, AddressOnParent=str(disk.slot))
    if disk.volume_id:
        drive["ElementName"] = disk.volume_id
    if volume is not None and volume.kind == "passthrough":
        drive["ResourceSubType"] = SubType.PHYSICAL_DISK
        drive["HostResource"] = [volume.resource]
    return drive


def _remotefx(session: CimSession, plan: VmPlan) -> list[CimInstance]:
    if plan.remotefx is None:
        return []
    adapter = _new(session, names.SYNTHETIC_3D_DISPLAY,
                   ResourceType=int(ResourceType.GRAPHICS),
                   ResourceSubType=SubType.SYNTHETIC_3D_DISPLAY,
                   MaximumMonitors=plan.remotefx.monitors,
                   MaximumScreenResolution=REMOTEFX_RESOLUTIONS[plan.remotefx.resolution])
    if plan.remotefx.vram_bytes is not None:
        adapter["VRAMSizeBytes"] = plan.remotefx.vram_bytes
    return [adapter]


def _pci_devices(session: CimSession, plan: VmPlan) -> list[str]:
    """A free host device for each device the plan asks for (paths), or an error."""
    if not plan.pci_devices:
        return []
    free = [d for d in assignable_devices(session) if d.free]
    chosen: list[str] = []
    for wanted in plan.pci_devices:
        kind = (wanted.vendor_id, wanted.product_id)
        candidates = [d.path for d in free if (d.vendor_id, d.product_id) == kind]
        left = [path for path in candidates if path not in chosen]
        if not left:
            asked = sum(1 for w in plan.pci_devices if (w.vendor_id, w.product_id) == kind)
            raise HostConfigurationError(
                f"{plan.name} needs {asked} PCI device(s) {wanted.vendor_id}:"
                f"{wanted.product_id}; this host has {len(candidates)} free")
        chosen.append(left[0])
    return chosen


def _pci_port(session: CimSession, device: str) -> CimInstance:
    return _new(session, names.PCI_EXPRESS, ResourceType=int(ResourceType.PCI_EXPRESS),
                ResourceSubType=SubType.PCI_EXPRESS, HostResource=[device])


def _medium(session: CimSession, disk: DiskPlan, drive: str, path: str) -> CimInstance:
    medium = _new(session, names.SASD, ResourceType=int(ResourceType.LOGICAL_DISK),
                  ResourceSubType=SubType.ISO if disk.device == "dvd" else SubType.VHD,
                  Parent=drive, HostResource=[path])
    if disk.iops_limit:
        medium["IOPSLimit"] = disk.iops_limit
    return medium


def _boot_order(session: CimSession, service: CimInstance, guid: str,
                bootable: list[str]) -> None:
    """Generation 2: make BootSourceOrder follow `bootable` (device setting paths)."""
    if not bootable:
        return
    where = " OR ".join(f"SystemElement = {quote(p)}" for p in bootable)
    links = session.query(f"SELECT * FROM {names.LOGICAL_IDENTITY} WHERE {where}")
    entries: list[str] = []
    for device in bootable:
        for link in links:
            ends = parse_path(link.path)
            if same_path(ends.key("SystemElement") or "", device):
                entries.append(ends.key("SameElement") or "")
                break
    [settings] = session.query(f"SELECT * FROM {names.VSSD} WHERE InstanceID = "
                               f"{quote(f'Microsoft:{guid}')}")
    current = list(settings.get("BootSourceOrder", []) or [])
    if len(current) >= len(entries) and all(
            same_path(a, b) for a, b in zip(current, entries, strict=False)):
        return
    settings["BootSourceOrder"] = entries + [
        p for p in current if not any(same_path(p, e) for e in entries)]
    result = session.invoke(service, "ModifySystemSettings", SystemSettings=settings)
    session.finish(result, "setting the boot order")


def create_vm(
    session: CimSession,
    service: CimInstance,
    plan: VmPlan,
    *,
    files: Mapping[str, str],
    switch: VSwitch | None,
    data_root: str,
    host_version: tuple[int, int, int],
    volumes: Mapping[str, HostVolume] | None = None,
    timeout: float | None = None,
) -> Vm:
    """Create the VM of `plan` (off). `files` maps each local disk's name to its file,
    `volumes` each volume disk's name (its volume id) to the connected volume."""
    volumes = volumes or {}
    if plan.nics and switch is None:
        raise ValueError("a plan with NICs needs the vSwitch they connect to")
    sources = {**files, **{name: v.resource for name, v in volumes.items()}}
    missing = [d.name for d in plan.disks if d.name not in sources]
    if missing:
        raise ValueError(f"no file or volume for the disks {', '.join(missing)}")
    pci = _pci_devices(session, plan)  # before anything is made: enough free devices?
    step, vm_path = "defining it", ""
    try:
        result = session.invoke(
            service, "DefineSystem", SystemSettings=_vssd(session, plan, data_root, host_version),
            ResourceSettings=[_scsi_controller(session)])
        session.finish(result, f"defining VM {plan.name}", timeout=timeout)
        vm_path = result["ResultingSystem"]
        guid = str(parse_path(vm_path).key("Name")).upper()

        step = "reading its default devices"
        devices = _read_devices(session, guid)

        step = "setting its processors, memory and serial ports"
        result = session.invoke(service, "ModifyResourceSettings",
                                ResourceSettings=_defaults(plan, devices))
        session.finish(result, step, timeout=timeout)

        if plan.remotefx is not None and devices.display:
            step = "removing its synthetic display controller (RemoteFX replaces it)"
            result = session.invoke(service, "RemoveResourceSettings",
                                    ResourceSettings=[devices.display])
            session.finish(result, step, timeout=timeout)

        step = "adding its drives and network adapters"
        ordered = _boot_ordered(plan)
        nics = {n.name: n for n in plan.nics}
        settings = [_drive(session, item, devices, volumes.get(item.name))
                    if isinstance(item, DiskPlan) else network.nic_setting(session, nics[item])
                    for item in ordered]
        extra = _remotefx(session, plan) + [_pci_port(session, d) for d in pci]
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                                ResourceSettings=settings + extra)
        session.finish(result, step, timeout=timeout)
        added = dict(zip((i.name if isinstance(i, DiskPlan) else i for i in ordered),
                         result["ResultingResourceSettings"], strict=False))

        step = "attaching its disk images and connecting its network adapters"
        settings = [_medium(session, d, added[d.name], sources[d.name]) for d in plan.disks
                    if d.name not in volumes or volumes[d.name].kind != "passthrough"]
        media = len(settings)  # a passthrough drive has no medium
        settings += [network.connection_setting(session, n.name, added[n.name],
                                                switch)  # type: ignore[arg-type]
                     for n in plan.nics]
        if settings:
            result = session.invoke(service, "AddResourceSettings",
                                    AffectedConfiguration=vm_path, ResourceSettings=settings)
            session.finish(result, step, timeout=timeout)
            connections = list(result["ResultingResourceSettings"])[media:]
            step = "setting the VLAN and port security of its network adapters"
            for nic, connection in zip(plan.nics, connections, strict=True):
                features = network.features_for(session, nic)
                if features:  # one call per port: AffectedConfiguration is one connection
                    result = session.invoke(service, "AddFeatureSettings",
                                            AffectedConfiguration=connection,
                                            FeatureSettings=features)
                    session.finish(result, step, timeout=timeout)

        if plan.generation == 2:
            step = "setting its boot order"
            _boot_order(session, service, guid,
                        [added[name] for name in plan.boot_order if name in added])
        return Vm(vm_path, plan.name, guid, VmState.OFF)
    except Exception as exc:
        cleanup_error = None
        if vm_path:
            try:
                destroy_defined(session, service, vm_path, timeout)
            except Exception as cleanup:
                LOG.warning("could not remove the partly built VM %s: %s", plan.name, cleanup)
                cleanup_error = cleanup
        raise VmCreateFailed(plan.name, step, exc, cleanup_error) from exc


def destroy_defined(session: CimSession, service: CimInstance, vm_path: str,
                    timeout: float | None = None) -> None:
    """Remove a VM that was never started (the rollback of create_vm)."""
    result = session.invoke(service, "DestroySystem", AffectedSystem=vm_path)
    session.finish(result, "removing the partly built VM", vm_path, timeout)
