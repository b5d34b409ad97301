// The signed state shared with Odoo (spec.md §2):
//   b64u(payload JSON, UTF-8) + "." + b64u(HMAC-SHA256(secret, the first part's ASCII text)).
// Checks run in a fixed order (shape, signature, version, payload, age, scheme, host) so both verifiers give
// the same reason for the same state; tests/data/signed_state_vectors.json pins it.
//
// Payload version 2 binds each state to whoever may complete it: exactly one of `merchant_id` (a state the
// dispatcher's /clover/launch issued for that Clover merchant, which the callback's merchant_id must equal) or
// `sub` (a state an Odoo issued when an admin clicked Connect: an HMAC only that Odoo can recompute, for that
// admin and that provider). Older states carry neither and are refused as `outdated`.
import { decodeBase64Url, encodeBase64Url } from "./base64url";
import { parseJsonObject } from "./json";

export const MAX_AGE_SECONDS = 3600;
export const CLOCK_SKEW_SECONDS = 60;

export const STATE_VERSION = 2;

export type Reason = "malformed" | "signature" | "outdated" | "expired" | "future" | "scheme" | "host";

interface BasePayload {
  v: typeof STATE_VERSION;
  redirect_to: string;
  nonce: string;
  iat: number;
  customer?: string;
}

/** Exactly one binding: the launching merchant, or the Odoo admin's opaque subject. */
export type StatePayload = BasePayload & ({ merchant_id: string; sub?: never } | { sub: string; merchant_id?: never });

export type Verdict = { ok: true; payload: StatePayload } | { ok: false; reason: Reason };

const NONCE = /^[0-9a-f]{32}$/;
export const MERCHANT_ID = /^[A-Za-z0-9]{1,32}$/;
// base64url of an HMAC-SHA256 (32 bytes, unpadded): what Odoo puts in `sub`. Only its form is checked here.
const SUBJECT = /^[A-Za-z0-9_-]{43}$/;
// Host names and an optional port only: anything a URL parser could read two ways (userinfo, "\", "%",
// IDN, whitespace) is refused rather than normalised.
const AUTHORITY = /^([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$/;
const MAX_PORT = 65535;
const HTTPS = "https://";
const utf8 = new TextEncoder();

export function importStateKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

export async function signState(payload: StatePayload, key: CryptoKey): Promise<string> {
  const payloadText = encodeBase64Url(utf8.encode(JSON.stringify(payload)));
  const mac = await crypto.subtle.sign("HMAC", key, utf8.encode(payloadText));
  return `${payloadText}.${encodeBase64Url(new Uint8Array(mac))}`;
}

export async function verifyState(
  state: string,
  key: CryptoKey,
  nowSeconds: number,
  allowedHosts: ReadonlySet<string>,
): Promise<Verdict> {
  const parts = state.split(".");
  const signature = parts.length === 2 ? decodeBase64Url(parts[1]) : null;
  const payloadBytes = parts.length === 2 ? decodeBase64Url(parts[0]) : null;
  if (!signature || !payloadBytes) return { ok: false, reason: "malformed" };
  // WebCrypto's verify compares in constant time; it runs before the payload is parsed at all.
  if (!(await crypto.subtle.verify("HMAC", key, signature, utf8.encode(parts[0])))) {
    return { ok: false, reason: "signature" };
  }
  const payload = parseJsonObject(payloadBytes);
  if (!payload) return { ok: false, reason: "malformed" };
  // Before any other field: a state of an older format is refused as such, whatever else it holds.
  if (payload.v !== STATE_VERSION) return { ok: false, reason: "outdated" };
  if (!isStatePayload(payload)) return { ok: false, reason: "malformed" };
  const reason = ageProblem(payload.iat, nowSeconds) ?? redirectProblem(payload.redirect_to, allowedHosts);
  return reason ? { ok: false, reason } : { ok: true, payload };
}

// "scheme" or "host" when the dispatcher must not send a browser to `url`; null when it may.
export function redirectProblem(url: string, allowedHosts: ReadonlySet<string>): "scheme" | "host" | null {
  if (!url.startsWith(HTTPS)) return "scheme";
  const authority = url.slice(HTTPS.length).split(/[/?#]/, 1)[0];
  const match = AUTHORITY.exec(authority);
  if (!match || Number(match[2] ?? 0) > MAX_PORT) return "host";
  return allowedHosts.has(match[1].toLowerCase()) ? null : "host";
}

function ageProblem(iat: number, nowSeconds: number): "expired" | "future" | null {
  if (nowSeconds - iat > MAX_AGE_SECONDS) return "expired";
  if (iat - nowSeconds > CLOCK_SKEW_SECONDS) return "future";
  return null;
}

// A safe integer keeps `iat` exact in both JavaScript and Python (which would accept a bigger one).
function isStatePayload(fields: Record<string, unknown>): fields is Record<string, unknown> & StatePayload {
  return (
    typeof fields.redirect_to === "string" &&
    typeof fields.nonce === "string" &&
    NONCE.test(fields.nonce) &&
    Number.isSafeInteger(fields.iat) &&
    (!Object.hasOwn(fields, "customer") || typeof fields.customer === "string") &&
    hasOneBinding(fields)
  );
}

function hasOneBinding(fields: Record<string, unknown>): boolean {
  const hasMerchant = Object.hasOwn(fields, "merchant_id");
  if (hasMerchant === Object.hasOwn(fields, "sub")) return false;
  return hasMerchant ? matches(MERCHANT_ID, fields.merchant_id) : matches(SUBJECT, fields.sub);
}

function matches(pattern: RegExp, value: unknown): boolean {
  return typeof value === "string" && pattern.test(value);
}
