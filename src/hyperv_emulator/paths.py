"""WMI object paths: `\\\\HOST\\root\\virtualization\\v2:Class.Key="value",...`.

The canonical form (what `path_()` returns on a real host) puts the keys in
alphabetical order, quotes string values and doubles every backslash and escapes
every double quote inside them, so a RASD path reads
`...:Msvm_ResourceAllocationSettingData.InstanceID="Microsoft:<VM>\\\\<GUID>\\\\0"`.

Clients are loose about it: libvirt spells the namespace `Root\\Virtualization\\V2`,
os-win upper-cases whole paths and turns every backslash into a slash before asking
for a job, and PyMI then turns each `//` of a key value back into one backslash. The
parser accepts all of that; matching is case-insensitive for namespace, class, key
names and key values, exactly like WMI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from hyperv_emulator.errors import WBEM_E_INVALID_OBJECT_PATH, CimError

KeyValue = str | int | bool


def normalize_namespace(namespace: str) -> str:
    """`Root\\Virtualization\\V2` and `//./root/virtualization/v2` -> root/virtualization/v2."""
    return namespace.replace("\\", "/").strip("/").lower()


@dataclass(frozen=True)
class ObjectPath:
    namespace: str | None
    class_name: str
    keys: tuple[tuple[str, KeyValue], ...] = ()
    server: str | None = None
    singleton: bool = False

    @classmethod
    def build(
        cls,
        namespace: str | None,
        class_name: str,
        keys: Mapping[str, KeyValue] | Iterable[tuple[str, KeyValue]] = (),
        server: str | None = None,
    ) -> ObjectPath:
        pairs = keys.items() if isinstance(keys, Mapping) else keys
        ordered = tuple(sorted(pairs, key=lambda kv: kv[0].lower()))
        return cls(namespace, class_name, ordered, server)

    @property
    def is_class(self) -> bool:
        return not self.keys and not self.singleton

    def key_value(self, name: str) -> KeyValue | None:
        lowered = name.lower()
        return next((v for k, v in self.keys if k.lower() == lowered), None)

    def with_namespace(self, namespace: str) -> ObjectPath:
        return ObjectPath(namespace, self.class_name, self.keys, self.server, self.singleton)

    @property
    def relpath(self) -> str:
        if self.singleton:
            return f"{self.class_name}=@"
        if not self.keys:
            return self.class_name
        return f"{self.class_name}." + ",".join(
            f"{name}={_format_value(value)}" for name, value in self.keys
        )

    def __str__(self) -> str:
        prefix = ""
        if self.namespace is not None:
            namespace = self.namespace.replace("/", "\\").strip("\\")
            prefix = f"{namespace}:"
            if self.server is not None:
                prefix = f"\\\\{self.server}\\{prefix}"
        return prefix + self.relpath

    def key(self, ref_keys: Iterable[str] = ()) -> str:
        """A case-folded, server-less form for equality: what the store indexes.

        Keys named in `ref_keys` hold object paths themselves (association ends);
        they are normalized recursively so that two spellings of one path match.
        """
        refs = {r.lower() for r in ref_keys}
        namespace = normalize_namespace(self.namespace or "")
        parts = []
        for name, value in self.keys:
            if name.lower() in refs and isinstance(value, str):
                text = parse_path(value).key()
            elif isinstance(value, str):
                text = value.lower()
            else:
                text = str(value).lower()
            parts.append(f"{name.lower()}={text}")
        body = "@" if self.singleton else ",".join(parts)
        return f"{namespace}:{self.class_name.lower()}.{body}"


def _format_value(value: KeyValue) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _bad(text: str, why: str) -> CimError:
    return CimError(WBEM_E_INVALID_OBJECT_PATH, f"invalid object path ({why}): {text}")


def parse_path(text: str) -> ObjectPath:
    """Parse any spelling a client may send (see the module docstring)."""
    if not isinstance(text, str):
        raise _bad(str(text), "not a string")
    return _parse_cached(text)


@lru_cache(maxsize=8192)
def _parse_cached(text: str) -> ObjectPath:
    if not text.strip():
        raise _bad(str(text), "empty")
    source = text.strip()
    if source.lower().startswith("winmgmts:"):
        source = source[len("winmgmts:"):]
    slash_style = "\\" not in source and source.startswith("//")
    rest = source.replace("/", "\\") if slash_style else source
    server = None
    if rest.startswith("\\\\"):
        end = rest.find("\\", 2)
        if end < 0:
            raise _bad(text, "a server needs a namespace after it")
        server = rest[2:end]
        rest = rest[end + 1:]
    namespace = None
    colon = rest.find(":")
    first_special = min((i for i in (rest.find("."), rest.find("="), rest.find('"')) if i >= 0),
                        default=len(rest))
    if 0 <= colon < first_special:
        namespace = rest[:colon].replace("/", "\\")
        rest = rest[colon + 1:]
    elif server is not None:
        raise _bad(text, "a server needs a namespace")
    if slash_style:
        # Undo the slash conversion inside the key part: PyMI reads '//' as '\'.
        rest = _restore_backslashes(source, rest)
    dot = rest.find(".")
    eq = rest.find("=")
    if eq >= 0 and rest[eq:].strip() == "=@" and (dot < 0 or dot > eq):
        return ObjectPath(namespace, rest[:eq].strip(), (), server, True)
    if dot < 0:
        class_name = rest.strip()
        if not _is_name(class_name):
            raise _bad(text, f"{class_name!r} is not a class name")
        return ObjectPath(namespace, class_name, (), server)
    class_name = rest[:dot].strip()
    if not _is_name(class_name):
        raise _bad(text, f"{class_name!r} is not a class name")
    keys = _parse_keys(rest[dot + 1:], text)
    return ObjectPath.build(namespace, class_name, keys, server)


def _restore_backslashes(source: str, rest: str) -> str:
    # `rest` was computed with every '/' turned into '\'; recompute the key part from
    # the original text so that single slashes in values stay slashes and '//' pairs
    # become one backslash (the inverse of the client's conversion).
    index = source.find(":")
    original = source[index + 1:] if index >= 0 else source
    return original.replace("//", "\\")


def _is_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c == "_" for c in name)


def _parse_keys(text: str, whole: str) -> list[tuple[str, KeyValue]]:
    keys: list[tuple[str, KeyValue]] = []
    i = 0
    n = len(text)
    while i < n:
        eq = text.find("=", i)
        if eq < 0:
            raise _bad(whole, "a key needs '=' and a value")
        name = text[i:eq].strip()
        if not _is_name(name):
            raise _bad(whole, f"{name!r} is not a key name")
        i = eq + 1
        if i < n and text[i] == '"':
            value_chars = []
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '\\"':
                    value_chars.append(text[i + 1])
                    i += 2
                    continue
                value_chars.append(text[i])
                i += 1
            if i >= n:
                raise _bad(whole, f"unterminated value of key {name}")
            i += 1
            value: KeyValue = "".join(value_chars)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            raw = text[i:end].strip()
            i = end
            if raw.upper() in ("TRUE", "FALSE"):
                value = raw.upper() == "TRUE"
            else:
                try:
                    value = int(raw)
                except ValueError:
                    raise _bad(whole, f"value {raw!r} of key {name} must be quoted") from None
        keys.append((name, value))
        while i < n and text[i] == " ":
            i += 1
        if i < n:
            if text[i] != ",":
                raise _bad(whole, f"expected ',' after key {name}")
            i += 1
    if not keys:
        raise _bad(whole, "no keys after '.'")
    return keys


def same_path(a: str, b: str) -> bool:
    """Whether two path strings name the same object (case- and spelling-insensitive)."""
    try:
        return parse_path(a).key() == parse_path(b).key()
    except CimError:
        return a.lower() == b.lower()
