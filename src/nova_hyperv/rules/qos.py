"""Disk QoS: IOPS limits in Hyper-V's normalized (8 KB) units.

IOPS win over bytes per second; bytes per second become normalized IOPS by dividing by
8 KB and rounding DOWN, with a minimum of 1 (the usage guide's rule, which the design
brief keeps where compute-hyperv's code rounded up). 0 means no limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2012R2, HostFacts
from nova_hyperv.rules.values import Spot, whole

__all__ = ["IOPS_UNIT_BYTES", "MAX_IOPS", "iops_limit", "local_disk_iops"]

IOPS_UNIT_BYTES = 8192
MAX_IOPS = 1_000_000_000  # Msvm_StorageAllocationSettingData.IOPSLimit's largest value


def iops_limit(
    specs: Mapping[str, object], iops_key: str, bytes_key: str, source: str
) -> int | None:
    """The IOPS limit the specs ask for; None for no limit."""
    allowed = f"a whole number >= 0 that gives at most {MAX_IOPS} IOPS (0: no limit)"
    iops_spot = Spot(source, iops_key, "disk-qos-invalid", allowed)
    bytes_spot = Spot(source, bytes_key, "disk-qos-invalid", allowed)
    iops = whole(specs, iops_spot, minimum=0)
    if iops is not None:
        limit, spot = iops, iops_spot
    else:
        per_second = whole(specs, bytes_spot, minimum=0)
        if not per_second:
            return None
        limit, spot = max(1, per_second // IOPS_UNIT_BYTES), bytes_spot
    if limit > MAX_IOPS:
        raise spot.fail(specs.get(spot.field), f"gives {limit} IOPS, above Hyper-V's limit")
    return limit or None


def local_disk_iops(flavor_specs: Mapping[str, object], host: HostFacts) -> int | None:
    """The limit for every local disk of the instance (root, ephemerals, swap)."""
    limit = iops_limit(
        flavor_specs, "quota:disk_total_iops_sec", "quota:disk_total_bytes_sec",
        "flavor extra spec",
    )
    if limit is not None and not host.at_least(WS2012R2):
        raise RuleViolation(
            "disk-qos-unsupported-by-host", "quota:disk_total_iops_sec", limit,
            "no disk QoS on this host; Windows / Hyper-V Server 2012 R2 (6.3) or newer",
            f"Hyper-V has IOPS limits from 2012 R2 on; this host is {host.version_text}",
            source="flavor extra spec",
        )
    return limit
