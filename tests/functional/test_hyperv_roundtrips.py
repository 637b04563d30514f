"""CIM round trips per driver operation, through Nova's API (docs/driver.md quotes them).

Counts, not times: every query, get, method call and job poll is one round trip, and
the emulated host counts them per driver method. They are deterministic, so the figures
docs/driver.md gives are checked here; periodic tasks must not grow with the VM count.
A resize's steps run on two hosts, each counted by its own driver.
"""

from __future__ import annotations

from typing import Any

from nova import context
from nova.objects import instance as instance_obj
from tests.functional.cinder_volumes import VolumeMigrationTestCase, VolumesTestCase
from tests.functional.hyperv_base import HyperVTestCase, TwoHostsTestCase


class Counting:
    compute: Any

    def counts(self) -> dict[str, dict[str, int]]:
        return self.compute.manager.driver._host.client.session.counters.snapshot()

    def cost(self, before: dict[str, dict[str, int]], name: str) -> int:
        after = self.counts()
        return after.get(name, {}).get("total", 0) - before.get(name, {}).get("total", 0)


class RoundTripTest(Counting, HyperVTestCase):

    def full_boot(self) -> dict[str, Any]:
        flavor = self._create_flavor(
            memory_mb=4096, vcpu=4, disk=1, ephemeral=2, swap=256,
            extra_spec={"hw:numa_nodes": "2", "quota:disk_total_iops_sec": "100",
                        "os:secure_boot": "required"})
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2",
                                  os_secure_boot="required", os_type="windows",
                                  logging_serial_port="2", hw_cpu_features="vmx")
        network = {"uuid": self.neutron.network_1["id"]}
        return self.boot(image, flavor=flavor, networks=[network, network])

    def test_round_trips_per_operation(self) -> None:
        network = [{"uuid": self.neutron.network_1["id"]}]
        self.boot(networks=network)  # the first spawn also reads the vSwitch (cached)
        costs = {}
        before = self.counts()
        server = self.boot(networks=network)
        costs["spawn gen1, one NIC"] = self.cost(before, "spawn")
        before = self.counts()
        self.full_boot()
        costs["spawn gen2, everything applied"] = self.cost(before, "spawn")

        driver = self.compute.manager.driver
        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(admin, server["id"])
        for name, call in [
            ("get_info", lambda: driver.get_info(instance, use_cache=False)),
            ("list_instances", driver.list_instances),
            ("get_num_instances", driver.get_num_instances),
            ("power_off", lambda: driver.power_off(instance, timeout=30, retry_interval=1)),
            ("power_on", lambda: driver.power_on(admin, instance, [])),
            ("reboot", lambda: driver.reboot(admin, instance, [], "SOFT")),
            ("get_available_resource", lambda: driver.get_available_resource("compute1")),
        ]:
            before = self.counts()
            call()
            costs[name] = self.cost(before, name)
        before = self.counts()
        driver.get_num_instances()
        driver.get_info(instance)  # nova's power-state sync reads the snapshot
        costs["power-state sync"] = (self.cost(before, "get_num_instances")
                                     + self.cost(before, "get_info"))
        before = self.counts()
        self._delete_server(server)
        costs["destroy (running VM)"] = self.cost(before, "destroy")

        self.assertEqual({
            "spawn gen1, one NIC": 8,
            "spawn gen2, everything applied": 10,
            "get_info": 1,
            "list_instances": 1,
            "get_num_instances": 1,
            "power_off": 4,
            "power_on": 3,
            "reboot": 6,
            "get_available_resource": 9,
            "power-state sync": 1,
            "destroy (running VM)": 6,
        }, costs)

    def test_periodic_tasks_do_not_grow_with_the_vm_count(self) -> None:
        driver = self.compute.manager.driver
        admin = context.get_admin_context()
        measured = []
        for _ in range(2):
            self.boot()
            self.boot()
            instances = instance_obj.InstanceList.get_by_host(admin, "compute1")
            before = self.counts()
            driver.get_num_instances()
            for instance in instances:
                driver.get_info(instance)
            driver.list_instance_uuids()
            driver.get_available_resource("compute1")
            measured.append(sum(self.cost(before, n) for n in (
                "get_num_instances", "get_info", "list_instance_uuids",
                "get_available_resource")))
        self.assertEqual(measured[0], measured[1])

    def test_round_trips_of_the_ports(self) -> None:
        driver = self.compute.manager.driver
        admin = context.get_admin_context()
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"),
                           networks=[{"uuid": self.neutron.network_1["id"]}])
        instance = instance_obj.Instance.get_by_uuid(admin, server["id"])
        costs = {}
        port = self.neutron.create_port({"port": {}})["port"]
        before = self.counts()
        self._attach_interface(server, port["id"])
        costs["attach_interface (running gen2)"] = self.cost(before, "attach_interface")
        before = self.counts()
        self._detach_interface(server, port["id"])
        costs["detach_interface (running gen2)"] = self.cost(before, "detach_interface")
        server = self._stop_server(server)
        port = self.neutron.create_port({"port": {}})["port"]
        before = self.counts()
        self._attach_interface(server, port["id"])
        costs["attach_interface (VM off)"] = self.cost(before, "attach_interface")
        before = self.counts()
        driver.plug_vifs(instance, instance.get_network_info())
        costs["plug_vifs (ports as they should be)"] = self.cost(before, "plug_vifs")
        self.assertEqual({
            "attach_interface (running gen2)": 4,
            "detach_interface (running gen2)": 5,
            "attach_interface (VM off)": 3,
            "plug_vifs (ports as they should be)": 3,
        }, costs)

