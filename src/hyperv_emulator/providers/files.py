"""The host's files as the providers see them: path mapping, images VMs hold, refusals.

Every provider that touches a file (the image management service, media rules, the
start check) goes through here, so a path means the same thing everywhere: the client's
text is kept as given in settings and outputs, and mapped to a local file with
`hostpaths.HostPaths` (drive letters under the state file's `.files` folder, shares to
their folders). A VM holds the files of its attached images, parents included, while it
has a worker process: running, paused or changing state, but not off or saved. Held
files cannot be merged, resized (except online VHDX resize on SCSI) or changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import vhdfile
from hyperv_emulator.hostpaths import HostPaths, PathError, files_root
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import (
    FAILED,
    FILE_NOT_FOUND,
    INVALID_PARAMETER,
    Ctx,
    Refused,
)
from hyperv_emulator.providers.vms import OFF, SAVED, Vm, load_vm

SMB_SHARES = "smb_shares"  # meta: {"\\\\server\\share": "/local/folder"}
SMB_DRIVES = "smb_drives"  # meta: {"x": "\\\\server\\share"} (drive letters mapped to shares)
VHD_EXTENSIONS = {".vhd": vhdfile.DiskFormat.VHD, ".vhdx": vhdfile.DiskFormat.VHDX,
                  ".avhd": vhdfile.DiskFormat.VHD, ".avhdx": vhdfile.DiskFormat.VHDX}
ISO_SECTOR = 2048
FLOPPY_SIZE = 1_474_560  # the 1.44 MB image Hyper-V's virtual floppy drive takes


def state_path(ctx: Ctx) -> Path:
    """The state file this transaction works on (the host's files live beside it)."""
    for _, name, filename in ctx.txn.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(filename)
    raise RuntimeError("the host's state has no main database")


def host_paths(ctx: Ctx) -> HostPaths:
    return HostPaths(files_root(state_path(ctx)), ctx.txn.meta(SMB_SHARES, {}),
                     ctx.txn.meta(SMB_DRIVES, {}))


def local_path(ctx: Ctx, text: str | None, what: str, *, vm: Vm | None = None,
               must_exist: bool = True) -> Path:
    """The local file a client's path names; a refusal names `what` and the path."""
    affected = [vm.cs] if vm is not None else []
    subject = f"'{vm.name}'" if vm is not None else ""
    if not text:
        raise Refused(INVALID_PARAMETER, f"{what} is required (a fully qualified path)",
                      affected=affected, subject=subject)
    try:
        path = host_paths(ctx).local(text)
    except PathError as exc:
        code = FILE_NOT_FOUND if exc.missing else INVALID_PARAMETER
        raise Refused(code, f"{what}: {exc}", affected=affected, subject=subject) from None
    if must_exist and not path.is_file():
        raise Refused(FILE_NOT_FOUND, f"{what} {text!r}: the system cannot find the file "
                                      "specified", affected=affected, subject=subject)
    return path


def parent_resolver(ctx: Ctx) -> vhdfile.disk.ParentResolver:
    """Finds a differencing disk's parent the way the host does: the relative locator
    next to the child first, then the recorded absolute path mapped onto this host."""
    paths = host_paths(ctx)

    def resolve(locator: vhdfile.ParentLocator, child: str) -> str | None:
        here = Path(child).parent
        if locator.relative_path:
            candidate = here / locator.relative_path.replace("\\", "/")
            if candidate.is_file():
                return str(candidate)
        for text in (locator.absolute_path, locator.volume_path):
            if not text:
                continue
            try:
                candidate = paths.local(text)
            except PathError:
                continue
            if candidate.is_file():
                return str(candidate)
        return None

    return resolve


def vhd_refusal(exc: vhdfile.VhdError | OSError, what: str, vm: Vm | None = None) -> Refused:
    """How Hyper-V reports a file it cannot use: a refused request is an invalid
    parameter, a missing parent a missing file, anything else a failure."""
    if isinstance(exc, vhdfile.RequestError):
        code = INVALID_PARAMETER
    elif isinstance(exc, (vhdfile.ParentNotFoundError, FileNotFoundError)):
        code = FILE_NOT_FOUND
    else:
        code = FAILED
    reason = exc.reason if isinstance(exc, vhdfile.VhdError) else str(exc)
    return Refused(code, f"{what}: {reason}", affected=[vm.cs] if vm is not None else [],
                   subject=f"'{vm.name}'" if vm is not None else "")


def image_info(ctx: Ctx, path: Path, what: str, vm: Vm | None = None) -> vhdfile.DiskInfo:
    """Open a virtual hard disk with its whole chain (a broken chain is refused)."""
    try:
        with vhdfile.open_disk(path, parent_resolver=parent_resolver(ctx)) as disk:
            return disk.info
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, what, vm) from None


