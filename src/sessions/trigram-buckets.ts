import { BUCKETS } from "./trigrams.js";

/**
 * An inverted index from trigram bucket to the sessions holding a trigram of that bucket: one
 * bitmap over session slots per bucket. A term's candidates are the AND of its trigrams' bitmaps,
 * a few kilobytes read in order, instead of one signature lookup (and cache miss) per session.
 * Slots are stable while a session is indexed and reused after; updates touch one bit per bucket.
 */
export class TrigramBuckets {
  #capacity = 0; // slots, a multiple of 32
  #words = 0; // Uint32 words per bucket bitmap
  #bits = new Uint32Array(0); // bucket b's bitmap is words [b * #words, (b + 1) * #words)
  #nextSlot = 0;
  readonly #freeSlots: number[] = [];

  /** Indexes one session's coarse signature (BUCKETS bits); returns its slot. */
  add(coarse: Uint8Array): number {
    const slot = this.#freeSlots.pop() ?? this.#nextSlot++;
    if (slot >= this.#capacity) this.#grow(Math.max(1024, this.#capacity * 2));
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      if (coarse[bucket >>> 3]! & (1 << (bucket & 7))) this.#bits[bucket * this.#words + word]! |= bit;
    }
    return slot;
  }

  remove(slot: number): void {
    const word = slot >>> 5;
    const keep = ~(1 << (slot & 31));
    for (let bucket = 0; bucket < BUCKETS; bucket++) this.#bits[bucket * this.#words + word]! &= keep;
    this.#freeSlots.push(slot);
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

  #grow(capacity: number): void {
    const words = capacity >>> 5;
    const bits = new Uint32Array(BUCKETS * words);
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      bits.set(this.#bits.subarray(bucket * this.#words, (bucket + 1) * this.#words), bucket * words);
    }
    this.#bits = bits;
    this.#words = words;
    this.#capacity = capacity;
  }
}

export function hasSlot(bitmap: Uint32Array, slot: number): boolean {
  return ((bitmap[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0;
}
