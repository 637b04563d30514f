"""COM port pipes as Unix sockets: the boot log, echo, when endpoints exist, who serves
them (this process, another one, a process that took over), read with plain sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client

from hyperv_emulator import Host, init_host, open_host, serial
from hyperv_emulator.inventory import describe
from hyperv_emulator.pipes import parse_pipe, pipe_dir, socket_name, socket_path

RUNNING, OFF, SAVED, PAUSED = 2, 3, 6, 9
LOG_GEN2 = (b"Hyper-V emulated guest, boot 1\r\nVirtual machine: web1\r\nGeneration: 2\r\n"
            b"Firmware: UEFI\r\nSecure Boot: on, template MicrosoftUEFICertificateAuthority"
            b"\r\n\r\nweb1 login: ")


def serial_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hyperv-emulator-serial")]


@pytest.fixture
def host(short_dir: Path) -> Host:
    return init_host(short_dir / "hv.db", "ws2022")


@pytest.fixture
def client(host: Host) -> Iterator[Client]:
    with host.session() as session:
        yield Client(session)


def set_pipe(client: Client, system: str, com: int, pipe: str) -> None:
    port = client.devices(system, "Msvm_SerialPortSettingData")[com - 1]
    port["Connection"] = [pipe]
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[port]))


def plain_connect(path: Path | None) -> socket.socket:
    assert path is not None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(path))
    return sock


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def wait_for(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def web1(client: Client, **values: object) -> str:
    system = client.define("web1", SecureBootTemplateId="272E7447-90A4-4563-A4B9-8E4AB00526CE",
                           **values)
    set_pipe(client, system, 1, r"\\.\pipe\Web1_log")
    set_pipe(client, system, 2, r"\\.\pipe\web1_rw")
    return system


# -- the mapping --------------------------------------------------------------------------


def test_pipe_names_map_to_one_safe_file_each(tmp_path: Path) -> None:
    state = tmp_path / "h.db"
    assert pipe_dir(state) == tmp_path / "h.db.pipes"
    assert socket_path(state, r"\\.\pipe\Web1_RW") == tmp_path / "h.db.pipes" / "web1_rw"
    assert socket_path(state, r"\\HV1\PIPE\x", "hv1") == tmp_path / "h.db.pipes" / "x"
    assert socket_path(state, r"\\other\pipe\x", "hv1") is None
    assert socket_name(r"\\.\pipe\a/b c%é") == "a%2fb%20c%25%c3%a9"
    assert socket_name(r"\\.\pipe\.owners") == "%2eowners"
    assert parse_pipe(r"\\.\pipe\Name") == (".", "Name")
    with pytest.raises(ValueError, match=r"'COM1' is not a named pipe path"):
        socket_name("COM1")


# -- what the guest writes ------------------------------------------------------------------


def test_com1_starts_with_the_boot_log_and_ports_echo(client: Client, host: Host) -> None:
    system = web1(client)
    client.ok(client.state(system, 2))
    log = plain_connect(serial.pipe_path(host, r"\\.\pipe\WEB1_LOG"))
    assert read_exactly(log, len(LOG_GEN2)) == LOG_GEN2
    console = plain_connect(serial.pipe_path(host, r"\\.\pipe\web1_rw"))
    console.sendall(b"root\r")
    assert read_exactly(console, 5) == b"root\r"
    log.sendall(b"x")
    assert read_exactly(log, 1) == b"x"
    log.close()
    console.close()


def test_generation_1_and_secure_boot_off_in_the_boot_log(client: Client, host: Host) -> None:
    old = client.define("old", generation=1)
    set_pipe(client, old, 1, r"\\.\pipe\old")
    plain = client.define("plain", SecureBootEnabled=False)
    set_pipe(client, plain, 1, r"\\.\pipe\plain")
    client.ok(client.state(old, 2))
    client.ok(client.state(plain, 2))
    first = read_until(plain_connect(serial.pipe_path(host, r"\\.\pipe\old")), b"login: ")
    assert b"Generation: 1\r\nFirmware: BIOS\r\nSecure Boot: not available (BIOS)" in first
    second = read_until(plain_connect(serial.pipe_path(host, r"\\.\pipe\plain")), b"login: ")
    assert b"Firmware: UEFI\r\nSecure Boot: off\r\n\r\nplain login: " in second


def test_output_waits_for_a_client_and_then_goes_to_every_client(client: Client,
                                                                 host: Host) -> None:
    system = web1(client)
    client.ok(client.state(system, 2))
    path = serial.pipe_path(host, r"\\.\pipe\web1_rw")
    one, two = plain_connect(path), plain_connect(path)
    time.sleep(0.1)
    one.sendall(b"hello")
    assert read_exactly(one, 5) == b"hello" and read_exactly(two, 5) == b"hello"
    for sock in (one, two):
        sock.close()


def test_a_reboot_writes_the_boot_log_again(client: Client, host: Host) -> None:
    system = web1(client)
    client.ok(client.state(system, 2))
    log = plain_connect(serial.pipe_path(host, r"\\.\pipe\web1_log"))
    assert read_until(log, b"login: ").startswith(b"Hyper-V emulated guest, boot 1\r\n")
    client.ok(client.state(system, 11))  # reset
    assert read_until(log, b"login: ").startswith(b"Hyper-V emulated guest, boot 2\r\n")
    component = client.session.query("SELECT * FROM Msvm_ShutdownComponent")[0]
    client.session.invoke(component.path, "InitiateReboot", Force=True, Reason="test")
    assert read_until(log, b"login: ").startswith(b"Hyper-V emulated guest, boot 3\r\n")
    log.close()


# -- when an endpoint exists ----------------------------------------------------------------


def test_an_endpoint_exists_while_the_vm_runs_or_is_paused(client: Client, host: Host) -> None:
    system = web1(client)
    path = serial.pipe_path(host, r"\\.\pipe\web1_rw")
    assert path is not None and not path.exists() and serial_threads() == []
    client.ok(client.state(system, 2))
    assert path.exists() and len(serial_threads()) == 1
    console = plain_connect(path)
    client.ok(client.state(system, 9))  # paused: the pipe stays, the guest is frozen
    assert path.exists()
    console.sendall(b"typed while paused")
    time.sleep(0.3)
    console.setblocking(False)
    with pytest.raises(BlockingIOError):
        console.recv(100)
    console.setblocking(True)
    client.ok(client.state(system, 2))  # resumed: the guest reads what was typed
    assert read_exactly(console, 18) == b"typed while paused"
    client.ok(client.state(system, 6))  # saved: no worker process, no pipe
    assert not path.exists() and console.recv(10) == b""
    assert wait_for(lambda: serial_threads() == [])
    client.ok(client.state(system, 2))  # restored: the same boot, shown again on COM 1
    log = plain_connect(serial.pipe_path(host, r"\\.\pipe\web1_log"))
    assert read_until(log, b"login: ").startswith(b"Hyper-V emulated guest, boot 1\r\n")
    client.ok(client.state(system, 3))
    assert not path.exists()
    assert sorted(p.name for p in pipe_dir(host.path).iterdir()) == [".owners"]
    assert list((pipe_dir(host.path) / ".owners").iterdir()) == []
    assert wait_for(lambda: serial_threads() == [])


def test_a_pipe_set_or_cleared_on_a_running_vm_takes_effect_at_once(client: Client,
                                                                    host: Host) -> None:
    system = client.define("late")
    client.ok(client.state(system, 2))
    assert serial_threads() == []  # nothing to serve
    set_pipe(client, system, 2, r"\\.\pipe\late")
    console = plain_connect(serial.pipe_path(host, r"\\.\pipe\late"))
    console.sendall(b"hi")
    assert read_exactly(console, 2) == b"hi"
    set_pipe(client, system, 2, r"\\.\pipe\later")
    assert not serial.pipe_path(host, r"\\.\pipe\late").exists()  # type: ignore[union-attr]
    assert console.recv(10) == b""
    assert serial.pipe_path(host, r"\\.\pipe\later").exists()  # type: ignore[union-attr]
    set_pipe(client, system, 2, "")
    assert not serial.pipe_path(host, r"\\.\pipe\later").exists()  # type: ignore[union-attr]
    assert wait_for(lambda: serial_threads() == [])


def test_a_pipe_belongs_to_the_first_vm_that_starts_with_it(client: Client, host: Host) -> None:
    first = client.define("first")
    second = client.define("second")
    for system in (first, second):
        set_pipe(client, system, 1, r"\\.\pipe\shared")
    client.ok(client.state(first, 2))
    client.ok(client.state(second, 2))
    text = read_until(plain_connect(serial.pipe_path(host, r"\\.\pipe\shared")), b"login: ")
    assert b"Virtual machine: first\r\n" in text
    second_vm = next(v for v in describe(client.session)["vms"] if v["name"] == "second")
    assert second_vm["serial_endpoints"] == [
        {"com": 1, "pipe": None, "socket": None, "listening": False,
         "conflict": "the pipe belongs to first"}]


def test_a_remote_pipe_has_no_local_endpoint(client: Client, host: Host) -> None:
    system = client.define("remote")
    set_pipe(client, system, 1, r"\\FILESERVER\pipe\remote")
    client.ok(client.state(system, 2))
    assert serial.endpoints(host) == {} and serial_threads() == []
    with pytest.raises(ValueError, match="a pipe on another server"):
        serial.connect(host, r"\\FILESERVER\pipe\remote")


def test_with_slow_jobs_the_endpoint_appears_when_the_start_job_ends(client: Client,
                                                                     host: Host) -> None:
    host.update_settings(job_polls=2)
    system = web1(client)
    started = client.state(system, 2)
    path = serial.pipe_path(host, r"\\.\pipe\web1_rw")
    assert client.session.get(started.job)["JobState"] == 4
    assert path is not None and not path.exists()
    client.session.get(started.job)
    assert client.session.get(started.job)["JobState"] == 7
    assert path.exists()


# -- who serves -----------------------------------------------------------------------------


def test_long_state_paths_are_served_and_reached_through_connect(short_dir: Path) -> None:
    deep = short_dir / ("d" * 60) / ("e" * 60)
    host = init_host(deep / "hv.db", "ws2022")
    with host.session() as session:
        client = Client(session)
        system = web1(client)
        client.ok(client.state(system, 2))
        path = serial.pipe_path(host, r"\\.\pipe\web1_log")
        assert path is not None and len(str(path)) > 108 and path.exists()
        sock = serial.connect(host, r"\\.\pipe\web1_log")
        assert read_exactly(sock, len(LOG_GEN2)) == LOG_GEN2
        sock.close()
        client.ok(client.state(system, 3))
    with pytest.raises(FileNotFoundError, match="its VM is not running"):
        serial.connect(host, r"\\.\pipe\web1_log", timeout=0.2)


_WORKER = textwrap.dedent("""
    import sys
    from hyperv_emulator import open_host
    host = open_host(sys.argv[1])
    session = host.session()
    system = session.query(
        "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web1'")[0]
    state = int(sys.argv[2])
    session.invoke(system.path, "RequestStateChange", RequestedState=state)
    print("done", flush=True)
    if sys.argv[3] == "stay":
        sys.stdin.readline()
