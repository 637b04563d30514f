"""Property: any request gives a plan or one RuleViolation, never another exception.

Requests mix the keys and values the rules know with arbitrary ones, of any type, so
both the rules' deep paths and their input checks are exercised. Plans that come out
must also be internally consistent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nova_hyperv.rules import (
    CODES,
    BlockDevices,
    Ephemeral,
    Flavor,
    HyperVConfig,
    Image,
    Instance,
    InstanceRequest,
    PciRequest,
    RuleViolation,
    Vif,
    VmPlan,
    Volume,
    plan_instance,
)

from .builders import UUID, WS2012, WS2012R2, WS2016, WS2019, WS2022, make_host

FLAVOR_KEYS = [
    "os:secure_boot", "hw:numa_nodes", "hw:numa_cpus.0", "hw:numa_cpus.1", "hw:numa_mem.0",
    "hw:numa_mem.1", "hw:numa_cpus", "hw:cpu_features", "quota:disk_total_iops_sec",
    "quota:disk_total_bytes_sec", "os:resolution", "os:monitors", "os:vram",
    "pci_passthrough:alias",
]
IMAGE_KEYS = [
    "hw_machine_type", "os_secure_boot", "os_type", "os_vtpm", "os_shielded_vm",
    "img_pdk_reference", "hw_numa_nodes", "hw_numa_cpus.0", "hw_numa_cpus.1", "hw_numa_mem.0",
    "hw_numa_mem.1", "hw_cpu_features", "interactive_serial_port", "logging_serial_port",
]
METADATA_KEYS = ["img_pdk_reference", "fsk:ComputerName", "fsk:Domain", "fsk:", "fsk:a b"]
WORDS = [
    "required", "optional", "disabled", "windows", "linux", "Windows", "hyperv-gen1",
    "hyperv-gen2", "vmx", "VMX, sse", "0", "1", "2", "3", "-1", "0-1", "^0", "0,1", "1-0",
    "1920x1200", "3840x2160", "1024", "256", "2048", "1024x768", "", " ", "server-1", "x",
    "8192", "99999999999999999999",
]
HOSTS = [
    WS2012, WS2012R2, WS2016, WS2019, WS2022,
    make_host((10, 0, 14393), remotefx=True, guarded=True, pci=(("10de", "13f2", True),)),
    make_host(guarded=True, clustered=True, numa=((2048, 2),)),
]

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
    st.text(max_size=12), st.sampled_from(WORDS), st.lists(st.integers(), max_size=2),
)
values = st.one_of(st.sampled_from(WORDS), anything)


def mapping(keys: list[str]) -> st.SearchStrategy[dict[Any, Any]]:
    key = st.one_of(st.sampled_from(keys), st.text(max_size=12))
    return st.dictionaries(key, values, max_size=6)




def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A good value or, now and then, anything at all."""
    return st.one_of(good, anything)


# Arbitrary extra specs and image properties on an otherwise sound request.
flavors = st.builds(
    Flavor,
    vcpus=st.integers(1, 8),
    memory_mb=st.sampled_from([512, 2048, 4096, 8192, "4096"]),
    root_gb=st.integers(0, 60),
    ephemeral_gb=st.integers(0, 5),
    swap_mb=st.sampled_from([0, 64, 1024]),
    extra_specs=mapping(FLAVOR_KEYS),
)
formats = st.sampled_from(["vhd", "vhdx", "iso", "VHDX", "qcow2", None])
images = st.builds(
    Image,
    id=st.just("img"),
    disk_format=formats,
    properties=mapping(IMAGE_KEYS),
    file_format=formats,
    virtual_size=st.one_of(st.none(), st.integers(-1, 70 * 2**30)),
    block_size=st.one_of(st.none(), st.sampled_from([2**20, 2**21, 2**25, 3 * 2**20])),
    file_fixed=st.booleans(),
)
instances = st.builds(
    Instance, uuid=st.just(UUID), name=st.just("instance-1"), hostname=st.just("server-1"),
    metadata=mapping(METADATA_KEYS),
)
buses = mostly(st.sampled_from([None, "ide", "SCSI ", "virtio", ""]))
indexes = mostly(st.one_of(st.none(), st.integers(-2, 5)))
volumes = st.builds(
    Volume,
    volume_id=mostly(st.sampled_from(["v1", "v2", "v3"])),
    connection_type=mostly(st.sampled_from(["iscsi", "smbfs", "fibre_channel", "nfs"])),
    bus=buses,
    boot_index=indexes,
    tag=mostly(st.one_of(st.none(), st.text(max_size=4))),
    device_type=mostly(st.sampled_from([None, "disk", "cdrom"])),
    qos_specs=mapping(["total_iops_sec", "total_bytes_sec"]),
)
ephemerals = st.builds(Ephemeral, size_gb=mostly(st.integers(-1, 3)), bus=buses,
                       boot_index=indexes, tag=mostly(st.none()), device_type=mostly(st.none()))
vifs = st.builds(
    Vif,
    id=mostly(st.sampled_from(["p1", "p2"])),
    mac=mostly(st.sampled_from(["fa:16:3e:00:00:01", "FA-16-3E-00-00-02", "01:00:00:00:00:00"])),
    tag=mostly(st.none()),
)
pci = st.builds(
    PciRequest,
    vendor_id=mostly(st.sampled_from(["10de", "10DE", "zzzz"])),
    product_id=mostly(st.sampled_from(["13f2", "13F2"])),
    count=mostly(st.integers(-1, 3)),
)


