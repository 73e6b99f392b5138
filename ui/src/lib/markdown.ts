/**
 * Markdown rendering for untrusted text (model replies, imported conversations).
 *
 * Every path that shows model output goes through `renderMarkdown`, on every
 * update while a reply streams. Its result is safe to assign to `innerHTML`:
 * it cannot run script, cannot navigate to a non-web URL, and cannot make the
 * webview fetch anything (images become links the user may choose to open).
 *
 * Two layers, each sufficient for the script rule on its own:
 * 1. markdown-it turns markdown into HTML, escaping any raw HTML in the source.
 * 2. A private DOMPurify instance with an allow-list and two hooks enforces
 *    the link and image rules on whatever HTML layer 1 produced.
 */

import DOMPurify from 'dompurify'
import type { Config } from 'dompurify'
import MarkdownIt from 'markdown-it'
import type { RendererRule, Token } from 'markdown-it'
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import csharp from 'highlight.js/lib/languages/csharp'
import css from 'highlight.js/lib/languages/css'
import diff from 'highlight.js/lib/languages/diff'
import go from 'highlight.js/lib/languages/go'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import markdownLang from 'highlight.js/lib/languages/markdown'
import plaintext from 'highlight.js/lib/languages/plaintext'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import shell from 'highlight.js/lib/languages/shell'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'

// Only the core of highlight.js plus the languages people paste most often:
// the full build is ~1 MB and auto-detection is too slow to rerun per delta.
const LANGUAGES = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown: markdownLang,
  plaintext,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
}
for (const [name, grammar] of Object.entries(LANGUAGES)) {
  hljs.registerLanguage(name, grammar)
}

/** Schemes a link may keep. Everything else (javascript:, data:, file:, tauri:, ipc:, relative URLs) is dropped. */
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])

/** Schemes an image URL may have to be offered as a link; a mailto "image" is nonsense, so it becomes text. */
const IMAGE_LINK_PROTOCOLS = new Set(['http:', 'https:'])

/** What every surviving link gets: no opener, no referrer leak, no endorsement of model-chosen URLs. */
const EXTERNAL_LINK_REL = 'noopener noreferrer nofollow'

/** Marker the desktop shell hooks to route clicks through its confirmation and the OS browser. */
const EXTERNAL_LINK_ATTR = 'data-external-link'

/** Shown before an image's alt text, so a link that stands for an image is recognisable. */
// Plain text, not an emoji: a system without an emoji font would show an empty box.
const IMAGE_MARK = 'Image:'

