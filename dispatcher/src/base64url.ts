// Unpadded base64url (RFC 4648 §5), strict on input: the Odoo verifier applies the same rules, so a state
// is either accepted by both or rejected by both.
const ALPHABET = /^[A-Za-z0-9_-]+$/;

// Only used on small inputs (a signed state), so building a binary string is fine.
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

// Null unless `text` is the canonical encoding of some bytes: no padding, no other alphabet, no
// impossible length, no stray bits in the last character.
export function decodeBase64Url(text: string): Uint8Array | null {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return encodeBase64Url(bytes) === text ? bytes : null;
}
