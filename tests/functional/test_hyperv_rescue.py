"""Rescue / unrescue and rebuild through Nova's API (issue 8, item 2)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from nova.tests.functional.api import client
from tests.functional.hyperv_base import HyperVTestCase

import vhdfile


class RescueTest(HyperVTestCase):
    def _rescue(self, server: dict[str, Any], image: str | None = None,
                expected_state: str = "RESCUE") -> dict[str, Any]:
        body: dict[str, Any] = {"adminPass": "MySecretPass"}
        if image:
            body["rescue_image_ref"] = image
        try:
            self.api.post_server_action(server["id"], {"rescue": body})
        except client.OpenStackApiException as exc:
            # nova's functional tests make the compute call synchronous, so the refusal
            # also comes back to the API (a deployment casts it: the fault is the record)
            if expected_state != "ERROR":
                raise
            self.assertIn("cannot be rescued", str(exc))
        return self._wait_for_state_change(server, expected_state)

    def _disks(self, server: dict[str, Any]) -> dict[str, list[tuple[int, str]]]:
        return {c["controller"]: [(d["slot"], os.path.basename(d["path"]))
                                  for d in c["drives"]]
                for c in self.vm(server)["storage"] if c["drives"]}

    def test_gen1_rescue_and_unrescue(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))
        guid = self.vm(server)["id"]
        rescue_image = self.create_image("gen1-vhd")
        server = self._rescue(server, rescue_image)
        vm = self.vm(server)
        self.assertEqual((guid, "Running"), (vm["id"], vm["state"]))  # the same VM
        self.assertEqual([(0, "root-rescue.vhd"), (1, "root.vhdx")], self._disks(server)["IDE 0"])
        # a full copy, not a child of the cache: aging may remove the rescue image
        rescue = vhdfile.inspect(os.path.join(self.instance_dir(server), "root-rescue.vhd"))
        self.assertIsNone(rescue.parent_path)

        server = self._unrescue_server(server)
        self.assertEqual([(0, "root.vhdx")], self._disks(server)["IDE 0"])
        self.assertEqual("Running", self.vm(server)["state"])
        self.assertFalse(os.path.exists(
            os.path.join(self.instance_dir(server), "root-rescue.vhd")))

    def test_gen2_rescue_with_the_instances_own_image(self) -> None:
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2",
                                  os_secure_boot="required", os_type="linux")
        server = self._rescue(self.boot(image))
        disks = self._disks(server)["SCSI 0"]
        self.assertEqual((0, "root-rescue.vhdx"), disks[0])
        self.assertIn((1, "root.vhdx"), disks)
        vm = self.vm(server)
        self.assertTrue(vm["firmware"]["secure_boot"])
        self._unrescue_server(server)
        self.assertEqual([(0, "root.vhdx")], self._disks(server)["SCSI 0"])

    def _refused(self, server: dict[str, Any], image: str) -> str:
        server = self._rescue(server, image, expected_state="ERROR")
        fault = self.fault(server)
        # nothing changed on the VM: the root is still in its boot drive
        self.assertNotIn("root-rescue", " ".join(os.listdir(self.instance_dir(server))))
        return fault

    def test_a_rescue_image_of_the_other_generation_is_refused(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))
        fault = self._refused(server, self.create_image("gen2",
                                                       hw_machine_type="hyperv-gen2"))
        self.assertIn("hw_machine_type = 'hyperv-gen2': allowed hyperv-gen1", fault)
        self.assertEqual([(0, "root.vhdx")], self._disks(server)["IDE 0"])

    def test_a_rescue_image_whose_layout_cannot_boot_the_vm_is_refused(self) -> None:
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        fault = self._refused(server, self.create_image("gen1-vhdx"))  # MBR only
        self.assertIn("disk: MBR, no EFI system partition", fault)

    def test_a_vhd_rescue_image_for_gen2_is_refused(self) -> None:
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        fault = self._refused(server, self.create_image("gen1-vhd"))
        self.assertIn("file_format = 'vhd'", fault)


class RebuildTest(HyperVTestCase):
    def test_rebuild_to_another_image_and_generation(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=1)
        server = self.boot(self.create_image("gen1-vhdx"), flavor=flavor)
        eph = os.path.join(self.instance_dir(server), "eph0.vhdx")
        with vhdfile.open_disk(eph, writable=True) as disk:
            disk.write(0, b"ephemeral data")
        new_image = self.create_image("gen2", hw_machine_type="hyperv-gen2")
        server = self._rebuild_server(server, new_image)
        vm = self.vm(server)
        self.assertEqual((2, "Running"), (vm["generation"], vm["state"]))
        root = vhdfile.inspect(os.path.join(self.instance_dir(server), "root.vhdx"))
        self.assertTrue((root.parent_path or "").endswith(f"{new_image}.vhdx"))
        with vhdfile.open_disk(eph) as disk:  # a fresh ephemeral disk
            self.assertEqual(bytes(14), disk.read(0, 14))
        self.assertEqual(1, len(self.vms()))

    def _refused_rebuild(self, server: dict[str, Any], body: dict[str, Any]) -> str:
        # nova's functional tests make the compute call synchronous: the API answers too
        with contextlib.suppress(client.OpenStackApiException):
            self.api.post_server_action(server["id"], {"rebuild": body})
        server = self._wait_for_state_change(server, "ERROR")
        return self.fault(server)

    def test_a_rebuild_the_rules_refuse_leaves_the_vm_and_a_fault(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))
        bad = self.create_image("gen1-vhdx", hw_machine_type="hyperv-gen2")
        fault = self._refused_rebuild(server, {"imageRef": bad})
        self.assertIn("hw_machine_type = 'hyperv-gen2': allowed hyperv-gen1. disk: MBR", fault)
        # refused before nova's destroy: the VM and its disks are still there
        self.assertEqual("Running", self.vm(server)["state"])
        self.assertTrue(os.path.exists(os.path.join(self.instance_dir(server), "root.vhdx")))
        # ... and a rebuild with a good image goes through
        self._rebuild_server(server, self.create_image("gen2"))
        self.assertEqual(2, self.vm(server)["generation"])

    def test_preserve_ephemeral_is_refused_before_anything_changes(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))
        fault = self._refused_rebuild(server, {"imageRef": self.create_image("gen1-vhdx"),
                                               "preserve_ephemeral": True})
        self.assertIn("does not support preserving ephemeral partitions", fault)
        self.assertEqual("Running", self.vm(server)["state"])
