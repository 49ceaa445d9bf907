"""Route aliases with fallback, the issue's cross-dialect acceptance cases, and what goes upstream.

The runner's config: `smart = ["xai/grok-3-mini", "openai/gpt-4o-mini"]` and
`smart-anthropic = ["xai/grok-3-mini", "anthropic/claude-3-5-haiku-latest"]`, with xai pointed at a closed
port, so the first target always fails before any content and the second one serves.
"""

from __future__ import annotations

import json

import anthropic
import openai
import pytest

from helpers import (
    ANTHROPIC_WEATHER_TOOL,
    OPENAI_WEATHER_TOOL,
    TOOL_PROMPT,
    TOOL_RESULT,
    recorded_requests,
)

ALIASES = [("smart", "openai/gpt-4o-mini"), ("smart-anthropic", "anthropic/claude-3-5-haiku-latest")]


@pytest.mark.parametrize(("alias", "served_by"), ALIASES)
def test_fallback_openai_sdk(oai: openai.OpenAI, alias: str, served_by: str, nonce: str) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model=alias, messages=[{"role": "user", "content": f"fallback {nonce}"}]
    )
    assert raw.headers["x-crux-target"] == served_by
    resp = raw.parse()
    assert f"fallback {nonce}" in resp.choices[0].message.content
    assert resp.usage.completion_tokens > 0


UPSTREAM_PATH = {"openai/gpt-4o-mini": "/v1/chat/completions", "anthropic/claude-3-5-haiku-latest": "/v1/messages"}


def _served_upstream(mock_url: str, served_by: str, needle: str) -> None:
    """The mock (every live provider) received the request on the second target's wire."""
    hits = [r for r in recorded_requests(mock_url) if needle in json.dumps(r["body"], ensure_ascii=False)]
    assert [r["path"] for r in hits] == [UPSTREAM_PATH[served_by]], hits
    assert served_by.split("/", 1)[1] == hits[0]["body"]["model"]


@pytest.mark.parametrize(("alias", "served_by"), ALIASES)
def test_fallback_openai_sdk_stream(
    oai: openai.OpenAI, alias: str, served_by: str, nonce: str, mock_url: str
) -> None:
    stream = oai.chat.completions.create(
        model=alias,
        messages=[{"role": "user", "content": f"fallback stream {nonce}"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert f"fallback stream {nonce}" in text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    _served_upstream(mock_url, served_by, nonce)


@pytest.mark.parametrize(("alias", "served_by"), ALIASES)
def test_fallback_stream_names_target_header(oai: openai.OpenAI, alias: str, served_by: str) -> None:
    with oai.chat.completions.with_streaming_response.create(
        model=alias, messages=[{"role": "user", "content": "which target"}], stream=True
    ) as raw:
        assert raw.headers["x-crux-target"] == served_by


@pytest.mark.parametrize(("alias", "served_by"), ALIASES)
def test_fallback_anthropic_sdk(ant: anthropic.Anthropic, alias: str, served_by: str, nonce: str) -> None:
    raw = ant.messages.with_raw_response.create(
        model=alias, max_tokens=100, messages=[{"role": "user", "content": f"fallback {nonce}"}]
    )
    assert raw.headers["x-crux-target"] == served_by
    msg = raw.parse()
    assert f"fallback {nonce}" in msg.content[0].text


@pytest.mark.parametrize(("alias", "served_by"), ALIASES)
def test_fallback_anthropic_sdk_stream(
    ant: anthropic.Anthropic, alias: str, served_by: str, nonce: str, mock_url: str
) -> None:
    with ant.messages.stream(
        model=alias, max_tokens=100, messages=[{"role": "user", "content": f"fallback stream {nonce}"}]
    ) as stream:
        final = stream.get_final_message()
    assert f"fallback stream {nonce}" in final.content[0].text
    assert final.stop_reason == "end_turn"
    _served_upstream(mock_url, served_by, nonce)


def test_fallback_with_tools_stream(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(
        model="smart-anthropic", messages=[{"role": "user", "content": TOOL_PROMPT}], tools=[OPENAI_WEATHER_TOOL]
    ) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)


# ----------------------------------------------------------------------------- acceptance (issue 6)


def test_acceptance_openai_sdk_streams_tool_calls_from_anthropic_upstream(oai: openai.OpenAI) -> None:
    model = "anthropic/claude-3-5-haiku-latest"
    messages: list[dict] = [{"role": "user", "content": TOOL_PROMPT}]
    with oai.chat.completions.stream(model=model, messages=messages, tools=[OPENAI_WEATHER_TOOL]) as stream:
        arg_deltas = sum(1 for e in stream if e.type == "tool_calls.function.arguments.delta")
        final = stream.get_final_completion()
    assert arg_deltas >= 1
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)
    messages.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function",
         "function": {"name": call.function.name, "arguments": call.function.arguments}}]})
    messages.append({"role": "tool", "tool_call_id": call.id, "content": TOOL_RESULT})
    # The result goes back streamed as well.
    with oai.chat.completions.stream(model=model, messages=messages, tools=[OPENAI_WEATHER_TOOL]) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == f"Tool result received: {TOOL_RESULT}"
    assert final.choices[0].finish_reason == "stop"


def test_acceptance_anthropic_sdk_streams_tool_calls_from_openai_upstream(
    ant: anthropic.Anthropic, mock_url: str
) -> None:
    model = "openai/gpt-4o-mini"
    messages: list[dict] = [{"role": "user", "content": TOOL_PROMPT}]
    with ant.messages.stream(model=model, max_tokens=200, tools=[ANTHROPIC_WEATHER_TOOL], messages=messages) as s:
        final = s.get_final_message()
    assert final.stop_reason == "tool_use"
    uses = [b for b in final.content if b.type == "tool_use"]
    assert len(uses) == 1 and uses[0].name == "get_weather"
    assert isinstance(uses[0].input["city"], str)
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in final.content]})
    messages.append({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": uses[0].id, "content": TOOL_RESULT}]})
    with ant.messages.stream(model=model, max_tokens=200, tools=[ANTHROPIC_WEATHER_TOOL], messages=messages) as s:
        final = s.get_final_message()
    assert final.content[0].text == f"Tool result received: {TOOL_RESULT}"
    assert final.stop_reason == "end_turn"
    # The OpenAI upstream saw a proper tool message answering the call it made.
    sent = [r["body"] for r in recorded_requests(mock_url)
            if r["path"] == "/v1/chat/completions" and TOOL_RESULT in str(r["body"])]
    assert sent, "no upstream request carried the tool result"
    tool_msgs = [m for m in sent[-1]["messages"] if m["role"] == "tool"]
    assert tool_msgs and tool_msgs[0]["tool_call_id"] == uses[0].id


# ------------------------------------------------------------------------------------ upstream keys


def test_client_key_never_goes_upstream(oai: openai.OpenAI, ant: anthropic.Anthropic, mock_url: str,
                                        master_key: str, provider_key: str, nonce: str) -> None:
    oai.chat.completions.create(model="anthropic/claude-3-5-haiku-latest",
                                messages=[{"role": "user", "content": nonce}])
    ant.messages.create(model="openai/gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": nonce}])
    recorded = recorded_requests(mock_url)
    assert recorded
    for r in recorded:
        assert all(master_key not in v for _, v in r["headers"]), r["headers"]
    mine = [r for r in recorded if nonce in json.dumps(r["body"])]
    assert len(mine) == 2
    for r in mine:
        headers = dict(r["headers"])
        sent = headers.get("x-api-key") or headers.get("authorization", "")
        assert provider_key in sent, headers
