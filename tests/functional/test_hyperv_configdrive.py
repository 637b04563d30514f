"""The config drive through Nova's API: built, attached where the plan says, and holding
the instance's metadata (read back from the ISO 9660 image with isoinfo)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Any

from tests.functional.hyperv_base import HyperVTestCase

import vhdfile

GEN2 = {"hw_machine_type": "hyperv-gen2"}


class ConfigDriveTest(HyperVTestCase):
    def boot_with_drive(self, image: str | None = None, expected_state: str = "ACTIVE",
                        **extra: Any) -> dict[str, Any]:
        body = self._build_server(image_uuid=image or self.create_image(),
                                  flavor_id=self.flavor_id,
                                  networks=[{"uuid": self.neutron.network_1["id"],
                                             "tag": "lan"}])
        body.update(config_drive=True, **extra)
        return self._wait_for_state_change(self.api.post_server({"server": body}),
                                           expected_state)

    def drive(self, server: dict[str, Any]) -> tuple[str, int, str, str]:
        [found] = [(c["controller"], d["slot"], d["type"], d["path"])
                   for c in self.vm(server)["storage"] for d in c["drives"]
                   if "configdrive" in str(d["path"])]
        return found

    def read_back(self, path: str, name: str) -> dict[str, Any]:
        """A file of the config drive, through the disk the VM sees (VHD or ISO)."""
        with tempfile.TemporaryDirectory() as scratch:
            iso = path
            if path.endswith(".vhd"):
                iso = os.path.join(scratch, "drive.iso")
                with vhdfile.open_disk(path) as disk, open(iso, "wb") as out:
                    out.write(disk.read(0, vhdfile.inspect(path).virtual_size))
            label = subprocess.run(["isoinfo", "-d", "-i", iso], capture_output=True,
                                   text=True, check=True).stdout
            self.assertIn("Volume id: config-2", label)
            found = subprocess.run(["isoinfo", "-R", "-i", iso, "-x", name],
                                   capture_output=True, check=True).stdout
        return dict(json.loads(found))

    def test_generation_1_gets_a_vhd_on_ide_1_0_with_the_metadata(self) -> None:
        server = self.boot_with_drive(user_data="IyEvYmluL3NoCmVjaG8gaGk=")
        controller, slot, kind, path = self.drive(server)
        self.assertEqual(("IDE 1", 0, "Hard Drive"), (controller, slot, kind))
        self.assertEqual(os.path.join(self.instance_dir(server), "configdrive.vhd"), path)
        self.assertFalse(os.path.exists(os.path.join(self.instance_dir(server),
                                                     "configdrive.iso")))
        info = vhdfile.inspect(path)
        self.assertEqual(("vhd", "fixed"), (info.format.value, info.type.value))
        meta = self.read_back(path, "/openstack/latest/meta_data.json")
        self.assertEqual(server["id"], meta["uuid"])
        port = self.neutron.list_ports(True, device_id=server["id"])["ports"][0]
        self.assertEqual([{"type": "nic", "bus": "pci", "address": "none",
                           "mac": port["mac_address"], "tags": ["lan"], "vf_trusted": False}],
                         meta["devices"])
        self.assertNotIn("admin_pass", meta)
        network = self.read_back(path, "/openstack/latest/network_data.json")
        self.assertEqual(port["mac_address"], network["links"][0]["ethernet_mac_address"])

    def test_generation_2_cdrom_takes_the_scsi_slot_after_the_disks(self) -> None:
        self.flags(config_drive_cdrom=True, config_drive_inject_password=True, group="hyperv")
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=1)
        self.flavor_id = flavor
        server = self.boot_with_drive(self.create_image("gen2", **GEN2),
                                      adminPass="s3cret-Passw0rd")
        controller, slot, kind, path = self.drive(server)
        # root 0, ephemeral 1, then the config drive.
        self.assertEqual(("SCSI 0", 2, "DVD Drive"), (controller, slot, kind))
        self.assertTrue(path.endswith("configdrive.iso"))
        meta = self.read_back(path, "/openstack/latest/meta_data.json")
        self.assertEqual("s3cret-Passw0rd", meta["admin_pass"])

    def test_a_format_other_than_iso9660_is_refused_and_leaves_nothing(self) -> None:
        self.flags(config_drive_format="vfat")
        server = self.boot_with_drive(expected_state="ERROR")
        self.assertIn("config_drive_format = 'vfat': allowed iso9660", self.fault(server))
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))
