-- Destructive: notes lose their colour. Devices still on 0002 stop syncing notes (todos go on)
-- until they run this file too.
ALTER TABLE notes DROP COLUMN color;