/** A code fence's language as we accept it into attributes: short and from a tame alphabet. */
const FENCE_LANGUAGE = /^[A-Za-z0-9_+#.-]{1,32}$/

/**
 * Class names that may survive: highlight.js scopes (`hljs-keyword`, and its
 * sub-scopes such as `function_`) and `language-*`. Anything else could make
 * model output borrow the app's own styling (a fake dialog, say).
 */
const CLASS_TOKEN = /^(?:hljs|hljs-[A-Za-z0-9_-]+|[A-Za-z]+_+|language-[A-Za-z0-9_+#.-]{1,32})$/

/**
 * Returns the normalised URL if `raw` is an absolute URL with one of `protocols`, else null.
 *
 * The WHATWG URL parser is the same one the webview uses, so it sees through
 * what DOMPurify's regex might not: leading spaces and C0 control characters
 * are stripped, tabs and newlines inside the scheme are removed, the scheme is
 * lowercased. Entities were already decoded when the HTML was parsed. A
 * relative URL has no base here, so it throws and is rejected.
 */
function absoluteUrl(raw: string | null, protocols: ReadonlySet<string>): string | null {
  if (raw === null) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (!protocols.has(url.protocol)) return null
  if (url.protocol === 'mailto:') return checkedMailto(url)
  // Store the serialised form, so the attribute literally starts with the
  // scheme we checked and nothing downstream can parse it differently.
  return url.href
}

/**
 * Header fields a `mailto:` link keeps. Anything else a mail client may honour
 * (`attach`, `cc`, `bcc`, `to`...) could send a file or a copy somewhere the
 * user never saw; the shell's `open_external` applies the same rule.
 */
const MAILTO_FIELDS = new Set(['subject', 'body'])

/**
 * A `mailto:` URL rebuilt from its recipients and at most one subject and one
 * body, or null when the recipients hide a `?`, `&` or control character in
 * escapes (a mail client could read those as more header fields).
 */
function checkedMailto(url: URL): string | null {
  let recipients: string
  try {
    recipients = decodeURIComponent(url.pathname)
  } catch {
    return null
  }
  if (/[?&\u0000-\u001f\u007f]/.test(recipients)) return null
  const kept = new Map<string, string>()
  // Compared still percent-encoded: a field name spelled with escapes is not one
  // we keep, and values go back exactly as the URL parser normalised them.
  for (const pair of url.search.slice(1).split('&')) {
    const at = pair.indexOf('=')
    const name = (at === -1 ? pair : pair.slice(0, at)).toLowerCase()
    if (MAILTO_FIELDS.has(name) && !kept.has(name)) kept.set(name, at === -1 ? '' : pair.slice(at + 1))
  }
  const query = [...kept].map(([name, value]) => `${name}=${value}`).join('&')
  return `mailto:${url.pathname}${query ? `?${query}` : ''}`
}

/** Sets the attributes every vetted outbound link carries. */
function markExternal(link: Element, href: string): void {
  link.setAttribute('href', href)
  link.setAttribute('rel', EXTERNAL_LINK_REL)
  link.setAttribute(EXTERNAL_LINK_ATTR, '')
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for use in HTML content or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch])
}

/** The fence's first word if it is a plausible language name, else ''. */
function fenceLanguage(info: string | undefined): string {
  const word = (info ?? '').trim().split(/\s+/)[0] ?? ''
  return FENCE_LANGUAGE.test(word) ? word : ''
}

/**
 * How deep blocks (quotes, lists) and inline spans may nest. markdown-it stops
 * parsing past this depth, which keeps hostile input like 100,000 `>` from
 * recursing; a document that reaches it is shown as plain text instead, so
 * nothing past the limit is silently dropped.
 */
const MAX_NESTING = 100

/**
 * How many elements one render may make. Past it the document is shown as plain
 * text: parsing stays linear either way, but every element costs the sanitizer and
 * the DOM a walk, so 80 KB of `*a` (20,000 `<em>`) would otherwise hold the window
 * for seconds. A real reply, even a long table, stays far below it.
 */
export const MAX_ELEMENTS = 10_000

/** A GFM task-list marker at the start of a list item's first paragraph. */
const TASK_MARKER = /^\[([ xX])\](?:[ \t]+|$)/

// markdown-it rather than a regex-driven parser: its block and inline passes
// are linear in the input, including on pathological emphasis, brackets,
// backticks and nesting (docs/PERFORMANCE.md has the measurements).
const markdown = new MarkdownIt('default', {
  // Raw HTML is never trusted: with html off it is parsed as text and escaped,
  // which also keeps the markup DOMPurify sees to what the renderer produces.
  html: false,
  // Bare www. addresses, URLs and e-mail addresses become links, as in GFM.
  linkify: true,
  typographer: false,
  breaks: false,
  xhtmlOut: false,
  maxNesting: MAX_NESTING,
})

// Every URL is judged once, by the URL parser in the sanitizer hook below, so
// a link with a rejected scheme still renders as an inert <a> around its label
// rather than as markdown punctuation.
markdown.validateLink = () => true

// GFM's extended autolinks include bare `www.` addresses; linkify-it only finds
// them when fuzzy links are on.
markdown.linkify.set({ fuzzyLink: true })

// highlight.js escapes the code it wraps in spans; its output still goes
// through the sanitizer like everything else. `data-code` on the <pre> is
// where the chat view attaches its copy button.
// Code longer than MAX_HIGHLIGHTED_CODE is shown without colours: highlighting wraps
// every token in a span, which the element budget does not see.
export const MAX_HIGHLIGHTED_CODE = 64 * 1024

function renderCode(code: string, info: string): string {
  const language = fenceLanguage(info)
  const text = code.replace(/\n$/, '')
  const body = language && hljs.getLanguage(language) && text.length <= MAX_HIGHLIGHTED_CODE
    ? hljs.highlight(text, { language, ignoreIllegals: true }).value
    : escapeHtml(text)
  const langAttr = language ? ` data-lang="${escapeHtml(language)}"` : ''
  const codeClass = language ? `hljs language-${escapeHtml(language)}` : 'hljs'
  return `<pre data-code${langAttr}><code class="${codeClass}">${body}</code></pre>\n`
}

const rules = markdown.renderer.rules
rules.fence = (tokens, idx) => {
  const token = tokens[idx]
  return renderCode(token.content, markdown.utils.unescapeAll(token.info))
}
rules.code_block = (tokens, idx) => renderCode(tokens[idx].content, '')

// Strikethrough as <del>, the element the sanitizer and stylesheet expect.
rules.s_open = () => '<del>'
rules.s_close = () => '</del>'

// Column alignment as the align attribute: the sanitizer removes every style.
const renderCell: RendererRule = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]
  const align = /^text-align:(left|center|right)$/.exec(String(token.attrGet('style') ?? ''))?.[1]
  token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style')
  if (align !== undefined) token.attrSet('align', align)
  return self.renderToken(tokens, idx, options)
}
rules.th_open = renderCell
rules.td_open = renderCell

