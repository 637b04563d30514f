"""Self-test of the functional harness with nova's fake driver (not a feature test)."""

from __future__ import annotations

import os

import nova.conf
from nova.compute import power_state
from nova.virt import fake
from tests.functional.base import NovaServicesTestCase

CONF = nova.conf.CONF


class HarnessTest(NovaServicesTestCase):
    COMPUTE_HOSTS = ("compute1", "compute2")

    def setUp(self) -> None:
        self.prepared: list[tuple[str, bool]] = []
        super().setUp()

    def prepare_compute_host(self, host: str) -> None:
        # Record the host and whether its nova-compute was already running.
        self.prepared.append((host, host in self.computes))

    def _driver(self, host: str) -> fake.FakeDriver:
        return self.computes[host].manager.driver

    def test_each_host_is_prepared_then_started_with_the_chosen_driver(self) -> None:
        self.assertEqual([("compute1", False), ("compute2", False)], self.prepared)
        self.assertIs(self.computes["compute1"], self.compute)
        hypervisors = self.api.api_get("/os-hypervisors").body["hypervisors"]
        self.assertEqual({("compute1", "up"), ("compute2", "up")},
                         {(h["hypervisor_hostname"], h["state"]) for h in hypervisors})
        for host in self.COMPUTE_HOSTS:
            self.assertIsInstance(self._driver(host), fake.MediumFakeDriver)
        # Drivers write under instances_path: a per-test temporary directory.
        self.assertTrue(os.path.isdir(self.state_path))
        self.assertEqual(os.path.join(self.state_path, "instances"), CONF.instances_path)

    def test_boot_stop_start_delete(self) -> None:
        server = self._create_server(networks="none")
        self.assertEqual("ACTIVE", server["status"])
        host = server["OS-EXT-SRV-ATTR:host"]
        driver = self._driver(host)
        self.assertEqual([server["id"]], driver.list_instance_uuids())

        server = self._stop_server(server)
        self.assertEqual("SHUTOFF", server["status"])
        self.assertEqual(power_state.SHUTDOWN, driver.instances[server["id"]].state)

        server = self._start_server(server)
        self.assertEqual("ACTIVE", server["status"])
        self.assertEqual(power_state.RUNNING, driver.instances[server["id"]].state)

        self._delete_server(server)
        self.assertEqual([], self.api.get_servers())
        self.assertEqual([], driver.list_instance_uuids())

    def test_restart_prepares_the_host_again_and_keeps_its_servers(self) -> None:
        server = self._create_server(networks="none")
        compute = self.computes[server["OS-EXT-SRV-ATTR:host"]]
        self.prepared.clear()
        self.restart_compute_service(compute)
        self.assertEqual([(compute.host, True)], self.prepared)
        self.assertEqual("ACTIVE", self._show_server(server)["status"])
