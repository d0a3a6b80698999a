-- v15: a login's own branch (a teller's desk defaults to it). Optional; tellers made before
-- this have none and the desk falls back to the first branch of their bank that fits.
ALTER TABLE users ADD COLUMN branch_code TEXT;
