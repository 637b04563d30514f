"""CIM round trips per driver operation, through Nova's API (docs/driver.md quotes them).

Counts, not times: every query, get, method call and job poll is one round trip, and
the emulated host counts them per driver method. They are deterministic, so the figures
docs/driver.md gives are checked here; periodic tasks must not grow with the VM count.
"""

from __future__ import annotations

from typing import Any

from nova import context
from nova.objects import instance as instance_obj
from tests.functional.hyperv_base import HyperVTestCase


class RoundTripTest(HyperVTestCase):
    def counts(self) -> dict[str, dict[str, int]]:
        return self.compute.manager.driver._host.client.session.counters.snapshot()

    def cost(self, before: dict[str, dict[str, int]], name: str) -> int:
        after = self.counts()
        return after.get(name, {}).get("total", 0) - before.get(name, {}).get("total", 0)

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
