"""Host disks and the SAN they come from: root/Microsoft/Windows/Storage, served.

The emulated host sees three kinds of disks, each as an `MSFT_Disk` (storage
namespace), a `Win32_DiskDrive` (cimv2) and a host `Msvm_DiskDrive` (what a passthrough
disk's HostResource names):

- local disks of the host profile (SAS, offered for passthrough, so offline);
- iSCSI LUNs, which appear when the host logs in to their target
  (`MSFT_iSCSITargetPortal.New` discovers targets, `MSFT_iSCSITarget.Connect` logs in) and
  go when it logs out (`Disconnect`);
- Fibre Channel LUNs, which appear as soon as the SAN presents them to one of the host's
  FC initiator ports (FC has no login).

What the SAN offers (targets, LUNs, the files behind them, FC ports) is not Windows
state: the test or the local cloud's volume service sets it up through
`hyperv_emulator.hoststorage.HostStorage`, and it is kept in the state file's `san`
entry. New SAN disks come up offline or online as the SAN policy says
(`MSFT_StorageSetting.NewDiskPolicy`; Windows Server's default is OfflineShared, so
iSCSI and FC disks arrive offline, ready for passthrough). Disk numbers are the lowest
free ones from 1 (disk 0 is the host's boot disk).

A LUN's size is its backing file's size. The host sees a grown LUN after a rescan
(`MSFT_Disk.Refresh`, `MSFT_StorageSetting.UpdateHostStorageCache`), which is what
os-brick's extend does on Windows; a VM with the disk passed through reads the LUN
itself (see `HostStorage.guest_disks`).

Errors of the iSCSI provider are CIM errors (WBEM_E_FAILED) whose message carries the
initiator's error name, as PowerShell shows them; the disk methods return their codes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hyperv_emulator.errors import WBEM_E_FAILED, WBEM_E_INVALID_PARAMETER, CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import COMPLETED, Args, Ctx, method
from hyperv_emulator.providers.seed import SEED_HOOKS
from hyperv_emulator.providers.vms import Vm, guid_of_setting, load_vm
from hyperv_emulator.schema.classes.hba_ns import (
    HBA_STATUS_ERROR_ILLEGAL_WWN,
    HBA_STATUS_ERROR_MORE_DATA,
    HBA_STATUS_OK,
    NS_WMI,
)
from hyperv_emulator.schema.model import NS_CIMV2, NS_STORAGE
from hyperv_emulator.store import instance_key, path_text_key

SAN = "san"  # meta: what the SAN offers (see HostStorage)
SAN_POLICY = "san_policy"  # meta: MSFT_StorageSetting.NewDiskPolicy
POLICY_ONLINE_ALL, POLICY_OFFLINE_SHARED, POLICY_OFFLINE_ALL, POLICY_OFFLINE_INTERNAL = 1, 2, 3, 4
POLICY_NAMES = {1: "OnlineAll", 2: "OfflineShared", 3: "OfflineAll", 4: "OfflineInternal"}
BUS_FC, BUS_ISCSI, BUS_SAS = 6, 9, 10
CONNECTION_FC, CONNECTION_ISCSI = 1, 2
STATUS_ONLINE, STATUS_OFFLINE = 0xD010, 0xD013
OFFLINE_BY_POLICY = 1
DISK_FAILED = 4  # MSFT_Disk method return: the operation failed
ISCSI_PORT = 3260
ISCSI_INSTANCE = "ROOT\\ISCSIPRT\\0000_0"
DISK_CLASS_GUID = "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}"
CS = "Msvm_ComputerSystem"


def iscsi_error(name: str, code: int, message: str) -> CimError:
    """A failure of the Microsoft iSCSI initiator, the way its provider reports one."""
    return CimError(WBEM_E_FAILED, f"{message} ({name}, 0x{code:08X})")


# -- the SAN, as the host side API left it ---------------------------------------------


def san(ctx: Ctx) -> dict[str, Any]:
    data = ctx.txn.meta(SAN) or {}
    for part in ("iscsi", "fc", "fc_ports"):
        data.setdefault(part, {})
    return data


def save_san(ctx: Ctx, data: dict[str, Any]) -> None:
    ctx.txn.set_meta(SAN, data)


def new_disk_policy(ctx: Ctx) -> int:
    return int(ctx.txn.meta(SAN_POLICY, POLICY_OFFLINE_SHARED))


@dataclass(frozen=True)
class DiskSpec:
    """A disk the host can see: where it comes from and what it looks like."""

    key: str  # local:<n> | iscsi:<iqn>:<lun> | fc:<wwpn>:<lun>
    bus: int
    size: int
    serial: str
    lun: int
    backing: str | None = None
    target: str = ""

    @property
    def shared(self) -> bool:
        return self.bus in (BUS_FC, BUS_ISCSI)


def lun_size(entry: dict[str, Any]) -> int:
    try:
        return os.stat(entry["path"]).st_size
    except OSError:
        return 0


def visible(ctx: Ctx) -> dict[str, DiskSpec]:
    """Every disk the host sees now: local ones, LUNs of logged-in targets, FC LUNs."""
    data = san(ctx)
    specs: dict[str, DiskSpec] = {}
    for disk in ctx.profile.disks:
        key = f"local:{disk.number}"
        specs[key] = DiskSpec(key, BUS_SAS, disk.size_bytes, disk.serial, 0)
    connected = {str(s.get("TargetNodeAddress", "")).lower()
                 for s in ctx.query("MSFT_iSCSISession", NS_STORAGE) if s.get("IsConnected")}
    for iqn, target in data["iscsi"].items():
        if iqn not in connected:
            continue
        for lun, entry in target["luns"].items():
            key = f"iscsi:{iqn}:{lun}"
            specs[key] = DiskSpec(key, BUS_ISCSI, lun_size(entry), entry["serial"], int(lun),
                                  entry["path"], target["iqn"])
    for wwpn, target in data["fc"].items():
        if target["initiator"] not in data["fc_ports"]:
            continue
        for lun, entry in target["luns"].items():
            key = f"fc:{wwpn}:{lun}"
            specs[key] = DiskSpec(key, BUS_FC, lun_size(entry), entry["serial"], int(lun),
                                  entry["path"], wwpn)
    return specs


# -- host disks ---------------------------------------------------------------------------


def host_drive_id(number: int) -> str:
    return f"Microsoft:{catalog.PHYSICAL_DISK.template_id}\\{number}"


def _unique_id(key: str) -> str:
    # An NAA IEEE Registered Extended identifier (page 0x83, "FCPH Name" to Windows).
    return "6" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()[:31].upper()


def msft_disks(ctx: Ctx) -> dict[str, Instance]:
    """The host's MSFT_Disk instances by the key of what backs them."""
    return {ctx.aux(d).get("source", ""): d for d in ctx.query("MSFT_Disk", NS_STORAGE)}


