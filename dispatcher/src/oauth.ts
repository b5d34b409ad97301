// The OAuth legs: Clover's Alternate Launch Path issues a signed state for the merchant's Odoo, and the
// callback sends the browser on to the Odoo named in a verified state.
import type { Config } from "./config";
import { htmlResponse, redirectResponse, textResponse } from "./http";
import { signState, STATE_VERSION, verifyState, type Verdict } from "./state";

const NONCE_BYTES = 16;

export async function handleLaunch(url: URL, config: Config): Promise<Response> {
  const merchantId = url.searchParams.get("merchant_id") ?? "";
  const redirectTo = config.odooCallbacks.get(merchantId);
  if (!redirectTo) {
    console.warn(`launch: merchant ${JSON.stringify(merchantId)} has no Odoo in MERCHANT_ODOO_BASE_JSON`);
    return htmlResponse(404, "Merchant not connected",
      `Clover merchant "${merchantId}" is not set up with this integrator yet. Please contact your Odoo provider.`);
  }
  // Bound to the merchant: Odoo completes it only for a callback naming that same merchant.
  const state = await signState(
    { v: STATE_VERSION, redirect_to: redirectTo, nonce: randomHex(NONCE_BYTES), iat: nowSeconds(), merchant_id: merchantId },
    config.stateKey,
  );
  const authorize = new URL(config.authorizeUrl);
  authorize.searchParams.set("client_id", config.appId);
  authorize.searchParams.set("redirect_uri", config.redirectUri);
  authorize.searchParams.set("state", state);
  return redirectResponse(authorize);
}

// Clover's query goes on untouched, state included, so that Odoo verifies the state again itself.
export async function handleCallback(url: URL, config: Config): Promise<Response> {
  const verdict = await verifyCallbackState(url.searchParams.getAll("state"), config);
  const reason = verdict.ok ? merchantProblem(verdict.payload.merchant_id, url.searchParams) : verdict.reason;
  if (!verdict.ok || reason) {
    console.warn(`callback: state rejected (${reason})`);
    return textResponse(403, `state rejected: ${reason}`);
  }
  const target = new URL(verdict.payload.redirect_to);
  target.search = [target.search.slice(1), url.search.slice(1)].filter(Boolean).join("&");
  return redirectResponse(target);
}

// Exactly one state: with two, Odoo might check a different one than the dispatcher did.
function verifyCallbackState(states: string[], config: Config): Promise<Verdict> | Verdict {
  if (states.length !== 1) return { ok: false, reason: "malformed" };
  return verifyState(states[0], config.stateKey, nowSeconds(), config.allowedHosts);
}

// Defence in depth (Odoo checks it too): a launch state only completes for the merchant it was issued to.
function merchantProblem(stateMerchant: string | undefined, query: URLSearchParams): "merchant" | null {
  if (stateMerchant === undefined) return null;
  const merchants = query.getAll("merchant_id");
  return merchants.length === 1 && merchants[0] === stateMerchant ? null : "merchant";
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function randomHex(byteCount: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
