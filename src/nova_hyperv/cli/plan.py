"""`nova-hyperv plan`: what VM a request becomes on a Hyper-V host, or why it cannot.

It runs the same rules the driver runs at spawn, on a described host (a preset or a
TOML host file), so users and operators can try image properties and flavor extra
specs without a cloud.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from typing import Any, TextIO

from hyperv_emulator.profiles import PRESETS, HostProfile, ProfileError, load_profile
from nova_hyperv.cli import EXIT_OK, EXIT_REJECTED
from nova_hyperv.cli._hostfacts import host_facts
from nova_hyperv.rules import (
    BlockDevices,
    Ephemeral,
    Image,
    Instance,
    InstanceRequest,
    PciRequest,
    RuleViolation,
    Vif,
    VmPlan,
    Volume,
    can_hot_plug_nic,
    config_from_mapping,
    flavor_from_mapping,
    plan_instance,
)

__all__ = ["plan_as_json", "register", "render_plan"]

DEFAULT_HOST = "ws2022"
DEFAULT_NAME = "instance-00000001"
DEFAULT_HOSTNAME = "server-1"
_SIZE = re.compile(r"^\s*([0-9]+)\s*([KMGT]?)(?:i?B)?\s*$", re.I)


# -- argument syntax -----------------------------------------------------------------

def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key.strip(), value


def _fields(text: str, keys: tuple[str, ...], flags: tuple[str, ...] = ()) -> dict[str, str]:
    """`first[,key=value...][,flag]` -> {"": first, key: value, flag: ""}."""
    result: dict[str, str] = {}
    for index, part in enumerate(text.split(",")):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if sep:
            if key not in keys:
                raise argparse.ArgumentTypeError(
                    f"{key!r} in {text!r} is not one of {', '.join(keys)}"
                )
            result[key] = value.strip()
        elif part in flags:
            result[part] = ""
        elif index == 0:
            result[""] = part
        else:
            raise argparse.ArgumentTypeError(f"{part!r} in {text!r} is not KEY=VALUE")
    return result


def _flavor(text: str) -> dict[str, str]:
    return dict(_key_value(part) for part in text.split(",") if part.strip())


def _size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 10737418240 or 10G")
    return int(match.group(1)) << (10 * " KMGT".index(match.group(2).upper() or " "))


def _volume(text: str) -> tuple[Volume, bool]:
    """A --volume: the volume, and whether the instance boots from it."""
    fields = _fields(text, ("id", "bus", "boot_index", "tag", "type"), ("root",))
    volume_id = fields.get("id", fields.get(""))
    if not volume_id:
        raise argparse.ArgumentTypeError(f"{text!r} names no volume id")
    volume = Volume(
        volume_id=volume_id,
        connection_type=fields.get("type", "iscsi"),
        bus=fields.get("bus"),
        boot_index=fields.get("boot_index"),
        tag=fields.get("tag"),
    )
    return volume, "root" in fields


def _ephemeral(text: str) -> Ephemeral:
    fields = _fields(text, ("size", "bus", "boot_index", "tag"))
    size = fields.get("size", fields.get(""))
    if not size:
        raise argparse.ArgumentTypeError(f"{text!r} gives no size in GiB")
    return Ephemeral(size_gb=size, bus=fields.get("bus"), boot_index=fields.get("boot_index"),
                     tag=fields.get("tag"))


def _nic(text: str) -> dict[str, str]:
    return _fields(text, ("mac", "id", "tag"))


def _pci(text: str) -> PciRequest:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"{text!r} is not VENDOR:PRODUCT[:COUNT]")
    return PciRequest(vendor_id=parts[0], product_id=parts[1],
                      count=parts[2] if len(parts) == 3 else 1)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show the VM a request becomes on a Hyper-V host, or why it is refused",
        description="Plan an instance the way the driver does at spawn: from a flavor, "
        "image properties, block devices and a host, show the VM (generation, firmware, "
        "memory, CPUs, vNUMA, disks and slots, boot order, NICs, serial ports, RemoteFX, "
        "PCI devices) or the rule it breaks. Exit status 2 when the request is refused.",
    )
    add = parser.add_argument
    add("--flavor", required=True, type=_flavor, metavar="vcpus=N,ram=MB,disk=GB[,...]",
        help="flavor sizes: vcpus, ram (MB), disk (root GB), ephemeral (GB), swap (MB)")
    add("--extra-spec", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
        help="a flavor extra spec (repeatable), e.g. os:secure_boot=required")
    add("--image-property", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
        help="an image property (repeatable), e.g. hw_machine_type=hyperv-gen2")
    add("--image-format", choices=("vhd", "vhdx", "iso"), default="vhdx",
        help="the image file's format (default: vhdx)")
    add("--image-virtual-size", type=_size, metavar="BYTES",
        help="the image's virtual disk size in bytes (or with K, M, G, T: binary units)")
    add("--image-block-size", type=_size, metavar="BYTES",
        help="the image file's block size (default: 2M for VHD, 32M for VHDX)")
    add("--image-fixed", action="store_true", help="the image is a fixed-size VHD")
    add("--host", default=DEFAULT_HOST, metavar="PRESET|FILE",
        help=f"host preset ({', '.join(PRESETS)}) or TOML host file (default: {DEFAULT_HOST})")
    add("--config", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
        help="a [hyperv] option (repeatable), e.g. dynamic_memory_ratio=2")
    add("--volume", action="append", type=_volume, default=[],
        metavar="ID[,bus=B][,boot_index=N][,tag=T][,type=iscsi|fibre_channel|smbfs][,root]",
        help="a Cinder volume (repeatable); 'root' boots from it")
    add("--ephemeral", action="append", type=_ephemeral, default=[],
        metavar="GB[,bus=B][,boot_index=N][,tag=T]",
        help="an ephemeral disk (repeatable; default: one of the flavor's ephemeral size)")
    add("--nic", action="append", type=_nic, default=[], metavar="[MAC][,id=PORT][,tag=T]",
        help="a network adapter (repeatable)")
    add("--pci", action="append", type=_pci, default=[], metavar="VENDOR:PRODUCT[:N]",
        help="a PCI passthrough request (repeatable)")
    add("--config-drive", action="store_true", help="attach a config drive")
    add("--metadata", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
        help="instance metadata (repeatable), e.g. fsk:ComputerName=web1")
    add("--name", default=DEFAULT_NAME, help=f"instance (VM) name (default: {DEFAULT_NAME})")
    add("--hostname", default=DEFAULT_HOSTNAME,
        help=f"instance hostname (default: {DEFAULT_HOSTNAME})")
    add("--uuid", help="instance uuid (default: derived from the name)")
    add("--json", action="store_true", help="print the plan (or the refusal) as JSON")
    parser.set_defaults(handler=run)


# -- running -------------------------------------------------------------------------

def _request(args: argparse.Namespace) -> InstanceRequest:
    flavor = flavor_from_mapping(args.flavor, dict(args.extra_spec))
    image = Image(
        id=None,
        disk_format=args.image_format,
        properties=dict(args.image_property),
        file_format=args.image_format,
        virtual_size=args.image_virtual_size,
        block_size=args.image_block_size,
        file_fixed=args.image_fixed,
    )
    instance_uuid = args.uuid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"nova-hyperv:{args.name}"))
    instance = Instance(uuid=instance_uuid, name=args.name, hostname=args.hostname,
                        metadata=dict(args.metadata))
    roots = [volume for volume, root in args.volume if root]
    if len(roots) > 1:
        raise RuleViolation("volume-invalid", "--volume", roots[1].volume_id,
                            "one volume marked root", "an instance has one root disk")
    block_devices = BlockDevices(
        root_volume=roots[0] if roots else None,
        ephemerals=tuple(args.ephemeral),
        volumes=tuple(volume for volume, root in args.volume if not root),
    )
    vifs = tuple(
        Vif(id=nic.get("id") or f"port-{index}",
            mac=nic.get("mac", nic.get("")) or f"fa:16:3e:00:00:{index:02x}",
            tag=nic.get("tag"))
        for index, nic in enumerate(args.nic, start=1)
    )
    return InstanceRequest(flavor=flavor, image=image, instance=instance,
                           block_devices=block_devices, vifs=vifs,
                           pci_requests=tuple(args.pci), config_drive=args.config_drive)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        profile = load_profile(args.host)
    except ProfileError as exc:
        return _refuse(args, out, "host-invalid", "--host", args.host, str(exc))
    facts = host_facts(profile)
    try:
        plan = plan_instance(_request(args), facts, config_from_mapping(dict(args.config)))
    except RuleViolation as exc:
        return _refuse(args, out, exc.code, exc.field, exc.value, exc.message)
    hot_plug = can_hot_plug_nic(True, plan.generation, facts)
    if args.json:
        json.dump({**plan_as_json(plan), "nic_hot_plug_while_running": hot_plug}, out, indent=2)
        out.write("\n")
    else:
        out.write(render_plan(plan, profile, nic_hot_plug=hot_plug))
    return EXIT_OK


def _refuse(args: argparse.Namespace, out: TextIO, code: str, field: str, value: object,
            message: str) -> int:
    if args.json:
        plain = value is None or isinstance(value, str | int | float | bool)
        shown = value if plain else repr(value)
        error = {"code": code, "field": field, "value": shown, "message": message}
        json.dump({"error": error}, out, indent=2)
        out.write("\n")
    else:
        out.write(f"refused [{code}]: {message}\n")
    return EXIT_REJECTED


# -- output --------------------------------------------------------------------------

def plan_as_json(plan: VmPlan) -> dict[str, Any]:
    """The plan in `plan --json`'s shape (its key names are a published contract)."""
    numa = plan.numa
    remotefx = plan.remotefx
    return {
        "name": plan.name,
        "instance_uuid": plan.instance_uuid,
        "generation": plan.generation,
        "firmware": plan.firmware,
        "secure_boot": {
            "enabled": plan.secure_boot.enabled,
            "template": plan.secure_boot.template,
            "template_id": plan.secure_boot.template_id,
        },
        "vtpm": {
            "enabled": plan.vtpm.enabled,
            "shielded": plan.vtpm.shielded,
            "pdk_reference": plan.vtpm.pdk_reference,
            "fsk_substitutions": dict(plan.vtpm.fsk_substitutions),
        },
        "memory": {
            "startup_mb": plan.memory.startup_mb,
            "dynamic": plan.memory.dynamic,
            "minimum_mb": plan.memory.minimum_mb,
            "maximum_mb": plan.memory.maximum_mb,
        },
        "processors": {
            "count": plan.processors.count,
            "nested_virtualization": plan.processors.nested_virtualization,
            "limit_cpu_features": plan.processors.limit_cpu_features,
        },
        "numa": None if numa is None else {
            "nodes": numa.nodes,
            "cpus_per_node": numa.cpus_per_node,
            "memory_mb_per_node": numa.memory_mb_per_node,
        },
        "remotefx": None if remotefx is None else {
            "monitors": remotefx.monitors,
            "resolution": remotefx.resolution,
            "vram_bytes": remotefx.vram_bytes,
        },
        "serial_ports": {str(p.port): p.mode for p in plan.serial_ports},
        "serial_pipes": {str(p.port): p.pipe for p in plan.serial_ports},
        "disks": [
            {
                "name": d.name,
                "kind": d.kind,
                "device": d.device,
                "bus": d.bus,
                "controller": d.controller,
                "slot": d.slot,
                "iops_limit": d.iops_limit,
                "boot_index": d.boot_index,
                "size_bytes": d.size_bytes,
                "file_name": d.file_name,
                "volume_id": d.volume_id,
                "connection_type": d.connection_type,
                "tag": d.tag,
            }
            for d in plan.disks
        ],
        "boot_order": list(plan.boot_order),
        "pci_devices": [
            {"vendor_id": p.vendor_id, "product_id": p.product_id} for p in plan.pci_devices
        ],
        "nics": [{"name": n.name, "mac": n.mac, "tag": n.tag} for n in plan.nics],
        "host_shutdown_action": plan.host_shutdown_action,
        "config_drive": plan.config_drive,
        "root_virtual_size": plan.root_virtual_size,
    }


