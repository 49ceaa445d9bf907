"""interface.md's error table, one test (or more) per row, as each official SDK sees it.

Both SDK clients run with max_retries=0 and the gateway with `[resilience] max_retries = 0`, so every
scripted upstream fault reaches the client once, fast and deterministically. Faults are scripted with
`[[mock ...]]` directives in the prompt (crux-mock removes them before replying).
"""

from __future__ import annotations

import json

import anthropic
import httpx
import openai
import pytest

from helpers import make_anthropic, make_openai

OPENAI_KINDS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "invalid_request_error", 429: "rate_limit_error"}


def _openai_body(err: openai.APIStatusError) -> dict:
    """The OpenAI SDK stores `body["error"]` as `err.body`; check the dialect's full shape from the response."""
    body = err.response.json()
    assert set(body) == {"error"}, body
    assert {"message", "type", "param", "code"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def _anthropic_body(err: anthropic.APIStatusError) -> dict:
    body = err.response.json()
    assert body["type"] == "error", body
    assert {"type", "message"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def _oai_chat(client: openai.OpenAI, model: str, text: str, **kw):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}], **kw)


def _ant_msg(client: anthropic.Anthropic, model: str, text: str, **kw):
    return client.messages.create(model=model, max_tokens=100, messages=[{"role": "user", "content": text}], **kw)


# ---------------------------------------------------------------------------------------------- 400


