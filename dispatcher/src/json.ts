// Strict JSON input: UTF-8 without a byte order mark, holding an object.
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type Reviver = (this: unknown, key: string, value: unknown) => unknown;

/** The JSON object encoded in `bytes`, or null for anything else. */
export function parseJsonObject(bytes: Uint8Array, reviver?: Reviver): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(STRICT_UTF8.decode(bytes), reviver);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}
