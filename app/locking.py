"""Every lock the platform takes, in one place: what it locks, on which database, and why.

Rules that must never be wrong (capacity, admission, scores; DESIGN.md) are decided in the database, under a lock
of the one row that guards them, inside the transaction that writes the decision. On PostgreSQL a lock is a row lock
(`SELECT ... FOR UPDATE`, or a conditional `UPDATE` that takes it); on SQLite, which has one writer at a time, the
same statement takes the database's write lock, which serialises writers anyway. Locks are always taken in this
order when a transaction needs more than one (competition, then round, then team; event before registration), so
two transactions never wait for each other in a circle.

Each domain adds its locks below, one function each, with a docstring saying what it guards.
"""

from __future__ import annotations
