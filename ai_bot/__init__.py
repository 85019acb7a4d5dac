"""The AI bot: a Matrix account that brings an OpenAI-compatible model into rooms (issue 4).

Layers (each a small module): ``config`` (typed settings), ``provision`` (the account),
``matrix`` (nio client, E2EE, cross-signing), ``routing`` (what a message asks for, pure),
``commands`` (``!ai ...``), ``context`` (history → prompt), ``tools`` (function calling),
``streaming`` (one edit scheduler per account), ``render`` (Markdown → sanitised HTML),
``answer`` (one answer), ``dispatch`` (events → actions), ``records`` (answers and their
links), ``room_settings``, ``invites``, ``sync_loop``, ``tasks``, and ``app`` (the composition
root that builds and wires them). User-facing sentences live in ``strings``.
"""
