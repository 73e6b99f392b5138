// Tests for the untrusted-markdown renderer: every hostile input must come
// out without script, without a non-web link and without anything that loads.

import DOMPurify from 'dompurify'
import { describe, expect, it } from 'vitest'
import { HOSTILE_SHAPES } from '../test/hostile-markdown'
import { MAX_ELEMENTS, MAX_HIGHLIGHTED_CODE, renderMarkdown, sanitizeHtml } from './markdown'

const HTML_NS = 'http://www.w3.org/1999/xhtml'

/** Elements that can run script, load something, submit, or escape the HTML namespace. */
const FORBIDDEN_ELEMENTS = new Set([
  'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input',
  'button', 'textarea', 'select', 'svg', 'math', 'base', 'meta', 'link', 'img', 'picture', 'source',
  'video', 'audio', 'track', 'image', 'template', 'noscript', 'noembed', 'noframes', 'xmp',
  'portal', 'dialog', 'marquee',
])

/** Attributes that load a resource, execute, restyle or retarget. Names starting with `on` are checked separately. */
const FORBIDDEN_ATTRIBUTES = new Set([
  'style', 'srcdoc', 'src', 'srcset', 'poster', 'background', 'action', 'formaction', 'xlink:href',
  'lowsrc', 'dynsrc', 'data', 'ping', 'codebase', 'archive', 'manifest', 'target', 'usemap',
])

const WEB_HREF = /^(?:https?|mailto):/i
const LINK_REL = ['noopener', 'noreferrer', 'nofollow']

/** Parses `html` as the chat view will (innerHTML of a div), in an inert document. */
function parse(html: string): HTMLDivElement {
  const doc = document.implementation.createHTMLDocument('')
  const root = doc.createElement('div')
  root.innerHTML = html
  return root
}

/** Every way `html` breaks the renderer's promises; empty when it is safe. */
function violations(html: string): string[] {
  const found: string[] = []
  for (const el of parse(html).querySelectorAll('*')) {
    const tag = el.localName
    if (FORBIDDEN_ELEMENTS.has(tag)) found.push(`<${tag}> element`)
    if (el.namespaceURI !== HTML_NS) found.push(`<${tag}> in namespace ${el.namespaceURI}`)
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on')) found.push(`${name} handler on <${tag}>`)
      if (FORBIDDEN_ATTRIBUTES.has(name)) found.push(`${name}= on <${tag}>`)
      if (name === 'href' && !WEB_HREF.test(attr.value)) found.push(`non-web href ${JSON.stringify(attr.value)}`)
    }
    if (el.hasAttribute('href')) {
      const rel = (el.getAttribute('rel') ?? '').split(/\s+/)
      if (!LINK_REL.every((word) => rel.includes(word))) found.push(`link without rel=${LINK_REL.join(' ')}`)
      if (!el.hasAttribute('data-external-link')) found.push('link without data-external-link')
    }
  }
  return found
}

function expectSafe(html: string): void {
  expect(violations(html), html).toEqual([])
}

/** Renders markdown and parses the result, after checking it is safe. */
function render(source: string): HTMLDivElement {
  const html = renderMarkdown(source)
  expectSafe(html)
  return parse(html)
}

describe('the safety check itself', () => {
  it.each([
    ['script', '<script>alert(1)</script>'],
    ['img with remote src', '<img src="https://evil.example/p.png">'],
    ['event handler', '<p onclick="alert(1)">x</p>'],
    ['upper-case event handler', '<p ONMOUSEOVER="alert(1)">x</p>'],
    ['javascript link', '<a href="javascript:alert(1)" rel="noopener noreferrer nofollow" data-external-link>x</a>'],
    ['custom-scheme link', '<a href="tauri://localhost" rel="noopener noreferrer nofollow" data-external-link>x</a>'],
    ['relative link', '<a href="/etc/passwd" rel="noopener noreferrer nofollow" data-external-link>x</a>'],
    ['web link without rel', '<a href="https://ok.example/" data-external-link>x</a>'],
    ['web link without marker', '<a href="https://ok.example/" rel="noopener noreferrer nofollow">x</a>'],
    ['target', '<a href="https://ok.example/" rel="noopener noreferrer nofollow" data-external-link target="_blank">x</a>'],
    ['style attribute', '<p style="background:url(https://evil.example/p.png)">x</p>'],
    ['svg', '<svg></svg>'],
    ['srcdoc', '<iframe srcdoc="<p>x</p>"></iframe>'],
    ['poster', '<video poster="https://evil.example/p.png"></video>'],
    ['background', '<table background="https://evil.example/p.png"></table>'],
    ['srcset on a harmless tag', '<span srcset="https://evil.example/p.png 1x">x</span>'],
  ])('flags %s', (_, html) => {
    expect(violations(html)).not.toEqual([])
  })

  it('accepts plain markup and a properly marked web link', () => {
    expect(
      violations('<p>ok <a href="https://ok.example/" rel="noopener noreferrer nofollow" data-external-link="">x</a></p>'),
    ).toEqual([])
  })
})

