// Launch, liveness, unknown routes, and configuration errors.
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { importStateKey, verifyState } from "../src/state";
import { ALLOWED_HOSTS, APP_ID, AUTHORIZE_URL, PUBLIC_URL, SECRET } from "./fixtures";
import { call, envWith } from "./helpers";
import type { Env } from "../src/config";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /healthz and liveness", () => {
  it("answers 200 JSON with counts only, through the wrangler.jsonc config", async () => {
    const response = await SELF.fetch("https://dispatcher.example/healthz");
    expect(response.headers.get("content-type")).toBe("application/json");
    expect([response.status, await response.json()]).toEqual([
      200,
      { status: "ok", routed_merchants: 3, odoo_webhook_urls: 2, launch_merchants: 2, allowed_hosts: 2 },
    ]);
  });

  it("answers GET /clover/webhook with 200", async () => {
    const response = await call("/clover/webhook");
    expect([response.status, await response.text()]).toEqual([200, "ok\n"]);
  });

  it.each([
    ["GET", "/"],
    ["GET", "/clover/unknown"],
    ["PUT", "/clover/webhook"],
    ["POST", "/healthz"],
    ["GET", "/healthz/"],
    ["HEAD", "/clover/unknown"],
  ])("answers %s %s with 404", async (method, path) => {
    const response = await call(path, { method });
    expect(response.status).toBe(404);
  });
});

describe("HEAD on the GET routes", () => {
  it.each(["/healthz", "/clover/webhook", "/clover/launch?merchant_id=MA1", "/clover/launch?merchant_id=NOPE", "/clover/callback?state=x.y"])(
    "HEAD %s answers like GET, without a body",
    async (path) => {
      vi.spyOn(console, "warn").mockImplementation(() => {});
      const [get, head] = [await call(path), await call(path, { method: "HEAD" })];
      expect(head.status).toBe(get.status);
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect(head.headers.get("cache-control")).toBe("no-store");
      expect(new URL(head.headers.get("location") ?? "x:").pathname).toBe(new URL(get.headers.get("location") ?? "x:").pathname);
      expect(await head.text()).toBe("");
      // A redirect has no body to begin with; every other answer has one that HEAD leaves out.
      expect((await get.text()).length > 0).toBe(get.status !== 302);
    },
  );

  it("answers HEAD with a 500 like GET when the configuration is broken", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await call("/healthz", { method: "HEAD" }, envWith({ MERCHANT_ROUTING_JSON: "{oops" }));
    expect([response.status, await response.text()]).toEqual([500, ""]);
  });
});

