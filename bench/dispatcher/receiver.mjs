// Stand-in for the customer Odoos during the dispatcher benchmark, in its own process so that it does not
// share an event loop with the load generator. Counts what arrives; the parent asks over IPC.
import { createHash } from "node:crypto";
import { createServer } from "node:http";

let stats = { count: 0, bytes: 0, lastSha256: "" };

const server = createServer((request, response) => {
  const hash = createHash("sha256");
  let bytes = 0;
  request.on("data", (chunk) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  request.on("end", () => {
    stats = { count: stats.count + 1, bytes: stats.bytes + bytes, lastSha256: hash.digest("hex") };
    response.end("ok");
  });
});
server.keepAliveTimeout = 30_000;

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});

process.on("message", (command) => {
  if (command === "reset") stats = { count: 0, bytes: 0, lastSha256: "" };
  process.send?.({ stats });
});
process.on("disconnect", () => process.exit(0));
