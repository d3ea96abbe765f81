import { assistant, type Message, toolUse, user, userParts } from "./messages.js";

/**
 * The sessions the judged queries are about, written by hand, each under a readable key (judgments.json names them by
 * key; the corpus gives each a nanoid-like id). Distractors sit beside them: sessions that hold a query's words in the
 * wrong order, in the wrong field, one typo away, or only where that query must not look. The generated sessions around
 * them never hold these words (see corpus.ts), so the judgments stay true whatever the seed draws.
 */
export interface Planted {
  key: string;
  /** updated = the corpus's now minus this many days */
  daysAgo: number;
  model?: string;
  cwd?: string;
  tags?: string[];
  /** after the system prompt, which every session starts with: message_index 1 is the first of these */
  messages: Message[];
}

const QWEN = "mlx-community/Qwen3-Coder-30B-A3B-8bit";
const LLAMA = "mlx-community/Llama-3.3-70B-4bit";

/** `chatter(n)` gives n generated messages, user and assistant in turn, user first: padding that matches no judged query. */
export function plantedSessions(chatter: (count: number) => Message[]): Planted[] {
  return [
    // Phrases: "ring buffer"
    {
      key: "ring-title",
      daysAgo: 60,
      tags: ["bugfix"],
      messages: [
        user("Ring buffer overflow in the ingest worker: head wraps before tail"),
        assistant("The ring buffer overflows because head wraps before tail advances; check the capacity before each write."),
      ],
    },
    {
      key: "ring-text",
      daysAgo: 10,
      messages: [
        user("Why is ingest slow under load?"),
        assistant("Samples wait because the ring buffer in the ingest worker is full most of the time; drain it in batches."),
      ],
    },
    {
      key: "ring-apart",
      daysAgo: 2,
      messages: [
        user("The door bell should ring when the build finishes"),
        assistant("Add a buffer of two seconds before the bell rings so the notification is not lost."),
      ],
    },
    {
      key: "lockfree",
      daysAgo: 75,
      messages: [user("Is a lock free stack safe with the ABA problem?"), assistant("Only with tagged pointers or hazard pointers.")],
    },
    {
      key: "lockfree-apart",
      daysAgo: 4,
      messages: [user("Free the lock before pushing to the stack?"), assistant("Yes, release it first, then push.")],
    },
    // Roles
    {
      key: "bp-user",
      daysAgo: 30,
      messages: [
        user("How do I add backpressure to the upload stream?"),
        assistant("Pause the reader when the writable's buffer is full and resume it on drain."),
      ],
    },
    {
      key: "bp-assistant",
      daysAgo: 5,
      messages: [user("Uploads eat all the memory on big files"), assistant("That is missing backpressure: you write faster than the socket drains.")],
    },
    {
      key: "fg-assistant",
      daysAgo: 40,
      messages: [user("The list endpoint got slow after the upgrade"), assistant("The flamegraph shows most of the time in JSON.stringify of the summaries.")],
    },
    {
      key: "fg-user",
      daysAgo: 3,
      messages: [user("Can you read this flamegraph I captured?"), assistant("I cannot open images from a path; paste the top frames as text.")],
    },
    {
      key: "addr-tool",
      daysAgo: 50,
      messages: [
        user("The dev server will not start"),
        ...toolUse("run_command", { command: "npm run dev" }, "Error: listen EADDRINUSE: address already in use 127.0.0.1:4100"),
        assistant("Another process holds port 4100; stop it or pick another port."),
      ],
    },
    {
      key: "addr-text",
      daysAgo: 4,
      messages: [user("What does EADDRINUSE mean?"), assistant("It means another socket is already bound to that address and port.")],
    },
    // Paths and tools
    {
      key: "path-call",
      daysAgo: 20,
      messages: [
        user("Find why samples are dropped"),
        ...toolUse(
          "read_file",
          { path: "src/ingest/ringBuffer.ts" },
          "export class RingBuffer {\n  push(sample: Sample) { this.slots[this.head++ % this.size] = sample; }\n}",
        ),
        assistant("push() overwrites the oldest slot without counting the drop."),
      ],
    },
    {
      key: "path-text",
      daysAgo: 8,
      messages: [
        user("Should ringBuffer.ts export a factory instead of the class?"),
        assistant("Yes: export createRingBuffer() from ringBuffer.ts and keep the class private."),
      ],
    },
    {
      key: "out-path",
      daysAgo: 70,
      messages: [
        user("Which database changes are pending?"),
        ...toolUse("list_dir", { path: "migrations" }, "0040_create_sessions.sql\n0041_add_index.sql\n0042_add_tags.sql"),
        assistant("Two are pending: 0041 and 0042."),
      ],
    },
    {
      key: "lmx-enoent",
      daysAgo: 15,
      messages: [
        user("Load the LMX config"),
        ...toolUse("read_file", { path: "config/lmx.yaml" }, "Error: ENOENT: no such file or directory, open 'config/lmx.yaml'"),
        assistant("The file is missing; copy config/lmx.yaml from the example first."),
      ],
    },
    {
      key: "wf-many",
      daysAgo: 25,
      messages: [
        user("Read the Hono docs for streaming responses"),
        ...toolUse("web_fetch", { url: "https://hono.dev/docs/helpers/streaming" }, "Streaming Helper: streamText, streamSSE"),
        ...toolUse("web_fetch", { url: "https://hono.dev/docs/helpers/streaming#streamsse" }, "streamSSE(c, async (stream) => { ... })"),
        ...toolUse("web_fetch", { url: "https://hono.dev/docs/api/context" }, "c.body(), c.text(), c.json()"),
        assistant("Use streamSSE for events and streamText for plain chunks."),
      ],
    },
    {
      key: "wf-once",
      daysAgo: 200,
      messages: [
        user("Check the zod changelog"),
        ...toolUse("web_fetch", { url: "https://zod.dev/v4/changelog" }, "Zod 4: z.interface, faster parsing"),
        assistant("Version 4 parses faster; the error map API changed."),
      ],
    },
    // Colons that are not operators
    {
      key: "tok-rs",
      daysAgo: 12,
      messages: [
        user("cargo test fails on the new input files"),
        assistant("The panic is at src/tokenizer.rs:88: the index runs past the end of the input when the last byte is a continuation byte."),
      ],
    },
    {
      key: "lmx-port",
      daysAgo: 35,
      messages: [
        user("LMX answers on localhost:1234 but the CLI calls another port"),
        assistant("Set OPTA_LMX_URL=http://localhost:1234 in your shell profile."),
      ],
    },
    {
      key: "port-other",
      daysAgo: 2,
      messages: [user("What listens on localhost:12345?"), assistant("That is the debugger's inspector port.")],
    },
    // Identifier fragments
    {
      key: "textof-title",
      daysAgo: 90,
      messages: [user("Why is searchTextOf slow on big sessions?"), assistant("It joins every message before lower-casing; build the lowered text once.")],
    },
    {
      key: "textof-text",
      daysAgo: 9,
      messages: [user("Where does the first user message come from?"), assistant("messageTextOf joins the text parts with a space.")],
    },
    {
      key: "ss",
      daysAgo: 45,
      messages: [
        user("Add a createSessionStore factory for the tests"),
        assistant("createSessionStore(dir) returns the filesystem store; tests pass the memory one."),
      ],
    },
    {
      key: "ss-words",
      daysAgo: 3,
      messages: [user("Is the session store thread safe?"), assistant("Each write takes the mutex, so yes.")],
    },
    {
      key: "psf",
      daysAgo: 100,
      messages: [
        user("parse_session_file returns None for truncated files"),
        assistant("Catch the JSONDecodeError in parse_session_file and return the leading object instead."),
      ],
    },
    {
      key: "psf-words",
      daysAgo: 1,
      messages: [user("Parse the session file again after the save"), assistant("Reading it twice is cheap here.")],
    },
    {
      key: "iou",
      daysAgo: 150,
      messages: [user("Would io_uring speed up the file reads?"), assistant("io_uring helps with many small reads; Node does not use it for fs by default.")],
    },
    // Typos
    {
      key: "tok-title",
      daysAgo: 30,
      model: QWEN,
      messages: [user("Tokenizer drops the last byte of multi-byte input"), assistant("The tokenizer's end check is off by one for UTF-8 continuation bytes.")],
    },
    {
      key: "tok-py",
      daysAgo: 5,
      model: LLAMA,
      messages: [user("Port this to python for the notebook"), assistant("Here is a python tokenizer with the same rules.")],
    },
    {
      key: "retr",
      daysAgo: 60,
      messages: [user("Retrieve embeddings for the whole corpus in batches"), assistant("Retrieve them 256 at a time and write each batch to disk.")],
    },
    {
      key: "retr-text",
      daysAgo: 10,
      messages: [user("Where does the CLI keep the API key?"), assistant("It asks the keychain to retrieve the key at start.")],
    },
    {
      key: "ws-title",
      daysAgo: 80,
      cwd: "/Users/dev/work/opta-lmx",
      messages: [
        user("WebSocket reconnect storm after an LMX restart"),
        assistant("Add jitter to the reconnect delay so the clients do not all reconnect at once."),
      ],
    },
    {
      key: "ws-other",
      daysAgo: 7,
      cwd: "/Users/dev/work/opta-web",
      messages: [user("Proxy the upgrade requests to LMX"), assistant("Forward the Upgrade header; the websocket helper does the rest.")],
    },
    {
      key: "ws-jitter-text",
      daysAgo: 3,
      cwd: "/Users/dev/work/opta-web",
      messages: [user("Clients hammer the server after deploys"), assistant("The websocket client should reconnect with jitter and a cap.")],
    },
    {
      key: "ledger",
      daysAgo: 200,
      messages: [user("Reconcile the ledger totals for October"), assistant("The ledger sums floats; keep integer cents instead.")],
    },
    {
      key: "ledges",
      daysAgo: 1,
      messages: [user("Trim the ledges of the card layout"), assistant("Remove the ledges by setting the padding to zero.")],
    },
    {
      key: "kube",
      daysAgo: 120,
      messages: [user("Kubernetes ingress for LMX on the home cluster"), assistant("Use one Ingress per host and let kubectl apply the folder.")],
    },
    {
      key: "kube-text",
      daysAgo: 15,
      messages: [user("Run the nightly export somewhere other than my laptop"), assistant("A kubernetes CronJob would do it.")],
    },
    // Accents and other scripts
    {
      key: "cafe-title",
      daysAgo: 100,
      messages: [user("Menu du Café de Flore : prix en euros"), assistant("Le café crème coûte 4,50 € et l'espresso 3 €.")],
    },
    {
      key: "cafe-plain",
      daysAgo: 2,
      messages: [user("ssh fails from here"), assistant("The cafe wifi blocks port 22; use port 443.")],
    },
    {
      key: "naive-title",
      daysAgo: 70,
      messages: [user("Naïve Bayes baseline for the spam filter"), assistant("Count the words per class and add one to every count.")],
    },
    {
      key: "naive-text",
      daysAgo: 4,
      messages: [user("Why does the sync hammer the server?"), assistant("It is a naive retry loop with no delay.")],
    },
    {
      key: "facade",
      daysAgo: 140,
      messages: [user("Façade pattern over the three storage backends"), assistant("One interface, three classes behind it, chosen at start.")],
    },
    {
      key: "ecole",
      daysAgo: 300,
      messages: [user("ÉCOLE : traduire le règlement intérieur en anglais"), assistant("Voici la traduction du règlement de l'école.")],
    },
    {
      key: "zurich",
      daysAgo: 50,
      messages: [
        user("npm install hangs at the office"),
        assistant("Which network are you on?"),
        user("The office one, behind the company firewall"),
        assistant("Then npm needs the proxy setting."),
        user("Where do I find it?"),
        assistant("The Zürich office uses a proxy at proxy.zh.example:3128; set it with npm config set proxy."),
      ],
    },
    {
      key: "tokyo",
      daysAgo: 33,
      messages: [user("東京タワーの営業時間を教えて"), assistant("東京タワーは9時から営業しています。")],
    },
    // Exclusions
    {
      key: "mig-dry",
      daysAgo: 10,
      messages: [user("Run the rollback migration as a dry run first"), assistant("The dry run printed 3 statements; nothing changed.")],
    },
    {
      key: "mig-real",
      daysAgo: 40,
      messages: [user("Apply the rollback migration on production"), assistant("Applied; the rollback migration took 2 s.")],
    },
    {
      key: "mig-other",
      daysAgo: 150,
      messages: [user("Write a rollback migration for the tags column"), assistant("It drops the column and restores the old view.")],
    },
    // Dates, tags and the recent order
    {
      key: "can-1",
      daysAgo: 3,
      tags: ["ops"],
      messages: [user("Canary deploy of the sessions server to staging"), assistant("Send 5% of the traffic to the new version for an hour.")],
    },
    {
      key: "can-2",
      daysAgo: 45,
      tags: ["ops", "incident"],
      messages: [user("Canary deploy to production failed health checks"), assistant("The new version answered 503 until its cache was warm.")],
    },
    {
      key: "can-3",
      daysAgo: 400,
      tags: ["ops"],
      messages: [user("Set up the canary deploy pipeline"), assistant("Two stages: canary, then everyone after an hour.")],
    },
    {
      key: "can-4",
      daysAgo: 600,
      messages: [user("How should we ship the new server?"), assistant("Ship a canary first and watch the error rate.")],
    },
    {
      key: "bugfix-other",
      daysAgo: 20,
      tags: ["bugfix"],
      messages: [user("The parser crashes on deeply nested input"), assistant("Recursion depth causes a stack overflow; use an explicit stack.")],
    },
    {
      key: "stack-overflow",
      daysAgo: 1,
      messages: [user("Integer overflow in the byte counter"), assistant("Use a BigInt or reset the counter each hour.")],
    },
    {
      key: "sec-1",
      daysAgo: 5,
      tags: ["security"],
      messages: [user("Compare the admin key in constant time"), assistant("Hash both and compare the digests.")],
    },
    {
      key: "sec-2",
      daysAgo: 90,
      tags: ["security", "review"],
      messages: [user("Review the CORS settings"), assistant("Allow only the dashboard's origin.")],
    },
    // The message in a long session
    {
      key: "long",
      daysAgo: 20,
      // The case: the hit is message 600 of 1,203.
      messages: [...chatter(599), assistant("Switching to a jemalloc arena per thread removed the lock contention."), ...chatter(602)],
    },
    {
      key: "jemalloc-short",
      daysAgo: 5,
      messages: [user("What is jemalloc?"), assistant("A general purpose allocator that scales across threads.")],
    },
    // Recency among equals
    {
      key: "flaky-new",
      daysAgo: 2,
      messages: [user("Flaky snapshot test in the list route on CI"), assistant("The snapshot holds the current time; inject a clock.")],
    },
    {
      key: "flaky-old",
      daysAgo: 300,
      messages: [user("Flaky snapshot test in the list route on CI"), assistant("The snapshot holds the current time; inject a clock.")],
    },
    {
      key: "pgb-new",
      daysAgo: 20,
      messages: [user("pgbouncer drops connections after 60 s idle"), assistant("Raise server_idle_timeout in pgbouncer.ini.")],
    },
    {
      key: "pgb-old",
      daysAgo: 500,
      messages: [user("pgbouncer drops connections after 60 s idle"), assistant("Raise server_idle_timeout in pgbouncer.ini.")],
    },
    // Fields: a better match that is older beats a weaker one that is newer
    {
      key: "wasm-old",
      daysAgo: 250,
      messages: [user("WASM SIMD intrinsics for the image resizer"), assistant("Use the v128 load and store ops; the loop runs four pixels at a time.")],
    },
    {
      key: "wasm-new",
      daysAgo: 1,
      messages: [user("Which targets can the build produce?"), assistant("Native today; we could try wasm later, maybe with simd.")],
    },
    {
      key: "hd-title",
      daysAgo: 160,
      messages: [user("Take a heapdump of the server at 100,000 sessions"), assistant("Start it with --heapsnapshot-signal=SIGUSR2 and send the signal.")],
    },
    {
      key: "hd-text-1",
      daysAgo: 6,
      messages: [user("Memory grows overnight"), assistant("A heapdump before and after would show what grows.")],
    },
    {
      key: "hd-text-2",
      daysAgo: 12,
      messages: [user("RSS is 900 MB after a day"), assistant("Compare two heapdump files taken an hour apart.")],
    },
    {
      key: "vec-user",
      daysAgo: 90,
      messages: [
        user("Look at the hot loop in resize.c"),
        assistant("It copies one pixel per iteration."),
        userParts("Can the compiler", "vectorize it?"),
        assistant("Yes, once the early return is hoisted out of the loop."),
      ],
    },
    {
      key: "vec-assistant",
      daysAgo: 3,
      messages: [user("Why is the blur slow?"), assistant("GCC will not vectorize that loop because of the early return.")],
    },
    {
      key: "perf-tag",
      daysAgo: 100,
      tags: ["perf-regression"],
      messages: [user("List endpoint 3x slower since 0.4"), assistant("The zod upgrade validates every summary twice.")],
    },
    {
      key: "perf-text",
      daysAgo: 8,
      messages: [user("Startup takes longer"), assistant("This looks like a perf-regression from loading pino-pretty eagerly.")],
    },
  ];
}
