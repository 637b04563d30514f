"""Opening VHD / VHDX files as virtual disks: format detection from the content, parent
chains, guest reads and writes at any offset, and allocated extents."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path, PureWindowsPath

from ._backend import FormatBackend
from ._fileio import MiB, file_size, preadinto_exact, zeros
from .errors import (
    CorruptImageError,
    ParentLoopError,
    ParentMismatchError,
    ParentNotFoundError,
    RequestError,
    UnsupportedImageError,
    VhdError,
)
from .model import ABSENT, DATA, DiskFormat, DiskInfo, DiskType, Extent, ParentLocator
from .vhd import FOOTER_COOKIE, VhdBackend
from .vhdx import SIGNATURE as VHDX_SIGNATURE
from .vhdx import VhdxBackend

MAX_CHAIN = 128
ParentResolver = Callable[[ParentLocator, str], "str | os.PathLike[str] | None"]


def detect_format(path: str | os.PathLike[str]) -> DiskFormat | None:
    """The format the file's content says (never its name), or None for anything else.

    A VHDX starts with "vhdxfile"; a VHD ends with a "conectix" footer (dynamic disks
    also start with a copy of it). A raw disk image is neither.
    """
    with open(path, "rb") as f:
        head = f.read(8)
        if head == VHDX_SIGNATURE:
            return DiskFormat.VHDX
        if head == FOOTER_COOKIE:
            return DiskFormat.VHD
        size = os.fstat(f.fileno()).st_size
        if size >= 512:
            f.seek(size - 512)
            if f.read(8) == FOOTER_COOKIE:
                return DiskFormat.VHD
    return None


def _open_backend(path: str, writable: bool) -> FormatBackend:
    fmt = detect_format(path)
    if fmt is DiskFormat.VHDX:
        return VhdxBackend(path, writable)
    if fmt is DiskFormat.VHD:
        return VhdBackend(path, writable)
    raise UnsupportedImageError(
        "neither a VHDX file identifier at offset 0 nor a VHD footer "
        "at the end: not a VHD or VHDX file (a raw image?)",
        path=path,
        field="format",
        offset=0,
    )


def _candidates(locator: ParentLocator, child: str) -> list[str]:
    """Where the locator may point on this machine, in Hyper-V's order of preference."""
    here = Path(child).parent
    found = []
    if locator.relative_path:
        rel = locator.relative_path.replace("\\", "/")
        found.append(str(here / rel))
    for text in (locator.absolute_path, locator.volume_path):
        if not text:
            continue
        if text.startswith("/"):
            found.append(text)
        else:
            # A Windows path on a Linux host: its file name next to the child is the best
            # guess (images are usually moved together); callers can supply a resolver.
            found.append(str(here / PureWindowsPath(text).name))
    return found


