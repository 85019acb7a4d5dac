"""Every sentence the bot says to people, in one place (commands, refusals, notices)."""

from __future__ import annotations

HELP = """\
**AI assistant** — mention me, reply to me, or write to me directly; a thread is one conversation.

- `!ai help` — this help
- `!ai models` — models you may use here, and the one in use
- `!ai model <name>` — use another model in this room (or in this thread, when sent in a thread)
- `!ai reset` — start a fresh conversation (earlier messages are no longer sent to the model)
- `!ai usage` — what you and this room have spent
- `!ai system <prompt>` — set this room's system prompt (room moderators); `!ai system` shows it, \
`!ai system clear` removes it

Edit your message to get a new answer, redact it to cancel, or react with 🔁 to regenerate."""

UNKNOWN_COMMAND = "Unknown command `!ai {name}`. Try `!ai help`."
MODEL_LIST_HEADER = "Models you may use here (✅ = in use):"
MODEL_SET_ROOM = "This room now uses **{model}**."
MODEL_SET_THREAD = "This thread now uses **{model}**."
MODEL_UNKNOWN = "There is no model called `{model}`. `!ai models` lists them."
MODEL_NOT_ALLOWED = "Your role may not use **{model}**. `!ai models` lists the ones you may use."
MODEL_USAGE = "Usage: `!ai model <name>`."
RESET_DONE = "Fresh start: I will not use the messages before this one."
SYSTEM_SHOW = "This room's system prompt:\n\n> {prompt}"
SYSTEM_NONE = "This room has no system prompt of its own."
SYSTEM_SET = "System prompt set for this room."
SYSTEM_CLEARED = "System prompt removed for this room."
SYSTEM_FORBIDDEN = "Only room moderators may change the system prompt."
USAGE = (
    "Your AI spend: ${user_day:.4f} today{user_day_limit}, ${user_month:.4f} this month"
    "{user_month_limit}.\nThis room: ${room_day:.4f} today, ${room_month:.4f} this month."
)
USAGE_LIMIT = " (limit ${limit:.2f})"
USAGE_UNAVAILABLE = "Usage figures are not available (the budget ledger is not configured)."

NOT_ALLOWED = "Sorry, your role does not include the AI assistant."
ROLE_UNKNOWN = (
    "I cannot check what your role allows right now, so I did not ask the model; "
    "try again shortly."
)
DAILY_ALLOWANCE_USED = (
    "You have used your role's daily AI allowance ({tokens} tokens); it renews tomorrow."
)
RATE_LIMITED = "You are sending AI requests too quickly; try again in {seconds} s."
INVITE_REFUSED_REASON = "Your role does not include the AI assistant."
INVITE_ROLE_UNKNOWN_REASON = "I could not check what your role allows; invite me again shortly."
CANNOT_DECRYPT = (
    "I could not decrypt your message, so I cannot answer it yet. I have asked your devices "
    "for the key; if this keeps happening, verify my session or re-send the message."
)
MODEL_FAILED = "⚠️ {message}"
INTERRUPTED = "\n\n⚠️ *Answer interrupted: {reason}.*"
REASON_SHUTDOWN = "the assistant was shut down (react with 🔁 to ask again)"
REASON_CANCELLED = "the question was withdrawn"
REASON_EDITED = "the question was edited; a new answer follows"
REASON_REGENERATED = "a new answer replaces this one"
REASON_MODEL = "the model stopped ({detail})"
REASON_LENGTH = "the answer reached its length limit"
TOOL_RUNNING = "\n\n*⏳ {tool}…*"
TOOL_STEPS_EXHAUSTED = (
    "⚠️ *I stopped after {steps} tool steps, the most I may take for one answer; "
    "ask again to continue.*"
)
BUDGET_UNAVAILABLE = (
    "I cannot check the AI budget right now, so I did not ask the model; try again shortly."
)
CONTINUED = "*(continued)*\n\n"

ENABLE_HINT = (
    "ai bot: disabled (no model API key); set OPENAI_API_KEY (or ai_bot.api_key_file) and "
    "restart to enable it"
)
