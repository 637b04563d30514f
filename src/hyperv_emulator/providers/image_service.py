"""Msvm_ImageManagementService (`vhdsvc`): virtual hard disk files, made real by vhdfile.

What a real host does (reference notes §2.18 and the docs of each method), as the
emulator does it:

- Create, Resize, Merge, Convert and Validate return 4096 with a job (a real host did,
  R:create_vhd, R:vhd_resize, R:vhd_merge, R:vhd_convert, R:vhd_validate); the Get
  methods, SetVirtualHardDiskSettingData and SetParentVirtualHardDisk return 0.
- A refusal is a job in state 10 with Hyper-V's vendor code (an `.avhdx` path given to
  CreateVirtualHardDisk: 32773, R:vhd_setparent; a corrupt file given to Validate:
  32768, R:vhd_validate): 32773 for a bad request (format and extension disagree, a
  size below the minimum, a second change in one SetVirtualHardDiskSettingData), 32779
  for a missing file or folder, 32775 for a file a running VM holds, 32770 for what the
  host does not do (VHD Sets). The Get methods answer a refusal synchronously.
- Files are written when the method runs (the job only reports): a failed call leaves
  nothing behind, because vhdfile publishes new files only when complete and rolls
  in-place changes back.
- The path a client gave is what settings report; ParentPath is what the child file
  records (the parent's path as it was given when the child was made or reconnected).
- A disk attached to a running VM is held: it cannot be merged, converted or
  reconnected, and can be resized only if it is a VHDX on a SCSI controller (online
  resize, Windows Server 2012 R2 and later; a VHD or an IDE disk must be offline).
  Merging deletes the child afterwards, as Hyper-V does.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from pathlib import Path
from typing import Any

import vhdfile
from hyperv_emulator.cimtypes import format_datetime
from hyperv_emulator.errors import CimError
from hyperv_emulator.hostpaths import files_root
from hyperv_emulator.instances import Instance
from hyperv_emulator.jobs import start_job
from hyperv_emulator.providers.base import (
    COMPLETED,
    FILE_NOT_FOUND,
    INVALID_PARAMETER,
    INVALID_STATE,
    JOB_STARTED,
    NOT_SUPPORTED_VENDOR,
    Args,
    Ctx,
    Refused,
    method,
)
from hyperv_emulator.providers.files import (
    chain_of,
    check_extension,
    holder,
    image_info,
    local_path,
    on_scsi,
    parent_resolver,
    state_path,
    vhd_refusal,
)
from hyperv_emulator.providers.seed import SEED_HOOKS, host_cs_path

IMS = "Msvm_ImageManagementService"
VHDSD = "Msvm_VirtualHardDiskSettingData"
FORMATS = {2: vhdfile.DiskFormat.VHD, 3: vhdfile.DiskFormat.VHDX}
FORMAT_CODES = {v: k for k, v in FORMATS.items()}
TYPES = {2: vhdfile.DiskType.FIXED, 3: vhdfile.DiskType.DYNAMIC,
         4: vhdfile.DiskType.DIFFERENCING}
TYPE_CODES = {v: k for k, v in TYPES.items()}
# Msvm_StorageJob.JobType values (the docs of Msvm_StorageJob).
JOB_CREATE, JOB_EXPAND, JOB_MERGE, JOB_CONVERT, JOB_VALIDATE = 1, 4, 5, 6, 9
_JOB_TEXT = {JOB_CREATE: "Creating Virtual Hard Disk", JOB_EXPAND: "Resizing Virtual Hard Disk",
             JOB_MERGE: "Merging Virtual Hard Disks",
             JOB_CONVERT: "Converting Virtual Hard Disk",
             JOB_VALIDATE: "Validating Virtual Hard Disk"}


def _storage_job(ctx: Ctx, job_type: int) -> int:
    path = start_job(ctx, job_type, [])
    job = ctx.get(path)
    if job is not None:
        text = _JOB_TEXT[job_type]
        ctx.set(job, Caption=text, Description=text, ElementName=text)
        ctx.save(job)
    return JOB_STARTED


def _setting(ctx: Ctx, args: Args, name: str = "VirtualDiskSettingData") -> Instance:
    text = args.get(name)
    if not text:
        raise Refused(INVALID_PARAMETER, f"{name} is required (an embedded {VHDSD})")
    try:
        setting = ctx.decode(text)
    except CimError as exc:
        raise Refused(INVALID_PARAMETER, f"{name}: {exc.message}") from None
    if not setting.is_a(VHDSD):
        raise Refused(INVALID_PARAMETER, f"{name} is a {setting.class_name}, not a {VHDSD}")
    return setting


def _format_of(setting: Instance, path_text: str) -> vhdfile.DiskFormat:
    """The Format a setting asks for, which must agree with its path's extension."""
    code = setting.get("Format")
    suffix = Path(path_text.replace("\\", "/")).suffix.lower()
    if code == 4 or suffix == ".vhds":
        raise Refused(NOT_SUPPORTED_VENDOR, f"{path_text!r}: VHD Sets (Format 4, .vhds) are "
                                            "not supported by the emulated host")
    if code not in FORMATS:
        raise Refused(INVALID_PARAMETER, f"{VHDSD}.Format = {code!r}: use 2 (VHD) or 3 (VHDX)")
    if suffix in (".avhd", ".avhdx"):
        raise Refused(INVALID_PARAMETER, f"Path {path_text!r}: {suffix} is the extension of "
                                         "checkpoint disks Hyper-V makes itself; use .vhd or "
                                         ".vhdx")
    fmt = FORMATS[code]
    check_extension(path_text, fmt, "Path")
    return fmt


