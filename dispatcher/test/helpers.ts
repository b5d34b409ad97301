// Calls the Worker's fetch handler on workerd, with the default test env or a variant of it.
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { Env } from "../src/config";
import worker from "../src/index";
import { routingJson, type Received } from "./fixtures";

// Typed as what the runtime hands the Worker (the Cloudflare docs' own idiom for unit tests).
const IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

export const ORIGIN = "https://dispatcher.example";
export const RECEIVER = inject("receiverUrl");

export function call(path: string, init: RequestInit<IncomingRequestCfProperties> = {}, callEnv: Env = env): Promise<Response> {
  return worker.fetch(new IncomingRequest(ORIGIN + path, { redirect: "manual", ...init }), callEnv);
}

export function envWith(overrides: Env): Env {
  return { ...env, ...overrides };
}

/** An env routing `routes` ({merchantId: path}) to the receiver, each path under a prefix of its own. */
export function routedEnv(prefix: string, routes: Record<string, string>, overrides: Env = {}): Env {
  const prefixed = Object.fromEntries(Object.entries(routes).map(([id, path]) => [id, `${prefix}/${path}`]));
  return envWith({ MERCHANT_ROUTING_JSON: routingJson(RECEIVER, prefixed), ...overrides });
}

export async function received(prefix: string): Promise<Received[]> {
  const response = await fetch(`${RECEIVER}/_received?prefix=/${prefix}/`);
  return response.json();
}

export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
