#!/usr/bin/env node
// Runs every uvu test file in its own Node process (a leaked socket or timer in one
// file cannot hang or skew another), a few at a time, and ends with one plain line
// `N passed, N failed` that CI reads. Usage: node bin/run-tests.js [path-prefix...]
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, statSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const perFileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 240_000)
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2)
const prefixes = process.argv.slice(2)

function findTests (dir) {
  const found = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) found.push(...findTests(path))
    else if (name.endsWith('.test.ts')) found.push(path)
  }
  return found
}

const files = findTests(join(root, 'test'))
  .map((path) => relative(root, path))
  .filter((path) => prefixes.length === 0 || prefixes.some((prefix) => path.startsWith(prefix)))
  .sort()

// System tools some tests drive (`// test-needs: ping iperf3` in the file). As root with
// apt-get they are installed first; otherwise a file that needs a missing one is skipped
// and counted, except under CI=true, where a missing tool fails the file.
const packages = { ip: 'iproute2', ping: 'iputils-ping', iperf3: 'iperf3', nft: 'nftables', chromium: 'chromium', turnserver: 'coturn' }
const needs = (file) => (/^\/\/ test-needs: (.+)$/m.exec(readFileSync(join(root, file), 'utf8'))?.[1] ?? '').split(/\s+/).filter(Boolean)
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0
const wanted = [...new Set(files.flatMap(needs))]
let missing = wanted.filter((tool) => !has(tool))
if (missing.length > 0 && process.getuid?.() === 0 && has('apt-get')) {
  const names = missing.map((tool) => packages[tool] ?? tool)
  process.stdout.write(`installing the system tools these tests need: ${names.join(' ')} (apt-get)\n`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { stdio: 'ignore', env })
  missing = missing.filter((tool) => !has(tool))
}
const ci = process.env.CI === 'true' || process.env.CI === '1'
const skippedFiles = ci ? [] : files.filter((file) => needs(file).some((tool) => missing.includes(tool)))
for (const file of skippedFiles) process.stdout.write(`skip ${file}  (needs ${needs(file).filter((tool) => missing.includes(tool)).join(', ')})\n`)

function count (label, text) {
  const match = text.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))
  return match == null ? null : Number(match[1])
}

function runFile (file) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true
    })
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    child.stderr.on('data', (chunk) => { output += chunk })
    const timer = setTimeout(() => {
      output += `\n[run-tests] ${file} timed out after ${perFileTimeoutMs} ms\n`
      try { process.kill(-child.pid, 'SIGKILL') } catch { /* the group exited already */ }
    }, perFileTimeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      const total = count('Total', output)
      const passed = count('Passed', output)
      const skipped = count('Skipped', output) ?? 0
      let failed = total == null || passed == null ? 1 : total - passed - skipped
      if (code !== 0 && failed === 0) failed = 1
      resolve({ file, passed: passed ?? 0, failed, skipped, ms: Date.now() - started, output, code })
    })
  })
}

// A file that saturates the machine (e.g. the 2 GiB transfer) says `// test-runner: solo`
// and runs after the others, alone, so it cannot starve their timeouts.
const isSolo = (file) => readFileSync(join(root, file), 'utf8').includes('// test-runner: solo')
const results = []
const runnable = files.filter((file) => !skippedFiles.includes(file))
const queue = runnable.filter((file) => !isSolo(file))
const soloQueue = runnable.filter(isSolo)
async function worker () {
  while (queue.length > 0) {
    const result = await runFile(queue.shift())
    results.push(result)
    const mark = result.failed > 0 ? 'FAIL' : 'ok  '
    process.stdout.write(`${mark} ${result.file}  ${result.passed} passed, ${result.failed} failed (${(result.ms / 1000).toFixed(1)} s)\n`)
    if (result.failed > 0) process.stdout.write(result.output.replace(/^/gm, '    ') + '\n')
  }
}
await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
queue.push(...soloQueue)
await worker()

const passed = results.reduce((sum, r) => sum + r.passed, 0)
const failed = results.reduce((sum, r) => sum + r.failed, 0)
if (files.length === 0) process.stdout.write('no test files found\n')
if (skippedFiles.length > 0) process.stdout.write(`${skippedFiles.length} test file(s) skipped: missing ${missing.join(', ')} (install them, or run as root with apt-get)\n`)
process.stdout.write(`${passed} passed, ${failed} failed${skippedFiles.length > 0 ? `, ${skippedFiles.length} files skipped` : ''}\n`)
process.exit(failed > 0 || files.length === 0 ? 1 : 0)
