"""vNUMA from hw:numa_nodes / hw:numa_cpus.N / hw:numa_mem.N (or the image's hw_numa_*).

Parsed here rather than by Nova's helpers, so the rules stay importable without Nova.
Hyper-V describes a VM's vNUMA topology by one processor count and one memory size per
node, so only symmetric topologies can be built: an uneven cell is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import HostFacts
from nova_hyperv.rules.plan import NumaPlan
from nova_hyperv.rules.request import Flavor, Image
from nova_hyperv.rules.values import Spot, to_int, whole

__all__ = ["numa_topology", "parse_cpu_spec"]


@dataclass(frozen=True)
class _Namespace:
    source: str
    nodes_key: str
    cell_pattern: re.Pattern[str]
    cpus_key: str  # format with the cell index
    mem_key: str


FLAVOR = _Namespace(
    "flavor extra spec", "hw:numa_nodes", re.compile(r"^hw:numa_(cpus|mem)(?:\.(.*))?$", re.S),
    "hw:numa_cpus.{}", "hw:numa_mem.{}",
)
IMAGE = _Namespace(
    "image property", "hw_numa_nodes", re.compile(r"^hw_numa_(cpus|mem)(?:\.(.*))?$", re.S),
    "hw_numa_cpus.{}", "hw_numa_mem.{}",
)
_CPU_ALLOWED = "a list of vCPU numbers and ranges such as 0-3,^2,6"


def parse_cpu_spec(spec: object, vcpus: int, spot: Spot) -> frozenset[int]:
    """Nova's CPU list syntax: `0-3,^2,6` (ranges, exclusions with ^), ids below vcpus."""
    if not isinstance(spec, str):
        raise spot.fail(spec, "must be text")
    chosen: set[int] = set()
    excluded: set[int] = set()

    def cpu(token: str) -> int:
        token = token.strip()
        if not re.fullmatch(r"[0-9]{1,9}", token):
            raise spot.fail(spec, f"{token!r} is not a vCPU number")
        return int(token)

    for part in spec.split(","):
        rule = part.strip()
        if not rule:
            continue
        reject = rule.startswith("^")
        body = rule[1:] if reject else rule
        if "-" in body:
            low_text, high_text = body.split("-", 1)
            low, high = cpu(low_text), cpu(high_text)
            if low > high:
                raise spot.fail(spec, f"range {rule!r} runs backwards")
            span = range(low, min(high, vcpus) + 1) if reject else range(low, high + 1)
        else:
            span = range(cpu(body), cpu(body) + 1)
        target = excluded if reject else chosen
        for number in span:
            if not reject and number >= vcpus:
                raise spot.fail(
                    spec, f"vCPU {number} does not exist: the flavor has {vcpus} (0-{vcpus - 1})"
                )
            target.add(number)
    result = frozenset(chosen - excluded)
    if not result:
        raise spot.fail(spec, "names no vCPU")
    return result


_Cells = dict[tuple[str, str], tuple[str, object]]


def _cells(specs: Mapping[str, object], ns: _Namespace) -> _Cells:
    """{("cpus"|"mem", index text): (key, value)} for every cell key present."""
    found: _Cells = {}
    for key, value in specs.items():
        if not isinstance(key, str):
            continue
        match = ns.cell_pattern.match(key)
        if match:
            found[(match.group(1), match.group(2) or "")] = (key, value)
    return found


def _nodes(specs: Mapping[str, object], ns: _Namespace, vcpus: int) -> int | None:
    spot = Spot(ns.source, ns.nodes_key, "numa-nodes-invalid",
                f"a whole number from 1 to the flavor's vCPU count ({vcpus})")
    return whole(specs, spot, minimum=1, maximum=vcpus)


def numa_topology(flavor: Flavor, image: Image, host: HostFacts) -> NumaPlan | None:
    vcpus, memory = flavor.vcpus, flavor.memory_mb
    flavor_nodes = _nodes(flavor.extra_specs, FLAVOR, vcpus)
    image_nodes = _nodes(image.properties, IMAGE, vcpus)
    if flavor_nodes is not None and image_nodes is not None and flavor_nodes != image_nodes:
        raise RuleViolation(
            "numa-image-conflicts-with-flavor", IMAGE.nodes_key, image_nodes,
            f"unset, or {flavor_nodes} as the flavor's hw:numa_nodes says",
            "an image may not override the flavor's vNUMA node count",
            source=IMAGE.source,
        )
    flavor_cells, image_cells = _cells(flavor.extra_specs, FLAVOR), _cells(image.properties, IMAGE)
    if flavor_cells and image_cells:
        key, value = next(iter(image_cells.values()))
        raise RuleViolation(
            "numa-image-conflicts-with-flavor", key, value,
            "explicit vNUMA cells in the flavor or in the image, not in both",
            "an image may not override the flavor's vNUMA cells", source=IMAGE.source,
        )
    ns, cells = (IMAGE, image_cells) if image_cells else (FLAVOR, flavor_cells)
    nodes = flavor_nodes if flavor_nodes is not None else image_nodes
    if nodes is None:
        if cells:
            key, value = next(iter(cells.values()))
            raise RuleViolation(
                "numa-topology-incomplete", key, value, f"only together with {ns.nodes_key}",
                "vNUMA cells need the number of nodes", source=ns.source,
            )
        return None
    if cells:
        cpus_per_node, memory_per_node = _explicit_cells(cells, ns, nodes, vcpus, memory)
    else:
        for amount, what in ((vcpus, "vCPUs"), (memory, "MB of memory")):
            if amount % nodes:
                raise RuleViolation(
                    "numa-asymmetric", ns.nodes_key, nodes,
                    f"a node count that divides both {vcpus} vCPUs and {memory} MB",
                    f"{amount} {what} cannot be split evenly over {nodes} nodes, and Hyper-V "
                    "supports only symmetric vNUMA topologies", source=ns.source,
                )
        cpus_per_node, memory_per_node = vcpus // nodes, memory // nodes
    largest = max((n.memory_mb for n in host.numa_nodes), default=0)
    if memory_per_node > largest:
        raise RuleViolation(
            "numa-node-exceeds-host", ns.nodes_key, nodes,
            f"vNUMA nodes of at most {largest} MB (the host's largest NUMA node)",
            f"each vNUMA node would have {memory_per_node} MB, more than any NUMA node "
            "of this host holds", source=ns.source,
        )
    return NumaPlan(nodes=nodes, cpus_per_node=cpus_per_node, memory_mb_per_node=memory_per_node)


