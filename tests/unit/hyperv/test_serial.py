"""COM port pipes: which VMs have them, shielding, and the pipe transport of each adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import client_for
from tests.unit.emulator.test_security import Security
from tests.unit.hyperv.conftest import UUID, files_for, open_client, plan_for

from hyperv_emulator import Host, init_host
from hyperv_emulator import wmi as facade
from hyperv_emulator.profiles import PRESETS
from nova_hyperv.cim import CimNotFound, CimNotSupported
from nova_hyperv.cim.pipes import PipeClosed
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm
from nova_hyperv.hyperv.serial import pipe_mode


def make(client: HyperVClient, tmp_path: Path, **properties: str) -> Vm:
    plan = plan_for(client, properties={"hw_machine_type": "hyperv-gen2", **properties})
    return client.create_vm(plan, files=files_for(plan, tmp_path), switch=None,
                            data_root=str(tmp_path))


def test_serial_pipes_of_every_vm_by_com_port(client: HyperVClient, tmp_path: Path) -> None:
    vm = make(client, tmp_path, logging_serial_port="2")
    assert client.serial_pipes() == {vm.guid: {1: f"\\\\.\\pipe\\{UUID}_rw",
                                               2: f"\\\\.\\pipe\\{UUID}_ro"}}
    assert [pipe_mode(p) for p in ("x_ro", "X_RO", "x_rw", "anything")] == \
        ["ro", "ro", "rw", "rw"]
    assert client.shielded_vms() == set()


def test_shielded_vms_are_named_and_hosts_without_shielding_have_none(tmp_path: Path) -> None:
    emulated = client_for(tmp_path / "new", PRESETS["ws2022"].replace(guarded=True))
    security = Security(emulated)
    system = emulated.define("shielded")
    security.vtpm(system)
    emulated.ok(security.modify(system, ShieldingRequested=True))
    emulated.define("plain")
    client = open_client(emulated.session.host, "emulated")
    guid = emulated.session.get(system)["Name"].upper()
    assert client.shielded_vms() == {guid}
    old = open_client(init_host(tmp_path / "old.db", "ws2012r2"), "emulated")
    assert old.shielded_vms() == set()


def test_the_emulated_pipe_carries_the_boot_log_and_echoes(host: Host, tmp_path: Path) -> None:
    client = open_client(host, "emulated")
    vm = client.set_state(make(client, tmp_path), RequestedState.START)
    pipe = client.open_pipe(f"\\\\.\\pipe\\{UUID}_rw", timeout=5)
    received = b""
    while b"login: " not in received:
        chunk = pipe.read(4096, timeout=5)
        assert chunk, received
        received += chunk
    assert b"Virtual machine: instance-00000001\r\nGeneration: 2\r\nFirmware: UEFI" in received
    assert pipe.read(4096, timeout=0.05) == b""  # nothing more: an empty read, not an error
    pipe.write(b"hello\r\n")
    echoed = b""
    while len(echoed) < 7:
        echoed += pipe.read(4096, timeout=5)
    assert echoed == b"hello\r\n"
    client.set_state(vm, RequestedState.TURN_OFF)
    with pytest.raises(PipeClosed):
        while True:
            pipe.read(4096, timeout=5)
    pipe.close()
    with pytest.raises(CimNotFound, match="_rw"):
        client.open_pipe(f"\\\\.\\pipe\\{UUID}_rw", timeout=0.1)


def test_over_pymi_pipes_are_windows_named_pipes(host: Host) -> None:
    client = open_client(host, "wmi")
    try:
        with pytest.raises(CimNotSupported, match="from Windows"):
            client.open_pipe(f"\\\\.\\pipe\\{UUID}_rw")
    finally:
        facade.unbind()
