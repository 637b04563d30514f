"""`nova-hyperv host`: create, inspect and reset an emulated Hyper-V host.

An emulated host is one state file. `init` makes it from a preset or a TOML host file
(optionally reshaping its NUMA topology), `show` prints what is on it (the host, then
each VM with its firmware, memory, processors, devices, NICs, serial ports and
security; for a running VM also where its memory is on the host's NUMA nodes and its
serial endpoints), `reset` removes every VM and job, and `settings` changes the
emulator's knobs (how long jobs run, an added latency per round trip). `fault` and
`restart` (module `_hostfaults`) inject faults and restart the emulated Windows host.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hyperv_emulator import init_host, open_host, reset_host
from hyperv_emulator.inventory import describe
from hyperv_emulator.profiles import HostProfile, NumaNode, ProfileError, VSwitch, load_profile
from nova_hyperv.cli import _hostfaults

EXIT_FAILURE, EXIT_REJECTED = 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("host", help="create, inspect and reset an emulated host")
    sub = parser.add_subparsers(dest="host_command", metavar="ACTION", required=True)

    p = sub.add_parser("init", help="create an emulated host state file")
    p.add_argument("state", type=Path, help="the host's state file (created)")
    p.add_argument("--profile", default="ws2022",
                   help="a preset (ws2012r2, ws2016, ws2019, ws2022, ws2025) or a TOML "
                        "host file (default: ws2022)")
    p.add_argument("--numa-nodes", type=_positive, help="number of NUMA nodes")
    p.add_argument("--memory-per-node-gb", type=_positive, help="memory of each NUMA node")
    p.add_argument("--logical-processors", type=_positive,
                   help="logical processors of the host (split evenly across the nodes)")
    p.add_argument("--hostname", help="the host's name (1 to 15 characters)")
    p.add_argument("--vswitch", action="append", metavar="NAME",
                   help="a virtual switch (repeat for more; replaces the profile's)")
    p.add_argument("--force", action="store_true", help="replace an existing state file")
    p.set_defaults(handler=_guard(_init))

    p = sub.add_parser("show", help="print the host and every VM on it")
    p.add_argument("state", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_guard(_show))

    p = sub.add_parser("reset", help="remove every VM and job, keep the host")
    p.add_argument("state", type=Path)
    p.set_defaults(handler=_guard(_reset))

    p = sub.add_parser("settings", help="show or change the emulator's settings")
    p.add_argument("state", type=Path)
    p.add_argument("--job-polls", type=int, metavar="N",
                   help="reads a job reports Running before it finishes (0: finished at once)")
    p.add_argument("--latency-ms", type=float, metavar="MS",
                   help="latency added to every round trip (new sessions)")
    p.add_argument("--unique-vm-names", choices=["yes", "no"],
                   help="refuse a second VM with the same name (default no, as on a real host)")
    p.set_defaults(handler=_guard(_settings))

    _hostfaults.register(sub, _guard)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _guard(action):  # type: ignore[no-untyped-def]
    """Exit 2 when the request was understood and refused, 1 for anything else."""

    def run(args: argparse.Namespace) -> int:
        try:
            return action(args) or 0
        except (ProfileError, FileExistsError, FileNotFoundError, ValueError) as exc:
            print(f"nova-hyperv host: {exc}", file=sys.stderr)
            return EXIT_REJECTED
        except Exception as exc:
            print(f"nova-hyperv host: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_FAILURE

    return run


def _reshaped(profile: HostProfile, args: argparse.Namespace) -> HostProfile:
    changes: dict[str, Any] = {}
    if args.numa_nodes or args.memory_per_node_gb or args.logical_processors:
        nodes = args.numa_nodes or len(profile.numa_nodes)
        memory_mb = (args.memory_per_node_gb * 1024 if args.memory_per_node_gb
                     else profile.numa_nodes[0].memory_mb)
        processors = args.logical_processors or profile.logical_processors
        if processors % nodes:
            raise ValueError(f"--logical-processors {processors} cannot be split evenly over "
                             f"{nodes} NUMA nodes; use a multiple of {nodes}")
        per_node = processors // nodes
        changes["numa_nodes"] = tuple(NumaNode(memory_mb, per_node) for _ in range(nodes))
        changes["cores_per_node"] = min(profile.cores_per_node, per_node)
    if args.hostname:
        if not 1 <= len(args.hostname) <= 15:
            raise ValueError(f"--hostname {args.hostname!r} must be 1 to 15 characters "
                             "(a NetBIOS name)")
        changes["hostname"] = args.hostname
    if args.vswitch:
        changes["vswitches"] = tuple(VSwitch(name) for name in args.vswitch)
    return profile.replace(**changes) if changes else profile


def _init(args: argparse.Namespace) -> int:
    profile = _reshaped(load_profile(args.profile), args)
    if args.state.exists() and not args.force:
        raise FileExistsError(f"{args.state} already exists; pass --force to replace it, or "
                              "use `nova-hyperv host reset` to empty it")
    host = init_host(args.state, profile, overwrite=args.force)
    print(f"{host.path}: emulated {profile.caption} ({profile.windows_version}) named "
          f"{profile.hostname}, {profile.logical_processors} logical processors, "
          f"{len(profile.numa_nodes)} NUMA node(s), {profile.memory_mb} MB")
    return 0


def _show(args: argparse.Namespace) -> int:
    host = open_host(args.state)
    with host.session() as session:
        described = describe(session)
    if args.json:
        print(json.dumps(described, indent=2))
    else:
        print("\n".join(render(described)))
    return 0


def _reset(args: argparse.Namespace) -> int:
    host = reset_host(args.state)
    print(f"{host.path}: every VM and job removed; host {host.hostname} kept")
    return 0


def _settings(args: argparse.Namespace) -> int:
    host = open_host(args.state)
    changes: dict[str, Any] = {}
    if args.job_polls is not None:
        if args.job_polls < 0:
            raise ValueError("--job-polls must be 0 or more")
        changes["job_polls"] = args.job_polls
    if args.latency_ms is not None:
        if args.latency_ms < 0:
            raise ValueError("--latency-ms must be 0 or more")
        changes["latency_ms"] = args.latency_ms
    if args.unique_vm_names is not None:
        changes["unique_vm_names"] = args.unique_vm_names == "yes"
    settings = host.update_settings(**changes) if changes else host.settings
    print(" ".join(f"{k}={v}" for k, v in sorted(settings.__dict__.items())))
    return 0


# -- text rendering -----------------------------------------------------------------


def render(described: dict[str, Any]) -> list[str]:
    host = described["host"]
    lines = [
        f"Host {host['hostname']}: {host['caption']} ({host['windows_version']})"
        + (f", preset {host['preset']}" if host["preset"] else ""),
        f"  {host['logical_processors']} logical processors, {host['memory_mb']} MB memory "
        f"({host['free_memory_mb']} MB free), default VM version {host['default_vm_version']}",
    ]
    for node in host["numa_nodes"]:
        lines.append(f"  NUMA node {node['id']}: {node['logical_processors']} logical "
                     f"processors, {node['memory_mb']} MB ({node['free_memory_mb']} MB free)")
    lines.append(f"  virtual switches: {', '.join(host['vswitches']) or 'none'}")
    for disk in host["disks"]:
        state = "offline" if disk["offline"] else "online"
        user = f", passed through to {disk['attached_to']}" if disk["attached_to"] else ""
        lines.append(f"  disk {disk['number']}: {disk['bus']}, {_size(disk['size_bytes'])}, "
                     f"serial {disk['serial']}, {state}{user}")
    for session in host.get("iscsi_sessions", ()):
        persistent = " (persistent)" if session["persistent"] else ""
        lines.append(f"  iSCSI session to {session['target']}{persistent}")
    for share, folder in host.get("smb_shares", {}).items():
        lines.append(f"  SMB share {share} -> {folder}")
    if host["guarded"] is not None:
        lines.append(f"  guarded host: {'yes' if host['guarded'] else 'no'}")
    for gpu in host["remotefx_gpus"]:
        lines.append(f"  RemoteFX GPU {gpu['name']} ({gpu['video_memory_mb']} MB): "
                     f"{'enabled' if gpu['enabled'] else 'not enabled'} for RemoteFX")
    for device in host["assignable_devices"]:
        holder = device["assigned_to"]
        lines.append(f"  assignable PCI device {_pci(device)}: "
                     + (f"assigned to {holder}" if holder else "free"))
    lines.append("  settings: " + " ".join(f"{k}={v}" for k, v in host["settings"].items()))
    if not described["vms"]:
        lines.append("")
        lines.append("No virtual machines.")
    for vm in described["vms"]:
        lines.append("")
        lines.extend(render_vm(vm))
    return lines


def _size(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"


def render_vm(vm: dict[str, Any]) -> list[str]:
    lines = [f"VM {vm['name']} ({vm['id']}): generation {vm['generation']}, {vm['state']}, "
             f"version {vm['version']}"]
    firmware = vm["firmware"]
    if firmware["type"] == "UEFI":
        secure = ("Secure Boot on (" + str(firmware["secure_boot_template"]) + ")"
                  if firmware["secure_boot"] else "Secure Boot off")
        lines.append(f"  firmware: UEFI, {secure}, {len(firmware['boot_order'])} boot entries")
    else:
        lines.append(f"  firmware: BIOS, boot order {', '.join(firmware['boot_order'])}")
    memory = vm["memory"]
    if memory:
        if memory["dynamic"]:
            text = (f"dynamic, startup {memory['startup_mb']} MB, "
                    f"{memory['minimum_mb']}..{memory['maximum_mb']} MB")
        else:
            text = f"{memory['startup_mb']} MB static"
        lines.append(f"  memory: {text}")
    processors = vm["processors"]
    if processors:
        nested = ", nested virtualization" if processors["nested_virtualization"] else ""
        lines.append(f"  processors: {processors['count']}{nested}; virtual NUMA "
                     f"{'on' if vm['numa']['virtual_numa'] else 'off'} (at most "
                     f"{processors['max_per_numa_node']} processors and "
                     f"{memory['max_per_numa_node_mb'] if memory else '?'} MB per node)")
    for controller in vm["storage"]:
        if not controller["drives"]:
            lines.append(f"  {controller['controller']}: empty")
        for drive in controller["drives"]:
            iops = f" (at most {drive['iops_limit']} IOPS)" if drive["iops_limit"] else ""
            lines.append(f"  {controller['controller']} slot {drive['slot']}: {drive['type']} "
                         f"{drive['path'] or '(empty)'}{iops}")
    for nic in vm["nics"]:
        kind = "static" if nic["static_mac"] else "dynamic"
        port = "".join((f", VLAN {nic['vlan']}" if nic.get("vlan") else "",
                        ", MAC spoofing allowed" if nic.get("mac_spoofing") else ""))
        lines.append(f"  NIC {nic['name']}: {nic['mac']} ({kind}) -> "
                     f"{nic['switch'] or 'not connected'}{port}")
    for port in vm["serial_ports"]:
        lines.append(f"  {port['name']}: {port['pipe'] or 'not connected'}")
    for vnode in vm.get("numa_placement", []):
        where = " + ".join(f"{mb} MB on node {node}" for node, mb in
                           sorted(vnode["memory_mb"].items()))
        lines.append(f"  running: virtual NUMA node {vnode['virtual_node']}: {where}, "
                     f"{vnode['processors']} processor(s) on node {vnode['home_node']}")
    for endpoint in vm.get("serial_endpoints", []):
        if endpoint.get("conflict"):
            lines.append(f"  running: COM {endpoint['com']} not served: "
                         f"{endpoint['conflict']}")
        else:
            state = "listening" if endpoint["listening"] else "not served by any process"
            lines.append(f"  running: COM {endpoint['com']} {endpoint['pipe']} -> "
                         f"{endpoint['socket']} ({state})")
    security = vm["security"]
    if security:
        lines.append(
            f"  security: TPM {_on(security['tpm'])}, shielding {_on(security['shielded'])}, "
            f"state encryption {_on(security['encrypted_state'])}, key protector "
            f"{'set' if security['key_protector'] else 'none'}"
            + (", provisioned" if security["provisioned"] else ""))
    remotefx = vm["remotefx"]
    if remotefx:
        vram = f", {remotefx['vram_mb']} MB VRAM" if remotefx["vram_mb"] else ""
        lines.append(f"  RemoteFX: {remotefx['monitors']} monitor(s) at up to "
                     f"{remotefx['resolution']}{vram}")
    for device in vm["pci_devices"]:
        lines.append(f"  PCI device {_pci(device)}")
    return lines


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _pci(device: dict[str, Any]) -> str:
    return (f"{device['vendor_id']}:{device['product_id']} at {device['location_path']}")
