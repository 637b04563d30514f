"""Console output and the serial console through Nova's API (guide: Serial port
configuration), with the emulated guest writing its boot log to COM 1."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

from nova import context
from nova.objects import instance as instance_obj
from nova.tests.functional.api import client as api_client
from tests.functional.hyperv_base import HyperVTestCase

from hyperv_emulator import open_host, serial
from nova_hyperv.ops.console import MAX_LOG_BYTES

SECURE_GEN2 = {"hw_machine_type": "hyperv-gen2", "os_secure_boot": "required",
               "os_type": "linux"}


class ConsoleTestCase(HyperVTestCase):
    def console_output(self, server: dict[str, Any], length: int | None = None) -> str:
        body: dict[str, Any] = {} if length is None else {"length": length}
        return str(self.api.post_server_action(
            server["id"], {"os-getConsoleOutput": body})["output"])

    def wait_for_output(self, server: dict[str, Any], text: str,
                        timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            output = self.console_output(server)
            if text in output or time.monotonic() > deadline:
                self.assertIn(text, output)
                return output
            time.sleep(0.1)

    def wait_for_log(self, log: str, marker: bytes, timeout: float = 30.0) -> None:
        """Until the console log file (not yet rotated) ends with `marker`."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(FileNotFoundError), open(log, "rb") as stream:
                stream.seek(max(0, os.path.getsize(log) - len(marker)))
                if stream.read() == marker:
                    return
            self.assertLess(time.monotonic(), deadline, f"{marker!r} never reached {log}")
            time.sleep(0.01)

    def guest_pipe(self, server: dict[str, Any], mode: str = "rw") -> socket.socket:
        """A second client on the VM's COM port pipe (the emulator serves several)."""
        host = open_host(self.host_state_file("compute1"))
        return serial.connect(host, f"\\\\.\\pipe\\{server['id']}_{mode}")

    def instance(self, server: dict[str, Any]) -> Any:
        return instance_obj.Instance.get_by_uuid(context.get_admin_context(), server["id"])


class ConsoleOutputTest(ConsoleTestCase):
    def test_the_guests_boot_log_through_the_api_and_again_after_a_reboot(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1,
                                     extra_spec={"os:secure_boot": "required"})
        server = self.boot(self.create_image("gen2", **SECURE_GEN2), flavor=flavor)
        name = self.vm(server)["name"]
        output = self.wait_for_output(server, f"{name} login: ")
        self.assertIn(f"Hyper-V emulated guest, boot 1\nVirtual machine: {name}\n"
                      "Generation: 2\nFirmware: UEFI\nSecure Boot: on, template "
                      "MicrosoftUEFICertificateAuthority", output.replace("\r\n", "\n"))
        self.assertEqual(f"{name} login: ", self.console_output(server, length=1))
        self._reboot_server(server, hard=True)
        output = self.wait_for_output(server, "boot 2")
        self.assertIn("boot 1", output)  # the log goes on across reboots

    def test_the_logging_port_is_read_when_the_image_has_one(self) -> None:
        # interactive_serial_port=2: COM 1 (the boot log) is the read-only logging port.
        server = self.boot(self.create_image("gen1-vhdx", interactive_serial_port="2"))
        self.wait_for_output(server, "Firmware: BIOS")
        self.assertEqual([{"name": "COM 1", "pipe": f"\\\\.\\pipe\\{server['id']}_ro"},
                          {"name": "COM 2", "pipe": f"\\\\.\\pipe\\{server['id']}_rw"}],
                         self.vm(server)["serial_ports"])

    def test_the_log_is_bounded_and_kept_while_the_vm_is_off(self) -> None:
        server = self.boot()
        self.wait_for_output(server, "login: ")
        guest = self.guest_pipe(server)
        log = os.path.join(self.instance_dir(server), "console.log")
        line = b"x" * 1023 + b"\n"
        with guest:
            # 1.25 MiB through the guest's echo, in batches of half what a port buffers
            # for a slow reader (the emulator, like a UART, drops what nobody reads in
            # time): each batch is in the log before the next is sent.
            for batch in range(40):
                marker = f"batch {batch}\n".encode()
                guest.sendall(line * 31 + marker)
                self.wait_for_log(log, marker)
            guest.sendall(b"the last line\n")
            self.wait_for_output(server, "the last line", timeout=30)
        self.assertLessEqual(os.path.getsize(log), MAX_LOG_BYTES)
        self.assertLessEqual(os.path.getsize(log + ".1"), MAX_LOG_BYTES)
        output = self.console_output(server)
        self.assertLessEqual(len(output), 2 * MAX_LOG_BYTES)
        self.assertNotIn("login: ", output)  # the boot log was rotated out
        server = self._stop_server(server)
        self.assertTrue(self.console_output(server).endswith("the last line\n"))
        self._delete_server(server)
        self.assertFalse(os.path.exists(log))

    def test_a_restarted_compute_reads_the_running_vms_again(self) -> None:
        server = self.boot()
        self.wait_for_output(server, "login: ")
        self.compute = self.restart_compute_service(self.compute)
        with self.guest_pipe(server) as guest:
            # The new reader connects on its own thread; the guest's echo reaches only
            # the clients connected at the time, so say it until the log has it.
            for _ in range(50):
                guest.sendall(b"after the restart\r\n")
                if "after the restart" in self.console_output(server):
                    break
                time.sleep(0.2)
            self.assertIn("after the restart", self.console_output(server))

    def test_no_log_yet_is_console_not_available(self) -> None:
        server = self._stop_server(self.boot())
        os.remove(os.path.join(self.instance_dir(server), "console.log"))
        with self.assertRaises(api_client.OpenStackApiNotFoundException) as raised:
            self.console_output(server)
        self.assertIn("no console log yet", raised.exception.response.text)


