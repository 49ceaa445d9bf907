// Codex CLI (`codex exec`) on its one wire, `wire_api = "responses"`, through crux serve: a turn with a tool call
// (the mock calls one of Codex's tools; Codex runs it and sends the output back) to an OpenAI Responses target,
// passed through as sent. (Codex also offers `namespace` tools, which only the Responses API runs: other wires
// answer a 400 naming the tool.)
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
