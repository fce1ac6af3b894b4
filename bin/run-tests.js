#!/usr/bin/env node
// Runs every uvu test file in its own Node process (a leaked socket or timer in one
// file cannot hang or skew another), a few at a time, and ends with one plain line
// `N passed, N failed` that CI reads. Usage: node bin/run-tests.js [path-prefix...]
import { spawn } from 'node:child_process'
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
      try { process.kill(-child.pid, 'SIGKILL') } catch {}
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
const queue = files.filter((file) => !isSolo(file))
const soloQueue = files.filter(isSolo)
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
process.stdout.write(`${passed} passed, ${failed} failed\n`)
process.exit(failed > 0 || files.length === 0 ? 1 : 0)
