#!/bin/sh
# Runs a deliberately broken scenario and passes only when the runner rejects it for the reason
# the file states: exit 1, and the first line of its report names the line and the reason given
# by the file's "# fails at: LINE: TEXT" comment.
# Usage: expect_rejected.sh RUNNER FILE
set -u
runner=$1
file=$2
want=$(sed -n 's/^# fails at: //p' "$file")
if [ -z "$want" ]; then
  echo "$file: no '# fails at: LINE: TEXT' line"
  exit 1
fi
line=${want%%: *}
text=${want#*: }
report=$("$runner" "$file" --backend sqlite 2>&1)
rc=$?
first=$(printf '%s\n' "$report" | head -n 1)
if [ "$rc" -ne 1 ]; then
  printf 'runner exited %s, expected 1 (rejected)\n%s\n' "$rc" "$report"
  exit 1
fi
case "$first" in
  "$file:$line: [sqlite] "*"$text"*) ;;
  *)
    printf 'expected the report to start: %s:%s: [sqlite] ...%s...\ngot:\n%s\n' \
      "$file" "$line" "$text" "$report"
    exit 1
    ;;
esac
printf 'rejected as expected: %s\n' "$first"
