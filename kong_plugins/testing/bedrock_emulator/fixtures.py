"""Pytest fixture `emulator`: one emulator per session, reset before every test (isolation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import BedrockEmulator


@pytest.fixture(scope="session")
def _bedrock_emulator_session() -> Iterator[BedrockEmulator]:
    emu = BedrockEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_bedrock_emulator_session: BedrockEmulator) -> Iterator[BedrockEmulator]:
    _bedrock_emulator_session.reset()
    yield _bedrock_emulator_session
    _bedrock_emulator_session.reset()