class VolumeRoundTripTest(Counting, VolumesTestCase):
    def test_volume_round_trips(self) -> None:
        server = self.boot()
        volumes = {"iscsi": self.iscsi_volume(), "fibre_channel": self.fc_volume(),
                   "smbfs": self.smb_volume()}
        # The first attach reads what the driver keeps: the management service and the
        # host's initiator ports (its iSCSI name and FC HBA ports).
        self.attach(server, self.iscsi_volume())
        costs = {}
        for name, volume in volumes.items():
            before = self.counts()
            self.attach(server, volume)
            costs[f"get_volume_connector + attach_volume ({name})"] = (
                self.cost(before, "get_volume_connector") + self.cost(before, "attach_volume"))
            before = self.counts()
            self.detach(server, volume)
            costs[f"detach_volume ({name})"] = self.cost(before, "detach_volume")
        volume = self.iscsi_volume()
        self.attach(server, volume)
        target, lun = self.luns[volume]
        self.storage.extend_lun(target, lun, 2 << 30)
        self.cinder.volumes[volume]["size"] = 2
        before = self.counts()
        self.api.create_server_external_events([{
            "name": "volume-extended", "server_uuid": server["id"], "tag": volume}])
        costs["extend_volume (iscsi)"] = self.cost(before, "extend_volume")
        server = self._stop_server(server)
        before = self.counts()
        self._start_server(server)
        costs["power_on (iscsi volume attached)"] = self.cost(before, "power_on")
        self.assertEqual({
            # find the VM, read its drives, discover + log in, the session's disks, the
            # host drive, add the passthrough drive
            "get_volume_connector + attach_volume (iscsi)": 8,
            # find, drives, remove + job, the target's sessions and disks, forget the
            # persistent login, log out
            "detach_volume (iscsi)": 8,
            # find, drives, the HBA port's LUN mapping, the disk, the host drive, add
            "get_volume_connector + attach_volume (fibre_channel)": 6,
            "detach_volume (fibre_channel)": 4,
            # find, drives, is the share mapped, map it, add the drive, add the image
            "get_volume_connector + attach_volume (smbfs)": 6,
            # find, drives, remove + job, the mapping, disks still on the share, unmap
            "detach_volume (smbfs)": 7,
            # the target's sessions and disks, refresh the disk
            "extend_volume (iscsi)": 3,
            # two iSCSI volumes attached (the first and the extended one): find, drives,
            # per volume its target's sessions and disks and the host drive (still that
            # disk), start + job poll: the VM is found once
            "power_on (iscsi volume attached)": 10,
        }, costs)