class SerialConsoleTest(ConsoleTestCase):
    def test_the_serial_console_bridges_tcp_to_the_interactive_port(self) -> None:
        self.flags(enabled=True, proxyclient_address="127.0.0.1", group="serial_console")
        server = self.boot()
        self.wait_for_output(server, "login: ")  # its reader holds the pipe
        shown = self.api.api_post(f"/servers/{server['id']}/remote-consoles", {
            "remote_console": {"protocol": "serial", "type": "serial"}}).body
        self.assertEqual("serial", shown["remote_console"]["type"])
        self.assertIn("token=", shown["remote_console"]["url"])
        driver = self.compute.manager.driver
        console = driver.get_serial_console(context.get_admin_context(),
                                            self.instance(server))
        self.assertEqual("127.0.0.1", console.host)
        with socket.create_connection((console.host, console.port), timeout=5) as client:
            client.sendall(b"typed at the console\r\n")
            received = b""
            while b"typed at the console" not in received:
                chunk = client.recv(4096)
                self.assertTrue(chunk, received)
                received += chunk
        # The same port while the VM runs (nova checks it when the proxy connects).
        again = driver.get_serial_console(context.get_admin_context(), self.instance(server))
        self.assertEqual(console.port, again.port)
        # What was typed reached the log too: the interactive port is also the logged one.
        self.wait_for_output(server, "typed at the console")
        self._stop_server(server)
        with self.assertRaises(api_client.OpenStackApiException) as raised:
            self.api.api_post(f"/servers/{server['id']}/remote-consoles", {
                "remote_console": {"protocol": "serial", "type": "serial"}})
        self.assertIn("not running", str(raised.exception))

    def test_disabled_serial_console_is_refused(self) -> None:
        server = self.boot()
        with self.assertRaises(api_client.OpenStackApiException) as raised:
            self.api.api_post(f"/servers/{server['id']}/remote-consoles", {
                "remote_console": {"protocol": "serial", "type": "serial"}})
        self.assertEqual(400, raised.exception.response.status_code)
        self.assertIn("Unavailable console type serial", str(raised.exception))
