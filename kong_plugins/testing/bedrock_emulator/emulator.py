"""BedrockEmulator: the library form, serving on a background thread's event loop."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from .app import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, EmulatorApp
from .server import Server


class BedrockEmulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        per_token_ms: float = 0,
        frame_gap_ms: float = 1.0,
    ) -> None:
        self.host = host
        self.port = port
        self.app = EmulatorApp(latency_ms, per_token_ms, frame_gap_ms)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BedrockEmulator:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = Server(self.app)
            try:
                self.port = loop.run_until_complete(self._server.start(self.host, self.port))
            except BaseException as exc:  # surface bind errors in start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._server.close())
            pending = asyncio.all_tasks(loop)
            for task in pending:  # streams still sleeping between frames
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="bedrock-emulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> BedrockEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- test controls ---------------------------------------------------------------------------------------
    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Every request received (headers with secrets REDACTED), optionally one operation's."""
        calls = self.app.calls()
        return [c for c in calls if c["operation"] == operation] if operation else calls

    def reset(self) -> None:
        """Forget calls, injections and prompt-cache state; latency returns to the constructor values."""
        self.app.reset()

    def inject(
        self,
        error: str = "ThrottlingException",
        count: int | None = 1,
        model: str | None = None,
        operation: str | None = None,
        mid_stream: bool = False,
    ) -> None:
        """The next `count` matching calls fail with `error` (count=None: every matching call)."""
        self.app.injector.add(error, count, model, operation, mid_stream)

    def inject_rate(
        self,
        error: str,
        rate: float,
        model: str | None = None,
        operation: str | None = None,
        mid_stream: bool = False,
        seed: int = 0,
    ) -> None:
        """A deterministic (seeded) fraction `rate` of matching calls fail with `error`."""
        self.app.injector.add(error, None, model, operation, mid_stream, rate, seed)

    def set_latency(self, latency_ms: float = 0, per_token_ms: float = 0) -> None:
        self.app.timing.latency_ms = latency_ms
        self.app.timing.per_token_ms = per_token_ms

    def client(self, max_attempts: int = 3, region: str = "us-east-1", **config: Any) -> Any:
        """A fresh boto3 bedrock-runtime client signed with the test credentials (standard retries)."""
        cfg = Config(retries={"mode": "standard", "total_max_attempts": max_attempts}, **config)
        return boto3.client(
            "bedrock-runtime",
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=TEST_ACCESS_KEY_ID,
            aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
            config=cfg,
        )
