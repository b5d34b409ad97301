// POST /clover/webhook against a real HTTP receiver on 127.0.0.1 standing in for the customer Odoos.
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { MAX_WEBHOOK_BYTES } from "../src/webhook";
import { call, received, routedEnv, sha256Hex } from "./helpers";
import type { Env } from "../src/config";

const AUTH = "clover-static-auth-code-42";
const JSON_TYPE = "application/json; charset=utf-8";

// Each test routes to receiver paths under its own prefix, so records never mix.
let counter = 0;
const uniquePrefix = () => `t${Date.now()}-${(counter += 1)}`;

function post(body: BodyInit, env: Env, headers: Record<string, string> = {}) {
  return call("/clover/webhook", { method: "POST", body, headers: { "content-type": JSON_TYPE, "x-clover-auth": AUTH, ...headers } }, env);
}

function firehose(merchantIds: string[]): string {
  const events = (id: string) => [{ objectId: `P:${id}PAY`, type: "CREATE", ts: 1767225600123 }];
  return JSON.stringify({ appId: "TESTAPPID1234", merchants: Object.fromEntries(merchantIds.map((id) => [id, events(id)])) });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /clover/webhook forwarding", () => {
  it("forwards the raw body byte for byte with X-Clover-Auth and the content type", async () => {
    const prefix = uniquePrefix();
    // Odd spacing and non-ASCII: a re-serialised body would not hash the same.
    const body = `{ "merchants" : {"MA1":[{"objectId":"P:Ω1","type":"CREATE","ts":1}]} ,"appId":"X"}\n`;
    const response = await post(body, routedEnv(prefix, { MA1: "odoo-a" }));
    expect([response.status, await response.text()]).toEqual([200, "ok\n"]);
    expect(await received(prefix)).toEqual([
      { path: `/${prefix}/odoo-a`, bytes: new TextEncoder().encode(body).byteLength, sha256: await sha256Hex(body), contentType: JSON_TYPE, cloverAuth: AUTH },
    ]);
  });

  it("sends a multi-merchant batch once to each of two Odoos", async () => {
    const prefix = uniquePrefix();
    const env = routedEnv(prefix, { MA1: "odoo-a", MA2: "odoo-a", MB1: "odoo-b" });
    const body = firehose(["MA1", "MA2", "MB1"]);
    expect((await post(body, env)).status).toBe(200);
    const records = await received(prefix);
    expect(records.map((record) => record.path).sort()).toEqual([`/${prefix}/odoo-a`, `/${prefix}/odoo-b`]);
    expect(new Set(records.map((record) => record.sha256))).toEqual(new Set([await sha256Hex(body)]));
  });

  it("routes a top-level merchantId", async () => {
    const prefix = uniquePrefix();
    const body = JSON.stringify({ type: "PAYMENT", merchantId: "MB1", id: "pay-1" });
    expect((await post(body, routedEnv(prefix, { MA1: "odoo-a", MB1: "odoo-b" }))).status).toBe(200);
    expect((await received(prefix)).map((record) => record.path)).toEqual([`/${prefix}/odoo-b`]);
  });

  it("fans a 1001-merchant payload out to the distinct Odoos only", async () => {
    const prefix = uniquePrefix();
    const ids = Array.from({ length: 1001 }, (_, i) => `M${String(i).padStart(12, "0")}`);
    const routes = Object.fromEntries(ids.map((id, i) => [id, `odoo-${i % 3}`]));
    expect((await post(firehose(ids), routedEnv(prefix, routes))).status).toBe(200);
    expect((await received(prefix)).map((record) => record.path).sort()).toEqual(
      [0, 1, 2].map((i) => `/${prefix}/odoo-${i}`),
    );
  });

  it("acknowledges and logs unknown merchants without forwarding", async () => {
    const prefix = uniquePrefix();
    const warn = vi.spyOn(console, "warn");
    const response = await post(firehose(["NOPE1", "NOPE2"]), routedEnv(prefix, { MA1: "odoo-a" }));
    expect(response.status).toBe(200);
    expect(await received(prefix)).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('no route for merchant(s) "NOPE1", "NOPE2"'));
  });

  it("logs the verification code with a banner and forwards it to every routed Odoo", async () => {
    const prefix = uniquePrefix();
    const warn = vi.spyOn(console, "warn");
    const body = JSON.stringify({ verificationCode: "5220ecf5-0d3a-4c4b-9a1e-2f7d0c9b8e11" });
    const env = routedEnv(prefix, { MA1: "odoo-a", MA2: "odoo-a", MB1: "odoo-b", MC1: "odoo-c" });
    expect((await post(body, env, { "x-clover-auth": "" })).status).toBe(200);
    const records = await received(prefix);
    expect(records.map((record) => record.path).sort()).toEqual(["a", "b", "c"].map((odoo) => `/${prefix}/odoo-${odoo}`));
    expect(new Set(records.map((record) => record.sha256))).toEqual(new Set([await sha256Hex(body)]));
    const banner = warn.mock.calls.map(([line]) => String(line)).find((line) => line.includes("VERIFICATION CODE"));
    expect(banner).toContain('"5220ecf5-0d3a-4c4b-9a1e-2f7d0c9b8e11"');
    expect(banner).toMatch(/^={20,}\n/);
  });
});

