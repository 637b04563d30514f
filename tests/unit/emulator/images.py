"""Real image files on an emulated host, for tests that attach media.

The emulated host refuses media whose file does not exist or is not an image of the
right kind, so tests make the files first, at the local path the host maps a client
path to (`C:\\...` lives under the state file's `.files/drives/c`).
"""

from __future__ import annotations

from pathlib import Path

import vhdfile
from hyperv_emulator.host import Host

MiB = 1 << 20
ISO_DESCRIPTOR = 16 * 2048  # ISO 9660: the primary volume descriptor is sector 16


def make_image(host: Host, path: str, size: int = 64 * MiB, *, kind: str = "dynamic",
               parent: str | None = None) -> Path:
    """Create the file a host path names (folders too): a VHD/VHDX by its extension, an
    ISO 9660 image for .iso, a 1.44 MB floppy for .vfd. Returns the local path."""
    local = host.storage.local_path(path)
    local.parent.mkdir(parents=True, exist_ok=True)
    suffix = local.suffix.lower()
    if suffix == ".iso":
        local.write_bytes(bytes(ISO_DESCRIPTOR) + b"\x01CD001\x01" + bytes(2041))
    elif suffix == ".vfd":
        local.write_bytes(bytes(1_474_560))
    else:
        fmt = vhdfile.format_for_path(local)
        if parent is not None:
            vhdfile.create(local, fmt, "differencing", parent=host.storage.local_path(parent),
                           parent_path_in_file=parent)
        else:
            vhdfile.create(local, fmt, kind, size)
    return local
