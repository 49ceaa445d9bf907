// The official Anthropic TypeScript SDK on its defaults: messages, .stream(), tools, countTokens, models.
import { test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { GATEWAY, mockRequests, resetMock, header } from "./support.mjs";

const client = new Anthropic({ baseURL: GATEWAY, apiKey: "client-key-not-forwarded" });

test("messages.create to Anthropic keeps cache_control and betas", async () => {
  await resetMock();
  const msg = await client.beta.messages.create({
    model: "anthropic/claude-3-5-haiku-latest",
    max_tokens: 64,
    betas: ["prompt-caching-2024-07-31"],
    system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
    messages: [{ role: "user", content: "ts sdk hello" }],
  });
  assert.match(msg.content[0].text, /ts sdk hello/);
  const [sent] = await mockRequests();
  assert.equal(sent.body.system[0].cache_control.type, "ephemeral");
  assert.match(header(sent, "anthropic-beta"), /prompt-caching-2024-07-31/);
  assert.notEqual(header(sent, "x-api-key"), "client-key-not-forwarded");
});

test("messages.stream to another wire", async () => {
  const stream = client.messages.stream({
    model: "openai/gpt-4o-mini",
    max_tokens: 64,
    messages: [{ role: "user", content: "anthropic stream to openai" }],
  });
  const final = await stream.finalMessage();
  assert.match(final.content[0].text, /anthropic stream to openai/);
  assert.ok(final.usage.output_tokens > 0);
});

test("tools round trip", async () => {
  const tools = [{ name: "lookup", description: "look up", input_schema: { type: "object", properties: { q: { type: "string" } } } }];
  const messages = [{ role: "user", content: "use lookup for crux" }];
  const first = await client.messages.create({ model: "anthropic/claude-3-5-haiku-latest", max_tokens: 100, tools, messages });
  const use = first.content.find((b) => b.type === "tool_use");
  assert.equal(use.name, "lookup");
  messages.push({ role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "found it" }] });
  const second = await client.messages.create({ model: "anthropic/claude-3-5-haiku-latest", max_tokens: 100, tools, messages });
  assert.match(second.content[0].text, /found it/);
});

test("countTokens and models.list/retrieve", async () => {
  const n = await client.messages.countTokens({ model: "anthropic/claude-3-5-haiku-latest", messages: [{ role: "user", content: "count me" }] });
  assert.ok(n.input_tokens > 0);
  const local = await client.messages.countTokens({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "count me" }] });
  assert.ok(local.input_tokens > 0);
  const page = await client.models.list({ limit: 5 });
  assert.equal(page.data.length, 5);
  assert.equal(page.data[0].type, "model");
  const m = await client.models.retrieve("claude-3-5-haiku-latest");
  assert.equal(m.id, "anthropic/claude-3-5-haiku-latest");
});
