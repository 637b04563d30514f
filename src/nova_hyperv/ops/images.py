"""Image files and local disks on the Hyper-V host (the driver runs there).

- The image cache: `instances_path/_base/<image id>.<real format>`, fetched through
  nova's image API (which verifies trusted certificates) under a per-image lock, the
  format read from the file (vhdfile; ISO 9660 by its volume descriptor), never from
  Glance's disk_format: a VHDX registered as `vhd` is a VHDX. Reuse touches the file;
  `ImageCache.age` (nova's manage_image_cache) removes what no instance has used for
  `[image_cache]`'s minimum ages. Unshelve fetches privately (`fetch_private`).
- The image's layout for the preflight (`sniff_layout`: vhdfile's partition sniffing).
- The instance's disks: the root copied from the cached image (or a differencing disk
  on it with `use_cow_images`) and grown to the plan's size; ephemeral and swap disks
  as dynamic VHDX. compute-hyperv did this through virtdisk.dll; vhdfile does it here.
- `disk_math`: vhdfile's exact "largest virtual size whose file fits" for the rules.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from typing import Any

from nova.virt import images as nova_images
from oslo_concurrency import lockutils

import vhdfile
from nova_hyperv import rules

__all__ = ["AgingPolicy", "AgingReport", "CachedImage", "ImageCache", "create_local_disks",
           "disk_math_for", "sniff_layout"]

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
    """An image file on the host: in the cache (shared by instances) or, when
    `cached` is False, the instance's own (unshelve fetches the snapshot privately)."""

    image_id: str
    path: str
    format: str  # vhd | vhdx | iso (the file's real format)
    info: vhdfile.DiskInfo | None  # None for ISO images
    cached: bool = True
    fetched: bool = False  # downloaded now rather than found in the cache

    def layout(self) -> rules.ImageLayout | None:
        """The disk's partitions and boot paths (vhdfile's sniffing); None for an ISO."""
        if self.info is None:
            return None
        return sniff_layout(self.path)

    def file_facts(self, *, preflight: bool = False) -> dict[str, object]:
        """What the rules need to know about the file (with its layout for the preflight)."""
        if self.info is None:
            return {"file_format": self.format}
        facts: dict[str, object] = {
            "file_format": self.format,
            "virtual_size": self.info.virtual_size,
            "block_size": self.info.block_size or None,
            "file_fixed": self.info.type == vhdfile.DiskType.FIXED,
        }
        if preflight:
            facts["layout"] = self.layout()
        return facts


def sniff_layout(path: str) -> rules.ImageLayout:
    """The rules' ImageLayout of a VHD / VHDX file: its partition table, whether BIOS
    can boot it, its EFI system partition and loader. A table vhdfile cannot make sense
    of is "unknown" (never held against the image)."""
    with vhdfile.open_disk(path) as disk:
        boot = vhdfile.sniff_boot(disk)
    table = boot.table
    if table.problem is not None:
        return rules.ImageLayout("unknown")
    return rules.ImageLayout(
        table.scheme, bios_boot=boot.bios,
        esp=any(p.is_esp for p in table.partitions), efi_loader=boot.efi_loader)


class UnsupportedImageFile(Exception):
    """The image file is neither VHD, VHDX nor ISO (or is a broken one)."""

    def __init__(self, image_id: str, reason: str) -> None:
        super().__init__(reason)
        self.image_id = image_id
        self.reason = reason


def _inspected(image_id: str, path: str, *, cached: bool, fetched: bool) -> CachedImage:
    fmt = path.rsplit(".", 1)[1]
    info = None
    if fmt != "iso":
        try:
            info = vhdfile.inspect(path)
        except vhdfile.VhdError as exc:
            raise UnsupportedImageFile(image_id, f"the {fmt.upper()} file is unreadable: "
                                       f"{exc}") from exc
    return CachedImage(image_id, path, fmt, info, cached=cached, fetched=fetched)


def _download(context: Any, image_id: str, directory: str, trusted_certs: Any) -> str:
    """Fetch the image into `directory` as <image id>.<real format>; nothing is left
    behind on failure."""
    os.makedirs(directory, exist_ok=True)
    partial = os.path.join(directory, f"{image_id}.part")
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
    final = os.path.join(directory, f"{image_id}.{fmt}")
    os.replace(partial, final)
    return final


@dataclass(frozen=True)
class AgingPolicy:
    """`[image_cache]` as nova 34 defines it."""

    remove_unused: bool = True
    original_minimum_age: float = 24 * 3600  # remove_unused_original_minimum_age_seconds
    resized_minimum_age: float = 3600  # remove_unused_resized_minimum_age_seconds

    @classmethod
    def from_conf(cls, conf: Any) -> AgingPolicy:
        group = conf.image_cache
        return cls(group.remove_unused_base_images,
                   group.remove_unused_original_minimum_age_seconds,
                   group.remove_unused_resized_minimum_age_seconds)


@dataclass
class AgingReport:
    kept: list[str] = field(default_factory=list)  # file names in use (touched)
    removed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # unused, not old enough yet


# <image id>.<format>, <image id>_<virtual size>.vhd (a VHD grown for children), and
# <image id>.part (a download a crash interrupted).
_CACHE_FILE = re.compile(
    r"^(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(?:(?P<resized>_\d+)\.vhd|\.(?P<format>vhdx|vhd|iso)|(?P<partial>\.part))$",
    re.IGNORECASE)


