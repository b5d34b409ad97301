// vitest global setup, in Node: a real HTTP server on 127.0.0.1 standing in for the customer Odoos.
// It records what each path received; tests read the records back with GET /_received?prefix=/<test>/.
// Paths containing /slow/ answer late, /fail/ answer 503, /redirect/ answer 302.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestProject } from "vitest/node";
import type { Received } from "../fixtures";

export const SLOW_ANSWER_MS = 3000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const received: Received[] = [];
  const server = createServer((request, response) => void answer(request, response, received));
  const receiverPort = await listen(server);
  const deadServer = createServer();
  const deadPort = await listen(deadServer);
  await close(deadServer);
  project.provide("receiverUrl", `http://127.0.0.1:${receiverPort}`);
  project.provide("deadUrl", `http://127.0.0.1:${deadPort}`);
  return async () => {
    server.closeAllConnections();
    await close(server);
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, received: Received[]): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const { pathname, searchParams } = new URL(request.url ?? "/", "http://receiver");
  if (request.method === "GET" && pathname === "/_received") {
    const prefix = searchParams.get("prefix") ?? "/";
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify(received.filter((record) => record.path.startsWith(prefix))));
    return;
  }
  received.push({
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

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
