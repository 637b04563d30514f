"""The config drive: nova's metadata for the instance as an ISO 9660 image.

Built by nova's ConfigDriveBuilder (genisoimage, `mkisofs_cmd`) after the VM's devices
are planned, so `meta_data.json` holds the device metadata (disk addresses, NIC and
disk tags). `config_drive_format` must be iso9660 (Hyper-V has no vfat drive of ours).
With `[hyperv] config_drive_cdrom` the ISO is attached as a DVD; otherwise it becomes a
fixed VHD (the ISO's bytes plus a VHD footer, written by vhdfile, no qemu-img needed)
and the ISO is removed. The plan put it at IDE 1:0 (generation 1) or in the SCSI slot
kept for it (generation 2). `[hyperv] config_drive_inject_password` puts the admin
password into the metadata.
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

__all__ = ["ISO_NAME", "build_config_drive", "check_format", "iso_to_fixed_vhd"]

ISO_NAME = "configdrive.iso"
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
    vhd = os.path.join(directory, disk.file_name or "configdrive.vhd")
    try:
        iso_to_fixed_vhd(iso, vhd)
    finally:
        os.remove(iso)
    return vhd
