// fusion_clover dispatcher: one Clover app, many Odoo instances (spec.md §6).
import { CALLBACK_PATH, ConfigError, loadConfig, type Config, type Env } from "./config";
import { jsonResponse, textResponse } from "./http";
import { handleCallback, handleLaunch } from "./oauth";
import { handleWebhook } from "./webhook";

type Handler = (request: Request, url: URL, env: Env) => Promise<Response>;

const withConfig =
  (handler: (request: Request, url: URL, config: Config) => Promise<Response>): Handler =>
  async (request, url, env) => {
    const config = await loadConfig(env);
    if (config instanceof ConfigError) {
      console.error(`configuration error: ${config.message}${config.detail ? ` (${config.detail})` : ""}`);
      return textResponse(500, `dispatcher misconfigured: ${config.message}`);
    }
    return handler(request, url, config);
  };

// Counts only: the health check is public, the merchant ids and URLs are not.
const healthz = async (_request: Request, _url: URL, config: Config) =>
  jsonResponse(200, {
    status: "ok",
    routed_merchants: config.webhookUrls.size,
    odoo_webhook_urls: config.allWebhookUrls.length,
    launch_merchants: config.odooCallbacks.size,
    allowed_hosts: config.allowedHosts.size,
  });

const ROUTES = new Map<string, Handler>([
  ["GET /healthz", withConfig(healthz)],
  ["GET /clover/webhook", async () => textResponse(200, "ok")],
  ["POST /clover/webhook", withConfig((request, _url, config) => handleWebhook(request, config))],
  [`GET ${CALLBACK_PATH}`, withConfig((_request, url, config) => handleCallback(url, config))],
  ["GET /clover/launch", withConfig((_request, url, config) => handleLaunch(url, config))],
]);

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    // HEAD is GET without the body (RFC 9110 §9.3.2): monitors and link checkers use it.
    const isHead = request.method === "HEAD";
    const route = ROUTES.get(`${isHead ? "GET" : request.method} ${url.pathname}`);
    const response = route ? await answer(route, request, url, env) : textResponse(404, "not found");
    return isHead ? withoutBody(response) : response;
  },
} satisfies ExportedHandler<Env>;

async function answer(route: Handler, request: Request, url: URL, env: Env): Promise<Response> {
  try {
    return await route(request, url, env);
  } catch (error) {
    console.error(`${request.method} ${url.pathname} failed:`, error);
    return textResponse(500, "internal error");
  }
}

function withoutBody(response: Response): Response {
  void response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
}
