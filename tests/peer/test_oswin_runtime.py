"""os-win at run time: a vNUMA VM on the host's nodes, its COM pipes served as sockets,
and injected faults surfacing through os-win the way real Hyper-V errors do."""

from __future__ import annotations

from typing import Any

import pytest
from os_win import constants
from os_win import exceptions as os_win_exceptions

from hyperv_emulator import serial


@pytest.fixture(autouse=True)
def _stop_serving() -> Any:
    yield
    serial.stop_serving()


def test_a_vnuma_vm_lies_across_the_host_nodes(vmutils: Any, hostutils: Any) -> None:
    vmutils.create_vm("inst-1", True, 2, "C:\\i")
    vmutils.update_vm("inst-1", 8192, 4096, 4, 2, False, 1.0, vnuma_enabled=True)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    assert [n["memory_usage"] for n in hostutils.get_numa_nodes()] == [61440, 61440]
    assert vmutils._lookup_vm_check("inst-1", as_vssd=False).NumberOfNumaNodes == 2


def test_com_pipes_set_by_oswin_are_sockets_while_the_vm_runs(vmutils: Any, host: Any) -> None:
    vmutils.create_vm("inst-1", False, 1, "C:\\i")
    vmutils.set_vm_serial_port_connection("inst-1", 1, "\\\\.\\pipe\\inst-1_ro")
    vmutils.set_vm_serial_port_connection("inst-1", 2, "\\\\.\\pipe\\inst-1_rw")
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    log = serial.connect(host, "\\\\.\\pipe\\inst-1_ro")
    data = b""
    while b"login: " not in data:
        data += log.recv(4096)
    assert b"Virtual machine: inst-1\r\nGeneration: 1\r\nFirmware: BIOS\r\n" in data
    console = serial.connect(host, "\\\\.\\pipe\\inst-1_rw")
    console.sendall(b"uname\n")
    assert console.recv(6) == b"uname\n"
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    assert log.recv(10) == b""  # the pipe closed with the VM
    for sock in (log, console):
        sock.close()
    with pytest.raises(FileNotFoundError):
        serial.connect(host, "\\\\.\\pipe\\inst-1_rw", timeout=0.1)


def test_an_injected_start_failure_is_a_failed_job_for_oswin(vmutils: Any, host: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    host.faults.add("RequestStateChange", code=32778, as_job=True)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)  # os-win retries
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_ENABLED
    assert host.faults.list()[0].fired == 1
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    host.faults.clear()
    host.faults.add("RequestStateChange", code=32778, as_job=True, times=0)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    assert info.value.error_code == 32778
    assert host.faults.list()[0].fired > 1  # every retry met it
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_DISABLED
    host.faults.add("DefineSystem", code=32768)
    with pytest.raises(os_win_exceptions.HyperVException):
        vmutils.create_vm("inst-2", False, 2, "C:\\i")
    assert not vmutils.vm_exists("inst-2")
