"""Cinder volumes through Nova's API onto the emulated host: iSCSI, FC and SMB."""

from __future__ import annotations

import json
from typing import Any

import fixtures
from nova import context
from nova.api.metadata import base as metadata
from nova.objects import instance as instance_obj
from tests.functional.cinder_volumes import VolumesTestCase


class AttachDetachTest(VolumesTestCase):
    def setUp(self) -> None:
        super().setUp()
        # The metadata API asks Neutron for floating IPs; these servers have no ports.
        self.useFixture(fixtures.MockPatch(
            "nova.network.neutron.API.get_fixed_ip_by_address", return_value={}))

    def metadata_devices(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(
            admin, server["id"], expected_attrs=["device_metadata", "system_metadata",
                                                 "metadata", "flavor", "info_cache"])
        data = json.loads(metadata.InstanceMetadata(instance).lookup(
            "/openstack/latest/meta_data.json"))
        return data["devices"]

    def test_iscsi_volume_on_a_running_server(self) -> None:
        server = self.boot()
        volume = self.iscsi_volume(2)
        self.attach(server, volume, tag="database")
        [disk] = [d for d in self.guest_disks(server) if d.kind == "passthrough"]
        self.assertEqual(("SCSI 0", 0, 2 << 30), (disk.controller, disk.slot, disk.size))
        self.assertEqual([{"target": f"iqn.2010-10.org.openstack:volume-{volume}",
                           "session": self.storage.iscsi_sessions()[0]["session"],
                           "persistent": True}], self.storage.iscsi_sessions())
        self.assertEqual([{"type": "disk", "bus": "scsi", "address": "0:0:0:0",
                           "serial": volume, "tags": ["database"]}],
                         self.metadata_devices(server))
        self.detach(server, volume)
        self.assertEqual([], [d for d in self.guest_disks(server) if d.kind == "passthrough"])
        self.assertEqual([], self.storage.iscsi_sessions())
        self.assertEqual([], self.metadata_devices(server))