""")


def _worker(host: Host, state: int, stay: bool) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(host.path), str(state), "stay" if stay else "go"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "done"
    return process


def test_a_vm_started_by_a_process_that_exited_is_served_again(client: Client,
                                                              host: Host) -> None:
    web1(client)
    _worker(host, 2, stay=False).wait(timeout=30)
    path = serial.pipe_path(host, r"\\.\pipe\web1_log")
    assert path is not None and not path.exists()  # its server left with it
    log = serial.connect(host, r"\\.\pipe\web1_log")  # takes over, then connects
    assert read_exactly(log, len(LOG_GEN2)) == LOG_GEN2  # the boot's log, replayed
    assert len(serial.served_vms(host)) == 1
    log.close()


def test_a_live_server_elsewhere_is_used_and_taken_over_when_it_dies(client: Client,
                                                                    host: Host) -> None:
    web1(client)
    worker = _worker(host, 2, stay=True)
    try:
        with open_host(host.path).session():  # opening a session takes over nothing
            assert serial.served_vms(host) == set()
        log = serial.connect(host, r"\\.\pipe\web1_log")  # served by the worker
        assert read_exactly(log, len(LOG_GEN2)) == LOG_GEN2
        assert serial.served_vms(host) == set()
        log.close()
    finally:
        worker.kill()
        worker.wait(timeout=30)
    log = serial.connect(host, r"\\.\pipe\web1_log")  # the lock died with it: ours now
    assert read_exactly(log, len(LOG_GEN2)) == LOG_GEN2
    assert len(serial.served_vms(host)) == 1
    log.close()


def test_a_vm_stopped_by_another_process_loses_its_endpoint(client: Client,
                                                           host: Host) -> None:
    system = web1(client)
    client.ok(client.state(system, 2))
    path = serial.pipe_path(host, r"\\.\pipe\web1_rw")
    assert path is not None and path.exists()
    _worker(host, 3, stay=False).wait(timeout=30)
    assert wait_for(lambda: not path.exists() and serial_threads() == [])


def test_host_show_lists_each_running_vms_endpoints(client: Client, host: Host) -> None:
    system = web1(client)
    client.ok(client.state(system, 2))
    vm = describe(client.session)["vms"][0]
    assert vm["serial_endpoints"] == [
        {"com": 1, "pipe": r"\\.\pipe\Web1_log", "listening": True,
         "socket": str(pipe_dir(host.path) / "web1_log")},
        {"com": 2, "pipe": r"\\.\pipe\web1_rw", "listening": True,
         "socket": str(pipe_dir(host.path) / "web1_rw")},
    ]
    client.ok(client.state(system, 3))
    assert describe(client.session)["vms"][0]["serial_endpoints"] == []


def test_a_restart_by_the_cli_in_another_process_reboots_the_guest(client: Client,
                                                                  host: Host) -> None:
    system = web1(client, AutomaticShutdownAction=2, AutomaticStartupAction=4)
    client.ok(client.state(system, 2))
    log = serial.connect(host, r"\\.\pipe\web1_log")
    assert read_until(log, b"login: ").startswith(b"Hyper-V emulated guest, boot 1\r\n")
    command = [str(Path(sys.executable).parent / "nova-hyperv"), "host", "restart",
               str(host.path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
    assert "web1: Running -> Off -> Running" in done.stdout
    assert log.recv(10) == b""  # the old pipe went with the old run (seen within a poll)
    log.close()
    again = serial.connect(host, r"\\.\pipe\web1_log")  # the command has exited: ours
    assert read_until(again, b"login: ").startswith(b"Hyper-V emulated guest, boot 2\r\n")
    again.close()
