import { pino } from "pino";
import { PinoPretty } from "pino-pretty";
import { type Logger, printable, printableError } from "../shared/log.js";
import type { LogFormat } from "./config.js";

/**
 * Node edge: the app's Logger on pino. `text` is one readable line per event for a terminal or a
 * launchd log file; `json` is one JSON object per line for machines. The app never hands a key or a
 * query string to the logger, so neither can reach a line.
 */
export function createLogger(format: LogFormat, destination: NodeJS.WritableStream = process.stdout): Logger {
  const stream =
    format === "json"
      ? destination
      : PinoPretty({
          destination,
          sync: true, // a line is written before the next one is produced: nothing lost on exit
          colorize: false,
          translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
          ignore: "pid,hostname,requestId",
          messageFormat: "{if requestId}[{requestId}] {end}{msg}",
        });
  const log = pino(
    {
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return {
    // Every line goes through printable: a path or file name holding a newline cannot forge a line.
    info: (line, fields) => log.info({ ...fields }, printable(line)),
    warn: (line, fields) => log.warn({ ...fields }, printable(line)),
    error: (line, error, fields) => log.error({ ...fields, err: printableError(error) }, printable(line)),
  };
}
