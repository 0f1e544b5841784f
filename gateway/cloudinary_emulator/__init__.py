"""An in-memory Cloudinary for tests and local runs: Upload, Admin and delivery APIs.

Build one with ``create_emulator_app(EmulatorConfig(...))`` (ASGI, mountable) or run it with
``EmulatorServer``; point the official SDK at it per call with ``sdk_config(...)``.
"""

from gateway.cloudinary_emulator.app import create_emulator_app, emulator_of_app
from gateway.cloudinary_emulator.config import EmulatorConfig
from gateway.cloudinary_emulator.emulator import Emulator, create_emulator
from gateway.cloudinary_emulator.faults import FaultSettings, FaultSwitches
from gateway.cloudinary_emulator.notifications import SentNotification
from gateway.cloudinary_emulator.server import EmulatorServer, run_emulator, sdk_config
from gateway.cloudinary_emulator.stats import EmulatorStats
from gateway.cloudinary_emulator.store import Asset, AssetKey

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
    "create_emulator",
    "create_emulator_app",
    "emulator_of_app",
    "run_emulator",
    "sdk_config",
]
