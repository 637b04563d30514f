"""An instance's folder on the host, and how its files travel between hosts.

- `<instances_path>/<uuid>`: the instance's files (its disks; on Windows also the VM's
  configuration, which Hyper-V keeps in the sub-folders its data roots point at).
- `<instances_path>/<uuid>_revert`: during a cold migration or resize, the source
  host's files, moved aside (renamed: same volume, instant) until the resize is
  confirmed (then deleted) or reverted (then moved back). Aside rather than left in
  place, because on shared storage the destination writes the same `<uuid>` folder.
  Only the top-level files move; sub-folders (the VM's configuration) stay.
- The destination pulls the files from the source's folder (`SourceFiles`, what the
  source returns to Nova as `disk_info`). On Windows that folder is reached through the
  source's share: `[hyperv] instances_path_share` if set, else the administrative share
  of the source's instances_path (`\\\\HOST\\C$\\...`); a path that already is a share, or
  a cluster shared volume (`C:\\ClusterStorage\\...`, the same on every node), as it is.
  Emulated hosts all live on this machine's file system, so there the source's own
  path is the way to its files.
- Shared storage is found out by a probe: a file made in one host's instances_path and
  looked for, by name, in the other's (the two may mount the same storage at different
  paths, and emulated hosts have different local paths on one machine).

Moves and copies are all or nothing: a failure puts back or removes what was done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import ntpath
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "PROBE_PREFIX",
    "REVERT_SUFFIX",
    "SourceFiles",
    "copy_files",
    "make_probe",
    "move_files",
    "probe_exists",
    "remove_probe",
    "source_folder",
    "top_level_files",
    "windows_remote_path",
]

LOG = logging.getLogger(__name__)

REVERT_SUFFIX = "_revert"
PROBE_PREFIX = "shared-storage-probe-"
PART_SUFFIX = ".part"
CLUSTER_STORAGE = "\\clusterstorage\\"


@dataclass(frozen=True)
class SourceFiles:
    """Where the source host left an instance's files for the destination."""

    host: str  # the source's computer name (Windows' CSName)
    instances_path: str  # the source's instances_path, as the source sees it
    folder: str  # the folder under it: "<uuid>_revert"
    files: tuple[str, ...]  # the file names in it

    def to_json(self) -> str:
        return json.dumps({"host": self.host, "instances_path": self.instances_path,
                           "folder": self.folder, "files": list(self.files)})

    def location_json(self) -> str:
        """Where the files are, without their names: short enough for nova's system
        metadata (values of at most 255 characters in MySQL)."""
        return json.dumps({"host": self.host, "instances_path": self.instances_path,
                           "folder": self.folder})

    @classmethod
    def from_json(cls, text: str) -> SourceFiles:
        try:
            data = json.loads(text)
            return cls(host=str(data["host"]), instances_path=str(data["instances_path"]),
                       folder=str(data["folder"]),
                       files=tuple(str(f) for f in data.get("files", ())))
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"disk_info {text!r} does not say where the source host left "
                             f"the instance's files (it is not this driver's): {exc}") from exc


def windows_remote_path(host: str, path: str, share: str | None = None) -> str:
    """How another Windows host reaches `path` of `host` (compute-hyperv's rules)."""
    if path.startswith("\\\\"):
        return path  # already a share: the same for every host
    if share:
        return f"\\\\{host}\\{share.strip(chr(92))}"
    drive, rest = ntpath.splitdrive(path)
    if rest.lower().startswith(CLUSTER_STORAGE):
        return path  # a cluster shared volume is mounted alike on every node
    if not drive.endswith(":"):
        raise ValueError(f"{path!r} is not an absolute Windows path (C:\\...)")
    return f"\\\\{host}\\{drive[0]}${rest}"


def source_folder(source: SourceFiles, *, emulated: bool, share: str | None = None) -> str:
    """The source's folder as this (destination) host reaches it."""
    if emulated:
        return os.path.join(source.instances_path, source.folder)
    return ntpath.join(windows_remote_path(source.host, source.instances_path, share),
                       source.folder)


def top_level_files(folder: str) -> list[str]:
    """The names of the files directly in `folder` (none if it does not exist)."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return sorted(e.name for e in entries if e.is_file(follow_symlinks=False))


def move_files(source: str, destination: str) -> list[str]:
    """Move every top-level file of `source` into `destination` (created if missing);
    all or nothing. Returns the names moved."""
    os.makedirs(destination, exist_ok=True)
    moved: list[str] = []
    try:
        for name in top_level_files(source):
            os.replace(os.path.join(source, name), os.path.join(destination, name))
            moved.append(name)
    except BaseException:
        for name in reversed(moved):
            try:
                os.replace(os.path.join(destination, name), os.path.join(source, name))
            except OSError as exc:
                LOG.error("could not move %s back from %s to %s: %s", name, destination,
                          source, exc)
        raise
    return moved


def copy_files(source: str, names: Iterable[str], destination: str) -> list[str]:
    """Copy the named files of `source` into `destination`; all or nothing. Each file
    appears under its name only once complete (written as `<name>.part` first)."""
    os.makedirs(destination, exist_ok=True)
    done: list[str] = []
    partial = ""
    try:
        for name in names:
            if os.path.basename(name) != name or name in ("", ".", ".."):
                raise ValueError(f"{name!r} is not a file name")
            target = os.path.join(destination, name)
            partial = target + PART_SUFFIX
            shutil.copyfile(os.path.join(source, name), partial)
            os.replace(partial, target)
            done.append(target)
            partial = ""
    except BaseException:
        for path in [*done, partial]:
            if path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        raise
    return done


def make_probe(instances_path: str) -> str:
    """Make a probe file in `instances_path`; its name (to look for elsewhere)."""
    os.makedirs(instances_path, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=instances_path)
    os.close(handle)
    return os.path.basename(path)


def _probe_path(instances_path: str, name: str) -> str:
    if not name.startswith(PROBE_PREFIX) or os.path.basename(name) != name:
        raise ValueError(f"{name!r} is not a shared-storage probe")
    return os.path.join(instances_path, name)


def probe_exists(instances_path: str, name: str) -> bool:
    return os.path.exists(_probe_path(instances_path, name))


def remove_probe(instances_path: str, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_probe_path(instances_path, name))
