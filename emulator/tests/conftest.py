"""One emulator for the whole session over real loopback HTTP, reset before every test."""
import uuid

import pytest

from emulator import running_emulator
from emulator.tests.helpers import Clover


@pytest.fixture(scope="session")
def emu():
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _fresh(emu):
    emu.control.reset()


@pytest.fixture
def control(emu):
    return emu.control


@pytest.fixture
def identity(emu):
    return emu.control.state()


@pytest.fixture
def clover(emu, identity):
    return Clover(emu.base_url, identity, emu.control.issue_tokens()["access_token"])


@pytest.fixture
def key():
    return str(uuid.uuid4())