def _free_number(ctx: Ctx, reserved: Iterable[int]) -> int:
    used = {int(d.get("Number")) for d in ctx.query("MSFT_Disk", NS_STORAGE)} | set(reserved)
    number = 1
    while number in used:
        number += 1
    return number


# The adapter each kind of disk hangs off, as MSFT_Disk.Location names it.
_ADAPTERS = {BUS_SAS: 1, BUS_ISCSI: 2, BUS_FC: 3}


def location(spec: DiskSpec) -> str:
    """MSFT_Disk.Location as Windows spells it for a SCSI-addressed disk (Get-Disk shows
    "Integrated : Adapter 3 : Port 0 : Target 0 : LUN 1"); the LUN is the OS LUN, which
    the Microsoft iSCSI initiator and FC miniports make the target's LUN."""
    return f"Integrated : Adapter {_ADAPTERS[spec.bus]} : Port 0 : Target 0 : LUN {spec.lun}"


def create_disk(ctx: Ctx, spec: DiskSpec, number: int) -> Instance:
    """Make a disk appear: MSFT_Disk, Win32_DiskDrive and the host's Msvm_DiskDrive."""
    policy = new_disk_policy(ctx)
    if spec.key.startswith("local:"):
        offline = True  # offered for passthrough
    else:
        offline = policy == POLICY_OFFLINE_ALL or (policy == POLICY_OFFLINE_SHARED and
                                                   spec.shared) or (
            policy == POLICY_OFFLINE_INTERNAL and not spec.shared)
    product = {BUS_ISCSI: "iSCSI LUN", BUS_FC: "FC LUN", BUS_SAS: "SAS Disk"}[spec.bus]
    unique = _unique_id(spec.key)
    device_path = (f"\\\\?\\scsi#disk&ven_emulated&prod_{product.replace(' ', '_').lower()}#"
                   f"{unique[-8:].lower()}&0&{spec.lun:06d}#{DISK_CLASS_GUID}")
    disk = ctx.create(ctx.new(
        "MSFT_Disk", NS_STORAGE,
        ObjectId=f"{{1}}\\\\{ctx.hostname}\\root/Microsoft/Windows/Storage/Providers_v2\\"
                 f"WSP_Disk.ObjectId=\"{{{unique[:8]}-{unique[8:12]}-{unique[12:16]}-"
                 f"{unique[16:20]}-{unique[20:32]}}}:DI:{device_path}\"",
        UniqueId=unique, UniqueIdFormat=3, Number=number, Path=device_path,
        Location=location(spec), FriendlyName=f"Emulated {product}",
        SerialNumber=spec.serial, Manufacturer="Emulated", Model=product,
        FirmwareVersion="1.0", Size=spec.size, AllocatedSize=0, LogicalSectorSize=512,
        PhysicalSectorSize=512, LargestFreeExtent=spec.size, NumberOfPartitions=0,
        ProvisioningType=1 if spec.backing else 2, HealthStatus=0, BusType=spec.bus,
        PartitionStyle=0, IsOffline=offline, OfflineReason=OFFLINE_BY_POLICY if offline else None,
        OperationalStatus=STATUS_OFFLINE if offline else STATUS_ONLINE, IsReadOnly=False,
        IsSystem=False, IsClustered=False, IsBoot=False, BootFromDisk=False,
    ))
    ctx.set_aux(disk, {"source": spec.key})
    drive = ctx.create(ctx.new(
        "Msvm_DiskDrive", CreationClassName="Msvm_DiskDrive", DeviceID=host_drive_id(number),
        SystemCreationClassName=CS, SystemName=ctx.hostname, DriveNumber=number,
        ElementName=f"Disk {number}", Name=f"\\\\.\\PHYSICALDRIVE{number}",
        MaxMediaSize=spec.size, EnabledState=2, HealthState=5, OperationalStatus=[2],
    ))
    host = ctx.get(f"\\\\{ctx.hostname}\\root\\virtualization\\v2:{CS}."
                   f'CreationClassName="{CS}",Name="{ctx.hostname}"')
    if host is not None:
        ctx.link("Msvm_SystemDevice", GroupComponent=host, PartComponent=drive)
    if ctx.has_class("Win32_DiskDrive", NS_CIMV2):
        ctx.create(ctx.new(
            "Win32_DiskDrive", NS_CIMV2, DeviceID=f"\\\\.\\PHYSICALDRIVE{number}",
            Name=f"\\\\.\\PHYSICALDRIVE{number}", Index=number, Size=spec.size,
            SerialNumber=spec.serial, Model=f"Emulated {product}", InterfaceType="SCSI",
            MediaType="Fixed hard disk media", BytesPerSector=512, SCSILogicalUnit=spec.lun,
            SCSITargetId=0, SCSIPort=0, SCSIBus=0, Status="OK", Partitions=0,
            CreationClassName="Win32_DiskDrive", SystemCreationClassName="Win32_ComputerSystem",
            SystemName=ctx.hostname,
        ))
    return disk


