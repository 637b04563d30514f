"""Our driver's column: the same operations as real calls of nova-hyperv's HyperVDriver.

Each method is one Nova driver call, with the objects nova's compute manager would pass:
an `Instance` (with the flavor, the image's properties in its system metadata as the
API copies them, and its NUMA / PCI fields; put in nova's database before the first
volume attach, whose device metadata the driver saves), `ImageMeta`,
`block_device_info` (ephemerals; the volume's BDM with Cinder's iSCSI connection info)
and a `NetworkInfo` of `hyperv` VIFs, a nova `RequestContext` over a SQLite nova database
of this run (the driver reads BDM and VirtualInterface tags there and saves device
metadata, as in nova-compute). The driver talks to the emulated host through
`[hyperv] host_uri = emulated://<host.path>`: one CimSession, whose emulator `Counters`
the runner reads, so every round trip the driver makes is counted and none is made
elsewhere.

Like the os-win column, the driver is warmed before anything is counted the way a
running nova-compute is: `init_host` and the instance listing nova-compute's start makes
(which finds the management service), one resource-tracker pass
(get_available_resource, update_provider_tree), the vSwitch looked up once (it is
cached per process) and the volume connector read once (the host's initiator ports are
kept for 10 minutes). Disk work is not counted on either side: the image is already in
the driver's cache (`instances_path/_base`, as after the first boot from it) and the
driver makes the root (a differencing child of it), ephemeral disks and swap with
vhdfile.

Volumes are iSCSI LUNs the emulated SAN offers (`host.storage`, Cinder's side, not
counted); the driver discovers the portal, logs in and finds the host disk over CIM,
counted. Neutron's port-security answer comes from a stand-in (Neutron's default).

This module runs in its own process (bench/worker.py), in nova's threading mode: nova
is imported in `create`, never at import time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.flows import Flows, InstanceSpec, Nic, Volume
from hyperv_emulator.counters import Counters
from hyperv_emulator.host import Host

LABEL = "nova-hyperv"
NODE = "bench-compute"
GiB = 1 << 30
ISCSI_PORTAL = "10.0.0.5:3260"  # the Cinder backend's portal (the SAN side of the host)

NOTES = [
    "nova-hyperv: HyperVDriver's own calls, with the objects nova's compute manager passes"
    " (an Instance, ImageMeta, block_device_info, NetworkInfo, a RequestContext over a"
    " nova database); warmed like a running nova-compute (init_host and its instance"
    " listing, one resource-tracker pass, the vSwitch looked up once, the volume connector"
    " read once).",
    "nova-hyperv: the volumes are iSCSI LUNs; connecting them is the driver's own CIM"
    " work and counted: the target's sessions, portal discovery, login, the session's"
    " disks, the host drive (5 of the full spawn's round trips and of attach's), the"
    " sessions, disks and host drive again at power on (3: a reboot renumbers disks),"
    " logout at detach and destroy (4). For compute-hyperv os-brick did that through"
    " iscsidsc.dll (not WMI, not counted): os-win's column holds only its host-drive"
    " lookups.",
    "nova-hyperv: disk files are vhdfile's work, not counted (the image is in the driver's"
    " cache; it makes the root as a differencing child, and the ephemerals).",
    "nova-hyperv: power off is Nova's clean stop (shutdown_timeout 60 s, retry 10 s); the"
    " emulated guest is off when InitiateShutdown returns.",
    "nova-hyperv: update_provider_tree re-reads nothing (it uses what get_available_resource"
    " read); the power-state sync reads one host-wide snapshot, whatever N.",
]


def create(host: Host, workdir: Path) -> Flows:
    return OursFlows(host, workdir)


def _threading_mode() -> None:
    """nova 34's threading mode (what its nova-compute runs), before nova is imported."""
    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    from nova import monkey_patch

    monkey_patch.patch()


class _Neutron:
    """Neutron's answer to the driver's one port-security read per operation: the
    bench's ports keep Neutron's default (port security on). Neutron is not the Hyper-V
    host: nothing it answers is counted, on either side."""

    def list_ports(self, id: Sequence[str], fields: Sequence[str]) -> dict[str, Any]:
        return {"ports": [{"id": port, "port_security_enabled": True} for port in id]}


def _neutron_stand_in() -> None:
    from nova.network import neutron

    neutron.get_client = lambda context, admin=False: _Neutron()


