"""os-win creates, configures, runs and destroys VMs on the emulated host."""

from __future__ import annotations

from typing import Any

import pytest

from hyperv_emulator import wmi

UUID = "5f7c3e1a-9d2b-4c8e-a1f0-6b3d2e4c5a79"


@pytest.mark.parametrize("generation", [1, 2])
def test_create_vm_reads_back_through_oswin(vmutils: Any, generation: int) -> None:
    vmutils.create_vm("inst-1", False, generation, "C:\\Instances\\inst-1", [UUID])
    assert vmutils.vm_exists("inst-1")
    assert vmutils.list_instances() == ["inst-1"]
    assert vmutils.get_vm_generation("inst-1") == generation
    assert vmutils.get_instance_uuid("inst-1") == UUID
    assert vmutils.list_instance_notes() == [("inst-1", [UUID])]
    assert vmutils.get_vm_id("inst-1") == vmutils._lookup_vm_check("inst-1", as_vssd=False).Name
    summary = vmutils.get_vm_summary_info("inst-1")
    assert summary == {"NumberOfProcessors": 1, "EnabledState": 3, "MemoryUsage": None,
                       "UpTime": 0}
    # os-win leaves the subtype NULL for generation 1: Hyper-V's default is SubType:1.
    vssd = vmutils._lookup_vm_check("inst-1")
    assert vssd.VirtualSystemSubType == f"Microsoft:Hyper-V:SubType:{generation}"
    assert vssd.SecureBootEnabled is False
    assert vssd.VirtualNumaEnabled is False
    assert vssd.AutomaticStartupAction == 2
    assert vssd.ConfigurationDataRoot == "C:\\Instances\\inst-1"


def test_create_vm_costs_few_round_trips(vmutils: Any) -> None:
    wmi.session().counters.reset()
    vmutils.create_vm("inst-1", True, 2, "C:\\Instances\\inst-1")
    counted = wmi.session().counters.total
    assert counted.calls == 1  # DefineSystem, synchronous: no job to poll
    assert counted.job_polls == 0