def _new_disk(ctx: Ctx, args: Args) -> tuple[Instance, str, vhdfile.DiskFormat,
                                               vhdfile.DiskType | None]:
    """The setting of a disk to be made: its path, format (agreeing with the extension)
    and type (None if not a known one)."""
    setting = _setting(ctx, args)
    text = setting.get("Path")
    if not text:
        raise Refused(INVALID_PARAMETER, f"{VHDSD}.Path (the new file) is required")
    return setting, text, _format_of(setting, text), TYPES.get(setting.get("Type"))


def _new_file(ctx: Ctx, text: str | None) -> Path:
    """A file to be made: it must not exist, and its folder must."""
    path = local_path(ctx, text, "Path", must_exist=False)
    if path.exists():
        raise Refused(INVALID_PARAMETER, f"Path {text!r}: the file already exists")
    if not path.parent.is_dir():
        raise Refused(FILE_NOT_FOUND, f"Path {text!r}: the folder does not exist (the system "
                                      "cannot find the path specified)")
    return path


def _size(value: Any, sector: int) -> int:
    """Sizes round up to the logical sector, as Hyper-V rounds MaxInternalSize."""
    return -(-int(value) // sector) * sector


def _refuse_if_held(ctx: Ctx, path: Path, text: str, action: str, *,
                    parents: bool = True) -> None:
    """32775 if a running VM has the file open (as its image, or as a parent)."""
    held = holder(ctx, path)
    if held is not None and (parents or held[1]):
        image, _ = held
        raise Refused(INVALID_STATE, f"cannot {action} {text!r}: it is in use by the running "
                                     f"virtual machine {image.vm.describe()}",
                      affected=[image.vm.cs], subject=f"'{image.vm.name}'")


# -- creating ---------------------------------------------------------------------------


@method(IMS, "CreateVirtualHardDisk")
def create_virtual_hard_disk(ctx: Ctx, service: Instance | None, args: Args) -> int:
    setting, text, fmt, dtype = _new_disk(ctx, args)
    if dtype is None:
        raise Refused(INVALID_PARAMETER, f"{VHDSD}.Type = {setting.get('Type')!r}: use 2 "
                                         "(fixed), 3 (dynamic) or 4 (differencing)")
    target = _new_file(ctx, text)
    logical = setting.get("LogicalSectorSize") or None
    size = setting.get("MaxInternalSize") or None
    parent = None
    parent_text = setting.get("ParentPath") or None
    if dtype is vhdfile.DiskType.DIFFERENCING:
        parent = local_path(ctx, parent_text, "ParentPath")
    elif parent_text:
        raise Refused(INVALID_PARAMETER, f"ParentPath {parent_text!r}: only a differencing "
                                         "disk (Type 4) has a parent")
    elif size is None:
        raise Refused(INVALID_PARAMETER, f"{VHDSD}.MaxInternalSize is required for a fixed or "
                                         "dynamic disk (its size in bytes)")
    if size is not None:
        size = _size(size, logical or 512)
    try:
        vhdfile.create(
            target, fmt, dtype, size, block_size=setting.get("BlockSize") or None,
            logical_sector_size=logical,
            physical_sector_size=setting.get("PhysicalSectorSize") or None,
            parent=parent, parent_path_in_file=parent_text, parent_resolver=parent_resolver(ctx),
        )
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, f"creating {text!r}") from None
    return _storage_job(ctx, JOB_CREATE)