class OursFlows:
    """HyperVDriver on one emulated host, as one nova-compute holds it."""

    label = LABEL

    def __init__(self, host: Host, workdir: Path) -> None:
        _threading_mode()
        import nova.conf
        from nova import context, objects
        from nova.db import migration

        from nova_hyperv import conf as hyperv_conf
        from nova_hyperv.driver import HyperVDriver

        self.notes = list(NOTES)
        self.workdir = workdir
        conf = nova.conf.CONF
        conf([], project="nova", default_config_files=[])
        hyperv_conf.register_opts(conf)
        workdir.mkdir(parents=True, exist_ok=True)
        self.instances_path = workdir / "ours-instances"
        shutil.rmtree(self.instances_path, ignore_errors=True)  # a fresh compute's folder
        database = workdir / "ours-nova.sqlite"
        database.unlink(missing_ok=True)
        for group, options in {
            None: {"instances_path": str(self.instances_path), "state_path": str(workdir),
                   # The scenario's VM names: nova's name template may name any field.
                   "instance_name_template": "%(display_name)s"},
            "hyperv": {"host_uri": f"emulated://{host.path}"},
            # nova's database is another service's work: no fsync per commit.
            "database": {"connection": f"sqlite:///{database}", "sqlite_synchronous": False},
            "oslo_concurrency": {"lock_path": str(workdir / "ours-locks")},
        }.items():
            for key, value in options.items():
                conf.set_override(key, value, group=group)
        objects.register_all()
        _neutron_stand_in()
        migration.db_sync(database="main")
        self.context = context.get_admin_context()
        self.conf = conf
        self.driver = HyperVDriver(virtapi=None)
        self._host = host
        self._luns: set[str] = set()  # the volumes whose LUN the SAN offers
        self._instances: dict[str, Any] = {}
        self._in_db: set[str] = set()  # the instances with a row in nova's database
        self._warm()

    def _warm(self) -> None:
        from nova.compute import provider_tree

        self.driver.init_host(NODE)
        # nova-compute's init_host lists the driver's instances (_get_instances_on_driver).
        self.driver.list_instance_uuids()
        self.nodename = self.driver.get_available_nodes()[0]
        self.driver.get_available_resource(self.nodename)
        self._tree = provider_tree.ProviderTree()
        self._tree.new_root(self.nodename, "6f3c0a52-5f4e-4d6b-9b0a-6a3e0c1d0001")
        self.driver.update_provider_tree(self._tree, self.nodename)
        # The vSwitch is read once per driver process, at the first spawn with NICs.
        self.driver._host.client.switch(self.conf.hyperv.vswitch_name)
        # The host's initiator ports (iSCSI name, FC HBA ports), which the driver keeps
        # for 10 minutes, as after the first volume attach of a running nova-compute.
        self.driver.get_volume_connector(None)
        # nova's database layer, warm in a running nova-compute (SQLAlchemy maps its
        # models at the first query: about 0.1 s, which the first spawn would carry).
        from nova import objects

        unknown = "00000000-0000-4000-8000-000000000000"
        objects.VirtualInterfaceList.get_by_instance_uuid(self.context, unknown)
        objects.BlockDeviceMappingList.get_by_instance_uuid(self.context, unknown)

    @property
    def counters(self) -> Counters:
        # The one emulator session every CIM call of the driver goes through.
        return self.driver._host.client.session.counters

    def close(self) -> None:
        self.driver._host.client.session.close()

    # -- nova's objects for a spec -----------------------------------------------------

    def _flavor(self, spec: InstanceSpec) -> Any:
        from nova import objects

        specs = {}
        if spec.numa_nodes:
            specs["hw:numa_nodes"] = str(spec.numa_nodes)
        if spec.secure_boot_template:
            specs["os:secure_boot"] = "required"
        if spec.nested_virtualization:
            specs["hw:cpu_features"] = "vmx"
        if spec.disk_iops:
            specs["quota:disk_total_iops_sec"] = str(spec.disk_iops)
        return objects.Flavor(
            id=1, flavorid="bench", name=f"bench-{spec.name}", memory_mb=spec.memory_mb,
            vcpus=spec.vcpus, root_gb=2, ephemeral_gb=len(spec.ephemerals), swap=0,
            rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True,
            extra_specs=specs, projects=[], description=None)

    def _image(self, spec: InstanceSpec) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "hw_machine_type": f"hyperv-gen{spec.generation}",
            "os_type": "linux",
        }
        if spec.secure_boot_template:
            properties["os_secure_boot"] = "required"
        kinds = {kind: port for port, kind in spec.serial_ports.items()}
        if "rw" in kinds:
            properties["interactive_serial_port"] = str(kinds["rw"])
        if "ro" in kinds:
            properties["logging_serial_port"] = str(kinds["ro"])
        fmt = spec.root.suffix.lstrip(".")
        image_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-image-{fmt}-gen{spec.generation}"))
        return {"id": image_id, "name": spec.root.name,
                "disk_format": fmt, "container_format": "bare", "size": 0,
                "min_disk": 0, "min_ram": 0, "status": "active", "properties": properties}

    def _cache_image(self, image: Mapping[str, Any], root: Path) -> None:
        """The image in the driver's cache, as the first boot from it leaves it."""
        base = self.instances_path / "_base"
        base.mkdir(parents=True, exist_ok=True)
        cached = base / f"{image['id']}.{image['disk_format']}"
        if not cached.exists():
            shutil.copyfile(root, cached)

    def instance(self, spec: InstanceSpec) -> Any:
        """The Instance nova's compute manager holds for `spec` (made once per spec)."""
        found = self._instances.get(spec.uuid)
        if found is not None:
            return found
        from nova import objects, utils

        flavor = self._flavor(spec)
        image = self._image(spec)
        # An id, as every instance nova-compute is handed has (its name needs one).
        instance = objects.Instance(
            context=self.context, id=len(self._instances) + 1, uuid=spec.uuid,
            display_name=spec.name,
            hostname=spec.name, user_id="bench", project_id="bench", host=NODE,
            node=self.nodename, compute_id=1, flavor=flavor, image_ref=image["id"],
            root_gb=flavor.root_gb, ephemeral_gb=flavor.ephemeral_gb, vcpus=spec.vcpus,
            memory_mb=spec.memory_mb, power_state=1, vm_state="active", config_drive="",
            system_metadata=utils.get_system_metadata_from_image(image, flavor),
            metadata={}, pci_requests=objects.InstancePCIRequests(requests=[]),
            numa_topology=None, trusted_certs=None)
        self._instances[spec.uuid] = instance
        return instance

    def _network_info(self, nics: Sequence[Nic]) -> Any:
        from nova.network import model

        network = model.Network(id="9b6e1f3a-0000-4000-8000-000000000001", bridge=None,
                                label="private", subnets=[])
        return model.NetworkInfo([
            model.VIF(id=nic.port_id, address=nic.mac, network=network,
                      type=model.VIF_TYPE_HYPERV, active=True, vnic_type="normal")
            for nic in nics])

    def _block_device_info(self, spec: InstanceSpec) -> dict[str, Any]:
        ephemerals = [{"device_name": f"/dev/sd{chr(ord('b') + i)}", "size": 1, "num": i,
                       "guest_format": None, "disk_bus": None, "device_type": "disk"}
                      for i in range(len(spec.ephemerals))]
        return {"root_device_name": "/dev/sda", "ephemerals": ephemerals, "swap": None,
                "block_device_mapping": [self._volume_bdm(v) for v in spec.volumes]}

    def _volume_bdm(self, volume: Volume) -> dict[str, Any]:
        """The driver BDM nova's compute manager passes for `volume` (an iSCSI LUN)."""
        return {"connection_info": self._connection_info(volume),
                "mount_device": None, "boot_index": None, "disk_bus": None,
                "device_type": "disk", "guest_format": None,
                "delete_on_termination": False, "attachment_id": volume.serial}

    def _connection_info(self, volume: Volume) -> dict[str, Any]:
        """Cinder's connection info of `volume`: an iSCSI LUN the SAN offers the host.

        The LUN is Cinder's side (not the compute host's, not counted); offered once per
        volume. The driver discovers the portal, logs in and finds the host disk itself,
        over CIM: counted (os-brick did that for compute-hyperv through iscsidsc.dll,
        which is not WMI; see NOTES)."""
        iqn = f"iqn.2010-10.org.openstack:volume-{volume.serial}"
        if volume.serial not in self._luns:
            self._host.storage.add_iscsi_lun(iqn, 0, size=GiB, serial=volume.serial[:20],
                                             portal=ISCSI_PORTAL)
            self._luns.add(volume.serial)
        return {"driver_volume_type": "iscsi", "serial": volume.serial,
                "data": {"target_portal": ISCSI_PORTAL, "target_iqn": iqn, "target_lun": 0,
                         "target_discovered": False, "volume_id": volume.serial,
                         "access_mode": "rw", "qos_specs": None}}

    # -- the operations -----------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        from nova import objects

        instance = self.instance(spec)
        image = self._image(spec)
        self._cache_image(image, spec.root)
        block_device_info = self._block_device_info(spec)
        if spec.volumes:
            # nova's _prep_block_device asks for the connector before Cinder's export.
            self.driver.get_volume_connector(instance)
        self.driver.spawn(self.context, instance, objects.ImageMeta.from_dict(image),
                          injected_files=[], admin_password=None, allocations={},
                          network_info=self._network_info(spec.nics),
                          block_device_info=block_device_info)

    def destroy(self, spec: InstanceSpec) -> None:
        self.driver.destroy(self.context, self.instance(spec),
                            self._network_info(spec.nics), self._block_device_info(spec))

    def _in_database(self, instance: Any) -> None:
        """The instance's row in nova's database, where nova-compute's instances live:
        the driver saves device metadata after a volume attach or detach. Made only here
        (not for the scale hosts' thousand instances, nor inside a timed spawn)."""
        if instance.uuid in self._in_db:
            return
        del instance.id  # the database gives it
        instance.obj_reset_changes(["id"])
        instance.create()
        self._in_db.add(instance.uuid)

    def attach_volume(self, spec: InstanceSpec, volume: Volume) -> None:
        # nova's attach: the connector (for Cinder's export), then the driver's attach.
        instance = self.instance(spec)
        self._in_database(instance)
        self.driver.get_volume_connector(instance)
        self.driver.attach_volume(self.context, self._connection_info(volume), instance,
                                  mountpoint=None)

    def detach_volume(self, spec: InstanceSpec, volume: Volume) -> None:
        self.driver.detach_volume(self.context, self._connection_info(volume),
                                  self.instance(spec), mountpoint=None)

    def attach_nic(self, spec: InstanceSpec, nic: Nic) -> None:
        from nova import objects

        self.driver.attach_interface(self.context, self.instance(spec),
                                     objects.ImageMeta.from_dict(self._image(spec)),
                                     self._network_info([nic])[0])

    def detach_nic(self, spec: InstanceSpec, nic: Nic) -> None:
        self.driver.detach_interface(self.context, self.instance(spec),
                                     self._network_info([nic])[0])

    def power_off(self, spec: InstanceSpec) -> None:
        # Nova's clean stop: CONF.shutdown_timeout, CONF.compute.shutdown_retry_interval.
        self.driver.power_off(self.instance(spec), self.conf.shutdown_timeout,
                              self.conf.compute.shutdown_retry_interval)

    def power_on(self, spec: InstanceSpec) -> None:
        self.driver.power_on(self.context, self.instance(spec),
                             self._network_info(spec.nics), self._block_device_info(spec))

    def get_info(self, spec: InstanceSpec) -> str:
        # What the compute manager asks everywhere but the power-state sync.
        state = self.driver.get_info(self.instance(spec), use_cache=False).state
        return _STATE_NAMES.get(state, str(state))

    def list_instances(self) -> list[str]:
        return list(self.driver.list_instances())

    def get_available_resource(self) -> Mapping[str, object]:
        return dict(self.driver.get_available_resource(self.nodename))

    def update_provider_tree(self) -> Mapping[str, object]:
        self.driver.update_provider_tree(self._tree, self.nodename)
        return dict(self._tree.data(self.nodename).inventory)

    def sync_power_states(self, specs: Sequence[InstanceSpec]) -> Mapping[str, str]:
        # nova's _sync_power_states: get_num_instances(), then get_info (use_cache=True,
        # its default) for each instance of this host in nova's database.
        self.driver.get_num_instances()
        return {spec.name: _STATE_NAMES.get(
            self.driver.get_info(self.instance(spec)).state, "?") for spec in specs}


# nova.compute.power_state values -> the names the os-win column reports.
_STATE_NAMES = {0: "nostate", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed",
                7: "suspended"}
