"""The config drive: nova's metadata for the instance as an ISO 9660 image.

Built by nova's ConfigDriveBuilder (genisoimage, `mkisofs_cmd`) after the VM's devices
are planned, so `meta_data.json` holds the device metadata (disk addresses, NIC and
disk tags). `config_drive_format` must be iso9660 (Hyper-V has no vfat drive of ours).
With `[hyperv] config_drive_cdrom` the ISO is attached as a DVD; otherwise it becomes a
fixed VHD (the ISO's bytes plus a VHD footer, written by vhdfile, no qemu-img needed)
and the ISO is removed. The plan put it at IDE 1:0 (generation 1) or in the SCSI slot
kept for it (generation 2). `[hyperv] config_drive_inject_password` puts the admin
password into the metadata.

A config drive moved by a cold migration or resize is the same drive (it holds what
only spawn knew: the admin password, injected files); if the destination attaches
config drives the other way (`config_drive_cdrom` differs), `match_plan` turns the
copied file into the form its plan wants, byte for byte.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from nova import exception
from nova.api.metadata import base as instance_metadata
from nova.virt import configdrive

import vhdfile
from nova_hyperv import rules

__all__ = ["ISO_NAME", "VHD_NAME", "build_config_drive", "check_format", "fixed_vhd_to_iso",
           "iso_to_fixed_vhd", "match_plan"]

ISO_NAME = "configdrive.iso"
VHD_NAME = "configdrive.vhd"
CHUNK = 1 << 20


def check_format(conf: Any) -> None:
    """Only ISO 9660. InvalidInput rather than nova's ConfigDriveUnsupportedFormat: nova
    aborts a build on InvalidInput with its message as the fault, and reschedules (and
    loses the message) on anything else."""
    if conf.config_drive_format != "iso9660":
        raise exception.InvalidInput(reason=(
            f"config_drive_format = {conf.config_drive_format!r}: allowed iso9660. Config "
            f"drive format {conf.config_drive_format!r} is not supported by the Hyper-V "
            "driver, which attaches config drives as ISO 9660 images (on a DVD drive, or "
            "in a VHD)"))


def iso_to_fixed_vhd(source: str, destination: str) -> None:
    """A fixed VHD holding the bytes of `source` (the raw image) from sector 0."""
    size = os.path.getsize(source)
    vhdfile.create(destination, "vhd", "fixed", -(-size // 512) * 512)
    try:
        with open(source, "rb") as stream, vhdfile.open_disk(destination,
                                                             writable=True) as disk:
            offset = 0
            while chunk := stream.read(CHUNK):
                disk.write(offset, chunk)
                offset += len(chunk)
            disk.flush()
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(destination)
        raise


def fixed_vhd_to_iso(source: str, destination: str) -> None:
    """The raw image a fixed VHD holds (what `iso_to_fixed_vhd` put in it)."""
    size = vhdfile.inspect(source).virtual_size
    partial = destination + ".part"
    try:
        with vhdfile.open_disk(source) as disk, open(partial, "wb") as stream:
            for offset in range(0, size, CHUNK):
                stream.write(disk.read(offset, min(CHUNK, size - offset)))
        os.replace(partial, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise


def match_plan(plan: rules.VmPlan, directory: str) -> None:
    """Give a config drive copied from another host the form `plan` attaches (an ISO on
    a DVD drive or a fixed VHD), converting the other form if that is what is there."""
    disk = next((d for d in plan.disks if d.kind == "config_drive"), None)
    if disk is None or not disk.file_name:
        return
    wanted = os.path.join(directory, disk.file_name)
    if os.path.exists(wanted):
        return
    convert, other = ((fixed_vhd_to_iso, VHD_NAME) if disk.device == "dvd"
                      else (iso_to_fixed_vhd, ISO_NAME))
    source = os.path.join(directory, other)
    if os.path.exists(source):
        convert(source, wanted)
        os.remove(source)


def build_config_drive(instance: Any, plan: rules.VmPlan, directory: str, *,
                       conf: Any, injected_files: Any = None, admin_password: str | None = None,
                       network_info: Any = None) -> str:
    """Write the instance's config drive into `directory`; return the file to attach."""
    check_format(conf)
    disk = plan.disk("configdrive")
    extra = {}
    if conf.hyperv.config_drive_inject_password and admin_password:
        extra["admin_pass"] = admin_password
    metadata = instance_metadata.InstanceMetadata(
        instance, content=injected_files or [], extra_md=extra, network_info=network_info)
    iso = os.path.join(directory, ISO_NAME)
    with configdrive.ConfigDriveBuilder(instance_md=metadata) as builder:
        builder.make_drive(iso)
    if disk.device == "dvd":
        return iso
    vhd = os.path.join(directory, disk.file_name or VHD_NAME)
    try:
        iso_to_fixed_vhd(iso, vhd)
    finally:
        os.remove(iso)
    return vhd