# -- reading ----------------------------------------------------------------------------


def _existing(ctx: Ctx, args: Args, name: str = "Path") -> tuple[str, Path]:
    text = args.get(name)
    return text, local_path(ctx, text, name)


@method(IMS, "GetVirtualHardDiskSettingData")
def get_virtual_hard_disk_setting_data(ctx: Ctx, service: Instance | None, args: Args) -> int:
    try:
        text, path = _existing(ctx, args)
        info = _read(ctx, path, text)
    except Refused as refusal:
        refusal.job = False
        raise
    locator = info.parent_locator
    setting = ctx.new(
        VHDSD, Path=text, Type=TYPE_CODES[info.type], Format=FORMAT_CODES[info.format],
        ParentPath=locator.absolute_path if locator else None,
        ParentIdentifier=locator.linkage if locator else None,
        MaxInternalSize=info.virtual_size,
        BlockSize=0 if info.type is vhdfile.DiskType.FIXED and
        info.format is vhdfile.DiskFormat.VHD else info.block_size,
        LogicalSectorSize=info.logical_sector_size,
        PhysicalSectorSize=info.physical_sector_size,
        VirtualDiskId=str(info.virtual_disk_id).upper(),
    )
    ctx.output("SettingData", setting.to_xml())
    return COMPLETED


def _read(ctx: Ctx, path: Path, text: str) -> vhdfile.DiskInfo:
    """What the file says about itself; a missing parent does not stop a description."""
    try:
        return vhdfile.inspect(path, parent_resolver=parent_resolver(ctx))
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, f"reading {text!r}") from None


@method(IMS, "GetVirtualHardDiskState")
def get_virtual_hard_disk_state(ctx: Ctx, service: Instance | None, args: Args) -> int:
    try:
        text, path = _existing(ctx, args)
        info = _read(ctx, path, text)
        minimum = None
        if info.format is vhdfile.DiskFormat.VHDX:
            try:
                with vhdfile.open_disk(path, parent_resolver=parent_resolver(ctx)) as disk:
                    minimum = vhdfile.minimum_size(disk)
            except vhdfile.ParentError:
                minimum = None
    except Refused as refusal:
        refusal.job = False
        raise
    stamp = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.UTC)
    state = ctx.new(
        "Msvm_VirtualHardDiskState", FileSize=info.file_size,
        InUse=holder(ctx, path) is not None, MinInternalSize=minimum,
        PhysicalSectorSize=info.physical_sector_size,
        Alignment=1 if info.format is vhdfile.DiskFormat.VHDX else 0,
        FragmentationPercentage=0, Timestamp=format_datetime(stamp),
    )
    ctx.output("State", state.to_xml())
    return COMPLETED


@method(IMS, "ValidateVirtualHardDisk")
def validate_virtual_hard_disk(ctx: Ctx, service: Instance | None, args: Args) -> int:
    text, path = _existing(ctx, args)
    image_info(ctx, path, f"validating {text!r}")
    return _storage_job(ctx, JOB_VALIDATE)


# -- changing ---------------------------------------------------------------------------


