// ISO 8601 / RFC 3339: a date, optionally a time (minutes, seconds, fraction) with an optional offset.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Milliseconds since the epoch for an ISO 8601 date or date-time, or null if it is not one.
 * No offset means UTC (`2026-07-01` is `2026-07-01T00:00:00Z`); impossible dates such as
 * `2026-02-30` are refused rather than rolled over, unlike `Date.parse`.
 */
export function parseInstant(text: string): number | null {
  const match = ISO_INSTANT.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Math.floor(Number(`0.${fraction || "0"}`) * 1000));
  if (date.getUTCDate() !== day) return null; // e.g. February 30th rolled into March
  const shift = offsetMinutes(offset);
  return shift === null ? null : date.getTime() - shift * 60_000;
}

function offsetMinutes(offset: string | undefined): number | null {
  if (!offset || offset === "Z" || offset === "z") return 0;
  const sign = offset.startsWith("-") ? -1 : 1;
  const digits = offset.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || "0");
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

// The ECMAScript date-time string format with an explicit offset (or a bare date, which both read as UTC): every browser reads these alike.
const BROWSER_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * What `created_at`/`updated_at` carry: `text` itself when it is an instant a browser reads as we
 * do, the same instant as ISO 8601 UTC when only our parser reads it (`2026-07-01 12:00`, no
 * offset), else the file's modification time. Never "" nor anything `new Date()` cannot read.
 */
export function browserInstant(text: string, mtimeMs: number): string {
  const instant = parseInstant(text);
  if (instant === null) return new Date(Math.round(mtimeMs)).toISOString(); // stat gives fractions of a ms
  return BROWSER_INSTANT.test(text) ? text : new Date(instant).toISOString();
}
