"""Requests shared by the serve tests."""

HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
SEARCH_SPEC = {
    "type": "function",
    "function": {
        "name": "search_articles",
        "description": "Search the encyclopedia.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "k": {"type": "integer"}},
            "required": ["query"],
        },
    },
}
PARAMETERS = {"search_articles": SEARCH_SPEC["function"]["parameters"]}
