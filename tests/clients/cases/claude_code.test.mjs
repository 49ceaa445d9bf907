// Claude Code (`claude -p`) on its defaults, through crux serve: the default model (an Anthropic target, betas,
// system blocks and cache markers forwarded as sent), and `--model` on other wires; each case runs a tool turn
// (the mock calls one of Claude Code's tools and Claude Code sends the result back).
import { test } from "node:test";
import assert from "node:assert/strict";
import { GATEWAY, freshHome, header, mockRequests, resetMock, runCli } from "./support.mjs";

function claude(args) {
  return runCli("claude", ["-p", ...args], {
    HOME: freshHome("claude"),
    ANTHROPIC_BASE_URL: GATEWAY,
    ANTHROPIC_API_KEY: "client-key-not-forwarded",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
  });
}

test("claude -p on the default model: betas, system blocks and cache markers reach Anthropic", async () => {
  await resetMock();
  const r = claude(["say hi, use a tool"]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Tool result received/, "a tool turn happened");
  const sent = (await mockRequests()).filter((q) => q.path === "/v1/messages");
  assert.ok(sent.length >= 2, "the tool call and the answer");
  const first = sent[0];
  assert.match(header(first, "anthropic-beta") ?? "", /claude-code-/);
  assert.notEqual(header(first, "x-api-key"), "client-key-not-forwarded");
  assert.ok(Array.isArray(first.body.system), "system blocks kept");
  assert.match(first.raw_body, /"cache_control"/, "cache markers forwarded");
  assert.ok(first.body.tools.length > 5, "Claude Code's tools are offered");
});

for (const model of ["openai/gpt-4o-mini", "gemini/gemini-2.0-flash"]) {
  test(`claude -p --model ${model} translates and runs a tool turn`, async () => {
    await resetMock();
    const r = claude(["say hi, use a tool", "--model", model]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Tool result received/);
    const sent = await mockRequests();
    const wire = model.startsWith("openai/") ? "/v1/chat/completions" : "/v1beta/models/";
    assert.ok(sent.some((q) => q.path.startsWith(wire)), JSON.stringify(sent.map((q) => q.path)));
  });
}