class LifecycleRoundTripTest(Counting, HyperVTestCase):
    """Snapshot, rescue and unrescue (issue 8), measured the same way."""

    def test_round_trips_of_snapshot_and_rescue(self) -> None:
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        costs = {}
        before = self.counts()
        self.api.post_server_action(server["id"], {"createImage": {"name": "snap"}})
        self._wait_for_server_parameter(server, {"OS-EXT-STS:task_state": None})
        costs["snapshot (running VM)"] = self.cost(before, "snapshot")
        before = self.counts()
        server = self._rescue_server(server)
        costs["rescue"] = self.cost(before, "rescue")
        before = self.counts()
        self._unrescue_server(server)
        costs["unrescue"] = self.cost(before, "unrescue")
        self.assertEqual({"snapshot (running VM)": 5, "rescue": 8, "unrescue": 10}, costs)


class MovesCounting(TwoHostsTestCase):
    def counts(self, host: str) -> dict[str, dict[str, int]]:
        return self.computes[host].manager.driver._host.client.session.counters.snapshot()

    def move_costs(self, server: dict[str, Any], bigger: str) -> dict[str, int]:
        """Resize to `bigger`, revert, resize again and confirm; each step's round trips
        on the host that ran it."""
        source = self.host_of(server)
        dest = self.other(source)
        costs = {}

        def measure(step: Any, *names: tuple[str, str]) -> None:
            before = {h: self.counts(h) for h in self.COMPUTE_HOSTS}
            step()
            for host, name in names:
                after = self.counts(host).get(name, {}).get("total", 0)
                costs[f"{name} ({'source' if host == source else 'destination'})"] = (
                    after - before[host].get(name, {}).get("total", 0))

        measure(lambda: self._resize_server(server, bigger),
                (source, "migrate_disk_and_power_off"), (dest, "finish_migration"))
        measure(lambda: self._revert_resize(server),
                (dest, "destroy"), (source, "finish_revert_migration"))
        self._resize_server(server, bigger)
        measure(lambda: self._confirm_resize(server), (source, "confirm_migration"))
        return costs

    def keep_switches(self) -> None:
        for host in self.COMPUTE_HOSTS:  # each host reads its vSwitch once, then keeps it
            self.computes[host].manager.driver._host.client.switch(None)


class MigrationRoundTripTest(MovesCounting):
    def test_round_trips_of_resize_revert_and_confirm(self) -> None:
        self.keep_switches()
        flavor = self.flavor(ephemeral=1)
        server = self.boot(flavor=flavor, networks=[{"uuid": self.neutron.network_1["id"]}])
        costs = self.move_costs(server, self.flavor(vcpu=2, ephemeral=2))
        self.assertEqual({
            # find, then the guest shutdown: its component, InitiateShutdown, one look
            "migrate_disk_and_power_off (source)": 4,
            # as a spawn: is there a VM of it already, then the VM (docs/driver.md)
            "finish_migration (destination)": 8,
            "destroy (destination)": 6,
            # find the kept VM, start it and one job poll
            "finish_revert_migration (source)": 3,
            # find the kept VM, check its note, DestroySystem and one job poll
            "confirm_migration (source)": 4,
        }, costs)


class VolumeMigrationRoundTripTest(MovesCounting, VolumeMigrationTestCase):
    def test_round_trips_of_moving_a_server_with_an_iscsi_volume(self) -> None:
        self.keep_switches()
        server = self.boot(flavor=self.flavor())
        self.attach(server, self.iscsi_volume())
        costs = self.move_costs(server, self.flavor(vcpu=2))
        self.assertEqual({
            # as without a volume, then its drives, remove + job, the target's sessions
            # and disks, forget the persistent login, log out (a detach but the find)
            "migrate_disk_and_power_off (source)": 11,
            # as without a volume, then discover + log in, the session's disks, the host
            # drive, the passthrough drive (added with the VM's other drives)
            "finish_migration (destination)": 13,
            # as without a volume, then the target's sessions and disks, forget, log out
            "destroy (destination)": 10,
            # as without a volume, then its drives and an attach but the find
            "finish_revert_migration (source)": 10,
            # nothing is connected any more: as without a volume
            "confirm_migration (source)": 4,
        }, costs)
