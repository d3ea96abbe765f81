import { MemoryStore } from "./memory-store.js";
import type { ReadResult, StoreEntry, TrashStore } from "./store.js";

/** A trash beside a MemoryStore, for tests and demos: the same moves as the filesystem's, in memory. */
export class MemoryTrash implements TrashStore {
  readonly #sessions: MemoryStore;
  readonly #files = new MemoryStore();

  constructor(sessions: MemoryStore) {
    this.#sessions = sessions;
  }

  async moveIn(name: string, trashName: string): Promise<boolean> {
    const entry = await this.#sessions.stat(name);
    if (!entry) return false;
    const text = this.#sessions.get(name);
    if (text === undefined) this.#files.putDirectory(trashName);
    else this.#files.put(trashName, text);
    return this.#sessions.remove(name);
  }

  async moveBack(trashName: string, name: string): Promise<"restored" | "exists" | "missing"> {
    const entry = await this.#files.stat(trashName);
    if (!entry) return "missing";
    if (await this.#sessions.stat(name)) return "exists";
    const text = this.#files.get(trashName);
    if (text === undefined) this.#sessions.putDirectory(name);
    else this.#sessions.put(name, text);
    await this.#files.remove(trashName);
    return "restored";
  }

  list(): Promise<StoreEntry[]> {
    return this.#files.list();
  }

  read(trashName: string): Promise<ReadResult> {
    return this.#files.read(trashName);
  }

  async write(trashName: string, text: string): Promise<void> {
    this.#files.put(trashName, text);
  }

  remove(trashName: string): Promise<boolean> {
    return this.#files.remove(trashName);
  }

  /** Moves in memory are single steps: nothing is ever left set aside. */
  async recover(): Promise<number> {
    return 0;
  }
}
