#!/usr/bin/env bash
# The main job on the embedded default, as far as custos is built today: validate every seed
# policy, then publish the chosen one's notice, Article 30 record and data map under out/.
# (The store, decisions and `custos serve` come with issues 3 and 4; this script will then
# initialise a SQLite data directory and start the server.)
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
echo "Open $out/notice.html in a browser to read the notice people will see."
echo "Summary layer:"
sed -n '1,25p' "$out/notice.md"
