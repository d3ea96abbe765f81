import { codeBlock, nanoid, paragraph, sentence, toolArguments, toolOutput } from "./text.mjs";

/** One synthetic session, shaped exactly as the Opta CLI writes it (see shared/SESSIONS-FORMAT.md). */

const SYSTEM_PROMPTS = [
  "You are Opta, a coding agent running in the user's terminal. You can read and edit files, search the " +
    "workspace and run shell commands through tools. Prefer small, verifiable steps. Never run destructive " +
    "commands without asking. Answer in plain English and show code in fenced blocks.",
  "You are Opta, an autonomous software engineer. Work in the current directory. Use the tools to inspect " +
    "the code before changing it, run the tests after every change, and explain what you did and why in a " +
    "short summary at the end. Keep answers concise; the user reads them in a terminal.",
  "You are a careful assistant for a developer on macOS. Tools: read_file, edit_file, search_files, " +
    "list_dir, run_command. Ask before installing packages. Cite file paths with line numbers.",
];

const TOOLS = ["read_file", "read_file", "search_files", "run_command", "run_command", "edit_file", "list_dir"];

/** How a session's content is sized: ordinary chats, agentic runs with big tool outputs, and the multi-MB giants. */
const PROFILES = {
  chat: { toolTurn: 0.35, outputMedian: 600, outputSigma: 0.8, outputMax: 8_000 },
  agentic: { toolTurn: 0.8, outputMedian: 6_000, outputSigma: 1.0, outputMax: 500_000 },
  giant: { toolTurn: 0.9, outputMedian: 300_000, outputSigma: 0.6, outputMax: 2_000_000 },
};

// A pretty-printed message costs its compact JSON plus indentation and newlines, roughly.
const PRETTY_OVERHEAD = 60;
const MAX_TURNS = 2_000;

/**
 * Builds a session object with keys in the CLI's order. `plant` lists words to hide in its user or
 * assistant text (search targets); `bytes` is the size to aim for once pretty-printed.
 */
export function buildSession(random, { id, created, updated, model, cwd, title, tags, bytes, profile, plant, toolNames }) {
  const shape = PROFILES[profile];
  const messages = [{ role: "system", content: random.pick(SYSTEM_PROMPTS) }];
  let estimate = 400 + messages[0].content.length;
  let toolCallCount = 0;
  const push = (message) => {
    messages.push(message);
    estimate += JSON.stringify(message).length + PRETTY_OVERHEAD;
  };

  // At least one exchange: a session is saved once the user has said something.
  do {
    push({ role: "user", content: userContent(random) });
    if (random.chance(shape.toolTurn)) {
      const calls = Array.from({ length: random.int(1, 3) }, () => {
        const name = random.pick(TOOLS);
        return { id: `call_${nanoid(random, 24)}`, type: "function", function: { name, arguments: toolArguments(random, name) } };
      });
      push({ role: "assistant", content: random.chance(0.3) ? sentence(random) : null, tool_calls: calls });
      for (const call of calls) {
        const outputBytes = Math.min(shape.outputMax, Math.max(40, Math.round(random.logNormal(shape.outputMedian, shape.outputSigma))));
        const message = { role: "tool", tool_call_id: call.id, content: toolOutput(random, call.function.name, outputBytes) };
        if (toolNames) message.name = call.function.name;
        push(message);
      }
      toolCallCount += calls.length;
    }
    push({ role: "assistant", content: assistantText(random) });
  } while (estimate < bytes && messages.length < MAX_TURNS);

  plantTerms(random, messages, plant);
  const session = { id, created, updated, model, cwd, title, tags, messages, toolCallCount, compacted: random.chance(0.05) };
  if (tags === undefined) delete session.tags; // old CLI versions wrote no tags
  return session;
}

function userContent(random) {
  const text = paragraph(random, 1, 3);
  if (!random.chance(0.05)) return text;
  // Newer CLI versions send parts: text, sometimes with a pasted screenshot as a data URL.
  const parts = [{ type: "text", text }];
  if (random.chance(0.5)) parts.push({ type: "image_url", image_url: { url: `data:image/png;base64,${nanoid(random, random.int(800, 4000))}` } });
  return parts;
}

function assistantText(random) {
  const text = paragraph(random, 1, 5);
  return random.chance(0.2) ? `${text}\n\n${codeBlock(random)}\n\n${sentence(random)}` : text;
}

/** Puts each word into a sentence appended to a random user or assistant message with string content. */
function plantTerms(random, messages, words) {
  const candidates = messages.filter((message) => (message.role === "user" || message.role === "assistant") && typeof message.content === "string");
  for (const word of words) {
    const message = random.pick(candidates);
    message.content += ` ${sentence(random, word)}`;
  }
}

/** What the CLI's index.json keeps for a session (newer CLI versions add toolCallCount and preview). */
export function indexEntry(session, newerCli) {
  const entry = { title: session.title, model: session.model, tags: session.tags ?? [], created: session.created, messageCount: session.messages.length };
  if (!newerCli) return entry;
  const preview = session.messages
    .filter((message) => message.role !== "system" && message.role !== "tool")
    .slice(0, 6)
    .map((message) =>
      typeof message.content === "string"
        ? message.content
        : Array.isArray(message.content)
          ? message.content
              .filter((part) => part.type === "text")
              .map((part) => part.text)
              .join(" ")
          : "",
    )
    .join("\n")
    .slice(0, 2000);
  return { ...entry, toolCallCount: session.toolCallCount, preview };
}

/** The text of a file the CLI or a crash left unreadable: cut mid-write, not JSON at all, or a JSON array. */
export function damagedText(random, kind, sessionText) {
  if (kind === "truncated") return sessionText.slice(0, Math.floor(sessionText.length * (0.2 + 0.7 * random.next())));
  if (kind === "array") return random.chance(0.5) ? "[]\n" : JSON.stringify([{ role: "user", content: sentence(random) }], null, 2);
  return random.pick(["", "\u0000\u0000\u0000\u0000", '<<<<<<< HEAD\n{\n  "id": "x"\n=======\n', "undefined", paragraph(random, 1, 2)]);
}
