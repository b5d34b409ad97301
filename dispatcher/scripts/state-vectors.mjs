#!/usr/bin/env node
// Writes tests/data/signed_state_vectors.json, the signed-state cases that both the Worker and the Odoo
// verifier must agree on. Deliberately built on node:crypto rather than the Worker's own code, so a
// mistake in the Worker cannot hide in the vectors. Deterministic: fixed secret, clock and nonces.
// Usage: node scripts/state-vectors.mjs [--check]   (--check fails if the committed file is stale)
import { createHash, createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const VERSION = 2;
const OUT = fileURLToPath(new URL("../../tests/data/signed_state_vectors.json", import.meta.url));
const SECRET = "fusion-clover-test-vectors-secret-not-for-production";
const OTHER_SECRET = "some-other-dispatcher-secret-of-another-integrator";
const NOW = 1767225600; // 2026-01-01T00:00:00Z
const MAX_AGE = 3600;
const SKEW = 60;
const ALLOWED_HOSTS = ["odoo-a.example.com", "odoo-b.example.com"];
const CALLBACK = "/payment/clover/oauth/callback";
const ODOO_A = `https://odoo-a.example.com${CALLBACK}`;
const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const b64u = (bytes) => Buffer.from(bytes).toString("base64url");
const hmac = (text, secret = SECRET) => createHmac("sha256", secret).update(text, "latin1").digest();
const seal = (payloadText, secret) => `${payloadText}.${b64u(hmac(payloadText, secret))}`;
const json = (value) => Buffer.from(JSON.stringify(value), "utf8");

// A fixed nonce and subject per vector, so regenerating gives the same file. A real `sub` is an HMAC only
// the issuing Odoo can recompute; verifiers only check its form (43 base64url characters).
const nonceFor = (name) => createHash("sha256").update(name).digest("hex").slice(0, 32);
const subFor = (name) => b64u(createHash("sha256").update(`sub:${name}`).digest());

// Same bits, different text: raise the unused low bits of the last base64url character.
const nonCanonical = (text) => text.slice(0, -1) + B64U[B64U.indexOf(text.at(-1)) + 1];

// JSON tolerates trailing spaces, which lets us pick a byte length that base64 cannot encode evenly.
function unevenJson(value) {
  let text = JSON.stringify(value);
  while (text.length % 3 === 0) text += " ";
  return Buffer.from(text, "utf8");
}

// Each builder gets the vector's claims (a valid payload) and returns the state.
const signed = (payload, secret) => seal(b64u(json(payload)), secret);
const claimsWith = (changes) => (claims) => signed({ ...claims, ...changes });
const redirectTo = (url) => claimsWith({ redirect_to: url });
const rawPayload = (makeBytes) => (claims) => seal(b64u(makeBytes(claims)));
const payloadText = (makeText) => (claims) => seal(makeText(b64u(json(claims)), claims));
const signature = (makeSignature) => (claims) => {
  const text = b64u(json(claims));
  return `${text}.${makeSignature(text, claims)}`;
};
const iatWritten = (iatText) => rawPayload(({ iat, ...rest }) =>
  Buffer.from(`${JSON.stringify(rest).slice(0, -1)},"iat":${iatText}}`));
const versionWritten = (versionText) => rawPayload(({ v, ...rest }) =>
  Buffer.from(`{"v":${versionText},${JSON.stringify(rest).slice(1)}`));
// A launch state from the dispatcher: bound to a merchant instead of an Odoo admin.
const launch = (merchantId, changes = {}) => claimsWith({ sub: undefined, merchant_id: merchantId, ...changes });
// The format before version 2: no `v`, no binding.
const versionOne = (changes = {}) => ({ v, sub, ...claims }) => signed({ ...claims, ...changes });
const impossibleLength = (text) => text + "A".repeat((5 - (text.length % 4)) % 4);
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// Three "~" (0x7e) encode to a base64url "-" whatever their alignment: a label that needs the url alphabet.
const TILDES = "~~~";

/** @type {Array<[name: string, reason: string | null, build: (claims: any) => string]>} */
const CASES = [
  ["valid", null, signed],
  ["valid with customer label (non-ASCII)", null,
    claimsWith({ customer: "Clínica Sør — Odoo B", redirect_to: `https://odoo-b.example.com${CALLBACK}` })],
  ["valid at exactly the age limit", null, claimsWith({ iat: NOW - MAX_AGE })],
  ["valid within clock skew", null, claimsWith({ iat: NOW + SKEW })],
  ["valid with query in redirect_to", null, redirectTo(`https://odoo-b.example.com${CALLBACK}?db=prod`)],
  ["valid with upper-case host", null, redirectTo(`https://ODOO-A.Example.COM${CALLBACK}`)],
  ["valid with explicit port", null, redirectTo(`https://odoo-b.example.com:8443${CALLBACK}`)],
  ["valid with unknown extra fields", null, claimsWith({ version: 2, scope: ["a"] })],
  ["valid with iat written as integral float", null, iatWritten(`${NOW - 120}.0`)],
  ["valid launch state bound to a merchant", null, launch("MA1")],
  ["valid launch state with a 32-character merchant id", null, launch("M".repeat(31) + "9")],
  ["valid with v written as 2.0", null, versionWritten("2.0")],
  ["outdated: version 1 format (no v, no binding)", "outdated", versionOne()],
  ["outdated: version 1 launch state (merchant, no v)", "outdated", versionOne({ merchant_id: "MA1" })],
  ["outdated: v 1", "outdated", claimsWith({ v: 1 })],
  ["outdated: v 3", "outdated", claimsWith({ v: 3 })],
  ["outdated: v as string", "outdated", claimsWith({ v: "2" })],
  ["outdated: v true", "outdated", claimsWith({ v: true })],
  ["outdated: v null", "outdated", claimsWith({ v: null })],
  ["order: signature wins over outdated", "signature", (claims) => {
    const { v, sub, ...old } = claims;
    return signed(old, OTHER_SECRET);
  }],
  ["order: outdated wins over a bad nonce", "outdated", versionOne({ nonce: "not-a-nonce" })],
  ["order: outdated wins over expired and host", "outdated",
    versionOne({ iat: NOW - MAX_AGE - 1, redirect_to: "https://evil.net/" })],
  ["order: malformed binding wins over expired", "malformed", launch("MA-1", { iat: NOW - MAX_AGE - 1 })],
  ["forged signature (one bit flipped)", "signature", signature((text) => {
    const mac = hmac(text);
    mac[0] ^= 1;
    return b64u(mac);
  })],
  ["signature made with another secret", "signature", (claims) => signed(claims, OTHER_SECRET)],
  ["signature over the JSON instead of its base64url text", "signature",
    signature((_, claims) => b64u(hmac(JSON.stringify(claims))))],
  ["truncated signature", "signature", signature((text) => b64u(hmac(text).subarray(0, 16)))],
  ["expired (one second past the age limit)", "expired", claimsWith({ iat: NOW - MAX_AGE - 1 })],
  ["future beyond clock skew", "future", claimsWith({ iat: NOW + SKEW + 1 })],
  ["http scheme", "scheme", redirectTo(`http://odoo-a.example.com${CALLBACK}`)],
  ["upper-case scheme", "scheme", redirectTo(`HTTPS://odoo-a.example.com${CALLBACK}`)],
  ["javascript scheme", "scheme", redirectTo("javascript:alert(1)//odoo-a.example.com")],
  ["host not allowed", "host", redirectTo(`https://evil.example.net${CALLBACK}`)],
  ["host suffix trick", "host", redirectTo(`https://odoo-a.example.com.evil.net${CALLBACK}`)],
  ["subdomain of an allowed host", "host", redirectTo(`https://x.odoo-a.example.com${CALLBACK}`)],
  ["userinfo trick", "host", redirectTo(`https://odoo-a.example.com@evil.net${CALLBACK}`)],
  ["userinfo before an allowed host", "host", redirectTo(`https://evil.net@odoo-a.example.com${CALLBACK}`)],
  ["backslash trick", "host", redirectTo(`https://evil.net\\@odoo-a.example.com${CALLBACK}`)],
  ["host with trailing dot", "host", redirectTo(`https://odoo-a.example.com.${CALLBACK}`)],
  ["percent-encoded host", "host", redirectTo(`https://odoo-a%2Eexample.com${CALLBACK}`)],
  ["non-ASCII host", "host", redirectTo(`https://ödoo-a.example.com${CALLBACK}`)],
  ["empty host", "host", redirectTo(`https:///odoo-a.example.com${CALLBACK}`)],
  ["port out of range", "host", redirectTo(`https://odoo-a.example.com:65536${CALLBACK}`)],
  ["order: expired wins over host", "expired", claimsWith({ iat: NOW - MAX_AGE - 1, redirect_to: "https://evil.net/" })],
  ["order: signature wins over a bad payload", "signature", () => `${b64u(Buffer.from("[]"))}.${b64u(hmac("x"))}`],
  ["malformed: empty state", "malformed", () => ""],
  ["malformed: no dot", "malformed", (claims) => b64u(json(claims))],
  ["malformed: three parts", "malformed", (claims) => `${signed(claims)}.${b64u(hmac("x"))}`],
  ["malformed: empty signature part", "malformed", (claims) => `${b64u(json(claims))}.`],
  ["malformed: bad base64 character", "malformed", payloadText((text) => `*${text.slice(1)}`)],
  ["malformed: standard base64 alphabet", "malformed", (claims) =>
    seal(b64u(json({ ...claims, customer: TILDES })).replaceAll("-", "+").replaceAll("_", "/"))],
  ["malformed: padded base64", "malformed", (claims) =>
    seal(unevenJson(claims).toString("base64").replaceAll("+", "-").replaceAll("/", "_"))],
  ["malformed: impossible base64 length", "malformed", payloadText(impossibleLength)],
  ["malformed: non-canonical base64 payload", "malformed", (claims) => seal(nonCanonical(b64u(unevenJson(claims))))],
  ["malformed: non-canonical base64 signature", "malformed", signature((text) => nonCanonical(b64u(hmac(text))))],
  ["malformed: payload not JSON", "malformed", rawPayload(() => Buffer.from("redirect_to=https://odoo-a.example.com"))],
  ["malformed: payload not UTF-8", "malformed", rawPayload(() => Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))],
  ["malformed: payload with UTF-8 byte order mark", "malformed", rawPayload((claims) => Buffer.concat([BOM, json(claims)]))],
  ["malformed: payload a JSON array", "malformed", rawPayload(() => Buffer.from(`["${ODOO_A}"]`))],
  ["malformed: payload JSON null", "malformed", rawPayload(() => Buffer.from("null"))],
  ["malformed: missing nonce", "malformed", claimsWith({ nonce: undefined })],
  ["malformed: upper-case nonce", "malformed", (claims) => signed({ ...claims, nonce: claims.nonce.toUpperCase() })],
  ["malformed: nonce with trailing newline", "malformed", (claims) => signed({ ...claims, nonce: `${claims.nonce}\n` })],
  ["malformed: missing redirect_to", "malformed", claimsWith({ redirect_to: undefined })],
  ["malformed: redirect_to not a string", "malformed", claimsWith({ redirect_to: [ODOO_A] })],
  ["malformed: customer not a string", "malformed", claimsWith({ customer: 42 })],
  ["malformed: non-integer iat", "malformed", claimsWith({ iat: NOW - 120.5 })],
  ["malformed: iat as string", "malformed", claimsWith({ iat: String(NOW) })],
  ["malformed: iat boolean", "malformed", claimsWith({ iat: true })],
  ["malformed: iat beyond 2^53", "malformed", iatWritten("9007199254740993")],
  ["malformed: both merchant_id and sub", "malformed", claimsWith({ merchant_id: "MA1" })],
  ["malformed: neither merchant_id nor sub", "malformed", claimsWith({ sub: undefined })],
  ["malformed: merchant_id with a dash", "malformed", launch("MA-1")],
  ["malformed: merchant_id empty", "malformed", launch("")],
  ["malformed: merchant_id of 33 characters", "malformed", launch("M".repeat(33))],
  ["malformed: merchant_id non-ASCII", "malformed", launch("MÅ1")],
  ["malformed: merchant_id with trailing newline", "malformed", launch("MA1\n")],
  ["malformed: merchant_id a number", "malformed", launch(12345)],
  ["malformed: merchant_id null", "malformed", launch(null)],
  ["malformed: sub too short", "malformed", (claims) => signed({ ...claims, sub: claims.sub.slice(1) })],
  ["malformed: sub too long", "malformed", (claims) => signed({ ...claims, sub: `${claims.sub}A` })],
  ["malformed: sub in standard base64", "malformed", (claims) => signed({ ...claims, sub: `${claims.sub.slice(0, 42)}+` })],
  ["malformed: sub not a string", "malformed", claimsWith({ sub: 7 })],
];

// A valid vector carries the payload a verifier must return; an invalid one carries null.
function buildVector([name, reason, build]) {
  const state = build({ v: VERSION, redirect_to: ODOO_A, nonce: nonceFor(name), iat: NOW - 120, sub: subFor(name) });
  const payload = reason === null ? JSON.parse(Buffer.from(state.split(".")[0], "base64url").toString("utf8")) : null;
  return { name, state, valid: reason === null, reason, payload };
}

const document = {
  version: VERSION,
  secret: SECRET,
  now: NOW,
  max_age: MAX_AGE,
  skew: SKEW,
  allowed_hosts: ALLOWED_HOSTS,
  vectors: CASES.map(buildVector),
};
const text = `${JSON.stringify(document, null, 2)}\n`;

if (process.argv.includes("--check")) {
  if (readFileSync(OUT, "utf8") !== text) {
    console.error(`${OUT} is stale: run "npm run vectors" and commit it`);
    process.exit(1);
  }
  console.log(`signed state vectors up to date (${document.vectors.length} vectors)`);
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${document.vectors.length} vectors to ${OUT}`);
}
