// Every seed policy's data map in a real browser: `custos datamap --format svg` shown in a page
// at 1280 px wide in Debian's chromium, the whole map and one view per subject type. Nothing may
// be clipped (the SVG scales to its container: no sideways scrolling, the drawing inside the
// page's width, every node's box inside the drawing), and a screenshot of each map is saved.
//
//   node datamap.test.mjs BUILD_DIR [SCREENSHOT_DIR]
//
// Exit 0 when every check held; otherwise the first failure and exit 1.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { check, chromiumPath as findChromium, paths, repo } from './browser.mjs';

const [buildDir, shotsArg] = process.argv.slice(2);
if (!buildDir) {
  console.error('usage: node datamap.test.mjs BUILD_DIR [SCREENSHOT_DIR]');
  process.exit(2);
}
const { bin, shots } = paths(buildDir, shotsArg);
const chromiumPath = findChromium('datamap test');

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const policies = fs.readdirSync(path.join(repo, 'policies')).filter((f) => f.endsWith('.yaml')).sort();
  check(policies.length >= 5, 'every seed policy is here');
  for (const file of policies) {
    const name = path.basename(file, '.yaml');
    const policy = path.join(repo, 'policies', file);
    const views = [['', []]];
    // One view per subject type of the policy (the keys of its `subject_types:` block).
    const text = fs.readFileSync(policy, 'utf8');
    const block = text.slice(text.indexOf('\nsubject_types:\n') + 1).split(/\n(?=[a-z])/)[0];
    for (const match of block.matchAll(/^  ([a-z_]+):/gm)) {
      views.push([`-${match[1]}`, ['--subject-type', match[1]]]);
    }
    for (const [suffix, args] of views) {
      let svg;
      try {
        svg = execFileSync(bin, ['datamap', policy, '--format', 'svg', ...args], { encoding: 'utf8' });
      } catch {
        continue;  // a subject type no purpose concerns has no view
      }
      await page.setContent(`<!DOCTYPE html><html lang="en"><body style="margin:0">${svg}</body></html>`);
      const box = await page.evaluate(() => {
        const root = document.querySelector('svg');
        const r = root.getBoundingClientRect();
        const outside = [...root.querySelectorAll('g.node')].filter((node) => {
          const b = node.getBoundingClientRect();
          return b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1;
        }).length;
        return { width: r.width, height: r.height, scroll: document.documentElement.scrollWidth, outside,
                 nodes: root.querySelectorAll('g.node').length };
      });
      check(box.nodes > 0, `${name}${suffix}: the map has nodes`);
      check(box.scroll <= 1280 && box.width <= 1280, `${name}${suffix}: fits 1280 px (${box.width}, scroll ${box.scroll})`);
      check(box.outside === 0, `${name}${suffix}: every node inside the drawing (${box.outside} outside)`);
      await page.screenshot({ path: path.join(shots, `datamap-${name}${suffix}-1280.png`), fullPage: true });
      console.log(`datamap ${name}${suffix}: ${box.nodes} nodes, ${Math.round(box.width)}x${Math.round(box.height)} px`);
    }
  }
  console.log(`datamap: every check held; screenshots in ${shots}`);
} catch (error) {
  console.error(`datamap: ${error.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
