"""An in-memory Cloudinary for tests and local runs: Upload, Admin and delivery APIs.

Build one with ``create_emulator_app(EmulatorConfig(...))`` (ASGI, mountable) or run it with
``EmulatorServer``; point the official SDK at it per call with ``sdk_config(...)``.
"""

from cloudinary_emulator.app import create_emulator_app, emulator_of_app
from cloudinary_emulator.config import EmulatorConfig
from cloudinary_emulator.control import control_headers
from cloudinary_emulator.emulator import Emulator, create_emulator
from cloudinary_emulator.faults import FaultSettings, FaultSwitches
from cloudinary_emulator.notifications import SentNotification
from cloudinary_emulator.server import EmulatorServer, run_emulator, sdk_config
from cloudinary_emulator.stats import EmulatorStats
from cloudinary_emulator.store import Asset, AssetKey

__all__ = [
    "Asset",
    "AssetKey",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorStats",
    "FaultSettings",
    "FaultSwitches",
    "SentNotification",
    "control_headers",
    "create_emulator",
    "create_emulator_app",
    "emulator_of_app",
    "run_emulator",
    "sdk_config",
]
