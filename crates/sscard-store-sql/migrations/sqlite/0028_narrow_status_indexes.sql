-- v28: the status indexes hold only the rows that are looked up by status. A card's
-- temporary loss (and its lift) changes the status of the card and of its e-card, which
-- writes a new entry into every index of both rows; an entry keyed by a random e-card id
-- in an index of all e-cards lands on a page of its own, rarely in memory in a large
-- deployment. Now the e-cards' index holds the stopped ones only (the revocation list
-- pages through them by id) and the cards' index only the statuses the jobs sweep
-- (suspended, produced, dormant), both small enough to stay in memory.
-- Same SQL on SQLite and PostgreSQL.
DROP INDEX ecards_status;
CREATE INDEX ecards_stopped ON ecards (id) WHERE status = 'stopped';
DROP INDEX cards_status;
CREATE INDEX cards_status_swept ON cards (status, status_changed_at_ms)
    WHERE status IN ('suspended', 'produced', 'dormant');
