"""The console log, the pipe reader and the serial proxy against a real emulated VM."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.hyperv.conftest import UUID, files_for, plan_for

from hyperv_emulator import Host, init_host
from nova_hyperv import cim
from nova_hyperv.cim import CimNotSupported
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm
from nova_hyperv.ops.console import ConsoleLog, Consoles, NoConsole
from nova_hyperv.ops.serial_reader import PipeReader

RW = f"\\\\.\\pipe\\{UUID}_rw"


def test_the_log_rotates_once_full_and_reads_oldest_first(tmp_path: Path) -> None:
    log = ConsoleLog(str(tmp_path), max_bytes=10)
    with pytest.raises(FileNotFoundError):
        log.read()
    for chunk in (b"abcd", b"efgh", b"ij", b"klmno"):
        log.write(chunk)
    assert (tmp_path / "console.log.1").read_bytes() == b"abcdefghij"
    assert (tmp_path / "console.log").read_bytes() == b"klmno"
    assert log.read() == b"abcdefghijklmno"
    log.write(b"p" * 25)  # more than a file holds: the newest part is kept
    assert (tmp_path / "console.log").read_bytes() == b"p" * 10
    assert (tmp_path / "console.log.1").read_bytes() == b"klmno"
    log.close()
    again = ConsoleLog(str(tmp_path), max_bytes=10)  # a new process appends
    again.write(b"q")
    assert again.read() == b"p" * 10 + b"q"  # the full file was rotated first
    assert all(p.stat().st_size <= 10 for p in tmp_path.iterdir())
    again.close()


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return init_host(tmp_path / "host.db", "ws2022")


@pytest.fixture
def client(host: Host) -> Iterator[HyperVClient]:
    opened = HyperVClient(cim.connect("emulated", str(host.path)), job_timeout=30)
    yield opened
    opened.session.close()


def running_vm(client: HyperVClient, tmp_path: Path) -> Vm:
    plan = plan_for(client, properties={"hw_machine_type": "hyperv-gen2"})
    vm = client.create_vm(plan, files=files_for(plan, tmp_path / "disks"), switch=None,
                          data_root=str(tmp_path))
    return client.set_state(vm, RequestedState.START)


def until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_reader_follows_the_vm_through_a_stop_and_a_start(client: HyperVClient,
                                                              host: Host,
                                                              tmp_path: Path) -> None:
    vm = running_vm(client, tmp_path)
    received: list[bytes] = []
    reader = PipeReader(RW, client.open_pipe, name="test-reader")
    reader.add_sink(received.append)
    reader.start()
    try:
        until(lambda: b"login: " in b"".join(received))
        assert reader.connected
        assert reader.send(b"ping\r\n")
        until(lambda: b"ping" in b"".join(received))
        vm = client.set_state(vm, RequestedState.TURN_OFF)
        until(lambda: not reader.connected)
        assert not reader.send(b"lost")  # nobody listens while the VM is off
        assert reader.flush(0.1) is False
        received.clear()
        client.set_state(vm, RequestedState.START)
        until(lambda: b"boot 2" in b"".join(received))  # reconnected on its own
        assert reader.flush(2.0) is True
    finally:
        reader.stop()
    assert not reader.alive


def test_a_host_whose_pipes_cannot_be_reached_ends_the_reader(
        caplog: pytest.LogCaptureFixture) -> None:
    def unreachable(pipe: str, timeout: float) -> object:
        raise CimNotSupported("named pipes are reachable from Windows only")

    reader = PipeReader(RW, unreachable, name="test-reader").start()  # type: ignore[arg-type]
    until(lambda: not reader.alive)
    assert "cannot be read from this process" in caplog.text


def test_consoles_log_serve_the_proxy_and_stop(client: HyperVClient, host: Host,
                                               tmp_path: Path) -> None:
    running_vm(client, tmp_path)
    consoles = Consoles(client.open_pipe)
    directory = str(tmp_path / "instance")
    with pytest.raises(NoConsole, match="not running"):
        consoles.serial(UUID, "127.0.0.1")
    consoles.start(UUID, directory, {"rw": RW})
    try:
        until(lambda: b"login: " in consoles.output(UUID, directory))
        address, port = consoles.serial(UUID, "127.0.0.1")
        assert consoles.serial(UUID, "127.0.0.1") == (address, port)  # started once
        with socket.create_connection((address, port), timeout=5) as first, \
                socket.create_connection((address, port), timeout=5) as second:
            time.sleep(0.3)  # both accepted by the proxy's thread
            first.sendall(b"from the first\r\n")
            for client_socket in (first, second):  # the guest's echo goes to both
                got = b""
                while b"from the first" not in got:
                    got += client_socket.recv(4096)
        until(lambda: b"from the first" in consoles.output(UUID, directory))
        # A second start while it runs changes nothing (same reader, same proxy).
        consoles.start(UUID, directory, {"rw": RW})
        assert consoles.serial(UUID, "127.0.0.1") == (address, port)
    finally:
        consoles.stop(UUID)
    assert consoles.running() == set()
    # The port is free again, and the log outlives the reader.
    socket.create_server(("127.0.0.1", port)).close()
    assert b"from the first" in consoles.output(UUID, directory)
    with pytest.raises(NoConsole, match="no console log yet"):
        consoles.output("another", str(tmp_path / "other"))


def test_an_image_without_an_interactive_port_has_no_serial_console(
        client: HyperVClient, tmp_path: Path) -> None:
    consoles = Consoles(client.open_pipe)
    consoles.start(UUID, str(tmp_path), {"ro": f"\\\\.\\pipe\\{UUID}_ro"})
    try:
        with pytest.raises(NoConsole, match="no interactive serial port"):
            consoles.serial(UUID, "127.0.0.1")
    finally:
        consoles.stop_all()
