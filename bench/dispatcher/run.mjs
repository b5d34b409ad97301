#!/usr/bin/env node
// Dispatcher benchmark: the Worker on one local workerd through Miniflare's API (not `wrangler dev`), a
// forked Node receiver standing in for the Odoos, loopback only. Every scenario is bounded by a request
// count or a duration, and a watchdog ends the run after WATCHDOG_MS. Needs `npm ci` in dispatcher/.
// Usage: node bench/dispatcher/run.mjs   (or `bash tools/bench.sh dispatcher`, or `npm run bench` in dispatcher/)
// Prints a table and one `RESULT | figure | measured | target | met|missed|info` line per figure.
// Exit status: 0 when every target is met, 1 when one is missed, 2 when the benchmark itself broke.
import { execFileSync, fork } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

const DISPATCHER = fileURLToPath(new URL("../../dispatcher/", import.meta.url));
const fromDispatcher = createRequire(`${DISPATCHER}package.json`);
const { Miniflare } = fromDispatcher("miniflare");
const esbuild = fromDispatcher("esbuild");
const autocannon = fromDispatcher("autocannon");

const WATCHDOG_MS = 180_000;
const SECRET = "bench-secret-bench-secret-bench-secret-0";
// The app's webhook auth code: the dispatcher refuses webhooks without it (forgedWebhooks measures that).
const AUTH_CODE = "bench-auth";
const AUTHENTIC = { "x-clover-auth": AUTH_CODE };
const ODOO_HOST = "odoo-a.example.com";
const THROUGHPUT_SECONDS = 5;
const ROUNDS = 15;
const BIG_BODY_BYTES = 9_400_000;
const BIG_BODY_ROUNDS = 16;
const OVERSIZED_BODY_BYTES = 50_000_000;
const MANY_MERCHANTS = 1001;
const MANY_MERCHANT_ODOOS = 3;
const FAN_OUT_MERCHANTS = ["MBENCHA000001", "MBENCHB000001"];
const manyMerchantIds = Array.from({ length: MANY_MERCHANTS }, (_, i) => `M${String(i).padStart(12, "0")}`);

async function main() {
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${WATCHDOG_MS} ms, giving up`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  const receiver = await startReceiver();
  console.log(`node ${process.version}, ${cpus().length} CPUs; running (about 30 s)...`);
  try {
    const rows = [
      ...(await onFreshDispatcher(receiver, [
        (base, workerd) => webhookThroughput(base, receiver, workerd, [FAN_OUT_MERCHANTS[0]], "100 concurrent webhooks → 1 Odoo each", 2000),
        (base, workerd) => webhookThroughput(base, receiver, workerd, FAN_OUT_MERCHANTS, "100 concurrent webhooks → 2 Odoos each", null),
        (base) => healthzBurst(base),
        (base) => forgedStates(base),
        (base, workerd) => forgedWebhooks(base, receiver, workerd),
        (base, workerd) => unauthenticatedVerifications(base, receiver, workerd),
        (base) => manyMerchants(base, receiver),
      ])),
      // Memory is measured on a workerd of its own, not one already grown by the load above.
      ...(await onFreshDispatcher(receiver, [
        (base, workerd) => bigBody(base, receiver, workerd),
        (base, workerd) => oversizedBody(base, workerd),
      ])),
    ];
    printTable(rows);
    printResults(rows);
    const missed = rows.filter((row) => row.met === false);
    if (missed.length) {
      console.log(`missed target: ${missed.map((row) => row.scenario).join("; ")}`);
      process.exitCode = 1;
    }
  } catch (error) {
    console.error("bench: broke:", error);
    process.exitCode = 2;
  } finally {
    receiver.stop();
    clearTimeout(watchdog);
  }
}

/** Runs the scenarios one after the other on a new workerd; returns their rows. */
async function onFreshDispatcher(receiver, scenarios) {
  const mf = await startDispatcher(receiver.url);
  try {
    const base = String(await mf.ready).replace(/\/$/, "");
    const workerd = workerdPid();
    const rows = [];
    for (const scenario of scenarios) rows.push(await scenario(base, workerd));
    return rows;
  } finally {
    await mf.dispose();
  }
}

// ---- setup

function startReceiver() {
  const child = fork(fileURLToPath(new URL("receiver.mjs", import.meta.url)), { stdio: "inherit" });
  const ask = (command) => new Promise((resolve) => {
    child.once("message", (/** @type {any} */ reply) => resolve(reply.stats));
    child.send(command);
  });
  return new Promise((resolve) => child.once("message", (/** @type {any} */ { port }) => resolve({
    url: `http://127.0.0.1:${port}`,
    reset: () => ask("reset"),
    stats: () => ask("stats"),
    ids: () => ask("ids"),
    stop: () => child.kill(),
  })));
}

