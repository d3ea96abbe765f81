import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/shared/digest.js";

describe("sha256Hex", () => {
  it("digests the UTF-8 bytes of a text, and bytes as they are (SHA-256, lowercase hex)", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("é")).toBe("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"); // from `shasum -a 256`
    expect(await sha256Hex(new Uint8Array([0xc3, 0xa9]))).toBe(await sha256Hex("é"));
  });
});
