// Fails when the committed ui/dist is not byte for byte what `npm run build`
// makes from the sources: the binary embeds ui/dist, so a stale copy would ship
// a UI nobody reviewed. Builds into a temporary folder, then compares.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

function files(root, dir = root) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(root, path) : [relative(root, path)];
  }).sort();
}

const out = mkdtempSync(join(tmpdir(), 'itbm-dist-'));
try {
  execFileSync('npx', ['vite', 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { stdio: 'inherit' });
  const want = files(out);
  const have = files('dist');
  const problems = [];
  for (const f of new Set([...want, ...have])) {
    if (!want.includes(f)) problems.push(`dist/${f} is not produced by the build any more`);
    else if (!have.includes(f)) problems.push(`dist/${f} is missing`);
    else if (!readFileSync(join(out, f)).equals(readFileSync(join('dist', f)))) problems.push(`dist/${f} differs`);
  }
  if (problems.length) {
    console.error(problems.join('\n'));
    console.error('ui/dist is stale: run `npm run build` in ui/ and commit ui/dist.');
    process.exit(1);
  }
  console.log(`ui/dist matches the sources (${want.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
