"""An instance's local disk files as they are, and as a new plan wants them.

What an instance has is read from its files (an earlier resize may have grown a disk
beyond what Nova's block device records say): the root (`root.vhdx`, `root.vhd` or
`root.iso`), the ephemeral disks (`eph<N>.vhdx`) and swap (`swap.vhdx`).

`prepare_disks` makes the files what a plan says, growing but never shrinking: the root
grows to the plan's size (a VHD differencing disk is first merged into a copy of its
parent, because a VHD child cannot outgrow its parent); an ephemeral disk grows, or is
created when missing; swap is made anew when its size changes (it holds nothing worth
keeping). Files the plan no longer has are only listed: the caller removes them once the
VM is up, so a failure on the way loses nothing.

`reconnect_root`: a differencing root copied from another host points at that host's
image cache; it is pointed at this host's copy of the same image (vhdfile checks that
the parent is the file the child was made on).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from nova import exception

import vhdfile
from nova_hyperv import rules
from nova_hyperv.ops.images import disk_math_for

__all__ = ["PreparedDisks", "RootFile", "prepare_disks", "read_disks", "reconnect_root"]

ROOT_NAMES = ("root.vhdx", "root.vhd", "root.iso")
EPHEMERAL = re.compile(r"^eph(\d+)\.vhdx$")
SWAP = "swap.vhdx"


@dataclass(frozen=True)
class RootFile:
    path: str
    format: str  # vhd | vhdx | iso (from the content, not the name)
    info: vhdfile.DiskInfo | None  # None for an ISO

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def differencing(self) -> bool:
        return self.info is not None and self.info.type == vhdfile.DiskType.DIFFERENCING

    def facts(self) -> dict[str, object]:
        """The file's facts in the rules' terms (standing in for the image's). The
        virtual size is left out: the new size is whatever the flavor allows."""
        if self.info is None:
            return {"file_format": self.format}
        return {"file_format": self.format, "block_size": self.info.block_size or None,
                "file_fixed": self.info.type == vhdfile.DiskType.FIXED}

    def layout(self) -> rules.DiskLayout | None:
        if self.info is None:
            return None
        return rules.DiskLayout(format=self.format, block_size=self.info.block_size or None,
                                fixed=self.info.type == vhdfile.DiskType.FIXED,
                                logical_sector_size=self.info.logical_sector_size)

    def disk_math(self) -> rules.DiskMath:
        """How large a disk a root file of some size holds: a VHDX differencing disk
        stays one; a VHD one becomes a plain dynamic disk when it grows."""
        return disk_math_for(self.differencing and self.format == "vhdx")


def read_disks(folder: str) -> tuple[RootFile | None, rules.LocalDisks]:
    """The instance's root file and its local disks' sizes, from the files in `folder`."""
    root = None
    for name in ROOT_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            if name.endswith(".iso"):
                root = RootFile(path, "iso", None)
            else:
                info = vhdfile.inspect(path)
                root = RootFile(path, str(info.format), info)
            break
    ephemerals = []
    for name in _names(folder):
        match = EPHEMERAL.match(name)
        if match:
            size = vhdfile.inspect(os.path.join(folder, name)).virtual_size
            ephemerals.append((int(match.group(1)), name, size))
    return root, rules.LocalDisks(
        root_file=root.name if root is not None else None,
        root_size=root.info.virtual_size if root is not None and root.info else None,
        ephemerals=tuple((name, size) for _, name, size in sorted(ephemerals)),
    )


def _names(folder: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(folder) if e.is_file())
    except FileNotFoundError:
        return []


def reconnect_root(root: RootFile, base_for: Callable[[RootFile], str]) -> RootFile:
    """Point a differencing root at this host's copy of its parent (`base_for`)."""
    if not root.differencing or root.info is None:
        return root
    parent = base_for(root)
    locator = root.info.parent_locator
    if locator is not None and locator.absolute_path == os.path.abspath(parent):
        return root  # already recorded (the relative locator may find it anyway)
    info = vhdfile.set_parent(root.path, parent)
    return RootFile(root.path, root.format, info)


@dataclass(frozen=True)
class PreparedDisks:
    files: dict[str, str]  # the plan's disk name -> its file
    obsolete: tuple[str, ...]  # files the plan no longer has (remove once the VM is up)


def _grow_root(root: RootFile, size: int) -> None:
    if root.format == "vhd" and root.differencing:
        _merge_into_parent_copy(root)
    vhdfile.resize(root.path, size)


def _merge_into_parent_copy(root: RootFile) -> None:
    """Make a VHD differencing root a plain disk: its data merged into a copy of its
    parent, which then takes its place (the shared parent is never written)."""
    parent = vhdfile.inspect(root.path).parent_path
    if not parent:
        raise vhdfile.ParentNotFoundError(f"{root.path} names no parent")
    copy = root.path + ".merge.part"
    shutil.copyfile(parent, copy)
    try:
        vhdfile.set_parent(root.path, copy)
        vhdfile.merge(root.path)
        os.replace(copy, root.path)
    except BaseException:
        with contextlib.suppress(Exception):
            vhdfile.set_parent(root.path, parent)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(copy)
        raise


def _new_disk(path: str, size: int) -> None:
    partial = path + ".part"
    vhdfile.create(partial, "vhdx", "dynamic", size)
    os.replace(partial, path)


def prepare_disks(plan: rules.VmPlan, folder: str, root: RootFile | None) -> PreparedDisks:
    """Make the local disk files of `folder` what `plan` says (see the module doc)."""
    files: dict[str, str] = {}
    created: list[str] = []
    try:
        for disk in plan.disks:
            if disk.volume_id or not disk.file_name:
                continue
            path = os.path.join(folder, disk.file_name)
            exists = os.path.isfile(path)
            size = disk.size_bytes
            if disk.kind == "root" and root is not None and root.info is not None:
                if not exists:
                    raise exception.DiskNotFound(location=path)
                if size is not None and size > root.info.virtual_size:
                    _grow_root(root, size)
            elif disk.kind in ("ephemeral", "swap") and size:
                if not exists:
                    _new_disk(path, size)
                    created.append(path)
                elif disk.kind == "swap" and vhdfile.inspect(path).virtual_size != size:
                    _new_disk(path, size)  # swap holds nothing to keep
                elif vhdfile.inspect(path).virtual_size < size:
                    vhdfile.resize(path, size)
            elif not exists:
                raise exception.DiskNotFound(location=path)
            files[disk.name] = path
    except BaseException:
        for path in created:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise
    wanted = {os.path.basename(p) for p in files.values()}
    obsolete = tuple(os.path.join(folder, name) for name in _names(folder)
                     if (EPHEMERAL.match(name) or name == SWAP) and name not in wanted)
    return PreparedDisks(files, obsolete)
