#!/usr/bin/env bash
# `npm run check:client` (CI: bash scripts/check-client.sh): follows client/README.md's "From an empty
# folder" commands in a fresh temporary folder — npm init, the pinned openapi-fetch, typescript and
# openapi-typescript from the npm registry, schema.d.ts generated from docs/openapi.json (so no server
# is needed), client/example-openapi.ts copied in as example.ts, tsc --init, tsc --noEmit — and fails
# when any step does. The versions are this repository's (package.json); the run also fails when
# client/README.md names other ones.
set -euo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  cat <<'EOF'
Usage: npm run check:client   (or: bash scripts/check-client.sh)

Runs client/README.md's setup of a typed client in an empty temporary folder (npm init; npm install
of the pinned openapi-fetch, typescript and openapi-typescript from the npm registry; openapi-typescript
on docs/openapi.json; client/example-openapi.ts as example.ts; tsc --init; tsc --noEmit) and fails when
a step fails or when the README's versions are not package.json's. Leaves nothing behind.

Options:
  --keep   keep the temporary folder and print its path
  --help   this text
EOF
  exit 0
fi
keep=false
for arg in "$@"; do
  case "$arg" in
    --keep) keep=true ;;
    *) echo "check-client: unknown option $arg (see bash scripts/check-client.sh --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
# The versions the repository itself uses; the README must name the same ones.
version() { node -p "require('$ROOT/package.json').devDependencies['$1']"; }
FETCH=$(version openapi-fetch)
TS=$(version typescript)
OTS=$(version openapi-typescript)
for pinned in "openapi-fetch@$FETCH" "typescript@$TS" "openapi-typescript@$OTS"; do
  if ! grep -qF "$pinned" "$ROOT/client/README.md"; then
    echo "check-client: client/README.md does not name $pinned (package.json's version); update its commands." >&2
    exit 1
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/check-client.XXXXXX")
if $keep; then echo "check-client: working in $dir (kept)"; else trap 'rm -rf "$dir"' EXIT; fi
cd "$dir"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# The README's commands, in order (its server URL swapped for the committed document).
set -x
npm init -y >/dev/null
npm pkg set type=module
npm install --save-exact "openapi-fetch@$FETCH"
npm install --save-exact -D "typescript@$TS" "openapi-typescript@$OTS"
npx openapi-typescript "$ROOT/docs/openapi.json" -o schema.d.ts
cp "$ROOT/client/example-openapi.ts" example.ts
npx tsc --init >/dev/null
npx tsc --noEmit
{ set +x; } 2>/dev/null

echo "check-client: the README's typed-client setup typechecks example.ts ($(( $(date +%s) - start ))s)."