def _host_drive(ctx: Ctx, number: int) -> Instance | None:
    found = ctx.query("Msvm_DiskDrive", hint=("eq", "DeviceID", host_drive_id(number)))
    return found[0] if found else None


def attachment(ctx: Ctx, number: int) -> tuple[Vm, Instance] | None:
    """The VM (and its passthrough drive) a host disk is attached to, if any."""
    drive = _host_drive(ctx, number)
    if drive is None:
        return None
    key = instance_key(drive)
    for setting in ctx.query("Msvm_ResourceAllocationSettingData",
                             hint=("eq", "ResourceSubType", catalog.PHYSICAL_DISK.subtype)):
        if any(path_text_key(p) == key for p in setting.get("HostResource") or ()):
            vm = load_vm(ctx, guid_of_setting(setting.get("InstanceID")) or "")
            if vm is not None:
                return vm, setting
    return None


def require_detached(ctx: Ctx, disk: Instance, error: CimError | None = None) -> None:
    found = attachment(ctx, int(disk.get("Number")))
    if found is not None:
        vm, _ = found
        raise error or CimError(
            WBEM_E_FAILED, f"disk {disk['Number']} is attached to the virtual machine "
                           f"{vm.describe()} as a passthrough disk; detach it first")


def remove_disk(ctx: Ctx, disk: Instance) -> None:
    number = int(disk.get("Number"))
    drive = _host_drive(ctx, number)
    if drive is not None:
        ctx.delete(drive)
    for win32 in _win32_drives(ctx, number):
        ctx.delete(win32)
    ctx.delete(disk)


