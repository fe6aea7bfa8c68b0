"""The soak test: thousands of simulated people talk to two real webhook workers at once.

`python -m soak.soak` (`make soak`) starts a private Redis, the fake Bot API
(`fakebotapi.FakeBotApi`), a round-robin forwarder and two `python -m bot webhook`
processes, plays complete conversations while injecting faults, checks every result against
`decree-bot check`, and prints a table ending in `N passed, M failed`. Everything listens on
127.0.0.1 only, and every loop is bounded in count and time.

Modules: `api` (the fake Bot API with a per-chat index of calls), `forwarder` (one webhook URL
in front of the workers), `workers` (the bot processes), `personas` (who talks, and the result
each must get), `driver` (one person's conversation), `faults` (the injected faults),
`report` (the table) and `soak` (the command).
"""