async function startDispatcher(receiverUrl) {
  const { outputFiles } = await esbuild.build({
    entryPoints: [`${DISPATCHER}src/index.ts`], bundle: true, format: "esm", target: "es2022", write: false,
  });
  const routing = Object.fromEntries([
    ...FAN_OUT_MERCHANTS.map((id, i) => [id, `${receiverUrl}/odoo-fan-${i}`]),
    ...manyMerchantIds.map((id, i) => [id, `${receiverUrl}/odoo-many-${i % MANY_MERCHANT_ODOOS}`]),
  ]);
  return new Miniflare({
    modules: true,
    script: outputFiles[0].text,
    compatibilityDate: /"compatibility_date":\s*"([^"]+)"/.exec(readFileSync(`${DISPATCHER}wrangler.jsonc`, "utf8"))?.[1],
    cf: false,
    host: "127.0.0.1",
    port: 0,
    bindings: {
      DISPATCHER_SECRET: SECRET,
      ALLOWED_REDIRECT_HOSTS: ODOO_HOST,
      MERCHANT_ROUTING_JSON: JSON.stringify(routing),
      MERCHANT_ODOO_BASE_JSON: JSON.stringify({ [FAN_OUT_MERCHANTS[0]]: `https://${ODOO_HOST}` }),
      CLOVER_APP_ID: "BENCHAPP",
      CLOVER_AUTHORIZE_URL: "https://sandbox.dev.clover.com/oauth/v2/authorize",
      DISPATCHER_PUBLIC_URL: "https://dispatcher.bench.example",
      CLOVER_WEBHOOK_AUTH_CODE: AUTH_CODE,
    },
    // The Worker logs a line per webhook, as in production; the benchmark does not print them.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  });
}

function workerdPid() {
  const children = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return Number(children.split("\n").find((line) => line.includes("workerd"))?.trim().split(/\s+/)[0]);
}

/** CPU time a process has used (user + system), in ms: a figure other load on the machine barely moves. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks of 10 ms
}

/** Resident and peak resident memory of a process, in MB. */
function memoryMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

// ---- payloads

function firehose(merchantIds, eventsPerMerchant = 1, objectId = "P:ABCDEFGHJKMNP") {
  const event = { objectId, type: "CREATE", ts: 1767225600123 };
  const merchants = Object.fromEntries(merchantIds.map((id) => [id, Array(eventsPerMerchant).fill(event)]));
  return JSON.stringify({ appId: "BENCHAPP", merchants });
}

/** A firehose for one routed merchant, padded with JSON whitespace to exactly `bytes`. */
function bigFirehose(bytes) {
  const eventBytes = firehose(["X"], 2).length - firehose(["X"], 1).length;
  const json = firehose([FAN_OUT_MERCHANTS[0]], Math.floor((bytes - 200) / eventBytes));
  return json + " ".repeat(bytes - json.length);
}

function forgedState(i) {
  const payload = JSON.stringify({
    v: 2, redirect_to: `https://${ODOO_HOST}/payment/clover/oauth/callback`, nonce: "f".repeat(32), iat: Math.floor(Date.now() / 1000), merchant_id: "M",
  });
  const text = Buffer.from(payload).toString("base64url");
  return `${text}.${createHmac("sha256", `forger-${i}`).update(text).digest("base64url")}`;
}

// ---- measuring

async function send(url, init = {}) {
  const response = await fetch(url, { redirect: "manual", ...init });
  await response.arrayBuffer();
  return response.status;
}

