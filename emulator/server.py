"""Running the emulator: a threaded werkzeug server, in-process or as its own process."""
import threading
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import EmulatorApp
from .client import EmulatorClient
from .state import Store


class _Handler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """EmulatorApp writes its own line per request."""


class Emulator:
    """A started-on-demand emulator; `base_url` answers every Clover surface."""

    def __init__(self, host="127.0.0.1", port=0, log=False, **switches):
        self.store = Store(switches)
        self.server = make_server(host, port, EmulatorApp(self.store, log), threaded=True,
                                  request_handler=_Handler)
        self.base_url = f"http://{host}:{self.server.port}"
        self.control = EmulatorClient(self.base_url)
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="clover-emulator")
        self._thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever(poll_interval=0.2)

    def stop(self):
        # Blocked terminal calls are woken first so their threads end too.
        self.store.close()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()
        self.control.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@contextmanager
def running_emulator(port=0, host="127.0.0.1", log=False, **switches):
    """with running_emulator(auto_approve=True) as emu: emu.base_url, emu.control"""
    with Emulator(host, port, log, **switches) as emulator:
        yield emulator
