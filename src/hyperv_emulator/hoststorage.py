"""The emulated host's storage environment, set up from outside: `host.storage`.

A real Hyper-V host sits on a network with SANs and file servers. What they offer is
not Windows state, so no WMI call creates it: a test, or the local cloud's in-process
volume service, describes it here, and the host then finds it the way Windows does.

```python
storage = host.storage
lun = storage.add_iscsi_lun("iqn.2010-10.org.openstack:volume-1", 0, size=1 << 30,
                            serial="vol-1", portal="10.0.0.5:3260")
# the driver: MSFT_iSCSITargetPortal.New(10.0.0.5) -> MSFT_iSCSITarget.Connect(iqn)
# -> MSFT_Disk (Number, SerialNumber) / Msvm_DiskDrive (DriveNumber) appear
storage.extend_lun(lun.target, 0, 2 << 30)     # the SAN grows the LUN; the host sees it
                                              # after MSFT_Disk.Refresh / a rescan
storage.add_fc_port("10000090fa0a0b0c")         # the host's HBA
storage.add_fc_lun("500a098188ad7a33", 1, size=1 << 30, serial="vol-2")  # appears at once
storage.add_smb_share("\\\\fileserver\\volumes", "/srv/volumes")  # UNC paths now resolve
storage.guest_disks("instance-1")               # what a VM sees: sizes of its disks
```

Everything is kept in the state file (shared by every process that opens the host).
A LUN is backed by a local file: one given (its size is the LUN's size) or a sparse one
made in the host's files folder (`<state>.files/luns/`). Errors are `StorageError`
(a ValueError) naming the field, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import vhdfile
from hyperv_emulator import store
from hyperv_emulator.hostpaths import PathError, files_root, share_key
from hyperv_emulator.providers import catalog, volumes
from hyperv_emulator.providers.base import Ctx, HostSettings
from hyperv_emulator.providers.files import SMB_SHARES, host_paths, parent_resolver
from hyperv_emulator.providers.vms import Vm, all_vms, load_vm
from hyperv_emulator.schema.model import NS_STORAGE

if TYPE_CHECKING:
    from hyperv_emulator.host import Host

_IQN = re.compile(r"^(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9a-f]{16}|naa\.[0-9a-f]{16,32})$",
                  re.IGNORECASE)
_WWN = re.compile(r"^[0-9a-f]{16}$")
MAX_LUN = 254  # Windows addresses LUNs 0..254 per target
SECTOR = 512


class StorageError(ValueError):
    """A storage request the environment cannot honour (the message says why)."""


@dataclass(frozen=True)
class Lun:
    transport: str  # "iscsi" | "fc"
    target: str  # target IQN or target WWPN
    lun: int
    path: Path
    size: int
    serial: str
    portal: str | None = None  # iSCSI: "address:port"
    initiator: str | None = None  # FC: the host port it is presented to


@dataclass(frozen=True)
class HostDisk:
    number: int
    size: int
    serial: str
    bus: str  # "iSCSI" | "FC" | "SAS"
    offline: bool
    source: str  # local:<n> | iscsi:<iqn>:<lun> | fc:<wwpn>:<lun>
    attached_to: str | None  # the VM's name, if passed through


@dataclass(frozen=True)
class GuestDisk:
    """A disk as the guest sees it: where it sits and how large it is right now."""

    controller: str  # "SCSI 0", "IDE 1"
    slot: int
    kind: str  # "vhd" | "iso" | "vfd" | "passthrough"
    path: str | None  # the image path as attached, or the host disk's path
    size: int


_BUS_NAMES = {volumes.BUS_ISCSI: "iSCSI", volumes.BUS_FC: "FC", volumes.BUS_SAS: "SAS"}


def _wwn(text: str, what: str) -> str:
    value = text.replace(":", "").replace("-", "").lower()
    if not _WWN.match(value):
        raise StorageError(f"{what} {text!r} is not a world wide name (16 hex digits, colons "
                           "allowed)")
    return value


class HostStorage:
    def __init__(self, host: Host) -> None:
        self.host = host

    @contextmanager
    def _ctx(self, write: bool) -> Iterator[Ctx]:
        conn = store.connect(self.host.path)
        try:
            with store.transaction(conn, self.host.registry, self.host.hostname, write) as txn:
                yield Ctx(txn, self.host.profile, HostSettings.from_mapping(txn.meta("settings")))
        finally:
            conn.close()

    # -- the host's files ------------------------------------------------------------

    @property
    def files_root(self) -> Path:
        """Where drive letters (`drives/c` is C:) and LUN files live."""
        return files_root(self.host.path)

    def local_path(self, path: str) -> Path:
        """The local file a host path (C:\\..., \\\\server\\share\\..., /...) names."""
        with self._ctx(write=False) as ctx:
            paths = host_paths(ctx)
        try:
            return paths.local(path)
        except PathError as exc:
            raise StorageError(str(exc)) from None

    # -- SMB shares ------------------------------------------------------------------

    def add_smb_share(self, unc: str, folder: str | os.PathLike[str]) -> None:
        """Make `\\\\server\\share` reachable from the host, backed by a local folder."""
        try:
            key = share_key(unc)
        except PathError as exc:
            raise StorageError(str(exc)) from None
        local = Path(folder)
        if not local.is_absolute():
            raise StorageError(f"folder {str(folder)!r} must be an absolute local path")
        local.mkdir(parents=True, exist_ok=True)
        with self._ctx(write=True) as ctx:
            shares = ctx.txn.meta(SMB_SHARES, {})
            if key in shares and shares[key] != str(local):
                raise StorageError(f"share {unc} is already backed by {shares[key]}")
            shares[key] = str(local)
            ctx.txn.set_meta(SMB_SHARES, shares)

    def remove_smb_share(self, unc: str) -> None:
        with self._ctx(write=True) as ctx:
            shares = ctx.txn.meta(SMB_SHARES, {})
            if shares.pop(share_key(unc), None) is None:
                raise StorageError(f"no share {unc} on this host's network")
            ctx.txn.set_meta(SMB_SHARES, shares)

    def smb_shares(self) -> dict[str, str]:
        with self._ctx(write=False) as ctx:
            return dict(ctx.txn.meta(SMB_SHARES, {}))

    # -- LUNs ------------------------------------------------------------------------

    def add_iscsi_lun(self, target_iqn: str, lun: int = 0, *, path: str | None = None,
                      size: int | None = None, serial: str | None = None,
                      portal: str = "127.0.0.1:3260",
                      chap: tuple[str, str] | None = None) -> Lun:
        """Offer a LUN on an iSCSI target (made on first use) reachable at `portal`.

        The host sees it once it has logged in to the target (or, if it already has, at
        its next rescan). `chap` = (user name, secret) makes the target require CHAP.
        """
        if not _IQN.match(target_iqn or ""):
            raise StorageError(f"target_iqn {target_iqn!r} is not an iSCSI name (iqn.YYYY-MM."
                               "domain[:name], eui.<16 hex> or naa.<hex>)")
        address, _, port_text = portal.rpartition(":") if ":" in portal else (portal, "", "")
        port = int(port_text or volumes.ISCSI_PORT)
        if not address or not 0 < port < 65536:
            raise StorageError(f"portal {portal!r} must be address[:port]")
        key = target_iqn.lower()
        with self._ctx(write=True) as ctx:
            data = volumes.san(ctx)
            target = data["iscsi"].setdefault(key, {
                "iqn": target_iqn, "portal": f"{address.lower()}:{port}",
                "chap": list(chap) if chap else None, "luns": {}})
            if target["portal"] != f"{address.lower()}:{port}":
                raise StorageError(f"target {target_iqn} is served at {target['portal']}, "
                                   f"not {portal}")
            if chap is not None and target["chap"] != list(chap):
                raise StorageError(f"target {target_iqn} already has other CHAP credentials")
            entry = self._new_lun(target["luns"], "iscsi", key, lun, path, size, serial)
            volumes.save_san(ctx, data)
            volumes.sync_disks(ctx)
            return self._lun("iscsi", target, lun, entry)

    def add_fc_port(self, wwpn: str, wwnn: str | None = None) -> None:
        """Give the host a Fibre Channel initiator port (an HBA port)."""
        port = _wwn(wwpn, "wwpn")
        node = _wwn(wwnn, "wwnn") if wwnn else "2" + port[1:]
        with self._ctx(write=True) as ctx:
            data = volumes.san(ctx)
            if port in data["fc_ports"]:
                raise StorageError(f"the host already has FC port {port}")
            data["fc_ports"][port] = {"wwnn": node}
            volumes.save_san(ctx, data)
            volumes.fc_port_instance(ctx, port, node)
            volumes.sync_disks(ctx)

    def add_fc_lun(self, target_wwpn: str, lun: int = 0, *, path: str | None = None,
                   size: int | None = None, serial: str | None = None,
                   initiator_wwpn: str | None = None) -> Lun:
        """Present a LUN of an FC target port to one of the host's ports (default: the
        first); the host sees the disk at once."""
        target_key = _wwn(target_wwpn, "target_wwpn")
        with self._ctx(write=True) as ctx:
            data = volumes.san(ctx)
            if not data["fc_ports"]:
                raise StorageError("the host has no Fibre Channel port; add one with "
                                   "add_fc_port first")
            initiator = _wwn(initiator_wwpn, "initiator_wwpn") if initiator_wwpn else next(
                iter(data["fc_ports"]))
            if initiator not in data["fc_ports"]:
                raise StorageError(f"initiator_wwpn {initiator_wwpn!r} is not a port of this "
                                   f"host (ports: {', '.join(data['fc_ports'])})")
            target = data["fc"].setdefault(target_key, {"wwpn": target_key,
                                                        "initiator": initiator, "luns": {}})
            if target["initiator"] != initiator:
                raise StorageError(f"target {target_key} is zoned to host port "
                                   f"{target['initiator']}, not {initiator}")
            entry = self._new_lun(target["luns"], "fc", target_key, lun, path, size, serial)
            volumes.save_san(ctx, data)
            volumes.sync_disks(ctx)
            return self._lun("fc", target, lun, entry)

    def _new_lun(self, luns: dict[str, Any], transport: str, target: str, lun: int,
                 path: str | None, size: int | None, serial: str | None) -> dict[str, Any]:
        if not isinstance(lun, int) or not 0 <= lun <= MAX_LUN:
            raise StorageError(f"lun {lun!r} must be 0..{MAX_LUN}")
        if str(lun) in luns:
            raise StorageError(f"{target} already has LUN {lun}")
        if size is not None and (size <= 0 or size % SECTOR):
            raise StorageError(f"size {size} must be a positive multiple of {SECTOR} bytes")
        owned = False
        if path is None:
            if size is None:
                raise StorageError("give the LUN a backing file (path=) or a size (size=)")
            safe = re.sub(r"[^0-9A-Za-z.-]+", "_", target)
            backing = self.files_root / "luns" / f"{transport}-{safe}-{lun}.img"
            owned = True
        else:
            backing = Path(path)
            if not backing.is_absolute():
                raise StorageError(f"path {path!r} must be an absolute local path")
        if backing.exists():
            if owned or size is not None:
                raise StorageError(f"{backing} already exists; give it as path= alone to use "
                                   "it as it is")
            if not backing.is_file():
                raise StorageError(f"path {str(backing)!r} is not a regular file")
        else:
            if size is None:
                raise StorageError(f"path {str(backing)!r} does not exist; give size= to make "
                                   "it")
            backing.parent.mkdir(parents=True, exist_ok=True)
            with open(backing, "xb") as f:
                f.truncate(size)
        default_serial = hashlib.blake2b(f"{transport}:{target}:{lun}".encode(),
                                         digest_size=6).hexdigest().upper()
        entry = {"path": str(backing), "serial": serial or default_serial, "owned": owned}
        luns[str(lun)] = entry
        return entry

    def _lun(self, transport: str, target: dict[str, Any], lun: int,
             entry: dict[str, Any]) -> Lun:
        return Lun(transport, target.get("iqn") or target["wwpn"], lun, Path(entry["path"]),
                   volumes.lun_size(entry), entry["serial"], target.get("portal"),
                   target.get("initiator"))

    def _find(self, data: dict[str, Any], target: str, lun: int) -> tuple[str, str, dict[str, Any]]:
        iscsi = data["iscsi"].get(target.lower())
        if iscsi is not None and str(lun) in iscsi["luns"]:
            return "iscsi", target.lower(), iscsi
        try:
            key = _wwn(target, "target")
        except StorageError:
            key = None
        fc = data["fc"].get(key) if key else None
        if fc is not None and str(lun) in fc["luns"]:
            return "fc", key, fc  # type: ignore[return-value]
        raise StorageError(f"no LUN {lun} on target {target}")

    def remove_lun(self, target: str, lun: int) -> None:
        """The SAN stops offering the LUN; its host disk goes (refused while a VM has it)."""
        with self._ctx(write=True) as ctx:
            data = volumes.san(ctx)
            transport, key, entry = self._find(data, target, lun)
            disk = volumes.msft_disks(ctx).get(f"{transport}:{key}:{lun}")
            if disk is not None:
                found = volumes.attachment(ctx, int(disk["Number"]))
                if found is not None:
                    raise StorageError(f"LUN {lun} of {target} is disk {disk['Number']}, passed "
                                       f"through to the virtual machine {found[0].describe()}; "
                                       "detach it first")
            removed = entry["luns"].pop(str(lun))
            if not entry["luns"] and transport == "fc":
                del data["fc"][key]
            volumes.save_san(ctx, data)
            volumes.sync_disks(ctx)
        if removed.get("owned"):
            Path(removed["path"]).unlink(missing_ok=True)

    def extend_lun(self, target: str, lun: int, new_size: int) -> Lun:
        """Grow a LUN (its backing file). The host sees the new size after a rescan
        (MSFT_Disk.Refresh, UpdateHostStorageCache); a VM with it passed through at once."""
        with self._ctx(write=False) as ctx:
            transport, _, entry = self._find(volumes.san(ctx), target, lun)
        lun_entry = entry["luns"][str(lun)]
        current = volumes.lun_size(lun_entry)
        if new_size <= current or new_size % SECTOR:
            raise StorageError(f"new_size {new_size}: a volume grows to a larger multiple of "
                               f"{SECTOR} bytes than its {current} bytes")
        os.truncate(lun_entry["path"], new_size)
        return self._lun(transport, entry, lun, lun_entry)

    def luns(self) -> list[Lun]:
        with self._ctx(write=False) as ctx:
            data = volumes.san(ctx)
        found = []
        for transport in ("iscsi", "fc"):
            for target in data[transport].values():
                for lun, entry in sorted(target["luns"].items(), key=lambda i: int(i[0])):
                    found.append(self._lun(transport, target, int(lun), entry))
        return found

    # -- what the host and its VMs see -----------------------------------------------

    def disks(self) -> list[HostDisk]:
        with self._ctx(write=False) as ctx:
            found = []
            for source, disk in volumes.msft_disks(ctx).items():
                attached = volumes.attachment(ctx, int(disk["Number"]))
                found.append(HostDisk(
                    int(disk["Number"]), int(disk["Size"]), str(disk.get("SerialNumber") or ""),
                    _BUS_NAMES.get(disk.get("BusType"), str(disk.get("BusType"))),
                    bool(disk.get("IsOffline")), source,
                    attached[0].name if attached else None))
            return sorted(found, key=lambda d: d.number)

    def iscsi_sessions(self) -> list[dict[str, Any]]:
        with self._ctx(write=False) as ctx:
            return [{"target": s.get("TargetNodeAddress"), "session": s.get("SessionIdentifier"),
                     "persistent": bool(s.get("IsPersistent"))}
                    for s in ctx.query("MSFT_iSCSISession", NS_STORAGE)]

    def guest_disks(self, vm: str) -> list[GuestDisk]:
        """The disks a VM's guest sees, by controller and slot, with their size now: a
        virtual hard disk's virtual size, an image's file size, a passthrough disk's LUN
        size (the guest reads the LUN itself, so a grown volume shows at once)."""
        with self._ctx(write=False) as ctx:
            found = _vm_by_name(ctx, vm)
            return _guest_view(ctx, found)


def _vm_by_name(ctx: Ctx, name: str) -> Vm:
    by_id = load_vm(ctx, name.upper())
    if by_id is not None:
        return by_id
    matches = [vm for vm in all_vms(ctx) if vm.name == name]
    if len(matches) != 1:
        raise StorageError(f"vm {name!r}: {'no' if not matches else len(matches)} virtual "
                           "machines have that name or ID")
    return matches[0]


def _guest_view(ctx: Ctx, vm: Vm) -> list[GuestDisk]:
    from hyperv_emulator.providers.devices import vm_settings

    settings = vm_settings(ctx, vm)
    by_id = {str(s["InstanceID"]).lower(): s for s in settings}
    specs = volumes.visible(ctx)
    sources = {int(d["Number"]): k for k, d in volumes.msft_disks(ctx).items()}
    labels: dict[str, str] = {}
    scsi = 0
    for setting in settings:
        kind = catalog.kind_of(setting)
        if kind is catalog.SCSI_CONTROLLER:
            labels[str(setting["InstanceID"]).lower()] = f"SCSI {scsi}"
            scsi += 1
        elif kind is catalog.IDE_CONTROLLER:
            labels[str(setting["InstanceID"]).lower()] = f"IDE {setting.get('Address')}"
    paths = host_paths(ctx)
    disks = []
    for setting in settings:
        kind = catalog.kind_of(setting)
        if kind not in (catalog.VHD, catalog.ISO, catalog.VFD, catalog.PHYSICAL_DISK):
            continue
        drive = setting if kind is catalog.PHYSICAL_DISK else by_id.get(
            str(setting["InstanceID"]).lower().removesuffix("\\l") + "\\d")
        if drive is None:
            continue
        controller_id = str(drive["InstanceID"]).lower().rsplit("\\", 2)[0]
        resources = setting.get("HostResource") or ()
        text = str(resources[0]) if resources and resources[0] else None
        size = 0
        if kind is catalog.PHYSICAL_DISK and text:
            host_drive = ctx.get(text)
            number = int(host_drive["DriveNumber"]) if host_drive is not None else -1
            spec = specs.get(sources.get(number, ""))
            size = spec.size if spec is not None else 0
        elif text:
            try:
                local = paths.local(text)
                if kind is catalog.VHD:
                    size = vhdfile.inspect(local, parent_resolver=parent_resolver(ctx)).virtual_size
                else:
                    size = local.stat().st_size
            except (PathError, OSError, vhdfile.VhdError):
                size = 0
        disks.append(GuestDisk(labels.get(controller_id, "?"), int(drive["AddressOnParent"]),
                               "passthrough" if kind is catalog.PHYSICAL_DISK else kind.name,
                               text, size))
    return sorted(disks, key=lambda d: (d.controller, d.slot))
