"""The README's quickstart snippet, verbatim apart from the base URL, against `crux serve --demo` (no keys at all)."""

import os

import anthropic
from openai import OpenAI


def test_readme_snippet_answers_from_the_demo_mock():
    base = os.environ["CRUX_GATEWAY_DEMO_URL"].rstrip("/")
    client = OpenAI(base_url=f"{base}/v1", api_key="anything-on-loopback")
    answer = client.chat.completions.create(
        model="anthropic/claude-3-5-haiku-latest", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content

    claude = anthropic.Anthropic(base_url=base, api_key="anything-on-loopback")
    reply = claude.messages.create(
        model="openai/gpt-4o-mini", max_tokens=200, messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.content[0].text
