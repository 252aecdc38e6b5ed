// A tiny MCP server for the tests, on the TypeScript SDK the pinned reference servers install:
// once initialized it asks the user to fill a form (elicitation/create), logs
// "elicited: ACTION CONTENT", then asks them to visit a URL and logs "url: ACTION".
// Usage: node elicits.cjs NODE_MODULES_DIR
const path = require("path");
const load = require("module").createRequire(path.join(process.argv[2], "noop.js"));
const { McpServer } = load("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = load("@modelcontextprotocol/sdk/server/stdio.js");

const server = new McpServer(
  { name: "elicits", version: "1.0.0" },
  { capabilities: { logging: {} } },
);
server.registerTool("noop", { description: "Does nothing." }, async () => ({
  content: [{ type: "text", text: "ok" }],
}));
const log = (data) => server.sendLoggingMessage({ level: "info", data });
server.server.oninitialized = async () => {
  try {
    const form = await server.server.elicitInput(
      {
        message: "Who are you?",
        requestedSchema: {
          type: "object",
          properties: {
            name: { type: "string", title: "Name" },
            agree: { type: "boolean", title: "Agree" },
          },
          required: ["name"],
        },
      },
      { timeout: 600000 },
    );
    await log("elicited: " + form.action + " " + JSON.stringify(form.content ?? null));
    const url = await server.server.elicitInput(
      {
        mode: "url",
        message: "Sign in",
        url: "https://login.example/device",
        elicitationId: "e-1",
      },
      { timeout: 600000 },
    );
    await log("url: " + url.action);
  } catch (e) {
    await log("elicitation failed: " + e.message);
  }
};
server.connect(new StdioServerTransport());
