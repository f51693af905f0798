"""JSON API of the inbox, push subscriptions and preferences (filled in step by step)."""
