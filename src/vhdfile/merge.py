"""Merging a differencing disk into its parent (or a further ancestor), and reconnecting
a child to a parent that moved (Msvm_ImageManagementService MergeVirtualHardDisk and
SetVirtualHardDiskSettingData)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

from . import vhd, vhdx
from ._fileio import file_size, fsync, is_zero, round_up
from .create import _relative
from .disk import ParentResolver, VirtualDisk, _check_link, inspect, open_disk
from .errors import ParentMismatchError, RequestError
from .model import ABSENT, DiskFormat, DiskInfo, DiskType, Extent
from .resize import _Undo, resize

Progress = Callable[[int, int], None]
CHUNK = 4 * 1024 * 1024


def _layer_extents(disk: VirtualDisk, stop: VirtualDisk) -> list[Extent]:
    """Union of what the layers from `disk` down to (not including) `stop` hold."""
    spans: list[tuple[int, int]] = []
    layer: VirtualDisk | None = disk
    while layer is not None and layer is not stop:
        pos = 0
        for kind, n, _ in layer.backend.map(0, layer.virtual_size):
            if kind != ABSENT:
                spans.append((pos, pos + n))
            pos += n
        layer = layer.parent
    spans.sort()
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [Extent(a, b - a) for a, b in merged]


def merge(
    child: str | os.PathLike[str],
    destination: str | os.PathLike[str] | None = None,
    *,
    delete_child: bool = False,
    progress: Progress | None = None,
    parent_resolver: ParentResolver | None = None,
) -> DiskInfo:
    """Write what `child` (and any layers between) holds into `destination` (by default
    its parent). The child is never modified, so until the merge completes the chain
    still reads as before; Hyper-V deletes the child afterwards, which `delete_child`
    does.
    """
    with open_disk(child, parent_resolver=parent_resolver) as top:
        if top.parent is None:
            raise RequestError("the disk has no parent to merge into", path=top.path, field="type")
        target = top.parent
        if destination is not None:
            while target is not None and not os.path.samefile(target.path, destination):
                target = target.parent
            if target is None:
                raise RequestError(
                    f"{destination} is not an ancestor of the disk",
                    path=top.path,
                    field="destination",
                )
        dest_path = target.path
        extents = _layer_extents(top, target)
        if top.virtual_size > target.virtual_size:
            resize(dest_path, top.virtual_size, parent_resolver=parent_resolver)
        with open_disk(dest_path, writable=True, parent_resolver=parent_resolver) as dest:
            total = sum(e.length for e in extents)
            done = 0
            buf_cache: dict[int, bytearray] = {}
            for extent in extents:
                pos = extent.offset
                while pos < extent.end:
                    n = min(extent.end, (pos // CHUNK + 1) * CHUNK) - pos
                    buf = buf_cache.setdefault(n, bytearray(n))
                    top.readinto(pos, buf)
                    if not (
                        is_zero(buf)
                        and dest.parent is None
                        and not dest.extents(start=pos, length=n)
                    ):
                        dest.write(pos, buf)
                    pos += n
                    done += n
                    if progress is not None:
                        progress(done, total)
            dest.flush()
        info = inspect(dest_path, parent_resolver=parent_resolver)
    if delete_child:
        os.unlink(child)
    return info


def set_parent(
    child: str | os.PathLike[str],
    parent: str | os.PathLike[str],
    *,
    parent_path_in_file: str | None = None,
    ignore_id_mismatch: bool = False,
    _fail_after: int | None = None,
) -> DiskInfo:
    """Point a differencing disk at its parent's new location.

    The new parent must be the file the child was made against (same identity), unless
    `ignore_id_mismatch`, which also records the new parent's identity (Hyper-V's
    IgnoreIdMismatch).
    """
    child_path, parent_path = os.fspath(child), os.fspath(parent)
    with open_disk(
        child_path, writable=True, parent_resolver=lambda *_: parent_path, check_parent_id=False
    ) as disk:
        b = disk.backend
        if b.type is not DiskType.DIFFERENCING or disk.parent is None:
            raise RequestError(
                "only a differencing disk has a parent", path=child_path, field="type"
            )
        pb = disk.parent.backend
        try:
            _check_link(b, pb, True)
            same = True
        except ParentMismatchError:
            if not ignore_id_mismatch:
                raise
            same = False
        absolute = parent_path_in_file or os.path.abspath(parent_path)
        relative = _relative(os.path.abspath(parent_path), os.path.abspath(child_path))
        if b.format is DiskFormat.VHDX:
            _set_parent_vhdx(b, pb, absolute, relative, same, _fail_after)  # type: ignore[arg-type]
        else:
            _set_parent_vhd(b, pb, absolute, relative, same, _fail_after)  # type: ignore[arg-type]
    return inspect(child_path, parent_resolver=lambda *_: parent_path)


def _set_parent_vhdx(
    b: vhdx.VhdxBackend,
    pb: object,
    absolute: str,
    relative: str,
    same: bool,
    fail_after: int | None,
) -> None:
    locator = dict(b.meta.locator)
    locator.pop("volume_path", None)
    locator.update(relative_path=relative, absolute_win32_path=absolute)
    if not same:
        locator["parent_linkage"] = pb.linkage_id()  # type: ignore[attr-defined]
        locator.pop("parent_linkage2", None)
    meta = replace(b.meta, locator=locator)
    region = b.regions[vhdx.METADATA_GUID]
    old = b.read_struct(vhdx.METADATA_LENGTH, region.offset, "VHDX metadata region")
    new = meta.pack()
    step = 4096
    writes = [
        (region.offset + i, new[i : i + step])
        for i in range(0, len(new), step)
        if new[i : i + step] != old[i : i + step]
    ]
    b.commit(writes, fail_after=fail_after)


def _set_parent_vhd(
    b: vhd.VhdBackend, pb: object, absolute: str, relative: str, same: bool, fail_after: int | None
) -> None:
    """New locator data goes behind the last block (the footer moves first); the header,
    which names it, is switched last. Any failure restores the original bytes."""
    b.flush()
    undo = _Undo(b.fd, fail_after)
    try:
        end = file_size(b.fd)
        pos = end - vhd.SECTOR
        locators = []
        payload = bytearray()
        for code, text in ((vhd.PLATFORM_W2KU, absolute), (vhd.PLATFORM_W2RU, relative)):
            raw = text.encode("utf-16-le")
            space = round_up(max(len(raw), 1), vhd.SECTOR)
            locators.append(vhd.Locator(code, space, len(raw), pos + len(payload)))
            payload += raw.ljust(space, b"\0")
        undo.write(b.footer.pack(), pos + len(payload))
        undo.write(bytes(payload), pos)
        fsync(b.fd)
        puid = b.header.parent_unique_id if same else pb.disk_id.bytes  # type: ignore[attr-defined]
        header = replace(
            b.header,
            parent_name=absolute,
            locators=tuple(locators),
            parent_unique_id=puid,
            parent_timestamp=vhd.timestamp(os.stat(pb.path).st_mtime),
        )  # type: ignore[attr-defined]
        undo.write(header.pack(), b.footer.data_offset)
        fsync(b.fd)
    except BaseException:
        undo.rollback()
        raise
    b.header = header
    b._data_end = file_size(b.fd) - vhd.SECTOR
