"""`nova-hyperv cloud` as a user meets it: a subprocess driven with python-openstackclient.

One cloud (its default two emulated hosts, on free ports, in a temporary state folder)
with nova-hyperv's driver: a newcomer's printed steps are run as printed in a fresh
shell (boot a Secure Boot generation 2 server, look at its emulated host), everything
else goes through the `openstack` command with the printed environment, the tour runs
against it, and what each emulated host holds is checked. Then the cloud is stopped and
started again on the same folder and must still hold what was made.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hyperv_emulator import open_host
from hyperv_emulator.inventory import describe
from nova_hyperv.cloud import samples, tour
from vhdfile import testimages

pytestmark = [pytest.mark.functional, pytest.mark.slow]

BIN = Path(sys.executable).parent
START_TIMEOUT = 120
MiB = 1 << 20


class RunningCloud:
    def __init__(self, process: subprocess.Popen[str], env: dict[str, str], output: str
                 ) -> None:
        self.process = process
        self.env = env
        self.output = output

    def openstack(self, *args: str) -> Any:
        """Run `openstack ARGS -f json` with the printed environment; the parsed answer."""
        return json.loads(self.run(*args, "-f", "json") or "null")

    def run(self, *args: str, stdin: str | None = None) -> str:
        """Run `openstack ARGS` (an action that prints nothing); what it printed."""
        command = [str(BIN / "openstack"), *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True,
                              timeout=120, input=stdin)
        # Interactive mode (commands on stdin) exits 1 at the end of its input; its
        # commands' errors go to stderr.
        failed = done.stderr.strip() if stdin else done.returncode != 0
        if failed:
            raise AssertionError(f"{shlex.join(command[1:])} {stdin or ''} failed "
                                 f"({done.returncode}):\n{done.stderr}\n{done.stdout}")
        return done.stdout.strip()

    def batch(self, *commands: str) -> list[Any]:
        """Several read commands in one `openstack` process (its interactive mode reads
        them from standard input), each answering JSON: one client start-up, not N."""
        text = self.run(stdin="".join(f"{command} -f json\n" for command in commands))
        decoder, answers, at = json.JSONDecoder(), [], 0
        while at < len(text):
            answer, at = decoder.raw_decode(text, at)
            answers.append(answer)
            while at < len(text) and text[at].isspace():
                at += 1
        assert len(answers) == len(commands), text
        return answers

    def wait_status(self, server: str, wanted: str, timeout: float = 60) -> dict[str, Any]:
        """Poll faster than `--wait` (every 5 s) does."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.openstack("server", "show", server)
            if shown["status"] == wanted and not shown.get("OS-EXT-STS:task_state"):
                return shown
            if shown["status"] == "ERROR" or time.monotonic() > deadline:
                raise AssertionError(f"server {server} is {shown['status']}, waited for "
                                     f"{wanted}: {shown.get('fault')}")
            time.sleep(0.5)


