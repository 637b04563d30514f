"""Network adapters, and when one may be added to or removed from a running VM."""

from __future__ import annotations

import re

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2016, HostFacts
from nova_hyperv.rules.plan import NicPlan
from nova_hyperv.rules.request import Vif
from nova_hyperv.rules.values import Spot

__all__ = ["can_hot_plug_nic", "nics", "require_nic_hot_plug"]

_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def _mac(value: object, field: str) -> str:
    spot = Spot("NIC", field, "nic-invalid", "a MAC address such as fa:16:3e:12:34:56")
    if not isinstance(value, str) or not _MAC.match(value.strip().lower()):
        raise spot.fail(value, "is not a MAC address")
    mac = value.strip().lower().replace("-", ":")
    if int(mac[:2], 16) & 1:
        raise spot.fail(value, "is a multicast address, which a NIC cannot have")
    return mac


def nics(vifs: tuple[Vif, ...]) -> tuple[NicPlan, ...]:
    planned: list[NicPlan] = []
    seen: set[str] = set()
    for index, vif in enumerate(vifs):
        spot = Spot("NIC", f"vifs[{index}].id", "nic-invalid", "a unique port id")
        if not isinstance(vif.id, str) or not vif.id.strip():
            raise spot.fail(vif.id, "is required")
        if vif.id in seen:
            raise spot.fail(vif.id, "is given twice")
        seen.add(vif.id)
        if vif.tag is not None and not isinstance(vif.tag, str):
            raise Spot("NIC", f"vifs[{index}].tag", "nic-invalid", "text").fail(
                vif.tag, "a device tag must be text"
            )
        planned.append(NicPlan(name=vif.id, mac=_mac(vif.mac, f"vifs[{index}].mac"),
                               tag=vif.tag or None))
    return tuple(planned)


def require_nic_hot_plug(vm_running: bool, generation: int, host: HostFacts) -> None:
    """Raise unless a NIC may be attached to or detached from the VM now.

    A VM that is off takes any change. A running one only on a 2016+ host and only if
    it is generation 2.
    """
    if not vm_running:
        return
    if not host.at_least(WS2016):
        raise RuleViolation(
            "nic-hot-plug-requires-host-10", "vm_state", "running",
            "the VM turned off, or a generation 2 VM on a 2016 (10.0) or newer host",
            f"this host ({host.version_text}) cannot add or remove NICs of a running VM",
            source="instance",
        )
    if generation != 2:
        raise RuleViolation(
            "nic-hot-plug-requires-gen2", "generation", generation,
            "the VM turned off, or a generation 2 VM",
            "Hyper-V adds or removes NICs of running VMs only for generation 2",
            source="instance",
        )


def can_hot_plug_nic(vm_running: bool, generation: int, host: HostFacts) -> bool:
    try:
        require_nic_hot_plug(vm_running, generation, host)
    except RuleViolation:
        return False
    return True
