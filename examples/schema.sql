-- The app's tables, in plain SQL. The server creates its central database from this file
-- (`offsync db create todo-app --schema examples/schema.sql`) and every device runs it too.
-- A synced table needs a primary key that is NOT NULL, and a DEFAULT on every other NOT NULL
-- column; `owner` is what the row-level security policies compare with the token's user.
CREATE TABLE IF NOT EXISTS todos (
  id TEXT PRIMARY KEY NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  done INTEGER NOT NULL DEFAULT 0
);