class VirtualDisk:
    """One open VHD or VHDX file, with its parent chain opened read-only.

    Reads go through the chain (a differencing disk shows its parent's data where it has
    none of its own); writes go to this file only. Use as a context manager, or `close`.
    """

    def __init__(self, backend: FormatBackend, parent: VirtualDisk | None) -> None:
        self._b = backend
        self.parent = parent

    # -- description -------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self._b.path

    @property
    def format(self) -> DiskFormat:
        return self._b.format

    @property
    def type(self) -> DiskType:
        return self._b.type

    @property
    def virtual_size(self) -> int:
        return self._b.virtual_size

    @property
    def logical_sector_size(self) -> int:
        return self._b.logical_sector_size

    @property
    def backend(self) -> FormatBackend:
        return self._b

    @property
    def info(self) -> DiskInfo:
        b = self._b
        parent_path = None
        if b.parent_locator is not None:
            parent_path = self.parent.path if self.parent else b.parent_locator.absolute_path
        return DiskInfo(
            path=b.path,
            format=b.format,
            type=b.type,
            virtual_size=b.virtual_size,
            block_size=b.block_size,
            logical_sector_size=b.logical_sector_size,
            physical_sector_size=b.physical_sector_size,
            virtual_disk_id=b.disk_id,
            file_size=file_size(b.fd),
            parent_path=parent_path,
            parent_locator=b.parent_locator,
            creator=b.creator,
        )

    @property
    def chain(self) -> list[VirtualDisk]:
        disks: list[VirtualDisk] = []
        disk: VirtualDisk | None = self
        while disk is not None:
            disks.append(disk)
            disk = disk.parent
        return disks

    # -- reading -----------------------------------------------------------------------
    def _check_range(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.virtual_size:
            raise RequestError(
                f"range [{offset}, {offset + length}) is outside the virtual "
                f"disk of {self.virtual_size} bytes",
                path=self.path,
                field="offset",
            )

    def read(self, offset: int, length: int) -> bytes:
        buf = bytearray(length)
        self.readinto(offset, buf)
        return bytes(buf)

    def readinto(self, offset: int, buffer: bytearray | memoryview) -> None:
        view = memoryview(buffer).cast("B")
        self._check_range(offset, len(view))
        self._readinto(offset, view)

    def _readinto(self, offset: int, view: memoryview) -> None:
        pos = 0
        b = self._b
        for kind, length, file_offset in b.map(offset, len(view)):
            seg = view[pos : pos + length]
            if kind == DATA:
                if isinstance(b, VhdxBackend):
                    b.readinto_file(seg, file_offset, "payload data")
                else:
                    preadinto_exact(b.fd, seg, file_offset, path=b.path, field="block data")
            elif kind == ABSENT and self.parent is not None:
                inside = max(0, min(length, self.parent.virtual_size - (offset + pos)))
                if inside:
                    self.parent._readinto(offset + pos, seg[:inside])
                _fill_zero(seg[inside:])
            else:
                _fill_zero(seg)
            pos += length

    def iter_chunks(self, chunk: int = 32 * MiB) -> Iterator[tuple[int, memoryview]]:
        """The whole disk in order, as (offset, data) views of one reused buffer."""
        buf = bytearray(chunk)
        view = memoryview(buf)
        for offset in range(0, self.virtual_size, chunk):
            n = min(chunk, self.virtual_size - offset)
            self._readinto(offset, view[:n])
            yield offset, view[:n]

    def extents(
        self, *, through_parents: bool = False, start: int = 0, length: int | None = None
    ) -> list[Extent]:
        """Where data is stored: in this file, or (through_parents) anywhere in the chain.

        Everything outside the extents reads as zeros (or, for a differencing disk asked
        without through_parents, as the parent's data).
        """
        end = self.virtual_size if length is None else start + length
        self._check_range(start, end - start)
        found: list[list[int]] = []
        self._extents(start, end - start, through_parents, found)
        return [Extent(a, n) for a, n in found]

    def _extents(self, offset: int, length: int, deep: bool, found: list[list[int]]) -> None:
        pos = offset
        for kind, n, _ in self._b.map(offset, length):
            if kind == DATA:
                if found and found[-1][0] + found[-1][1] == pos:
                    found[-1][1] += n
                else:
                    found.append([pos, n])
            elif kind == ABSENT and deep and self.parent is not None:
                inside = max(0, min(n, self.parent.virtual_size - pos))
                if inside:
                    self.parent._extents(pos, inside, True, found)
            pos += n

    # -- writing -----------------------------------------------------------------------
    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Write guest data at any offset; partial sectors are merged with what the chain
        holds, so the format below only ever stores whole logical sectors."""
        if not self._b.writable:
            raise RequestError("the disk was opened read-only", path=self.path, field="mode")
        view = memoryview(data).cast("B")
        self._check_range(offset, len(view))
        if not len(view):
            return
        lss = self.logical_sector_size
        head = offset % lss
        tail = -(offset + len(view)) % lss
        if head or tail:
            start = offset - head
            merged = bytearray(head + len(view) + tail)
            self._readinto(start, memoryview(merged)[:lss])
            if len(merged) > lss:
                self._readinto(start + len(merged) - lss, memoryview(merged)[len(merged) - lss :])
            merged[head : head + len(view)] = view
            offset, view = start, memoryview(merged)
        self._b.write(offset, view)

    def flush(self) -> None:
        if self._b.writable:
            self._b.flush()

    def close(self) -> None:
        for disk in self.chain:
            disk._b.close()

    def __enter__(self) -> VirtualDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fill_zero(view: memoryview) -> None:
    step = 4 * MiB
    for a in range(0, len(view), step):
        n = min(step, len(view) - a)
        view[a : a + n] = zeros(n)


def open_disk(
    path: str | os.PathLike[str],
    *,
    writable: bool = False,
    parent_resolver: ParentResolver | None = None,
    check_parent_id: bool = True,
) -> VirtualDisk:
    """Open a VHD or VHDX file (format from its content) and the chain of its parents.

    Parents are found from the child's locators: the relative path first, then the
    absolute path, then `parent_resolver(locator, child_path)` when given (the emulated
    host uses it to map Windows paths). A parent whose identity differs from the one the
    child recorded raises ParentMismatchError unless check_parent_id is False.
    """
    seen: set[str] = set()
    top = _open_backend(os.fspath(path), writable)
    opened = [top]
    try:
        backends = [top]
        while backends[-1].type is DiskType.DIFFERENCING:
            if len(backends) > MAX_CHAIN:
                raise ParentLoopError(
                    f"the chain is longer than {MAX_CHAIN} disks",
                    path=top.path,
                    field="parent locator",
                )
            child = backends[-1]
            seen.add(os.path.realpath(child.path))
            parent_path = _resolve_parent(child, parent_resolver)
            if os.path.realpath(parent_path) in seen:
                raise ParentLoopError(
                    f"the parent {parent_path} is already in the chain",
                    path=child.path,
                    field="parent locator",
                )
            parent = _open_backend(parent_path, False)
            opened.append(parent)
            _check_link(child, parent, check_parent_id)
            backends.append(parent)
    except BaseException:
        for backend in opened:
            backend.close()
        raise
    disk: VirtualDisk | None = None
    for backend in reversed(backends):
        disk = VirtualDisk(backend, disk)
    assert disk is not None
    return disk


def _resolve_parent(child: FormatBackend, resolver: ParentResolver | None) -> str:
    locator = child.parent_locator
    assert locator is not None
    tried = []
    if resolver is not None:
        resolved = resolver(locator, child.path)
        if resolved is not None:
            return os.fspath(resolved)
    for candidate in _candidates(locator, child.path):
        tried.append(candidate)
        if os.path.isfile(candidate):
            return candidate
    raise ParentNotFoundError(
        f"no parent file found (tried {', '.join(tried) or 'nothing'}; "
        f"stored absolute path {locator.absolute_path!r})",
        path=child.path,
        field="parent locator",
    )


def _norm_id(text: str | None) -> str:
    return (text or "").strip("{}").lower()


def _check_link(child: FormatBackend, parent: FormatBackend, check_id: bool) -> None:
    if parent.format is not child.format:
        raise ParentMismatchError(
            f"a {child.format} disk cannot have the {parent.format} parent {parent.path}",
            path=child.path,
            field="parent locator",
        )
    if child.format is DiskFormat.VHDX and parent.logical_sector_size != child.logical_sector_size:
        raise ParentMismatchError(
            f"logical sector size {child.logical_sector_size} differs from the parent's "
            f"{parent.logical_sector_size}",
            path=child.path,
            field="logical sector size",
        )
    if not check_id:
        return
    locator = child.parent_locator
    assert locator is not None
    wanted = {_norm_id(locator.linkage), _norm_id(locator.linkage2)} - {""}
    if _norm_id(parent.linkage_id()) not in wanted:
        raise ParentMismatchError(
            f"the child was made against parent id {locator.linkage}; {parent.path} has "
            f"{parent.linkage_id()} (the parent changed, or it is another file)",
            path=child.path,
            field="parent linkage",
        )


def inspect(
    path: str | os.PathLike[str], *, parent_resolver: ParentResolver | None = None
) -> DiskInfo:
    """Describe a file. A differencing disk whose parent is missing is still described
    (with the stored parent path); a damaged file raises a VhdError."""
    try:
        with open_disk(path, parent_resolver=parent_resolver) as disk:
            return disk.info
    except (ParentNotFoundError, ParentMismatchError, ParentLoopError):
        backend = _open_backend(os.fspath(path), False)
        try:
            return VirtualDisk(backend, None).info
        finally:
            backend.close()


__all__ = ["CorruptImageError", "VhdError", "VirtualDisk", "detect_format", "inspect", "open_disk"]
