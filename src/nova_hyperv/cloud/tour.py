"""`nova-hyperv cloud tour`: one server per feature of the usage guide, and what each
emulated host then holds for it.

A client of a cloud: it reads the folder's `etc/openrc-admin`, and when no cloud answers
there it starts one in a temporary folder (a `nova-hyperv cloud` process on free ports)
and stops it at the end. Everything goes through the cloud's APIs (openstacksdk, as
admin), exactly as a user's client would; only the look at the hosts opens their state
files (`hosts/<host>/hyperv-host.db`) with `hyperv_emulator`, the way `nova-hyperv host
show` does. Everything the tour makes is deleted at the end, whatever happened.

A feature whose driver method HyperVDriver leaves to nova's base class
(NotImplementedError), or that the tour has no step for, is reported as pending, never
faked.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from nova_hyperv.cloud.computes import host_state_file
from nova_hyperv.cloud.samples import DEFAULT_NETWORK
from nova_hyperv.cloud.statedir import StateDir

START_TIMEOUT = 180.0
PREFIX = "tour-"


@dataclass(frozen=True)
class Showcase:
    """A server that shows one feature of the guide when booted."""

    key: str
    feature: str  # the usage guide's section
    image: str
    flavor: str
    shows: str  # what to look at in the host's description of the VM
    config_drive: bool = False


SHOWCASES: tuple[Showcase, ...] = (
    Showcase("gen1", "Generation 1 VM", "hyperv-gen1", "hv.tiny",
             "generation 1, BIOS boot order, the root VHDX on IDE 0 slot 0"),
    Showcase("gen2", "Generation 2 VM", "hyperv-gen2", "hv.small",
             "generation 2, UEFI, the root on SCSI, Secure Boot off"),
    Showcase("secureboot", "UEFI Secure Boot", "hyperv-gen2-secureboot", "hv.secureboot",
             "Secure Boot on with the MicrosoftUEFICertificateAuthority template (Linux)"),
    Showcase("disks", "Local disks and boot order", "hyperv-gen2", "hv.disks",
             "root, ephemeral and swap disks on the SCSI controller, in boot order"),
    Showcase("vnuma", "Hyper-V vNUMA instances", "hyperv-gen2", "hv.vnuma",
             "virtual NUMA on, static memory, at most 1 processor and 1024 MB per node"),
    Showcase("remotefx", "RemoteFX", "hyperv-gen2", "hv.remotefx",
             "a RemoteFX 3D adapter (2 monitors, 1920x1200, 1024 MB VRAM), on the "
             "Windows Server 2016 host"),
    Showcase("qos-iops", "Disk QoS (IOPS)", "hyperv-gen1", "hv.qos-iops",
             "the root disk limited to 500 IOPS"),
    Showcase("qos-bytes", "Disk QoS (bytes per second)", "hyperv-gen2", "hv.qos-bytes",
             "10 MiB/s as 8 KB normalized IOPS: 1280 IOPS"),
    Showcase("pci", "PCI passthrough (DDA)", "hyperv-gen2", "hv.pci",
             "an NVIDIA T4 (10de:1eb8) assigned, static memory, on the host with DDA "
             "devices"),
    Showcase("nested", "Nested virtualization (flavor)", "hyperv-gen2", "hv.nested",
             "nested virtualization on, static memory"),
    Showcase("nested-image", "Nested virtualization (image property)",
             "hyperv-gen2-nested", "hv.small", "nested virtualization on, static memory"),
    Showcase("serial", "Serial ports", "hyperv-gen2-serial", "hv.tiny",
             "COM 1 and COM 2 on named pipes, served as local sockets while it runs"),
    Showcase("shielded", "Shielded VM (vTPM)", "hyperv-gen2-shielded", "hv.secureboot",
             "a virtual TPM and shielding, on the guarded host"),
    Showcase("config-drive", "Config drive", "hyperv-gen2", "hv.tiny",
             "the config drive attached to the VM", config_drive=True),
)


@dataclass(frozen=True)
class Action:
    """A feature shown by acting on a running server: it needs a driver method."""

    key: str
    feature: str
    method: str  # the ComputeDriver method nova calls for it
    run: Callable[[Tour, Any], list[str]] | None = None  # None: no tour step for it yet


ACTIONS: tuple[Action, ...] = (
    Action("volume", "Cinder volumes (attach, detach, online extend)", "attach_volume"),
    Action("nic", "vNIC hot attach / detach", "attach_interface"),
    Action("console", "Serial console output", "get_console_output"),
    Action("snapshot", "Snapshot to Glance", "snapshot"),
    Action("resize", "Resize and cold migration", "migrate_disk_and_power_off"),
)


def driver_lacks(method: str) -> bool:
    """Whether HyperVDriver leaves `method` to nova's base class (NotImplementedError)."""
    from nova.virt.driver import ComputeDriver

    from nova_hyperv.driver import HyperVDriver

    return getattr(HyperVDriver, method) is getattr(ComputeDriver, method)