/** Runs `once` `rounds` times in a row; returns the milliseconds of each run. */
async function timeRounds(rounds, once) {
  const timings = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    await once();
    timings.push(performance.now() - started);
  }
  return timings;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;

function expectAll(statuses, expected, what) {
  const wrong = statuses.filter((status) => status !== expected);
  if (wrong.length) throw new Error(`${what}: expected ${expected}, got ${wrong.join(", ")}`);
}

// Forwards may still be in flight when the client has its answers; wait until the count stops moving.
async function settledStats(receiver) {
  let previous = await receiver.stats();
  for (let i = 0; i < 50; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await receiver.stats();
    if (current.count === previous.count) return current;
    previous = current;
  }
  return previous;
}

// ---- scenarios

async function healthzBurst(base) {
  const burst = async () => expectAll(await Promise.all(Array.from({ length: 200 }, () => send(`${base}/healthz`))), 200, "healthz");
  const timings = await timeRounds(ROUNDS, burst);
  const { requests } = await autocannon({ url: `${base}/healthz`, connections: 200, duration: 3 });
  return {
    scenario: "200 concurrent /healthz, sustained", original: "—", target: "—",
    short: `${Math.round(requests.average)} req/s`,
    measured: `burst of 200: ${ms(median(timings))} median (first ${ms(timings[0])}); sustained ${Math.round(requests.average)} req/s`,
  };
}

async function forgedStates(base) {
  const urls = Array.from({ length: 50 }, (_, i) => `${base}/clover/callback?code=c&merchant_id=M&state=${forgedState(i)}`);
  const timings = await timeRounds(ROUNDS, async () => expectAll(await Promise.all(urls.map((url) => send(url))), 403, "forged state"));
  return {
    scenario: "50 forged states in parallel, all 403, median", original: "77 ms", target: "< 77 ms",
    short: ms(median(timings)),
    measured: `${ms(median(timings))} median (first ${ms(timings[0])}, max ${ms(Math.max(...timings))})`,
    met: median(timings) < 77,
  };
}

async function manyMerchants(base, receiver) {
  const body = firehose(manyMerchantIds);
  await receiver.reset();
  const timings = await timeRounds(ROUNDS, async () => expectAll([await send(`${base}/clover/webhook`, { method: "POST", body, headers: AUTHENTIC })], 200, "1001 merchants"));
  const { paths } = await settledStats(receiver);
  const perOdoo = Array.from({ length: MANY_MERCHANT_ODOOS }, (_, i) => paths[`/odoo-many-${i}`]?.count ?? 0);
  const allDelivered = perOdoo.every((count) => count === ROUNDS);
  return {
    scenario: `${MANY_MERCHANTS} merchant ids in one payload, median`, original: "47 ms", target: "< 20 ms, 1 forward per Odoo",
    short: `${ms(median(timings))}, ${allDelivered ? "1 forward per Odoo" : `forwards per Odoo ${perOdoo.join("/")} of ${ROUNDS}`}`,
    measured: `${ms(median(timings))} median (max ${ms(Math.max(...timings))}); deliveries per Odoo over ${ROUNDS} rounds: ${perOdoo.join(", ")}`,
    met: median(timings) < 20 && allDelivered,
  };
}

async function bigBody(base, receiver, workerd) {
  const body = Buffer.from(bigFirehose(BIG_BODY_BYTES));
  const sha256 = createHash("sha256").update(body).digest("hex");
  const rss = [memoryMb(workerd).rss];
  const timings = await timeRounds(BIG_BODY_ROUNDS, async () => {
    expectAll([await send(`${base}/clover/webhook`, { method: "POST", body, headers: { ...AUTHENTIC, "content-type": "application/json" } })], 200, "9.4 MB body");
    if ((await receiver.stats()).lastSha256 !== sha256) throw new Error("9.4 MB body: forwarded bytes differ");
    rss.push(memoryMb(workerd).rss);
  });
  // Bounded: over the second half of the rounds (8 bodies), memory grows by less than two bodies' size.
  // Unbounded, it grew by about one body per request (see dispatcher/README.md).
  const lateGrowth = (rss.at(-1) ?? 0) - rss[Math.floor(rss.length / 2)];
  const bounded = lateGrowth < (2 * BIG_BODY_BYTES) / 1e6;
  return {
    scenario: "9.4 MB body forwarded intact (sha256), median", original: "1.7 s", target: "< 0.3 s, bounded memory",
    short: `${ms(median(timings))}, RSS ${bounded ? "levels off" : "keeps growing"} (peak ${memoryMb(workerd).peak} MB)`,
    measured: `${ms(median(timings))} median (max ${ms(Math.max(...timings))}); workerd RSS per round ${rss.join(" → ")} MB, peak ${memoryMb(workerd).peak} MB`,
    met: median(timings) < 300 && bounded,
  };
}

