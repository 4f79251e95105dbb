// The fuzzer: throws generated cases (scripts/fuzz/generate.cjs) at the public
// API in child processes (scripts/fuzz/worker.cjs), a batch per child. A child
// that dies (a signal, an abort, a sanitizer report), hangs (an operation that
// never settles, or no progress for a while) or makes GLib print a CRITICAL is a
// finding: its case is saved to the findings folder, replayed alone to confirm,
// and the run exits non-zero.
//
//   npm run fuzz -- --minutes 3 [--asan] [--seed N] [--batch 25] [--out fuzz-findings]
//   npm run fuzz -- --replay fuzz-findings/<finding>/case.json [--asan]
//   npm run fuzz -- --soak 45 [--asan] [--scenario data-channel|fan-out]
//     (teardown races: scripts/fuzz/soak-data-channel.cjs, soak-fan-out.cjs)
//
// --asan loads build-asan/'s addon (npm run build:asan) with the sanitizer
// runtime preloaded (scripts/fuzz/asan-env.sh); see docs/reliability.md.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { generateCase, loadSeeds } = require('./generate.cjs');
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function options(argv) {
  const result = { minutes: 1, asan: false, seed: Date.now() % 1_000_000_000, batch: 25, out: join(root, 'fuzz-findings'), replay: null, stallSeconds: 45, soak: 0, scenario: 'data-channel' };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (name === 'asan') result.asan = true;
    else if (name in result) result[name] = typeof result[name] === 'number' ? Number(argv[++i]) : argv[++i];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return result;
}

function childEnvironment(asan) {
  const env = { ...process.env, G_DEBUG: '', GST_DEBUG: process.env.GST_DEBUG ?? '1' };
  if (!asan) return { env, preload: [] };
  const addon = join(root, 'build-asan', 'build', 'Release', 'gst_webrtc_node.node');
  if (!existsSync(addon)) throw new Error('no ASan build: run `npm run build:asan` first');
  const runtime = (name) => require('node:child_process').execFileSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  env.LD_PRELOAD = `${runtime('libasan.so')} ${runtime('libubsan.so')}`;
  env.ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:allocator_may_return_null=1:print_summary=1';
  env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';
  env.GST_WEBRTC_NODE_ADDON_PATH = addon;
  return { env, preload: ['-r', join(here, 'use-asan-addon.cjs')] };
}

/** What in a child's stderr is a finding even when it exits cleanly. */
const BAD_OUTPUT = /AddressSanitizer|LeakSanitizer|runtime error:|CRITICAL|Bail out!|ERROR:.*assertion/;

/** Runs cases in one child. Resolves { finished, index, verdict, stderr, untyped }. */
function runBatch(cases, environment, stallSeconds) {
  const folder = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-fuzz-'));
  const file = join(folder, 'cases.json');
  writeFileSync(file, JSON.stringify(cases));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...environment.preload, join(here, 'worker.cjs'), file], { env: environment.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let index = -1;
    let verdict = null;
    const untyped = [];
    let stall;
    const watchdog = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        verdict = `hang (no progress for ${stallSeconds} s)`;
        child.kill('SIGKILL');
      }, stallSeconds * 1000);
    };
    watchdog();
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      let newline;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        if (line.startsWith('begin ')) {
          index = Number(line.slice(6));
          watchdog();
        } else if (line.startsWith('hang ')) {
          verdict = `hang (${line.split(' ').slice(2).join(' ')} never settled)`;
        } else if (line.startsWith('untyped ')) {
          untyped.push(line);
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      if (stderr.length < 200_000) stderr += chunk;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(stall);
      rmSync(folder, { recursive: true, force: true });
      if (verdict === null && (signal !== null || code !== 0)) verdict = signal !== null ? `crash (${signal})` : `crash (exit code ${code})`;
      if (verdict === null && BAD_OUTPUT.test(stderr)) verdict = 'report on stderr';
      resolve({ finished: verdict === null, index, verdict, stderr, untyped });
    });
  });
}

