// Configuration from wrangler vars and the DISPATCHER_SECRET secret, validated on first use. A bad value
// turns into a ConfigError that every request answers with a 500, instead of an exception at startup that
// would make the Worker crash-loop.
import { isObject } from "./json";
import { importStateKey, MERCHANT_ID, redirectProblem } from "./state";

export const ODOO_CALLBACK_PATH = "/payment/clover/oauth/callback";
/** The dispatcher's own OAuth callback, under DISPATCHER_PUBLIC_URL: Clover's `redirect_uri`. */
export const CALLBACK_PATH = "/clover/callback";
const MIN_SECRET_LENGTH = 32;
const DEFAULT_FORWARD_TIMEOUT_MS = 5000;
const FORWARD_TIMEOUT_RANGE_MS = [100, 60000] as const;
const HOST_NAME = /^[a-z0-9.-]+$/;

export interface Env {
  DISPATCHER_SECRET?: string;
  ALLOWED_REDIRECT_HOSTS?: string;
  MERCHANT_ROUTING_JSON?: string;
  MERCHANT_ODOO_BASE_JSON?: string;
  CLOVER_APP_ID?: string;
  CLOVER_AUTHORIZE_URL?: string;
  DISPATCHER_PUBLIC_URL?: string;
  FORWARD_TIMEOUT_MS?: string;
  CLOVER_WEBHOOK_AUTH_CODE?: string;
}

export interface Config {
  stateKey: CryptoKey;
  allowedHosts: ReadonlySet<string>;
  /** merchant id → that merchant's Odoo webhook URL */
  webhookUrls: ReadonlyMap<string, string>;
  /** every distinct webhook URL, for the verification body */
  allWebhookUrls: readonly string[];
  /** merchant id → the `redirect_to` of a state issued for that merchant */
  odooCallbacks: ReadonlyMap<string, string>;
  appId: string;
  authorizeUrl: string;
  /** the `redirect_uri` a launch sends to Clover: DISPATCHER_PUBLIC_URL + CALLBACK_PATH */
  redirectUri: string;
  forwardTimeoutMs: number;
  /** Clover's webhook auth code (one per app), UTF-8; null when not set: Odoo alone authenticates */
  webhookAuthCode: Uint8Array | null;
}

