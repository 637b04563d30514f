"""NICs and hot plug eligibility (VM off, or a 2016+ host and generation 2)."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import NicPlan, Vif, can_hot_plug_nic, require_nic_hot_plug

from .builders import WS2012R2, WS2016, WS2022, plan


def test_nics_keep_order_ids_and_tags_with_normalised_macs() -> None:
    vm = plan(vifs=(Vif("p1", "FA-16-3E-00-00-01", tag="web"), Vif("p2", " fa:16:3e:00:00:02 ")))
    assert vm.nics == (NicPlan("p1", "fa:16:3e:00:00:01", "web"),
                       NicPlan("p2", "fa:16:3e:00:00:02", None))


@pytest.mark.parametrize(
    ("running", "generation", "host", "allowed"),
    [
        (False, 1, WS2012R2, True),
        (False, 2, WS2012R2, True),
        (True, 2, WS2012R2, False),
        (True, 1, WS2016, False),
        (True, 2, WS2016, True),
        (True, 2, WS2022, True),
        (True, 1, WS2022, False),
    ],
)
def test_hot_plug(running: bool, generation: int, host: object, allowed: bool) -> None:
    assert can_hot_plug_nic(running, generation, host) is allowed  # type: ignore[arg-type]
    if allowed:
        require_nic_hot_plug(running, generation, host)  # type: ignore[arg-type]


def test_vlan_and_port_security_reach_the_plan() -> None:
    vm = plan(vifs=(Vif("p1", "fa:16:3e:00:00:01", vlan="100", port_security=False),
                    Vif("p2", "fa:16:3e:00:00:02", vlan=None, port_security="true")))
    assert [(n.vlan, n.mac_spoofing) for n in vm.nics] == [(100, True), (None, False)]


@pytest.mark.parametrize("vlan", [0, 4095, "ten", True, -1])
def test_vlan_outside_1_to_4094_is_refused_naming_the_port(vlan: object) -> None:
    from nova_hyperv.rules import RuleViolation, plan_nic

    with pytest.raises(RuleViolation) as raised:
        plan_nic(Vif("p1", "fa:16:3e:00:00:01", vlan=vlan), 3)
    assert (raised.value.code, raised.value.field) == ("nic-invalid", "vifs[3].vlan")
    assert "1 to 4094" in raised.value.allowed


def test_port_security_must_be_a_boolean() -> None:
    from nova_hyperv.rules import RuleViolation, plan_nic

    with pytest.raises(RuleViolation) as raised:
        plan_nic(Vif("p1", "fa:16:3e:00:00:01", port_security="maybe"))
    assert raised.value.field == "vifs[0].port_security"
