// Response helpers: every answer of the dispatcher is small and never cached.
const NO_STORE = { "cache-control": "no-store" };

export function textResponse(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: { ...NO_STORE, "content-type": "text/plain; charset=utf-8" } });
}

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...NO_STORE, "content-type": "application/json" } });
}

export function htmlResponse(status: number, title: string, message: string): Response {
  const page = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  return new Response(page, { status, headers: { ...NO_STORE, "content-type": "text/html; charset=utf-8" } });
}

export function redirectResponse(location: URL): Response {
  return new Response(null, { status: 302, headers: { ...NO_STORE, location: location.href } });
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);
}
