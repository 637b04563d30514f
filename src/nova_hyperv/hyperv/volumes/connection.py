"""Cinder's connection info -> what the host must reach, checked before anything is done.

Cinder hands Nova a `connection_info` dict: `driver_volume_type` and `data`, whose keys
depend on the transport (the keys Cinder's iSCSI, FC and SMB drivers fill, which
os-brick's Windows connectors read):

- iscsi: `target_portal` ("address:port", "[v6]:port"), `target_iqn`, `target_lun`;
  `auth_method` "CHAP" with `auth_username` / `auth_password`; for multipath also
  `target_portals`, `target_iqns`, `target_luns` (one entry per path).
- fibre_channel: `target_wwn` (one WWPN or a list), `target_lun`.
- smbfs: `export` (`//server/share` or `\\\\server\\share`), `name` (the image file on
  it), `options` ("-o username=U,password=P", optional), `format` (vhd / vhdx).

Anything unusable is a VolumeConfigError naming the key, the value and what would do,
before the host is touched (no retries: it is the request, not the host).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from nova_hyperv.hyperv.volumes.errors import VolumeConfigError

__all__ = [
    "FcVolume",
    "IscsiPath",
    "IscsiVolume",
    "SmbVolume",
    "VolumeTarget",
    "parse_connection",
]

ISCSI_PORT = 3260
MAX_LUN = 254
TRANSPORTS = ("iscsi", "fibre_channel", "smbfs")
_WWN = re.compile(r"^[0-9a-f]{16}$")
_PORTAL = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s:\[\]]+))(?::(?P<port>\d+))?$")
_USER = re.compile(r"user(?:name)?=([^, ]+)")
_PASSWORD = re.compile(r"pass(?:word)?=([^, ]+)")
_IMAGE_FORMATS = ("vhd", "vhdx")


@dataclass(frozen=True)
class IscsiPath:
    portal_address: str
    portal_port: int
    iqn: str
    lun: int

    @property
    def portal(self) -> str:
        return f"{self.portal_address}:{self.portal_port}"


@dataclass(frozen=True)
class IscsiVolume:
    paths: tuple[IscsiPath, ...]  # the first is the only one without multipath
    chap: tuple[str, str] | None = None  # (user name, secret)

    kind = "iscsi"


@dataclass(frozen=True)
class FcVolume:
    target_wwpns: tuple[str, ...]  # 16 lower-case hex digits each
    lun: int

    kind = "fibre_channel"


@dataclass(frozen=True)
class SmbVolume:
    share: str  # \\server\share (backslashes)
    name: str  # the image file on the share
    image_format: str  # vhd | vhdx
    username: str | None = None
    password: str | None = None

    kind = "smbfs"

    @property
    def path(self) -> str:
        return f"{self.share}\\{self.name}"


VolumeTarget = IscsiVolume | FcVolume | SmbVolume


def _lun(kind: str, key: str, value: object) -> int:
    text = str(value).strip() if value is not None else ""
    if isinstance(value, bool) or not text.isdigit() or int(text) > MAX_LUN:
        raise VolumeConfigError(kind, key, value, f"a LUN from 0 to {MAX_LUN}",
                                "names the logical unit on the target")
    return int(text)


def _text(kind: str, data: Mapping[str, object], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise VolumeConfigError(kind, key, value, "non-empty text", f"is {what}")
    return value.strip()


def _portal(value: object, key: str) -> tuple[str, int]:
    match = _PORTAL.match(value.strip()) if isinstance(value, str) else None
    port = int(match.group("port") or ISCSI_PORT) if match else 0
    if match is None or not 0 < port < 65536:
        raise VolumeConfigError("iscsi", key, value, "address[:port] or [IPv6]:port",
                                "is where the iSCSI target answers")
    return match.group("v6") or match.group("host"), port


def _iscsi(data: Mapping[str, object], multipath: bool) -> IscsiVolume:
    def path(portal: object, iqn: object, lun: object, where: str) -> IscsiPath:
        address, port = _portal(portal, f"target_portal{where}")
        if not isinstance(iqn, str) or not iqn.strip():
            raise VolumeConfigError("iscsi", f"target_iqn{where}", iqn, "an iSCSI name",
                                    "names the target to log in to")
        return IscsiPath(address, port, iqn.strip(), _lun("iscsi", f"target_lun{where}", lun))

    paths = [path(data.get("target_portal"), data.get("target_iqn"),
                  data.get("target_lun"), "")]
    lists = [data.get(k) for k in ("target_portals", "target_iqns", "target_luns")]
    if multipath and any(lists):
        if not all(isinstance(v, list) and v for v in lists) or len(
                {len(v) for v in lists}) != 1:  # type: ignore[arg-type]
            raise VolumeConfigError("iscsi", "target_portals/target_iqns/target_luns",
                                    lists, "three lists of the same length",
                                    "each multipath path is a portal, an IQN and a LUN")
        paths = [path(p, i, n, f"s[{k}]") for k, (p, i, n) in enumerate(
            zip(*lists, strict=True))]  # type: ignore[call-overload]
    chap = None
    method = data.get("auth_method")
    if method is not None and str(method).strip():
        if str(method).strip().upper() != "CHAP":
            raise VolumeConfigError("iscsi", "auth_method", method, "CHAP (or unset)",
                                    "the Microsoft iSCSI initiator logs in with CHAP or "
                                    "without authentication")
        chap = (_text("iscsi", data, "auth_username", "the CHAP user name"),
                _text("iscsi", data, "auth_password", "the CHAP secret"))
    return IscsiVolume(tuple(paths), chap)


def _fc(data: Mapping[str, object]) -> FcVolume:
    raw = data.get("target_wwn")
    values = raw if isinstance(raw, list) else [raw]
    wwpns = []
    for value in values:
        text = value.replace(":", "").replace("-", "").lower() if isinstance(value, str) else ""
        if not _WWN.match(text):
            raise VolumeConfigError("fibre_channel", "target_wwn", raw,
                                    "a WWPN (16 hex digits) or a list of them",
                                    "names the target ports the LUN is presented on")
        wwpns.append(text)
    return FcVolume(tuple(wwpns), _lun("fibre_channel", "target_lun", data.get("target_lun")))


def _smb(data: Mapping[str, object]) -> SmbVolume:
    export = _text("smbfs", data, "export", "the share holding the volume")
    share = export.replace("/", "\\").rstrip("\\")
    parts = share.lstrip("\\").split("\\")
    if not share.startswith("\\\\") or len(parts) < 2 or not all(parts):
        raise VolumeConfigError("smbfs", "export", export, "//server/share or \\\\server\\share",
                                "Hyper-V opens volume images through the share's UNC path")
    name = _text("smbfs", data, "name", "the volume's image file on the share")
    if any(c in name for c in "\\/") or name in (".", ".."):
        raise VolumeConfigError("smbfs", "name", name, "a file name", "must not be a path")
    fmt = data.get("format") or name.rpartition(".")[2]
    fmt = str(fmt).strip().lower()
    if fmt not in _IMAGE_FORMATS:
        raise VolumeConfigError("smbfs", "format", data.get("format"), "vhd or vhdx",
                                "Hyper-V attaches virtual hard disk images only")
    options = data.get("options")
    options = options if isinstance(options, str) else ""
    user = next(iter(_USER.findall(options)), None)
    password = next(iter(_PASSWORD.findall(options)), None)
    return SmbVolume(share, name, fmt, None if user == "guest" else user, password)


def parse_connection(connection_info: Mapping[str, object], *,
                     multipath: bool = False) -> VolumeTarget:
    """The volume a Cinder connection info names (VolumeConfigError if unusable)."""
    kind = connection_info.get("driver_volume_type")
    data = connection_info.get("data")
    if kind not in TRANSPORTS:
        raise VolumeConfigError(str(kind), "driver_volume_type", kind, ", ".join(TRANSPORTS),
                                "the Hyper-V driver attaches iSCSI, Fibre Channel and SMB "
                                "volumes")
    if not isinstance(data, Mapping):
        raise VolumeConfigError(str(kind), "data", data, "a mapping",
                                "holds where the volume is")
    if kind == "iscsi":
        return _iscsi(data, multipath)
    if kind == "fibre_channel":
        return _fc(data)
    return _smb(data)
