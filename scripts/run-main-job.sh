#!/usr/bin/env bash
# The main job on the embedded default, as far as custos is built today:
#  1. validate every seed policy;
#  2. publish the chosen one's notice, Article 30 record and data map under out/<policy>/;
#  3. open a SQLite data directory under out/<policy>/data (master key beside it, mode 0600),
#     record one person, their consent and data, ask for decisions, plan retention, answer
#     their access request (code, verification, package), and verify the audit chain.
#  4. start `custos serve` on that data directory (LISTEN, default 127.0.0.1:8080) with an admin
#     token printed once; Ctrl-C (SIGINT) or SIGTERM drains it and exits.
set -euo pipefail
policy=${1:-policies/wig.yaml}
bin=build/custos
name=$(basename "$policy" .yaml)
out=out/$name
mkdir -p "$out"

echo "== checking every policy in policies/"
for f in policies/*.yaml; do
  "$bin" policy check "$f"
done

echo "== publishing $policy"
"$bin" notice "$policy" --format html > "$out/notice.html"
"$bin" notice "$policy" --format md > "$out/notice.md"
"$bin" ropa "$policy" --format csv > "$out/ropa.csv"
"$bin" ropa "$policy" --format json > "$out/ropa.json"
"$bin" datamap "$policy" --format svg > "$out/datamap.svg"
ls -l "$out"

echo
echo "== the engine on the embedded SQLite store: $out/data"
data=$out/data
rm -rf "$data" "$out/master.key"
run() { echo "\$ custos $*"; "$bin" --data "$data" --master-key "$out/master.key" "$@" || true; }
run init --policy "$policy"
if [ "$name" = wig ]; then
  # A non-member who asked about events; the seed's promises decide what may happen next.
  run subject add n1 --type non_member --email n1@example.test --at 2026-01-01
  run record put n1 user.name "Ben Visitor" --source direct --purpose membership_records --at 2026-01-01
  run event n1 last_activity --at 2026-01-10
  run decide n1 newsletter user.contact.email --at 2026-02-01
  run consent give n1 newsletter --channel web --at 2026-02-02
  run decide n1 newsletter user.contact.email --at 2026-02-03
  run retention plan --as-of 2031-01-11
  # The person asks for a copy of their data: a one-time code goes to their email (the local
  # outbox here, a mailer webhook in production), they confirm, WIG answers within the month.
  run --now 2026-03-02T09:00:00Z request open access --email n1@example.test --id r1
  code=$("$bin" --data "$data" --master-key "$out/master.key" outbox read --request r1 --last --field code)
  run --now 2026-03-02T09:05:00Z request verify r1 "$code"
  run --now 2026-03-03T10:00:00Z request fulfil r1
  "$bin" --data "$data" --master-key "$out/master.key" request document r1 html > "$out/access-r1.html"
  echo "(the access package for r1 is in $out/access-r1.html)"
  run request show r1
fi
run audit verify
echo
echo "Open $out/notice.html in a browser to read the notice people will see."
echo "More verbs: build/custos --help and docs/CLI.md."

listen=${LISTEN:-127.0.0.1:8080}
echo
echo "== custos serve on $data ($listen)"
token=$("$bin" --data "$data" token create --role admin --label "make run")
echo "admin token (shown once, stored hashed in $data/tokens.jsonl):"
echo "  $token"
echo "try:  curl -s http://$listen/healthz"
echo "      curl -s -H 'Authorization: Bearer $token' http://$listen/v1/audit/verify"
echo "      the API: http://$listen/v1/openapi.json   the notice: http://$listen/v1/notice"
exec "$bin" serve --data "$data" --master-key "$out/master.key" --listen "$listen"