def _win32_drives(ctx: Ctx, number: int) -> list[Instance]:
    if not ctx.has_class("Win32_DiskDrive", NS_CIMV2):
        return []
    return ctx.query("Win32_DiskDrive", NS_CIMV2,
                     hint=("eq", "DeviceID", f"\\\\.\\PHYSICALDRIVE{number}"))


def sync_disks(ctx: Ctx) -> None:
    """Make the host's disks match what it can see (a rescan, minus size changes)."""
    wanted = visible(ctx)
    existing = msft_disks(ctx)
    for key, disk in existing.items():
        if key not in wanted:
            require_detached(ctx, disk)
            remove_disk(ctx, disk)
    reserved = {int(k.split(":", 1)[1]) for k in wanted if k.startswith("local:")}
    for key, spec in wanted.items():
        if key in existing:
            continue
        if key.startswith("local:"):
            number = int(key.split(":", 1)[1])
        else:
            number = _free_number(ctx, reserved)
        disk = create_disk(ctx, spec, number)
        if spec.bus == BUS_ISCSI:
            _link_iscsi_disk(ctx, spec, disk)


def refresh_sizes(ctx: Ctx, only: Instance | None = None) -> None:
    """Read the sizes of what backs the disks again (a rescan's other half)."""
    wanted = visible(ctx)
    for key, disk in msft_disks(ctx).items():
        if key not in wanted or (only is not None and instance_key(only) != instance_key(disk)):
            continue
        size = wanted[key].size
        if disk.get("Size") == size:
            continue
        ctx.set(disk, Size=size, LargestFreeExtent=size)
        ctx.save(disk)
        number = int(disk["Number"])
        drive = _host_drive(ctx, number)
        if drive is not None:
            drive["MaxMediaSize"] = size
            ctx.save(drive)
        for win32 in _win32_drives(ctx, number):
            win32["Size"] = size
            ctx.save(win32)


def seed_storage(ctx: Ctx) -> None:
    """A fresh host: its initiator ports and its disks (local ones, and FC LUNs of a SAN
    that outlived a reset)."""
    for wwpn, port in san(ctx)["fc_ports"].items():
        fc_port_instance(ctx, wwpn, port["wwnn"])
    sync_disks(ctx)
    ctx.create(ctx.new(
        "MSFT_InitiatorPort", NS_STORAGE, ObjectId=f"{{1}}\\\\{ctx.hostname}\\iSCSI",
        NodeAddress=initiator_iqn(ctx), PortAddress="ISCSI ANY PORT",
        InstanceName=ISCSI_INSTANCE, ConnectionType=CONNECTION_ISCSI, OperationalStatus=[2],
    ))


SEED_HOOKS.append(seed_storage)


def initiator_iqn(ctx: Ctx) -> str:
    return f"iqn.1991-05.com.microsoft:{ctx.hostname.lower()}"


def iscsi_port(ctx: Ctx) -> Instance | None:
    found = [p for p in ctx.query("MSFT_InitiatorPort", NS_STORAGE)
             if p.get("ConnectionType") == CONNECTION_ISCSI]
    return found[0] if found else None


# -- iSCSI: portals, targets, sessions ---------------------------------------------------


def _portal_key(address: str, port: int) -> str:
    return f"{address.lower()}:{port}"


def _targets_at(ctx: Ctx, address: str, port: int) -> list[dict[str, Any]]:
    wanted = _portal_key(address, port)
    return [t for t in san(ctx)["iscsi"].values() if t["portal"].lower() == wanted]


def _discover(ctx: Ctx, portal: Instance) -> None:
    address = portal["TargetPortalAddress"]
    port = int(portal.get("TargetPortalPortNumber") or ISCSI_PORT)
    initiator = iscsi_port(ctx)
    for target in _targets_at(ctx, address, port):
        found = ctx.query("MSFT_iSCSITarget", NS_STORAGE, hint=("eq", "NodeAddress",
                                                               target["iqn"]))
        node = found[0] if found else ctx.create(ctx.new(
            "MSFT_iSCSITarget", NS_STORAGE, NodeAddress=target["iqn"], IsConnected=False))
        _link_once(ctx, "MSFT_iSCSITargetToiSCSITargetPortal", iSCSITarget=node,
                   iSCSITargetPortal=portal)
        if initiator is not None:
            _link_once(ctx, "MSFT_InitiatorPortToiSCSITarget", InitiatorPort=initiator,
                       iSCSITarget=node)


def _link(ctx: Ctx, assoc: str, **ends: Instance | str) -> Instance:
    """An association of the storage namespace between instances (or their paths)."""
    values = {role: ctx.path(end) if isinstance(end, Instance) else end
              for role, end in ends.items()}
    return ctx.create(ctx.new(assoc, NS_STORAGE, **values))


