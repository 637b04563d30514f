"""Network adapters, and when one may be added to or removed from a running VM.

Each port is one synthetic NIC with the port's MAC (static), on the port's access VLAN
when it has one, with MAC spoofing allowed when Neutron's port security is off (the
usage guide's nested virtualization section relies on that for nested VMs' traffic).
"""

from __future__ import annotations

import re

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2016, HostFacts
from nova_hyperv.rules.plan import NicPlan
from nova_hyperv.rules.request import Vif
from nova_hyperv.rules.values import Spot, to_bool, to_int

__all__ = ["can_hot_plug_nic", "nics", "plan_nic", "require_nic_hot_plug"]

_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def _mac(value: object, field: str) -> str:
    spot = Spot("NIC", field, "nic-invalid", "a MAC address such as fa:16:3e:12:34:56")
    if not isinstance(value, str) or not _MAC.match(value.strip().lower()):
        raise spot.fail(value, "is not a MAC address")
    mac = value.strip().lower().replace("-", ":")
    if int(mac[:2], 16) & 1:
        raise spot.fail(value, "is a multicast address, which a NIC cannot have")
    return mac


def _vlan(value: object, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    # 0 and 4095 are reserved by 802.1Q; Hyper-V's access VLAN ids are 1..4094.
    return to_int(value, Spot("NIC", field, "nic-invalid", "a VLAN id from 1 to 4094"),
                  minimum=1, maximum=4094)


def plan_nic(vif: Vif, index: int = 0) -> NicPlan:
    """One port as a NIC (`index` names it in errors: vifs[index])."""
    if not isinstance(vif.id, str) or not vif.id.strip():
        raise Spot("NIC", f"vifs[{index}].id", "nic-invalid", "a unique port id").fail(
            vif.id, "is required")
    if vif.tag is not None and not isinstance(vif.tag, str):
        raise Spot("NIC", f"vifs[{index}].tag", "nic-invalid", "text").fail(
            vif.tag, "a device tag must be text"
        )
    security = to_bool(vif.port_security, Spot("NIC", f"vifs[{index}].port_security",
                                                "nic-invalid", "true or false"))
    return NicPlan(name=vif.id, mac=_mac(vif.mac, f"vifs[{index}].mac"), tag=vif.tag or None,
                   vlan=_vlan(vif.vlan, f"vifs[{index}].vlan"), mac_spoofing=not security)


def nics(vifs: tuple[Vif, ...]) -> tuple[NicPlan, ...]:
    planned: list[NicPlan] = []
    seen: set[str] = set()
    for index, vif in enumerate(vifs):
        if vif.id in seen:
            raise Spot("NIC", f"vifs[{index}].id", "nic-invalid", "a unique port id").fail(
                vif.id, "is given twice")
        nic = plan_nic(vif, index)
        seen.add(nic.name)
        planned.append(nic)
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
