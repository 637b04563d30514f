"""Image files and local disks on the Hyper-V host (the driver runs there).

- The image cache: `instances_path/_base/<image id>.<real format>`, fetched through
  nova's image API (which verifies trusted certificates) under a per-image lock, the
  format read from the file (vhdfile; ISO 9660 by its volume descriptor), never from
  Glance's disk_format: a VHDX registered as `vhd` is a VHDX.
- The instance's disks: the root copied from the cached image (or a differencing disk
  on it with `use_cow_images`) and grown to the plan's size; ephemeral and swap disks
  as dynamic VHDX. compute-hyperv did this through virtdisk.dll; vhdfile does it here.
- `disk_math`: vhdfile's exact "largest virtual size whose file fits" for the rules.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from dataclasses import dataclass
from typing import Any

from nova.virt import images as nova_images
from oslo_concurrency import lockutils

import vhdfile
from nova_hyperv import rules

__all__ = ["CachedImage", "ImageCache", "create_local_disks", "disk_math_for"]

LOG = logging.getLogger(__name__)

ISO_SIGNATURE_OFFSET = 32769  # sector 16 (2048-byte sectors) + 1: "CD001"
FORMATS = ("vhdx", "vhd", "iso")


# A VHD child's two parent locators hold the parent's absolute and relative paths in
# UTF-16, each padded to a sector: at most 2 x 64 KiB for Windows' longest paths.
VHD_LOCATOR_BOUND = 2 * 65536


def disk_math_for(use_cow: bool) -> rules.DiskMath:
    """The rules' DiskMath for the root file the driver will write, from vhdfile's
    arithmetic: a copy of the image (its format, type and block size) or, with
    use_cow_images, a differencing child (Hyper-V's child block size, sector bitmaps
    and parent locators included): the flavor's root_gb bounds that file."""

    def math(layout: rules.DiskLayout, file_size_limit: int) -> int:
        if use_cow:
            child = vhdfile.DiskType.DIFFERENCING
            return vhdfile.largest_virtual_size(
                file_size_limit, layout.format, child,
                block_size=vhdfile.default_block_size(vhdfile.DiskFormat(layout.format),
                                                      child),
                logical_sector_size=layout.logical_sector_size,
                parent_locator_bytes=VHD_LOCATOR_BOUND if layout.format == "vhd" else 0,
            )
        return vhdfile.largest_virtual_size(
            file_size_limit, layout.format, "fixed" if layout.fixed else "dynamic",
            block_size=layout.block_size, logical_sector_size=layout.logical_sector_size,
        )

    return math


def detect_format(path: str) -> str | None:
    """vhd, vhdx or iso from the content; None for anything else."""
    found = vhdfile.detect_format(path)
    if found is not None:
        return str(found)
    with open(path, "rb") as stream:
        stream.seek(ISO_SIGNATURE_OFFSET)
        if stream.read(5) == b"CD001":
            return "iso"
    return None


@dataclass(frozen=True)
class CachedImage:
    image_id: str
    path: str
    format: str  # vhd | vhdx | iso (the file's real format)
    info: vhdfile.DiskInfo | None  # None for ISO images

    def file_facts(self) -> dict[str, object]:
        """What the rules need to know about the file."""
        if self.info is None:
            return {"file_format": self.format}
        return {
            "file_format": self.format,
            "virtual_size": self.info.virtual_size,
            "block_size": self.info.block_size or None,
            "file_fixed": self.info.type == vhdfile.DiskType.FIXED,
        }


class UnsupportedImageFile(Exception):
    """The image file is neither VHD, VHDX nor ISO (or is a broken one)."""

    def __init__(self, image_id: str, reason: str) -> None:
        super().__init__(reason)
        self.image_id = image_id
        self.reason = reason


def _lock(name: str) -> contextlib.AbstractContextManager[Any]:
    return lockutils.lock(f"hyperv-image-{name}", lock_file_prefix="nova-", external=True)


