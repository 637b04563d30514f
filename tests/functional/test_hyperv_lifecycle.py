"""Servers booted through Nova's API land on the emulated Hyper-V host and go away."""

from __future__ import annotations

import os

from tests.functional.hyperv_base import HyperVTestCase


class LifecycleTest(HyperVTestCase):
    def test_gen1_boot_and_delete(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))
        self.assertEqual("ACTIVE", server["status"])
        vm = self.vm(server)
        self.assertEqual(server["OS-EXT-SRV-ATTR:instance_name"], vm["name"])
        self.assertEqual(1, vm["generation"])
        self.assertEqual("Running", vm["state"])
        root = os.path.join(self.instance_dir(server), "root.vhdx")
        self.assertEqual({"controller": "IDE 0", "drives": [
            {"slot": 0, "type": "Hard Drive", "path": root, "iops_limit": 0}]},
            vm["storage"][0])
        self.assertTrue(os.path.exists(root))

        self._delete_server(server)
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))


class WmiAdapterTest(HyperVTestCase):
    """The whole driver over `host_uri = wmi://.`: PyMI's conventions, on the emulator's
    PyMI-compatible facade standing in for PyMI's `wmi` module (as on Windows)."""

    def prepare_compute_host(self, host: str) -> None:
        super().prepare_compute_host(host)
        self.use_pymi(host)

    def test_gen2_secure_boot_server_life_over_pymi(self) -> None:
        from nova_hyperv.cim.wmi import WmiSession

        image = self.create_image("gen2", hw_machine_type="hyperv-gen2",
                                  os_secure_boot="required", os_type="linux")
        server = self.boot(image, networks=[{"uuid": self.neutron.network_1["id"]}])
        self.assertIsInstance(self.compute.manager.driver._host.client.session, WmiSession)
        vm = self.vm(server)
        self.assertEqual((2, True, "MicrosoftUEFICertificateAuthority", "Running"), (
            vm["generation"], vm["firmware"]["secure_boot"],
            vm["firmware"]["secure_boot_template"], vm["state"]))
        self.assertEqual("external", vm["nics"][0]["switch"])
        server = self._stop_server(server)
        self.assertEqual("Off", self.vm(server)["state"])
        server = self._start_server(server)
        self._reboot_server(server)
        self._delete_server(server)
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))
