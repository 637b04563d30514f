"""Nested virtualization, dynamic memory, virtual NUMA and hot-plug: what excludes what."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client, client_for

from hyperv_emulator.errors import CimError


def processor(client: Client, system: str):  # type: ignore[no-untyped-def]
    return client.devices(system, "Msvm_ProcessorSettingData")[0]


def modify(client: Client, *settings: object):  # type: ignore[no-untyped-def]
    return client.call("ModifyResourceSettings", ResourceSettings=list(settings))


def dynamic_memory(client: Client, system: str):  # type: ignore[no-untyped-def]
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory.update({"DynamicMemoryEnabled": True, "Reservation": 512, "Limit": 2048})
    return memory


def test_nested_virtualization_needs_static_memory(client: Client) -> None:
    system = client.define(VirtualNumaEnabled=False)
    client.ok(modify(client, dynamic_memory(client, system)))
    nested = processor(client, system)
    nested["ExposeVirtualizationExtensions"] = True
    job = client.refused(modify(client, nested), 32773)
    assert "needs static memory" in job["ErrorDescription"]
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory["DynamicMemoryEnabled"] = False
    client.ok(modify(client, memory))
    client.ok(modify(client, nested))
    job = client.refused(modify(client, dynamic_memory(client, system)), 32773)
    assert "nested virtualization is on" in job["ErrorDescription"]


def test_nested_virtualization_needs_version_8(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2019")
    old = client.define("old", Version="7.0")
    nested = processor(client, old)
    nested["ExposeVirtualizationExtensions"] = True
    assert "configuration version 8.0" in client.refused(modify(client, nested), 32773)[
        "ErrorDescription"]
    current = client.define("current", Version="8.0")
    nested = processor(client, current)
    nested["ExposeVirtualizationExtensions"] = True
    client.ok(modify(client, nested))


def test_nested_virtualization_needs_a_2016_host(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2012r2")
    nested = processor(client, client.define())
    with pytest.raises(CimError, match="ExposeVirtualizationExtensions"):
        nested["ExposeVirtualizationExtensions"] = True


def test_nested_virtualization_only_while_off(client: Client) -> None:
    system = client.define()
    client.ok(client.state(system, 2))
    nested = processor(client, system)
    nested["ExposeVirtualizationExtensions"] = True
    client.refused(modify(client, nested), 32775)


@pytest.mark.parametrize(("class_name", "values"), [
    ("Msvm_ProcessorSettingData", {"VirtualQuantity": 2}),
    ("Msvm_ProcessorSettingData", {"MaxProcessorsPerNumaNode": 4}),
    ("Msvm_ProcessorSettingData", {"MaxNumaNodesPerSocket": 2}),
    ("Msvm_MemorySettingData", {"MaxMemoryBlocksPerNumaNode": 4096}),
])
def test_vcpus_and_numa_limits_only_while_off(client: Client, class_name: str,
                                              values: dict[str, object]) -> None:
    system = client.define()
    setting = client.devices(system, class_name)[0]
    setting.update(values)
    client.ok(client.state(system, 2))
    job = client.refused(modify(client, setting), 32775)
    assert "to be off" in job["ErrorDescription"]
    client.ok(client.state(system, 3))
    client.ok(modify(client, setting))


def test_virtual_numa_only_while_off(client: Client) -> None:
    system = client.define()
    client.ok(client.state(system, 2))
    vssd = client.vssd(system)
    vssd["VirtualNumaEnabled"] = False
    client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32775)


def test_dynamic_memory_and_virtual_numa_both_ways(client: Client) -> None:
    system = client.define()
    client.refused(modify(client, dynamic_memory(client, system)), 32773)
    vssd = client.vssd(system)
    vssd["VirtualNumaEnabled"] = False
    client.ok(client.call("ModifySystemSettings", SystemSettings=vssd))
    client.ok(modify(client, dynamic_memory(client, system)))
    vssd["VirtualNumaEnabled"] = True
    job = client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32773)
    assert "dynamic memory" in job["ErrorDescription"]


def test_nic_hot_plug_is_for_synthetic_nics_of_generation2(client: Client) -> None:
    gen1 = client.define("gen1", 1)
    synthetic = client.ok(client.nic(gen1, "syn"))["ResultingResourceSettings"][0]
    legacy = client.session.query("SELECT * FROM Msvm_EmulatedEthernetPortSettingData "
                                  "WHERE InstanceID LIKE '%\\\\Default'")[0]
    legacy_nic = client.add_ok(gen1, legacy)
    client.ok(client.state(gen1, 2))
    for nic in (synthetic, legacy_nic):
        client.refused(client.call("RemoveResourceSettings", ResourceSettings=[nic]), 32775)
    client.refused(client.add(gen1, legacy), 32775)
    gen2 = client.define("gen2")
    client.ok(client.state(gen2, 2))
    hot = client.ok(client.nic(gen2, "hot"))["ResultingResourceSettings"][0]
    client.ok(client.call("RemoveResourceSettings", ResourceSettings=[hot]))
