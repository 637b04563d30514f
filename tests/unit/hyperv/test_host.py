"""What the client reads about the host, for every Windows preset the emulator has."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.unit.hyperv.conftest import files_for, open_client, plan_for

from hyperv_emulator import init_host
from hyperv_emulator import wmi as facade
from hyperv_emulator.profiles import PRESETS, VSwitch
from nova_hyperv import cim
from nova_hyperv.cli._hostfacts import host_facts
from nova_hyperv.hyperv import HostConfigurationError


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("adapter", ["emulated", "wmi"])
def test_host_facts_are_what_the_host_serves(tmp_path: Path, preset: str,
                                             adapter: str) -> None:
    profile = PRESETS[preset]
    client = open_client(init_host(tmp_path / "h.db", profile), adapter)
    info = client.host()
    expected = host_facts(profile)
    # What the CLI plans with (from the profile) is what the driver reads from the host.
    assert info.facts == expected
    assert info.hostname == profile.hostname
    assert info.memory_mb == profile.memory_mb
    major, minor, _ = expected.windows_version
    assert info.hypervisor_version == major * 1000 + minor
    assert [n.free_memory_mb for n in info.nodes] == [n.memory_mb for n in profile.numa_nodes]


def test_reading_the_host_costs_the_same_whatever_the_vm_count(tmp_path: Path) -> None:
    client = open_client(init_host(tmp_path / "h.db", "ws2022"), "emulated")
    costs = []
    for count in (0, 4):
        for index in range(count):
            plan = plan_for(client, name=f"vm-{index}",
                            uuid=f"00000000-0000-0000-0000-00000000000{index}")
            client.create_vm(plan, files=files_for(plan, tmp_path), switch=None,
                             data_root=str(tmp_path))
        with cim.count_round_trips(client.session, f"host-{count}") as stats:
            client.host(refresh=True)
        costs.append(stats.as_dict()["total"])
    assert costs[0] == costs[1]
    assert costs[0] <= 9


@pytest.mark.parametrize("adapter", ["emulated", "wmi"])
def test_switch_by_name_or_the_only_external_one(tmp_path: Path, adapter: str) -> None:
    one = open_client(init_host(tmp_path / "one.db", "ws2022"), adapter)
    assert one.switch(None).name == "external"
    assert one.switch("EXTERNAL").name == "external"  # Hyper-V names ignore case
    with pytest.raises(HostConfigurationError, match=r"'nope'.*has 'external'"):
        one.switch("nope")
    one.session.close()
    # An internal and a private switch are not where instance NICs go by default.
    profile = PRESETS["ws2022"].replace(vswitches=(
        VSwitch("it's \"odd\"", "internal"), VSwitch("lab", "private"), VSwitch("ext1")))
    mixed = open_client(init_host(tmp_path / "mixed.db", profile), adapter)
    assert mixed.switch(None).name == "ext1"
    assert mixed.switch("it's \"odd\"").name == "it's \"odd\""
    mixed.session.close()
    for name, switches in (("two", (VSwitch("ext1"), VSwitch("ext2"))),
                           ("none", (VSwitch("host", "internal"),))):
        host = init_host(tmp_path / f"{name}.db", PRESETS["ws2022"].replace(vswitches=switches))
        client = open_client(host, adapter)
        with pytest.raises(HostConfigurationError, match="set vswitch_name") as raised:
            client.switch(None)
        client.session.close()
        expected = "2 external virtual switches ('ext1', 'ext2')" if name == "two" else \
            "0 external virtual switches among its switches ('host')"
        assert expected in str(raised.value)
    if adapter == "wmi":
        facade.unbind()


@pytest.mark.parametrize("adapter", ["emulated", "wmi"])
def test_guarded_host_with_remotefx_and_dda_devices(tmp_path: Path, adapter: str) -> None:
    from hyperv_emulator.profiles import AssignableDevice

    profile = PRESETS["ws2016"].replace(guarded=True, assignable_devices=(
        AssignableDevice("10DE", "1DB4", "PCIROOT(0)#PCI(0300)#PCI(0000)"),))
    client = open_client(init_host(tmp_path / "h.db", profile), adapter)
    facts = client.host().facts
    expected = host_facts(profile)
    assert facts == dataclasses.replace(expected, assignable_pci_devices=tuple(
        dataclasses.replace(d, vendor_id=d.vendor_id.lower(), product_id=d.product_id.lower())
        for d in expected.assignable_pci_devices))  # the rules compare ids case-insensitively
    assert facts.guarded and facts.remotefx_gpus == ("NVIDIA GRID K2",)
    assert [(d.vendor_id, d.product_id, d.free) for d in facts.assignable_pci_devices] == [
        ("10de", "1db4", True)]
