"""What the round-trip benchmarks ask a driver to do, and the seam each driver fills.

A *flows* object is one driver seen from Nova: it spawns, destroys, attaches, powers and
reports on instances of an emulated Hyper-V host. Two exist: `bench.oswin_flows` (os-win
5.9.0 called the way compute-hyperv called it) and `bench.ours_flows` (our driver, once
it can run). The runner (`run_scenario`) gives both the same instances, on the same kind
of host, in the same order, and counts each operation's CIM round trips with the
emulator's counters, so the two columns of `bench/roundtrips` differ only by driver.

Disk files are made with vhdfile before an operation starts and are not counted: os-win
made them with virtdisk.dll, which is not WMI, and our driver uses vhdfile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import vhdfile
from hyperv_emulator.counters import KINDS, Counters, RoundTrips
from vhdfile import testimages

GiB = 1024**3


class NotReady(Exception):
    """A driver (or one of its operations) cannot run yet; the message says why.

    The runner leaves that driver's cells empty and prints the reason: an empty cell is
    honest, a guessed number is not.
    """


@dataclass(frozen=True)
class Nic:
    port_id: str  # the Neutron port id: the NIC's ElementName, as Nova's drivers name it
    mac: str  # as Neutron gives it, with colons


@dataclass(frozen=True)
class Volume:
    serial: str  # the Cinder volume id (the passthrough drive is tagged with it)
    drive_number: int  # the host disk the LUN appears as once os-brick has logged in


@dataclass(frozen=True)
class InstanceSpec:
    """One Nova instance, reduced to what reaches Hyper-V."""

    name: str
    uuid: str
    generation: int
    memory_mb: int
    vcpus: int
    directory: Path  # the instance directory (a real local folder)
    root: Path  # the root disk file (VHD for generation 1, VHDX for generation 2)
    ephemerals: tuple[Path, ...] = ()
    volumes: tuple[Volume, ...] = ()
    nics: tuple[Nic, ...] = ()
    # COM port -> pipe kind, as compute-hyperv derives it from the image's
    # logging_serial_port / interactive_serial_port: "ro" logs, "rw" is interactive.
    serial_ports: Mapping[int, str] = field(default_factory=lambda: {1: "rw"})
    numa_nodes: int = 0  # vNUMA cells (hw:numa_nodes); 0 = no vNUMA
    secure_boot_template: str | None = None  # "MicrosoftUEFICertificateAuthority" (Linux)
    nested_virtualization: bool = False  # hw:cpu_features=vmx
    disk_iops: int = 0  # quota:disk_total_iops_sec, applied to the local disks
    vswitch: str = "external"

    def pipe(self, kind: str) -> str:
        return f"\\\\.\\pipe\\{self.uuid}_{kind}"

    @property
    def local_disks(self) -> tuple[Path, ...]:
        return (self.root, *self.ephemerals)


class Flows(Protocol):
    """A driver, as the benchmarks drive it. Every method is one Nova driver call.

    `counters` are the emulator counters that see this driver's round trips (the
    session its CIM calls go through). A method that cannot run yet raises `NotReady`.
    """

    label: str
    notes: list[str]  # what the counts include or leave out, in this driver's words

    @property
    def counters(self) -> Counters: ...

    def spawn(self, spec: InstanceSpec) -> None: ...

    def destroy(self, spec: InstanceSpec) -> None: ...

    def attach_volume(self, spec: InstanceSpec, volume: Volume) -> None: ...

    def detach_volume(self, spec: InstanceSpec, volume: Volume) -> None: ...

    def attach_nic(self, spec: InstanceSpec, nic: Nic) -> None: ...

    def detach_nic(self, spec: InstanceSpec, nic: Nic) -> None: ...

    def power_off(self, spec: InstanceSpec) -> None: ...

    def power_on(self, spec: InstanceSpec) -> None: ...

    def get_info(self, spec: InstanceSpec) -> str: ...  # "running", "shutdown", ...

    def list_instances(self) -> list[str]: ...

    def get_available_resource(self) -> Mapping[str, object]: ...

    def update_provider_tree(self) -> Mapping[str, object]: ...

    def sync_power_states(self, specs: Sequence[InstanceSpec]) -> Mapping[str, str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    what: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("spawn_basic_gen1", "spawn basic gen1",
              "root VHD on IDE, one NIC on the vSwitch, COM1 to a pipe, power on"),
    Operation("spawn_full_gen2", "spawn full-featured gen2",
              "Secure Boot (Linux template), 2 vNUMA nodes, root + 2 ephemerals + 1 "
              "passthrough volume, IOPS limit on local disks, 2 NICs on the vSwitch, "
              "2 serial ports to pipes, nested virtualization, boot order, power on"),
    Operation("get_info", "get_info", "one instance's power state"),
    Operation("list_instances", "list_instances", "names of every VM"),
    Operation("attach_volume", "attach volume", "hot-add a passthrough volume, device metadata"),
    Operation("detach_volume", "detach volume", "remove it again, device metadata"),
    Operation("attach_nic", "attach NIC", "hot-add a NIC on the vSwitch, device metadata"),
    Operation("detach_nic", "detach NIC", "remove it again"),
    Operation("power_off", "power off", "clean stop: guest shutdown, wait until off"),
    Operation("power_on", "power on", "volume paths checked, start"),
    Operation("get_available_resource", "get_available_resource",
              "memory, CPUs, NUMA, PCI devices, RemoteFX GPUs"),
    Operation("update_provider_tree", "update_provider_tree", "the inventory Nova reports"),
    Operation("sync_power_states", "power-state sync",
              "Nova's periodic task: instance count, then get_info per instance"),
    Operation("destroy", "destroy", "the full-featured gen2 instance, running"),
)
OPERATION_KEYS = tuple(op.key for op in OPERATIONS)


# -- the instances of the scenario --------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """The instances, extra volume and extra NIC one round-trip run uses."""

    basic: InstanceSpec
    full: InstanceSpec
    extra_volume: Volume
    extra_nic: Nic


def _mac(number: int) -> str:
    return f"fa:16:3e:00:00:{number:02x}"


def make_scenario(instances_dir: Path, *, volume_disks: tuple[int, int] = (3, 4),
                  tag: str = "") -> Scenario:
    """Instances under `instances_dir`, their disk files made with vhdfile (not counted).

    `volume_disks` are two host disk numbers the host profile offers (the spawn's volume
    and the attached one). `tag` keeps names apart when one host holds several runs.
    """
    basic_dir = instances_dir / f"instance-basic{tag}"
    full_dir = instances_dir / f"instance-full{tag}"
    basic = InstanceSpec(
        name=f"instance-basic{tag}", uuid="0b1c5e2a-6f57-4c1b-9a54-3d0f7c1a0001",
        generation=1, memory_mb=2048, vcpus=2, directory=basic_dir,
        root=basic_dir / "root.vhd", nics=(Nic("port-basic-0", _mac(1)),),
    )
    full = InstanceSpec(
        name=f"instance-full{tag}", uuid="0b1c5e2a-6f57-4c1b-9a54-3d0f7c1a0002",
        generation=2, memory_mb=4096, vcpus=4, directory=full_dir,
        root=full_dir / "root.vhdx",
        ephemerals=(full_dir / "eph0.vhdx", full_dir / "eph1.vhdx"),
        volumes=(Volume("9d3c1f7e-0000-4000-8000-000000000001", volume_disks[0]),),
        nics=(Nic("port-full-0", _mac(2)), Nic("port-full-1", _mac(3))),
        serial_ports={1: "ro", 2: "rw"},
        numa_nodes=2, secure_boot_template="MicrosoftUEFICertificateAuthority",
        nested_virtualization=True, disk_iops=500,
    )
    make_disk_files(basic)
    make_disk_files(full)
    return Scenario(
        basic=basic, full=full,
        extra_volume=Volume("9d3c1f7e-0000-4000-8000-000000000002", volume_disks[1]),
        extra_nic=Nic("port-full-2", _mac(4)),
    )


def make_disk_files(spec: InstanceSpec) -> None:
    """The root and ephemeral files, as the image cache and Nova's flavor would leave them.

    The root is a bootable image of its generation (MBR with boot code; GPT with an EFI
    system partition holding a loader): a driver that inspects the image before a
    Secure Boot spawn (ours does: an unsigned-loader-less VM would never boot) must find
    what a real image holds. Ephemerals are blank."""
    spec.directory.mkdir(parents=True, exist_ok=True)
    if not spec.root.exists():
        fmt = vhdfile.format_for_path(spec.root)
        if spec.generation == 2:
            testimages.gpt_uefi_image(spec.root, format=fmt, size=GiB)
        else:
            testimages.mbr_bios_image(spec.root, format=fmt, size=GiB)
    for path in spec.ephemerals:
        if not path.exists():
            vhdfile.create(path, vhdfile.format_for_path(path), "dynamic", GiB)


# -- running it ---------------------------------------------------------------------


@contextmanager
def counted(counters: Counters, key: str) -> Iterator[RoundTrips]:
    """The round trips made inside, counted under `key` (the result holds only this
    block's, even if `counters` saw `key` before)."""
    result = RoundTrips()
    with counters.operation(key) as stats:
        before = stats.copy()
        try:
            yield result
        finally:
            for kind in KINDS:
                setattr(result, kind, getattr(stats, kind) - getattr(before, kind))


def scenario_steps(scenario: Scenario) -> list[tuple[str, Callable[[Flows], object]]]:
    """The operations in the order they run (each needs what the earlier ones made)."""
    basic, full = scenario.basic, scenario.full
    return [
        ("spawn_basic_gen1", lambda f: f.spawn(basic)),
        ("spawn_full_gen2", lambda f: f.spawn(full)),
        ("get_info", lambda f: f.get_info(full)),
        ("list_instances", lambda f: f.list_instances()),
        ("attach_volume", lambda f: f.attach_volume(full, scenario.extra_volume)),
        ("detach_volume", lambda f: f.detach_volume(full, scenario.extra_volume)),
        ("attach_nic", lambda f: f.attach_nic(full, scenario.extra_nic)),
        ("detach_nic", lambda f: f.detach_nic(full, scenario.extra_nic)),
        ("power_off", lambda f: f.power_off(full)),
        ("power_on", lambda f: f.power_on(full)),
        ("get_available_resource", lambda f: f.get_available_resource()),
        ("update_provider_tree", lambda f: f.update_provider_tree()),
        ("sync_power_states", lambda f: f.sync_power_states([basic, full])),
        ("destroy", lambda f: f.destroy(full)),
    ]


@dataclass
class RunResult:
    """One driver's counts (None: that operation could not run) and why cells are empty."""

    label: str
    counts: dict[str, RoundTrips | None]
    notes: list[str]
    not_ready: str | None = None  # the whole driver could not run

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "counts": {k: (v.as_dict() if v is not None else None)
                       for k, v in self.counts.items()},
            "notes": list(self.notes),
            "not_ready": self.not_ready,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RunResult:
        raw = data["counts"]
        assert isinstance(raw, dict)
        counts = {
            k: (RoundTrips(v["queries"], v["gets"], v["calls"], v["job_polls"])
                if v is not None else None)
            for k, v in raw.items()
        }
        notes = data.get("notes") or []
        assert isinstance(notes, list)
        not_ready = data.get("not_ready")
        return cls(str(data["label"]), counts, [str(n) for n in notes],
                   str(not_ready) if not_ready else None)


#: A spawn that cannot run leaves nothing for the later operations: the run stops there.
ESSENTIAL = ("spawn_basic_gen1", "spawn_full_gen2")
#: A detach needs its attach: when the attach cannot run, the detach is skipped too.
NEEDS = {"detach_volume": "attach_volume", "detach_nic": "attach_nic"}


def run_scenario(flows: Flows, scenario: Scenario) -> RunResult:
    """Run every operation once, in order; count each under its key.

    An operation that raises NotReady leaves its cell empty (with the reason in the
    notes). A spawn that cannot run stops the run (the later operations need its VM);
    any other operation only takes the step that needs it along (its detach).
    """
    counts: dict[str, RoundTrips | None] = {key: None for key in OPERATION_KEYS}
    notes: list[str] = []
    skipped: set[str] = set()
    for key, step in scenario_steps(scenario):
        if NEEDS.get(key) in skipped:
            notes.append(f"{key}: not run: it needs {NEEDS[key]}")
            skipped.add(key)
            continue
        try:
            with counted(flows.counters, key) as stats:
                step(flows)
        except NotReady as exc:
            notes.append(f"{key}: not ready: {exc}")
            if key in ESSENTIAL:
                break
            skipped.add(key)
            continue
        counts[key] = stats
    return RunResult(flows.label, counts, [*flows.notes, *notes])
