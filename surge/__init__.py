"""The surge benchmark: thousands of people at once against Telegram's flood limits.

`python -m surge.surge` (`make surge`) runs decree-bot's webhook workers (1, 2 and 4) and a
peer (PTB's `AIORateLimiter`) behind the soak's forwarder, against the fake Bot API
enforcing a hidden overall limit X, one message a second per chat and twenty a minute per
group, and measures how much of the allowed rate reached people, how many 429s and
violations it cost, and how long people waited against an ideal first-come-first-served bot.

Modules: `people` (arrivals, the soak's driver, the peer's scripted people), `fleet` (the
worker processes), `peer_bot` (the peer), `metrics` (the figures, pure), `plot` (the PNG,
in the plot venv) and `surge` (the command).
"""
