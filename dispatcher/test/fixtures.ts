// Configuration shared by vitest.config.ts (Node) and the tests (workerd): no imports on purpose.
export const SECRET = "dispatcher-test-secret-0123456789abcdef";
export const ALLOWED_HOSTS = "odoo-a.example.com, odoo-b.example.com";
export const APP_ID = "TESTAPPID1234";
export const AUTHORIZE_URL = "https://sandbox.dev.clover.com/oauth/v2/authorize";
/** Not the origin the tests call the Worker at: the launch must use this, never the request's Host. */
export const PUBLIC_URL = "https://dispatch.fusion-clover.example";
export const ODOO_BASES = { MA1: "https://odoo-a.example.com", MB1: "https://odoo-b.example.com/" };

/** Receiver paths, one per customer Odoo, for the default bindings. */
export const DEFAULT_ROUTES = { MA1: "default/odoo-a", MA2: "default/odoo-a", MB1: "default/odoo-b" };

export function routingJson(receiverUrl: string, routes: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(routes).map(([id, path]) => [id, `${receiverUrl}/${path}`])));
}

export function defaultBindings(receiverUrl: string): Record<string, string> {
  return {
    DISPATCHER_SECRET: SECRET,
    ALLOWED_REDIRECT_HOSTS: ALLOWED_HOSTS,
    MERCHANT_ROUTING_JSON: routingJson(receiverUrl, DEFAULT_ROUTES),
    MERCHANT_ODOO_BASE_JSON: JSON.stringify(ODOO_BASES),
    CLOVER_APP_ID: APP_ID,
    CLOVER_AUTHORIZE_URL: AUTHORIZE_URL,
    DISPATCHER_PUBLIC_URL: PUBLIC_URL,
  };
}

/** What the test receiver (test/node/receiver.ts) recorded for one forwarded request. */
export interface Received {
  path: string;
  bytes: number;
  sha256: string;
  contentType: string | null;
  cloverAuth: string | null;
}
