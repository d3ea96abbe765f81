import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { OwnFile } from "../store.js";

/** A file of the service's own (the saved catalog, sync's state), in its own directory, never the sessions directory; written atomically. Node only. */
export class FsOwnFile implements OwnFile {
  readonly file: string;

  constructor(directory: string, name: string) {
    this.file = path.join(path.resolve(directory), name);
  }

  async read(): Promise<string | null> {
    return readFile(this.file, "utf8").catch(() => null);
  }

  async write(text: string): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, this.file);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }
}
