"""Just enough FAT12/16/32 to answer "does this EFI system partition hold a boot loader?"
(reading), and to make small FAT file systems for test images (writing).

The reader is bounded: cluster chains are cut at the volume's cluster count and loops
are detected, so a damaged guest file system gives an answer, never a hang.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

ReadAt = Callable[[int, int], bytes]
MAX_FAT_BYTES = 64 * 1024 * 1024
MAX_DIR_BYTES = 4 * 1024 * 1024


class FatError(Exception):
    """The partition does not hold a FAT file system vhdfile can read."""


@dataclass(frozen=True)
class _Geometry:
    kind: int  # 12, 16 or 32
    bps: int
    spc: int
    fat_offset: int
    fat_bytes: int
    root_offset: int  # FAT12/16 fixed root directory
    root_bytes: int
    root_cluster: int  # FAT32
    data_offset: int
    clusters: int


class FatVolume:
    """A FAT file system at `offset` of a disk, read through `read_at(offset, length)`."""

    def __init__(self, read_at: ReadAt, offset: int, size: int) -> None:
        self._read = read_at
        self._offset = offset
        boot = read_at(offset, 512)
        if len(boot) < 512 or boot[510:512] != b"\x55\xaa":
            raise FatError("no boot sector signature")
        bps, spc, reserved, nfats, root_entries, total16, _media, fat16 = struct.unpack_from(
            "<HBHBHHBH", boot, 11
        )
        total32, fat32, _flags, _ver, root_cluster = struct.unpack_from("<IIHHI", boot, 32)
        if (
            bps not in (512, 1024, 2048, 4096)
            or spc == 0
            or spc & (spc - 1)
            or not reserved
            or not nfats
        ):
            raise FatError("the BIOS parameter block is not FAT")
        fat_sectors = fat16 or fat32
        total = total16 or total32
        root_bytes = root_entries * 32
        root_sectors = -(-root_bytes // bps)
        data_sector = reserved + nfats * fat_sectors + root_sectors
        if not fat_sectors or total <= data_sector or total * bps > size + bps:
            raise FatError("the volume geometry does not fit the partition")
        clusters = (total - data_sector) // spc
        kind = 12 if clusters < 4085 else 16 if clusters < 65525 else 32
        if fat_sectors * bps > MAX_FAT_BYTES:
            raise FatError("the FAT is larger than vhdfile reads")
        self.g = _Geometry(
            kind,
            bps,
            spc,
            offset + reserved * bps,
            fat_sectors * bps,
            offset + (reserved + nfats * fat_sectors) * bps,
            root_bytes,
            root_cluster,
            offset + data_sector * bps,
            clusters,
        )
        self._fat: bytes | None = None

    @property
    def kind(self) -> int:
        return self.g.kind

    def _next(self, cluster: int) -> int | None:
        if self._fat is None:
            self._fat = self._read(self.g.fat_offset, self.g.fat_bytes)
        fat = self._fat
        if self.g.kind == 12:
            i = cluster + cluster // 2
            if i + 2 > len(fat):
                return None
            value = struct.unpack_from("<H", fat, i)[0]
            value = value >> 4 if cluster & 1 else value & 0xFFF
            end = 0xFF8
        elif self.g.kind == 16:
            if 2 * cluster + 2 > len(fat):
                return None
            value, end = struct.unpack_from("<H", fat, 2 * cluster)[0], 0xFFF8
        else:
            if 4 * cluster + 4 > len(fat):
                return None
            value, end = struct.unpack_from("<I", fat, 4 * cluster)[0] & 0x0FFFFFFF, 0x0FFFFFF8
        if value >= end or value < 2 or value >= self.g.clusters + 2:
            return None
        return value

    def _chain_bytes(self, first: int, limit: int) -> bytes:
        out = bytearray()
        cluster: int | None = first
        seen: set[int] = set()
        csize = self.g.bps * self.g.spc
        while cluster is not None and 2 <= cluster < self.g.clusters + 2 and len(out) < limit:
            if cluster in seen:
                break
            seen.add(cluster)
            out += self._read(self.g.data_offset + (cluster - 2) * csize, csize)
            cluster = self._next(cluster)
        return bytes(out[:limit])

    def _root(self) -> bytes:
        if self.g.kind == 32:
            return self._chain_bytes(self.g.root_cluster, MAX_DIR_BYTES)
        return self._read(self.g.root_offset, self.g.root_bytes)

    def listdir_raw(self, raw: bytes) -> dict[str, tuple[int, bool]]:
        """{lower-case name: (first cluster, is directory)}, long and short names."""
        entries: dict[str, tuple[int, bool]] = {}
        lfn: dict[int, str] = {}
        for pos in range(0, len(raw) - 31, 32):
            e = raw[pos : pos + 32]
            if e[0] == 0:
                break
            if e[0] == 0xE5:
                lfn.clear()
                continue
            attr = e[11]
            if attr == 0x0F:
                seq = e[0] & 0x1F
                part = (e[1:11] + e[14:26] + e[28:32]).decode("utf-16-le", errors="replace")
                lfn[seq] = part.split("\x00", 1)[0]
                continue
            if attr & 0x08:  # volume label
                lfn.clear()
                continue
            base = e[0:8].decode("latin-1").rstrip()
            ext = e[8:11].decode("latin-1").rstrip()
            short = f"{base}.{ext}" if ext else base
            hi, lo = struct.unpack_from("<H", e, 20)[0], struct.unpack_from("<H", e, 26)[0]
            cluster = (hi << 16 | lo) if self.g.kind == 32 else lo
            value = (cluster, bool(attr & 0x10))
            entries[short.lower()] = value
            if lfn:
                entries["".join(lfn[k] for k in sorted(lfn)).lower()] = value
            lfn.clear()
        return entries

    def exists(self, path: str) -> bool:
        """Whether a file exists, path components separated by \\ or /, any case."""
        parts = [p for p in path.replace("\\", "/").split("/") if p]
        raw = self._root()
        for i, part in enumerate(parts):
            found = self.listdir_raw(raw).get(part.lower())
            if found is None:
                return False
            cluster, is_dir = found
            if i == len(parts) - 1:
                return not is_dir
            if not is_dir or cluster < 2:
                return False
            raw = self._chain_bytes(cluster, MAX_DIR_BYTES)
        return False


# -- writing (test images) ----------------------------------------------------------------


def _short_name(name: str, taken: set[bytes]) -> tuple[bytes, bool]:
    """8.3 name and whether a long-name entry is needed."""
    upper = name.upper()
    base, _, ext = upper.rpartition(".") if "." in upper else (upper, "", "")
    ok = (
        name == upper
        and 0 < len(base) <= 8
        and len(ext) <= 3
        and all(c.isalnum() or c in "_-~" for c in base + ext)
    )
    if ok:
        short = base.ljust(8).encode() + ext.ljust(3).encode()
        taken.add(short)
        return short, False
    clean = "".join(c for c in base if c.isalnum())[:6] or "FILE"
    for n in range(1, 100):
        short = (
            f"{clean}~{n}".ljust(8).encode()[:8]
            + "".join(c for c in ext if c.isalnum())[:3].ljust(3).encode()
        )
        if short not in taken:
            taken.add(short)
            return short, True
    raise FatError("too many similar names")


def _dir_entries(
    children: list[tuple[str, int, int, bool]], self_cluster: int | None, parent_cluster: int | None
) -> bytes:
    out = bytearray()
    if self_cluster is not None:
        out += _entry(b".          ", 0x10, self_cluster, 0)
        out += _entry(b"..         ", 0x10, parent_cluster or 0, 0)
    taken: set[bytes] = set()
    for name, cluster, size, is_dir in children:
        short, needs_lfn = _short_name(name, taken)
        if needs_lfn:
            out += _lfn_entries(name, short)
        out += _entry(short, 0x10 if is_dir else 0x20, cluster, size)
    return bytes(out)


def _entry(short: bytes, attr: int, cluster: int, size: int) -> bytes:
    return struct.pack(
        "<11sBBBHHHHHHHI",
        short,
        attr,
        0,
        0,
        0,
        0x21,
        0x21,
        cluster >> 16,
        0,
        0x21,
        cluster & 0xFFFF,
        size,
    )


def _lfn_entries(name: str, short: bytes) -> bytes:
    csum = 0
    for byte in short:
        csum = (((csum & 1) << 7) + (csum >> 1) + byte) & 0xFF
    units = name.encode("utf-16-le")
    chars = [units[i : i + 2] for i in range(0, len(units), 2)] + [b"\0\0"]
    while len(chars) % 13:
        chars.append(b"\xff\xff")
    pieces = [chars[i : i + 13] for i in range(0, len(chars), 13)]
    out = bytearray()
    for seq in range(len(pieces), 0, -1):
        p = pieces[seq - 1]
        order = seq | (0x40 if seq == len(pieces) else 0)
        out += (
            bytes([order])
            + b"".join(p[0:5])
            + bytes([0x0F, 0, csum])
            + b"".join(p[5:11])
            + b"\0\0"
            + b"".join(p[11:13])
        )
    return bytes(out)


def make_fat(
    size: int, files: dict[str, bytes], *, fat32: bool = False, label: str = "NO NAME"
) -> list[tuple[int, bytes]]:
    """A FAT16 (or FAT32) file system of `size` bytes holding `files` ({"EFI/BOOT/X": data}),
    as (offset, bytes) writes relative to the partition start (the rest is zeros)."""
    bps, nfats = 512, 2
    total = size // bps
    reserved = 32 if fat32 else 4
    root_entries = 0 if fat32 else 512
    root_sectors = root_entries * 32 // bps
    spc = 1
    while True:
        entry_bytes = 4 if fat32 else 2
        clusters_guess = (total - reserved - root_sectors) // spc
        fat_sectors = -(-(clusters_guess + 2) * entry_bytes // bps)
        clusters = (total - reserved - nfats * fat_sectors - root_sectors) // spc
        if fat32 or clusters < 65525 or spc >= 128:
            break
        spc *= 2
    if (fat32 and clusters < 65525) or (not fat32 and not 4085 <= clusters < 65525):
        raise FatError(f"{size} bytes cannot hold a FAT{32 if fat32 else 16} file system")
    csize = bps * spc
    data_offset = (reserved + nfats * fat_sectors + root_sectors) * bps
    fat = [0] * (clusters + 2)
    fat[0], fat[1] = (0x0FFFFFF8, 0x0FFFFFFF) if fat32 else (0xFFF8, 0xFFFF)
    eoc = 0x0FFFFFFF if fat32 else 0xFFFF
    next_cluster = [2]
    writes: list[tuple[int, bytes]] = []

    def alloc(data: bytes) -> int:
        count = max(1, -(-len(data) // csize))
        first = next_cluster[0]
        if first + count > clusters + 2:
            raise FatError("the files do not fit")
        for c in range(first, first + count):
            fat[c] = c + 1 if c < first + count - 1 else eoc
        next_cluster[0] += count
        if data:
            writes.append((data_offset + (first - 2) * csize, data))
        return first

    tree: dict = {}
    for path, data in files.items():
        node = tree
        parts = [p for p in path.replace("\\", "/").split("/") if p]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = data

    def place_dir(node: dict, parent: int | None, is_root: bool) -> int:
        # Reserve this directory's clusters first (its size is known from its children).
        count = len(node) + 2
        for name in node:
            count += 1 + len(name) // 13 + 1
        size_bytes = count * 32
        self_cluster = None if is_root and not fat32 else alloc(bytes(size_bytes))
        writes.pop() if self_cluster is not None else None
        children = []
        for name, value in node.items():
            if isinstance(value, dict):
                c = place_dir(value, self_cluster, False)
                children.append((name, c, 0, True))
            else:
                c = alloc(value) if value else 0
                children.append((name, c, len(value), False))
        raw = _dir_entries(
            children,
            None if is_root else self_cluster,
            None if parent is None or (parent == root_cluster_holder[0]) else parent,
        )
        if is_root and not fat32:
            writes.append(((reserved + nfats * fat_sectors) * bps, raw))
        else:
            assert self_cluster is not None
            writes.append((data_offset + (self_cluster - 2) * csize, raw))
        return self_cluster or 0

    root_cluster_holder = [0]
    if fat32:
        root_cluster_holder[0] = 2
    root = place_dir(tree, None, True)
    boot = bytearray(bps)
    boot[0:3] = b"\xeb\x58\x90" if fat32 else b"\xeb\x3c\x90"
    boot[3:11] = b"VHDFILE "
    struct.pack_into(
        "<HBHBHHBHHHI",
        boot,
        11,
        bps,
        spc,
        reserved,
        nfats,
        root_entries,
        total if total < 0x10000 and not fat32 else 0,
        0xF8,
        0 if fat32 else fat_sectors,
        63,
        255,
        0,
    )
    struct.pack_into("<I", boot, 32, 0 if total < 0x10000 and not fat32 else total)
    lab = label.upper().encode()[:11].ljust(11)
    if fat32:
        struct.pack_into(
            "<IHHIHH12sBBBI11s8s",
            boot,
            36,
            fat_sectors,
            0,
            0,
            root,
            1,
            6,
            bytes(12),
            0x80,
            0,
            0x29,
            0x12345678,
            lab,
            b"FAT32   ",
        )
    else:
        struct.pack_into("<BBBI11s8s", boot, 36, 0x80, 0, 0x29, 0x12345678, lab, b"FAT16   ")
    boot[510:512] = b"\x55\xaa"
    writes.append((0, bytes(boot)))
    if fat32:
        fsinfo = bytearray(bps)
        struct.pack_into("<I", fsinfo, 0, 0x41615252)
        struct.pack_into(
            "<III", fsinfo, 484, 0x61417272, clusters + 2 - next_cluster[0], next_cluster[0]
        )
        fsinfo[510:512] = b"\x55\xaa"
        writes += [(bps, bytes(fsinfo)), (6 * bps, bytes(boot))]
    table = struct.pack(f"<{len(fat)}{'I' if fat32 else 'H'}", *fat)
    for i in range(nfats):
        writes.append(((reserved + i * fat_sectors) * bps, table))
    return writes