async function oversizedBody(base, workerd) {
  const body = Buffer.alloc(OVERSIZED_BODY_BYTES, 0x20);
  const before = memoryMb(workerd);
  let outcome = "";
  const [elapsed] = await timeRounds(1, async () => {
    // workerd may answer 413 and close before the client has sent everything; either way nothing is read.
    outcome = String(await send(`${base}/clover/webhook`, { method: "POST", body, headers: AUTHENTIC })
      .catch((error) => `connection closed early (${error.cause?.code ?? error.message})`));
    if (outcome !== "413" && !outcome.startsWith("connection closed")) throw new Error(`50 MB body: got ${outcome}`);
  });
  const after = memoryMb(workerd);
  const flat = after.rss - before.rss < 10;
  return {
    scenario: "50 MB body refused", original: "—", target: "413, memory flat",
    short: `${outcome} in ${ms(elapsed)}, RSS ${after.rss >= before.rss ? "+" : "−"}${Math.abs(after.rss - before.rss)} MB`,
    measured: `${outcome} in ${ms(elapsed)}; workerd RSS ${before.rss} → ${after.rss} MB`,
    met: flat,
  };
}

// Every webhook carries its own number, so each Odoo path's deliveries are checked id by id: a webhook
// answered 2xx whose forward never reached one of its Odoos is a drop, whatever else that Odoo received
// (webhooks still in flight when autocannon stops its clock are delivered but never answered; they are
// reported, and cannot make up for a loss).
async function webhookThroughput(base, receiver, workerd, merchantIds, scenario, minRate) {
  let sent = 0;
  const answered = new Set();
  // The body around the webhook's number, built once: the load generator's own cost stays as it was.
  const parts = firehose(merchantIds, 1, "P:#").split("#");
  const options = {
    url: `${base}/clover/webhook`, method: "POST", connections: 100,
    headers: { "content-type": "application/json", ...AUTHENTIC },
    requests: [{
      setupRequest(request, context) {
        context.id = sent += 1;
        return { ...request, body: parts.join(String(context.id)) };
      },
      onResponse(status, _body, context) {
        if (status >= 200 && status < 300) answered.add(context.id);
      },
    }],
  };
  await autocannon({ ...options, duration: 1 }); // warm-up: JIT and connection pools
  await settledStats(receiver);
  await receiver.reset();
  sent = 0;
  answered.clear();
  const cpuBefore = cpuMs(workerd);
  const result = await autocannon({ ...options, duration: THROUGHPUT_SECONDS });
  await settledStats(receiver); // the forwards of webhooks still in flight when the clock stopped
  const cpuPerWebhook = (cpuMs(workerd) - cpuBefore) / sent;
  const { paths } = await receiver.ids();
  const odoos = merchantIds.map((_, i) => `/odoo-fan-${i}`);
  const delivered = odoos.map((path) => new Set(paths[path]?.ids ?? []));
  const missing = delivered.map((ids) => [...answered].filter((id) => !ids.has(id)).length);
  const surplus = delivered.map((ids) => [...ids].filter((id) => !answered.has(id)).length);
  const drops = result.non2xx + result.errors + result.timeouts + missing.reduce((a, b) => a + b, 0);
  const rate = answered.size / THROUGHPUT_SECONDS;
  const perOdoo = odoos.map((path, i) => `${path.slice(1)} ${paths[path]?.count ?? 0} (${missing[i]} missing, ${surplus[i]} unanswered)`).join(", ");
  return {
    scenario, original: merchantIds.length === 1 ? "347 req/s, 0 drops" : "—",
    target: minRate ? `≥ ${minRate.toLocaleString("en")} req/s, 0 drops` : "0 drops",
    short: `${Math.round(rate).toLocaleString("en")} req/s, ${drops} drops`,
    measured: `${Math.round(rate)} req/s over ${THROUGHPUT_SECONDS} s, ${drops} drops; ${answered.size} of ${sent} webhooks answered 2xx; deliveries: ${perOdoo}; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; workerd CPU ${cpuPerWebhook.toFixed(3)} ms per webhook`,
    met: (minRate === null || rate >= minRate) && drops === 0,
    cpuPerWebhook,
  };
}

