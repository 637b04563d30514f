"""Shielding data (PDK) and specialization data (FSK) files, as the emulated host reads them.

A real PDK comes from a Host Guardian Service and is encrypted to its guardians; there
is no HGS here, so the emulated host defines its own container, which tests and the
local cloud can write (`write_pdk`) and which `root/msps` reads and writes
(`Msps_ProvisioningFileProcessor`). It looks like a signed file and is checked like
one: a corrupt or truncated file is refused.

Layout (all integers little-endian):

    magic       8 bytes   b"EMUPDK01" (shielding data) or b"EMUFSK01" (specialization)
    header      u32 length + UTF-8 JSON
    sections    PDK only: u32 length + key protector bytes, u32 length + policy bytes
    digest      32 bytes  SHA-256 of everything before it

PDK header: {"name", "owner", "guardians": [names], "policy": "Shielded" or
"EncryptionSupported", "fsk_keys": [substitution strings the answer file needs]}.
FSK header: {"pairs": {substitution string: value}}. A key protector made by
`new_key_protector` is b"EMUKP01\\0" + JSON {"owner", "guardians", "key"}; the policy
data is b"EMUPOL01" + JSON {"policy"}. The security service accepts any non-empty key
protector (a real host accepts local ones too); only these files are parsed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FSK_MAGIC",
    "PDK_MAGIC",
    "POLICIES",
    "ShieldingData",
    "ShieldingDataError",
    "new_key_protector",
    "parse_file",
    "read_fsk",
    "read_pdk",
    "write_fsk",
    "write_pdk",
]

PDK_MAGIC = b"EMUPDK01"
FSK_MAGIC = b"EMUFSK01"
_KEY_PROTECTOR_MAGIC = b"EMUKP01\0"
_POLICY_MAGIC = b"EMUPOL01"
_DIGEST = 32
POLICIES = ("Shielded", "EncryptionSupported")


class ShieldingDataError(ValueError):
    """A provisioning file that is missing, truncated, corrupt or of another kind."""


@dataclass(frozen=True)
class ShieldingData:
    """What a PDK holds: who owns the VM, who may run it, and its security policy."""

    name: str
    owner: str
    key_protector: bytes
    policy_data: bytes
    guardians: tuple[str, ...] = ("HGS",)
    policy: str = "Shielded"
    fsk_keys: tuple[str, ...] = ()
    raw: bytes = field(default=b"", compare=False)

    @property
    def shielded(self) -> bool:
        return self.policy == "Shielded"


def new_key_protector(owner: str, guardians: Iterable[str]) -> bytes:
    """A fresh key protector naming its owner and guardians, with a random wrapping key."""
    body = {"owner": owner, "guardians": list(guardians), "key": secrets.token_hex(16)}
    return _KEY_PROTECTOR_MAGIC + json.dumps(body, sort_keys=True).encode()


def _policy_data(policy: str) -> bytes:
    return _POLICY_MAGIC + json.dumps({"policy": policy}).encode()


def write_pdk(path: str | Path, *, name: str = "Shielding data", owner: str = "Owner",
              guardians: Iterable[str] = ("HGS",), policy: str = "Shielded",
              fsk_keys: Iterable[str] = (), key_protector: bytes | None = None,
              policy_data: bytes | None = None) -> ShieldingData:
    """Write a PDK (a new key protector unless one is given) and return what it holds."""
    if policy not in POLICIES:
        raise ShieldingDataError(f"policy {policy!r} is not one of {', '.join(POLICIES)}")
    guardians = tuple(guardians)
    if key_protector is None:
        key_protector = new_key_protector(owner, guardians)
    if not key_protector:
        raise ShieldingDataError("a PDK needs a non-empty key protector")
    if policy_data is None:
        policy_data = _policy_data(policy)
    header = {"name": name, "owner": owner, "guardians": list(guardians), "policy": policy,
              "fsk_keys": list(fsk_keys)}
    body = PDK_MAGIC + _section(json.dumps(header).encode()) + _section(key_protector) + \
        _section(policy_data)
    raw = body + hashlib.sha256(body).digest()
    Path(path).write_bytes(raw)
    return _pdk(header, key_protector, policy_data, raw)


def write_fsk(path: str | Path, pairs: Mapping[str, str]) -> bytes:
    """Write a specialization data file of substitution strings and their values."""
    header = {"pairs": {str(k): str(v) for k, v in pairs.items()}}
    body = FSK_MAGIC + _section(json.dumps(header).encode())
    raw = body + hashlib.sha256(body).digest()
    Path(path).write_bytes(raw)
    return raw


def read_pdk(path: str | Path) -> ShieldingData:
    found = parse_file(path)
    if not isinstance(found, ShieldingData):
        raise ShieldingDataError(f"{path} is a specialization data (FSK) file, not shielding "
                                 "data (PDK)")
    return found


def read_fsk(path: str | Path) -> dict[str, str]:
    found = parse_file(path)
    if not isinstance(found, dict):
        raise ShieldingDataError(f"{path} is a shielding data (PDK) file, not specialization "
                                 "data (FSK)")
    return found


def parse_file(path: str | Path) -> ShieldingData | dict[str, str]:
    """A PDK (as ShieldingData) or an FSK (as its substitution pairs)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ShieldingDataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    magic, body, digest = raw[:8], raw[:-_DIGEST], raw[-_DIGEST:]
    if magic not in (PDK_MAGIC, FSK_MAGIC):
        raise ShieldingDataError(f"{path} is not a shielding data (PDK) or specialization "
                                 "data (FSK) file of the emulated host")
    if len(raw) < 8 + 4 + _DIGEST or hashlib.sha256(body).digest() != digest:
        raise ShieldingDataError(f"{path}: the file is corrupt (its signature does not match)")
    sections = _sections(body[8:], path)
    header = _json(sections[0], path)
    if magic == FSK_MAGIC:
        pairs = header.get("pairs")
        if len(sections) != 1 or not isinstance(pairs, dict):
            raise ShieldingDataError(f"{path}: not a well-formed specialization data file")
        return {str(k): str(v) for k, v in pairs.items()}
    if len(sections) != 3:
        raise ShieldingDataError(f"{path}: not a well-formed shielding data file")
    return _pdk(header, sections[1], sections[2], raw)


def _pdk(header: Mapping[str, Any], key_protector: bytes, policy_data: bytes,
         raw: bytes) -> ShieldingData:
    return ShieldingData(
        name=str(header.get("name", "")), owner=str(header.get("owner", "")),
        key_protector=key_protector, policy_data=policy_data,
        guardians=tuple(header.get("guardians") or ()), policy=str(header.get("policy")),
        fsk_keys=tuple(header.get("fsk_keys") or ()), raw=raw,
    )


def _section(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def _sections(data: bytes, path: str | Path) -> list[bytes]:
    found = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise ShieldingDataError(f"{path}: truncated section header at byte {offset + 8}")
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if offset + length > len(data):
            raise ShieldingDataError(f"{path}: a section of {length} bytes runs past the end")
        found.append(data[offset:offset + length])
        offset += length
    return found


def _json(data: bytes, path: str | Path) -> dict[str, Any]:
    try:
        value = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ShieldingDataError(f"{path}: the header is not JSON") from None
    if not isinstance(value, dict):
        raise ShieldingDataError(f"{path}: the header is not a JSON object")
    return value
