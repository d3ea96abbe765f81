/** Message builders for the relevance corpus, in the CLI's format (OpenAI chat messages, tool calls with JSON-string arguments). */
export type Message = Record<string, unknown>;

/** The start of the CLI's real system prompt: it names tools (edit_file, web_fetch), and system prompts are never searched. */
export const SYSTEM_PROMPT = [
  "You are Opta, an AI coding assistant running locally on the user's machine. You help with coding tasks by using tools to read, edit, and search files, and run commands.",
  "",
  "Rules:",
  "- Read files before editing them",
  "- Use edit_file for precise, targeted changes (not write_file to rewrite entire files)",
  "- Use search_files and find_files to understand the codebase before making changes",
  "- web_fetch: Fetch and read web pages (documentation, APIs, references)",
].join("\n");

export function system(): Message {
  return { role: "system", content: SYSTEM_PROMPT };
}

export function user(content: string): Message {
  return { role: "user", content };
}

/** A user message whose content is an array of text parts, as the CLI saves a prompt with an attachment. */
export function userParts(...texts: string[]): Message {
  return { role: "user", content: texts.map((text) => ({ type: "text", text })) };
}

export function assistant(content: string): Message {
  return { role: "assistant", content };
}

/** One tool call and its output: two messages, the assistant's call (content null, as the CLI saves it) and the tool's answer. */
export function toolUse(name: string, args: Record<string, unknown>, output: string): Message[] {
  const argumentsText = JSON.stringify(args);
  const id = `call_${fnv1a(name + argumentsText + output).toString(36)}`;
  return [
    { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name, arguments: argumentsText } }] },
    { role: "tool", content: output, tool_call_id: id },
  ];
}

export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
