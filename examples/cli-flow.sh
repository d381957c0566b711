#!/bin/sh
# The server side with the `offsync` CLI, then an app syncing with it. In one terminal, from the
# checkout (after `npm ci && npm run build`):
#   npx offsync serve --data ./data --port 8787
# and in another:
#   sh examples/cli-flow.sh
# The admin commands find the admin key in ./data/admin.key and the server at
# $OFFSYNC_URL (default http://127.0.0.1:8787); set OFFSYNC_DATA for another data folder.
set -eu
cd "$(dirname "$0")/.."
DATA="${OFFSYNC_DATA:-./data}"

# A database created from the schema file, its table synced, one policy per operation.
npx offsync db create todo-app --schema examples/schema.sql --data "$DATA"
npx offsync table enable todo-app todos --data "$DATA"
for operation in select insert update delete; do
  npx offsync policy set todo-app todos "$operation" "owner = auth.sub" --data "$DATA"
done

# A development token for alice, bound to todo-app (production tokens come from your identity
# provider), and the app on a device of hers.
TOKEN="$(npx offsync token issue --sub alice --db todo-app --ttl 1h --data "$DATA")"
DEVICE="$(mktemp -d)"
OFFSYNC_TOKEN="$TOKEN" node examples/app.mjs "$DEVICE/alice.db"
rm -rf "$DEVICE"
