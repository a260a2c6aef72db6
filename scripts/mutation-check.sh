#!/usr/bin/env bash
# Mutation check: the suite must fail when the product is broken on purpose. Each mutant changes
# one rule in the source, rebuilds, runs the tests that guard that rule, and must be killed (at
# least one test fails). The source is restored after each mutant, whatever happens.
# The list of mutants and the tests that kill them is in docs/TESTING.md.
# Usage: scripts/mutation-check.sh [BUILD_DIR]   (default build; configured by `make build`)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=$(nproc)

# name | file | exact text | replacement | ctest -R filter
mutants=(
  "consent_missing_allows|src/engine/decide.cc|        Deny(decision, ErrorCode::kConsentMissing, purpose->key);|        (void)0;  // mutant: a missing consent no longer denies|Decide|ConsentMissing|scenario/sqlite/wig"
  "first_retention_rule_dropped|src/engine/retention.cc|  std::string next_rule;\n  for (const auto& rule : policy.retention) {|  std::string next_rule;\n  for (const auto& rule : policy.retention) {\n    if (&rule == &policy.retention.front()) continue;  // mutant|Retention|scenario/sqlite/wig"
  "system_erasure_ignores_holds|src/engine/systems_reach.cc|          field_step.kept = keep(field.category);|          (void)keep;  // mutant: a hold or exemption no longer keeps a system's column|SystemsReach"
  "application_grant_ignored|src/engine/applications.cc|  RETURN_IF_ERROR(GrantCovers(grant, request.purpose, request.categories, request.at));|  (void)0;  // mutant: an application's decision is no longer held to its grant|ApplicationGrant|AnAuthorisedApplication"
  "decision_audit_skipped|src/engine/audit_log.cc|  buffer_.push_back(std::move(entry));\n  const int64_t mine|  (void)entry;  // mutant: a decision leaves no audit entry\n  const int64_t mine|Audit|Decision|scenario/sqlite/engine"
)

survived=0
for m in "${mutants[@]}"; do
  IFS='|' read -r name file text replacement filter <<<"$m"
  filter=${m#*|*|*|*|}
  backup=$(mktemp)
  cp "$file" "$backup"
  restore() { cp "$backup" "$file"; rm -f "$backup"; }
  trap restore EXIT INT TERM
  # perl is in every Debian (perl-base); the texts are passed literally, not as patterns.
  if ! MUT_TEXT="$text" MUT_REPL="$replacement" perl -0777 -i -e '
      my $src = do { local $/; <> };
      my ($t, $r) = ($ENV{MUT_TEXT}, $ENV{MUT_REPL});
      $r =~ s/\\n/\n/g;
      $t =~ s/\\n/\n/g;
      my $n = () = $src =~ /\Q$t\E/g;
      if ($n != 1) { print $src; die "the text to mutate occurs $n times, not once\n"; }
      $src =~ s/\Q$t\E/$r/;
      print $src;' "$file"
  then
    echo "mutation: $name cannot be applied (the source changed?): fix scripts/mutation-check.sh"
    restore; trap - EXIT INT TERM
    exit 2
  fi
  echo "== mutant $name ($file)"
  if ! cmake --build "$build" -j "$jobs" --target custos_tests custos_scenarios custos custos_api_tests > /tmp/mutation-build.log 2>&1; then
    echo "mutation: $name does not build:"; tail -20 /tmp/mutation-build.log
    restore; trap - EXIT INT TERM
    exit 2
  fi
  if ctest --test-dir "$build" -j "$jobs" -R "$filter" > /tmp/mutation-$name.log 2>&1; then
    echo "mutation: $name SURVIVED: no test in '$filter' failed"
    survived=$((survived + 1))
  else
    killers=$(grep -E '^\s+[0-9]+ - ' /tmp/mutation-$name.log | sed -E 's/^\s+[0-9]+ - //; s/ \(.*//; s/  #.*//' | head -5 | paste -sd, -)
    echo "mutation: $name killed by: $killers"
  fi
  restore; trap - EXIT INT TERM
done
# Leave the build matching the source again.
cmake --build "$build" -j "$jobs" > /dev/null 2>&1
if [ "$survived" -gt 0 ]; then
  echo "mutation check: $survived mutant(s) survived"
  exit 1
fi
echo "mutation check: all ${#mutants[@]} mutants killed"