def _link_once(ctx: Ctx, assoc: str, **ends: Instance) -> None:
    values = {role: ctx.path(end) for role, end in ends.items()}
    candidate = ctx.new(assoc, NS_STORAGE, **values)
    if ctx.get(candidate.path) is None:
        ctx.create(candidate)


@method("MSFT_iSCSITargetPortal", "New")
def new_target_portal(ctx: Ctx, cls: Instance | None, args: Args) -> int:
    address = args.get("TargetPortalAddress")
    if not address:
        raise CimError(WBEM_E_INVALID_PARAMETER, "TargetPortalAddress is required")
    port = int(args.get("TargetPortalPortNumber", ISCSI_PORT))
    if not _targets_at(ctx, address, port):
        raise iscsi_error("ISDSC_CONNECTION_FAILED", 0xEFFF0003,
                          f"Connection Failed: no iSCSI target portal answers at "
                          f"{address}:{port}")
    existing = ctx.query("MSFT_iSCSITargetPortal", NS_STORAGE,
                         hint=("eq", "TargetPortalAddress", address))
    portal = existing[0] if existing else ctx.create(ctx.new(
        "MSFT_iSCSITargetPortal", NS_STORAGE, TargetPortalAddress=address,
        TargetPortalPortNumber=port, InitiatorInstanceName=args.get("InitiatorInstanceName"),
        InitiatorPortalAddress=args.get("InitiatorPortalAddress"),
        IsHeaderDigest=bool(args.get("IsHeaderDigest")),
        IsDataDigest=bool(args.get("IsDataDigest"))))
    _discover(ctx, portal)
    ctx.output("CreatedTargetPortal", portal)
    return COMPLETED


@method("MSFT_iSCSITargetPortal", "Update")
def update_target_portal(ctx: Ctx, portal: Instance | None, args: Args) -> int:
    assert portal is not None
    _discover(ctx, portal)
    return COMPLETED


@method("MSFT_iSCSITargetPortal", "Remove")
def remove_target_portal(ctx: Ctx, portal: Instance | None, args: Args) -> int:
    assert portal is not None
    for link in ctx.txn.referencing(portal):
        if link.is_a("MSFT_iSCSITargetToiSCSITargetPortal"):
            target = ctx.get(link["iSCSITarget"])
            if target is not None and not target.get("IsConnected"):
                ctx.delete(target)
    ctx.delete(portal)
    return COMPLETED


def _target_entry(ctx: Ctx, iqn: str) -> dict[str, Any] | None:
    return san(ctx)["iscsi"].get(iqn.lower())


def _sessions_of(ctx: Ctx, iqn: str) -> list[Instance]:
    return [s for s in ctx.query("MSFT_iSCSISession", NS_STORAGE)
            if str(s.get("TargetNodeAddress", "")).lower() == iqn.lower()]


