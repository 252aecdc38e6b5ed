// A tiny MCP server for the plugin host tests, built on the TypeScript SDK that the pinned
// reference servers install: calling `add_tool` registers a second tool, and the SDK sends
// `notifications/tools/list_changed`. Usage: node list_changed.cjs NODE_MODULES_DIR
const path = require("path");
const load = require("module").createRequire(path.join(process.argv[2], "noop.js"));
const { McpServer } = load("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = load("@modelcontextprotocol/sdk/server/stdio.js");
const z = load("zod");

const server = new McpServer({ name: "list-changed", version: "1.0.0" });
let added = false;
server.registerTool(
  "add_tool",
  { description: "Adds the tool `double`." },
  async () => {
    if (!added) {
      added = true;
      server.registerTool(
        "double",
        { description: "Doubles n.", inputSchema: { n: z.number() } },
        async ({ n }) => ({ content: [{ type: "text", text: String(n * 2) }] }),
      );
    }
    return { content: [{ type: "text", text: "added" }] };
  },
);
server.connect(new StdioServerTransport());
