import { describe, expect, it } from "vitest";
import { printable } from "../../src/shared/log.js";

describe("printable: what logs and sync print", () => {
  it("shows bidi controls as escapes, so a line cannot be reordered on screen", () => {
    expect(printable("failed \u202eevil\u202c and \u2066iso\u2069 \u200f\u061c")).toBe("failed \\u202eevil\\u202c and \\u2066iso\\u2069 \\u200f\\u061c");
  });

  it("shows C0 and C1 controls, separators and zero-width marks as escapes", () => {
    expect(printable("a\u001b[2Jb\rc\u0007d\u009b31me\u2028f\u200bg\ufeffh\tI")).toBe(
      "a\\u001b[2Jb\\u000dc\\u0007d\\u009b31me\\u2028f\\u200bg\\ufeffh\\u0009I",
    );
    expect(printable("tag \u{e0041}")).toBe("tag \\u{e0041}");
  });

  it("leaves ordinary text as it is", () => {
    expect(printable("synced to https://x: café ☕ 12 uploaded")).toBe("synced to https://x: café ☕ 12 uploaded");
  });
});
