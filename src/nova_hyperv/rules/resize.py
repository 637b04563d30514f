"""Cold resize: what a new flavor makes of an instance's local disks.

A resize builds the whole VM again from the new flavor (a plan is the whole VM), so
vCPUs, memory, vNUMA, dynamic memory, RemoteFX, PCI devices and disk QoS are simply the
new plan's. The disks carry data, and only grow:

- the root disk gets the largest virtual size whose file fits the new root_gb (as at
  spawn), and may not end up smaller than it is now (root_gb 0 keeps it as it is);
- ephemeral_gb 0 removes every ephemeral disk; a single ephemeral disk takes the whole
  new ephemeral_gb (it grows); several keep their own sizes; an instance without one
  gets the new flavor's; a new ephemeral_gb below what the ephemeral disks hold now is
  refused;
- swap follows the flavor (it holds nothing worth keeping).

`check_resize_disks` needs no host (the source host checks a resize before it powers
the instance off); `plan_resize` gives the new VM on the destination host.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from nova_hyperv.rules.disk_size import (
    GIB,
    DiskLayout,
    DiskMath,
    default_disk_math,
    minimum_root_gb,
)
from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import HostFacts
from nova_hyperv.rules.plan import VmPlan
from nova_hyperv.rules.planner import _flavor as checked_flavor
from nova_hyperv.rules.planner import plan_instance
from nova_hyperv.rules.request import Ephemeral, Flavor, HyperVConfig, InstanceRequest

__all__ = ["LocalDisks", "check_resize_disks", "plan_resize", "resized_ephemerals"]


@dataclass(frozen=True)
class LocalDisks:
    """An instance's local disks as they are now (virtual sizes in bytes).

    Read from the files where they exist (an earlier resize may have grown a disk beyond
    what Nova's block device records say), or from the plan that made them.
    """

    root_file: str | None = None  # None: no local root disk (a volume or an ISO)
    root_size: int | None = None
    ephemerals: tuple[tuple[str, int], ...] = ()  # (file name, virtual size), in order

    @classmethod
    def of_plan(cls, plan: VmPlan) -> LocalDisks:
        root = next((d for d in plan.disks if d.kind == "root" and not d.volume_id), None)
        return cls(
            root_file=root.file_name if root is not None else None,
            root_size=plan.root_virtual_size,
            ephemerals=tuple((d.file_name or d.name, d.size_bytes or 0)
                             for d in plan.disks if d.kind == "ephemeral"),
        )

    @property
    def ephemeral_bytes(self) -> int:
        return sum(size for _, size in self.ephemerals)


def resized_ephemerals(ephemerals: tuple[Ephemeral, ...],
                       ephemeral_gb: object) -> tuple[Ephemeral, ...]:
    """The ephemeral disks after a resize to `ephemeral_gb`, from the ones Nova records.

    Nova keeps an instance's ephemeral block devices as they were at boot; a resize
    changes only the flavor. So: none when the new size is 0, the one disk resized to
    it, several as they are (none: the rules give the flavor's default one).
    """
    if not isinstance(ephemeral_gb, int) or isinstance(ephemeral_gb, bool):
        return ephemerals  # not a number: planning refuses the flavor, naming the field
    if ephemeral_gb == 0:
        return ()
    if len(ephemerals) == 1:
        return (dataclasses.replace(ephemerals[0], size_gb=ephemeral_gb),)
    return ephemerals


def _size(value: int) -> str:
    return f"{value} bytes ({value / GIB:.2f} GiB)"


def _check_root(current: LocalDisks, new_root: int | None, flavor: Flavor,
                minimum: int | None) -> None:
    if current.root_size is not None and new_root is not None and new_root < current.root_size:
        raise RuleViolation(
            "resize-root-disk-smaller", "root_gb", flavor.root_gb,
            f"root_gb >= {minimum}" if minimum else
            f"a root disk of at least {_size(current.root_size)}",
            f"the root disk {current.root_file} holds {_size(current.root_size)}; a root "
            f"file of at most {flavor.root_gb} GiB holds {_size(new_root)}, and disks "
            "cannot shrink", source="flavor",
        )


def _check_ephemerals(current: LocalDisks, flavor: Flavor) -> None:
    new_eph = flavor.ephemeral_gb
    if 0 < new_eph * GIB < current.ephemeral_bytes:
        held = ", ".join(f"{name} {_size(size)}" for name, size in current.ephemerals)
        raise RuleViolation(
            "resize-ephemeral-disk-smaller", "ephemeral_gb", new_eph,
            f"0 (removes the ephemeral disks), or at least "
            f"{-(-current.ephemeral_bytes // GIB)}",
            f"the ephemeral disks hold {held}; disks cannot shrink", source="flavor",
        )


def check_resize_disks(
    current: LocalDisks,
    root_layout: DiskLayout | None,
    flavor: Flavor,
    *,
    disk_math: DiskMath = default_disk_math,
) -> None:
    """Refuse a resize to `flavor` that would shrink a disk (no host facts needed).

    `root_layout` is the root file's layout (its format, block size, fixed or not),
    which decides how large a disk a root_gb file holds.
    """
    flavor = checked_flavor(flavor)
    new_root = minimum = None
    if root_layout is not None and current.root_size is not None and flavor.root_gb > 0:
        new_root = disk_math(root_layout, flavor.root_gb * GIB)
        minimum = minimum_root_gb(root_layout, current.root_size, disk_math)
    _check_root(current, new_root, flavor, minimum)
    _check_ephemerals(current, flavor)


def plan_resize(
    current: VmPlan | LocalDisks,
    request: InstanceRequest,
    host: HostFacts,
    config: HyperVConfig | None = None,
    *,
    disk_math: DiskMath = default_disk_math,
) -> VmPlan:
    """The VM after a cold resize to request's flavor (the whole VM: what the new flavor
    no longer asks for, such as RemoteFX, PCI devices, QoS or vNUMA, is absent from it).

    `request` carries the ephemeral disks Nova records; they are resized here. For the
    root disk, pass the root file's own facts as the image's (its virtual size unset):
    the new size is then the largest the new root_gb allows, checked against `current`.
    """
    flavor = checked_flavor(request.flavor)
    disks = current if isinstance(current, LocalDisks) else LocalDisks.of_plan(current)
    _check_ephemerals(disks, flavor)  # before planning, which would refuse the sum
    devices = request.block_devices
    request = dataclasses.replace(request, block_devices=dataclasses.replace(
        devices, ephemerals=resized_ephemerals(devices.ephemerals, flavor.ephemeral_gb)))
    new = plan_instance(request, host, config, disk_math=disk_math)
    _check_root(disks, new.root_virtual_size, flavor, None)
    return new
