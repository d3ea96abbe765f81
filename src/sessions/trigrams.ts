/**
 * A per-session trigram signature: one bit per hashed 3-character window of a text, about
 * four bits per character. A term can only occur in the text if all its trigram bits are set,
 * so most sessions are ruled out without scanning their text; a set of bits is only a maybe,
 * and callers confirm with a real substring test.
 */
export type Signature = Uint8Array;

const BITS_PER_CHARACTER = 4;
const MIN_BITS = 64;

export function signatureOf(text: string): Signature {
  let bits = MIN_BITS;
  while (bits < text.length * BITS_PER_CHARACTER) bits *= 2;
  const signature = new Uint8Array(bits / 8);
  const mask = bits - 1;
  for (let i = 0; i + 3 <= text.length; i++) {
    const bit = trigramHash(text, i) & mask;
    signature[bit >>> 3]! |= 1 << (bit & 7);
  }
  return signature;
}

/** False when `term` (3 or more characters) certainly does not occur in the signed text. */
export function mayContain(signature: Signature, term: string): boolean {
  const mask = signature.length * 8 - 1;
  for (let i = 0; i + 3 <= term.length; i++) {
    const bit = trigramHash(term, i) & mask;
    if ((signature[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

function trigramHash(text: string, at: number): number {
  // FNV-1a over three UTF-16 code units: cheap, and spreads well over power-of-two tables.
  let hash = 0x811c9dc5;
  for (let i = at; i < at + 3; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash ^ (hash >>> 15)) >>> 0;
}