@method("MSFT_iSCSITarget", "Connect")
def connect_target(ctx: Ctx, cls: Instance | None, args: Args) -> int:
    iqn = args.get("NodeAddress")
    if not iqn:
        raise CimError(WBEM_E_INVALID_PARAMETER, "NodeAddress (the target's IQN) is required")
    found = ctx.query("MSFT_iSCSITarget", NS_STORAGE, hint=("eq", "NodeAddress", iqn))
    entry = _target_entry(ctx, iqn)
    if not found or entry is None:
        raise iscsi_error("ISDSC_TARGET_NOT_FOUND", 0xEFFF0016,
                          f"The target {iqn} was not found: discover it first with a target "
                          "portal (New-IscsiTargetPortal)")
    node = found[0]
    address, _, port = entry["portal"].rpartition(":")
    wanted_address = args.get("TargetPortalAddress")
    if wanted_address and wanted_address.lower() != address:
        raise iscsi_error("ISDSC_CONNECTION_FAILED", 0xEFFF0003,
                          f"Connection Failed: {iqn} is not served at portal {wanted_address}")
    if _sessions_of(ctx, iqn) and not args.get("IsMultipathEnabled"):
        raise iscsi_error("ISDSC_TARGET_ALREADY_LOGGED_IN", 0xEFFF003F,
                          f"The target {iqn} has already been logged in via an iSCSI session")
    auth = str(args.get("AuthenticationType", "NONE")).upper()
    chap = entry.get("chap")
    if chap is not None:
        given = (args.get("ChapUsername"), args.get("ChapSecret"))
        if auth not in ("ONEWAYCHAP", "MUTUALCHAP") or list(given) != list(chap):
            raise iscsi_error("ISDSC_LOGIN_FAILED", 0xEFFF0009,
                              f"Authentication Failure: {iqn} requires CHAP with its user "
                              "name and secret")
    elif auth not in ("NONE", ""):
        raise iscsi_error("ISDSC_LOGIN_FAILED", 0xEFFF0009,
                          f"Authentication Failure: {iqn} does not use CHAP")
    counter = int(ctx.txn.meta("iscsi_sessions", 0)) + 1
    ctx.txn.set_meta("iscsi_sessions", counter)
    session_id = f"ffffe0012f9a3010-40000137000000{counter:02x}"
    session = ctx.create(ctx.new(
        "MSFT_iSCSISession", NS_STORAGE, SessionIdentifier=session_id,
        InitiatorSideIdentifier=f"4000013700{counter:02x}", TargetSideIdentifier="0100",
        NumberOfConnections=1, TargetNodeAddress=entry["iqn"],
        InitiatorPortalAddress=args.get("InitiatorPortalAddress") or "0.0.0.0",
        IsDataDigest=bool(args.get("IsDataDigest")),
        IsHeaderDigest=bool(args.get("IsHeaderDigest")),
        AuthenticationType=auth or "NONE", InitiatorNodeAddress=initiator_iqn(ctx),
        InitiatorInstanceName=ISCSI_INSTANCE, IsConnected=True,
        IsPersistent=bool(args.get("IsPersistent")), IsDiscovered=True,
    ))
    connection = ctx.create(ctx.new(
        "MSFT_iSCSIConnection", NS_STORAGE, ConnectionIdentifier=f"{session_id}-{counter:x}",
        InitiatorAddress=args.get("InitiatorPortalAddress") or "0.0.0.0",
        TargetAddress=address, InitiatorPortNumber=49152 + counter,
        TargetPortNumber=int(port or ISCSI_PORT),
    ))
    _link(ctx, "MSFT_iSCSITargetToiSCSISession", iSCSITarget=node, iSCSISession=session)
    _link(ctx, "MSFT_iSCSITargetToiSCSIConnection", iSCSITarget=node, iSCSIConnection=connection)
    _link(ctx, "MSFT_iSCSISessionToiSCSIConnection", iSCSISession=session,
             iSCSIConnection=connection)
    initiator = iscsi_port(ctx)
    if initiator is not None:
        _link(ctx, "MSFT_InitiatorPortToiSCSISession", InitiatorPort=initiator,
                 iSCSISession=session)
        _link(ctx, "MSFT_InitiatorPortToiSCSIConnection", InitiatorPort=initiator,
                 iSCSIConnection=connection)
    for portal_link in ctx.txn.referencing(node):
        if portal_link.is_a("MSFT_iSCSITargetToiSCSITargetPortal"):
            portal = ctx.get(portal_link["iSCSITargetPortal"])
            if portal is not None:
                _link(ctx, "MSFT_iSCSISessionToiSCSITargetPortal", iSCSISession=session,
                         iSCSITargetPortal=portal)
                _link(ctx, "MSFT_iSCSIConnectionToiSCSITargetPortal",
                         iSCSIConnection=connection, iSCSITargetPortal=portal)
    node["IsConnected"] = True
    ctx.save(node)
    sync_disks(ctx)
    ctx.output("CreatediSCSISession", session)
    return COMPLETED


def _link_iscsi_disk(ctx: Ctx, spec: DiskSpec, disk: Instance) -> None:
    for session in _sessions_of(ctx, spec.target):
        _link(ctx, "MSFT_iSCSISessionToDisk", iSCSISession=session, Disk=disk)
        for link in ctx.txn.referencing(session):
            if link.is_a("MSFT_iSCSISessionToiSCSIConnection"):
                _link(ctx, "MSFT_iSCSIConnectionToDisk", iSCSIConnection=link["iSCSIConnection"],
                         Disk=disk)


def _disks_of_target(ctx: Ctx, iqn: str) -> list[Instance]:
    prefix = f"iscsi:{iqn.lower()}:"
    return [d for k, d in msft_disks(ctx).items() if k.startswith(prefix)]


