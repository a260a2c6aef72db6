#!/usr/bin/env bash
# The main job on the embedded default, as far as custos is built today:
#  1. validate every seed policy;
#  2. publish the chosen one's notice, Article 30 record and data map under out/<policy>/;
#  3. open a SQLite data directory under out/<policy>/data (master key beside it, mode 0600),
#     record one person, their consent and data, ask for decisions, plan retention, answer
#     their access request (code, verification, package), and verify the audit chain.
#     With WIG, the policy also declares its CRM (policies/systems/wig_crm.yaml, appended to a
#     copy): a demonstration CRM is created (scripts/demo-crm.sql), checked with `systems
#     check`, and the access package gathers the person's rows from it.
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
rm -rf "$data" "$out/master.key" "$out/master.key.checkpoint"
run() { echo "\$ custos $*"; "$bin" --data "$data" --master-key "$out/master.key" "$@" || true; }
if [ "$name" = wig ]; then
  # WIG's CRM platform, as the policy's `systems:` declares it (docs/SYSTEMS.md).
  crm=$PWD/$out/demo-crm.sqlite
  rm -f "$crm"
  sqlite3 "$crm" < scripts/demo-crm.sql
  export CUSTOS_WIG_CRM=$crm
  mkdir -p "$out/with-crm"
  cat "$policy" policies/systems/wig_crm.yaml > "$out/with-crm/wig.yaml"
  policy=$out/with-crm/wig.yaml
  "$bin" policy check "$policy"
fi
run init --policy "$policy"
# The story's dates are relative to today, so the server started at the end (whose retention
# sweep runs on the real clock) finds the same world the story left: nothing in it is due yet.
day() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
if [ "$name" = wig ]; then
  # A non-member who asked about events; the seed's promises decide what may happen next.
  run subject add n1 --type non_member --email n1@example.test --at "$(day '60 days ago')"
  run record put n1 user.name "Ben Visitor" --source direct --purpose membership_records --at "$(day '60 days ago')"
  run event n1 last_activity --at "$(day '50 days ago')"
  run decide n1 newsletter user.contact.email --at "$(day '40 days ago')"
  run consent give n1 newsletter --channel web --at "$(day '39 days ago')"
  run decide n1 newsletter user.contact.email --at "$(day '38 days ago')"
  # Five years and a day after the last activity (50 days ago): the non-member's data is due.
  run retention plan --as-of "$(day '+5 years -49 days')"
  # The CRM answers as the policy declares; its rows past their period (a former member's
  # contact details, five years after membership ended) are found, not yet changed.
  run systems check
  run systems sweep
  # The person asks for a copy of their data: a one-time code goes to their email (the local
  # outbox here, a mailer webhook in production), they confirm, WIG answers within the month.
  run --now "$(day '2 days ago')" request open access --email n1@example.test --id r1
  code=$("$bin" --data "$data" --master-key "$out/master.key" outbox read --request r1 --last --field code)
  run --now "$(day '2 days ago 5 minutes')" request verify r1 "$code"
  # What answering it reaches in the CRM, before anything is done.
  run request plan r1
  run --now "$(day '1 day ago')" request fulfil r1
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
echo
echo "Open in a browser once it says 'listening':"
echo "  the privacy centre:       http://$listen/"
echo "  a page of the organisation's site with the cookie banner: http://$listen/demo-site"
echo "  the notice as the API serves it: http://$listen/v1/notice"
echo "  the API it serves:        http://$listen/v1/openapi.json"
echo "  the access package of r1: file://$PWD/$out/access-r1.html"
echo "or with curl:"
echo "  curl -s http://$listen/healthz"
echo "  curl -s -H 'Authorization: Bearer $token' http://$listen/v1/audit/verify"
exec "$bin" serve --data "$data" --master-key "$out/master.key" --listen "$listen" --demo-site
