-- v18: an application may wait for another deployment to stop the person's live card
-- (awaiting_remote_stop, DESIGN §7.1): the status CHECK gains that value.
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN ('submitted','awaiting_remote_stop','approved','rejected','in_production','ready_for_pickup','shipped','delivered','collected','withdrawn'));
