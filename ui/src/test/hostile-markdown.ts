// Markdown shapes that make naive parsers backtrack: each is one short unit repeated until
// the document reaches the requested size. The benchmark (bench/markdown.bench.ts) times
// them at several sizes; markdown.test.ts checks they render safely and keep their text.

/** One hostile shape: a name for reports and a generator for a document of about `bytes` bytes. */
export interface HostileShape {
  name: string
  make: (bytes: number) => string
}

/** `unit` repeated until the result is at least `bytes` long, then cut to exactly `bytes`. */
function repeatTo(unit: string, bytes: number): string {
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes)
}

/** `unit` repeated, then `closing` (counted in the size). */
function repeatThen(unit: string, closing: string, bytes: number): string {
  return repeatTo(unit, Math.max(0, bytes - closing.length)) + closing
}

export const HOSTILE_SHAPES: HostileShape[] = [
  { name: '_a (underscore emphasis openers)', make: (n) => repeatTo('_a', n) },
  { name: '*a (star emphasis openers)', make: (n) => repeatTo('*a', n) },
  { name: '**a (strong openers)', make: (n) => repeatTo('**a', n) },
  { name: '*a** (mismatched runs)', make: (n) => repeatTo('*a**', n) },
  { name: '~~a (strikethrough openers)', make: (n) => repeatTo('~~a', n) },
  { name: '[ (open brackets)', make: (n) => repeatTo('[', n) },
  { name: '[a]( (unclosed link destinations)', make: (n) => repeatTo('[a](', n) },
  { name: '![a (unclosed images)', make: (n) => repeatTo('![a', n) },
  { name: '[a][ (unclosed references)', make: (n) => repeatTo('[a][', n) },
  { name: '` backtick runs of growing length', make: (n) => growingBackticks(n) },
  { name: '`a (unclosed code spans)', make: (n) => repeatTo('`a', n) },
  { name: '< (open angle brackets)', make: (n) => repeatTo('<', n) },
  { name: '<a (unclosed tags)', make: (n) => repeatTo('<a ', n) },
  { name: '<!-- (unclosed comments)', make: (n) => repeatTo('<!--a', n) },
  { name: '> nested quotes', make: (n) => repeatThen('>', ' a', n) },
  { name: '- nested list markers', make: (n) => repeatThen('- ', 'a', n) },
  { name: 'deep indented list', make: (n) => deepList(n) },
  { name: 'long table', make: (n) => '| a | b |\n|---|---|\n' + repeatTo('| a | b |\n', n - 20) },
  { name: 'wide table', make: (n) => wideTable(n) },
  { name: 'www. (linkify candidates)', make: (n) => repeatTo('www.a', n) },
  { name: 'a@a. (email candidates)', make: (n) => repeatTo('a@a.', n) },
  { name: '\\ escapes', make: (n) => repeatTo('\\*\\[a', n) },
]

/** `a` then backtick runs of length 1, 2, 3...: each run looks for a closer of its own length. */
function growingBackticks(bytes: number): string {
  let out = ''
  for (let run = 1; out.length < bytes; run++) out += 'a' + '`'.repeat(run)
  return out.slice(0, bytes)
}

/** A list nested one level deeper on each line, until the size is reached. */
function deepList(bytes: number): string {
  let out = ''
  for (let depth = 0; out.length < bytes; depth++) out += '  '.repeat(depth % 400) + '- a\n'
  return out.slice(0, bytes)
}

/** One header row with as many columns as fit, a delimiter row, and one body row. */
function wideTable(bytes: number): string {
  const columns = Math.max(1, Math.floor(bytes / 12))
  return `${'|a'.repeat(columns)}|\n${'|-'.repeat(columns)}|\n${'|b'.repeat(columns)}|\n`
}

/** The sizes the benchmark runs, in bytes. */
export const BENCH_SIZES = [10, 40, 80, 160].map((kb) => kb * 1024)
