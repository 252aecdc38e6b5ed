// A tiny MCP server for the tests, on the TypeScript SDK the pinned reference servers install:
// once initialized it asks the client's model for a message (sampling/createMessage), then
// logs "sampled: TEXT" (or "sampling failed: WHY"), so a test sees what came back.
// Usage: node asks.cjs NODE_MODULES_DIR
const path = require("path");
const load = require("module").createRequire(path.join(process.argv[2], "noop.js"));
const { McpServer } = load("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = load("@modelcontextprotocol/sdk/server/stdio.js");

const server = new McpServer(
  { name: "asks", version: "1.0.0" },
  { capabilities: { logging: {} } },
);
server.registerTool("noop", { description: "Does nothing." }, async () => ({
  content: [{ type: "text", text: "ok" }],
}));
server.server.oninitialized = async () => {
  try {
    const result = await server.server.createMessage(
      {
        messages: [{ role: "user", content: { type: "text", text: "Say hello to the test." } }],
        systemPrompt: "You are brief.",
        maxTokens: 20,
      },
      { timeout: 600000 },
    );
    await server.sendLoggingMessage({ level: "info", data: "sampled: " + result.content.text });
  } catch (e) {
    await server.sendLoggingMessage({ level: "warning", data: "sampling failed: " + e.message });
  }
};
server.connect(new StdioServerTransport());
