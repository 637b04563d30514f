"""PCI passthrough: requests become device pairs the host must have free."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import HyperVConfig, PciDevicePlan, PciRequest, RuleViolation

from .builders import make_host, plan

HOST = make_host(pci=(("10DE", "13F2", True), ("10de", "13f2", True), ("10de", "13f2", False),
                      ("8086", "1572", True)))


def test_requests_become_devices_and_host_shutdown_becomes_turn_off() -> None:
    vm = plan(HOST, pci=(PciRequest("10de", "13f2", 2), PciRequest("8086", "1572")))
    assert vm.pci_devices == (PciDevicePlan("10de", "13f2"), PciDevicePlan("10de", "13f2"),
                              PciDevicePlan("8086", "1572"))
    assert vm.host_shutdown_action == "TurnOff"


def test_ids_match_case_insensitively_and_counts_add_up() -> None:
    vm = plan(HOST, pci=(PciRequest("10DE", "13f2"), PciRequest("10de", "13F2", "1")))
    assert len(vm.pci_devices) == 2
    with pytest.raises(RuleViolation) as caught:  # the third is assigned elsewhere
        plan(HOST, pci=(PciRequest("10de", "13f2", 2), PciRequest("10de", "13f2")))
    assert caught.value.code == "pci-devices-unavailable"
    assert "has 2 free" in caught.value.message


def test_without_pci_the_vm_is_saved_on_host_shutdown() -> None:
    assert plan(HOST).host_shutdown_action == "Save"
    assert plan(HOST).pci_devices == ()


def test_instance_automatic_shutdown_option() -> None:
    vm = plan(HOST, HyperVConfig(instance_automatic_shutdown=True))
    assert vm.host_shutdown_action == "ShutDown"


def test_pci_turn_off_wins_over_instance_automatic_shutdown() -> None:
    vm = plan(HOST, HyperVConfig(instance_automatic_shutdown=True),
              pci=(PciRequest("8086", "1572"),))
    assert vm.host_shutdown_action == "TurnOff"
