"""Talking to models: the bottom layer that envs, users, judges, agents and the server build on.

Nothing here knows about envs, users, rewards, policies or episodes.

- :mod:`toolgym.llm.config`: ``OpenAIConfig``, where and how to query a chat-completions endpoint.
- :mod:`toolgym.llm.errors`: the errors of a failed completion (``OpenAIPolicyError`` and kin).
- :mod:`toolgym.llm.protocol`: the parsed ``Completion`` and the response helpers.
- :mod:`toolgym.llm.client`: ``OpenAIClient``, the HTTP client with retries and ``PolicyStats``.
- :mod:`toolgym.llm.backends`: ``ChatBackend`` and its local and endpoint implementations.
- :mod:`toolgym.llm.sampler`: ``HFPolicy``, batched sampling from a local transformers model.
- :mod:`toolgym.llm.models`: local models by name (SmolLM2-135M, a tiny random model).
"""
