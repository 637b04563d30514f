"""Host memory and NUMA: where a starting VM's memory goes, and what running VMs hold.

A VM that starts is cut into virtual NUMA nodes (its vNUMA topology): with
`VirtualNumaEnabled` and static memory, as many nodes as its memory needs at
`MaxMemoryBlocksPerNumaNode` MB each and its processors need at
`MaxProcessorsPerNumaNode` each; otherwise (vNUMA off, or dynamic memory, which
Hyper-V never combines with vNUMA) one node holding its startup memory.

Each virtual node is placed whole on one host node: the node with the most free
memory (ties go to the lowest node number), preferring nodes this VM does not use
yet, so that a vNUMA VM lies across host nodes the way its topology says. That is
Hyper-V's balancing (the hypervisor gives each VM a NUMA node preference by the
memory it can hold locally and spreads VMs over the nodes), and it is the policy
that reproduces the usage guide's vNUMA note exactly. A virtual node no host node
can hold is spread over several nodes (most free first) when NUMA spanning is
enabled (`Msvm_VirtualSystemManagementServiceSettingData.NumaSpanningEnabled`, the
default); with spanning disabled the start fails. A start that needs more than the
host has free fails whatever the spanning. Both failures are Hyper-V's out-of-memory
error, 32778, in the start job.

What running (and paused) VMs hold is kept per host node in the state file and shown
where a client reads it: `Msvm_NumaNode.CurrentlyConsumableMemoryBlocks` and
`CurrentlyAssignedVirtualProcessors`, `Msvm_Memory.ConsumableBlocks`, the memory
pool's `CurrentlyConsumedResource` and `Win32_OperatingSystem.FreePhysicalMemory`.
Resizing a running VM's static memory (Windows Server 2016 and later) grows or shrinks
what it holds: growth comes from the nodes it is on (most free first), then, with NUMA
spanning, from the others, and fails with 32778 when the host has not enough; a shrink
gives back memory on other nodes before memory on the home node of its last virtual
node.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.after_modify import after_modify
from hyperv_emulator.providers.base import OUT_OF_MEMORY, Ctx, Refused
from hyperv_emulator.providers.devices import settings_of_kind
from hyperv_emulator.providers.seed import HOST_MEMORY_ID
from hyperv_emulator.providers.vms import PAUSED, RUNNING, Vm
from hyperv_emulator.schema.model import NS_CIMV2

USAGE_KEY = "numa_usage"
SETTINGS_CLASS = "Msvm_VirtualSystemManagementServiceSettingData"


@dataclass(frozen=True)
class VirtualNode:
    """One virtual NUMA node of a starting VM: what it needs."""

    memory_mb: int
    processors: int


@dataclass(frozen=True)
class PlacedNode:
    """Where one virtual node went: MB per host node, and the node its processors run on."""

    memory: dict[int, int]
    processors: int
    home: int

    @property
    def spans(self) -> bool:
        return len(self.memory) > 1


Placement = tuple[PlacedNode, ...]


class NoRoom(Exception):
    """The host cannot hold the VM (the reason, in words, for the job's error)."""


# -- the policy (pure) ----------------------------------------------------------------


def split(total: int, parts: int, unit: int = 1) -> list[int]:
    """`total` cut into `parts` nearly equal shares of whole `unit`s (first ones larger)."""
    units, rest = divmod(total // unit, parts)
    shares = [(units + (1 if i < rest else 0)) * unit for i in range(parts)]
    shares[0] += total - sum(shares)  # what is left below one unit
    return shares


def virtual_nodes(memory_mb: int, processors: int, *, vnuma: bool, max_memory_per_node: int,
                  max_processors_per_node: int) -> list[VirtualNode]:
    """A VM's virtual NUMA topology: one node, or as many as its per-node maxima need."""
    if not vnuma:
        return [VirtualNode(memory_mb, processors)]
    count = max(1, math.ceil(memory_mb / max(1, max_memory_per_node)),
                math.ceil(processors / max(1, max_processors_per_node)))
    return [VirtualNode(m, p) for m, p in zip(split(memory_mb, count, 2),
                                              split(processors, count), strict=True)]


def place(free: Sequence[int], demand: Sequence[VirtualNode], *, spanning: bool) -> Placement:
    """Put each virtual node on host nodes; NoRoom says why it cannot be done."""
    left = list(free)
    nodes = range(len(left))
    needed = sum(v.memory_mb for v in demand)
    if needed > sum(left):
        raise NoRoom(f"it needs {needed} MB and the host has {sum(left)} MB free "
                     f"({_describe(left)})")
    placed: list[PlacedNode] = []
    taken: set[int] = set()
    for number, vnode in enumerate(demand):
        fits = [n for n in nodes if left[n] >= vnode.memory_mb]
        if fits:
            fresh = [n for n in fits if n not in taken] or fits
            node = max(fresh, key=lambda n: (left[n], -n))
            left[node] -= vnode.memory_mb
            taken.add(node)
            placed.append(PlacedNode({node: vnode.memory_mb}, vnode.processors, node))
            continue
        if not spanning:
            what = f"virtual NUMA node {number}" if len(demand) > 1 else "its memory"
            earlier = "".join(f"; virtual NUMA node {i} would take {p.memory_mb} MB of node "
                              f"{placed[i].home}" for i, p in enumerate(demand[:number]))
            raise NoRoom(f"NUMA spanning is disabled and {what} needs {vnode.memory_mb} MB on "
                         f"one host NUMA node ({_describe(free)}{earlier})")
        memory: dict[int, int] = {}
        remaining = vnode.memory_mb
        for node in sorted(nodes, key=lambda n: (-left[n], n)):
            share = min(left[node], remaining)
            if share > 0:
                memory[node] = share
                left[node] -= share
                remaining -= share
                taken.add(node)
        home = max(memory, key=lambda n: (memory[n], -n))
        placed.append(PlacedNode(memory, vnode.processors, home))
    return tuple(placed)


def _describe(free: Sequence[int]) -> str:
    return ", ".join(f"node {n}: {f} MB free" for n, f in enumerate(free))


# -- the VM and the host, from the state file --------------------------------------------


def spanning_enabled(ctx: Ctx) -> bool:
    settings = ctx.query(SETTINGS_CLASS)
    return bool(settings[0].get("NumaSpanningEnabled", True)) if settings else True


def demand_of(ctx: Ctx, vm: Vm) -> list[VirtualNode]:
    """What a VM needs when it starts: startup memory, cut by its vNUMA topology."""
    nodes = ctx.profile.numa_nodes
    memory = settings_of_kind(ctx, vm, catalog.MEMORY)
    processor = settings_of_kind(ctx, vm, catalog.PROCESSOR)
    mem = memory[0] if memory else None
    cpu = processor[0] if processor else None
    dynamic = bool(mem is not None and mem.get("DynamicMemoryEnabled"))
    return virtual_nodes(
        int(mem.get("VirtualQuantity", 1024)) if mem is not None else 1024,
        int(cpu.get("VirtualQuantity", 1)) if cpu is not None else 1,
        vnuma=bool(vm.vssd.get("VirtualNumaEnabled")) and not dynamic,
        max_memory_per_node=int((mem.get("MaxMemoryBlocksPerNumaNode") if mem is not None
                                 else 0) or max(n.memory_mb for n in nodes)),
        max_processors_per_node=int((cpu.get("MaxProcessorsPerNumaNode") if cpu is not None
                                     else 0) or max(n.logical_processors for n in nodes)),
    )


@dataclass
class HostUsage:
    """Memory (MB) and virtual processors held on each host node by running VMs."""

    memory: list[int]
    processors: list[int]

    def free(self, ctx: Ctx) -> list[int]:
        return [max(0, node.memory_mb - used)
                for node, used in zip(ctx.profile.numa_nodes, self.memory, strict=True)]


def usage(ctx: Ctx) -> HostUsage:
    count = len(ctx.profile.numa_nodes)
    stored = ctx.txn.meta(USAGE_KEY) or {}
    memory = stored.get("memory") if isinstance(stored, dict) else None
    processors = stored.get("processors") if isinstance(stored, dict) else None
    if not isinstance(memory, list) or len(memory) != count:
        memory = [0] * count
    if not isinstance(processors, list) or len(processors) != count:
        processors = [0] * count
    return HostUsage(memory, processors)


def numa_placement(ctx: Ctx, vm: Vm) -> Placement:
    """The default placer: the policy above, or Refused(32778) naming why not."""
    demand = demand_of(ctx, vm)
    try:
        return place(usage(ctx).free(ctx), demand, spanning=spanning_enabled(ctx))
    except NoRoom as reason:
        total = sum(v.memory_mb for v in demand)
        raise Refused(
            OUT_OF_MEMORY,
            f"Not enough memory in the system to start {vm.describe()} with {total} MB of "
            f"memory: {reason}.",
            affected=[vm.cs], subject=f"'{vm.name}' failed to start.",
        ) from None


Placer = Callable[[Ctx, Vm], Placement]
_placer: list[Placer] = [numa_placement]


def set_memory_placement(placer: Placer) -> Placer:
    """Replace the placement policy (returns the one it replaces, to put it back)."""
    previous = _placer[0]
    _placer[0] = placer
    return previous


# -- holding and releasing ------------------------------------------------------------


def hold(ctx: Ctx, vm: Vm) -> Placement:
    """A VM starts: place it (or refuse), take its memory and processors from the nodes."""
    placement = _placer[0](ctx, vm)
    held = usage(ctx)
    for vnode in placement:
        for node, megabytes in vnode.memory.items():
            held.memory[node] += megabytes
        held.processors[vnode.home] += vnode.processors
    _account(ctx, held)
    by_node: dict[str, int] = {}
    for vnode in placement:
        for node, megabytes in vnode.memory.items():
            by_node[str(node)] = by_node.get(str(node), 0) + megabytes
    aux = ctx.aux(vm.cs)
    aux["placement"] = by_node
    aux["numa"] = [{"memory": {str(k): v for k, v in p.memory.items()},
                    "processors": p.processors, "home": p.home} for p in placement]
    ctx.set_aux(vm.cs, aux)
    vm.cs["NumberOfNumaNodes"] = len(placement)
    return placement


def release(ctx: Ctx, vm: Vm) -> None:
    """A VM stops running (off or saved): give back what it held."""
    aux = ctx.aux(vm.cs)
    vnodes = aux.pop("numa", None)
    aux.pop("placement", None)
    if not vnodes:
        return
    ctx.set_aux(vm.cs, aux)
    held = usage(ctx)
    for vnode in vnodes:
        for node, megabytes in vnode["memory"].items():
            held.memory[int(node)] = max(0, held.memory[int(node)] - int(megabytes))
        home = int(vnode["home"])
        held.processors[home] = max(0, held.processors[home] - int(vnode["processors"]))
    _account(ctx, held)


def placement_of(ctx: Ctx, vm: Vm) -> list[dict[str, Any]]:
    """Where a running VM's virtual nodes are (empty when it holds nothing)."""
    return list(ctx.aux(vm.cs).get("numa") or [])


def forget_all(ctx: Ctx) -> None:
    """Every VM stopped at once (a host restart): nothing is held any more."""
    count = len(ctx.profile.numa_nodes)
    _account(ctx, HostUsage([0] * count, [0] * count))


def _account(ctx: Ctx, held: HostUsage) -> None:
    ctx.txn.set_meta(USAGE_KEY, {"memory": held.memory, "processors": held.processors})
    free = held.free(ctx)
    for number, node_free in enumerate(free):
        for numa in ctx.query("Msvm_NumaNode",
                              hint=("eq", "NodeID", f"Microsoft:PhysicalNode\\{number}")):
            ctx.set(numa, CurrentlyConsumableMemoryBlocks=node_free,
                    CurrentlyAssignedVirtualProcessors=held.processors[number])
            ctx.save(numa)
        for memory in ctx.query("Msvm_Memory",
                                hint=("eq", "DeviceID", f"{HOST_MEMORY_ID}\\{number}")):
            memory["ConsumableBlocks"] = node_free
            ctx.save(memory)
    for pool in ctx.query("Msvm_ResourcePool",
                          hint=("eq", "InstanceID", f"Microsoft:{catalog.MEMORY.template_id}")):
        pool["CurrentlyConsumedResource"] = sum(held.memory)
        ctx.save(pool)
    if ctx.has_class("Win32_OperatingSystem", NS_CIMV2):
        free_kb = sum(free) * 1024
        for system in ctx.query("Win32_OperatingSystem", NS_CIMV2):
            system["FreePhysicalMemory"] = free_kb
            system["FreeVirtualMemory"] = free_kb
            ctx.save(system)


def resize(ctx: Ctx, vm: Vm, megabytes: int) -> None:
    """A running VM's static memory changes to `megabytes`: take or give back the difference."""
    aux = ctx.aux(vm.cs)
    vnodes = aux.get("numa") or []
    if not vnodes:
        return
    held = usage(ctx)
    current = sum(int(mb) for vnode in vnodes for mb in vnode["memory"].values())
    delta = megabytes - current
    last = vnodes[-1]["memory"]
    if delta < 0:  # remote memory goes back first: what stays is local to its home node
        home = str(vnodes[-1]["home"])
        for node in sorted(last, key=lambda n: (n == home, -int(last[n]))):
            give = min(int(last[node]), -delta)
            last[node] = int(last[node]) - give
            held.memory[int(node)] -= give
            delta += give
        vnodes[-1]["memory"] = {n: mb for n, mb in last.items() if mb > 0}
    elif delta > 0:
        free = held.free(ctx)
        mine = {int(n) for vnode in vnodes for n in vnode["memory"]}
        others = [] if not spanning_enabled(ctx) else [n for n in range(len(free))
                                                       if n not in mine]
        order = sorted(mine, key=lambda n: (-free[n], n)) + sorted(others,
                                                                  key=lambda n: (-free[n], n))
        if sum(free[n] for n in order) < delta:
            where = "the host has" if spanning_enabled(ctx) else (
                "NUMA spanning is disabled and the nodes it is on have")
            raise Refused(
                OUT_OF_MEMORY,
                f"Not enough memory to grow {vm.describe()} from {current} MB to {megabytes} "
                f"MB: it needs {delta} MB more and {where} {sum(free[n] for n in order)} MB "
                f"free ({_describe(free)}).",
                affected=[vm.cs], subject=f"'{vm.name}'")
        for node in order:
            take = min(free[node], delta)
            if take > 0:
                last[str(node)] = int(last.get(str(node), 0)) + take
                held.memory[node] += take
                delta -= take
    by_node: dict[str, int] = {}
    for vnode in vnodes:
        for node, mb in vnode["memory"].items():
            by_node[str(node)] = by_node.get(str(node), 0) + int(mb)
    aux["numa"], aux["placement"] = vnodes, by_node
    ctx.set_aux(vm.cs, aux)
    _account(ctx, held)


def _resized(ctx: Ctx, vm: Vm, memory: Instance, changed: set[str]) -> None:
    if "virtualquantity" in changed and vm.state in (RUNNING, PAUSED):
        resize(ctx, vm, int(memory["VirtualQuantity"]))


# After the memory rules are final (nesting refines them), follow them.
importlib.import_module("hyperv_emulator.providers.nesting")
after_modify(catalog.MEMORY, _resized)