def _explicit_cells(
    cells: _Cells,
    ns: _Namespace,
    nodes: int,
    vcpus: int,
    memory: int,
) -> tuple[int, int]:
    cpus: dict[int, frozenset[int]] = {}
    cpu_specs: dict[int, object] = {}
    mems: dict[int, int] = {}
    for (kind, index_text), (key, value) in sorted(cells.items()):
        if not re.fullmatch(r"[0-9]{1,6}", index_text) or int(index_text) >= nodes:
            raise RuleViolation(
                "numa-cell-invalid", key, value,
                f"cells {ns.cpus_key.format('N')} / {ns.mem_key.format('N')} with N from 0 "
                f"to {nodes - 1}",
                f"there is no vNUMA node {index_text} among {nodes}" if index_text
                else "names no vNUMA node (the key needs a .N suffix)",
                source=ns.source,
            )
        index = int(index_text)
        if index in (cpus if kind == "cpus" else mems):
            raise RuleViolation(
                "numa-cell-invalid", key, value, "each cell once",
                f"vNUMA node {index} is given twice", source=ns.source,
            )
        if kind == "cpus":
            spot = Spot(ns.source, key, "numa-cpus-invalid", _CPU_ALLOWED)
            cpus[index] = parse_cpu_spec(value, vcpus, spot)
            cpu_specs[index] = value
        else:
            spot = Spot(ns.source, key, "numa-memory-invalid", "a whole number of MB >= 1")
            mems[index] = to_int(value, spot, minimum=1)
    for index in range(nodes):
        for table, template in ((cpus, ns.cpus_key), (mems, ns.mem_key)):
            if index not in table:
                raise RuleViolation(
                    "numa-topology-incomplete", template.format(index), None,
                    f"both {ns.cpus_key.format('N')} and {ns.mem_key.format('N')} for every "
                    f"node 0 to {nodes - 1}", "explicit vNUMA cells must describe every node",
                    source=ns.source,
                )
    seen: set[int] = set()
    for index in range(nodes):
        overlap = seen & cpus[index]
        if overlap:
            raise RuleViolation(
                "numa-cpus-invalid", ns.cpus_key.format(index), cpu_specs[index],
                "each vCPU in exactly one node",
                f"vCPU {min(overlap)} is already in another node", source=ns.source,
            )
        seen |= cpus[index]
    missing = set(range(vcpus)) - seen
    if missing:
        raise RuleViolation(
            "numa-cpus-invalid", ns.cpus_key.format(0), None, f"every vCPU 0-{vcpus - 1} in a node",
            f"vCPU {min(missing)} is in no node", source=ns.source,
        )
    if sum(mems.values()) != memory:
        raise RuleViolation(
            "numa-memory-invalid", ns.mem_key.format(0), mems[0],
            f"node sizes adding up to the flavor's {memory} MB",
            f"the nodes add up to {sum(mems.values())} MB", source=ns.source,
        )
    for index in range(1, nodes):
        if len(cpus[index]) != len(cpus[0]):
            raise RuleViolation(
                "numa-asymmetric", ns.cpus_key.format(index), len(cpus[index]),
                f"{len(cpus[0])} vCPUs, as node 0 has",
                f"node {index} has {len(cpus[index])} vCPUs and node 0 has {len(cpus[0])}; "
                "Hyper-V supports only symmetric vNUMA topologies", source=ns.source,
            )
        if mems[index] != mems[0]:
            raise RuleViolation(
                "numa-asymmetric", ns.mem_key.format(index), mems[index],
                f"{mems[0]} MB, as node 0 has",
                f"node {index} has {mems[index]} MB and node 0 has {mems[0]} MB; "
                "Hyper-V supports only symmetric vNUMA topologies", source=ns.source,
            )
    return len(cpus[0]), mems[0]
