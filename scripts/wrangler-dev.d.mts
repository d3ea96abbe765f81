export function freePort(): Promise<number>;
export function startWranglerDev(options: {
  state: string;
  vars: Record<string, string>;
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
}): Promise<{
  url: string;
  /** wrangler's process (workerd runs as its descendants). */
  pid: number;
  /** Everything wrangler and the Worker printed so far. */
  output(): string;
  stop(): Promise<void>;
}>;
