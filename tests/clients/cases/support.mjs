// Shared helpers for the real-client cases: where the gateway and the mock are, what reached the mock.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";

export const GATEWAY = process.env.CRUX_GATEWAY_URL;
export const MOCK = process.env.CRUX_MOCK_URL;
export const WORK = process.env.CRUX_CLIENTS_WORK;
export const BIN = new URL("../node_modules/.bin/", import.meta.url).pathname;

/** Every request the mock received since the last reset, oldest first. */
export async function mockRequests() {
  const r = await fetch(`${MOCK}/_mock/requests`);
  const v = await r.json();
  return Array.isArray(v) ? v : v.requests;
}

/** Forget what the mock recorded. */
export async function resetMock() {
  await fetch(`${MOCK}/_mock/requests`, { method: "DELETE" });
}

/** The value of header `name` in a recorded request. */
export function header(req, name) {
  const hit = req.headers.find(([k]) => k === name);
  return hit ? hit[1] : undefined;
}

/** A fresh HOME so each CLI starts from nothing (no login, no config, no history). */
export function freshHome(tag) {
  return mkdtempSync(join(WORK, `${tag}-home-`));
}

/** Run a CLI from node_modules/.bin with a clean environment; returns {status, stdout, stderr}. */
export function runCli(name, args, env, timeoutMs = 180_000) {
  const r = spawnSync(join(BIN, name), args, {
    // An empty working directory: what the CLI sees of its surroundings (git status, files) stays the same.
    cwd: mkdtempSync(join(WORK, `${name}-cwd-`)),
    env: { PATH: process.env.PATH, ...env },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}
