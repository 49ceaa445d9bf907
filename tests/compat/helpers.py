"""Shared constants and client factories of the SDK-compatibility suite."""

from __future__ import annotations

import json

import anthropic
import httpx
import openai

# Per-request bound: the mock answers in milliseconds; the slowest scripted fault takes ~3 s.
TIMEOUT_S = 15.0

# One model per provider (all served by `crux mock`), covering every upstream wire:
# OpenAI Chat Completions, OpenAI reasoning, Anthropic Messages, Gemini, Ollama.
MODELS = [
    "openai/gpt-4o-mini",
    "openai/o4-mini",
    "anthropic/claude-3-5-haiku-latest",
    "gemini/gemini-2.0-flash",
    "ollama/llama3.2",
    "mistral/mistral-small-latest",
    "deepseek/deepseek-chat",
    "groq/llama-3.1-8b-instant",
    "openrouter/meta-llama/llama-3.1-8b-instruct",
]

# Tool definitions in both dialects.
WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
OPENAI_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": WEATHER_PARAMS,
    },
}
ANTHROPIC_WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": WEATHER_PARAMS,
}
TOOL_PROMPT = "What is the weather in Paris? Use the get_weather tool."
TOOL_RESULT = '{"temp_c": 21, "sky": "clear"}'


def make_openai(base: str, key: str, **kw) -> openai.OpenAI:
    """OpenAI SDK client for a gateway root URL (the SDK's base_url gets `/v1`)."""
    kw.setdefault("timeout", TIMEOUT_S)
    kw.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=base + "/v1", api_key=key, **kw)


def make_anthropic(base: str, key: str, **kw) -> anthropic.Anthropic:
    """Anthropic SDK client for a gateway root URL (the SDK appends `/v1/messages` itself)."""
    kw.setdefault("timeout", TIMEOUT_S)
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=base, api_key=key, **kw)


def upstream_request(mock_url: str, path: str, needle: str) -> dict:
    """The body of the last request the mock received on `path` whose JSON contains `needle`."""
    recorded = httpx.get(mock_url + "/_mock/requests", timeout=TIMEOUT_S).json()
    for r in reversed(recorded):
        if r["path"] == path and needle in json.dumps(r["body"], ensure_ascii=False):
            return r["body"]
    raise AssertionError(f"no upstream request to {path} containing {needle!r}")


def recorded_requests(mock_url: str) -> list[dict]:
    """Every request the mock has recorded so far."""
    return httpx.get(mock_url + "/_mock/requests", timeout=TIMEOUT_S).json()
