// Codex CLI (`codex exec`) on its one wire, `wire_api = "responses"`, through crux serve: a turn with a tool call
// (the mock calls one of Codex's tools; Codex runs it and sends the output back) to an OpenAI Responses target,
// passed through as sent, and to Anthropic and Gemini targets, translated: Codex's `namespace` tools flattened to
// `<namespace>__<name>` functions, its default `web_search` left out (named in `x-crux-dropped-tools`), and the
// calls mapped back to the items Codex expects (a namespaced call comes back with `namespace`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY, WORK, freshHome, mockRequests, resetMock, runCli } from "./support.mjs";

function codex(model, prompt) {
  const home = mkdtempSync(join(WORK, "codex-home-"));
  writeFileSync(
    join(home, "config.toml"),
    `model = "${model}"
model_provider = "crux"
approval_policy = "never"
sandbox_mode = "read-only"

[model_providers.crux]
name = "crux"
base_url = "${GATEWAY}/v1"
wire_api = "responses"
env_key = "CRUX_API_KEY"
`,
  );
  return runCli("codex", ["exec", "--skip-git-repo-check", prompt], {
    HOME: freshHome("codex"),
    CODEX_HOME: home,
    CRUX_API_KEY: "client-key-not-forwarded",
  });
}

test("codex exec: a turn with a tool call through /v1/responses", async () => {
  await resetMock();
  const r = codex("openai/gpt-5", "use the shell tool to say hi");
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const sent = (await mockRequests()).filter((q) => q.path === "/v1/responses");
  assert.ok(sent.length >= 2, `the tool call and the answer: ${JSON.stringify(sent.map((q) => q.path))}`);
  const last = sent[sent.length - 1].body;
  assert.ok(
    last.input.some((item) => item.type === "function_call_output"),
    "the tool output went back",
  );
  assert.ok(sent[0].raw_body.includes('"model":"gpt-5"'), "same wire: the body as sent, model edited");
  assert.match(r.stdout + r.stderr, /Tool result received/);
});

/** Tool names a translated request offered: Anthropic `tools[].name`, Gemini `functionDeclarations[].name`. */
function offered(body) {
  if (Array.isArray(body.tools) && body.tools[0]?.functionDeclarations) {
    return body.tools.flatMap((t) => t.functionDeclarations.map((d) => d.name));
  }
  return (body.tools ?? []).map((t) => t.name);
}

const TRANSLATED = [
  ["anthropic/claude-sonnet-4-5", (q) => q.path === "/v1/messages"],
  ["gemini/gemini-2.5-flash", (q) => q.path.startsWith("/v1beta/models/gemini-2.5-flash:")],
];

for (const [model, upstream] of TRANSLATED) {
  test(`codex exec on ${model}: a tool turn through /v1/responses, translated`, async () => {
    await resetMock();
    const r = codex(model, "use the shell tool to say hi");
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const sent = (await mockRequests()).filter(upstream);
    assert.ok(sent.length >= 2, `the tool call and the answer: ${JSON.stringify(sent.map((q) => q.path))}`);
    const names = offered(sent[0].body);
    assert.ok(names.includes("exec_command"), names.join(","));
    assert.ok(
      names.some((n) => n.startsWith("multi_agent_v1__")),
      `namespace members flattened: ${names.join(",")}`,
    );
    assert.ok(!names.some((n) => n.includes("web_search")), "hosted web_search left out");
    const last = JSON.stringify(sent[sent.length - 1].body);
    assert.ok(
      last.includes("tool_result") || last.includes("functionResponse"),
      "the tool output went back",
    );
    assert.match(r.stdout + r.stderr, /Tool result received/);
  });

  test(`codex exec on ${model}: a call to a namespaced tool comes back to Codex with its namespace`, async () => {
    await resetMock();
    const r = codex(model, "use the multi_agent_v1__close_agent tool");
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const sent = (await mockRequests()).filter(upstream);
    assert.ok(sent.length >= 2, JSON.stringify(sent.map((q) => q.path)));
    const last = JSON.stringify(sent[sent.length - 1].body);
    // Codex echoed the call back with its namespace (flattened again on the way in) ...
    assert.ok(last.includes('"multi_agent_v1__close_agent"'), last.slice(0, 400));
    // ... and dispatched it to its own close_agent, whose complaint about the mock's made-up agent id came back.
    assert.match(last, /invalid agent id/);
    assert.doesNotMatch(last, /unsupported call|unknown tool/i);
    assert.match(r.stdout + r.stderr, /Tool result received/);
  });
}