@contextmanager
def cloud(state: Path, *extra: str) -> Iterator[RunningCloud]:
    """Start `nova-hyperv cloud`, read its instructions, stop it with Ctrl-C (SIGINT)."""
    command = [str(BIN / "nova-hyperv"), "cloud", "--state-dir", str(state),
               "--port-base", "0", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_NOVA_DISABLE_EVENTLET_PATCHING"] = "1"
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not any(line.startswith("Stop with Ctrl-C") for line in lines):
            line = process.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise AssertionError("the cloud did not come up:\n" + "".join(lines)
                                     + _log_tail(state))
            lines.append(line)
        client_env = dict(env)
        for line in lines:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                client_env[key] = shlex.split(value)[0]
        yield RunningCloud(process, client_env, "".join(lines))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                rest, _ = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                rest, _ = process.communicate()
                raise AssertionError("the cloud did not stop within 60 s of Ctrl-C") from None
            lines.append(rest)
    assert process.returncode == 0, "".join(lines) + _log_tail(state)
    assert "Stopped; the state is kept in" in lines[-1]


def _log_tail(state: Path) -> str:
    log = state / "log" / "cloud.log"
    return "\n--- cloud.log ---\n" + "".join(log.read_text().splitlines(True)[-60:]) \
        if log.exists() else ""


def _names(rows: list[dict[str, Any]]) -> set[str]:
    return {row["Name"] for row in rows}


def _newcomer_steps(output: str) -> tuple[str, str]:
    """The printed commands a newcomer runs in a second terminal: the Secure Boot boot
    (with the openrc line), and the look at the host."""
    boot = output[output.index("Boot a Secure Boot"):].split("\n\n")[1]
    look = output[output.index("and see the VM"):].split("\n\n")[1]
    return boot, look


def test_openstackclient_drives_the_cloud_and_state_survives_a_restart(tmp_path: Path
                                                                       ) -> None:
    state = tmp_path / "state"
    upload = tmp_path / "uploaded.vhdx"
    testimages.mbr_bios_image(upload, format="vhdx", size=32 * MiB)

    with cloud(state) as first:
        assert "hyperv-host-1: Microsoft Windows Server 2022" in first.output
        assert "hyperv-host-2: Microsoft Windows Server 2016" in first.output
        # The newcomer's steps, run as printed (a fresh shell: only the openrc file).
        boot, look = _newcomer_steps(first.output)
        done = subprocess.run(["bash", "-c", f"set -e\n{boot}"], capture_output=True,
                              text=True, timeout=300, env=_bare_env())
        assert done.returncode == 0, done.stdout + done.stderr
        assert re.search(r"^\| status +\| ACTIVE +\|$", done.stdout, re.M), done.stdout
        host = next(line.split("|")[2].strip() for line in done.stdout.splitlines()
                    if "OS-EXT-SRV-ATTR:host" in line)
        shown = subprocess.run(["bash", "-c", look.replace("<host>", host)],
                               capture_output=True, text=True, timeout=60)
        assert "Secure Boot on (MicrosoftUEFICertificateAuthority)" in shown.stdout, shown
        vm = _vm_of(state, host, first.openstack("server", "show", "sb1")["id"])
        assert (vm["generation"], vm["state"]) == (2, "Running")

        # The printed curl example, as printed.
        example = first.output[first.output.index("  TOKEN="):].split("\n\n")[0]
        done = subprocess.run(["bash", "-c", f"set -e\n{example}"], capture_output=True,
                              text=True, timeout=60)
        assert [s["name"] for s in json.loads(done.stdout)["servers"]] == ["sb1"], done.stderr
        flavors, nested, images, hypervisors = first.batch(
            "flavor list", "flavor show hv.nested", "image list", "hypervisor list")
        assert {f.name for f in samples.FLAVORS} <= _names(flavors)
        # The Hyper-V extra specs went through nova's validators (microversion latest).
        assert nested["properties"] == {"hw:cpu_features": "vmx"}
        assert {i.name for i in samples.IMAGES} <= _names(images)
        assert {(h["Hypervisor Hostname"], h["Hypervisor Type"], h["State"])
                for h in hypervisors} == {("HYPERV-HOST-1", "hyperv", "up"),
                                          ("HYPERV-HOST-2", "hyperv", "up")}

        # An uploaded image is what nova boots from.
        image = first.openstack("image", "create", "--file", str(upload), "--disk-format",
                                "vhdx", "--container-format", "bare", "uploaded")
        assert (image["status"], image["size"]) == ("active", upload.stat().st_size)
        first.run("image", "save", "--file", str(tmp_path / "back.vhdx"), "uploaded")
        assert (tmp_path / "back.vhdx").read_bytes() == upload.read_bytes()
        scratch = first.openstack("server", "create", "--image", "uploaded", "--flavor",
                                  "hv.tiny", "--network", "private", "scratch")
        scratch = first.wait_status("scratch", "ACTIVE")
        scratch_host = scratch["OS-EXT-SRV-ATTR:host"]
        assert _vm_of(state, scratch_host, scratch["id"])["generation"] == 1
        server = first.wait_status("sb1", "ACTIVE")
        assert server["addresses"]["private"][0].startswith("10.0.0.")
        first.run("server", "stop", "sb1")
        first.wait_status("sb1", "SHUTOFF")
        assert _vm_of(state, host, server["id"])["state"] == "Off"
        first.run("server", "start", "sb1")
        first.wait_status("sb1", "ACTIVE")

        volume = first.openstack("volume", "create", "--size", "1", "data1")
        assert volume["status"] == "available"
        assert (state / "volumes" / f"volume-{volume['id']}.vhdx").is_file()

        # The tour, against this running cloud: every feature shown, and nothing of it
        # left.
        toured = subprocess.run(
            [str(BIN / "nova-hyperv"), "cloud", "tour", "--state-dir", str(state)],
            capture_output=True, text=True, timeout=600, env=_bare_env())
        assert toured.returncode == 0, toured.stdout + toured.stderr
        for expected in ("Secure Boot on (MicrosoftUEFICertificateAuthority)",
                         "RemoteFX: 2 monitor(s) at up to 1920x1200, 1024 MB VRAM",
                         "PCI device 10DE:1EB8 at PCIROOT(0)", "virtual NUMA on",
                         "(at most 500 IOPS)", "(at most 1280 IOPS)",
                         "processors: 2, nested virtualization", "firmware: BIOS",
                         "_ro -> ", "eph0.vhdx", "swap.vhdx",
                         # shielded, from the key manager's sample PDK, on the guarded host
                         "security: TPM on, shielding on, state encryption on, key "
                         "protector set, provisioned",
                         # the actions
                         "online extend (volume API 3.42): 400 Invalid volume",
                         ".vhdx, 2 GiB virtual", "detached: the VM no longer has",
                         "detached: the VM is back to 1 NIC(s)", "login: ",
                         "active, disk_format vhdx", "hw_machine_type hyperv-gen2",
                         "resized to hv.small (2 vCPU, 2048 MB, 5 GB root)",
                         "memory: 2048 MB static", "confirmed: ACTIVE on"):
            assert expected in toured.stdout, expected
        assert f"{len(tour.SHOWCASES) + len(tour.ACTIONS)} feature(s) shown (" in \
            toured.stdout, toured.stdout
        assert "FAILED" not in toured.stdout
        assert "tour-shielded (hyperv-gen2-shielded / hv.secureboot) on hyperv-host-1" in \
            toured.stdout
        assert "tour-remotefx (hyperv-gen2 / hv.remotefx) on hyperv-host-2" in toured.stdout

        left = first.batch("volume list", "port list", "image list")
        assert [v["Name"] for v in left[0]] == ["data1"]
        assert not [p for p in left[1] if p["Name"].startswith(tour.PREFIX)]
        assert not [i for i in left[2] if i["Name"].startswith(tour.PREFIX)]
        first.run("server", "delete", "--wait", "scratch")
        assert not (state / "hosts" / scratch_host / "instances" / scratch["id"]).exists()
        hypervisor_ids = {h["ID"] for h in hypervisors}

    with cloud(state) as again:
        servers, hypervisors, images, flavors, volume = again.batch(
            "server list", "hypervisor list", "image list", "flavor list", "volume show data1")
        assert [(s["Name"], s["Status"]) for s in servers] == [("sb1", "ACTIVE")]
        assert {h["ID"] for h in hypervisors} == hypervisor_ids
        assert "uploaded" in _names(images)
        assert "hv.remotefx" in _names(flavors)
        assert volume["status"] == "available"
        # The host still has the VM, running: it stops and starts as before the restart.
        assert _vm_of(state, host, server["id"])["state"] == "Running"
        again.run("server", "stop", "sb1")
        again.wait_status("sb1", "SHUTOFF")
        assert _vm_of(state, host, server["id"])["state"] == "Off"
        again.run("server", "delete", "sb1")
        again.run("volume", "delete", "data1")
        deadline = time.monotonic() + 60
        while (left := again.batch("server list", "port list", "volume list")) != [[], [], []]:
            assert time.monotonic() < deadline, f"left after delete: {left}"
            time.sleep(0.5)
        assert _vms(state, host) == []


def _bare_env() -> dict[str, str]:
    """A new terminal's environment: no OS_ variables, the virtualenv not activated."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OS_")}


def _vms(state: Path, host: str) -> list[dict[str, Any]]:
    with open_host(state / "hosts" / host / "hyperv-host.db").session() as session:
        return describe(session)["vms"]


def _vm_of(state: Path, host: str, server_id: str) -> dict[str, Any]:
    [vm] = [vm for vm in _vms(state, host) if vm["notes"] == [server_id]]
    return vm


def test_a_taken_port_is_refused_naming_the_service(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(BIN / "nova-hyperv"), "cloud", "--state-dir", str(tmp_path / "s"),
             "--port-base", str(port)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"identity service cannot listen on 127.0.0.1:{port}" in done.stderr