def logout(ctx: Ctx, iqn: str, session_ids: Iterable[str] | None = None) -> None:
    """Close sessions to a target (all of them by default); its disks go with the last."""
    sessions = _sessions_of(ctx, iqn)
    if session_ids is not None:
        wanted = {s.lower() for s in session_ids}
        sessions = [s for s in sessions if str(s["SessionIdentifier"]).lower() in wanted]
    remaining = len(_sessions_of(ctx, iqn)) - len(sessions)
    if remaining == 0:
        for disk in _disks_of_target(ctx, iqn):
            require_detached(ctx, disk, iscsi_error(
                "ISDSC_SESSION_BUSY", 0xEFFF0023,
                f"The session cannot be logged out since disk {disk['Number']} of it is in "
                "use by a virtual machine"))
    for session in sessions:
        for link in ctx.txn.referencing(session):
            if link.is_a("MSFT_iSCSISessionToiSCSIConnection"):
                connection = ctx.get(link["iSCSIConnection"])
                if connection is not None:
                    ctx.delete(connection)
        ctx.delete(session)
    if remaining == 0:
        for node in ctx.query("MSFT_iSCSITarget", NS_STORAGE, hint=("eq", "NodeAddress", iqn)):
            node["IsConnected"] = False
            ctx.save(node)
    sync_disks(ctx)


@method("MSFT_iSCSITarget", "Disconnect")
def disconnect_target(ctx: Ctx, target: Instance | None, args: Args) -> int:
    assert target is not None
    iqn = str(target["NodeAddress"])
    sessions = _sessions_of(ctx, iqn)
    wanted = args.get("SessionIdentifier")
    if not sessions or (wanted and all(str(s["SessionIdentifier"]).lower() != wanted.lower()
                                       for s in sessions)):
        raise iscsi_error("ISDSC_INVALID_SESSION_ID", 0xEFFF001C,
                          f"The session id is not valid: {iqn} has "
                          f"{'no session' if not sessions else 'no session ' + str(wanted)}")
    logout(ctx, iqn, [wanted] if wanted else None)
    return COMPLETED


@method("MSFT_iSCSITarget", "Update")
def update_target(ctx: Ctx, target: Instance | None, args: Args) -> int:
    return COMPLETED


def _persist(ctx: Ctx, session: Instance | None, persistent: bool) -> int:
    assert session is not None
    session["IsPersistent"] = persistent
    ctx.save(session)
    return COMPLETED


@method("MSFT_iSCSISession", "Register")
def register_session(ctx: Ctx, session: Instance | None, args: Args) -> int:
    return _persist(ctx, session, True)


@method("MSFT_iSCSISession", "Unregister")
def unregister_session(ctx: Ctx, session: Instance | None, args: Args) -> int:
    return _persist(ctx, session, False)


# -- disks and the SAN policy -------------------------------------------------------------


def _set_offline(ctx: Ctx, disk: Instance, offline: bool) -> int:
    if not offline and attachment(ctx, int(disk["Number"])) is not None:
        return DISK_FAILED  # a passthrough disk belongs to its VM
    ctx.set(disk, IsOffline=offline, OfflineReason=OFFLINE_BY_POLICY if offline else None,
            OperationalStatus=STATUS_OFFLINE if offline else STATUS_ONLINE)
    ctx.save(disk)
    return COMPLETED


@method("MSFT_Disk", "Online")
def disk_online(ctx: Ctx, disk: Instance | None, args: Args) -> int:
    assert disk is not None
    return _set_offline(ctx, disk, False)


@method("MSFT_Disk", "Offline")
def disk_offline(ctx: Ctx, disk: Instance | None, args: Args) -> int:
    assert disk is not None
    return _set_offline(ctx, disk, True)


@method("MSFT_Disk", "Refresh")
def disk_refresh(ctx: Ctx, disk: Instance | None, args: Args) -> int:
    assert disk is not None
    refresh_sizes(ctx, only=disk)
    return COMPLETED


@method("MSFT_Disk", "SetAttributes")
def disk_set_attributes(ctx: Ctx, disk: Instance | None, args: Args) -> int:
    assert disk is not None
    if args.given("IsReadOnly"):
        disk["IsReadOnly"] = bool(args.get("IsReadOnly"))
        ctx.save(disk)
    return COMPLETED


@method("MSFT_StorageSetting", "Get")
def storage_setting_get(ctx: Ctx, cls: Instance | None, args: Args) -> int:
    ctx.output("StorageSettings", ctx.new("MSFT_StorageSetting", NS_STORAGE,
                                          NewDiskPolicy=new_disk_policy(ctx), ScrubPolicy=0))
    return COMPLETED