class ImageCache:
    """`<instances_path>/<[image_cache] subdirectory_name>`: one file per image, shared
    by the instances booted from it (parents of their differencing disks with
    use_cow_images), each fetched once under its own file lock, which lives in
    `<instances_path>/locks` (as nova's libvirt driver keeps its image locks) so that
    computes sharing instances_path also share the locks."""

    def __init__(self, instances_path: str, subdirectory: str = "_base") -> None:
        self.base_dir = os.path.join(instances_path, subdirectory)
        self.lock_dir = os.path.join(instances_path, "locks")

    def lock(self, name: str) -> contextlib.AbstractContextManager[Any]:
        return lockutils.lock(f"hyperv-image-{name}", lock_file_prefix="nova-", external=True,
                              lock_path=self.lock_dir)

    def _cached(self, image_id: str) -> str | None:
        for fmt in FORMATS:
            path = os.path.join(self.base_dir, f"{image_id}.{fmt}")
            if os.path.exists(path):
                return path
        return None

    def get(self, context: Any, image_id: str, trusted_certs: Any = None) -> CachedImage:
        """The cached image file, fetched first if needed (under the image's lock).

        A reused file is touched: its modification time is when it was last used,
        which is what aging measures."""
        fetched = False
        with self.lock(image_id):
            path = self._cached(image_id)
            if path is None:
                path = _download(context, image_id, self.base_dir, trusted_certs)
                fetched = True
                LOG.info("cached image %s as %s", image_id, path)
            else:
                _touch(path)
        return _inspected(image_id, path, cached=True, fetched=fetched)

    def fetch_private(self, context: Any, image_id: str, directory: str,
                      trusted_certs: Any = None) -> CachedImage:
        """The image fetched straight into `directory`, bypassing the cache: unshelve
        boots a snapshot once, so caching it would only hold space until aging."""
        path = _download(context, image_id, directory, trusted_certs)
        try:
            return _inspected(image_id, path, cached=False, fetched=True)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            raise

    def resized_base(self, image: CachedImage, size: int) -> str:
        """A VHD copy of the image grown to `size` (VHD children must match their parent)."""
        path = os.path.join(self.base_dir, f"{image.image_id}_{size}.vhd")
        with self.lock(image.image_id):
            if os.path.exists(path):
                _touch(path)
            else:
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

    def age(self, used: set[str], policy: AgingPolicy, now: float | None = None
            ) -> AgingReport:
        """One aging pass: images in use (`used`: image ids) are touched and kept; the
        others are removed once unused for the policy's minimum age (ISOs too: an ISO
        root is copied into the instance's folder, so no VM holds a cached ISO), and so
        are downloads a crash left behind. Files the cache did not make are left alone.
        """
        report = AgingReport()
        try:
            names = sorted(os.listdir(self.base_dir))
        except FileNotFoundError:
            return report
        used = {u.lower() for u in used}
        for name in names:
            found = _CACHE_FILE.match(name)
            if found is None:
                LOG.debug("image cache: %s is not a cache file; left alone", name)
                continue
            image_id = found["id"].lower()
            path = os.path.join(self.base_dir, name)
            if image_id in used and not found["partial"]:
                _touch(path)
                report.kept.append(name)
                continue
            minimum = (policy.resized_minimum_age if found["resized"]
                       else policy.original_minimum_age)
            if not policy.remove_unused or not self._remove_if_old(
                    image_id, path, minimum, now):
                report.waiting.append(name)
            else:
                report.removed.append(name)
        self._forget_locks({_CACHE_FILE.match(n)["id"].lower()  # type: ignore[index]
                            for n in report.removed})
        return report

    def _remove_if_old(self, image_id: str, path: str, minimum: float,
                       now: float | None) -> bool:
        with self.lock(image_id):  # a spawn touching it meanwhile wins
            try:
                age = (time.time() if now is None else now) - os.stat(path).st_mtime
            except FileNotFoundError:
                return True
            if age < minimum:
                return False
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:  # Windows: a VM still holds it
                LOG.warning("image cache: could not remove %s: %s", path, exc)
                return False
        LOG.info("image cache: removed %s, unused for %d s", path, age)
        return True

    def _forget_locks(self, image_ids: set[str]) -> None:
        """Remove the lock files of images the cache no longer holds (after their lock
        was released, as nova's libvirt image cache does)."""
        for image_id in image_ids:
            if any(name.lower().startswith(image_id) for name in os.listdir(self.base_dir)):
                continue
            with contextlib.suppress(OSError):
                lockutils.remove_external_lock_file(f"hyperv-image-{image_id}",
                                                    lock_file_prefix="nova-",
                                                    lock_path=self.lock_dir)


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError as exc:
        LOG.warning("image cache: could not touch %s: %s", path, exc)


def _root_disk(cache: ImageCache, image: CachedImage, path: str, size: int | None,
               use_cow: bool) -> None:
    grow = image.info is not None and size is not None and size > image.info.virtual_size
    if not image.cached:
        os.replace(image.path, path)  # unshelve: the private file becomes the root
    elif image.info is not None and use_cow:
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
                _root_disk(cache, image, path, plan.root_virtual_size, use_cow)
            else:
                vhdfile.create(path, "vhdx", "dynamic", disk.size_bytes)
    except BaseException:
        for path in files.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise
    return files