@method(IMS, "ResizeVirtualHardDisk")
def resize_virtual_hard_disk(ctx: Ctx, service: Instance | None, args: Args) -> int:
    text, path = _existing(ctx, args)
    wanted = args.get("MaxInternalSize")
    if not wanted:
        raise Refused(INVALID_PARAMETER, "MaxInternalSize is required (the new size in bytes)")
    info = image_info(ctx, path, f"resizing {text!r}")
    if info.format is vhdfile.DiskFormat.VHD and info.type is vhdfile.DiskType.DIFFERENCING:
        raise Refused(INVALID_PARAMETER, f"{text!r} is a differencing VHD; Hyper-V resizes "
                                         "fixed and dynamic VHDs and any VHDX")
    held = holder(ctx, path)
    if held is not None:
        image, is_top = held
        online = (is_top and info.format is vhdfile.DiskFormat.VHDX
                  and on_scsi(ctx, image.setting))
        if not online:
            why = ("it is a parent of a disk" if not is_top else
                   "only a VHDX on a SCSI controller can be resized while its virtual "
                   "machine runs")
            raise Refused(INVALID_STATE, f"cannot resize {text!r} while the virtual machine "
                                         f"{image.vm.describe()} uses it: {why}",
                          affected=[image.vm.cs], subject=f"'{image.vm.name}'")
    size = _size(wanted, info.logical_sector_size)
    try:
        vhdfile.resize(path, size, parent_resolver=parent_resolver(ctx))
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, f"resizing {text!r} to {size} bytes") from None
    return _storage_job(ctx, JOB_EXPAND)


@method(IMS, "MergeVirtualHardDisk")
def merge_virtual_hard_disk(ctx: Ctx, service: Instance | None, args: Args) -> int:
    source_text, source = _existing(ctx, args, "SourcePath")
    destination_text, destination = _existing(ctx, args, "DestinationPath")
    chain = chain_of(ctx, source)
    image_info(ctx, source, f"merging {source_text!r}")
    if not any(_same(member, destination) for member in chain[1:]):
        raise Refused(INVALID_PARAMETER, f"DestinationPath {destination_text!r} is not a "
                                         f"parent of {source_text!r} (merge goes into an "
                                         "ancestor in the chain)")
    for member in chain:
        _refuse_if_held(ctx, member, source_text if member == chain[0] else str(member),
                        "merge")
        if _same(member, destination):
            break
    try:
        vhdfile.merge(source, destination, delete_child=True,
                      parent_resolver=parent_resolver(ctx))
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, f"merging {source_text!r} into {destination_text!r}") from None
    return _storage_job(ctx, JOB_MERGE)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


@method(IMS, "ConvertVirtualHardDisk")
def convert_virtual_hard_disk(ctx: Ctx, service: Instance | None, args: Args) -> int:
    source_text, source = _existing(ctx, args, "SourcePath")
    setting, text, fmt, dtype = _new_disk(ctx, args)
    if dtype is None or dtype is vhdfile.DiskType.DIFFERENCING:
        raise Refused(INVALID_PARAMETER, f"{VHDSD}.Type = {setting.get('Type')!r}: convert "
                                         "makes a fixed (2) or dynamic (3) disk")
    target = _new_file(ctx, text)
    image_info(ctx, source, f"converting {source_text!r}")
    # a parent is shared read-only and can be read; an image a VM writes cannot
    _refuse_if_held(ctx, source, source_text, "convert", parents=False)
    try:
        vhdfile.convert(source, target, fmt, dtype, block_size=setting.get("BlockSize") or None,
                        parent_resolver=parent_resolver(ctx))
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, f"converting {source_text!r} to {text!r}") from None
    return _storage_job(ctx, JOB_CONVERT)


