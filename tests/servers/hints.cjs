// A tiny MCP server for the tests, on the TypeScript SDK the pinned reference servers install:
// tools that carry annotations (`show` read-only, `erase` destructive, `plain` none), and
// `wait`, which logs "waiting" when called and answers only when cancelled: then it logs
// "cancelled wait", so a test sees that the cancellation reached the server.
// Usage: node hints.cjs NODE_MODULES_DIR
const path = require("path");
const load = require("module").createRequire(path.join(process.argv[2], "noop.js"));
const { McpServer } = load("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = load("@modelcontextprotocol/sdk/server/stdio.js");
const z = load("zod");

const server = new McpServer(
  { name: "hints", version: "1.0.0" },
  { capabilities: { logging: {} } },
);
const text = (t) => ({ content: [{ type: "text", text: t }] });

server.registerTool(
  "show",
  {
    description: "Shows the last note.",
    annotations: { title: "Show the note", readOnlyHint: true, openWorldHint: false },
  },
  async () => text("the last note"),
);
server.registerTool(
  "erase",
  {
    description: "Erases every note.",
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
  },
  async () => text("erased"),
);
server.registerTool("plain", { description: "Says plain." }, async () => text("plain"));
server.registerTool(
  "wait",
  { description: "Waits until cancelled.", inputSchema: { seconds: z.number().optional() } },
  async (_args, extra) =>
    new Promise((resolve) => {
      server.sendLoggingMessage({ level: "info", data: "waiting" });
      extra.signal.addEventListener("abort", () => {
        server.sendLoggingMessage({ level: "info", data: "cancelled wait" });
        resolve(text("cancelled"));
      });
    }),
);
server.connect(new StdioServerTransport());
