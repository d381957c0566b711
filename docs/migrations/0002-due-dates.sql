-- Additive: todos get an optional due date (nullable, so devices still on 0001 keep syncing).
ALTER TABLE todos ADD COLUMN due TEXT;
CREATE INDEX todos_due ON todos(due);