def _reconnect(ctx: Ctx, child_text: str, child: Path, parent_text: str,
               ignore_id_mismatch: bool) -> None:
    parent = local_path(ctx, parent_text, "ParentPath")
    _refuse_if_held(ctx, child, child_text, "change the parent of")
    try:
        vhdfile.set_parent(child, parent, parent_path_in_file=parent_text,
                           ignore_id_mismatch=ignore_id_mismatch)
    except vhdfile.ParentMismatchError as exc:
        raise Refused(INVALID_PARAMETER, f"ParentPath {parent_text!r} is not the disk "
                                         f"{child_text!r} was made from ({exc.reason})") from None
    except (vhdfile.VhdError, OSError) as exc:
        raise vhd_refusal(exc, f"changing the parent of {child_text!r}") from None


@method(IMS, "SetVirtualHardDiskSettingData")
def set_virtual_hard_disk_setting_data(ctx: Ctx, service: Instance | None, args: Args) -> int:
    setting = _setting(ctx, args)
    text = setting.get("Path")
    path = local_path(ctx, text, f"{VHDSD}.Path")
    info = _read(ctx, path, text)
    current_parent = info.parent_locator.absolute_path if info.parent_locator else None
    changes = []
    parent_text = setting.get("ParentPath")
    if parent_text and (current_parent is None or parent_text.lower() != current_parent.lower()):
        changes.append("ParentPath")
    physical = setting.get("PhysicalSectorSize")
    if physical and physical != info.physical_sector_size:
        changes.append("PhysicalSectorSize")
    disk_id = setting.get("VirtualDiskId")
    if disk_id and _guid(disk_id) != info.virtual_disk_id:
        changes.append("VirtualDiskId")
    if len(changes) > 1:
        raise Refused(INVALID_PARAMETER, f"SetVirtualHardDiskSettingData changes one of "
                                         f"ParentPath, PhysicalSectorSize and VirtualDiskId per "
                                         f"call; this one changes {', '.join(changes)}")
    if changes == ["ParentPath"]:
        if info.type is not vhdfile.DiskType.DIFFERENCING:
            raise Refused(INVALID_PARAMETER, f"{text!r} is a {info.type.value} disk; only a "
                                             "differencing disk has a parent")
        _reconnect(ctx, text, path, parent_text, ignore_id_mismatch=False)
    elif changes:
        raise Refused(NOT_SUPPORTED_VENDOR, f"the emulated host changes ParentPath only, not "
                                            f"{changes[0]}")
    return COMPLETED


def _guid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip("{}"))
    except ValueError:
        raise Refused(INVALID_PARAMETER, f"VirtualDiskId {text!r} is not a GUID") from None


@method(IMS, "SetParentVirtualHardDisk")
def set_parent_virtual_hard_disk(ctx: Ctx, service: Instance | None, args: Args) -> int:
    child_text, child = _existing(ctx, args, "ChildPath")
    if args.get("LeafPath"):
        raise Refused(NOT_SUPPORTED_VENDOR, "LeafPath (reconnecting a chain under a running "
                                            "leaf) is not supported by the emulated host")
    _reconnect(ctx, child_text, child, args.get("ParentPath"),
               bool(args.get("IgnoreIDMismatch")))
    return COMPLETED


# -- the service itself -------------------------------------------------------------------


def seed_image_service(ctx: Ctx) -> None:
    """The host's `vhdsvc` and its C: drive (a folder beside the state file)."""
    service = ctx.create(ctx.new(
        IMS, CreationClassName=IMS, Name="vhdsvc", SystemCreationClassName="Msvm_ComputerSystem",
        SystemName=ctx.hostname, ElementName="Microsoft Hyper-V Image Management Service",
        Caption="Hyper-V Image Management Service",
        Description="Service for managing virtual hard disks", EnabledState=2,
        EnabledDefault=2, RequestedState=12, HealthState=5, OperationalStatus=[2],
        StatusDescriptions=["OK"], Started=True, StartMode="Automatic",
    ))
    host = ctx.get(host_cs_path(ctx))
    if host is not None and ctx.has_class("Msvm_HostedService"):
        ctx.link("Msvm_HostedService", Antecedent=host, Dependent=service)
    (files_root(state_path(ctx)) / "drives" / "c").mkdir(parents=True, exist_ok=True)


SEED_HOOKS.append(seed_image_service)