def _bytes(size: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            value = size / (1 << shift)
            shown = f"{value:.0f}" if value == int(value) else f"{value:.2f}"
            return f"{shown} {unit} ({size} bytes)"
    return f"{size} bytes"


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def render_plan(plan: VmPlan, host: HostProfile, *, nic_hot_plug: bool | None = None) -> str:
    """A readable summary of the VM, for people."""
    lines: list[str] = []

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<16}{text}")

    host_name = host.preset or host.hostname
    lines.append(f"VM {plan.name} (instance {plan.instance_uuid})")
    lines.append(f"  on host {host_name}: {host.caption}, Windows {host.windows_version}")
    row("generation", f"{plan.generation} ({plan.firmware.upper()})")
    sb = plan.secure_boot
    row("secure boot", f"on, template {sb.template} ({sb.template_id})" if sb.enabled else "off")
    tpm = plan.vtpm
    if tpm.enabled:
        kind = "shielded VM" if tpm.shielded else "encryption only"
        fsk = ", ".join(f"{k}={v}" for k, v in tpm.fsk_substitutions)
        row("vTPM", f"on ({kind}), PDK {tpm.pdk_reference}; FSK {fsk}")
    else:
        row("vTPM", "off")
    cpu = plan.processors
    vcpus = f"{cpu.count} vCPU{'s' if cpu.count != 1 else ''}"
    row("processors", f"{vcpus}; nested virtualization {_on(cpu.nested_virtualization)}; "
        f"CPU features limited {_on(cpu.limit_cpu_features)}")
    mem = plan.memory
    if mem.dynamic:
        row("memory", f"dynamic: starts at {mem.startup_mb} MB, {mem.minimum_mb} to "
            f"{mem.maximum_mb} MB")
    else:
        off = [why for why, applies in (("vNUMA", plan.numa is not None),
                                        ("nested virtualization", cpu.nested_virtualization),
                                        ("PCI passthrough", bool(plan.pci_devices))) if applies]
        because = f" (dynamic memory is off with {' and '.join(off)})" if off else ""
        row("memory", f"{mem.startup_mb} MB, static{because}")
    numa = plan.numa
    row("vNUMA", "none" if numa is None else
        f"{numa.nodes} node(s) of {numa.cpus_per_node} vCPU(s) and {numa.memory_mb_per_node} MB")
    fx = plan.remotefx
    if fx is None:
        row("RemoteFX", "none")
    else:
        vram = "host default VRAM" if fx.vram_bytes is None else f"VRAM {fx.vram_bytes >> 20} MiB"
        row("RemoteFX", f"{fx.monitors} monitor(s) at {fx.resolution}, {vram}")
    lines.append("  disks")
    width = max(len(d.name) for d in plan.disks)
    for d in plan.disks:
        parts = [f"{d.name:<{width}}", f"{d.kind:<12}", f"{d.device:<4}",
                 f"{d.bus.upper()} {d.controller}:{d.slot}"]
        if d.boot_index is not None:
            parts.append(f"boot {d.boot_index}")
        if d.size_bytes is not None:
            parts.append(_bytes(d.size_bytes))
        if d.volume_id is not None:
            parts.append(f"volume over {d.connection_type}")
        if d.file_name is not None:
            parts.append(d.file_name)
        if d.iops_limit is not None:
            parts.append(f"max {d.iops_limit} IOPS")
        if d.tag:
            parts.append(f"tag {d.tag}")
        lines.append("    " + "  ".join(parts))
    row("boot order", ", ".join(plan.boot_order))
    if nic_hot_plug is not None:
        row("NIC hot plug", "also while the VM runs" if nic_hot_plug
            else "only while the VM is off")
    row("NICs", "; ".join(f"{n.name} {n.mac}" + (f" tag {n.tag}" if n.tag else "")
                          for n in plan.nics) or "none")
    row("serial ports", "; ".join(f"COM{p.port} {p.mode} {p.pipe}" for p in plan.serial_ports))
    row("PCI devices", ", ".join(f"{p.vendor_id}:{p.product_id}" for p in plan.pci_devices)
        or "none")
    row("config drive", "yes" if plan.config_drive else "no")
    row("host shutdown", plan.host_shutdown_action)
    return "\n".join(lines) + "\n"
