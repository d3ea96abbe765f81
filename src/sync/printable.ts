/** What sync prints to a terminal, made safe: no text from a file name, a path or a deployment's answer drives it. */

// C0/C1 controls (escape sequences, carriage returns), format characters (bidi overrides and isolates, zero-width
// marks) and line/paragraph separators: each could hide or reorder what a line says.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** One line as printed: every character that could steer the terminal shown as its escape (`\u202e`), the rest as is. */
export function printable(line: string): string {
  return line.replace(UNPRINTABLE, (char) => {
    const code = char.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
