"""The rules of the live room, one module per concern: `access` (who takes part, who moderates, the room's
settings), `questions` (asking, upvoting, moderating), `polls` (preparing, opening, closing, answering,
showing results)."""