// Task-list checkboxes would be <input> elements, which the sanitizer
// forbids; show the state as text the stylesheet can dress up.
rules.task_marker = (tokens, idx) => {
  const checked = tokens[idx].meta?.checked === true
  return `<span data-task="${checked ? 'done' : 'open'}">[${checked ? 'x' : ' '}]</span> `
}
markdown.core.ruler.before('inline', 'task_marker', (state) => {
  const tokens = state.tokens
  for (let i = 2; i < tokens.length; i++) {
    const inline = tokens[i]
    if (inline.type !== 'inline' || tokens[i - 1].type !== 'paragraph_open') continue
    if (tokens[i - 2].type !== 'list_item_open') continue
    const match = TASK_MARKER.exec(inline.content)
    if (match === null) continue
    inline.content = inline.content.slice(match[0].length)
    const marker = new state.Token('task_marker', '', 0)
    marker.meta = { checked: match[1] !== ' ' }
    tokens.splice(i, 0, marker)
    i++
  }
})

/** Whether the block structure reached MAX_NESTING, past which markdown-it drops content. */
function reachesNestingLimit(tokens: Token[]): boolean {
  return tokens.some((token) => token.level >= MAX_NESTING - 1)
}

/** Whether rendering `tokens` would make more than MAX_ELEMENTS elements. */
function exceedsElementBudget(tokens: Token[]): boolean {
  let elements = 0
  const count = (list: Token[]): boolean => {
    for (const token of list) {
      // An opening tag or a tag that stands alone (image, code, line break, rule);
      // closing tags and text make no new element.
      if (token.nesting === 1 || (token.nesting === 0 && !TEXT_TOKENS.has(token.type))) {
        elements++
        if (elements > MAX_ELEMENTS) return true
      }
      if (token.children && count(token.children)) return true
    }
    return false
  }
  return count(tokens)
}

/** Tokens that render as text, not as an element. */
const TEXT_TOKENS: ReadonlySet<string> = new Set(['text', 'inline', 'softbreak', 'text_special'])

// A private instance: hooks on the default export would leak into any other
// code that imports DOMPurify. Without a window (plain Node) it reports
// isSupported = false, which sanitizeHtml turns into an error rather than
// unsanitized output.
const purifier = typeof window === 'undefined' ? DOMPurify() : DOMPurify(window)

/** `Node.ELEMENT_NODE`, spelled out so the module does not need the global `Node`. */
const ELEMENT_NODE = 1

/** Elements that must never appear, also listed so a later widening of ALLOWED_TAGS cannot let them in. */
const FORBIDDEN_TAGS = [
  'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input',
  'button', 'textarea', 'select', 'option', 'svg', 'math', 'base', 'meta', 'link', 'img', 'picture',
  'source', 'video', 'audio', 'track', 'image', 'template', 'noscript', 'portal', 'dialog',
]

/** Attributes that load, execute or restyle, also listed so a later widening cannot let them in. */
const FORBIDDEN_ATTRS = [
  'style', 'srcdoc', 'src', 'srcset', 'poster', 'background', 'action', 'formaction', 'xlink:href',
  'target', 'ping', 'id', 'name', 'lowsrc', 'dynsrc', 'longdesc', 'usemap', 'data',
]

/** Our own attributes whose values are not URLs (DOMPurify would otherwise test them against ALLOWED_URI_REGEXP). */
const PLAIN_ATTRS = ['align', 'start', 'data-code', 'data-lang', 'data-task', 'data-image']

