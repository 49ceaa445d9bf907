"""Fixtures for the SDK-compatibility suite; run it with `bash tests/compat/run.sh`."""

from __future__ import annotations

import os
import uuid

import anthropic
import httpx
import openai
import pytest

from helpers import TIMEOUT_S, make_anthropic, make_openai


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite with `bash tests/compat/run.sh`", returncode=2)
    return value


@pytest.fixture(scope="session")
def gateway_url() -> str:
    """Gateway with CRUX_MASTER_KEY set."""
    return _env("CRUX_GATEWAY_URL").rstrip("/")


@pytest.fixture(scope="session")
def nokey_gateway_url() -> str:
    """Gateway without a master key (serves loopback clients only)."""
    return _env("CRUX_GATEWAY_NOKEY_URL").rstrip("/")


@pytest.fixture(scope="session")
def master_key() -> str:
    return _env("CRUX_MASTER_KEY")


@pytest.fixture(scope="session")
def mock_url() -> str:
    return _env("CRUX_MOCK_URL").rstrip("/")


@pytest.fixture(scope="session")
def oai(gateway_url: str, master_key: str) -> openai.OpenAI:
    """OpenAI SDK client pointed at the gateway (master key, no SDK retries)."""
    return make_openai(gateway_url, master_key)


@pytest.fixture(scope="session")
def ant(gateway_url: str, master_key: str) -> anthropic.Anthropic:
    """Anthropic SDK client pointed at the gateway (master key, no SDK retries)."""
    return make_anthropic(gateway_url, master_key)


@pytest.fixture(scope="session")
def http(gateway_url: str):
    """Raw HTTP client for what the SDKs cannot send (bad JSON, missing keys)."""
    with httpx.Client(base_url=gateway_url, timeout=TIMEOUT_S) as c:
        yield c


@pytest.fixture
def nonce() -> str:
    """A unique token, so prompts (and fault specs with counters) never collide between tests."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def provider_key() -> str:
    """The key the gateway holds for every provider (the mock records what it receives)."""
    return _env("CRUX_PROVIDER_KEY")
