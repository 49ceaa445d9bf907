// The Vercel AI SDK: openai.chat(id), anthropic(id), generateText/streamText with a tool step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateText, streamText, tool, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { z } from "zod";
import { GATEWAY, mockRequests, resetMock } from "./support.mjs";

const openai = createOpenAI({ baseURL: `${GATEWAY}/v1`, apiKey: "k" });
const anthropic = createAnthropic({ baseURL: `${GATEWAY}/v1`, apiKey: "k" });

test("openai.chat(id) generateText", async () => {
  const r = await generateText({ model: openai.chat("openai/gpt-4o-mini"), prompt: "vercel chat hello" });
  assert.match(r.text, /vercel chat hello/);
  assert.ok(r.usage.inputTokens > 0);
});

test("anthropic(id) streamText", async () => {
  const r = streamText({ model: anthropic("anthropic/claude-3-5-haiku-latest"), prompt: "vercel anthropic stream" });
  let text = "";
  for await (const part of r.textStream) text += part;
  assert.match(text, /vercel anthropic stream/);
});

test("a tool step: the SDK runs the tool and the model answers", async () => {
  await resetMock();
  const r = await generateText({
    model: anthropic("openai/gpt-4o-mini"),
    prompt: "use weather for Oslo",
    tools: {
      weather: tool({
        description: "weather for a city",
        inputSchema: z.object({ city: z.string() }),
        execute: async () => "cold and clear",
      }),
    },
    stopWhen: stepCountIs(3),
  });
  assert.match(r.text, /cold and clear/);
  const sent = await mockRequests();
  assert.ok(sent.length >= 2, "two model calls: the tool call and the answer");
});

test("openai(id), the default handle (Responses API), generateText and streamText", async () => {
  const r = await generateText({ model: openai("anthropic/claude-3-5-haiku-latest"), prompt: "responses via vercel" });
  assert.match(r.text, /responses via vercel/);
  const s = streamText({ model: openai("openai/gpt-4o-mini"), prompt: "responses stream via vercel" });
  let text = "";
  for await (const part of s.textStream) text += part;
  assert.match(text, /responses stream via vercel/);
});