class ImageCache:
    def __init__(self, instances_path: str) -> None:
        self.base_dir = os.path.join(instances_path, "_base")

    def _cached(self, image_id: str) -> str | None:
        for fmt in FORMATS:
            path = os.path.join(self.base_dir, f"{image_id}.{fmt}")
            if os.path.exists(path):
                return path
        return None

    def get(self, context: Any, image_id: str, trusted_certs: Any = None) -> CachedImage:
        """The cached image file, fetched first if needed (under the image's lock)."""
        with _lock(image_id):
            path = self._cached(image_id)
            if path is None:
                path = self._fetch(context, image_id, trusted_certs)
        fmt = path.rsplit(".", 1)[1]
        info = None
        if fmt != "iso":
            try:
                info = vhdfile.inspect(path)
            except vhdfile.VhdError as exc:
                raise UnsupportedImageFile(image_id, f"the {fmt.upper()} file is unreadable: "
                                           f"{exc}") from exc
        return CachedImage(image_id, path, fmt, info)

    def _fetch(self, context: Any, image_id: str, trusted_certs: Any) -> str:
        os.makedirs(self.base_dir, exist_ok=True)
        partial = os.path.join(self.base_dir, f"{image_id}.part")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        nova_images.fetch(context, image_id, partial, trusted_certs)
        try:
            fmt = detect_format(partial)
        except OSError:
            fmt = None
        if fmt is None:
            os.unlink(partial)
            raise UnsupportedImageFile(
                image_id, "the image file is neither a VHD, a VHDX nor an ISO image "
                "(whatever its Glance disk_format says); Hyper-V boots only those")
        final = os.path.join(self.base_dir, f"{image_id}.{fmt}")
        os.replace(partial, final)
        LOG.info("cached image %s as %s", image_id, final)
        return final

    def resized_base(self, image: CachedImage, size: int) -> str:
        """A VHD copy of the image grown to `size` (VHD children must match their parent)."""
        path = os.path.join(self.base_dir, f"{image.image_id}_{size}.vhd")
        with _lock(f"{image.image_id}_{size}"):
            if not os.path.exists(path):
                partial = path + ".part"
                shutil.copyfile(image.path, partial)
                try:
                    vhdfile.resize(partial, size)
                    os.replace(partial, path)
                except BaseException:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(partial)
                    raise
        return path


def _root_disk(cache: ImageCache, image: CachedImage, disk: rules.DiskPlan, path: str,
               size: int | None, use_cow: bool) -> None:
    if image.format == "iso" or image.info is None:
        shutil.copyfile(image.path, path)
        return
    grow = size is not None and size > image.info.virtual_size
    if use_cow:
        parent = image.path
        if grow and image.format == "vhd":
            parent, grow = cache.resized_base(image, size), False  # type: ignore[arg-type]
        vhdfile.create(path, image.format, "differencing", parent=parent)
    else:
        shutil.copyfile(image.path, path)
    if grow:
        vhdfile.resize(path, size)  # type: ignore[arg-type]


def create_local_disks(
    cache: ImageCache,
    image: CachedImage | None,
    plan: rules.VmPlan,
    instance_dir: str,
    *,
    use_cow: bool,
) -> dict[str, str]:
    """Create every local disk file of the plan; {disk name: file}. All or nothing."""
    files: dict[str, str] = {}
    try:
        for disk in plan.disks:
            if disk.volume_id or disk.kind == "config_drive" or not disk.file_name:
                continue
            path = os.path.join(instance_dir, disk.file_name)
            files[disk.name] = path
            if disk.kind in ("root", "iso_root"):
                if image is None:
                    raise ValueError("a root disk from an image needs the image")
                _root_disk(cache, image, disk, path, plan.root_virtual_size, use_cow)
            else:
                vhdfile.create(path, "vhdx", "dynamic", disk.size_bytes)
    except BaseException:
        for path in files.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise
    return files