function save(out, testCase, verdict, stderr, confirmed) {
  const hash = createHash('sha256').update(JSON.stringify(testCase)).digest('hex').slice(0, 12);
  const folder = join(out, `${testCase.kind}-${hash}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'case.json'), `${JSON.stringify(testCase, null, 2)}\n`);
  writeFileSync(join(folder, 'report.txt'), `${verdict}${confirmed ? '' : ' (did not reproduce alone: a race, or state from an earlier case of its batch)'}\n\n${stderr}`);
  return folder;
}

/** The teardown soaks, each a worker script that runs cycles for a given time. */
const SOAK_WORKERS = { 'data-channel': 'soak-data-channel.cjs', 'fan-out': 'soak-fan-out.cjs' };

/**
 * A teardown soak: fails on a crash, a hang (including a worker that does not
 * exit within a minute of its time) or a sanitizer report. The worker's
 * `note: ` lines on stderr are printed. GLib CRITICALs are printed but do not fail it: GStreamer 1.22.0's data channel teardown has a
 * known race of its own (docs/reliability.md).
 */
function soak(scenario, seconds, environment) {
  const worker = SOAK_WORKERS[scenario];
  if (worker === undefined) throw new Error(`unknown soak scenario ${scenario}: one of ${Object.keys(SOAK_WORKERS).join(', ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...environment.preload, join(here, worker), String(seconds)], { env: environment.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, (seconds + 60) * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (hung) stdout += `hang: still running ${seconds + 60} s after its start`;
      const criticals = stderr.split('\n').filter((line) => /CRITICAL/.test(line));
      const failed = code !== 0 || signal !== null || /AddressSanitizer|runtime error:/.test(stderr);
      console.log(`soak ${scenario}: ${stdout.trim() || 'no result'}${failed ? ` FAILED (${signal ?? `exit code ${code}`})` : ''}`);
      for (const line of criticals.slice(0, 5)) console.log(`  known upstream report: ${line.trim()}`);
      for (const line of stderr.split('\n').filter((l) => l.startsWith('note: ')).slice(0, 10)) console.log(`  ${line}`);
      if (failed) console.log(stderr.slice(-6000));
      resolve(!failed);
    });
  });
}

async function main() {
  const settings = options(process.argv.slice(2));
  const environment = childEnvironment(settings.asan);
  if (settings.soak > 0) process.exit((await soak(settings.scenario, settings.soak, environment)) ? 0 : 1);
  if (settings.replay !== null) {
    const testCase = JSON.parse(readFileSync(settings.replay, 'utf8'));
    const result = await runBatch([testCase], environment, settings.stallSeconds);
    console.log(result.finished ? 'no finding' : `${result.verdict}\n${result.stderr.slice(-4000)}`);
    process.exit(result.finished ? 0 : 1);
  }
  const seeds = loadSeeds();
  const deadline = Date.now() + settings.minutes * 60_000;
  let next = settings.seed;
  let executed = 0;
  const findings = [];
  const untyped = new Set();
  console.log(`fuzzing for ${settings.minutes} min from seed ${settings.seed}${settings.asan ? ' on the ASan build' : ''}; findings go to ${settings.out}`);
  while (Date.now() < deadline) {
    const cases = Array.from({ length: settings.batch }, () => generateCase(next++, seeds));
    const result = await runBatch(cases, environment, settings.stallSeconds);
    for (const line of result.untyped) untyped.add(line.split(' ').slice(2).join(' '));
    if (result.finished) {
      executed += cases.length;
      continue;
    }
    executed += Math.max(0, result.index) + 1;
    let suspect = cases[Math.max(0, result.index)];
    let alone = await runBatch([suspect], environment, settings.stallSeconds);
    // A report on stderr may come from any case before it in the batch: find the one that reproduces it.
    for (let index = 0; alone.finished && index < result.index; index++) {
      const retry = await runBatch([cases[index]], environment, settings.stallSeconds);
      if (!retry.finished) [suspect, alone] = [cases[index], retry];
    }
    const folder = save(settings.out, suspect, alone.finished ? result.verdict : alone.verdict, alone.finished ? result.stderr : alone.stderr, !alone.finished);
    findings.push({ folder, verdict: result.verdict, reproduced: !alone.finished });
    console.log(`FINDING: ${result.verdict} in ${suspect.kind} case (seed ${suspect.seed})${alone.finished ? ', not alone' : ''}: ${folder}`);
    // The rest of the batch runs again next round with fresh seeds.
  }
  console.log(`${executed} cases, ${findings.length} finding(s), ${untyped.size} distinct untyped error(s)`);
  for (const line of [...untyped].slice(0, 20)) console.log(`  untyped: ${line}`);
  process.exit(findings.length === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
