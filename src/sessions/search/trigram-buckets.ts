import { BUCKETS } from "./trigrams.js";

/**
 * An inverted index from trigram bucket to the sessions holding a trigram of that bucket: one
 * bitmap over session slots per bucket. A term's candidates are the AND of its trigrams' bitmaps,
 * a few kilobytes read in order, instead of one signature lookup (and cache miss) per session.
 * The caller owns the slots (stable while a session is listed); updates touch one bit per bucket.
 */
export class TrigramBuckets {
  #words = 0; // Uint32 words per bucket bitmap
  #bits = new Uint32Array(0); // bucket b's bitmap is words [b * #words, (b + 1) * #words)

  /** Indexes one session's coarse signature (BUCKETS bits) at its slot. */
  add(slot: number, coarse: Uint8Array): void {
    if (slot >>> 5 >= this.#words) this.#grow(Math.max(32, (slot >>> 5) * 2 + 1));
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    // Only the set bits cost anything: a typical session touches a third of the buckets.
    for (let byte = 0; byte < BUCKETS / 8; byte++) {
      let bits = coarse[byte] ?? 0;
      while (bits !== 0) {
        const low = 31 - Math.clz32(bits & -bits); // index of the lowest set bit
        this.#bits[((byte << 3) | low) * this.#words + word]! |= bit;
        bits &= bits - 1;
      }
    }
  }

  remove(slot: number): void {
    const word = slot >>> 5;
    if (word >= this.#words) return;
    const keep = ~(1 << (slot & 31));
    for (let bucket = 0; bucket < BUCKETS; bucket++) this.#bits[bucket * this.#words + word]! &= keep;
  }

  /** A bitmap over slots: set where every trigram (given by its hashes) may occur; all set for no trigram. */
  candidates(hashes: Uint32Array): Uint32Array {
    const result = new Uint32Array(this.#words).fill(0xffffffff);
    for (const hash of hashes) {
      const start = (hash & (BUCKETS - 1)) * this.#words;
      for (let w = 0; w < this.#words; w++) result[w]! &= this.#bits[start + w]!;
    }
    return result;
  }

  #grow(words: number): void {
    const bits = new Uint32Array(BUCKETS * words);
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      bits.set(this.#bits.subarray(bucket * this.#words, (bucket + 1) * this.#words), bucket * words);
    }
    this.#bits = bits;
    this.#words = words;
  }
}

export function hasSlot(bitmap: Uint32Array, slot: number): boolean {
  return ((bitmap[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0;
}

/** The slots set in a bitmap, ascending. */
export function slotsOf(bitmap: Uint32Array): number[] {
  const slots: number[] = [];
  for (let w = 0; w < bitmap.length; w++) {
    let bits = bitmap[w] ?? 0;
    while (bits !== 0) {
      slots.push((w << 5) | (31 - Math.clz32(bits & -bits)));
      bits &= bits - 1;
    }
  }
  return slots;
}

/** Small allocator of stable slot numbers, reusing freed ones first. */
export class Slots {
  #next = 0;
  readonly #free: number[] = [];

  take(): number {
    return this.#free.pop() ?? this.#next++;
  }

  give(slot: number): void {
    this.#free.push(slot);
  }

  /** One more than the largest slot ever taken. */
  get size(): number {
    return this.#next;
  }
}