describe("GET /clover/launch", () => {
  const launch = (query: string) => call(`/clover/launch?${query}`);
  const stateOf = (response: Response) => new URL(response.headers.get("location") ?? "").searchParams.get("state") ?? "";

  it("redirects to Clover's authorize page with a fresh state for the merchant's Odoo", async () => {
    const response = await launch("merchant_id=MB1&employee_id=E1&client_id=TESTAPPID1234");
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.origin + location.pathname).toBe(AUTHORIZE_URL);
    expect(location.searchParams.get("client_id")).toBe(APP_ID);
    expect(location.searchParams.get("redirect_uri")).toBe(`${PUBLIC_URL}/clover/callback`);
    const hosts = new Set(ALLOWED_HOSTS.split(", "));
    const verdict = await verifyState(stateOf(response), await importStateKey(SECRET), Date.now() / 1000, hosts);
    expect(verdict).toEqual({
      ok: true,
      payload: {
        v: 2, redirect_to: "https://odoo-b.example.com/payment/clover/oauth/callback", nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
        iat: expect.any(Number), merchant_id: "MB1",
      },
    });
  });

  it("takes redirect_uri from DISPATCHER_PUBLIC_URL, never from the request's Host", async () => {
    for (const host of ["evil.example", "dispatch.fusion-clover.example.evil.net"]) {
      const response = await SELF.fetch(`https://${host}/clover/launch?merchant_id=MA1`, { headers: { host }, redirect: "manual" });
      const location = new URL(response.headers.get("location") ?? "");
      expect([host, location.searchParams.get("redirect_uri")]).toEqual([host, `${PUBLIC_URL}/clover/callback`]);
    }
    const trailing = await call("/clover/launch?merchant_id=MA1", {}, envWith({ DISPATCHER_PUBLIC_URL: "https://Dispatch.Example.com:8443/" }));
    expect(new URL(trailing.headers.get("location") ?? "").searchParams.get("redirect_uri")).toBe("https://dispatch.example.com:8443/clover/callback");
  });

  it("issues a new nonce every time", async () => {
    const states = await Promise.all([1, 2, 3].map(async () => stateOf(await launch("merchant_id=MA1"))));
    expect(new Set(states).size).toBe(3);
  });

  it("round-trips: the launch state passes /clover/callback, which sends the browser to the Odoo", async () => {
    const state = stateOf(await launch("merchant_id=MA1"));
    const response = await call(`/clover/callback?merchant_id=MA1&code=abc&state=${state}`);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(
      `https://odoo-a.example.com/payment/clover/oauth/callback?merchant_id=MA1&code=abc&state=${state}`,
    );
  });

  it.each([
    ["an unknown merchant", "merchant_id=<b>NOPE</b>"],
    ["no merchant", ""],
  ])("answers %s with a 404 page", async (_, query) => {
    const response = await launch(query);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const page = await response.text();
    expect(page).toContain("Merchant not connected");
    expect(page).not.toContain("<b>");
  });
});

