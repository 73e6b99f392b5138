// How long renderMarkdown takes on hostile input, by shape and size. Run with
// `npm run bench`; the numbers are recorded in docs/PERFORMANCE.md. A linear renderer
// takes about twice as long for twice the input; the table printed at the end ends with
// the ratio of the two largest sizes, which stays near 2 (4 or more means quadratic).
//
// HEARTH_BENCH_KB=10,40 limits the sizes (the default is 10, 40, 80 and 160 KB);
// HEARTH_BENCH_RUNS sets the timed runs per size (default 2) and HEARTH_BENCH_WARMUP the
// untimed runs before them (default 1).

import { afterAll, bench, describe } from 'vitest'
import { renderMarkdown } from '../src/lib/markdown'
import { BENCH_SIZES, HOSTILE_SHAPES } from '../src/test/hostile-markdown'

/** The environment, without pulling Node's types into the app's type check. */
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {}

const sizes: number[] = env.HEARTH_BENCH_KB
  ? env.HEARTH_BENCH_KB.split(',').map((kb) => Number(kb) * 1024)
  : BENCH_SIZES

const runs = Number(env.HEARTH_BENCH_RUNS ?? 2)
const warmups = Number(env.HEARTH_BENCH_WARMUP ?? 1)

/** Fastest time seen per shape and size, in milliseconds. */
const fastest = new Map<string, Map<number, number>>()

function record(shape: string, bytes: number, ms: number): void {
  const row = fastest.get(shape) ?? new Map<number, number>()
  row.set(bytes, Math.min(row.get(bytes) ?? Infinity, ms))
  fastest.set(shape, row)
}

for (const shape of HOSTILE_SHAPES) {
  describe(shape.name, () => {
    for (const bytes of sizes) {
      const source = shape.make(bytes)
      bench(
        `${bytes / 1024} KB`,
        () => {
          const start = performance.now()
          renderMarkdown(source)
          record(shape.name, bytes, performance.now() - start)
        },
        // Few runs each: in jsdom an element-heavy 160 KB document takes seconds.
        { iterations: runs, time: 0, warmupIterations: warmups, warmupTime: 0 },
      )
    }
  })
}

afterAll(() => {
  const header = ['shape', ...sizes.map((bytes) => `${bytes / 1024} KB`), 'last/previous']
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`]
  for (const [shape, row] of fastest) {
    const times = sizes.map((bytes) => row.get(bytes) ?? NaN)
    const ratio = times.length > 1 ? (times[times.length - 1] / times[times.length - 2]).toFixed(1) : '-'
    lines.push(`| ${shape} | ${times.map((ms) => `${ms.toFixed(0)} ms`).join(' | ')} | ${ratio} |`)
  }
  console.log(`\nrenderMarkdown, fastest of the runs:\n${lines.join('\n')}\n`)
})
