/** A sample corpus for `--demo`: sessions as the Opta CLI writes them, so a newcomer sees real-looking data at once. */

const MODELS = ["MiniMax-M2.5-5bit", "mlx-community/Llama-3.3-70B-4bit", "Qwen3-Coder-30B-A3B-8bit"];
const TOPICS = [
  { title: "Fix the flaky parser test", tags: ["work", "tests"], ask: "Why does the parser drop the last token when the input ends without a newline?" },
  { title: "Port the build to Vite", tags: ["work"], ask: "Can you move this webpack config to Vite and keep the aliases?" },
  { title: "", tags: [], ask: "Explain the difference between a mutex and a semaphore, with an example in TypeScript." },
  { title: "Speed up the session list", tags: ["perf"], ask: "Listing 5,000 JSON files takes 3 seconds. Where does the time go?" },
  { title: "Write release notes", tags: ["docs"], ask: "Summarise the commits since v0.4.0 as release notes for users." },
  { title: "Refactor the auth middleware", tags: ["work", "security"], ask: "Make the admin-key check constant-time and accept a Bearer token too." },
];

/** Files by name (`<id>.json` plus `index.json`), the CLI's format, times counting back from `now`. */
export function demoCorpus(now: number, count = 24): Record<string, string> {
  const files: Record<string, string> = {};
  const entries: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const topic = TOPICS[i % TOPICS.length] ?? TOPICS[0];
    const id = `demo${String(i).padStart(4, "0")}${"abcdefgh"[i % 8]}${"XYZW"[i % 4]}_-`.slice(0, 12);
    const created = new Date(now - (i + 1) * 5 * 3_600_000).toISOString();
    const updated = new Date(now - (i + 1) * 5 * 3_600_000 + 40 * 60_000).toISOString();
    const model = MODELS[i % MODELS.length] ?? "";
    const messages = [
      { role: "system", content: "You are Opta, a coding agent working in the user's repository." },
      { role: "user", content: topic?.ask },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: `call_${i}`, type: "function", function: { name: "read_file", arguments: '{"path":"src/index.ts"}' } }],
      },
      { role: "tool", tool_call_id: `call_${i}`, content: "export function main() { /* ... */ }" },
      { role: "assistant", content: `Here is what I found about "${topic?.title || "your question"}", step by step.` },
    ];
    const session = {
      id,
      created,
      updated,
      model,
      cwd: `/Users/demo/projects/app-${i % 3}`,
      title: topic?.title ?? "",
      tags: topic?.tags ?? [],
      messages,
      toolCallCount: 1,
      compacted: i % 7 === 6,
    };
    files[`${id}.json`] = JSON.stringify(session, null, 2);
    entries[id] = { title: session.title, model, tags: session.tags, created, messageCount: messages.length, toolCallCount: 1 };
  }
  files["index.json"] = JSON.stringify({ entries, updatedAt: new Date(now).toISOString() }, null, 2);
  return files;
}