/** Hostile sources: raw HTML tricks, URL obfuscations, markdown constructs. */
const CORPUS: Array<[string, string]> = [
  ['script', '<script>alert(1)</script>'],
  ['script with remote src', '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>'],
  ['script split over lines', '<scr\nipt>alert(1)</script>'],
  ['img onerror', '<img src=x onerror=alert(1)>'],
  ['img onerror, quoted', '<img src="x" onerror="alert(1)">'],
  ['img with remote src', '<img src="https://evil.example/p.png" alt="a">'],
  ['img srcset', '<img srcset="https://evil.example/p.png 1x, https://evil.example/q.png 2x">'],
  ['picture/source', '<picture><source srcset="https://evil.example/p.png"><img alt="x"></picture>'],
  ['video poster', '<video poster="https://evil.example/p.png" src="https://evil.example/v.mp4"></video>'],
  ['audio', '<audio src="https://evil.example/a.mp3" autoplay></audio>'],
  ['table background', '<table background="https://evil.example/p.png"><tr><td>x</td></tr></table>'],
  ['body background', '<body background="https://evil.example/p.png">x</body>'],
  ['input type=image', '<input type="image" src="https://evil.example/p.png">'],
  ...['a', 'p', 'div', 'span', 'b', 'body', 'table', 'td', 'details', 'marquee', 'select', 'textarea', 'button', 'video', 'h1', 'li', 'blockquote', 'code', 'pre', 'x-custom'].map(
    (tag): [string, string] => [
      `event handlers on <${tag}>`,
      `<${tag} onmouseover="alert(1)" onclick=alert(1) ONFOCUS=alert(1) autofocus ontoggle=alert(1) open onstart=alert(1)>x</${tag}>`,
    ],
  ),
  ...['javascript', 'JAVASCRIPT', 'JaVaScRiPt', 'jAvAsCrIpT'].flatMap((scheme): Array<[string, string]> => [
    [`${scheme}: markdown link`, `[x](${scheme}:alert(1))`],
    [`${scheme}: html link`, `<a href="${scheme}:alert(1)">x</a>`],
    [`${scheme}: autolink`, `<${scheme}:alert(1)>`],
    [`${scheme}: reference link`, `[x][r]\n\n[r]: ${scheme}:alert(1)`],
  ]),
  ['decimal entity scheme (markdown)', '[x](&#106;avascript:alert(1))'],
  ['hex entity scheme (markdown)', '[x](&#x6A;avascript:alert(1))'],
  ['zero-padded entities (markdown)', '[x](&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1))'],
  ['tab entity inside scheme (markdown)', '[x](jav&#x09;ascript:alert(1))'],
  ['newline entity inside scheme (markdown)', '[x](jav&#x0A;ascript:alert(1))'],
  ['colon entity (markdown)', '[x](javascript&colon;alert(1))'],
  ['decimal entity scheme (html)', '<a href="&#106;avascript:alert(1)">x</a>'],
  ['tab entity inside scheme (html)', '<a href="jav&#x09;ascript:alert(1)">x</a>'],
  ['newline entity inside scheme (html)', '<a href="jav&#x0A;ascript:alert(1)">x</a>'],
  ['carriage return entity inside scheme (html)', '<a href="jav&#x0D;ascript:alert(1)">x</a>'],
  ['named Tab entity (html)', '<a href="java&Tab;script:alert(1)">x</a>'],
  ['colon entity (html)', '<a href="javascript&colon;alert(1)">x</a>'],
  ['leading spaces (html)', '<a href="   javascript:alert(1)">x</a>'],
  ['leading newline (html)', '<a href="\njavascript:alert(1)">x</a>'],
  ['leading control character (html)', '<a href="\x01javascript:alert(1)">x</a>'],
  ['leading control entity (html)', '<a href="&#x01;&#x1F;javascript:alert(1)">x</a>'],
  ['NUL inside scheme (html)', '<a href="java\0script:alert(1)">x</a>'],
  ['leading control character (markdown)', '[x](\x01javascript:alert(1))'],
  ['angle-bracket destination with spaces', '[x](< javascript:alert(1)>)'],
  ['data:text/html markdown link', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
  ['data:text/html html link', '<a href="data:text/html,<script>alert(1)</script>">x</a>'],
  ['vbscript', '[x](vbscript:msgbox(1))'],
  ['file', '[x](file:///etc/passwd)'],
  ['tauri scheme', '[x](tauri://localhost/index.html)'],
  ['ipc scheme', '[x](ipc://localhost/plugin:opener|open_url)'],
  ['asset scheme', '[x](asset://localhost/etc/passwd)'],
  ['relative path', '[x](/etc/passwd)'],
  ['protocol-relative', '[x](//evil.example/x)'],
  ['fragment', '[x](#top)'],
  ['query', '[x](?q=1)'],
  ['bare word', '[x](evil)'],
  ['svg onload', '<svg onload=alert(1)>'],
  ['svg script', '<svg><script>alert(1)</script></svg>'],
  ['svg xlink', '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">x</text></a></svg>'],
  ['svg animate href', '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>'],
  ['svg use remote', '<svg><use href="https://evil.example/s.svg#x"/></svg>'],
  ['svg image remote', '<svg><image href="https://evil.example/p.png"/></svg>'],
  ['iframe srcdoc', '<iframe srcdoc="<script>alert(1)</script>"></iframe>'],
  ['iframe src', '<iframe src="https://evil.example/"></iframe>'],
  ['object', '<object data="https://evil.example/x.swf"></object>'],
  ['embed', '<embed src="https://evil.example/x.swf">'],
  ['form action', '<form action="javascript:alert(1)"><button>go</button></form>'],
  ['formaction', '<button formaction="javascript:alert(1)">x</button>'],
  ['math href', '<math href="javascript:alert(1)"><mi>x</mi></math>'],
  ['math maction', '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>'],
  ['math mglyph style', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>'],
  ['style element', '<style>body{background:url(https://evil.example/p.png)}</style>'],
  ['style import', '<style>@import "https://evil.example/x.css";</style>'],
  ['style attribute url', '<p style="background:url(https://evil.example/p.png)">x</p>'],
  ['style attribute javascript url', '<div style="background-image: url(javascript:alert(1))">x</div>'],
  ['link stylesheet', '<link rel="stylesheet" href="https://evil.example/x.css">'],
  ['meta refresh', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
  ['base', '<base href="https://evil.example/">'],
  ['markdown image', '![a](https://evil.example/x.png)'],
  ['markdown image with title', '![a](https://evil.example/x.png "t")'],
  ['reference-style image', '![a][r]\n\n[r]: https://evil.example/y.png'],
  ['collapsed reference image', '![r][]\n\n[r]: https://evil.example/y.png'],
  ['shortcut reference image', '![r]\n\n[r]: https://evil.example/y.png'],
  ['data: image', '![a](data:image/png;base64,iVBORw0KGgo=)'],
  ['data: svg image', '![a](data:image/svg+xml,<svg onload=alert(1)>)'],
  ['javascript: image', '![a](javascript:alert(1))'],
  ['relative image', '![a](/x.png)'],
  ['image inside link', '[![a](https://evil.example/x.png)](https://ok.example/)'],
  ['image alt with markup', '![<img src=x onerror=alert(1)>](https://evil.example/x.png)'],
  ['raw image inside markdown link', '[<img src=x onerror=alert(1)>](https://ok.example/)'],
  ['html comment', '<!-- <img src=x onerror=alert(1)> -->'],
  ['comment closed early', '<!--><img src=x onerror=alert(1)>-->'],
  ['conditional comment', '<!--[if gte IE 4]><script>alert(1)</script><![endif]-->'],
  ['CDATA', '<![CDATA[<img src=x onerror=alert(1)>]]>'],
  ['processing instruction', '<?xml version="1.0"?><img src=x onerror=alert(1)>'],
  ['noscript mutation', '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'],
  ['svg style mutation', '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">'],
  ['math form mutation', '<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>'],
  ['textarea mutation', '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>">'],
  ['template', '<template><img src=x onerror=alert(1)></template>'],
  ['xmp', '<xmp><img src=x onerror=alert(1)></xmp>'],
  ['fence language injection', '```" onmouseover="alert(1)\nx\n```'],
  ['fence language markup', '```<img src=x onerror=alert(1)>\nx\n```'],
  ['fence language class escape', '```js" class="x\nconst a = 1\n```'],
  ['code that looks like html', '```html\n<script>alert(1)</script><img src=x onerror=alert(1)>\n```'],
  ['link title injection', '[x](https://ok.example/ "\\" onmouseover=\\"alert(1)")'],
  ['task list', '- [x] done <img src=x onerror=alert(1)>\n- [ ] open'],
  ['table cell html', '| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <a href="javascript:alert(1)">x</a> |'],
  ['NUL bytes', '\0<script>\0alert(1)</script>\0'],
  ['deep blockquotes', `${'>'.repeat(500)} <img src=x onerror=alert(1)>`],
  ['many brackets', '['.repeat(2000) + '](javascript:alert(1))'],
  ['many emphasis markers', '*'.repeat(2000) + '<img src=x onerror=alert(1)>'],
  ['partial: open fence', "```js\nconst a = '<script>"],
  ['partial: link destination', '[click](javascript:al'],
  ['partial: image destination', '![img](https://evil.example/x.p'],
  ['partial: tag', '<img src=x onerr'],
  ['partial: table', '| a | b |\n|---|'],
  ['partial: bold link', '**bold [link](https://a.example'],
  ['partial: open comment', '<!-- <script>'],
  ['partial: href attribute', '<a href="javascript:'],
]

describe.each([
  ['renderMarkdown', renderMarkdown],
  // The sanitizer alone, fed raw HTML: the defence must hold even if the
  // markdown layer stopped escaping raw HTML.
  ['sanitizeHtml', sanitizeHtml],
])('%s on hostile input', (_, fn) => {
  it.each(CORPUS)('%s', (_, source) => {
    expectSafe(fn(source))
  })
})

describe('streaming', () => {
  const documents = [
    'Here is a [link](https://ok.example/a) and ![img](https://evil.example/x.png).\n\n' +
      '[bad](JaVaScRiPt:alert(1)) <javascript:alert(1)> <img src=x onerror=alert(1)>\n\n' +
      '```html\n<script>alert(1)</script>\n```\n\n| a | b |\n|---|---|\n| <svg onload=alert(1)> | ok |\n',
    '![a][r] and [b][s]\n\n[r]: https://evil.example/y.png\n[s]: jav&#x09;ascript:alert(1)\n\n' +
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>">\n\n- [x] <iframe srcdoc="<script>alert(1)</script>">',
    '<a href="&#106;avascript:alert(1)">x</a> <form action=javascript:alert(1)><input></form> ' +
      '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)> <p style="background:url(https://evil.example/p.png)">',
  ]

  it.each(documents.map((doc, i): [number, string] => [i, doc]))('every prefix of document %i is safe', (_, doc) => {
    for (let end = 0; end <= doc.length; end++) {
      const prefix = doc.slice(0, end)
      expect(violations(renderMarkdown(prefix)), prefix).toEqual([])
    }
    // Hundreds of renders, each a jsdom document for DOMPurify: seconds on a busy machine.
  }, 60_000)

  it('random concatenations of hostile fragments are safe', () => {
    const fragments = [
      '<', '>', '"', "'", '(', ')', '[', ']', '![', '](', '\n', '\n\n', ' ', '`', '```', '```js\n', '*', '|',
      'javascript:', 'JaVaScRiPt:', '&#106;', '&#x09;', '&colon;', 'data:text/html,', 'https://evil.example/p.png',
      'img', 'src=', 'x', 'onerror=alert(1)', 'svg', 'script', '/', '<!--', '-->', '<![CDATA[', 'style=',
      'url(https://evil.example/p.png)', '[r]: ', '![a][r]', 'mailto:a@b.example', '\x01', 'noscript', 'title="',
    ]
    // A fixed-seed generator (mulberry32), so a failure reproduces.
    let seed = 0x5eed
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    for (let doc = 0; doc < 400; doc++) {
      let source = ''
      const length = 1 + Math.floor(random() * 30)
      for (let i = 0; i < length; i++) source += fragments[Math.floor(random() * fragments.length)]
      expect(violations(renderMarkdown(source)), source).toEqual([])
      expect(violations(sanitizeHtml(source)), source).toEqual([])
    }
    // 800 renders: seconds on a busy machine, so a longer limit than the default 5 s.
  }, 180_000)
})

describe('pathological shapes', () => {
  /** Letters and digits only: what no markdown reading may drop, whatever it makes of the punctuation. */
  const words = (text: string): string => text.replace(/[^A-Za-z0-9]/g, '')

  // The same shapes the benchmark times, at a size that is quick in jsdom. Deep nesting
  // here is past the renderer's limit, so it also covers the plain-text fallback.
  it.each(HOSTILE_SHAPES.map((shape): [string, string] => [shape.name, shape.make(4 * 1024)]))(
    '%s renders safely and keeps its text',
    (_, source) => {
      const root = render(source)
      expect(words(root.textContent ?? '')).toBe(words(source))
    },
    60_000,
  )

  it('shows a document nested past the limit as its text, line breaks kept', () => {
    const source = `${'>'.repeat(300)} deep\nsecond <img src=x onerror=alert(1)>`
    const root = render(source)
    expect(root.querySelector('blockquote')).toBeNull()
    expect(root.querySelector('br')).not.toBeNull()
    expect(root.textContent).toContain('deep')
    expect(root.textContent).toContain('second <img src=x onerror=alert(1)>')
  })
})

describe('element budget', () => {
  it('shows a document that would make too many elements as its text', () => {
    // Below the budget each `*a*` is an <em>; one past it, the whole reply is text.
    expect(render('*a* '.repeat(100)).querySelectorAll('em')).toHaveLength(100)
    const source = '*a* '.repeat(MAX_ELEMENTS) + '<img src=x onerror=alert(1)>'
    const root = render(source)
    expect(root.querySelector('em')).toBeNull()
    expect(root.querySelector('img')).toBeNull()
    expect(root.textContent).toContain('*a* *a*')
    expect(root.textContent).toContain('<img src=x onerror=alert(1)>')
  })

  it('keeps the markup of a long real table below the budget', () => {
    const rows = Array.from({ length: 500 }, (_, i) => `| ${i} | item ${i} | **${i * 2}** |`)
    const root = render(`| n | name | double |\n|---|---|---|\n${rows.join('\n')}`)
    expect(root.querySelectorAll('tbody tr')).toHaveLength(500)
    expect(root.querySelectorAll('strong')).toHaveLength(500)
  })

  it('shows code past the highlighting limit escaped, without colours', () => {
    const code = 'let x = "<b>";\n'.repeat(Math.ceil(MAX_HIGHLIGHTED_CODE / 15) + 1)
    const root = render('```js\n' + code + '```')
    const block = root.querySelector('pre code')
    expect(block?.querySelector('span')).toBeNull()
    expect(block?.querySelector('b')).toBeNull()
    expect(block?.textContent).toBe(code.replace(/\n$/, ''))
    // A short block is still highlighted.
    expect(render('```js\nlet x = 1\n```').querySelector('pre code span')).not.toBeNull()
  })
})

describe('robustness', () => {
  it('never throws, whatever it is given', () => {
    expect(renderMarkdown('')).toBe('')
    expect(renderMarkdown(undefined as unknown as string)).toBe('')
    expect(parse(renderMarkdown(42 as unknown as string)).textContent?.trim()).toBe('42')
    expect(() => renderMarkdown('\uD800 lone surrogate \uDFFF')).not.toThrow()
  })

  it('output is stable under a second pass (no re-parse surprises)', () => {
    const sources = [POSITIVE_DOCUMENT, ...CORPUS.map(([, source]) => source)]
    for (const source of sources) {
      const once = renderMarkdown(source)
      expect(parse(sanitizeHtml(once)).isEqualNode(parse(once)), source).toBe(true)
    }
  }, 60_000)

  it('keeps its hooks off the shared DOMPurify instance', () => {
    renderMarkdown('![a](https://evil.example/x.png)')
    expect(DOMPurify.sanitize('<img src="https://example.com/p.png">')).toContain('<img')
  })
})

const POSITIVE_DOCUMENT = [
  '# Title',
  '## Subtitle',
  '',
  'Some **bold**, *em*, ~~gone~~ and `inline <b>code</b>`.',
  '',
  '- one',
  '- two',
  '',
  '3. three',
  '4. four',
  '',
  '> quoted',
  '',
  '| Left | Right |',
  '|:-----|------:|',
  '| a    | 1     |',
  '',
  '```rust',
  'fn main() { println!("<hi>"); }',
  '```',
].join('\n')

describe('normal markdown', () => {
  it('renders headings, emphasis, lists, quotes and tables', () => {
    const root = render(POSITIVE_DOCUMENT)
    expect(root.querySelector('h1')?.textContent).toBe('Title')
    expect(root.querySelector('h2')?.textContent).toBe('Subtitle')
    expect(root.querySelector('strong')?.textContent).toBe('bold')
    expect(root.querySelector('em')?.textContent).toBe('em')
    expect(root.querySelector('del')?.textContent).toBe('gone')
    expect([...root.querySelectorAll('ul > li')].map((li) => li.textContent)).toEqual(['one', 'two'])
    expect(root.querySelector('ol')?.getAttribute('start')).toBe('3')
    expect(root.querySelector('blockquote')?.textContent?.trim()).toBe('quoted')
    expect([...root.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['Left', 'Right'])
    expect(root.querySelector('td')?.textContent?.trim()).toBe('a')
    expect(root.querySelectorAll('th')[1]?.getAttribute('align')).toBe('right')
  })

  it('keeps inline code as text', () => {
    const code = render('use `<b>code</b>` here').querySelector('code')
    expect(code?.textContent).toBe('<b>code</b>')
    expect(code?.querySelector('b')).toBeNull()
  })

  it('highlights fenced code and marks it for a copy button', () => {
    const root = render(POSITIVE_DOCUMENT)
    const pre = root.querySelector('pre[data-code]')
    expect(pre?.getAttribute('data-lang')).toBe('rust')
    const code = pre?.querySelector('code')
    expect(code?.classList.contains('hljs')).toBe(true)
    expect(code?.classList.contains('language-rust')).toBe(true)
    expect(code?.querySelector('span.hljs-keyword')?.textContent).toBe('fn')
    // What a copy button will read: exactly the source, markup-free.
    expect(code?.textContent).toBe('fn main() { println!("<hi>"); }')
  })

  it('keeps html in a code block as visible text', () => {
    const code = render('```html\n<script>alert(1)</script>\n```').querySelector('pre[data-code] code')
    expect(code?.textContent).toBe('<script>alert(1)</script>')
    expect(code?.querySelector('span[class^="hljs-"]')).not.toBeNull()
  })

  it('shows code in an unknown language unhighlighted', () => {
    const code = render('```brainfuck\n+[-->+<]\n```').querySelector('pre[data-code] code')
    expect(code?.className).toBe('hljs language-brainfuck')
    expect(code?.querySelector('span')).toBeNull()
    expect(code?.textContent).toBe('+[-->+<]')
  })

  it('renders task lists without form controls', () => {
    const root = render('- [x] done\n- [ ] open')
    expect(root.querySelector('input')).toBeNull()
    expect([...root.querySelectorAll('[data-task]')].map((s) => s.getAttribute('data-task'))).toEqual(['done', 'open'])
  })

  it('shows raw html as the text the model wrote', () => {
    const root = render('<b>hi</b> and <img src="https://evil.example/p.png">')
    expect(root.querySelector('b')).toBeNull()
    expect(root.textContent).toContain('<b>hi</b>')
    expect(root.textContent).toContain('<img src="https://evil.example/p.png">')
  })
})

describe('links', () => {
  it('keeps an https link, with rel and the external-link marker, and no target', () => {
    const a = render('[docs](https://example.com/docs?q=1 "Docs")').querySelector('a')
    expect(a?.getAttribute('href')).toBe('https://example.com/docs?q=1')
    expect(a?.getAttribute('rel')).toBe('noopener noreferrer nofollow')
    expect(a?.hasAttribute('data-external-link')).toBe(true)
    expect(a?.hasAttribute('target')).toBe(false)
    expect(a?.getAttribute('title')).toBe('Docs')
    expect(a?.textContent).toBe('docs')
  })

  it('keeps http links and autolinks', () => {
    const links = [...render('[a](http://localhost:8080/x) <https://example.org> www.example.net').querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'http://localhost:8080/x',
      'https://example.org/',
      'http://www.example.net/',
    ])
  })

  it('keeps mailto links, written out or autolinked', () => {
    const links = [...render('[mail](mailto:someone@example.com) and other@example.org').querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['mailto:someone@example.com', 'mailto:other@example.org'])
    expect(links.every((a) => a.hasAttribute('data-external-link'))).toBe(true)
  })

  it.each([
    ['mailto:a@b.c?attach=~/.ssh/id_rsa', 'mailto:a@b.c'],
    [
      'mailto:a@b.c?cc=spy@evil.example&Subject=Hi%20there&attach=/etc/passwd&bcc=x@evil.example&body=Line%0Aone&to=more@evil.example#frag',
      'mailto:a@b.c?subject=Hi%20there&body=Line%0Aone',
    ],
    ['mailto:a@b.c?subject=one&subject=two', 'mailto:a@b.c?subject=one'],
    ['mailto:a@b.c?%61ttach=/etc/passwd', 'mailto:a@b.c'],
  ])('keeps only the recipients, subject and body of %s', (href, kept) => {
    const a = render(`[mail](${href})`).querySelector('a')
    expect(a?.getAttribute('href')).toBe(kept)
    expect(a?.hasAttribute('data-external-link')).toBe(true)
  })

  it.each([
    'mailto:a@b.c%3Fattach=/etc/passwd',
    'mailto:a@b.c%26attach=/etc/passwd',
    'mailto:a@b.c%0D%0ABcc:%20x@evil.example',
    'mailto:a@b.c%zz',
  ])('drops a mailto whose recipients smuggle fields: %s', (href) => {
    const html = sanitizeHtml(`<a href="${href}">mail</a>`)
    const a = parse(html).querySelector('a')
    expect(a?.hasAttribute('href')).toBe(false)
    expect(a?.hasAttribute('data-external-link')).toBe(false)
  })

  it.each([
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    '&#106;avascript:alert(1)',
    'data:text/html,hi',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'tauri://localhost/',
    'ipc://localhost/cmd',
    '/relative/path',
    '#fragment',
  ])('turns a link to %s into inert text', (href) => {
    const root = render(`before [label](${href}) after`)
    const a = root.querySelector('a')
    expect(a?.hasAttribute('href')).toBe(false)
    expect(a?.hasAttribute('data-external-link')).toBe(false)
    expect(root.textContent).toContain('label')
  })
})

describe('images', () => {
  it('become a link to their URL labelled with the alt text', () => {
    const root = render('![a cat](https://evil.example/cat.png)')
    expect(root.querySelector('img')).toBeNull()
    const a = root.querySelector('a')
    expect(a?.getAttribute('href')).toBe('https://evil.example/cat.png')
    expect(a?.getAttribute('title')).toBe('https://evil.example/cat.png')
    expect(a?.hasAttribute('data-image')).toBe(true)
    expect(a?.hasAttribute('data-external-link')).toBe(true)
    expect(a?.textContent).toBe('Image: a cat')
  })

  it('are shown by URL when they have no alt text', () => {
    expect(render('![](https://evil.example/p.png)').querySelector('a')?.textContent).toBe(
      'Image: https://evil.example/p.png',
    )
  })

  it('written reference-style become links too', () => {
    const a = render('![b][ref]\n\n[ref]: https://evil.example/y.png').querySelector('a')
    expect(a?.getAttribute('href')).toBe('https://evil.example/y.png')
    expect(a?.textContent).toBe('Image: b')
  })

  it('with a non-web URL become plain text', () => {
    const root = render('![pixel](data:image/png;base64,iVBORw0KGgo=)')
    expect(root.querySelector('a')).toBeNull()
    expect(root.textContent?.trim()).toBe('Image: pixel')
  })

  it('inside a link leave just the outer link', () => {
    const links = render('[![logo](https://evil.example/l.png)](https://example.com/)').querySelectorAll('a')
    expect(links).toHaveLength(1)
    expect(links[0].getAttribute('href')).toBe('https://example.com/')
    expect(links[0].textContent).toBe('Image: logo')
  })

  it('reaching the sanitizer as raw html are replaced the same way', () => {
    const root = parse(sanitizeHtml('<p><img src="https://evil.example/p.png" alt="raw" onerror="alert(1)"></p>'))
    expect(root.querySelector('img')).toBeNull()
    expect(root.querySelector('a')?.getAttribute('href')).toBe('https://evil.example/p.png')
    expect(root.textContent).toBe('Image: raw')
  })
})
