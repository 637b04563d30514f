"""The same os-win calls against each Windows version the emulator claims.

os-win picks its implementation by the host's version (VMUtils6_3 on 2012 R2, VMUtils10
from 2016), and the schema differs by build (serial ports are plain RASDs on 9600).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from os_win import constants
from tests.unit.emulator.images import make_image

from hyperv_emulator import init_host, oswin, wmi


@pytest.fixture(params=["ws2012r2", "ws2016", "ws2019", "ws2025"])
def preset(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    host = init_host(tmp_path / "host.db", request.param)
    make_image(host, "C:\\i\\root.vhdx")
    oswin.enable(host)
    yield request.param
    oswin.disable()
    wmi.unbind()


def test_vm_round_trip_on_every_version(preset: str) -> None:
    from os_win import utilsfactory

    vmutils = utilsfactory.get_vmutils()
    expected = "VMUtils6_3" if preset == "ws2012r2" else "VMUtils10"
    assert type(vmutils).__name__ == expected
    vmutils.create_vm("inst-1", False, 2, "C:\\i", ["5f7c3e1a-9d2b-4c8e-a1f0-6b3d2e4c5a79"])
    vmutils.update_vm("inst-1", 2048, None, 2, None, False, 1.0)
    vmutils.create_scsi_controller("inst-1")
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\root.vhdx", constants.DISK)
    vmutils.set_disk_qos_specs("C:\\i\\root.vhdx", max_iops=300, min_iops=30)  # 2012 R2+
    vhd = vmutils._get_mounted_disk_resource_from_path("C:\\i\\root.vhdx", is_physical=False)
    assert (vhd.IOPSLimit, vhd.IOPSReservation) == (300, 30)
    vmutils.set_vm_serial_port_connection("inst-1", 1, "\\\\.\\pipe\\com1")
    assert vmutils.get_vm_serial_port_connections("inst-1") == ["\\\\.\\pipe\\com1"]
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    assert vmutils.get_vm_summary_info("inst-1")["EnabledState"] == 2
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    vmutils.destroy_vm("inst-1")
    assert vmutils.list_instances() == []