def test_400_openai_sdk_empty_messages(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        oai.chat.completions.create(model="openai/gpt-4o-mini", messages=[])
    assert e.value.status_code == 400
    assert _openai_body(e.value)["type"] == "invalid_request_error"


def test_400_anthropic_sdk_empty_messages(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as e:
        ant.messages.create(model="anthropic/claude-3-5-haiku-latest", max_tokens=10, messages=[])
    assert e.value.status_code == 400
    assert _anthropic_body(e.value)["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_400_invalid_json_body(http: httpx.Client, master_key: str, path: str) -> None:
    r = http.post(path, content=b'{"model": "openai/gpt-4o-mini", "messages": [', headers={
        "authorization": f"Bearer {master_key}", "content-type": "application/json"})
    assert r.status_code == 400, r.text
    body = r.json()
    if path == "/v1/messages":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error", body
    else:
        assert body["error"]["type"] == "invalid_request_error", body


def test_400_anthropic_missing_max_tokens(http: httpx.Client, master_key: str) -> None:
    r = http.post("/v1/messages", json={"model": "anthropic/claude-3-5-haiku-latest",
                                        "messages": [{"role": "user", "content": "hi"}]},
                  headers={"x-api-key": master_key})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_400_missing_model(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="", messages=[{"role": "user", "content": "hi"}])


# ---------------------------------------------------------------------------------------------- 401


def test_401_openai_sdk_wrong_key(gateway_url: str) -> None:
    client = make_openai(gateway_url, "sk-wrong")
    with pytest.raises(openai.AuthenticationError) as e:
        _oai_chat(client, "openai/gpt-4o-mini", "hi")
    assert e.value.status_code == 401
    assert _openai_body(e.value)["type"] == "authentication_error"


def test_401_anthropic_sdk_wrong_key(gateway_url: str) -> None:
    client = make_anthropic(gateway_url, "sk-ant-wrong")
    with pytest.raises(anthropic.AuthenticationError) as e:
        _ant_msg(client, "anthropic/claude-3-5-haiku-latest", "hi")
    assert e.value.status_code == 401
    assert _anthropic_body(e.value)["type"] == "authentication_error"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/v1/models"])
def test_401_no_key(http: httpx.Client, path: str) -> None:
    body = {"model": "openai/gpt-4o-mini", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    r = http.get(path) if path == "/v1/models" else http.post(path, json=body)
    assert r.status_code == 401, r.text
    err = r.json()["error"]
    assert err["type"] == "authentication_error"


def test_401_streaming_request_fails_before_the_stream(gateway_url: str) -> None:
    client = make_openai(gateway_url, "sk-wrong")
    with pytest.raises(openai.AuthenticationError):
        _oai_chat(client, "openai/gpt-4o-mini", "hi", stream=True)
    aclient = make_anthropic(gateway_url, "sk-ant-wrong")
    with pytest.raises(anthropic.AuthenticationError):
        with aclient.messages.stream(model="openai/gpt-4o-mini", max_tokens=10,
                                     messages=[{"role": "user", "content": "hi"}]) as s:
            s.get_final_message()


# ---------------------------------------------------------------------------------------------- 403


def _create_virtual_key(http: httpx.Client, master_key: str, models: list[str]) -> str:
    """A virtual key restricted to `models`, through the admin API; skips while that API does not exist."""
    r = http.post("/api/virtual-keys", json={"name": "compat-403", "models": models},
                  headers={"authorization": f"Bearer {master_key}"})
    if r.status_code in (404, 405):
        pytest.skip("virtual keys cannot be created through the gateway yet (POST /api/virtual-keys answers "
                    f"{r.status_code}); the 403 row needs a key restricted to some models")
    assert r.status_code in (200, 201), r.text
    body = r.json()
    for path in (("key",), ("virtual_key", "key"), ("created", "key"), ("virtual_key",)):
        v = body
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, str) and v:
            return v
    raise AssertionError(f"no key in the virtual-key creation answer: {body}")


def test_403_key_not_allowed_this_model(http: httpx.Client, gateway_url: str, master_key: str) -> None:
    key = _create_virtual_key(http, master_key, ["openai/gpt-4o-mini"])
    # The allowed model works with the virtual key ...
    assert _oai_chat(make_openai(gateway_url, key), "openai/gpt-4o-mini", "hi").choices
    # ... another one is refused, in each dialect.
    with pytest.raises(openai.PermissionDeniedError) as e:
        _oai_chat(make_openai(gateway_url, key), "anthropic/claude-3-5-haiku-latest", "hi")
    assert e.value.status_code == 403
    assert _openai_body(e.value)["type"] == "permission_error"
    with pytest.raises(anthropic.PermissionDeniedError) as e2:
        _ant_msg(make_anthropic(gateway_url, key), "anthropic/claude-3-5-haiku-latest", "hi")
    assert e2.value.status_code == 403
    assert _anthropic_body(e2.value)["type"] == "permission_error"


# ---------------------------------------------------------------------------------------------- 404


def test_404_unknown_provider_openai_sdk(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as e:
        _oai_chat(oai, "nope/model", "hi")
    assert e.value.status_code == 404
    err = _openai_body(e.value)
    assert err["type"] == "not_found_error"
    # the message lists the providers (and aliases)
    assert "openai" in err["message"] and "anthropic" in err["message"]


def test_404_unknown_provider_anthropic_sdk(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as e:
        _ant_msg(ant, "nope/model", "hi")
    assert e.value.status_code == 404
    err = _anthropic_body(e.value)
    assert err["type"] == "not_found_error"
    assert "openai" in err["message"]


def test_404_unknown_provider_streaming(oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    with pytest.raises(openai.NotFoundError):
        _oai_chat(oai, "nope/model", "hi", stream=True)
    with pytest.raises(anthropic.NotFoundError):
        with ant.messages.stream(model="nope/model", max_tokens=10,
                                 messages=[{"role": "user", "content": "hi"}]) as s:
            s.get_final_message()


def test_404_unknown_route(http: httpx.Client, master_key: str) -> None:
    r = http.post("/v1/nope", json={}, headers={"authorization": f"Bearer {master_key}"})
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------- 413
# The runner's config sets `max_body_bytes = 100000`.

BIG = "x" * 150_000


def test_413_openai_sdk_body_too_large(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as e:
        _oai_chat(oai, "openai/gpt-4o-mini", BIG)
    assert e.value.status_code == 413
    assert _openai_body(e.value)["type"] == "invalid_request_error"


def test_413_anthropic_sdk_body_too_large(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.ContentTooLargeError) as e:
        _ant_msg(ant, "anthropic/claude-3-5-haiku-latest", BIG)
    assert e.value.status_code == 413


def test_413_anthropic_error_body_in_dialect(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.ContentTooLargeError) as e:
        _ant_msg(ant, "anthropic/claude-3-5-haiku-latest", BIG)
    assert _anthropic_body(e.value)["type"] == "request_too_large"


def test_body_under_the_limit_passes(oai: openai.OpenAI) -> None:
    text = "y" * 60_000
    resp = _oai_chat(oai, "openai/gpt-4o-mini", text)
    assert text in resp.choices[0].message.content


# ---------------------------------------------------------------------------------------------- 429


@pytest.mark.parametrize("upstream", ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"])
def test_429_openai_sdk_rate_limited(oai: openai.OpenAI, upstream: str) -> None:
    with pytest.raises(openai.RateLimitError) as e:
        _oai_chat(oai, upstream, "hi [[mock status=429 retry_after=7]]")
    assert e.value.status_code == 429
    assert e.value.response.headers["retry-after"] == "7"
    assert _openai_body(e.value)["type"] == "rate_limit_error"


@pytest.mark.parametrize("upstream", ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"])
def test_429_anthropic_sdk_rate_limited(ant: anthropic.Anthropic, upstream: str) -> None:
    with pytest.raises(anthropic.RateLimitError) as e:
        _ant_msg(ant, upstream, "hi [[mock status=429 retry_after=7]]")
    assert e.value.status_code == 429
    assert e.value.response.headers["retry-after"] == "7"
    assert _anthropic_body(e.value)["type"] == "rate_limit_error"


def test_429_without_upstream_retry_after_still_has_one(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as e:
        _oai_chat(oai, "openai/gpt-4o-mini", "hi [[mock status=429]]")
    assert int(e.value.response.headers["retry-after"]) >= 1


def test_429_before_stream_content_is_a_status(oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    """Streams commit only after the first content event, so an upstream 429 is still an HTTP 429."""
    with pytest.raises(openai.RateLimitError) as e:
        _oai_chat(oai, "openai/gpt-4o-mini", "hi [[mock status=429 retry_after=2]]", stream=True)
    assert e.value.response.headers["retry-after"] == "2"
    with pytest.raises(anthropic.RateLimitError) as e2:
        with ant.messages.stream(model="openai/gpt-4o-mini", max_tokens=10,
                                 messages=[{"role": "user", "content": "hi [[mock status=429 retry_after=2]]"}]) as s:
            s.get_final_message()
    assert e2.value.response.headers["retry-after"] == "2"


# ---------------------------------------------------------------------------------------------- 502


@pytest.mark.parametrize("upstream", ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest",
                                      "gemini/gemini-2.0-flash", "ollama/llama3.2"])
def test_502_upstream_failed_openai_sdk(oai: openai.OpenAI, upstream: str) -> None:
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, upstream, "hi [[mock status=500]]")
    assert e.value.status_code == 502
    assert _openai_body(e.value)["type"] == "api_error"


@pytest.mark.parametrize("upstream", ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"])
def test_502_upstream_failed_anthropic_sdk(ant: anthropic.Anthropic, upstream: str) -> None:
    with pytest.raises(anthropic.InternalServerError) as e:
        _ant_msg(ant, upstream, "hi [[mock status=500]]")
    assert e.value.status_code == 502
    assert _anthropic_body(e.value)["type"] == "api_error"


def test_502_before_stream_content_is_a_status(oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, "anthropic/claude-3-5-haiku-latest", "hi [[mock status=500]]", stream=True)
    assert e.value.status_code == 502
    with pytest.raises(anthropic.InternalServerError) as e2:
        with ant.messages.stream(model="openai/gpt-4o-mini", max_tokens=10,
                                 messages=[{"role": "user", "content": "hi [[mock status=500]]"}]) as s:
            s.get_final_message()
    assert e2.value.status_code == 502


def test_502_upstream_unreachable(oai: openai.OpenAI) -> None:
    """xai points at a closed port in the runner's environment."""
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, "xai/grok-3-mini", "hi")
    assert e.value.status_code == 502


def test_upstream_error_message_passes_through_without_secrets(
    oai: openai.OpenAI, master_key: str, provider_key: str
) -> None:
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, "openai/gpt-4o-mini", "hi [[mock status=500]]")
    text = e.value.response.text
    assert master_key not in text
    assert provider_key not in text
    assert "mock" in text.lower()  # the upstream's own message passes through


# ---------------------------------------------------------------------------------------------- 504
# The runner's config gives groq `timeout_ms = { first_byte = 1000, idle = 1000 }`; the mock waits 3 s first.

SLOW = "hi [[mock first_byte_ms=3000]]"


def test_504_upstream_timed_out_openai_sdk(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, "groq/llama-3.1-8b-instant", SLOW)
    assert e.value.status_code == 504
    assert _openai_body(e.value)["code"] == "timeout"


def test_504_upstream_timed_out_anthropic_sdk(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.GatewayTimeoutError) as e:
        _ant_msg(ant, "groq/llama-3.1-8b-instant", SLOW)
    assert e.value.status_code == 504
    assert _anthropic_body(e.value)["type"] == "api_error"


def test_504_before_stream_content_is_a_status(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, "groq/llama-3.1-8b-instant", SLOW, stream=True)
    assert e.value.status_code == 504


# ---------------------------------------------------------------------------------------- 529 → 503


@pytest.mark.parametrize("upstream", ["anthropic/claude-3-5-haiku-latest", "openai/gpt-4o-mini"])
def test_529_overloaded_openai_sdk_sees_503(oai: openai.OpenAI, upstream: str) -> None:
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, upstream, "hi [[mock status=529]]")
    assert e.value.status_code == 503
    assert _openai_body(e.value)["code"] == "overloaded"


@pytest.mark.parametrize("upstream", ["anthropic/claude-3-5-haiku-latest", "openai/gpt-4o-mini"])
def test_529_overloaded_anthropic_sdk_sees_529(ant: anthropic.Anthropic, upstream: str) -> None:
    with pytest.raises(anthropic.OverloadedError) as e:
        _ant_msg(ant, upstream, "hi [[mock status=529]]")
    assert e.value.status_code == 529
    assert _anthropic_body(e.value)["type"] == "overloaded_error"


# ------------------------------------------------------------------------------ after stream content


# (upstream, fault after the first content): crux-mock's Anthropic wire sends its `mid_error` event before the
# first text delta (which is rightly a pre-content failure), so that upstream fails after content by a cut instead.
AFTER_CONTENT = [
    ("openai/gpt-4o-mini", "[[mock mid_error]]"),
    ("gemini/gemini-2.0-flash", "[[mock mid_error]]"),
    ("anthropic/claude-3-5-haiku-latest", "[[mock cut_after=2]]"),
    ("ollama/llama3.2", "[[mock cut_after=2]]"),
]


@pytest.mark.parametrize(("upstream", "fault"), AFTER_CONTENT)
def test_mid_stream_error_openai_sdk(oai: openai.OpenAI, upstream: str, fault: str) -> None:
    """After content the status is already 200: the failure arrives in-band and the SDK raises mid-iteration."""
    stream = _oai_chat(oai, upstream, f"one two three four five six {fault}", stream=True)
    received = []
    with pytest.raises(openai.APIError) as e:
        for chunk in stream:
            received.append(chunk)
    assert not isinstance(e.value, openai.APIStatusError)  # raised from the stream, not from the status
    text = "".join(c.choices[0].delta.content or "" for c in received if c.choices)
    assert text, "no content before the error"
    assert e.value.message


@pytest.mark.parametrize(("upstream", "fault"), AFTER_CONTENT)
def test_mid_stream_error_anthropic_sdk(ant: anthropic.Anthropic, upstream: str, fault: str) -> None:
    """The gateway sends an `error` event; the SDK's stream raises on it."""
    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as e:
        with ant.messages.stream(model=upstream, max_tokens=100,
                                 messages=[{"role": "user", "content": f"one two three four five six {fault}"}]) as s:
            for text in s.text_stream:
                received.append(text)
    assert "".join(received), "no content before the error"
    body = e.value.body
    assert isinstance(body, dict) and body.get("type") == "error", body
    assert body["error"]["type"] and body["error"]["message"]


def test_upstream_error_event_before_content_is_a_status(oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    """An Anthropic upstream's `overloaded_error` event before any text: the gateway has not committed yet."""
    prompt = "one two three [[mock mid_error]]"
    with pytest.raises(openai.InternalServerError) as e:
        _oai_chat(oai, "anthropic/claude-3-5-haiku-latest", prompt, stream=True)
    assert e.value.status_code == 503
    with pytest.raises(anthropic.OverloadedError) as e2:
        with ant.messages.stream(model="anthropic/claude-3-5-haiku-latest", max_tokens=100,
                                 messages=[{"role": "user", "content": prompt}]) as s:
            s.get_final_message()
    assert e2.value.status_code == 529


def test_connection_cut_mid_stream(oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    """The upstream connection drops after content: both SDKs see an error, never a clean end."""
    prompt = "one two three four five six seven eight [[mock cut_after=2]]"
    with pytest.raises(openai.APIError):
        for _ in _oai_chat(oai, "openai/gpt-4o-mini", prompt, stream=True):
            pass
    with pytest.raises(anthropic.APIStatusError):
        with ant.messages.stream(model="anthropic/claude-3-5-haiku-latest", max_tokens=100,
                                 messages=[{"role": "user", "content": prompt}]) as s:
            s.get_final_message()


def test_stall_after_content_times_out_in_band(oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    """The upstream stops sending after content (groq's idle timeout is 1 s): an in-band timeout error."""
    prompt = "one two three four five six [[mock stall_after=1 stall_ms=3000]]"
    received = []
    with pytest.raises(openai.APIError) as e:
        for chunk in _oai_chat(oai, "groq/llama-3.1-8b-instant", prompt, stream=True):
            received.append(chunk)
    assert any(c.choices and c.choices[0].delta.content for c in received)
    assert e.value.code == "timeout", e.value.body
    with pytest.raises(anthropic.APIStatusError) as e2:
        with ant.messages.stream(model="groq/llama-3.1-8b-instant", max_tokens=100,
                                 messages=[{"role": "user", "content": prompt}]) as s:
            s.get_final_message()
    assert e2.value.body["type"] == "error", e2.value.body


def test_error_event_shapes_on_the_wire(http: httpx.Client, master_key: str) -> None:
    """The raw in-band error frames: OpenAI `data: {"error": {...}}`, Anthropic `event: error`."""
    prompt = "one two three four [[mock mid_error]]"
    r = http.post("/v1/chat/completions", headers={"authorization": f"Bearer {master_key}"},
                  json={"model": "openai/gpt-4o-mini", "stream": True,
                        "messages": [{"role": "user", "content": prompt}]})
    assert r.status_code == 200
    frames = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    errors = [json.loads(f) for f in frames if f != "[DONE]" and "error" in json.loads(f)]
    assert len(errors) == 1 and errors[0]["error"]["message"], frames
    r = http.post("/v1/messages", headers={"x-api-key": master_key},
                  json={"model": "openai/gpt-4o-mini", "stream": True, "max_tokens": 50,
                        "messages": [{"role": "user", "content": prompt}]})
    assert r.status_code == 200
    assert "event: error" in r.text
    assert "event: message_stop" not in r.text
