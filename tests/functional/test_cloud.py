"""`nova-hyperv cloud` as a user meets it: a subprocess driven with python-openstackclient.

One cloud with two hosts on free ports in a temporary state folder: the printed
environment is all the client gets. Everything the cloud offers is used through the
`openstack` command, then the cloud is stopped and started again on the same folder and
must still hold what was made.
"""

from __future__ import annotations

import json
import os
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

import vhdfile
from nova_hyperv.cloud import samples

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


def test_openstackclient_drives_the_cloud_and_state_survives_a_restart(tmp_path: Path
                                                                       ) -> None:
    state = tmp_path / "state"
    upload = tmp_path / "uploaded.vhdx"
    vhdfile.create(upload, "vhdx", "dynamic", 32 * MiB)

    with cloud(state, "--hosts", "2") as first:
        assert "hyperv-host-1, hyperv-host-2" in first.output
        # The printed curl example, as printed.
        example = first.output[first.output.index("  TOKEN="):].split("\n\n")[0]
        done = subprocess.run(["bash", "-c", f"set -e\n{example}"], capture_output=True,
                              text=True, timeout=60)
        assert json.loads(done.stdout) == {"servers": []}, done.stderr
        flavors, nested, images, hypervisors = first.batch(
            "flavor list", "flavor show hv.nested", "image list", "hypervisor list")
        assert {f.name for f in samples.FLAVORS} <= _names(flavors)
        # The Hyper-V extra specs went through nova's validators (microversion latest).
        assert nested["properties"] == {"hw:cpu_features": "vmx"}
        assert {i.name for i in samples.IMAGES} <= _names(images)
        assert {(h["Hypervisor Hostname"], h["State"]) for h in hypervisors} == {
            ("hyperv-host-1", "up"), ("hyperv-host-2", "up")}

        # An uploaded image is what nova boots from.
        image = first.openstack("image", "create", "--file", str(upload), "--disk-format",
                                "vhdx", "--container-format", "bare", "uploaded")
        assert (image["status"], image["size"]) == ("active", upload.stat().st_size)
        first.run("image", "save", "--file", str(tmp_path / "back.vhdx"), "uploaded")
        assert (tmp_path / "back.vhdx").read_bytes() == upload.read_bytes()
        first.openstack("server", "create", "--image", "uploaded", "--flavor", "hv.tiny",
                        "--network", "private", "scratch")
        first.openstack("server", "create", "--image", "hyperv-gen2-secureboot",
                        "--flavor", "hv.secureboot", "--network", "private", "sb1")
        first.wait_status("scratch", "ACTIVE")
        server = first.wait_status("sb1", "ACTIVE")
        assert server["addresses"]["private"][0].startswith("10.0.0.")
        first.run("server", "stop", "sb1")
        first.wait_status("sb1", "SHUTOFF")
        first.run("server", "start", "sb1")
        first.wait_status("sb1", "ACTIVE")

        volume = first.openstack("volume", "create", "--size", "1", "data1")
        assert volume["status"] == "available"
        assert (state / "volumes" / f"volume-{volume['id']}.vhdx").is_file()
        first.run("server", "add", "volume", "sb1", "data1")
        deadline = time.monotonic() + 30
        while first.openstack("volume", "show", "data1")["status"] != "in-use":
            assert time.monotonic() < deadline, "the volume never became in-use"
            time.sleep(0.5)

        first.run("server", "delete", "scratch")
        hypervisor_ids = {h["ID"] for h in hypervisors}

    with cloud(state, "--hosts", "2") as again:
        # (The scratch server was deleted just before the first cloud stopped.)
        servers, hypervisors, images, flavors, volume = again.batch(
            "server list", "hypervisor list", "image list", "flavor list", "volume show data1")
        assert [(s["Name"], s["Status"]) for s in servers] == [("sb1", "ACTIVE")]
        assert {h["ID"] for h in hypervisors} == hypervisor_ids
        assert "uploaded" in _names(images)
        assert "hv.remotefx" in _names(flavors)
        assert volume["status"] == "in-use"
        # The host still has the VM: it stops and starts as before the restart.
        again.run("server", "stop", "sb1")
        again.wait_status("sb1", "SHUTOFF")
        again.run("server", "remove", "volume", "sb1", "data1")
        again.run("server", "delete", "sb1")
        deadline = time.monotonic() + 30
        while (left := again.batch("server list", "port list")) != [[], []]:
            assert time.monotonic() < deadline, f"left after delete: {left}"
            time.sleep(0.5)


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
