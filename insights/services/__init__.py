"""The numbers of each chart, one module per concern: `signups` (an event's sign-ups over time and by persona).
`buckets` holds the SQL that cuts time into the town's days. Every function takes `now` where time matters and
reads only aggregates (counts grouped in the database), never a person's row."""
