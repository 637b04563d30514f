"""The emulated host's file namespace: which local file a path a client names is.

A Hyper-V client names files the Windows way (`C:\\VMs\\a.vhdx`, `\\\\server\\share\\a.vhdx`);
our driver on Linux names them the Linux way (`/var/lib/nova/instances/...`). The
emulated host accepts both, so one state file serves os-win-style tests and the driver:

- an absolute POSIX path is that local file;
- `X:\\...` lives under `<state file>.files/drives/<x>/...` (the host's own drives);
- `\\\\server\\share\\...` is the folder registered for that share
  (`HostStorage.add_smb_share`); an unknown share is a missing file, as on Windows; a
  drive letter mapped to a share (`MSFT_SmbMapping.Create` with a LocalPath) is that
  share;
- the `\\\\?\\` and `\\\\.\\` prefixes are unwrapped (`\\\\?\\UNC\\server\\share\\...` too);
- anything else (a relative path, another device) is refused: Hyper-V wants fully
  qualified paths.

Windows paths are case-insensitive (NTFS, SMB): each component is matched exactly
first, then case-insensitively among the folder's entries, so `C:\\VMs\\A.VHDX` finds
the file written as `c:\\vms\\a.vhdx`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath

FILES_SUFFIX = ".files"
_DRIVE = re.compile(r"^([A-Za-z]):[\\/]")
_UNC = re.compile(r"^[\\/]{2}([^\\/]+)[\\/]+([^\\/]+)(?:[\\/]+(.*))?$")


class PathError(ValueError):
    """A path the host cannot use; `missing` says whether it names nothing (not found)
    rather than being malformed."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def files_root(state_path: str | os.PathLike[str]) -> Path:
    """Where the host's own files (drives, LUN backing files) live, beside its state."""
    state = Path(state_path)
    return state.with_name(state.name + FILES_SUFFIX)


def share_key(unc: str) -> str:
    """The canonical form of `\\\\server\\share` (case-folded, backslashes)."""
    match = _UNC.match(unc.strip())
    if match is None or match.group(3):
        raise PathError(f"{unc!r} is not a share (\\\\server\\share)", missing=False)
    return f"\\\\{match.group(1)}\\{match.group(2)}".casefold()


def is_windows_path(text: str) -> bool:
    return bool(_DRIVE.match(text) or text.startswith(("\\\\", "//")))


class HostPaths:
    """Maps client paths to local paths for one host (its files root and its shares)."""

    def __init__(self, root: Path, shares: Mapping[str, str] | None = None,
                 drives: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.shares = {k.casefold(): v for k, v in (shares or {}).items()}
        # drive letters mapped to shares (New-SmbMapping -LocalPath X:)
        self.drives = {k.lower(): v for k, v in (drives or {}).items()}

    def local(self, text: str) -> Path:
        """The local path a client's path names (which may not exist)."""
        if not text or not text.strip():
            raise PathError("the path is empty", missing=False)
        path = text.strip()
        if path.startswith(("\\\\?\\", "\\\\.\\", "//?/", "//./")):
            rest = path[4:]
            if rest[:4].upper() in ("UNC\\", "UNC/"):
                path = "\\\\" + rest[4:]
            elif _DRIVE.match(rest):
                path = rest
            else:
                raise PathError(f"{text!r} names a device, not a file", missing=False)
        drive = _DRIVE.match(path)
        if drive:
            letter = drive.group(1).lower()
            rest = PureWindowsPath(path).parts[1:]
            if letter in self.drives:
                return self.local("\\".join((self.drives[letter], *rest)))
            return _resolve(self.root / "drives" / letter, rest)
        unc = _UNC.match(path)
        if unc:
            key = f"\\\\{unc.group(1)}\\{unc.group(2)}".casefold()
            folder = self.shares.get(key)
            if folder is None:
                raise PathError(f"{text!r}: the network path \\\\{unc.group(1)}\\"
                                f"{unc.group(2)} was not found (no such share on this host's "
                                "network)", missing=True)
            parts = PureWindowsPath(unc.group(3) or "").parts
            return _resolve(Path(folder), parts)
        if path.startswith("/"):
            return Path(os.path.normpath(path))
        raise PathError(f"{text!r} is not a fully qualified path (a drive path such as "
                        "C:\\VMs\\disk.vhdx, a share path \\\\server\\share\\disk.vhdx, or "
                        "an absolute local path)", missing=False)


def _resolve(base: Path, parts: tuple[str, ...]) -> Path:
    """Join Windows path parts under `base`, matching existing names case-insensitively."""
    current = base
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if current != base:
                current = current.parent
            continue
        exact = current / part
        if exact.exists() or not current.is_dir():
            current = exact
            continue
        wanted = part.casefold()
        match = next((entry for entry in sorted(os.listdir(current))
                      if entry.casefold() == wanted), None)
        current = current / (match or part)
    return current
