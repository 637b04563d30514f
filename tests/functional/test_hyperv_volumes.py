"""Cinder volumes through Nova's API onto the emulated host: iSCSI, FC and SMB.

The usage guide's "Using Cinder Volumes": attach / detach to running and stopped
servers, disk addresses in the metadata API (tagged and untagged), online extend (not
for SMB), front-end QoS for SMB volumes; boot from volume; destroy lets go of every
volume; a failed attach leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import fixtures
from nova import context
from nova.api.metadata import base as metadata
from nova.objects import instance as instance_obj
from nova.tests.functional.api import client
from tests.functional.cinder_volumes import SHARE, GiB, VolumesTestCase

from hyperv_emulator import open_host
from hyperv_emulator.profiles import PRESETS


def passthrough(disks: list[Any]) -> list[tuple[str, int, int]]:
    return [(d.controller, d.slot, d.size) for d in disks if d.kind == "passthrough"]


class VolumeApiTestCase(VolumesTestCase):
    def setUp(self) -> None:
        super().setUp()
        # The metadata API asks Neutron for floating IPs; these servers have no ports.
        self.useFixture(fixtures.MockPatch(
            "nova.network.neutron.API.get_fixed_ip_by_address", return_value={}))
        self.flags(volume_attach_retry_count=2, volume_attach_retry_interval=0,
                   mounted_disk_query_retry_interval=0, group="hyperv")

    def metadata_devices(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(
            admin, server["id"], expected_attrs=["device_metadata", "system_metadata",
                                                 "metadata", "flavor", "info_cache"])
        data = json.loads(metadata.InstanceMetadata(instance).lookup(
            "/openstack/latest/meta_data.json"))
        return data["devices"]

    def attach_fails(self, server: dict[str, Any], volume: str) -> str:
        """Ask for an attach the compute refuses; the refusal's text, as the action
        event records it. (RPC casts run as calls in these tests, so the compute's error
        also comes back through the API.)"""
        with contextlib.suppress(client.OpenStackApiException):
            self.api.post_server_volume(server["id"],
                                        {"volumeAttachment": {"volumeId": volume}})
        return self.failed_event(server, "attach_volume")

    def failed_event(self, server: dict[str, Any], action: str) -> str:
        event = self._wait_for_instance_action_event(server, action, f"compute_{action}",
                                                     "Error")
        return str(event.get("details") or "")

    def smb_mappings(self) -> list[str]:
        with open_host(self.host_state_file("compute1")).session() as session:
            return [m["RemotePath"] for m in session.query(
                "SELECT * FROM MSFT_SmbMapping", "root/Microsoft/Windows/SMB")]


class AttachDetachTest(VolumeApiTestCase):
    def test_iscsi_volume_on_a_running_server_tagged(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume(2)
        self.attach(server, volume, tag="database")
        self.assertEqual([("SCSI 0", 0, 2 * GiB)], passthrough(self.guest_disks(server)))
        [session] = self.storage.iscsi_sessions()
        self.assertEqual((f"iqn.2010-10.org.openstack:volume-{volume}", True),
                         (session["target"], session["persistent"]))
        # The guide's example, with the tag.
        self.assertEqual([{"type": "disk", "bus": "scsi", "address": "0:0:0:0",
                           "serial": volume, "tags": ["database"]}],
                         self.metadata_devices(server))
        self.detach(server, volume)
        self.assertEqual([], passthrough(self.guest_disks(server)))
        self.assertEqual([], self.storage.iscsi_sessions())
        self.assertEqual([], self.metadata_devices(server))

    def test_untagged_volumes_are_in_the_metadata_too(self) -> None:
        server = self.boot()
        first, second = self.iscsi_volume(), self.fc_volume()
        self.attach(server, first)
        self.attach(server, second, tag="logs")
        self.assertEqual([
            {"type": "disk", "bus": "scsi", "address": "0:0:0:0", "serial": first,
             "tags": []},
            {"type": "disk", "bus": "scsi", "address": "0:0:0:1", "serial": second,
             "tags": ["logs"]},
        ], self.metadata_devices(server))
        self.detach(server, first)
        self.assertEqual([{"type": "disk", "bus": "scsi", "address": "0:0:0:1",
                           "serial": second, "tags": ["logs"]}],
                         self.metadata_devices(server))

    def test_tagged_nic_stays_in_the_metadata_when_volumes_come_and_go(self) -> None:
        server = self.boot(networks=[{"uuid": self.neutron.network_1["id"], "tag": "lan"}])
        volume = self.iscsi_volume()
        self.attach(server, volume, tag="db")
        nic, disk = self.metadata_devices(server)
        self.assertEqual(("nic", ["lan"]), (nic["type"], nic["tags"]))
        self.assertEqual({"type": "disk", "bus": "scsi", "address": "0:0:0:0",
                          "serial": volume, "tags": ["db"]}, disk)
        self.detach(server, volume)
        self.assertEqual([nic], self.metadata_devices(server))

    def test_fc_volume_on_a_stopped_server_then_started(self) -> None:
        server = self._stop_server(self.boot())
        volume = self.fc_volume(3)
        self.attach(server, volume)
        self.assertEqual("Off", self.vm(server)["state"])
        self._start_server(server)
        self.assertEqual([("SCSI 0", 0, 3 * GiB)], passthrough(self.guest_disks(server)))
        [disk] = [d for d in self.storage.disks() if d.bus == "FC"]
        self.assertEqual(self.vm(server)["name"], disk.attached_to)
        self.detach(server, volume)
        self.assertEqual([], passthrough(self.guest_disks(server)))
        [disk] = [d for d in self.storage.disks() if d.bus == "FC"]
        self.assertIsNone(disk.attached_to)  # FC has no login: the SAN unmaps it

    def test_smb_volume_with_credentials_maps_the_share_until_detached(self) -> None:
        server = self.boot()
        volume = self.smb_volume(2)
        self.attach(server, volume, tag="share")
        drives = self.volume_drives(server)
        path = f"{SHARE}\\volume-{volume}.vhdx"
        self.assertEqual(("SCSI 0", 0, "Hard Drive"), drives[path])
        self.assertEqual([SHARE], self.smb_mappings())
        self.assertEqual([{"type": "disk", "bus": "scsi", "address": "0:0:0:0",
                           "serial": volume, "tags": ["share"]}],
                         self.metadata_devices(server))
        self.detach(server, volume)
        self.assertNotIn(path, self.volume_drives(server))
        self.assertEqual([], self.smb_mappings())

    def test_two_luns_of_one_target_share_its_login(self) -> None:
        target = "iqn.2010-10.org.openstack:shared"
        server = self.boot()
        first = self.iscsi_volume(target=target, lun=0)
        second = self.iscsi_volume(target=target, lun=1)
        self.attach(server, first)
        self.attach(server, second)
        self.assertEqual([("SCSI 0", 0, GiB), ("SCSI 0", 1, GiB)],
                         passthrough(self.guest_disks(server)))
        self.assertEqual(1, len(self.storage.iscsi_sessions()))
        self.detach(server, first)
        self.assertEqual(1, len(self.storage.iscsi_sessions()))  # LUN 1 is still in use
        # Cinder ends the first attachment: the SAN stops presenting LUN 0 to the host.
        self.storage.remove_lun(target, 0)
        self.detach(server, second)
        self.assertEqual([], self.storage.iscsi_sessions())

    def test_chap_credentials_log_in(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume(chap=("nova", "s3cret-chap"))
        self.attach(server, volume)
        self.assertEqual([("SCSI 0", 0, GiB)], passthrough(self.guest_disks(server)))


class QosTest(VolumeApiTestCase):
    def qos_of(self, specs: dict[str, str], transport: str = "smbfs") -> int:
        server = self.boot()
        make = self.smb_volume if transport == "smbfs" else self.iscsi_volume
        volume = make(qos_specs=specs)
        self.attach(server, volume)
        [drive] = [d for c in self.vm(server)["storage"] for d in c["drives"]
                   if c["controller"] == "SCSI 0"]  # the volume's, the only one
        return drive["iops_limit"]

    def test_bytes_become_normalized_iops_rounded_down(self) -> None:
        # 1,000,000 B/s / 8 KB = 122.07 -> 122
        self.assertEqual(122, self.qos_of({"total_bytes_sec": "1000000"}))

    def test_iops_win_over_bytes(self) -> None:
        self.assertEqual(300, self.qos_of({"total_iops_sec": "300",
                                           "total_bytes_sec": "1000000"}))

    def test_a_trickle_is_at_least_one_iops(self) -> None:
        self.assertEqual(1, self.qos_of({"total_bytes_sec": "100"}))

    def test_iscsi_volumes_take_no_front_end_qos(self) -> None:
        # The guide: only SMB volumes get IOPS limits; SANs use back-end QoS. A
        # passthrough disk has no IOPS setting at all.
        self.assertIsNone(self.qos_of({"total_iops_sec": "300"}, transport="iscsi"))


class ExtendTest(VolumeApiTestCase):
    def extended(self, server: dict[str, Any], volume: str, size_gb: int) -> None:
        self.cinder.volumes[volume]["size"] = size_gb
        with contextlib.suppress(client.OpenStackApiException):  # a refusal (cast-as-call)
            self.api.create_server_external_events([{
                "name": "volume-extended", "server_uuid": server["id"], "tag": volume}])

    def test_iscsi_and_fc_volumes_grow_online(self) -> None:
        server = self.boot()
        iscsi, fc = self.iscsi_volume(1), self.fc_volume(1)
        self.attach(server, iscsi)
        self.attach(server, fc)
        for volume, size in ((iscsi, 3), (fc, 2)):
            target, lun = self.luns[volume]
            self.storage.extend_lun(target, lun, size * GiB)
            self.extended(server, volume, size)
            self._wait_for_instance_action_event(server, "extend_volume",
                                                 "compute_extend_volume", "Success")
        # The host re-read both disks (a SAN size change shows after a refresh), and
        # the VM sees the new sizes.
        self.assertEqual(sorted([3 * GiB, 2 * GiB]),
                         sorted(d.size for d in self.storage.disks() if d.bus in ("iSCSI",
                                                                                  "FC")))
        self.assertEqual([("SCSI 0", 0, 3 * GiB), ("SCSI 0", 1, 2 * GiB)],
                         passthrough(self.guest_disks(server)))

    def test_smb_volume_extend_is_refused_clearly(self) -> None:
        server = self.boot()
        volume = self.smb_volume(1)
        self.attach(server, volume)
        self.extended(server, volume, 2)
        details = self.failed_event(server, "extend_volume")
        self.assertIn("SMB", details)
        self.assertIn("detach it, extend it, attach it again", details)
        self.assertEqual("ACTIVE", self.api.get_server(server["id"])["status"])


class BootFromVolumeTest(VolumeApiTestCase):
    def boot_from(self, volume: str, **extra: Any) -> dict[str, Any]:
        body = {"name": "bfv", "flavorRef": self.flavor_id, "networks": "none",
                "block_device_mapping_v2": [{
                    "boot_index": 0, "uuid": volume, "source_type": "volume",
                    "destination_type": "volume", **extra}]}
        return self._wait_for_state_change(self.api.post_server({"server": body}), "ACTIVE")

    def boot_entries(self, server: dict[str, Any]) -> list[str]:
        """The VM's firmware boot order: each entry's drive ElementName or image file."""
        names = []
        with open_host(self.host_state_file("compute1")).session() as session:
            media = session.query("SELECT * FROM Msvm_StorageAllocationSettingData")
            for entry in self.vm(server)["firmware"]["boot_order"]:
                [link] = session.references(entry, result_class="Msvm_LogicalIdentity")
                device = session.get(link["SystemElement"])
                held = [m for m in media if m["Parent"] and
                        session.get(m["Parent"])["InstanceID"] == device["InstanceID"]]
                names.append(os.path.basename(held[0]["HostResource"][0]) if held
                             else str(device["ElementName"]))
        return names

    def test_gen1_boots_from_an_iscsi_volume_on_ide(self) -> None:
        volume = self.iscsi_volume(2, image_properties={"hw_machine_type": "hyperv-gen1"})
        server = self.boot_from(volume)
        vm = self.vm(server)
        self.assertEqual((1, "Running"), (vm["generation"], vm["state"]))
        self.assertEqual([("IDE 0", 0, 2 * GiB)], passthrough(self.guest_disks(server)))
        self.assertEqual(["ide", "cd", "network", "floppy"], vm["firmware"]["boot_order"])
        self.assertFalse(os.path.exists(os.path.join(self.instance_dir(server), "root.vhdx")))
        self.assertEqual([{"type": "disk", "bus": "ide", "address": "0:0", "serial": volume,
                           "tags": []}], self.metadata_devices(server))

    def test_gen2_boots_from_an_fc_volume_first_then_the_rest_by_boot_index(self) -> None:
        root = self.fc_volume(2, image_properties={"hw_machine_type": "hyperv-gen2"})
        data = self.iscsi_volume(1)
        body = {"name": "bfv", "flavorRef": self.flavor_id, "networks": "none",
                "block_device_mapping_v2": [
                    {"boot_index": 1, "uuid": data, "source_type": "volume",
                     "destination_type": "volume", "tag": "data"},
                    {"boot_index": 0, "uuid": root, "source_type": "volume",
                     "destination_type": "volume"}]}
        server = self._wait_for_state_change(self.api.post_server({"server": body}),
                                             "ACTIVE")
        vm = self.vm(server)
        self.assertEqual(2, vm["generation"])
        self.assertEqual([("SCSI 0", 0, 2 * GiB), ("SCSI 0", 1, GiB)],
                         passthrough(self.guest_disks(server)))
        self.assertEqual([root, data], self.boot_entries(server)[:2])

    def test_the_guides_image_to_volume_boot(self) -> None:
        # nova boot --block-device source=image,id=<image>,dest=volume,size=2,
        #   shutdown=remove,bootindex=0: Nova asks Cinder for the volume, then the driver
        # boots from it.
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2")
        body = {"name": "bfv", "flavorRef": self.flavor_id, "networks": "none",
                "block_device_mapping_v2": [{
                    "boot_index": 0, "uuid": image, "source_type": "image",
                    "destination_type": "volume", "volume_size": 2,
                    "delete_on_termination": True}]}
        server = self._wait_for_state_change(self.api.post_server({"server": body}),
                                             "ACTIVE")
        self.assertEqual(2, self.vm(server)["generation"])
        self.assertEqual([("SCSI 0", 0, 2 * GiB)], passthrough(self.guest_disks(server)))
        self._delete_server(server)
        self.assertEqual([], self.vms())
        self.assertEqual([], self.storage.iscsi_sessions())


    def test_a_boot_volume_nova_cannot_describe_is_a_fault_naming_the_key(self) -> None:
        volume = self.iscsi_volume(image_properties={"hw_machine_type": "hyperv-gen1"})
        self.connection_infos[volume]["data"]["target_lun"] = "first"
        body = {"name": "bfv", "flavorRef": self.flavor_id, "networks": "none",
                "block_device_mapping_v2": [{
                    "boot_index": 0, "uuid": volume, "source_type": "volume",
                    "destination_type": "volume"}]}
        server = self._wait_for_state_change(self.api.post_server({"server": body}), "ERROR")
        self.assertIn("target_lun = 'first'", self.fault(server))
        self.assertEqual([], self.vms())
        self.assertEqual([], self.storage.iscsi_sessions())


class DestroyTest(VolumeApiTestCase):
    def test_delete_lets_go_of_every_volume(self) -> None:
        server = self.boot()
        for volume in (self.iscsi_volume(), self.fc_volume(), self.smb_volume()):
            self.attach(server, volume)
        self.assertTrue(self.storage.iscsi_sessions())
        self.assertEqual([SHARE], self.smb_mappings())
        self._delete_server(server)
        self.assertEqual([], self.vms())
        self.assertEqual([], self.storage.iscsi_sessions())
        self.assertEqual([], self.smb_mappings())
        self.assertEqual([None], [d.attached_to for d in self.storage.disks()])

    def test_delete_of_a_server_booted_from_volume(self) -> None:
        volume = self.iscsi_volume(image_properties={"hw_machine_type": "hyperv-gen1"})
        server = self._wait_for_state_change(self.api.post_server({"server": {
            "name": "bfv", "flavorRef": self.flavor_id, "networks": "none",
            "block_device_mapping_v2": [{"boot_index": 0, "uuid": volume,
                                         "source_type": "volume",
                                         "destination_type": "volume"}]}}), "ACTIVE")
        self._delete_server(server)
        self.assertEqual([], self.vms())
        self.assertEqual([], self.storage.iscsi_sessions())


class FailureTest(VolumeApiTestCase):
    def host(self) -> Any:
        return open_host(self.host_state_file("compute1"))

    def test_a_failed_attach_leaves_no_drive_and_no_login(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume()
        self.host().faults.add("AddResourceSettings", code=32768, as_job=True, times=0)
        details = self.attach_fails(server, volume)
        self.host().faults.clear()
        self.assertIn(volume, details)
        self.assertEqual([], self.attached_volume_ids(server))
        self.assertEqual([], passthrough(self.guest_disks(server)))
        self.assertEqual([], self.storage.iscsi_sessions())
        self.assertEqual("ACTIVE", self.api.get_server(server["id"])["status"])

    def test_a_transient_failure_is_retried(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume()
        self.host().faults.add("AddResourceSettings", code=32768, as_job=True, times=1)
        self.attach(server, volume)
        self.assertEqual([("SCSI 0", 0, GiB)], passthrough(self.guest_disks(server)))
        self.assertEqual(1, len(self.storage.iscsi_sessions()))

    def test_wrong_chap_secret_fails_after_the_retries_and_logs_nothing_in(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume(chap=("nova", "right"))
        self.connection_infos[volume]["data"]["auth_password"] = "wrong"
        details = self.attach_fails(server, volume)
        self.assertIn("CHAP", details)
        self.assertEqual([], self.storage.iscsi_sessions())

    def test_an_unknown_transport_is_refused_naming_it(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume()
        self.connection_infos[volume] = {"driver_volume_type": "rbd",
                                         "data": {"name": "volumes/v"}}
        details = self.attach_fails(server, volume)
        self.assertIn("driver_volume_type = 'rbd'", details)
        self.assertIn("iscsi, fibre_channel, smbfs", details)

    def test_multipath_without_the_mpio_feature_is_refused(self) -> None:
        self.flags(use_multipath_io=True, group="hyperv")
        server = self.boot()
        volume = self.iscsi_volume()
        details = self.attach_fails(server, volume)
        self.assertIn("Multipath-IO", details)
        self.assertEqual([], self.storage.iscsi_sessions())


class MultipathTest(VolumeApiTestCase):
    def prepare_compute_host(self, host: str) -> None:
        from hyperv_emulator import init_host

        path = self.host_state_file(host)
        if not os.path.exists(path):
            init_host(path, PRESETS[self.PROFILE].replace(
                hostname=host, server_features=("Hyper-V", "Multipath-IO")))
        self.flags(host_uri=f"emulated://{path}", group="hyperv")

    def test_every_path_is_logged_in_and_out(self) -> None:
        self.flags(use_multipath_io=True, group="hyperv")
        server = self.boot()
        volume = self.iscsi_volume()
        data = self.connection_infos[volume]["data"]
        data.update(target_portals=[data["target_portal"]] * 2,
                    target_iqns=[data["target_iqn"]] * 2, target_luns=[0, 0])
        self.attach(server, volume)
        self.assertEqual(2, len(self.storage.iscsi_sessions()))
        self.assertEqual([("SCSI 0", 0, GiB)], passthrough(self.guest_disks(server)))
        self.detach(server, volume)
        self.assertEqual([], self.storage.iscsi_sessions())


class PowerOnTest(VolumeApiTestCase):
    def test_start_repoints_a_volume_whose_host_disk_changed(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume()
        self.attach(server, volume)
        server = self._stop_server(server)
        self.fc_volume()  # another offline SAN disk of the host
        host = open_host(self.host_state_file("compute1"))
        disks = {d.bus: d for d in host.storage.disks()}
        # As after a host reboot renumbered the disks: the VM's drive names a host disk
        # that is no longer the volume.
        with host.session() as session:
            [drive] = session.query("SELECT * FROM Msvm_ResourceAllocationSettingData "
                                    f"WHERE ElementName = '{volume}'")
            [stale] = session.query("SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = "
                                    f"{disks['FC'].number}")
            drive["HostResource"] = [str(stale.path)]
            [service] = session.query("SELECT * FROM Msvm_VirtualSystemManagementService")
            result = session.invoke(service.path, "ModifyResourceSettings",
                                    ResourceSettings=[drive])
            self.assertEqual(0, result.return_value)
        name = self.vm(server)["name"]
        self.assertEqual({"iSCSI": None, "FC": name},
                         {d.bus: d.attached_to for d in host.storage.disks()})
        self._start_server(server)
        self.assertEqual({"iSCSI": name, "FC": None},
                         {d.bus: d.attached_to for d in host.storage.disks()})


class OverPyMITest(VolumeApiTestCase):
    """Volumes with `host_uri = wmi://.`: the driver's volume code through PyMI's
    conventions (the emulator's facade standing in for PyMI's `wmi`, as on Windows)."""

    def prepare_compute_host(self, host: str) -> None:
        super().prepare_compute_host(host)
        self.use_pymi(host)

    def test_iscsi_fc_and_smb_volumes_over_pymi(self) -> None:
        from nova_hyperv.cim.wmi import WmiSession

        server = self.boot()
        self.assertIsInstance(self.compute.manager.driver._host.client.session, WmiSession)
        volumes = [self.iscsi_volume(), self.fc_volume(2), self.smb_volume()]
        for volume in volumes:
            self.attach(server, volume, tag=volume[:4])
        self.assertEqual([("SCSI 0", 0, GiB), ("SCSI 0", 1, 2 * GiB)],
                         passthrough(self.guest_disks(server)))
        self.assertEqual([f"0:0:0:{n}" for n in range(3)],
                         [d["address"] for d in self.metadata_devices(server)])
        for volume in volumes:
            self.detach(server, volume)
        self.assertEqual([], self.metadata_devices(server))
        self.assertEqual([], self.storage.iscsi_sessions())
        self.assertEqual([], self.smb_mappings())
