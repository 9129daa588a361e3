"""Real Kong OSS 3.9.3 in Docker (testcontainers). The whole folder skips, with the reason,
when no Docker engine answers (the docker CLI alone is not enough)."""

from __future__ import annotations


def docker_engine_problem() -> str | None:
    """None when a Docker engine answers a ping, else why not."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except Exception as exc:  # docker raises DockerException, requests/urllib3 errors, OSError
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None
