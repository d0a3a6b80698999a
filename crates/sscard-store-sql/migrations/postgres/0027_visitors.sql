-- v27: visitors, holders of another deployment of the nation, at this deployment's one-card
-- terminals (docs/NATION.md). Their QR code is checked against the national trust list and
-- their status asked of the issuing deployment; this deployment has no person for them and
-- keeps none. A loan or a park entry of a visitor keeps the issuing deployment and the e-card
-- id in place of the person and the card (exactly one of the two pairs is set); a use of a
-- card keeps them beside the person it already may lack.
ALTER TABLE loans ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE loans ALTER COLUMN card_no DROP NOT NULL;
ALTER TABLE loans ADD COLUMN deployment TEXT;
ALTER TABLE loans ADD COLUMN ecard_id TEXT;
ALTER TABLE loans ADD CONSTRAINT loans_person_or_visitor CHECK (
    (person_id IS NOT NULL AND card_no IS NOT NULL AND deployment IS NULL AND ecard_id IS NULL)
    OR (person_id IS NULL AND card_no IS NULL AND deployment IS NOT NULL AND ecard_id IS NOT NULL));
-- A visitor's open loans, counted at each loan.
CREATE INDEX loans_visitor ON loans (ecard_id, operator_code) WHERE ecard_id IS NOT NULL AND returned_at_ms IS NULL;

ALTER TABLE park_entries ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE park_entries ALTER COLUMN card_no DROP NOT NULL;
ALTER TABLE park_entries ADD COLUMN deployment TEXT;
ALTER TABLE park_entries ADD COLUMN ecard_id TEXT;
ALTER TABLE park_entries ADD CONSTRAINT park_entries_person_or_visitor CHECK (
    (person_id IS NOT NULL AND card_no IS NOT NULL AND deployment IS NULL AND ecard_id IS NULL)
    OR (person_id IS NULL AND card_no IS NULL AND deployment IS NOT NULL AND ecard_id IS NOT NULL));

ALTER TABLE card_uses ADD COLUMN deployment TEXT;
ALTER TABLE card_uses ADD COLUMN ecard_id TEXT;
