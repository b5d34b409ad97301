// The signed state: the shared vectors (also checked by the Odoo verifier), signing, and GET /clover/callback.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import vectors from "../../tests/data/signed_state_vectors.json";
import { decodeBase64Url, encodeBase64Url } from "../src/base64url";
import { CLOCK_SKEW_SECONDS, importStateKey, MAX_AGE_SECONDS, signState, STATE_VERSION, verifyState } from "../src/state";
import { call, envWith } from "./helpers";

const hosts = new Set(vectors.allowed_hosts);
const vectorEnv = envWith({ DISPATCHER_SECRET: vectors.secret, ALLOWED_REDIRECT_HOSTS: vectors.allowed_hosts.join(",") });
const callback = (query: string) => call(`/clover/callback?${query}`, {}, vectorEnv);

describe("shared vectors file", () => {
  it("uses the same limits and version as the Worker", () => {
    expect([vectors.max_age, vectors.skew, vectors.version]).toEqual([MAX_AGE_SECONDS, CLOCK_SKEW_SECONDS, STATE_VERSION]);
  });

  it("covers every failure reason", () => {
    const reasons = new Set(vectors.vectors.map((vector) => vector.reason));
    expect([...reasons].sort()).toEqual([null, "expired", "future", "host", "malformed", "outdated", "scheme", "signature"].sort());
  });

  it("has valid states of both bindings", () => {
    const valid = vectors.vectors.filter((vector) => vector.valid).map((vector) => vector.payload ?? {});
    expect(valid.some((payload) => "merchant_id" in payload)).toBe(true);
    expect(valid.some((payload) => "sub" in payload)).toBe(true);
  });
});

describe.each(vectors.vectors)("vector: $name", (vector) => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ["Date"], now: vectors.now * 1000 });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it(`verifyState gives ${vector.reason ?? "valid"}`, async () => {
    const verdict = await verifyState(vector.state, await importStateKey(vectors.secret), vectors.now, hosts);
    expect(verdict).toEqual(vector.valid ? { ok: true, payload: vector.payload } : { ok: false, reason: vector.reason });
  });

  it(`GET /clover/callback answers ${vector.valid ? 302 : 403}`, async () => {
    const merchant = (vector.payload as { merchant_id?: string } | null)?.merchant_id ?? "MA1";
    const response = await callback(`code=C0DE&merchant_id=${merchant}&state=${encodeURIComponent(vector.state)}`);
    if (vector.valid) {
      const location = new URL(response.headers.get("location") ?? "");
      expect(response.status).toBe(302);
      expect(location.origin).toBe(new URL(vector.payload?.redirect_to ?? "").origin);
      expect(location.searchParams.get("state")).toBe(vector.state);
    } else {
      expect(response.status).toBe(403);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toBe(`state rejected: ${vector.reason}\n`);
    }
  });
});

describe("signState", () => {
  it("produces states that verify, with the payload intact", async () => {
    const key = await importStateKey(vectors.secret);
    const payload = {
      v: STATE_VERSION, redirect_to: "https://odoo-a.example.com/cb", nonce: "0".repeat(32), iat: vectors.now, customer: "Zoë", merchant_id: "MA1",
    } as const;
    const state = await signState(payload, key);
    expect(state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await verifyState(state, key, vectors.now, hosts)).toEqual({ ok: true, payload });
  });
});

describe("base64url", () => {
  it("round-trips every length and rejects padding", () => {
    for (let length = 0; length < 8; length += 1) {
      const bytes = Uint8Array.from({ length }, (_, i) => 250 + i);
      const text = encodeBase64Url(bytes);
      expect(text).not.toMatch(/[=+/]/);
      expect(length === 0 ? null : decodeBase64Url(text)).toEqual(length === 0 ? null : bytes);
    }
    expect(decodeBase64Url("QQ==")).toBeNull();
  });
});

describe("GET /clover/callback", () => {
  const now = Math.floor(Date.now() / 1000);
  const stateFor = async (redirectTo: string) =>
    signState({ v: STATE_VERSION, redirect_to: redirectTo, nonce: "ab".repeat(16), iat: now, sub: "s".repeat(43) }, await importStateKey(vectors.secret));
  const launchState = async (merchantId: string) =>
    signState({ v: STATE_VERSION, redirect_to: "https://odoo-a.example.com/payment/clover/oauth/callback", nonce: "cd".repeat(16), iat: now, merchant_id: merchantId },
      await importStateKey(vectors.secret));

  it("forwards every Clover parameter, raw, after the query already in redirect_to", async () => {
    const state = await stateFor("https://odoo-b.example.com/payment/clover/oauth/callback?db=prod#top");
    const query = `merchant_id=MB1&employee_id=E%201&client_id=APP&code=a%2Bb%3D&state=${state}&extra=`;
    const response = await callback(query);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(
      `https://odoo-b.example.com/payment/clover/oauth/callback?db=prod&${query}#top`,
    );
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses a request without a state", async () => {
    const response = await callback("code=C0DE&merchant_id=MA1");
    expect([response.status, await response.text()]).toEqual([403, "state rejected: malformed\n"]);
  });

  it("passes a launch state on only for the merchant it was issued to", async () => {
    const state = await launchState("MA1");
    expect((await callback(`merchant_id=MA1&code=c&state=${state}`)).status).toBe(302);
    for (const query of ["merchant_id=MB1", "merchant_id=ma1", "", "merchant_id=MA1&merchant_id=MB1"]) {
      const response = await callback(`${query}&code=c&state=${state}`);
      expect([query, response.status, await response.text()]).toEqual([query, 403, "state rejected: merchant\n"]);
      expect(response.headers.get("location")).toBeNull();
    }
  });

  it("passes an Odoo admin's state on whatever merchant Clover names (Odoo checks the binding)", async () => {
    const state = await stateFor("https://odoo-a.example.com/payment/clover/oauth/callback");
    expect((await callback(`merchant_id=MB1&code=c&state=${state}`)).status).toBe(302);
  });

  it("refuses two states, even if both are valid", async () => {
    const state = await stateFor("https://odoo-a.example.com/cb");
    const response = await callback(`state=${state}&state=${state}`);
    expect([response.status, await response.text()]).toEqual([403, "state rejected: malformed\n"]);
  });
});
