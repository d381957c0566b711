-- The app's first schema: what `offsync db create todo-app --schema` and the app both run.
CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT, color TEXT);
