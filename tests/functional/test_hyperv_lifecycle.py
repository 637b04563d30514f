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
