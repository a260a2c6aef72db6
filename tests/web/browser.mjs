// What the browser tests share: where the repository, the custos binary and the screenshots
// are, Debian's chromium (the tests never download a browser), and the one way a check fails.
import fs from 'node:fs';
import path from 'node:path';

export const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

// The binary in BUILD_DIR and the screenshot folder (created), from the command line's values.
export function paths(buildDir, shotsArg) {
  const shots = path.resolve(shotsArg || path.join(buildDir, 'web-screenshots'));
  fs.mkdirSync(shots, { recursive: true });
  return { bin: path.resolve(buildDir, 'custos'), shots };
}

// Debian's chromium, or exit 1 naming what is missing.
export function chromiumPath(test) {
  const found = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  if (!found) {
    console.error(`${test}: Debian's chromium is not installed (scripts/setup-deps.sh installs it)`);
    process.exit(1);
  }
  return found;
}

export function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}
