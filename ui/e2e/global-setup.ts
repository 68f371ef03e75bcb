// Builds the debug itbm binary, starts `itbm serve --demo` on a free port over
// a temporary data directory, and tells the tests where it listens. The server
// serves the UI from ui/dist (a debug build reads it from disk), so run
// `npm run build` first: `npm run e2e` does.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** A signed package of the example connector, and the public key that signed it. */
    pluginPackage: string;
    pluginPublicKey: string;
  }
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function buildServer(): string {
  const out = execFileSync('cargo', ['build', '--bin', 'itbm', '--message-format=json-render-diagnostics'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const line of out.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (message.reason === 'compiler-artifact' && message.target?.name === 'itbm' && message.executable) return message.executable;
  }
  throw new Error('cargo build did not report the itbm executable');
}

function serve(binary: string, dataDir: string): Promise<{ child: ChildProcess; address: string }> {
  // The server's own defaults (SQLite in the data directory), whatever this shell configures.
  const env: NodeJS.ProcessEnv = { ...process.env, ITBM_LOG_FORMAT: 'json' };
  for (const name of ['ITBM_DATABASE_URL', 'ITBM_CONFIG', 'ITBM_LISTEN', 'ITBM_DATA_DIR', 'ITBM_JWKS_FILE', 'ITBM_JWKS_URL']) delete env[name];
  const child = spawn(binary, ['serve', '--demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('itbm did not start within 60 s')), 60_000);
    child.once('exit', (code) => fail(new Error(`itbm exited with ${code} before serving`)));
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      if (process.env.ITBM_E2E_LOG) process.stderr.write(line + '\n');
      if (!line.includes('itbm is serving')) return;
      clearTimeout(timer);
      ok({ child, address: JSON.parse(line).fields.address });
    });
  });
}

/**
 * Builds the example connector and signs it with a new key, as a vendor would
 * (plugins/README.md), for the plugin page's test to upload.
 */
function signedExamplePackage(binary: string, dir: string): { pluginPackage: string; pluginPublicKey: string } {
  // The same target directory as the API tests' plugin builds, so CI builds it once.
  const target = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'wasm-plugins');
  execFileSync(
    'cargo',
    ['build', '--release', '--locked', '--target', 'wasm32-wasip2', '--manifest-path', 'plugins/Cargo.toml', '-p', 'hello-connector', '--target-dir', target],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const key = join(dir, 'vendor.key');
  const pluginPackage = join(dir, 'hello-connector.itbmpkg');
  execFileSync(binary, ['plugin', 'keygen', '--out', key]);
  execFileSync(binary, [
    'plugin',
    'sign',
    '--manifest',
    join(root, 'plugins/examples/hello-connector/manifest.json'),
    '--component',
    join(target, 'wasm32-wasip2/release/hello_connector.wasm'),
    '--key',
    key,
    '--out',
    pluginPackage,
  ]);
  return { pluginPackage, pluginPublicKey: readFileSync(`${key}.pub`, 'utf8').trim() };
}

export default async function setup(project: TestProject) {
  const binary = process.env.ITBM_BIN ?? buildServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'itbm-e2e-'));
  const vendorDir = mkdtempSync(join(tmpdir(), 'itbm-e2e-vendor-'));
  const { pluginPackage, pluginPublicKey } = signedExamplePackage(binary, vendorDir);
  project.provide('pluginPackage', pluginPackage);
  project.provide('pluginPublicKey', pluginPublicKey);
  const { child, address } = await serve(binary, dataDir);
  project.provide('baseUrl', `http://${address}`);
  return async () => {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(vendorDir, { recursive: true, force: true });
  };
}
