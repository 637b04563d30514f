"""Low-level file I/O shared by both formats: exact positional reads and writes, zero
tests at memcmp speed, and replacing a file atomically.

Nothing here loops over bytes in Python: reads and writes go straight to os.preadv and
os.pwrite, and zero tests compare against a cached block of zeros (one memcmp).
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from .errors import CorruptImageError

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def round_down(value: int, multiple: int) -> int:
    return value // multiple * multiple


@functools.lru_cache(maxsize=16)
def zeros(length: int) -> bytes:
    """A shared block of zeros: bytes(n) is calloc'd, so even large ones are cheap."""
    return bytes(length)


def is_zero(buf: bytes | bytearray) -> bool:
    """True when every byte is zero (one memcmp against a cached zero block)."""
    return buf == zeros(len(buf))


def pread_exact(fd: int, length: int, offset: int, *, path: str, field: str) -> bytes:
    """Read exactly `length` bytes or name the structure that the file is too short for."""
    if offset < 0 or length < 0:
        raise CorruptImageError(
            f"negative offset or length ({offset}, {length})",
            path=path,
            field=field,
            offset=max(offset, 0),
        )
    data = os.pread(fd, length, offset)
    if len(data) != length:
        raise CorruptImageError(
            f"the file ends before this structure ({length} bytes wanted, {len(data)} found)",
            path=path,
            field=field,
            offset=offset,
        )
    return data


def preadinto_exact(fd: int, view: memoryview, offset: int, *, path: str, field: str) -> None:
    """Fill `view` from the file at `offset`; a short read means a truncated file."""
    done = 0
    total = len(view)
    while done < total:
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise CorruptImageError(
                f"the file ends inside this data ({total} bytes wanted, {done} found)",
                path=path,
                field=field,
                offset=offset,
            )
        done += got


def pwrite_all(fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], offset + done)


def file_size(fd: int) -> int:
    return os.fstat(fd).st_size


def data_extents(fd: int, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(offset, length) ranges of [start, end) that hold data, skipping holes.

    Uses SEEK_DATA / SEEK_HOLE where the file system supports them, so reading a sparse
    fixed disk costs nothing for its holes; elsewhere the whole range is data.
    """
    if start >= end:
        return
    seek_data = getattr(os, "SEEK_DATA", None)
    if seek_data is None:
        yield start, end - start
        return
    pos = start
    while pos < end:
        try:
            data = os.lseek(fd, pos, seek_data)
        except OSError:  # ENXIO: no data after pos; EINVAL: not supported
            return
        if data >= end:
            return
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        yield data, hole - data
        pos = hole


def fsync(fd: int) -> None:
    os.fsync(fd)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def temp_sibling(path: Path) -> Path:
    """A fresh name in the same directory (same file system, so rename is atomic)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def publish(tmp: Path, final: Path, *, replace: bool) -> None:
    """Make `tmp` appear as `final` in one step.

    Without `replace`, an existing `final` is never overwritten (link fails with
    EEXIST, as Hyper-V refuses to create over an existing file); with it, rename
    swaps the file atomically.
    """
    if replace:
        os.replace(tmp, final)
    else:
        try:
            os.link(tmp, final)
        except OSError as exc:
            if isinstance(exc, FileExistsError):
                raise
            # File systems without hard links: fall back to a checked rename.
            if final.exists():
                raise FileExistsError(17, "File exists", str(final)) from exc
            os.rename(tmp, final)
            fsync_dir(final.parent)
            return
        os.unlink(tmp)
    fsync_dir(final.parent)


@contextlib.contextmanager
def atomic_output(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """Write a new file under a temporary sibling name, publish it only on success.

    On any exception the temporary file is removed and `final` is untouched.
    """
    if not replace and final.exists():
        raise FileExistsError(17, "File exists", str(final))
    tmp = temp_sibling(final)
    try:
        yield tmp
        publish(tmp, final, replace=replace)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
