# A tiny MCP server for the tests, on the Python SDK the pinned mcp-server-time installs (mcp
# 2.3, which speaks protocol 2026-07-28). On that protocol a tool that needs input from the
# client answers the call with `resultType: "input_required"` and the client calls again with
# the answers (MRTR); on 2025-11-25 and older the SDK sends the same questions as requests.
#   greet   asks the user for a name (a form elicitation) and greets them
#   roots   asks for the client's roots and lists their URIs
#   haiku   asks the client's model for a line (sampling) and returns it
#   unlock  adds the tool `secret` and tells `subscriptions/listen` subscribers the list changed
# Usage: python3 mrtr.py SITE_PACKAGES_DIR
import sys

sys.path.insert(0, sys.argv[1])

from typing import Annotated  # noqa: E402

from mcp.server.mcpserver import Context, Elicit, ListRoots, MCPServer, Resolve, Sample  # noqa: E402
from mcp_types import CreateMessageResult, ListRootsResult, SamplingMessage, TextContent  # noqa: E402
from pydantic import BaseModel  # noqa: E402


class Name(BaseModel):
    name: str


def ask_name() -> Elicit[Name]:
    return Elicit("Who should be greeted?", Name)


def ask_roots() -> ListRoots:
    return ListRoots()


def ask_line() -> Sample:
    message = SamplingMessage(role="user", content=TextContent(type="text", text="Write one short line about rain."))
    return Sample([message], max_tokens=16, system_prompt="You are brief.")


server = MCPServer("mrtr")


@server.tool()
def greet(person: Annotated[Name, Resolve(ask_name)]) -> str:
    """Greets the person the user names."""
    return f"Hello, {person.name}!"


@server.tool()
def roots(listed: Annotated[ListRootsResult, Resolve(ask_roots)]) -> str:
    """Lists the client's roots."""
    return "roots: " + " ".join(str(root.uri) for root in listed.roots)


@server.tool()
def haiku(line: Annotated[CreateMessageResult, Resolve(ask_line)]) -> str:
    """Returns a line the client's model wrote."""
    content = line.content
    return "sampled: " + (content.text if isinstance(content, TextContent) else "?")


def secret() -> str:
    """Says the secret."""
    return "swordfish"


@server.tool()
async def unlock(ctx: Context) -> str:
    """Adds the tool `secret`."""
    server.add_tool(secret)
    await ctx.notify_tools_changed()
    return "unlocked"


server.run()
