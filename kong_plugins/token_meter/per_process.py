"""One sink per settings value per process.

Kong renews plugin instances on every config change; a sink owns a thread, a socket or a file
and must outlive them, so instances ask for it here instead of building their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerProcess(Generic[K, V]):
    def __init__(self, factory: Callable[[K], V]) -> None:
        self._factory = factory
        self._objects: dict[K, V] = {}
        self._lock = threading.Lock()

    def __call__(self, settings: K) -> V:
        with self._lock:
            obj = self._objects.get(settings)
            if obj is None:
                obj = self._objects[settings] = self._factory(settings)
            return obj
