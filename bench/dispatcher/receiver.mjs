// Stand-in for the customer Odoos during the dispatcher benchmark, in its own process so that it does not
// share an event loop with the load generator. Counts what arrives per path, and the webhook ids each path
// received (the benchmark numbers its webhooks `"objectId":"P:<n>"`); the parent asks over IPC.
import { createHash } from "node:crypto";
import { createServer } from "node:http";

const BENCH_ID = /"objectId":"P:(\d+)"/;

let stats = fresh();

function fresh() {
  return { count: 0, bytes: 0, lastSha256: "", paths: new Map() };
}

function record(path, body) {
  const entry = stats.paths.get(path) ?? { count: 0, ids: [] };
  entry.count += 1;
  const id = body.length < 4096 ? BENCH_ID.exec(body.toString("latin1"))?.[1] : undefined;
  if (id !== undefined) entry.ids.push(Number(id));
  stats.paths.set(path, entry);
  stats.count += 1;
  stats.bytes += body.length;
  stats.lastSha256 = createHash("sha256").update(body).digest("hex");
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    record(new URL(request.url ?? "/", "http://receiver").pathname, Buffer.concat(chunks));
    response.end("ok");
  });
});
server.keepAliveTimeout = 30_000;

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});

// "stats": totals and per-path counts; "ids": also each path's ids; "reset": start counting again.
process.on("message", (command) => {
  if (command === "reset") stats = fresh();
  const paths = Object.fromEntries([...stats.paths].map(([path, { count, ids }]) =>
    [path, command === "ids" ? { count, ids } : { count }]));
  process.send?.({ stats: { count: stats.count, bytes: stats.bytes, lastSha256: stats.lastSha256, paths } });
});
process.on("disconnect", () => process.exit(0));