describe("POST /clover/webhook when an Odoo misbehaves", () => {
  it("answers 200 and logs when an Odoo is down, still delivering to the others", async () => {
    const prefix = uniquePrefix();
    const error = vi.spyOn(console, "error");
    const env = routedEnv(prefix, { MA1: "odoo-a" }, {});
    const routing = JSON.parse(env.MERCHANT_ROUTING_JSON ?? "{}");
    routing.MDOWN = inject("deadUrl") + "/payment/clover/webhook";
    const response = await post(firehose(["MA1", "MDOWN"]), { ...env, MERCHANT_ROUTING_JSON: JSON.stringify(routing) });
    expect(response.status).toBe(200);
    expect((await received(prefix)).map((record) => record.path)).toEqual([`/${prefix}/odoo-a`]);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/forwarding to http:\/\/127\.0\.0\.1:\d+\/payment\/clover\/webhook failed/));
  });

  it("gives up on a slow Odoo after FORWARD_TIMEOUT_MS and still answers 200", async () => {
    const prefix = uniquePrefix();
    const error = vi.spyOn(console, "error");
    const env = routedEnv(prefix, { MA1: "odoo-a", MS1: "slow/odoo-s" }, { FORWARD_TIMEOUT_MS: "300" });
    const started = performance.now();
    const response = await post(firehose(["MA1", "MS1"]), env);
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
    expect((await received(prefix)).map((record) => record.path).sort()).toEqual([`/${prefix}/odoo-a`, `/${prefix}/slow/odoo-s`]);
    expect(error).toHaveBeenCalledWith(expect.stringContaining("failed: no answer within 300 ms"));
  });

  it("answers 200 and logs when an Odoo answers 503", async () => {
    const prefix = uniquePrefix();
    const error = vi.spyOn(console, "error");
    expect((await post(firehose(["MF1"]), routedEnv(prefix, { MF1: "fail/odoo-f" }))).status).toBe(200);
    expect(error).toHaveBeenCalledWith(expect.stringContaining("fail/odoo-f answered HTTP 503"));
  });

  it("does not follow an Odoo's redirect (X-Clover-Auth stays with the configured URL)", async () => {
    const prefix = uniquePrefix();
    const error = vi.spyOn(console, "error");
    expect((await post(firehose(["MR1"]), routedEnv(prefix, { MR1: "redirect/odoo-r" }))).status).toBe(200);
    expect((await received(prefix)).map((record) => record.path)).toEqual([`/${prefix}/redirect/odoo-r`]);
    expect(error).toHaveBeenCalledWith(expect.stringContaining("answered HTTP 302"));
  });
});

describe("POST /clover/webhook input limits", () => {
  const env = () => routedEnv(uniquePrefix(), { MA1: "odoo-a" });

  it("accepts a body of exactly the limit", async () => {
    const prefix = uniquePrefix();
    const json = firehose(["MA1"]);
    const body = json + " ".repeat(MAX_WEBHOOK_BYTES - json.length);
    expect((await post(body, routedEnv(prefix, { MA1: "odoo-a" }))).status).toBe(200);
    expect((await received(prefix)).map((record) => record.bytes)).toEqual([MAX_WEBHOOK_BYTES]);
  });

  it("accepts a body of undeclared length (chunked) and forwards it intact", async () => {
    const prefix = uniquePrefix();
    const body = new TextEncoder().encode(firehose(["MA1"]));
    const halves = [body.subarray(0, 10), body.subarray(10)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const half = halves.shift();
        if (half) controller.enqueue(half);
        else controller.close();
      },
    });
    expect((await post(stream, routedEnv(prefix, { MA1: "odoo-a" }))).status).toBe(200);
    expect((await received(prefix)).map((record) => record.sha256)).toEqual([await sha256Hex(body)]);
  });

  it("refuses a declared length over the limit with 413, forwarding nothing", async () => {
    const response = await post(new Uint8Array(MAX_WEBHOOK_BYTES + 1), env());
    expect(response.status).toBe(413);
  });

  it("refuses a streamed body that grows over the limit with 413", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        if (sent > MAX_WEBHOOK_BYTES + chunk.byteLength) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await post(stream, env());
    expect(response.status).toBe(413);
  });

  it.each([
    ["not JSON", "merchants=MA1"],
    ["a JSON array", '[{"merchantId":"MA1"}]'],
    ["empty", ""],
    ["not UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
  ])("refuses a body that is %s with 400", async (_, body) => {
    const response = await post(body, env());
    expect([response.status, await response.text()]).toEqual([400, "body is not a JSON object\n"]);
  });
});