describe("configuration errors", () => {
  const cases: Array<[string, Env, string]> = [
    ["malformed routing JSON", { MERCHANT_ROUTING_JSON: '{"MA1": "https://secret-host.example' }, "MERCHANT_ROUTING_JSON is not valid JSON"],
    ["routing JSON not an object", { MERCHANT_ROUTING_JSON: '["https://a.example"]' }, "MERCHANT_ROUTING_JSON must be a JSON object of merchant id to URL"],
    ["routing URL not a URL", { MERCHANT_ROUTING_JSON: '{"MA1": "odoo-a/webhook"}' }, "MERCHANT_ROUTING_JSON has an entry that is not an http(s) URL"],
    ["routing URL not a string", { MERCHANT_ROUTING_JSON: '{"MA1": 7}' }, "MERCHANT_ROUTING_JSON has an entry that is not a string"],
    ["malformed Odoo base JSON", { MERCHANT_ODOO_BASE_JSON: "{'MA1': 1}" }, "MERCHANT_ODOO_BASE_JSON is not valid JSON"],
    ["Odoo base not allow-listed", { MERCHANT_ODOO_BASE_JSON: '{"MA1": "https://odoo-z.example.com"}' }, "MERCHANT_ODOO_BASE_JSON has an entry that names a host missing from ALLOWED_REDIRECT_HOSTS"],
    ["Odoo base over http", { MERCHANT_ODOO_BASE_JSON: '{"MA1": "http://odoo-a.example.com"}' }, "MERCHANT_ODOO_BASE_JSON has an entry that is not an https URL"],
    ["missing secret", { DISPATCHER_SECRET: undefined }, "DISPATCHER_SECRET is not set"],
    ["short secret", { DISPATCHER_SECRET: "too-short" }, "DISPATCHER_SECRET is shorter than 32 characters"],
    ["empty allow-list", { ALLOWED_REDIRECT_HOSTS: " " }, "ALLOWED_REDIRECT_HOSTS is not set"],
    ["URL in the allow-list", { ALLOWED_REDIRECT_HOSTS: "https://odoo-a.example.com" }, "ALLOWED_REDIRECT_HOSTS has an entry that is not a host name"],
    ["missing app id", { CLOVER_APP_ID: "" }, "CLOVER_APP_ID is not set"],
    ["bad authorize URL", { CLOVER_AUTHORIZE_URL: "sandbox.dev.clover.com" }, "CLOVER_AUTHORIZE_URL is not an http(s) URL"],
    ["bad timeout", { FORWARD_TIMEOUT_MS: "5s" }, "FORWARD_TIMEOUT_MS must be an integer from 100 to 60000"],
    ["missing public URL", { DISPATCHER_PUBLIC_URL: undefined }, "DISPATCHER_PUBLIC_URL is not set"],
    ...["", "   "].map((value): [string, Env, string] =>
      [`webhook auth code ${JSON.stringify(value)}`, { CLOVER_WEBHOOK_AUTH_CODE: value }, "CLOVER_WEBHOOK_AUTH_CODE is blank: remove it, or set it to the Clover Auth Code"]),
    ...["dispatch.example.com", "ftp://dispatch.example.com", "https://dispatch.example.com/clover", "https://dispatch.example.com/?x=1",
      "https://dispatch.example.com/#top", "https://user@dispatch.example.com", "https://dispatch.example.com?"].map((value): [string, Env, string] =>
      [`public URL ${value}`, { DISPATCHER_PUBLIC_URL: value }, "DISPATCHER_PUBLIC_URL must be the Worker's public origin, like https://dispatcher.example.com"]),
    ["routing key not a merchant id", { MERCHANT_ROUTING_JSON: '{"MA 1": "https://odoo-a.example.com/w"}' },
      "MERCHANT_ROUTING_JSON has a key that is not a Clover merchant id (1 to 32 letters and digits)"],
    ["launch key not a merchant id", { MERCHANT_ODOO_BASE_JSON: '{"": "https://odoo-a.example.com"}' },
      "MERCHANT_ODOO_BASE_JSON has a key that is not a Clover merchant id (1 to 32 letters and digits)"],
  ];

  it.each(cases)("%s: every configured route answers 500 with the reason, and logs it", async (_, overrides, message) => {
    const error = vi.spyOn(console, "error");
    const env = envWith(overrides);
    const responses = await Promise.all([
      call("/healthz", {}, env),
      call("/clover/launch?merchant_id=MA1", {}, env),
      call("/clover/callback?state=x.y", {}, env),
      call("/clover/webhook", { method: "POST", body: "{}" }, env),
    ]);
    for (const response of responses) {
      expect([response.status, await response.text()]).toEqual([500, `dispatcher misconfigured: ${message}\n`]);
    }
    expect(error).toHaveBeenCalledWith(expect.stringContaining(`configuration error: ${message}`));
  });

  it("keeps the isolate serving: liveness still answers, and a fixed config works at once", async () => {
    const broken = envWith({ MERCHANT_ROUTING_JSON: "{oops" });
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect((await call("/healthz", {}, broken)).status).toBe(500);
    expect((await call("/clover/webhook", {}, broken)).status).toBe(200);
    expect((await call("/healthz", {}, envWith({}))).status).toBe(200);
  });

  it("logs the parser's detail but never puts the variable's value in the response", async () => {
    const error = vi.spyOn(console, "error");
    const response = await call("/healthz", {}, envWith({ MERCHANT_ROUTING_JSON: '{"MA1": "https://secret-host.example' }));
    expect(await response.text()).not.toContain("secret-host");
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/MERCHANT_ROUTING_JSON is not valid JSON \(SyntaxError: .+\)/));
  });

  it("names the offending merchant in the log only", async () => {
    const error = vi.spyOn(console, "error");
    const response = await call("/healthz", {}, envWith({ MERCHANT_ROUTING_JSON: '{"MSECRET1": "nope"}' }));
    expect(await response.text()).not.toContain("MSECRET1");
    expect(error).toHaveBeenCalledWith(expect.stringContaining("is not an http(s) URL (merchant MSECRET1)"));
  });
});
