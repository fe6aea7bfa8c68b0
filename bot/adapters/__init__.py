"""Adapters: they translate between the outside world and `ChatService`, nothing more."""
