"""A local, scriptable Clover: OAuth, Ecommerce, tokenization, Platform v3, REST Pay Display,
webhooks and the iframe SDK on one base URL, plus a control API under /_emulator/.

    from emulator import running_emulator
    with running_emulator(auto_approve=True) as emu:
        emu.base_url, emu.control.state()

Imported as `emulator` by its own tests and as `odoo.addons.fusion_clover.emulator` by Odoo's,
so every import inside the package is relative.
"""
from .client import EmulatorClient
from .server import Emulator, running_emulator
from .switches import SWITCHES

__all__ = ["Emulator", "EmulatorClient", "SWITCHES", "running_emulator"]
