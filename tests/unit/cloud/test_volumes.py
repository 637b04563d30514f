"""The volume service: VHDX files, Cinder's attachment flow, extend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.cloud.client import Call, make_call

import vhdfile
from nova_hyperv.cloud import volumes
from nova_hyperv.cloud.docstore import DocStore
from nova_hyperv.cloud.tokens import TokenAuthority

GiB = 1 << 30


@pytest.fixture
def service(store: DocStore, tmp_path: Path) -> volumes.VolumeService:
    (tmp_path / "volumes").mkdir()
    return volumes.VolumeService(store, tmp_path / "volumes")


@pytest.fixture
def demo(authority: TokenAuthority) -> str:
    return authority.account("demo").project_id


@pytest.fixture
def call(service: volumes.VolumeService, authority: TokenAuthority) -> Call:
    return make_call(volumes.build_app(service, authority))


def _create(call: Call, token: str, project: str, size: int = 1) -> dict[str, Any]:
    answer = call("POST", f"/v3/{project}/volumes", token, {"volume": {"size": size,
                                                                         "name": "d"}})
    assert answer.status == 202, answer.json
    return answer.json["volume"]


def test_a_volume_is_a_dynamic_vhdx_of_its_size(call: Call, demo_token: str, demo: str,
                                               service: volumes.VolumeService) -> None:
    volume = _create(call, demo_token, demo, size=2)
    info = vhdfile.inspect(service.data_dir / service.file_name(volume["id"]))
    assert (info.format.value, info.type.value, info.virtual_size) == ("vhdx", "dynamic",
                                                                       2 * GiB)
    listed = call("GET", f"/v3/{demo}/volumes/detail", demo_token).json["volumes"]
    assert [v["id"] for v in listed] == [volume["id"]]


def test_nova_attach_and_detach_flow(call: Call, demo_token: str, demo: str,
                                     service: volumes.VolumeService) -> None:
    volume = _create(call, demo_token, demo)
    base = f"/v3/{demo}"
    attachment = call("POST", f"{base}/attachments", demo_token, {"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": "vm-1"}}).json["attachment"]
    assert attachment["status"] == "reserved"
    assert call("GET", f"{base}/volumes/{volume['id']}", demo_token).json["volume"][
        "status"] == "reserved"
    connector = {"host": "hyperv-host-1", "initiator": "iqn.1991-05.com.microsoft:h1"}
    updated = call("PUT", f"{base}/attachments/{attachment['id']}", demo_token,
                   {"attachment": {"connector": connector}}).json["attachment"]
    info = updated["connection_info"]
    # Flat, as Cinder answers: nova's cinder API puts everything but the type under
    # "data" (a nested "data" would hide the export from the driver).
    assert info["driver_volume_type"] == "smbfs"
    assert "data" not in info
    assert info["export"] == volumes.SHARE == "\\\\cloud\\volumes"
    assert (service.data_dir / info["name"]).is_file()
    assert call("POST", f"{base}/attachments/{attachment['id']}/action", demo_token,
                {"os-complete": None}).status == 204
    shown = call("GET", f"{base}/volumes/{volume['id']}", demo_token).json["volume"]
    assert shown["status"] == "in-use"
    assert shown["attachments"][0]["server_id"] == "vm-1"
    assert call("DELETE", f"{base}/volumes/{volume['id']}", demo_token).status == 400
    for action, status in (("os-begin_detaching", "detaching"),
                           ("os-roll_detaching", "in-use"),
                           ("os-begin_detaching", "detaching")):
        call("POST", f"{base}/volumes/{volume['id']}/action", demo_token, {action: {}})
        assert service.store.get("volume", volume["id"])["status"] == status
    assert call("DELETE", f"{base}/attachments/{attachment['id']}", demo_token).status == 200
    assert service.store.get("volume", volume["id"])["status"] == "available"
    assert call("DELETE", f"{base}/volumes/{volume['id']}", demo_token).status == 202
    assert list(service.data_dir.iterdir()) == []


def test_only_a_volume_attached_to_nothing_is_extended(call: Call, demo_token: str,
                                                      demo: str,
                                                      service: volumes.VolumeService) -> None:
    volume = _create(call, demo_token, demo)
    base = f"/v3/{demo}"
    attachment = call("POST", f"{base}/attachments", demo_token, {"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": "vm-1",
        "connector": {"host": "h"}}}).json["attachment"]
    call("POST", f"{base}/attachments/{attachment['id']}/action", demo_token,
         {"os-complete": None})
    path = service.data_dir / service.file_name(volume["id"])
    online = call("POST", f"{base}/volumes/{volume['id']}/action", demo_token,
                  {"os-extend": {"new_size": 3}})
    assert online.status == 400
    assert "is in-use: this SMB backend" in online.json["error"]["message"]
    assert vhdfile.inspect(path).virtual_size == 1 * GiB  # untouched
    call("DELETE", f"{base}/attachments/{attachment['id']}", demo_token)
    assert call("POST", f"{base}/volumes/{volume['id']}/action", demo_token,
                {"os-extend": {"new_size": 3}}).status == 202
    assert vhdfile.inspect(path).virtual_size == 3 * GiB
    smaller = call("POST", f"{base}/volumes/{volume['id']}/action", demo_token,
                   {"os-extend": {"new_size": 2}})
    assert smaller.status == 400 and "larger than the volume's 3" in smaller.json["error"][
        "message"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"size": 0}, "size=0"), ({"size": "1"}, "size='1'"),
    ({"size": 1, "imageRef": "x"}, "create an empty one")])
def test_bad_volumes_are_refused(call: Call, demo_token: str, demo: str,
                                 fields: dict[str, Any], message: str) -> None:
    answer = call("POST", f"/v3/{demo}/volumes", demo_token, {"volume": fields})
    assert answer.status == 400 and message in answer.json["error"]["message"]


def test_projects_stay_apart(call: Call, demo_token: str, admin_token: str, demo: str,
                             authority: TokenAuthority) -> None:
    volume = _create(call, demo_token, demo)
    admin_project = authority.account("admin").project_id
    assert call("GET", f"/v3/{admin_project}/volumes", demo_token).status == 403
    assert call("GET", f"/v3/{admin_project}/volumes/{volume['id']}", admin_token
                ).status == 200
    assert call("GET", f"/v3/{admin_project}/volumes?all_tenants=1", admin_token).json[
        "volumes"][0]["id"] == volume["id"]


def test_version_document_for_cinderclient(call: Call) -> None:
    root = call("GET", "/")
    assert root.status == 300
    assert root.json["versions"][0]["version"] == volumes.MAX_VERSION


def test_rename_and_admin_status_reset(call: Call, demo_token: str, admin_token: str,
                                       demo: str, service: volumes.VolumeService) -> None:
    volume = _create(call, demo_token, demo)
    base = f"/v3/{demo}/volumes/{volume['id']}"
    renamed = call("PUT", base, demo_token, {"volume": {"name": "logs", "size": 99}})
    assert (renamed.json["volume"]["name"], renamed.json["volume"]["size"]) == ("logs", 1)
    refused = call("POST", f"{base}/action", demo_token, {"os-reset_status": {
        "status": "error"}})
    assert refused.status == 400 and "os-reset_status (admin)" in refused.json["error"][
        "message"]
    assert call("POST", f"{base}/action", admin_token, {"os-reset_status": {
        "status": "error"}}).status == 202
    assert service.store.get("volume", volume["id"])["status"] == "error"
