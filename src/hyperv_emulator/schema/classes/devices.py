"""Logical devices of a running or defined virtual machine."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema.model import (
    IN,
    OUT,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "Msvm_IDEController",
        "CIM_IDEController",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_SCSIProtocolController",
        "CIM_SCSIProtocolController",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_DiskDrive",
        "CIM_DiskDrive",
        props=(P("DriveNumber", "uint32"),),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
            Method("LockMedia", (IN("Lock", "boolean"),), return_codes=C.DEVICE),
        ),
    ),
    ClassDef(
        "Msvm_DVDDrive",
        "CIM_DVDDrive",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
            Method("LockMedia", (IN("Lock", "boolean"),), return_codes=C.DEVICE),
        ),
    ),
    ClassDef(
        "Msvm_LogicalDisk",
        "CIM_LogicalDisk",
        props=(P("OperationalStatus", "uint16", array=True),),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_SerialPort",
        "CIM_LogicalPort",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_SerialController",
        "CIM_SerialController",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_Keyboard",
        "CIM_UserDevice",
        props=(
            P("Layout", "string"),
            P("NumberOfFunctionKeys", "uint16"),
            P("Password", "uint16"),
            P("UnicodeSupported", "boolean"),
        ),
        methods=(
            Method("PressKey", (IN("KeyCode", "uint32"),), return_codes=C.VENDOR),
            Method("ReleaseKey", (IN("KeyCode", "uint32"),), return_codes=C.VENDOR),
            Method("TypeKey", (IN("KeyCode", "uint32"),), return_codes=C.VENDOR),
            Method(
                "IsKeyPressed",
                (
                    IN("KeyCode", "uint32"),
                    OUT("KeyState", "boolean"),
                ),
                return_codes=C.VENDOR,
            ),
            Method("TypeText", (IN("AsciiText", "string"),), return_codes=C.VENDOR),
            Method("TypeCtrlAltDel", return_codes=C.VENDOR),
            Method(
                "TypeScancodes",
                (IN("Scancodes", "uint8", array=True),),
                return_codes=C.VENDOR_SYNC,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_SyntheticKeyboard",
        "CIM_UserDevice",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
        since=10240,
    ),
    ClassDef(
        "Msvm_SyntheticMouse",
        "CIM_PointingDevice",
        props=(
            P("AbsoluteCoordinates", "boolean"),
            P("HorizontalPosition", "sint32"),
            P("VerticalPosition", "sint32"),
            P("ScrollPosition", "sint32"),
        ),
        methods=(
            Method(
                "GetButtonState",
                (
                    IN("ButtonIndex", "uint32"),
                    OUT("IsDown", "boolean"),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "SetButtonState",
                (
                    IN("ButtonIndex", "uint32"),
                    IN("IsDown", "boolean"),
                ),
                return_codes=C.VENDOR,
            ),
            Method("ClickButton", (IN("ButtonIndex", "uint32"),), return_codes=C.VENDOR),
            Method(
                "SetAbsolutePosition",
                (
                    IN("HorizontalPosition", "sint32"),
                    IN("VerticalPosition", "sint32"),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "SetScrollPosition",
                (IN("ScrollPositionDelta", "sint32"),),
                return_codes=C.VENDOR,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_Ps2Mouse",
        "CIM_PointingDevice",
        props=(P("AbsoluteCoordinates", "boolean"),),
        methods=(
            Method(
                "GetButtonState",
                (
                    IN("ButtonIndex", "uint32"),
                    OUT("ButtonState", "boolean"),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "SetButtonState",
                (
                    IN("ButtonIndex", "uint32"),
                    IN("ButtonState", "boolean"),
                ),
                return_codes=C.VENDOR,
            ),
            Method("ClickButton", (IN("ButtonIndex", "uint32"),), return_codes=C.VENDOR),
            Method(
                "SetRelativePosition",
                (
                    IN("HorizontalDelta", "sint8"),
                    IN("VerticalDelta", "sint8"),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "SetScrollPosition",
                (IN("ScrollPositionDelta", "sint8"),),
                return_codes=C.VENDOR,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_DisketteDrive",
        "CIM_DisketteDrive",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
            Method("LockMedia", (IN("Lock", "boolean"),), return_codes=C.DEVICE),
        ),
    ),
    ClassDef(
        "Msvm_DisketteController",
        "CIM_Controller",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_Battery",
        "CIM_LogicalDevice",
        since=16299,
    ),
    ClassDef(
        "Msvm_PersistentMemoryController",
        "CIM_Controller",
        since=16299,
    ),
]
