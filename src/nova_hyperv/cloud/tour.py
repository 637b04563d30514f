"""`nova-hyperv cloud tour`: one server per feature of the usage guide, and what each
emulated host then holds for it.

A client of a cloud: it reads the folder's `etc/openrc-admin`, and when no cloud answers
there it starts one in a temporary folder (a `nova-hyperv cloud` process on free ports)
and stops it at the end. Everything goes through the cloud's APIs (openstacksdk, as
admin), exactly as a user's client would; only the look at the hosts opens their state
files (`hosts/<host>/hyperv-host.db`) with `hyperv_emulator`, the way `nova-hyperv host
show` does. Everything the tour makes is deleted at the end, whatever happened.

Features shown by acting on a running server (volumes, NIC hot plug, console output,
snapshot, resize: `ACTIONS`) act through the APIs too, and show what the host holds
after each act.
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
    """A feature shown by acting on a running server of `image` / `flavor` through the
    API, as a user would; `run` returns what the host then holds."""

    key: str
    feature: str
    run: Callable[[Tour, Any], list[str]]
    image: str = "hyperv-gen2"
    flavor: str = "hv.tiny"


GiB = 1 << 30
#: The larger flavor the resize step moves hv.tiny servers to.
RESIZED_FLAVOR = "hv.small"
#: Cinder's first microversion that extends attached (in-use) volumes; the tour asks
#: for it, and the cloud's SMB volume service refuses in-use extends all the same.
ONLINE_EXTEND_MICROVERSION = "3.42"


def show_volume(tour: Tour, server: Any) -> list[str]:
    """Create a volume, attach it, extend it, detach it.

    The cloud's volumes are on an SMB share, which Hyper-V cannot grow under a running
    VM: the volume service refuses the online extend (shown), so the volume is extended
    while detached and attached again."""
    storage, compute = tour.conn.block_storage, tour.conn.compute
    volume = storage.create_volume(size=1, name=f"{PREFIX}volume")
    tour.made.append(("volume", volume))
    storage.wait_for_status(volume, "available", failures=["error"], interval=1,
                            wait=tour.timeout)

    def attach() -> list[str]:
        compute.create_volume_attachment(server, volume=volume.id)
        tour.wait_for_volume(volume, "in-use", server.id)
        return [line for line in tour.drive_lines(server) if volume.id in line]

    def detach() -> str:
        compute.delete_volume_attachment(server, volume.id)
        tour.wait_for_volume(volume, "available", None)
        tour.poll(lambda: not [line for line in tour.drive_lines(server)
                               if volume.id in line], f"the VM to let go of {volume.id}")
        return "detached: the VM no longer has the volume's drive"

    def extend(size: int) -> Any:
        return storage.post(f"/volumes/{volume.id}/action",
                            json={"os-extend": {"new_size": size}},
                            microversion=ONLINE_EXTEND_MICROVERSION)

    lines = [f"volume {volume.name} (1 GiB) attached to {server.name} on "
             f"{server.compute_host}; the VM's new drive:", *attach()]
    online = extend(2)
    lines.append(f"online extend (volume API {ONLINE_EXTEND_MICROVERSION}): "
                 f"{online.status_code} {_error_message(online)}")
    lines.append(detach())
    extend(2).raise_for_status()
    tour.wait_for_volume(volume, "available", None, size=2)
    lines += ["extended to 2 GiB while detached, attached again:", *attach(), detach()]
    storage.delete_volume(volume)
    return lines


def _error_message(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text


def show_nic(tour: Tour, server: Any) -> list[str]:
    """Create a port, hot-plug it into the running generation 2 VM, unplug it."""
    network = tour.conn.network
    private = network.find_network(DEFAULT_NETWORK, ignore_missing=False)
    port = network.create_port(network_id=private.id, name=f"{PREFIX}nic")
    tour.made.append(("port", port))
    before = tour.nic_lines(server)
    tour.conn.compute.create_server_interface(server, port_id=port.id)
    address = port.fixed_ips[0]["ip_address"] if port.fixed_ips else "no address"
    after = tour.nic_lines(server)
    lines = [f"port {port.mac_address} ({address}) attached to running {server.name} on "
             f"{server.compute_host}; the VM's NICs ({len(before)} before):", *after]
    tour.conn.compute.delete_server_interface(port.id, server=server)
    tour.poll(lambda: len(tour.nic_lines(server)) == len(before),
              f"the NIC of port {port.id} to leave {server.name}")
    lines.append(f"detached: the VM is back to {len(before)} NIC(s)")
    network.delete_port(port)
    return lines


def show_console(tour: Tour, server: Any) -> list[str]:
    """The last lines of the VM's console log, read through nova's API."""
    output = tour.poll(lambda: tour.conn.compute.get_server_console_output(
        server, length=5)["output"], f"console output of {server.name}")
    return [f"the last lines of {server.name}'s console log (its logging serial port, as "
            f"the driver keeps it):", *(f"  | {line}" for line in output.splitlines())]


def show_snapshot(tour: Tour, server: Any) -> list[str]:
    """Snapshot a running server to Glance."""
    image = tour.conn.compute.create_server_image(server, f"{PREFIX}snapshot", wait=True,
                                                  timeout=tour.timeout)
    tour.made.append(("image", image))
    image = tour.conn.image.get_image(image.id)
    return [f"image {image.name} in Glance from {server.name}: {image.status}, "
            f"disk_format {image.disk_format}, {image.size} bytes, "
            f"hw_machine_type {image.hw_machine_type or '-'}"]


def show_resize(tour: Tour, server: Any) -> list[str]:
    """Resize to a larger flavor (a cold migration where nova schedules it), confirm."""
    compute = tour.conn.compute
    flavor = compute.find_flavor(RESIZED_FLAVOR, ignore_missing=False)
    source = server.compute_host
    lines = [f"{server.name} ({server.flavor.original_name}) on {source}:",
             *tour.size_lines(server)]
    compute.resize_server(server, flavor.id)
    server = compute.wait_for_server(server, status="VERIFY_RESIZE", failures=["ERROR"],
                                     interval=1, wait=tour.timeout)
    moved = "moved to" if server.compute_host != source else "stayed on"
    lines += [f"resized to {RESIZED_FLAVOR} ({flavor.vcpus} vCPU, {flavor.ram} MB, "
              f"{flavor.disk} GB root), {moved} {server.compute_host}, VERIFY_RESIZE:",
              *tour.size_lines(server)]
    compute.confirm_server_resize(server)
    server = tour.settled(server)
    gone = source != server.compute_host and tour.vm_of(server, source) is not None
    lines.append(f"confirmed: ACTIVE on {server.compute_host}"
                 + (f"; {source} still holds the old VM!" if gone else
                    (f"; {source} no longer holds the VM" if moved == "moved to" else "")))
    return lines


ACTIONS: tuple[Action, ...] = (
    Action("volume", "Cinder volumes (attach, extend, detach)", show_volume),
    Action("nic", "vNIC hot attach / detach", show_nic),
    Action("console", "Serial console output", show_console),
    Action("snapshot", "Snapshot to Glance", show_snapshot),
    Action("resize", "Resize and cold migration", show_resize),
)


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
    status: str  # shown | failed
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
        # (kind, resource): server, volume, port or image; servers are deleted first
        self.made: list[tuple[str, Any]] = []

    # -- what a host holds
    def vm_of(self, server: Any, host: str | None = None) -> dict[str, Any] | None:
        """The host's description of the server's VM (None: the host has none)."""
        from hyperv_emulator import open_host
        from hyperv_emulator.inventory import describe

        host = host or server.compute_host
        with open_host(host_state_file(self.state, host)).session() as session:
            vms = [vm for vm in describe(session)["vms"] if server.id in vm["notes"]]
        return vms[0] if vms else None

    def vm_lines(self, server: Any) -> list[str]:
        """The host's description of the server's VM (`nova-hyperv host show`'s)."""
        from nova_hyperv.cli.host import render_vm

        vm = self.vm_of(server)
        if vm is None:
            return [f"(host {server.compute_host} holds no VM for server {server.id})"]
        return render_vm(vm)

    def drive_lines(self, server: Any) -> list[str]:
        """The VM's virtual disk drives, each with the virtual size of its file."""
        import vhdfile
        from hyperv_emulator import open_host

        vm = self.vm_of(server)
        storage = open_host(host_state_file(self.state, server.compute_host)).storage
        lines = []
        for controller in (vm or {}).get("storage", []):
            for drive in controller["drives"]:
                if drive["path"] and drive["path"].lower().endswith((".vhd", ".vhdx")):
                    size = vhdfile.inspect(storage.local_path(drive["path"])).virtual_size
                    lines.append(f"  {controller['controller']} slot {drive['slot']}: "
                                 f"{drive['path']}, {size_text(size)} virtual")
        return lines

    def nic_lines(self, server: Any) -> list[str]:
        return [line for line in self.vm_lines(server) if line.startswith("  NIC ")]

    def size_lines(self, server: Any) -> list[str]:
        """What a flavor sizes: memory, processors and the disks."""
        return [line for line in self.vm_lines(server)
                if line.startswith(("  memory:", "  processors:"))] + self.drive_lines(server)

    # -- waiting
    def poll(self, found: Callable[[], Any], what: str) -> Any:
        """`found()` once it is true (every 0.5 s), or TimeoutError naming `what`."""
        deadline = time.monotonic() + self.timeout
        while not (result := found()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {self.timeout:.0f} s for {what}")
            time.sleep(0.5)
        return result

    def wait_for_volume(self, volume: Any, status: str, server_id: str | None,
                        size: int | None = None) -> Any:
        """The volume once in `status`, attached to `server_id` (None: to nothing), and
        of `size` GiB if given."""
        def ready() -> Any:
            found = self.conn.block_storage.get_volume(volume.id)
            if found.status == "error":
                raise RuntimeError(f"volume {volume.id} went to error")
            servers = [a["server_id"] for a in found.attachments or []]
            wanted = [server_id] if server_id else []
            return found if (found.status, servers) == (status, wanted) and \
                size in (None, found.size) else None
        return self.poll(ready, f"volume {volume.id} to be {status}")

    def wait_for_action(self, server: Any, action: str) -> str:
        """How nova's latest `action` on the server ended, once all its events did."""
        compute = self.conn.compute

        def finished() -> str | None:
            actions = [a for a in compute.server_actions(server) if a.action == action]
            if not actions:
                return None
            events = compute.get_server_action(actions[0].request_id, server).events or []
            if not events or not all(e.get("finish_time") for e in events):
                return None
            return ", ".join(f"{e['event']} {e['result']}" for e in events)
        return self.poll(finished, f"nova's {action} on {server.name}")

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

    def running(self, server: Any) -> tuple[Any, str | None]:
        """The server once ACTIVE, or why it is not (the fault nova recorded)."""
        from openstack import exceptions

        try:
            return self.settled(server), None
        except exceptions.ResourceFailure:
            server = self.conn.compute.get_server(server.id)
            return server, "nova: " + (server.fault or {}).get("message",
                                                               "no fault recorded")
        except exceptions.ResourceTimeout:
            return server, (f"still {self.conn.compute.get_server(server.id).status} "
                            f"after {self.timeout:.0f} s")

    def showcase(self, case: Showcase, server: Any) -> Outcome:
        server, failure = self.running(server)
        if failure:
            return Outcome(case.key, case.feature, "failed", [failure])
        return Outcome(case.key, case.feature, "shown", [
            f"server {server.name} ({case.image} / {case.flavor}) on {server.compute_host}: "
            f"{case.shows}", *(f"  {line}" for line in self.vm_lines(server))])

    def action(self, action: Action, server: Any) -> Outcome:
        server, failure = self.running(server)
        if failure:
            return Outcome(action.key, action.feature, "failed", [failure])
        try:
            return Outcome(action.key, action.feature, "shown", action.run(self, server))
        except Exception as error:
            return Outcome(action.key, action.feature, "failed",
                           [f"{type(error).__name__}: {error}"])

    # -- clean up
    def clean_up(self) -> None:
        """Delete what the tour made: servers first (waiting until they are gone, which
        detaches their volumes and ports), then the rest, newest first."""
        servers = [resource for kind, resource in self.made if kind == "server"]
        for server in servers:
            with contextlib.suppress(Exception):
                self.conn.compute.delete_server(server)
        for server in servers:
            with contextlib.suppress(Exception):
                self.conn.compute.wait_for_delete(server, interval=1, wait=self.timeout)
        delete = {"volume": self.conn.block_storage.delete_volume,
                  "port": self.conn.network.delete_port,
                  "image": self.conn.image.delete_image}
        for kind, resource in reversed(self.made):
            if kind in delete:
                with contextlib.suppress(Exception):
                    delete[kind](resource, ignore_missing=True)
        self.made.clear()

    def run(self) -> list[Outcome]:
        started = time.monotonic()
        steps: list[Showcase | Action] = [*SHOWCASES, *ACTIONS]
        self.say(f"Booting a server per feature ({len(steps)}) ...")
        booted: list[tuple[Showcase | Action, Any]] = []
        outcomes: list[Outcome] = []
        for step in steps:
            try:
                booted.append((step, self.boot(
                    step.key, step.image, step.flavor,
                    isinstance(step, Showcase) and step.config_drive)))
            except Exception as error:
                outcomes.append(Outcome(step.key, step.feature, "failed",
                                        [f"the API refused the server: {error}"]))
        for step, server in booted:
            outcomes.append(self.showcase(step, server) if isinstance(step, Showcase)
                            else self.action(step, server))
        order = [step.key for step in steps]
        outcomes.sort(key=lambda o: order.index(o.key))
        for outcome in outcomes:
            self.say(render(outcome))
        self.say(f"\n{summary(outcomes)} ({time.monotonic() - started:.0f} s)")
        return outcomes


def size_text(size: int) -> str:
    """A disk size in GiB when it is a whole quarter GiB, else in MiB."""
    return f"{size / GiB:g} GiB" if size % (GiB // 4) == 0 else f"{size / (1 << 20):g} MiB"


def render(outcome: Outcome) -> str:
    head = {"shown": "", "failed": "FAILED: "}[outcome.status]
    return "\n".join([f"\n== {outcome.feature} ({outcome.key})",
                      *(f"   {head}{line}" if i == 0 else f"   {line}"
                        for i, line in enumerate(outcome.lines))])


def summary(outcomes: list[Outcome]) -> str:
    shown = sum(o.status == "shown" for o in outcomes)
    failed = [o.key for o in outcomes if o.status == "failed"]
    text = f"{shown} feature(s) shown"
    if failed:
        text += f", {len(failed)} failed ({', '.join(failed)})"
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