// A flood of webhooks with a wrong X-Clover-Auth: all refused at the dispatcher, none reaching an Odoo.
function forgedWebhooks(base, receiver, workerd) {
  return unforwardedFlood(base, receiver, workerd, {
    scenario: "100 concurrent forged webhooks, refused at the dispatcher", status: 403, body: firehose([FAN_OUT_MERCHANTS[0]]),
    headers: { "content-type": "application/json", "x-clover-auth": "forged-bench-auth" },
  });
}

// A flood of unauthenticated verification bodies once the auth code is set: answered and logged, but none
// multiplied into one request per Odoo.
function unauthenticatedVerifications(base, receiver, workerd) {
  return unforwardedFlood(base, receiver, workerd, {
    scenario: "100 concurrent unauthenticated verification bodies", status: 200,
    body: JSON.stringify({ verificationCode: "5220ecf5-0d3a-4c4b-9a1e-2f7d0c9b8e11" }), headers: { "content-type": "application/json" },
  });
}

async function unforwardedFlood(base, receiver, workerd, { scenario, status, body, headers }) {
  const options = { url: `${base}/clover/webhook`, method: "POST", connections: 100, body, headers };
  await autocannon({ ...options, duration: 1 }); // warm-up
  await receiver.reset();
  const cpuBefore = cpuMs(workerd);
  const result = await autocannon({ ...options, duration: THROUGHPUT_SECONDS });
  const { count: forwarded } = await settledStats(receiver);
  const answered = result.statusCodeStats?.[String(status)]?.count ?? 0;
  const rate = answered / THROUGHPUT_SECONDS;
  const others = result.requests.sent - answered;
  return {
    scenario, original: "—", target: "≥ 1,000 req/s, 0 forwarded",
    short: `${Math.round(rate).toLocaleString("en")} req/s, ${forwarded} forwarded`,
    measured: `${Math.round(rate)} req/s ${status} over ${THROUGHPUT_SECONDS} s, ${others} other answers or still in flight at the end, ${forwarded} forwarded to an Odoo; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; workerd CPU ${((cpuMs(workerd) - cpuBefore) / Math.max(answered, 1)).toFixed(3)} ms per request`,
    met: rate >= 1000 && forwarded === 0,
  };
}

// ---- output

function printTable(rows) {
  const header = { scenario: "scenario", original: "original", target: "target", measured: "measured", met: "met" };
  const cells = [header, ...rows].map((row) => ({ ...row, met: row === header ? "met" : ({ true: "yes", false: "NO" })[String(row.met)] ?? "" }));
  const keys = Object.keys(header);
  const widths = keys.map((key) => Math.max(...cells.map((row) => String(row[key]).length)));
  const line = (row) => `| ${keys.map((key, i) => String(row[key]).padEnd(widths[i])).join(" | ")} |`;
  console.log([line(cells[0]), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...cells.slice(1).map(line)].join("\n"));
}

/** The lines tools/bench.sh gathers into its table (`RESULT | figure | measured | target | met`). */
function printResults(rows) {
  const cell = (value) => String(value ?? "").replaceAll(" | ", " / ").trim() || "-";
  const verdict = (met) => ({ true: "met", false: "missed" })[String(met)] ?? "info";
  for (const row of rows) {
    console.log(`RESULT | ${cell(row.scenario)} | ${cell(row.short ?? row.measured)} | ${cell(row.target)} | ${verdict(row.met)}`);
    if (row.cpuPerWebhook !== undefined) console.log(`RESULT | ${cell(row.scenario)}, workerd CPU per webhook | ${row.cpuPerWebhook.toFixed(3)} ms | - | info`);
  }
}

await main();
