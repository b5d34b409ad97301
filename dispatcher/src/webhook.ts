// Clover webhooks: one endpoint for the whole Clover app, fanned out to each merchant's Odoo. The body is
// read once, parsed once for routing, and forwarded byte for byte: Odoo authenticates it with X-Clover-Auth.
import type { Config } from "./config";
import { textResponse } from "./http";
import { isObject, parseJsonObject } from "./json";

export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;
const MAX_ODOO_ANSWER_BYTES = 64 * 1024;
const FORWARDED_HEADERS = ["content-type", "x-clover-auth"];
const LOGGED_UNKNOWN_IDS = 20;
const BANNER = "=".repeat(72);

type CloverEvent = Record<string, unknown>;

export async function handleWebhook(request: Request, config: Config): Promise<Response> {
  const body = await readBounded(request, MAX_WEBHOOK_BYTES);
  if (!body) return textResponse(413, `body larger than ${MAX_WEBHOOK_BYTES} bytes`);
  const event = parseJsonObject(body, dropArrayElements);
  if (!event) return textResponse(400, "body is not a JSON object");
  const urls = typeof event.verificationCode === "string"
    ? announceVerification(event.verificationCode, config)
    : routeEvent(event, config);
  const headers = forwardedHeaders(request.headers);
  await Promise.all(urls.map((url) => forward(url, body, headers, config.forwardTimeoutMs)));
  // Every failed forward has logged itself; success is in the runtime's own request log, not repeated here.
  // Always 200: one customer's outage must not look like the dispatcher failing to Clover (see README).
  return textResponse(200, "ok");
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

// Clover shows the code once, and every Odoo must be able to log it too, so it goes to all of them.
function announceVerification(code: string, config: Config): readonly string[] {
  console.warn([
    BANNER,
    `CLOVER WEBHOOK VERIFICATION CODE: ${JSON.stringify(code)}`,
    "Paste it in Clover's Developer Dashboard > App Settings > Webhooks, then press Verify.",
    `Forwarding it to all ${config.allWebhookUrls.length} routed Odoo URL(s).`,
    BANNER,
  ].join("\n"));
  return config.allWebhookUrls;
}

// Distinct Odoo URLs for the event's merchants: each Odoo gets one copy of a batch, however many of its
// merchants it names.
function routeEvent(event: CloverEvent, config: Config): string[] {
  const urls = new Set<string>();
  const unknown: string[] = [];
  for (const merchantId of merchantIds(event)) {
    const url = config.webhookUrls.get(merchantId);
    if (url) urls.add(url);
    else unknown.push(merchantId);
  }
  if (unknown.length) logUnknown(unknown);
  return [...urls];
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

// Logs anything but a 2xx in time, and never throws: one Odoo's failure must not affect the others.
async function forward(url: string, body: Uint8Array, headers: Headers, timeoutMs: number): Promise<void> {
  try {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Reading the (small) answer to the end lets the runtime reuse the connection; cancelling closes it.
    await readBounded(response, MAX_ODOO_ANSWER_BYTES);
    if (!response.ok) console.error(`webhook: ${url} answered HTTP ${response.status}`);
  } catch (error) {
    const reason = error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(error);
    console.error(`webhook: forwarding to ${url} failed: ${reason}`);
  }
}
