-- v7: one BIN per bank and one card per bank account number (PAN).
-- PAN serials were counted per bank code, so two banks sharing a BIN made equal PANs. Serials
-- are now counted per BIN (sscard_domain::bank::pan_counter): each BIN's counter starts where
-- the highest counter of its banks stood. A BIN that equals or overlaps another is refused by
-- the domain (sscard_domain::bank::check_bin_free); these indexes are the safety net.
-- If this migration fails on an index, two banks already share a BIN: give one of them its
-- own BIN and reissue the duplicated cards' accounts before upgrading.
INSERT OR IGNORE INTO counters (name, value)
SELECT 'pan:' || b.bin, MAX(c.value)
FROM counters c JOIN banks b ON c.name = 'pan:' || b.code
GROUP BY b.bin;
DELETE FROM counters
WHERE name IN (SELECT 'pan:' || code FROM banks) AND name NOT IN (SELECT 'pan:' || bin FROM banks);
CREATE UNIQUE INDEX banks_bin_unique ON banks (bin);
CREATE UNIQUE INDEX cards_pan_unique ON cards (pan);
