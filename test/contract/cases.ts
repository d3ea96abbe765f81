import { describe } from "vitest";
import { accessCases } from "./access.js";
import { eventsCases } from "./events.js";
import { listCases } from "./list.js";
import { queryLanguageCases } from "./query-language.js";
import { rankedSearchCases } from "./ranked-search.js";
import { readingCases } from "./reading.js";
import type { ContractRuntime } from "./runtime.js";
import { searchCases } from "./search.js";
import { sessionCases } from "./session.js";
import { syncCases } from "./sync.js";
import { trashCases } from "./trash.js";

export type { ContractRuntime, Seed, StartOptions, Target } from "./runtime.js";

/**
 * The wire contract (/work/shared/API-CONTRACT.md, plus our trash and sync routes), as one set of
 * cases every runtime runs: test/contract/node.test.ts (the Node server over a directory) and
 * test/worker/contract.test.ts (the Worker inside workerd over R2). A runtime that answers
 * differently fails here. Finer points of one runtime stay in that runtime's own tests.
 */
export function contractSuite(runtime: ContractRuntime): void {
  describe(`the contract on ${runtime.name}`, () => {
    accessCases(runtime);
    listCases(runtime);
    searchCases(runtime);
    queryLanguageCases(runtime);
    rankedSearchCases(runtime);
    sessionCases(runtime);
    trashCases(runtime);
    syncCases(runtime);
    readingCases(runtime);
    eventsCases(runtime);
  });
}