def requests(
    flavor: st.SearchStrategy[Flavor] = flavors,
    instance: st.SearchStrategy[Instance] = instances,
) -> st.SearchStrategy[InstanceRequest]:
    return st.builds(
        InstanceRequest,
        flavor=flavor,
        image=images,
        instance=instance,
        block_devices=st.builds(
            BlockDevices,
            root_volume=st.one_of(st.none(), volumes),
            ephemerals=st.lists(ephemerals, max_size=3).map(tuple),
            volumes=st.lists(volumes, max_size=3).map(tuple),
        ),
        vifs=st.lists(vifs, max_size=3).map(tuple),
        pci_requests=st.lists(pci, max_size=2).map(tuple),
        config_drive=st.booleans(),
    )


configs = st.builds(
    HyperVConfig,
    dynamic_memory_ratio=st.sampled_from([1.0, 2.0, 1.5, "2"]),
    enable_remotefx=st.booleans(),
    limit_cpu_features=st.booleans(),
    instance_automatic_shutdown=st.booleans(),
    config_drive_cdrom=st.booleans(),
)
# ... and the request's own fields of any type at all.
any_flavors = st.builds(Flavor, vcpus=anything, memory_mb=anything, root_gb=anything,
                        ephemeral_gb=anything, swap_mb=anything, extra_specs=mapping(FLAVOR_KEYS))
any_instances = st.builds(Instance, uuid=anything, name=anything, hostname=anything,
                          metadata=mapping(METADATA_KEYS))
any_configs = st.builds(HyperVConfig, dynamic_memory_ratio=anything, enable_remotefx=anything,
                        limit_cpu_features=anything, instance_automatic_shutdown=anything,
                        config_drive_cdrom=anything)


def check_plan(vm: VmPlan) -> None:
    places = Counter((d.bus, d.controller, d.slot) for d in vm.disks)
    assert all(n == 1 for n in places.values()), places
    if vm.generation == 2:
        assert all(d.bus == "scsi" for d in vm.disks)
        names = {d.name for d in vm.disks} | {n.name for n in vm.nics}
        assert set(vm.boot_order) <= names
    mem = vm.memory
    assert mem.minimum_mb <= mem.startup_mb <= mem.maximum_mb
    assert mem.startup_mb % 2 == 0
    assert "rw" in {p.mode for p in vm.serial_ports}
    assert vm.secure_boot.enabled or not vm.vtpm.enabled
    if vm.numa or vm.processors.nested_virtualization or vm.pci_devices:
        assert not mem.dynamic


def plan_or_refusal(request: InstanceRequest, host: Any, config: HyperVConfig | None) -> None:
    try:
        vm = plan_instance(request, host, config)
    except RuleViolation as error:
        assert error.code in CODES
        assert error.field and error.field in error.message
        return
    check_plan(vm)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests(), host=st.sampled_from(HOSTS), config=st.one_of(st.none(), configs))
def test_arbitrary_specs_and_properties_plan_or_are_refused(
    request: InstanceRequest, host: Any, config: HyperVConfig | None
) -> None:
    plan_or_refusal(request, host, config)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests(any_flavors, any_instances), host=st.sampled_from(HOSTS),
       config=st.one_of(st.none(), any_configs))
def test_arbitrary_request_fields_plan_or_are_refused(
    request: InstanceRequest, host: Any, config: HyperVConfig | None
) -> None:
    plan_or_refusal(request, host, config)


# Mostly well-formed requests, so that planning often succeeds and the plan checks run.
good_specs = st.dictionaries(st.sampled_from(FLAVOR_KEYS), st.sampled_from(WORDS), max_size=4)
good_props = st.dictionaries(st.sampled_from(IMAGE_KEYS), st.sampled_from(WORDS), max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    vcpus=st.integers(1, 8), memory=st.sampled_from([512, 2048, 4096]),
    root_gb=st.integers(0, 50), ephemeral_gb=st.integers(0, 3), swap=st.sampled_from([0, 64]),
    specs=good_specs, props=good_props, disk_format=st.sampled_from(["vhd", "vhdx", "iso"]),
    n_volumes=st.integers(0, 3), config_drive=st.booleans(), host=st.sampled_from(HOSTS),
    ratio=st.sampled_from([1.0, 2.0]),
)
def test_plausible_requests_give_consistent_plans(
    vcpus: int, memory: int, root_gb: int, ephemeral_gb: int, swap: int,
    specs: dict[str, str], props: dict[str, str], disk_format: str, n_volumes: int,
    config_drive: bool, host: Any, ratio: float,
) -> None:
    request = InstanceRequest(
        flavor=Flavor(vcpus, memory, root_gb, ephemeral_gb, swap, specs),
        image=Image(disk_format=disk_format, properties=props),
        instance=Instance(UUID, "instance-1", "server-1"),
        block_devices=BlockDevices(volumes=tuple(Volume(f"v{i}") for i in range(n_volumes))),
        vifs=(Vif("p1", "fa:16:3e:00:00:01"),),
        config_drive=config_drive,
    )
    config = HyperVConfig(dynamic_memory_ratio=ratio, enable_remotefx=True)
    try:
        vm = plan_instance(request, host, config)
    except RuleViolation as error:
        assert error.code in CODES
        return
    check_plan(vm)
    assert vm.processors.count == vcpus
    assert len(vm.disks) == (1 + (ephemeral_gb > 0) + (swap > 0) + n_volumes + config_drive)