_CHAINS: dict[tuple[str, int, int, int], tuple[str, ...]] = {}
_CHAIN_CACHE_SIZE = 4096


def chain_of(ctx: Ctx, path: Path) -> list[Path]:
    """The files a virtual hard disk reads: itself, then its parents (what opens).

    Remembered per file version (inode, size, modification time) within the process:
    a running VM's disks are looked at on every image service call.
    """
    try:
        stat = path.stat()
    except OSError:
        return [path]
    key = (os.path.realpath(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    found = _CHAINS.get(key)
    if found is None:
        try:
            with vhdfile.open_disk(path, parent_resolver=parent_resolver(ctx)) as disk:
                found = tuple(os.path.realpath(d.path) for d in disk.chain)
        except (vhdfile.VhdError, OSError):
            return [path]
        if len(_CHAINS) >= _CHAIN_CACHE_SIZE:
            _CHAINS.clear()
        _CHAINS[key] = found
    return [Path(p) for p in found]


def check_extension(text: str, fmt: vhdfile.DiskFormat, what: str,
                    vm: Vm | None = None) -> None:
    """Hyper-V opens .vhd(x) files by their extension: it must match the content."""
    suffix = Path(text.replace("\\", "/")).suffix.lower()
    wanted = VHD_EXTENSIONS.get(suffix)
    if wanted is not fmt:
        raise Refused(INVALID_PARAMETER,
                      f"{what} {text!r}: the file is a {fmt.value.upper()} but its name ends "
                      f"in {suffix or 'no extension'}; a VHD needs .vhd and a VHDX .vhdx",
                      affected=[vm.cs] if vm is not None else [],
                      subject=f"'{vm.name}'" if vm is not None else "")


def is_iso(path: Path) -> bool:
    """An ISO 9660 or UDF image: a volume descriptor where sector 16 starts."""
    try:
        with open(path, "rb") as f:
            f.seek(16 * ISO_SECTOR)
            head = f.read(6)
    except OSError:
        return False
    return head[1:6] in (b"CD001", b"BEA01", b"NSR02", b"NSR03")


@dataclass(frozen=True)
class AttachedImage:
    """An image in a drive of a VM whose worker has it open (running, paused, changing)."""

    vm: Vm
    setting: Instance
    local: Path


def _held_media(ctx: Ctx) -> list[tuple[str, Instance, Path]]:
    """(VM GUID, medium, local file) of every image a running VM has in a drive."""
    found = []
    paths = host_paths(ctx)
    for cs in ctx.query("Msvm_ComputerSystem",
                        where=lambda i: i.get("Caption") == "Virtual Machine"
                        and i.get("EnabledState") not in (OFF, SAVED)):
        guid = str(cs["Name"])
        for setting in ctx.query("Msvm_StorageAllocationSettingData", vm=guid,
                                 hint=("prefix", "InstanceID", f"Microsoft:{guid}\\")):
            resources = setting.get("HostResource") or ()
            if not resources:
                continue
            try:
                found.append((guid, setting, paths.local(resources[0])))
            except PathError:
                continue
    return found


def on_scsi(ctx: Ctx, media: Instance) -> bool:
    """Whether a medium sits in a drive of a SCSI controller."""
    drive_id = str(media.get("InstanceID", ""))
    if not drive_id.upper().endswith("\\L"):
        return False
    drives = ctx.query("Msvm_ResourceAllocationSettingData",
                       hint=("eq", "InstanceID", drive_id[:-1] + "D"))
    controller = ctx.get(drives[0].get("Parent") or "") if drives else None
    return controller is not None and catalog.kind_of(controller) is catalog.SCSI_CONTROLLER


def holder(ctx: Ctx, path: Path) -> tuple[AttachedImage, bool] | None:
    """The attached image whose running VM holds `path`, and whether `path` is that
    image itself (True) or one of its parents (False)."""
    try:
        wanted = os.path.realpath(path)
    except OSError:
        return None
    media = _held_media(ctx)
    match = next(((m, True) for m in media if os.path.realpath(m[2]) == wanted), None)
    if match is None:
        match = next(((m, False) for m in media if catalog.kind_of(m[1]) is catalog.VHD
                      and wanted in map(str, chain_of(ctx, m[2])[1:])), None)
    if match is None:
        return None
    (guid, setting, local), is_top = match
    vm = load_vm(ctx, guid)
    return (AttachedImage(vm, setting, local), is_top) if vm is not None else None
