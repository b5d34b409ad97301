// The test bindings are the Worker's own Env.
declare namespace Cloudflare {
  interface Env extends import("../src/config").Env {}
}
