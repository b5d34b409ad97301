// Clover webhooks: one endpoint for the whole Clover app, fanned out to each merchant's Odoo. The body is
// read once, parsed once for routing, and forwarded byte for byte: Odoo authenticates it with X-Clover-Auth.
// Given the app's auth code (CLOVER_WEBHOOK_AUTH_CODE), the dispatcher also refuses forged ones itself.
import type { Config } from "./config";
import { textResponse } from "./http";
import { isObject, parseJsonObject } from "./json";

export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;
const MAX_ODOO_ANSWER_BYTES = 64 * 1024;
// `{"verificationCode": "<uuid>"}` is about 60 bytes: larger unauthenticated bodies are not parsed.
const MAX_VERIFICATION_BYTES = 256;
const VERIFICATION_CODE = /^[A-Za-z0-9-]{1,64}$/;
const FORWARDED_HEADERS = ["content-type", "x-clover-auth"];
const LOGGED_UNKNOWN_IDS = 20;
const LOGGED_LOST_EVENTS = 100;
// Pauses between attempts after a connection-level failure; the last one repeats until the budget is spent.
const RETRY_PAUSES_MS = [50, 100, 200, 400, 800, 1000];
const BANNER = "=".repeat(72);

type CloverEvent = Record<string, unknown>;

/** One Odoo URL and the merchants of the webhook it stands for (empty for the verification body). */
interface Route {
  url: string;
  merchantIds: string[];
}

type Attempt =
  | { kind: "delivered" }
  | { kind: "connection" | "timeout" | "status"; reason: string };

export async function handleWebhook(request: Request, config: Config): Promise<Response> {
  const body = await readBounded(request, MAX_WEBHOOK_BYTES);
  if (!body) return textResponse(413, `body larger than ${MAX_WEBHOOK_BYTES} bytes`);
  const header = request.headers.get("x-clover-auth");
  const authCode = config.webhookAuthCode;
  const authenticated = !authCode || (header !== null && sameBytes(new TextEncoder().encode(header), authCode));
  // Only a body as small as the verification body is parsed before authentication.
  if (!authenticated && body.byteLength > MAX_VERIFICATION_BYTES) return refuse(header);
  const event = parseJsonObject(body, dropArrayElements);
  const verificationCode = verificationCodeOf(event);
  if (!authenticated && verificationCode === null) return refuse(header);
  if (!event) return textResponse(400, "body is not a JSON object");
  const routes = verificationCode === null ? routeEvent(event, config) : announceVerification(verificationCode, authenticated, config);
  const headers = forwardedHeaders(request.headers);
  const lost = new LostEvents(body);
  await Promise.all(routes.map((route) => forward(route, body, headers, config.forwardTimeoutMs, lost)));
  // Every lost forward has logged itself; success is in the runtime's own request log, not repeated here.
  // Always 200: one customer's outage must not look like the dispatcher failing to Clover (see README).
  return textResponse(200, "ok");
}

// Odoo's rule, so that what passes here unauthenticated is exactly what Odoo accepts unauthenticated: the one
// key `verificationCode`, holding a code of the shape Clover sends (a UUID), nothing else. Null: not that body.
function verificationCodeOf(event: CloverEvent | null): string | null {
  if (!event || Object.keys(event).length !== 1) return null;
  const code = event.verificationCode;
  return typeof code === "string" && VERIFICATION_CODE.test(code) ? code : null;
}

// With the app's auth code configured, a webhook without it is refused here, before any Odoo spends a worker on it.
function refuse(header: string | null): Response {
  const [status, reason] = header === null ? [401, "no X-Clover-Auth"] : [403, "wrong X-Clover-Auth"];
  console.warn(`webhook: refused (${status}), ${reason}; nothing forwarded`);
  return textResponse(status, status === 401 ? "unauthorized" : "forbidden");
}

// Constant time. timingSafeEqual needs equal lengths: a guess of another length still costs one comparison.
function sameBytes(sent: Uint8Array, code: Uint8Array): boolean {
  if (sent.byteLength !== code.byteLength) return !crypto.subtle.timingSafeEqual(code, code);
  return crypto.subtle.timingSafeEqual(sent, code);
}

// Null when the body exceeds `limit`. A declared length is enforced by the runtime's HTTP parser, so it is
// checked up front (nothing read when it is too big) and the body then read in one native call; a body of
// undeclared length is counted while it streams in.
async function readBounded(message: Request | Response, limit: number): Promise<Uint8Array | null> {
  if (!message.body) return new Uint8Array(0);
  const declared = message.headers.get("content-length");
  if (declared !== null && Number(declared) <= limit) return new Uint8Array(await message.arrayBuffer());
  const reader = message.body.getReader();
  if (declared !== null) return cancel(reader);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > limit) return cancel(reader);
    chunks.push(chunk.value);
  }
  return concat(chunks, size);
}

