"""Cold migration and resize of servers with more than local disks, through Nova's API on
two emulated hosts: Cinder volumes (iSCSI, SMB), the config drive, vTPM / shielded VMs
(refused) and the console reader."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from nova import context
from nova.objects import instance as instance_obj
from tests.functional.cinder_volumes import SHARE, GiB, VolumeMigrationTestCase
from tests.functional.hyperv_base import TwoHostsTestCase
from tests.functional.test_hyperv_shielded import SHIELDED, BarbicanTestCase, pdk_bytes

import vhdfile
from hyperv_emulator import open_host


class VolumeResizeTest(VolumeMigrationTestCase):
    def boot_with_volumes(self) -> tuple[dict[str, Any], str, str]:
        server = self.boot(flavor=self.flavor())
        iscsi, smb = self.iscsi_volume(2), self.smb_volume(3)
        self.attach(server, iscsi, tag="db")
        self.attach(server, smb)
        return server, iscsi, smb

    def test_volumes_move_with_a_resize_and_come_back_with_a_revert(self) -> None:
        server, iscsi, smb = self.boot_with_volumes()
        source = self.host_of(server)
        dest = self.other(source)
        target = f"iqn.2010-10.org.openstack:volume-{iscsi}"
        before = self.vm(server, source)
        guest_before = self.guest_sizes(server, source)
        self.assertIn(("SCSI 0", 0, 2 * GiB), guest_before)
        self.assertIn(("SCSI 0", 1, 3 * GiB), guest_before)
        self.assertEqual(([target], [SHARE]), self.connected(source))
        admin = context.get_admin_context()
        metadata_before = instance_obj.Instance.get_by_uuid(
            admin, server["id"], expected_attrs=["device_metadata"]).device_metadata

        server = self._resize_server(server, self.flavor(vcpu=2, ephemeral=1))
        self.assertEqual(dest, self.host_of(server))
        # The destination's VM has both volumes (from nova's block device info) and the
        # new ephemeral disk; both are connected there.
        self.assertEqual({"iscsi", "smb"}, set(self.volume_slots(server, dest)))
        sizes = [size for _, _, size in self.guest_sizes(server, dest)]
        self.assertIn(2 * GiB, sizes)
        self.assertIn(3 * GiB, sizes)
        self.assertEqual(([target], [SHARE]), self.connected(dest))
        # The source's kept VM holds no volume and the source is connected to nothing.
        [kept] = self.vms_of(server, source)
        self.assertEqual(("Off", {}), (kept["state"], self.volume_slots(server, source)))
        self.assertEqual(([], []), self.connected(source))

        server = self._revert_resize(server)
        self.assertEqual(source, self.host_of(server))
        after = self.vm(server, source)
        # The very same VM, its volumes at their slots (the iSCSI LUN may be another
        # host disk number now); connected on the source only.
        self.assertEqual(guest_before, self.guest_sizes(server, source))
        self.assertEqual(self._without_host_disks(before), self._without_host_disks(after))
        self.assertEqual("Running", after["state"])
        self.assertEqual(([target], [SHARE]), self.connected(source))
        self.assertEqual(([], []), self.connected(dest))
        self.assertEqual([], self.vms(dest))
        self.assertEqual({iscsi, smb}, set(self.attached_volume_ids(server)))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))
        metadata_after = instance_obj.Instance.get_by_uuid(
            admin, server["id"], expected_attrs=["device_metadata"]).device_metadata
        self.assertEqual(metadata_before.obj_to_primitive(), metadata_after.obj_to_primitive())

        # Resize again and confirm: the source lets go of everything for good.
        server = self._confirm_resize(self._resize_server(server, self.flavor(vcpu=2)))
        self.assertEqual([], self.vms(source))
        self.assertEqual(([], []), self.connected(source))
        self.assertEqual(([target], [SHARE]), self.connected(dest))
        self.assertEqual({"iscsi", "smb"}, set(self.volume_slots(server, dest)))
        self.assertEqual("Running", self.vm(server, dest)["state"])
        # (A detach is not tried here: nova's block_device checks the instance's host
        # against CONF.host, which is one value for all computes of this process.)

    @staticmethod
    def _without_host_disks(vm: dict[str, Any]) -> dict[str, Any]:
        """The VM's description with passthrough drives' host disk numbers left out."""
        storage = [{**c, "drives": [{**d, "path": "host disk"} if str(d["path"]).startswith(
            "disk ") else d for d in c["drives"]]} for c in vm["storage"]]
        return {**vm, "storage": storage}

    def test_a_failure_on_the_source_gives_the_volumes_back(self) -> None:
        self.flags(shutdown_timeout=0)
        server, iscsi, smb = self.boot_with_volumes()
        source = self.host_of(server)
        slots = self.volume_slots(server, source)
        connected = self.connected(source)
        revert = self.instance_dir(server, source) + "_revert"

        def migrate_fails() -> None:
            self.api.post_server_action(server["id"], {"migrate": None})
            self.wait_for_failure()
            self._wait_for_state_change(server, "ACTIVE")
            self.assertEqual(source, self.host_of(server))
            self.assertEqual("Running", self.vm(server, source)["state"])
            self.assertEqual(slots, self.volume_slots(server, source))
            self.assertEqual(connected, self.connected(source))
            self.assertEqual(([], []), self.connected(self.other(source)))
            self.assertEqual({iscsi, smb}, set(self.attached_volume_ids(server)))
            self.assertFalse(os.path.exists(revert))

        # The host will not log out of the iSCSI target: the volumes let go of so far
        # are put back.
        open_host(self.host_state_file(source)).faults.add(
            "Disconnect", class_name="MSFT_iSCSITarget", code=32768)
        migrate_fails()
        # The files cannot go aside, after the volumes were let go of.
        with open(revert, "w", encoding="utf-8") as blocker:
            blocker.write("in the way")
        self.addCleanup(lambda: os.path.isfile(revert) and os.unlink(revert))
        self.api.post_server_action(server["id"], {"migrate": None})
        self.wait_for_failure()
        self._wait_for_state_change(server, "ACTIVE")
        os.unlink(revert)
        self.assertEqual("Running", self.vm(server, source)["state"])
        self.assertEqual(slots, self.volume_slots(server, source))
        self.assertEqual(connected, self.connected(source))
        # Nothing is stuck: the next try goes through.
        server = self._confirm_resize(self._migrate_server(server))
        self.assertEqual({"iscsi", "smb"}, set(self.volume_slots(server, self.other(source))))
        self.assertEqual(([], []), self.connected(source))

    def test_a_hard_reboot_after_a_failed_finish_connects_the_volumes(self) -> None:
        server, iscsi, _ = self.boot_with_volumes()
        source = self.host_of(server)
        dest = self.other(source)
        open_host(self.host_state_file(dest)).faults.add("RequestStateChange", code=32768)
        self.api.post_server_action(server["id"], {"migrate": None})
        self.wait_for_failure()
        server = self._wait_for_state_change(server, "ERROR")
        # The failed build let go of the volumes it had connected.
        self.assertEqual([], self.vms_of(server, dest))
        self.assertEqual(([], []), self.connected(dest))
        self.assertEqual(([], []), self.connected(source))

        server = self._reboot_server(server, hard=True)
        self.assertEqual("Running", self.vm(server, dest)["state"])
        self.assertEqual({"iscsi", "smb"}, set(self.volume_slots(server, dest)))
        self.assertEqual(
            ([f"iqn.2010-10.org.openstack:volume-{iscsi}"], [SHARE]), self.connected(dest))


class ConfigDriveResizeTest(TwoHostsTestCase):
    def boot_with_drive(self) -> dict[str, Any]:
        body = self._build_server(image_uuid=self.create_image(), flavor_id=self.flavor(),
                                  networks="none")
        body.update(config_drive=True, user_data="IyEvYmluL3NoCmVjaG8gaGk=")
        return self._wait_for_state_change(self.api.post_server({"server": body}), "ACTIVE")

    def drive(self, server: dict[str, Any], host: str) -> tuple[str, int, str, str]:
        [found] = [(c["controller"], d["slot"], d["type"], str(d["path"]))
                   for c in self.vm(server, host)["storage"] for d in c["drives"]
                   if "configdrive" in str(d["path"])]
        return found

    def _moves_with_the_server(self, name: str, place: tuple[str, int, str]) -> None:
        server = self.boot_with_drive()
        source = self.host_of(server)
        dest = self.other(source)
        with open(os.path.join(self.instance_dir(server, source), name), "rb") as stream:
            content = stream.read()
        self.assertEqual(place, self.drive(server, source)[:3])

        server = self._resize_server(server, self.flavor(vcpu=2))
        path = os.path.join(self.instance_dir(server, dest), name)
        self.assertEqual((*place, path), self.drive(server, dest))
        with open(path, "rb") as stream:
            self.assertEqual(content, stream.read())  # the same drive, not a new one
        server = self._revert_resize(server)
        self.assertEqual((*place, os.path.join(self.instance_dir(server, source), name)),
                         self.drive(server, source))

        # A VM rebuilt from the files (a hard reboot after a failed resize) has it too.
        open_host(self.host_state_file(dest)).faults.add("RequestStateChange", code=32768)
        self.api.post_server_action(server["id"], {"migrate": None})
        self.wait_for_failure()
        server = self._wait_for_state_change(server, "ERROR")
        server = self._reboot_server(server, hard=True)
        self.assertEqual((*place, path), self.drive(server, dest))

    def test_a_vhd_config_drive_moves_with_the_server(self) -> None:
        self._moves_with_the_server("configdrive.vhd", ("IDE 1", 0, "Hard Drive"))

    def test_a_dvd_config_drive_moves_with_the_server(self) -> None:
        self.flags(config_drive_cdrom=True, group="hyperv")
        self._moves_with_the_server("configdrive.iso", ("IDE 1", 0, "DVD Drive"))


    def test_a_destination_that_attaches_dvds_gets_the_same_drive_as_an_iso(self) -> None:
        server = self.boot_with_drive()  # a fixed VHD on the source
        source = self.host_of(server)
        dest = self.other(source)
        vhd = os.path.join(self.instance_dir(server, source), "configdrive.vhd")
        with vhdfile.open_disk(vhd) as disk:
            content = disk.read(0, vhdfile.inspect(vhd).virtual_size)
        self.flags(config_drive_cdrom=True, group="hyperv")  # the destination's setting
        server = self._resize_server(server, self.flavor(vcpu=2))
        iso = os.path.join(self.instance_dir(server, dest), "configdrive.iso")
        self.assertEqual(("IDE 1", 0, "DVD Drive", iso), self.drive(server, dest))
        with open(iso, "rb") as stream:
            self.assertEqual(content, stream.read())
        self.assertEqual(["configdrive.iso", "root.vhdx"], self.files(server, dest))
        # a revert gives back the source's VM with its VHD, as it was
        server = self._revert_resize(server)
        self.assertEqual(("IDE 1", 0, "Hard Drive", vhd), self.drive(server, source))


class ShieldedResizeTest(BarbicanTestCase, TwoHostsTestCase):
    PROFILE_CHANGES: ClassVar[dict[str, Any]] = {"guarded": True}

    def test_vtpm_and_shielded_vms_are_refused_before_anything_changes(self) -> None:
        for key, policy in (("os_shielded_vm", "Shielded"), ("os_vtpm", "EncryptionSupported")):
            with self.subTest(key=key):
                container = self.barbican.container(pdk_bytes(policy=policy))
                properties = {**SHIELDED, "os_shielded_vm": "disabled",
                              key: "required", "img_pdk_reference": container}
                body = self._build_server(image_uuid=self.create_image("gen2", **properties),
                                          flavor_id=self.flavor_id, networks="none")
                server = self._wait_for_state_change(
                    self.api.post_server({"server": body}), "ACTIVE")
                source = self.host_of(server)
                before = self.vm(server, source)
                files = self.files(server, source)
                self.api.post_server_action(server["id"], {"migrate": None})
                self.wait_for_failure()
                event = self._wait_for_action_fail_completion(
                    server, "migrate", "compute_resize_instance")
                self.assertIn(f"image property {key} = required: cold migration and resize "
                              "of a VM with a virtual TPM are not supported", event["details"])
                server = self._wait_for_state_change(server, "ACTIVE")
                self.assertEqual(source, self.host_of(server))
                self.assertEqual(before, self.vm(server, source))
                self.assertEqual(files, self.files(server, source))
                self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))
                self.assertEqual([], self.vms_of(server, self.other(source)))
                self._delete_server(server)


class ConsoleMigrationTest(TwoHostsTestCase):
    def readers(self, host: str) -> set[str]:
        return set(self.computes[host].driver._vmops.consoles.running())

    def test_the_console_reader_follows_the_running_vm(self) -> None:
        server = self.boot(flavor=self.flavor())
        source = self.host_of(server)
        dest = self.other(source)
        self.assertIn(server["id"], self.readers(source))
        server = self._resize_server(server, self.flavor(vcpu=2))
        # powered off for the move: its reader stopped; the destination's runs
        self.assertNotIn(server["id"], self.readers(source))
        self.assertIn(server["id"], self.readers(dest))
        server = self._revert_resize(server)
        self.assertIn(server["id"], self.readers(source))
        self.assertNotIn(server["id"], self.readers(dest))
        output = self.api.post_server_action(server["id"], {"os-getConsoleOutput": {}})
        self.assertIn("login: ", output["output"])
        server = self._confirm_resize(self._resize_server(server, self.flavor(vcpu=2)))
        self.assertNotIn(server["id"], self.readers(source))
        self.assertIn(server["id"], self.readers(dest))