@method("MSFT_StorageSetting", "Set")
def storage_setting_set(ctx: Ctx, cls: Instance | None, args: Args) -> int:
    if args.given("NewDiskPolicy"):
        policy = args.get("NewDiskPolicy")
        if policy not in POLICY_NAMES:
            allowed = ", ".join(f"{k} ({v})" for k, v in POLICY_NAMES.items())
            raise CimError(WBEM_E_INVALID_PARAMETER,
                           f"NewDiskPolicy {policy!r} is not a SAN policy; allowed: {allowed}")
        ctx.txn.set_meta(SAN_POLICY, policy)
    return COMPLETED


@method("MSFT_StorageSetting", "UpdateHostStorageCache")
def update_host_storage_cache(ctx: Ctx, cls: Instance | None, args: Args) -> int:
    sync_disks(ctx)
    refresh_sizes(ctx)
    return COMPLETED


def fc_adapter_instance(wwpn: str) -> str:
    """The WMI InstanceName of the HBA a host FC port belongs to (one port per HBA)."""
    return f"PCI\\VEN_10DF&DEV_F100\\{wwpn[-6:].upper()}_0"


def fc_port_instance(ctx: Ctx, wwpn: str, wwnn: str) -> Instance:
    """The host's FC port: MSFT_InitiatorPort, and its HBA's MSFC_HBAFCPInfo (root/WMI)."""
    adapter = fc_adapter_instance(wwpn)
    if ctx.has_class("MSFC_HBAFCPInfo", NS_WMI):
        ctx.create(ctx.new("MSFC_HBAFCPInfo", NS_WMI, InstanceName=adapter, Active=True))
    return ctx.create(ctx.new(
        "MSFT_InitiatorPort", NS_STORAGE, ObjectId=f"{{1}}\\\\{ctx.hostname}\\FC\\{wwpn}",
        PortAddress=wwpn.lower(), NodeAddress=wwnn.lower(), InstanceName=adapter,
        ConnectionType=CONNECTION_FC, OperationalStatus=[2],
    ))


def _wwn_bytes(text: str) -> list[int]:
    return list(bytes.fromhex(text))


def _wide(text: str, size: int = 257) -> list[int]:
    """A WCHAR array of `size`, NUL padded (HBAScsiID.OSDeviceName)."""
    codes = [ord(c) for c in text][: size - 1]
    return codes + [0] * (size - len(codes))


@method("MSFC_HBAFCPInfo", "GetFcpTargetMapping")
def get_fcp_target_mapping(ctx: Ctx, adapter: Instance | None, args: Args) -> int:
    """Each LUN the SAN presents to the given port, with the host disk it is
    (OSDeviceName \\\\.\\PHYSICALDRIVE<n>, as the HBA API names disks on Windows)."""
    assert adapter is not None
    wanted = bytes(int(b) & 0xFF for b in args.get("HbaPortWWN") or ()).hex()
    data = san(ctx)
    ports = data["fc_ports"]
    if wanted not in ports or fc_adapter_instance(wanted) != adapter["InstanceName"]:
        ctx.output("HBAStatus", HBA_STATUS_ERROR_ILLEGAL_WWN)
        ctx.output("TotalEntryCount", 0)
        ctx.output("OutEntryCount", 0)
        ctx.output("Entry", [])
        return COMPLETED
    disks = msft_disks(ctx)
    entries = []
    for index, (wwpn, target) in enumerate(data["fc"].items()):
        if target["initiator"] != wanted:
            continue
        for lun in sorted(target["luns"], key=int):
            disk = disks.get(f"fc:{wwpn}:{lun}")
            if disk is None:
                continue
            fcp = ctx.new("HBAFCPID", NS_WMI, Fcid=0x010000 + index,
                          NodeWWN=_wwn_bytes("2" + wwpn[1:]), PortWWN=_wwn_bytes(wwpn),
                          FcpLun=int(lun))
            scsi = ctx.new("HBAScsiID", NS_WMI, ScsiBusNumber=0, ScsiTargetNumber=index,
                           ScsiOSLun=int(lun),
                           OSDeviceName=_wide(f"\\\\.\\PHYSICALDRIVE{disk['Number']}"))
            luid = list(bytes.fromhex(str(disk["UniqueId"])))
            entries.append(ctx.new("HBAFCPScsiEntry", NS_WMI, FCPId=fcp,
                                   Luid=luid + [0] * (256 - len(luid)), ScsiId=scsi))
    room = int(args.get("InEntryCount") or 0)
    ctx.output("HBAStatus", HBA_STATUS_OK if len(entries) <= room else
               HBA_STATUS_ERROR_MORE_DATA)
    ctx.output("TotalEntryCount", len(entries))
    ctx.output("OutEntryCount", min(room, len(entries)))
    ctx.output("Entry", entries[:room])
    return COMPLETED