# -- the cloud ---------------------------------------------------------------------


def read_openrc(path: Path) -> dict[str, str]:
    """The variables an openrc file exports."""
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def running_cloud(state: StateDir) -> dict[str, str] | None:
    """The admin environment of the cloud running in `state`, or None if none answers."""
    openrc = state.etc / "openrc-admin"
    if not openrc.is_file():
        return None
    env = read_openrc(openrc)
    try:
        requests.get(env["OS_AUTH_URL"], timeout=3).raise_for_status()
    except (requests.RequestException, KeyError):
        return None
    return env


@contextlib.contextmanager
def temporary_cloud(say: Callable[[str], None]) -> Iterator[StateDir]:
    """A new cloud (`nova-hyperv cloud`, free ports) in a temporary folder, stopped and
    removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="nova-hyperv-tour-") as folder:
        command = [sys.executable, "-c", "import sys; from nova_hyperv.cli import main; "
                   "sys.exit(main())", "cloud", "--state-dir", folder, "--port-base", "0"]
        say(f"No cloud runs there; starting one in {folder} ...")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            lines = _wait_until_up(process, Path(folder))
            say(lines[1].strip() if len(lines) > 1 else "up")
            yield StateDir(folder)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.communicate(timeout=90)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()
            say("The temporary cloud is stopped and its folder removed.")


def _wait_until_up(process: subprocess.Popen[str], folder: Path) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while not any(line.startswith("Stop with Ctrl-C") for line in lines):
        line = process.stdout.readline()
        if not line or time.monotonic() > deadline:
            raise RuntimeError("the cloud did not come up:\n" + "".join(lines)
                               + f"(log: {folder / 'log' / 'cloud.log'})")
        lines.append(line)
    return lines


# -- the tour ----------------------------------------------------------------------


@dataclass
class Outcome:
    key: str
    feature: str
    status: str  # shown | pending | failed
    lines: list[str]


class Tour:
    def __init__(self, state: StateDir, env: dict[str, str], timeout: float,
                 say: Callable[[str], None] = print) -> None:
        import openstack

        self.state = state
        self.timeout = timeout
        self.say = say
        self.conn = openstack.connect(
            auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"],
            password=env["OS_PASSWORD"], project_name=env["OS_PROJECT_NAME"],
            user_domain_name=env.get("OS_USER_DOMAIN_NAME", "Default"),
            project_domain_name=env.get("OS_PROJECT_DOMAIN_NAME", "Default"),
            region_name=env.get("OS_REGION_NAME", "RegionOne"))
        self.made: list[tuple[str, Any]] = []  # (kind, resource), deleted in reverse

    # -- what a host holds
    def vm_lines(self, server: Any) -> list[str]:
        """The host's description of the server's VM (`nova-hyperv host show`'s)."""
        from hyperv_emulator import open_host
        from hyperv_emulator.inventory import describe
        from nova_hyperv.cli.host import render_vm

        host = server.compute_host
        with open_host(host_state_file(self.state, host)).session() as session:
            vms = [vm for vm in describe(session)["vms"] if server.id in vm["notes"]]
        if not vms:
            return [f"(host {host} holds no VM for server {server.id})"]
        return render_vm(vms[0])

    # -- boots
    def boot(self, name: str, image: str, flavor: str, config_drive: bool = False) -> Any:
        compute = self.conn.compute
        network = self.conn.network.find_network(DEFAULT_NETWORK, ignore_missing=False)
        server = compute.create_server(
            name=f"{PREFIX}{name}", image_id=self.conn.image.find_image(
                image, ignore_missing=False).id,
            flavor_id=compute.find_flavor(flavor, ignore_missing=False).id,
            networks=[{"uuid": network.id}], config_drive=config_drive)
        self.made.append(("server", server))
        return server

    def settled(self, server: Any) -> Any:
        """The server once ACTIVE or ERROR."""
        return self.conn.compute.wait_for_server(
            server, status="ACTIVE", failures=["ERROR"], interval=1, wait=self.timeout)

    def showcase(self, case: Showcase, server: Any) -> Outcome:
        from openstack import exceptions

        try:
            server = self.settled(server)
        except exceptions.ResourceFailure:
            server = self.conn.compute.get_server(server.id)
            fault = (server.fault or {}).get("message", "no fault recorded")
            return Outcome(case.key, case.feature, "failed", [f"nova: {fault}"])
        except exceptions.ResourceTimeout:
            return Outcome(case.key, case.feature, "failed",
                           [f"still {self.conn.compute.get_server(server.id).status} after "
                            f"{self.timeout:.0f} s"])
        return Outcome(case.key, case.feature, "shown", [
            f"server {server.name} ({case.image} / {case.flavor}) on {server.compute_host}: "
            f"{case.shows}", *(f"  {line}" for line in self.vm_lines(server))])

    def action(self, action: Action) -> Outcome:
        if driver_lacks(action.method):
            return Outcome(action.key, action.feature, "pending", [
                f"HyperVDriver.{action.method} is not implemented yet (nova's base class "
                "answers NotImplementedError)"])
        if action.run is None:
            return Outcome(action.key, action.feature, "pending", [
                f"the driver has {action.method} now; the tour has no step for it yet"])
        server = self.settled(self.boot(action.key, "hyperv-gen2", "hv.tiny"))
        return Outcome(action.key, action.feature, "shown", action.run(self, server))

    # -- clean up
    def clean_up(self) -> None:
        """Delete what the tour made, newest first, and wait until servers are gone."""
        for kind, resource in reversed(self.made):
            with contextlib.suppress(Exception):
                if kind == "server":
                    self.conn.compute.delete_server(resource)
        for kind, resource in reversed(self.made):
            with contextlib.suppress(Exception):
                if kind == "server":
                    self.conn.compute.wait_for_delete(resource, interval=1, wait=self.timeout)
        self.made.clear()

    def run(self) -> list[Outcome]:
        started = time.monotonic()
        self.say(f"Booting a server per feature ({len(SHOWCASES)}) ...")
        booted: list[tuple[Showcase, Any]] = []
        outcomes: list[Outcome] = []
        for case in SHOWCASES:
            try:
                booted.append((case, self.boot(case.key, case.image, case.flavor,
                                               case.config_drive)))
            except Exception as error:
                outcomes.append(Outcome(case.key, case.feature, "failed",
                                        [f"the API refused the server: {error}"]))
        for case, server in booted:
            outcomes.append(self.showcase(case, server))
        outcomes.sort(key=lambda o: [c.key for c in SHOWCASES].index(o.key))
        for outcome in outcomes:
            self.say(render(outcome))
        for action in ACTIONS:
            try:
                outcome = self.action(action)
            except Exception as error:
                outcome = Outcome(action.key, action.feature, "failed", [str(error)])
            outcomes.append(outcome)
            self.say(render(outcome))
        self.say(f"\n{summary(outcomes)} ({time.monotonic() - started:.0f} s)")
        return outcomes


def render(outcome: Outcome) -> str:
    head = {"shown": "", "pending": "PENDING: ", "failed": "FAILED: "}[outcome.status]
    return "\n".join([f"\n== {outcome.feature} ({outcome.key})",
                      *(f"   {head}{line}" if i == 0 else f"   {line}"
                        for i, line in enumerate(outcome.lines))])


def summary(outcomes: list[Outcome]) -> str:
    count = {status: [o.key for o in outcomes if o.status == status]
             for status in ("shown", "pending", "failed")}
    text = f"{len(count['shown'])} feature(s) shown"
    for status in ("pending", "failed"):
        if count[status]:
            text += f", {len(count[status])} {status} ({', '.join(count[status])})"
    return text


def main(state_dir: Path, timeout: float = 180.0, say: Callable[[str], None] = print
         ) -> int:
    """Run the tour on the cloud in `state_dir` (or a temporary one); 1 if a feature
    failed, 0 otherwise."""
    state = StateDir(state_dir)
    with contextlib.ExitStack() as stack:
        env = running_cloud(state)
        if env is None:
            state = stack.enter_context(temporary_cloud(say))
            env = running_cloud(state)
            if env is None:
                raise RuntimeError(f"the cloud started in {state.root} does not answer")
        else:
            say(f"Touring the cloud running in {state.root}")
        tour = Tour(state, env, timeout, say)
        try:
            outcomes = tour.run()
        finally:
            say("Deleting the tour's servers ...")
            tour.clean_up()
    return 1 if any(o.status == "failed" for o in outcomes) else 0
