// The official OpenAI Node SDK on its defaults against crux serve: chat, stream, tools, models.retrieve.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { GATEWAY, mockRequests, resetMock, header } from "./support.mjs";

const client = new OpenAI({ baseURL: `${GATEWAY}/v1`, apiKey: "client-key-not-forwarded" });

test("chat.completions.create reaches an OpenAI-wire target as sent", async () => {
  await resetMock();
  const r = await client.chat.completions.create({
    model: "openai/gpt-4o-mini",
    messages: [{ role: "user", content: "node sdk hello" }],
    max_tokens: 50,
  });
  assert.match(r.choices[0].message.content, /node sdk hello/);
  assert.ok(r.usage.prompt_tokens > 0);
  const [sent] = await mockRequests();
  assert.equal(sent.path, "/v1/chat/completions");
  assert.equal(sent.body.model, "gpt-4o-mini");
  assert.equal(sent.body.max_tokens, 50);
  assert.notEqual(header(sent, "authorization"), "Bearer client-key-not-forwarded");
});

test("stream yields deltas and ends", async () => {
  const stream = await client.chat.completions.create({
    model: "anthropic/claude-3-5-haiku-latest",
    messages: [{ role: "user", content: "streamed through anthropic" }],
    stream: true,
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.match(text, /streamed through anthropic/);
});

test("tools: the model calls the tool and the result round-trips", async () => {
  const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
  const messages = [{ role: "user", content: "use get_weather for Paris" }];
  const first = await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages, tools });
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, "get_weather");
  messages.push(first.choices[0].message, { role: "tool", tool_call_id: call.id, content: "sunny" });
  const second = await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages, tools });
  assert.match(second.choices[0].message.content, /sunny/);
});

test("models.retrieve takes provider/model ids", async () => {
  const m = await client.models.retrieve("openai/gpt-4o-mini");
  assert.equal(m.id, "openai/gpt-4o-mini");
  const list = await client.models.list();
  assert.ok(list.data.some((x) => x.id === "anthropic/claude-3-5-haiku-latest"));
});

test("responses.create, stream and not", async () => {
  const r = await client.responses.create({ model: "anthropic/claude-3-5-haiku-latest", input: "responses hello" });
  assert.match(r.output_text, /responses hello/);
  const stream = await client.responses.create({ model: "openai/gpt-4o-mini", input: "responses stream", stream: true });
  let text = "";
  let done = false;
  for await (const ev of stream) {
    if (ev.type === "response.output_text.delta") text += ev.delta;
    if (ev.type === "response.completed") done = true;
  }
  assert.ok(done);
  assert.match(text, /responses stream/);
});
