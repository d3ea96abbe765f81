/**
 * A per-session trigram signature: one bit per hashed 3-character window of a text, about
 * four bits per character. A term can only occur in the text if all its trigram bits are set,
 * so most sessions are ruled out without scanning their text; a set of bits is only a maybe,
 * and callers confirm with a real substring test.
 */
export type Signature = Uint8Array;

const BITS_PER_CHARACTER = 4;
const MIN_BITS = 64;
/** The coarse signature: the same hashes folded into a fixed number of buckets, for TrigramBuckets. */
export const BUCKETS = 4096;

/** The fine signature of a text, and its coarse one (BUCKETS bits), in one pass. */
export function signaturesOf(text: string): { signature: Signature; buckets: Uint8Array } {
  let bits = MIN_BITS;
  while (bits < text.length * BITS_PER_CHARACTER) bits *= 2;
  const signature = new Uint8Array(bits / 8);
  const buckets = new Uint8Array(BUCKETS / 8);
  const mask = bits - 1;
  // A rolling window over the last three UTF-16 code units: one multiply per character.
  let window = 0;
  for (let i = 0; i < text.length; i++) {
    window = ((window << 16) | text.charCodeAt(i)) >>> 0;
    if (i < 2) continue;
    const hash = hashWindow(window, text.charCodeAt(i - 2));
    const bit = hash & mask;
    signature[bit >>> 3]! |= 1 << (bit & 7);
    const bucket = hash & (BUCKETS - 1);
    buckets[bucket >>> 3]! |= 1 << (bucket & 7);
  }
  return { signature, buckets };
}

/** The hashes of a term's trigrams, computed once per query and tested against many signatures. */
export function termHashes(term: string): Uint32Array {
  const hashes = new Uint32Array(Math.max(0, term.length - 2));
  for (let i = 2; i < term.length; i++) {
    hashes[i - 2] = hashWindow(((term.charCodeAt(i - 1) << 16) | term.charCodeAt(i)) >>> 0, term.charCodeAt(i - 2));
  }
  return hashes;
}

/** False when the term (of these hashes; 3 or more characters) certainly does not occur in the signed text. */
export function mayContain(signature: Signature, hashes: Uint32Array): boolean {
  const mask = signature.length * 8 - 1;
  for (let i = 0; i < hashes.length; i++) {
    const bit = hashes[i]! & mask;
    if ((signature[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** Mixes the last two code units (packed in `window`) with the one before them. */
function hashWindow(window: number, first: number): number {
  const hash = Math.imul(window ^ Math.imul(first, 0x9e3779b1), 0x85ebca6b);
  return (hash ^ (hash >>> 13)) >>> 0;
}
