#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests.
//
// Why Debian's package and not `npx playwright install`: this project's machines reach only the
// npm registry and Debian's packages, so Playwright's own browser download fails. Tests drive
// /usr/bin/chromium through playwright-core (which ships no browser).
//
// Runs as `npm test`'s pretest step; a no-op when Chromium is already installed. Installing needs
// root (as on CI and the developer machines); otherwise it fails with what to run by hand.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.OFFSYNC_CHROMIUM ?? '/usr/bin/chromium';
const APT_TIMEOUT_MS = 15 * 60_000;

function log(message) {
  process.stdout.write(`[ensure-chromium] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[ensure-chromium] ERROR: ${message}\n`);
  process.exit(1);
}

function run(command, args) {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    timeout: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    fail(`${command} could not run: ${result.error.message}`);
  }
  if (result.status !== 0) {
    fail(
      `\`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal}. ` +
        `Install Chromium by hand (as root): apt-get update && apt-get install -y --no-install-recommends chromium`,
    );
  }
}

function version() {
  const result = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

if (existsSync(CHROMIUM)) {
  log(`found ${version() ?? CHROMIUM}`);
  process.exit(0);
}

if (process.platform !== 'linux') {
  fail(`${CHROMIUM} not found; install Chromium and set OFFSYNC_CHROMIUM to its path`);
}
if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  fail(
    `${CHROMIUM} not found and this is not root. Run as root: ` +
      `apt-get update && apt-get install -y --no-install-recommends chromium`,
  );
}
if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
  fail(`${CHROMIUM} not found and apt-get is not available: install Chromium by hand`);
}

log(`${CHROMIUM} not found: installing Debian's chromium (a few minutes)`);
run('apt-get', ['update']);
run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
if (!existsSync(CHROMIUM)) {
  fail(`apt-get installed chromium but ${CHROMIUM} is still missing`);
}
log(`installed ${version() ?? CHROMIUM}`);