/** `message` names the variable but never shows its value, so it can go into a public response. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly detail = "",
  ) {
    super(message);
  }
}

// Workers hand every request of an isolate the same env object, so this parses once per isolate.
const cache = new WeakMap<Env, Promise<Config | ConfigError>>();

export function loadConfig(env: Env): Promise<Config | ConfigError> {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env).catch((error: unknown) => {
      if (error instanceof ConfigError) return error;
      throw error;
    });
    cache.set(env, config);
  }
  return config;
}

async function parseConfig(env: Env): Promise<Config> {
  const allowedHosts = parseHosts(setting(env, "ALLOWED_REDIRECT_HOSTS"));
  const webhookUrls = parseUrlMap(env, "MERCHANT_ROUTING_JSON", (url) => (isHttpUrl(url) ? null : "is not an http(s) URL"));
  const odooBases = parseUrlMap(env, "MERCHANT_ODOO_BASE_JSON", (base) => callbackProblem(base, allowedHosts));
  const authorizeUrl = setting(env, "CLOVER_AUTHORIZE_URL");
  if (!isHttpUrl(authorizeUrl)) throw new ConfigError("CLOVER_AUTHORIZE_URL is not an http(s) URL");
  return {
    stateKey: await importStateKey(secret(env)),
    allowedHosts,
    webhookUrls,
    allWebhookUrls: [...new Set(webhookUrls.values())],
    odooCallbacks: new Map([...odooBases].map(([merchantId, base]) => [merchantId, callbackUrl(base)])),
    appId: setting(env, "CLOVER_APP_ID"),
    authorizeUrl,
    redirectUri: publicOrigin(setting(env, "DISPATCHER_PUBLIC_URL")) + CALLBACK_PATH,
    forwardTimeoutMs: forwardTimeout(env.FORWARD_TIMEOUT_MS),
    webhookAuthCode: optionalCode(env, "CLOVER_WEBHOOK_AUTH_CODE"),
  };
}

function setting(env: Env, name: keyof Env): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is not set`);
  return value;
}

function secret(env: Env): string {
  const value = setting(env, "DISPATCHER_SECRET");
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`DISPATCHER_SECRET is shorter than ${MIN_SECRET_LENGTH} characters`);
  }
  return value;
}

function parseHosts(text: string): Set<string> {
  const hosts = text.split(",").map((host) => host.trim().toLowerCase()).filter(Boolean);
  const bad = hosts.find((host) => !HOST_NAME.test(host));
  if (bad !== undefined) throw new ConfigError("ALLOWED_REDIRECT_HOSTS has an entry that is not a host name", bad);
  return new Set(hosts);
}

function parseUrlMap(env: Env, name: keyof Env, problemOf: (url: string) => string | null): Map<string, string> {
  const urls = new Map<string, string>();
  for (const [merchantId, url] of Object.entries(jsonSetting(env, name))) {
    if (!MERCHANT_ID.test(merchantId)) {
      throw new ConfigError(`${name} has a key that is not a Clover merchant id (1 to 32 letters and digits)`, JSON.stringify(merchantId));
    }
    const problem = typeof url === "string" ? problemOf(url) : "is not a string";
    if (problem) throw new ConfigError(`${name} has an entry that ${problem}`, `merchant ${merchantId}`);
    urls.set(merchantId, url as string);
  }
  return urls;
}

function jsonSetting(env: Env, name: keyof Env): Record<string, unknown> {
  const text = setting(env, name);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${name} is not valid JSON`, String(error));
  }
  if (!isObject(value)) throw new ConfigError(`${name} must be a JSON object of merchant id to URL`);
  return value;
}

function callbackUrl(odooBase: string): string {
  return odooBase.replace(/\/+$/, "") + ODOO_CALLBACK_PATH;
}

// A launch must never issue a state that /clover/callback would then refuse.
function callbackProblem(odooBase: string, allowedHosts: ReadonlySet<string>): string | null {
  const problem = redirectProblem(callbackUrl(odooBase), allowedHosts);
  if (problem === "scheme") return "is not an https URL";
  return problem === "host" ? "names a host missing from ALLOWED_REDIRECT_HOSTS" : null;
}

// The Worker's public origin, from configuration rather than the request's Host header, which a client picks.
// An origin only: the routes live at fixed paths.
function publicOrigin(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  const isOrigin = url && ["http:", "https:"].includes(url.protocol) && !url.username && !url.password &&
    url.pathname === "/" && !url.search && !url.hash && !text.includes("?") && !text.includes("#");
  if (!url || !isOrigin) {
    throw new ConfigError("DISPATCHER_PUBLIC_URL must be the Worker's public origin, like https://dispatcher.example.com");
  }
  return url.origin;
}

function isHttpUrl(text: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

// Unset, Odoo alone authenticates webhooks. Set but blank is a mistake (a secret put empty), not a wish to stop
// checking: it fails loud rather than silently forwarding forged webhooks.
function optionalCode(env: Env, name: keyof Env): Uint8Array | null {
  const text = env[name];
  if (text === undefined) return null;
  const value = text.trim();
  if (!value) throw new ConfigError(`${name} is blank: remove it, or set it to the Clover Auth Code`);
  return new TextEncoder().encode(value);
}

function forwardTimeout(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_FORWARD_TIMEOUT_MS;
  const value = Number(text);
  const [min, max] = FORWARD_TIMEOUT_RANGE_MS;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`FORWARD_TIMEOUT_MS must be an integer from ${min} to ${max}`);
  }
  return value;
}
