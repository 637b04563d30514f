"""PCI passthrough (Discrete Device Assignment).

Nova turns the flavor's pci_passthrough:alias into PCI requests (vendor and product id,
count); each becomes that many devices of that kind, which the host must have free
among its dismounted, assignable devices. A VM holding a device cannot be saved, so
its host shutdown action becomes TurnOff (as Microsoft's DDA deployment steps require).
"""

from __future__ import annotations

import re
from collections import Counter

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2016, HostFacts
from nova_hyperv.rules.plan import PciDevicePlan
from nova_hyperv.rules.request import PciRequest
from nova_hyperv.rules.values import Spot, to_int

__all__ = ["pci_devices"]

_HEX4 = re.compile(r"^[0-9a-fA-F]{4}$")
MAX_DEVICES = 64  # far above any host's assignable devices; bounds a silly count


def _hex_id(value: object, spot: Spot) -> str:
    if not isinstance(value, str) or not _HEX4.match(value.strip()):
        raise spot.fail(value, "must be 4 hexadecimal digits")
    return value.strip().lower()


def pci_devices(requests: tuple[PciRequest, ...], host: HostFacts) -> tuple[PciDevicePlan, ...]:
    wanted: Counter[tuple[str, str]] = Counter()
    order: list[tuple[str, str]] = []
    for index, request in enumerate(requests):
        def spot(what: str, allowed: str, i: int = index) -> Spot:
            return Spot("PCI request", f"pci_requests[{i}].{what}", "pci-request-invalid", allowed)

        vendor = _hex_id(request.vendor_id, spot("vendor_id", "4 hex digits, e.g. 10de"))
        product = _hex_id(request.product_id, spot("product_id", "4 hex digits, e.g. 13f2"))
        count = to_int(request.count, spot("count", f"1 to {MAX_DEVICES}"),
                       minimum=1, maximum=MAX_DEVICES)
        if (vendor, product) not in wanted:
            order.append((vendor, product))
        wanted[(vendor, product)] += count
    if not wanted:
        return ()
    if not host.at_least(WS2016):
        raise RuleViolation(
            "pci-passthrough-requires-host-10", "pci_requests", f"{order[0][0]}:{order[0][1]}",
            "PCI passthrough only on Windows / Hyper-V Server 2016 (10.0) or newer hosts",
            f"Discrete Device Assignment arrived in 2016; this host is {host.version_text}",
            source="PCI request",
        )
    free: Counter[tuple[str, str]] = Counter(
        (d.vendor_id.lower(), d.product_id.lower())
        for d in host.assignable_pci_devices
        if d.free
    )
    for kind in order:
        if wanted[kind] > free[kind]:
            raise RuleViolation(
                "pci-devices-unavailable", "pci_requests", f"{kind[0]}:{kind[1]} x{wanted[kind]}",
                f"at most {free[kind]} device(s) {kind[0]}:{kind[1]} on this host",
                f"the host has {free[kind]} free assignable device(s) of this kind and the "
                f"request needs {wanted[kind]}",
                source="PCI request",
            )
    return tuple(
        PciDevicePlan(vendor_id=vendor, product_id=product)
        for vendor, product in order
        for _ in range(wanted[(vendor, product)])
    )
