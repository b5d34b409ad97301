// vitest global setup, in Node: a real HTTP server on 127.0.0.1 standing in for the customer Odoos.
// It records what each path received; tests read the records back with GET /_received?prefix=/<test>/.
// Paths containing /slow/ answer late, /fail/ answer 503, /redirect/ answer 302, /drop-once/ cut the first
// connection that reaches them after reading the request (a reset without an answer), then answer 200.
// POST /_late?after=<ms> hands out the URL of an Odoo that refuses connections for that long, then listens.
// GET /_dropped?prefix=/<test>/ lists the paths whose connection was cut.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestProject } from "vitest/node";
import type { Received } from "../fixtures";

export const SLOW_ANSWER_MS = 3000;

interface Records {
  received: Received[];
  dropped: string[];
  servers: Server[];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const records: Records = { received: [], dropped: [], servers: [] };
  const server = createServer((request, response) => void answer(request, response, records));
  const receiverPort = await listen(server);
  project.provide("receiverUrl", `http://127.0.0.1:${receiverPort}`);
  project.provide("deadUrl", `http://127.0.0.1:${await unusedPort()}`);
  return async () => {
    for (const each of [server, ...records.servers]) {
      each.closeAllConnections();
      await close(each);
    }
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, records: Records): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const { pathname, searchParams } = new URL(request.url ?? "/", "http://receiver");
  const prefix = searchParams.get("prefix") ?? "/";
  if (request.method === "GET" && (pathname === "/_received" || pathname === "/_dropped")) {
    const list = pathname === "/_received" ? records.received.filter((record) => record.path.startsWith(prefix))
      : records.dropped.filter((path) => path.startsWith(prefix));
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify(list));
    return;
  }
  if (request.method === "POST" && pathname === "/_late") {
    response.end(await lateServer(Number(searchParams.get("after")), records));
    return;
  }
  if (pathname.includes("/drop-once/") && !records.dropped.includes(pathname)) {
    records.dropped.push(pathname);
    request.socket.destroy();
    return;
  }
  records.received.push({
    path: pathname,
    bytes: body.byteLength,
    sha256: createHash("sha256").update(body).digest("hex"),
    contentType: request.headers["content-type"] ?? null,
    cloverAuth: (request.headers["x-clover-auth"] as string | undefined) ?? null,
  });
  if (pathname.includes("/slow/")) await sleep(SLOW_ANSWER_MS, undefined, { ref: false });
  if (pathname.includes("/redirect/")) response.writeHead(302, { location: `${pathname}/followed` });
  else response.statusCode = pathname.includes("/fail/") ? 503 : 200;
  response.end("ok");
}

// A port nothing listens on (yet): connections to it are refused.
async function unusedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

// An Odoo that is down for `afterMs`, then up: its URL at once, the listening later.
async function lateServer(afterMs: number, records: Records): Promise<string> {
  const port = await unusedPort();
  const server = createServer((request, response) => void answer(request, response, records));
  records.servers.push(server);
  setTimeout(() => server.listen(port, "127.0.0.1"), afterMs).unref();
  return `http://127.0.0.1:${port}`;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
