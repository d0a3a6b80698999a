-- v25: a benefit line keeps the blind index of its SSN (the keyed HMAC-SM3 that persons are
-- found by, migration 0009), made when the line is received. Paying a chunk then finds the
-- lines' persons in one join on persons.ssn_index, without opening and hashing each line's
-- SSN again. NULL on lines staged before: the store fills it before it pays them.
-- Same SQL on SQLite and PostgreSQL.
ALTER TABLE benefit_lines ADD COLUMN ssn_index TEXT;
