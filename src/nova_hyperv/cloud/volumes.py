"""The volume service: the part of Cinder v3 that nova and python-openstackclient use.

A volume is a dynamic VHDX file (made with vhdfile) in the cloud's volumes/ folder, handed
to nova as an SMB attachment (`driver_volume_type` "smbfs": export = the share
`\\\\cloud\\volumes`, name = the file), which is how Hyper-V consumes Cinder's SMB
volumes; every emulated host of the cloud has that share on its network, backed by the
volumes/ folder (`computes.prepare_compute_host`). Attachments follow
Cinder's 3.44+ flow that nova uses: create (reserve), update with the host's connector
(connection info), complete, delete. Only a volume attached to nothing is extended: as
a Cinder SMB backend without online extend does, an attached one is refused (Hyper-V
cannot grow an SMB-backed disk of a running VM; the usage guide's online extend
excludes SMB volumes, and the driver refuses nova's `volume-extended` for them).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from pathlib import Path
from typing import Any

import webob

import vhdfile
from nova_hyperv.cloud.docstore import Doc, DocStore
from nova_hyperv.cloud.httpapi import (
    HttpError,
    JsonApp,
    Reply,
    bad_request,
    identity_of,
    json_body,
    not_found,
)
from nova_hyperv.cloud.tokens import Identity, TokenAuthority

LOG = logging.getLogger(__name__)

GiB = 1 << 30
MAX_VERSION = "3.70"
VOLUME_TYPE = {"id": "b5e9c6f8-0000-4000-8000-00000000cafe", "name": "__DEFAULT__",
               "description": "Default Volume Type", "is_public": True,
               "extra_specs": {}, "qos_specs_id": None, "os-volume-type-access:is_public": True}
BACKEND_HOST = "nova-hyperv-cloud@smb#smb"
#: The SMB share the volumes are on, as every host of the cloud reaches it.
SHARE = "\\\\cloud\\volumes"

class VolumeService:
    def __init__(self, store: DocStore, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir

    def file_name(self, volume_id: str) -> str:
        return f"volume-{volume_id}.vhdx"

    def create(self, who: Identity, fields: dict[str, Any]) -> Doc:
        size = fields.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise bad_request(f"size={size!r}: a volume's size is a whole number of GiB, "
                              "1 or more")
        if fields.get("source_volid") or fields.get("snapshot_id") or fields.get("imageRef"):
            raise bad_request("volumes from images, snapshots or other volumes are not "
                              "offered by this volume service; create an empty one")
        volume_id = str(uuid.uuid4())
        now = _now()
        volume = {
            "id": volume_id, "name": fields.get("name"),
            "description": fields.get("description"), "size": size, "status": "available",
            "attachments": [], "availability_zone": fields.get("availability_zone") or "nova",
            "bootable": "false", "encrypted": False, "multiattach": False,
            "volume_type": VOLUME_TYPE["name"], "volume_type_id": VOLUME_TYPE["id"],
            "metadata": fields.get("metadata") or {}, "snapshot_id": None,
            "source_volid": None, "replication_status": None, "consistencygroup_id": None,
            "group_id": None, "shared_targets": False, "service_uuid": None,
            "cluster_name": None, "provider_id": None, "consumes_quota": True,
            "migration_status": None, "user_id": who.user_id,
            "os-vol-tenant-attr:tenant_id": who.project_id,
            "os-vol-host-attr:host": BACKEND_HOST, "created_at": now, "updated_at": now,
            "links": [],
        }
        vhdfile.create(self.data_dir / self.file_name(volume_id), "vhdx", "dynamic",
                       size * GiB)
        return self.store.put("volume", volume)

    def visible(self, volume_id: str, who: Identity) -> Doc:
        volume = self.store.get("volume", volume_id)
        if volume is None or not (who.is_admin or
                                  volume["os-vol-tenant-attr:tenant_id"] == who.project_id):
            raise not_found("Volume", volume_id)
        return volume

    def delete(self, who: Identity, volume_id: str) -> None:
        volume = self.visible(volume_id, who)
        if volume["attachments"] or volume["status"] not in ("available", "error"):
            raise HttpError(400, f"Invalid volume: Volume {volume_id} status must be "
                                 f"available or error and it must not be attached, but it "
                                 f"is {volume['status']}.")
        self.store.delete("volume", volume_id)
        (self.data_dir / self.file_name(volume_id)).unlink(missing_ok=True)

    def extend(self, who: Identity, volume_id: str, new_size: Any) -> None:
        volume = self.visible(volume_id, who)
        if not isinstance(new_size, int) or new_size <= volume["size"]:
            raise bad_request(f"new_size={new_size!r}: must be a whole number of GiB larger "
                              f"than the volume's {volume['size']}")
        if volume["attachments"] or volume["status"] != "available":
            raise bad_request(
                f"Invalid volume: volume {volume_id} is {volume['status']}: this SMB "
                f"backend ({SHARE}) extends available volumes only (Hyper-V cannot extend "
                "an SMB-backed disk while it is attached); detach it, extend it, attach it "
                "again")
        vhdfile.resize(self.data_dir / self.file_name(volume_id), new_size * GiB)
        self.store.update("volume", volume_id, lambda v: v.update(size=new_size,
                                                                   updated_at=_now()))

    def mark_detaching(self, who: Identity, volume_id: str, detaching: bool) -> None:
        volume = self.visible(volume_id, who)
        expected, new = ("in-use", "detaching") if detaching else ("detaching", "in-use")
        if volume["status"] != expected:
            raise HttpError(400, f"Invalid volume: Volume {volume_id} status must be "
                                 f"{expected}, but it is {volume['status']}.")
        self.store.update("volume", volume_id, lambda v: v.update(status=new))

    # Attachments (Cinder 3.44+).
    def attach(self, who: Identity, fields: dict[str, Any]) -> Doc:
        volume = self.visible(str(fields.get("volume_uuid")), who)
        if volume["status"] != "available" or volume["attachments"]:
            raise HttpError(400, f"Invalid volume: Volume {volume['id']} status must be "
                                 f"available to reserve, but it is {volume['status']}.")
        attachment = {
            "id": str(uuid.uuid4()), "volume_id": volume["id"],
            "instance": fields.get("instance_uuid"), "status": "reserved",
            "attach_mode": fields.get("mode") or "rw", "attached_at": None,
            "detached_at": None, "connection_info": {}, "connector": None,
        }
        with self.store.transaction():
            self.store.put("attachment", attachment)
            self.store.update("volume", volume["id"], lambda v: v.update(
                status="reserved", updated_at=_now()))
            if fields.get("connector"):
                return self.update_attachment(who, attachment["id"], fields["connector"])
        return attachment

    def update_attachment(self, who: Identity, attachment_id: str,
                          connector: dict[str, Any]) -> Doc:
        attachment = self._attachment(attachment_id, who)
        # Flat, as Cinder's attachments API answers (3.44+): the driver's type beside
        # its data; nova puts the data back under "data" itself.
        info = {
            "driver_volume_type": "smbfs", "export": SHARE,
            "name": self.file_name(attachment["volume_id"]), "format": "vhdx",
            "volume_id": attachment["volume_id"], "access_mode": attachment["attach_mode"],
            "options": None, "attachment_id": attachment_id,
        }

        def change(doc: Doc) -> None:
            doc.update(connection_info=info, connector=connector, status="attaching")

        with self.store.transaction():
            self.store.update("volume", attachment["volume_id"],
                              lambda v: v.update(status="attaching"))
            return self.store.update("attachment", attachment_id, change) or {}

    def complete(self, who: Identity, attachment_id: str) -> None:
        attachment = self._attachment(attachment_id, who)
        now = _now()
        host = (attachment.get("connector") or {}).get("host")

        def attached(volume: Doc) -> None:
            volume["status"] = "in-use"
            volume["attachments"] = [{
                "id": volume["id"], "attachment_id": attachment_id,
                "volume_id": volume["id"], "server_id": attachment["instance"],
                "host_name": host, "device": (attachment.get("connector") or {}).get(
                    "mountpoint"), "attached_at": now}]

        with self.store.transaction():
            self.store.update("attachment", attachment_id, lambda a: a.update(
                status="attached", attached_at=now))
            self.store.update("volume", attachment["volume_id"], attached)

    def detach(self, who: Identity, attachment_id: str) -> None:
        attachment = self._attachment(attachment_id, who)

        def released(volume: Doc) -> None:
            volume["attachments"] = [a for a in volume["attachments"]
                                     if a["attachment_id"] != attachment_id]
            if not volume["attachments"]:
                volume["status"] = "available"

        with self.store.transaction():
            self.store.delete("attachment", attachment_id)
            self.store.update("volume", attachment["volume_id"], released)

    def _attachment(self, attachment_id: str, who: Identity) -> Doc:
        attachment = self.store.get("attachment", attachment_id)
        if attachment is None:
            raise not_found("VolumeAttachment", attachment_id)
        self.visible(attachment["volume_id"], who)
        return attachment


def build_app(service: VolumeService, authority: TokenAuthority) -> JsonApp:
    app = JsonApp("volume", authority)
    base = "/v3/{project_id}"

    def version_doc(request: webob.Request) -> dict[str, Any]:
        return {"id": "v3.0", "status": "CURRENT", "version": MAX_VERSION,
                "min_version": "3.0", "updated": "2023-03-01T00:00:00Z",
                "links": [{"rel": "self", "href": f"{request.host_url}/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.volume+json;version=3"}]}

    def versions(request: webob.Request) -> Reply:
        return Reply(300, {"versions": [version_doc(request)]},
                     headers={"OpenStack-API-Version": f"volume {MAX_VERSION}"})

    def v3(request: webob.Request) -> dict[str, Any]:
        return {"versions": [version_doc(request)]}

    def scoped(request: webob.Request, project_id: str) -> Identity:
        who = identity_of(request)
        if project_id != who.project_id and not who.is_admin:
            raise HttpError(403, f"Policy doesn't allow project {who.project_id} to act "
                                 f"on project {project_id}.")
        return who

    def list_volumes(request: webob.Request, project_id: str) -> dict[str, Any]:
        who = scoped(request, project_id)
        all_projects = request.GET.get("all_tenants") in ("1", "true", "True") and who.is_admin
        volumes = service.store.all("volume", lambda v: all_projects or
                                    v["os-vol-tenant-attr:tenant_id"] == project_id)
        for key in ("name", "status"):
            if key in request.GET:
                volumes = [v for v in volumes if v.get(key) == request.GET[key]]
        return {"volumes": volumes}

    def create(request: webob.Request, project_id: str) -> Reply:
        return Reply(202, {"volume": service.create(scoped(request, project_id),
                                                    json_body(request, "volume"))})

    def show(request: webob.Request, project_id: str, volume_id: str) -> dict[str, Any]:
        return {"volume": service.visible(volume_id, scoped(request, project_id))}

    def update(request: webob.Request, project_id: str, volume_id: str) -> dict[str, Any]:
        who = scoped(request, project_id)
        service.visible(volume_id, who)
        fields = json_body(request, "volume")
        changes = {k: fields[k] for k in ("name", "description", "metadata") if k in fields}
        return {"volume": service.store.update("volume", volume_id,
                                               lambda v: v.update(changes))}

    def delete(request: webob.Request, project_id: str, volume_id: str) -> Reply:
        service.delete(scoped(request, project_id), volume_id)
        return Reply(202)

    def action(request: webob.Request, project_id: str, volume_id: str) -> Reply:
        who = scoped(request, project_id)
        body = json_body(request)
        if not isinstance(body, dict) or len(body) != 1:
            raise bad_request("a volume action body is an object with one action")
        name, args = next(iter(body.items()))
        if name == "os-extend":
            service.extend(who, volume_id, (args or {}).get("new_size"))
        elif name in ("os-begin_detaching", "os-roll_detaching"):
            # nova marks a volume it is about to detach, and unmarks it if that fails.
            service.mark_detaching(who, volume_id, name == "os-begin_detaching")
        elif name == "os-reset_status" and who.is_admin:
            status = (args or {}).get("status", "available")
            service.store.update("volume", volume_id, lambda v: v.update(status=status))
        else:
            raise bad_request(f"volume action {name!r} is not offered; offered: os-extend, "
                              "os-begin_detaching, os-roll_detaching, os-reset_status "
                              "(admin)")
        return Reply(202)

    def create_attachment(request: webob.Request, project_id: str) -> dict[str, Any]:
        return {"attachment": service.attach(scoped(request, project_id),
                                             json_body(request, "attachment"))}

    def show_attachment(request: webob.Request, project_id: str, attachment_id: str
                        ) -> dict[str, Any]:
        return {"attachment": service._attachment(attachment_id,
                                                  scoped(request, project_id))}

    def update_attachment(request: webob.Request, project_id: str, attachment_id: str
                          ) -> dict[str, Any]:
        fields = json_body(request, "attachment")
        return {"attachment": service.update_attachment(
            scoped(request, project_id), attachment_id, fields.get("connector") or {})}

    def attachment_action(request: webob.Request, project_id: str, attachment_id: str
                          ) -> Reply:
        body = json_body(request)
        if not isinstance(body, dict) or "os-complete" not in body:
            raise bad_request("the only attachment action offered is os-complete")
        service.complete(scoped(request, project_id), attachment_id)
        return Reply(204)

    def delete_attachment(request: webob.Request, project_id: str, attachment_id: str
                          ) -> dict[str, Any]:
        service.detach(scoped(request, project_id), attachment_id)
        return {"attachments": []}

    def types(request: webob.Request, project_id: str) -> dict[str, Any]:
        scoped(request, project_id)
        return {"volume_types": [VOLUME_TYPE]}

    def default_type(request: webob.Request, project_id: str, type_id: str
                     ) -> dict[str, Any]:
        scoped(request, project_id)
        if type_id not in (VOLUME_TYPE["id"], VOLUME_TYPE["name"], "default"):
            raise not_found("VolumeType", type_id)
        return {"volume_type": VOLUME_TYPE}

    def zones(request: webob.Request, project_id: str) -> dict[str, Any]:
        scoped(request, project_id)
        return {"availabilityZoneInfo": [{"zoneName": "nova",
                                          "zoneState": {"available": True}}]}

    app.route("GET", "/", versions, public=True)
    app.route("GET", "/v3", v3, public=True)
    app.route("GET", f"{base}/volumes", list_volumes)
    app.route("GET", f"{base}/volumes/detail", list_volumes)
    app.route("POST", f"{base}/volumes", create)
    app.route("GET", f"{base}/volumes/{{volume_id}}", show)
    app.route("PUT", f"{base}/volumes/{{volume_id}}", update)
    app.route("DELETE", f"{base}/volumes/{{volume_id}}", delete)
    app.route("POST", f"{base}/volumes/{{volume_id}}/action", action)
    app.route("POST", f"{base}/attachments", create_attachment)
    app.route("GET", f"{base}/attachments/{{attachment_id}}", show_attachment)
    app.route("PUT", f"{base}/attachments/{{attachment_id}}", update_attachment)
    app.route("POST", f"{base}/attachments/{{attachment_id}}/action", attachment_action)
    app.route("DELETE", f"{base}/attachments/{{attachment_id}}", delete_attachment)
    app.route("GET", f"{base}/types", types)
    app.route("GET", f"{base}/types/{{type_id}}", default_type)
    app.route("GET", f"{base}/os-availability-zone", zones)
    return app


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000")