const SANITIZE_CONFIG: Config = {
  // Exactly what markdown-it (with the rules above) and highlight.js emit.
  ALLOWED_TAGS: [
    'a', 'blockquote', 'br', 'code', 'del', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'li',
    'ol', 'p', 'pre', 'span', 'strong', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul',
  ],
  ALLOWED_ATTR: ['href', 'title', 'class', ...PLAIN_ATTRS],
  ADD_URI_SAFE_ATTR: PLAIN_ATTRS,
  // DOMPurify's own URI check; the hook below re-checks with the URL parser.
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  FORBID_TAGS: FORBIDDEN_TAGS,
  FORBID_ATTR: FORBIDDEN_ATTRS,
  KEEP_CONTENT: true,
  SAFE_FOR_XML: true,
  WHOLE_DOCUMENT: false,
  RETURN_DOM: false,
  RETURN_DOM_FRAGMENT: false,
}

// Images are never fetched. Runs before DOMPurify's tag check, so every <img>
// (markdown, reference-style, or raw HTML reaching the sanitizer) is swapped
// for a link to its URL, or plain text when the URL is not http(s) or the
// image already sits inside a link (nested <a> would be re-parsed differently).
// The parsing document is inert (DOMParser), so the <img> never loaded either.
purifier.addHook('uponSanitizeElement', (node, data) => {
  if (data.tagName !== 'img' || node.nodeType !== ELEMENT_NODE) return
  const img = node as Element
  const doc = img.ownerDocument
  const alt = (img.getAttribute('alt') ?? '').trim()
  const href = absoluteUrl(img.getAttribute('src'), IMAGE_LINK_PROTOCOLS)
  const label = `${IMAGE_MARK} ${alt || href || 'image'}`
  let replacement: Node
  if (href !== null && img.parentElement?.closest('a') == null) {
    const link = doc.createElement('a')
    link.textContent = label
    link.setAttribute('title', href)
    link.setAttribute('data-image', '')
    markExternal(link, href)
    replacement = link
  } else {
    replacement = doc.createTextNode(label)
  }
  // DOMPurify treats a node its hook detached as removed and walks on.
  img.replaceWith(replacement)
})

// Links and class names, after DOMPurify has removed what its allow-list rejects.
purifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeType !== ELEMENT_NODE) return
  const el = node as Element

  // rel and the external-link marker are ours to set, never the input's.
  el.removeAttribute('rel')
  el.removeAttribute(EXTERNAL_LINK_ATTR)
  if (el.hasAttribute('href')) {
    const href = el.localName === 'a' ? absoluteUrl(el.getAttribute('href'), LINK_PROTOCOLS) : null
    if (href === null) {
      // The <a> stays, without href: inert text that cannot be followed or focused.
      el.removeAttribute('href')
    } else {
      markExternal(el, href)
    }
  }

  const classes = el.getAttribute('class')
  if (classes !== null) {
    const kept = classes.split(/\s+/).filter((token) => CLASS_TOKEN.test(token))
    if (kept.length > 0) {
      el.setAttribute('class', kept.join(' '))
    } else {
      el.removeAttribute('class')
    }
  }
})

/**
 * Sanitizes HTML with the renderer's rules. Throws if there is no DOM to
 * sanitize with (DOMPurify would otherwise hand the input back untouched).
 */
export function sanitizeHtml(html: string): string {
  if (!purifier.isSupported) {
    throw new Error('no DOM available to sanitize HTML')
  }
  return purifier.sanitize(html, SANITIZE_CONFIG)
}

/**
 * Renders untrusted markdown to HTML that is safe to assign to `innerHTML`.
 *
 * Called on every delta of a streaming reply, so it accepts any prefix of a
 * document (unclosed fences, half a link) and never throws: if rendering
 * fails, the source is shown as escaped text.
 */
export function renderMarkdown(source: string): string {
  const text = typeof source === 'string' ? source : String(source ?? '')
  try {
    const tokens = markdown.parse(text, {})
    if (reachesNestingLimit(tokens) || exceedsElementBudget(tokens)) return plainText(text)
    return sanitizeHtml(markdown.renderer.render(tokens, markdown.options, {}))
  } catch {
    return plainText(text)
  }
}

/** `text` as escaped paragraphs with its line breaks, for input the parser will not take. */
function plainText(text: string): string {
  if (text === '') return ''
  const html = `<p>${escapeHtml(text).replace(/\n/g, '<br>\n')}</p>`
  try {
    return sanitizeHtml(html)
  } catch {
    return html
  }
}