async function cancel(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<null> {
  await reader.cancel();
  return null;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// Routing reads object keys and top-level strings only, never array elements (the firehose's event lists).
// Dropping them while parsing keeps a big batch from leaving megabytes of parsed events in the old
// generation, where on local workerd they outlived many requests (see README, benchmark).
function dropArrayElements(this: unknown, _key: string, value: unknown): unknown {
  return Array.isArray(this) ? null : value;
}

// Clover shows the code once, and before the app's auth code exists every Odoo must be able to log it too, so
// it goes to all of them. Once CLOVER_WEBHOOK_AUTH_CODE is set, verification is done and its operator reads
// this log: an unauthenticated body then reaches no Odoo, else one forged request would become one per Odoo.
// `authenticated` is true when no auth code is set: then every verification body is forwarded.
function announceVerification(code: string, authenticated: boolean, config: Config): Route[] {
  console.warn([
    BANNER,
    `CLOVER WEBHOOK VERIFICATION CODE: ${JSON.stringify(code)}`,
    "Paste it in Clover's Developer Dashboard > App Settings > Webhooks, then press Verify.",
    authenticated
      ? `Forwarding it to all ${config.allWebhookUrls.length} routed Odoo URL(s).`
      : "Forwarded to no Odoo: it carries no valid X-Clover-Auth, and CLOVER_WEBHOOK_AUTH_CODE is set.",
    BANNER,
  ].join("\n"));
  return authenticated ? config.allWebhookUrls.map((url) => ({ url, merchantIds: [] })) : [];
}

// Distinct Odoo URLs for the event's merchants: each Odoo gets one copy of a batch, however many of its
// merchants it names.
function routeEvent(event: CloverEvent, config: Config): Route[] {
  const routes = new Map<string, Route>();
  const unknown: string[] = [];
  for (const merchantId of merchantIds(event)) {
    const url = config.webhookUrls.get(merchantId);
    if (!url) unknown.push(merchantId);
    else if (routes.has(url)) routes.get(url)?.merchantIds.push(merchantId);
    else routes.set(url, { url, merchantIds: [merchantId] });
  }
  if (unknown.length) logUnknown(unknown);
  return [...routes.values()];
}

// The app firehose keys events by merchant (`merchants.<mId>`); other shapes carry `merchantId`.
function merchantIds(event: CloverEvent): Set<string> {
  const ids = new Set(isObject(event.merchants) ? Object.keys(event.merchants) : []);
  if (typeof event.merchantId === "string") ids.add(event.merchantId);
  return ids;
}

// Ids are quoted: they come from an unauthenticated body and must not be able to forge a log line.
function logUnknown(merchantIds: string[]): void {
  const shown = merchantIds.slice(0, LOGGED_UNKNOWN_IDS).map((id) => JSON.stringify(id)).join(", ");
  const more = merchantIds.length > LOGGED_UNKNOWN_IDS ? ` and ${merchantIds.length - LOGGED_UNKNOWN_IDS} more` : "";
  console.warn(`webhook: acknowledged without forwarding, no route for merchant(s) ${shown}${more}`);
}

function forwardedHeaders(incoming: Headers): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

// Delivers to one Odoo within `budgetMs`, attempts included, and never throws: one Odoo's failure must not
// affect the others. A connection-level failure (refused, reset, dropped before the answer) is retried, since
// Odoo's handling of a webhook is idempotent and such failures are often momentary (a restart, a stale pooled
// connection). An answer, even an error, and a timeout are final: the first says Odoo processed or refused the
// request, the second has spent the budget. What is finally lost is logged for replay.
async function forward(route: Route, body: Uint8Array, headers: Headers, budgetMs: number, lost: LostEvents): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (let attempts = 1; ; attempts += 1) {
    const outcome = await attempt(route.url, body, headers, deadline, budgetMs);
    if (outcome.kind === "delivered") return;
    const pause = RETRY_PAUSES_MS[Math.min(attempts, RETRY_PAUSES_MS.length) - 1];
    if (outcome.kind !== "connection" || Date.now() + pause >= deadline) {
      console.error(`webhook: forwarding to ${route.url} failed (${outcome.reason}) after ${attempts} attempt(s); lost ${lost.describe(route)}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

async function attempt(url: string, body: Uint8Array, headers: Headers, deadline: number, budgetMs: number): Promise<Attempt> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      body,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    });
  } catch (error) {
    return error instanceof Error && error.name === "TimeoutError"
      ? { kind: "timeout", reason: `no answer within ${budgetMs} ms` }
      : { kind: "connection", reason: String(error) };
  }
  // Reading the (small) answer to the end lets the runtime reuse the connection; cancelling closes it. The
  // status is already decided: an answer cut short after it does not undo a delivery.
  await readBounded(response, MAX_ODOO_ANSWER_BYTES).catch(() => null);
  return response.ok ? { kind: "delivered" } : { kind: "status", reason: `answered HTTP ${response.status}` };
}

// What a lost forward carried, for the log line an operator replays it from: the merchants routed to that
// Odoo and their events' ids. The body is parsed again in full only when something is lost (routing drops
// the event lists, see dropArrayElements), and at most once per webhook.
class LostEvents {
  private parsed: CloverEvent | null | undefined;

  constructor(private readonly body: Uint8Array) {}

  describe(route: Route): string {
    if (!route.merchantIds.length) return JSON.stringify({ verification: true });
    this.parsed ??= parseJsonObject(this.body);
    const events: Record<string, unknown[]> = {};
    let logged = 0;
    let total = 0;
    for (const merchantId of route.merchantIds) {
      const ids = this.eventIds(merchantId);
      total += ids.length;
      events[merchantId] = ids.slice(0, Math.max(0, LOGGED_LOST_EVENTS - logged));
      logged += events[merchantId].length;
    }
    return JSON.stringify(total > logged ? { events, more_events: total - logged } : { events });
  }

  // Only ids, types and times are copied: the rest of an unauthenticated body has no place in the log.
  private eventIds(merchantId: string): unknown[] {
    const event = this.parsed ?? {};
    const batch = isObject(event.merchants) ? event.merchants[merchantId] : undefined;
    const pick = (item: unknown, keys: string[]) =>
      isObject(item) ? Object.fromEntries(keys.filter((key) => isScalar(item[key])).map((key) => [key, item[key]])) : {};
    if (Array.isArray(batch)) return batch.map((item) => pick(item, ["objectId", "type", "ts"]));
    return event.merchantId === merchantId ? [pick(event, ["id", "type"])] : [];
  }
}

function isScalar(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number";
}
