/**
 * A strict, tiny XML 1.0 reader for the JUnit tests, written from the spec (https://www.w3.org/TR/xml/) and sharing
 * no code with lambda/smoke/junit.ts. It rejects what a real parser rejects in a report: a raw `<` or `&` in text
 * or an attribute, an unknown entity, an unquoted or duplicate attribute, mismatched or unclosed tags, characters
 * XML cannot carry, content after the root. Enough for element/attribute/text documents; no DTDs, no namespaces.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own character data, entities decoded (child elements' text excluded). */
  readonly text: string;
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:.-]/;

export function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`XML: ${what} at offset ${at}: ${JSON.stringify(source.slice(at, at + 30))}`);
  };
  for (const char of source) {
    const code = char.codePointAt(0)!;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) throw new Error(`XML: character U+${code.toString(16).toUpperCase()} is not allowed`);
  }
  const skipSpace = () => {
    while (at < source.length && /[ \t\r\n]/.test(source[at]!)) at++;
  };
  const expect = (literal: string) => {
    if (!source.startsWith(literal, at)) fail(`expected ${JSON.stringify(literal)}`);
    at += literal.length;
  };
  const name = (): string => {
    const start = at;
    if (!NAME_START.test(source[at] ?? '')) fail('expected a name');
    at++;
    while (at < source.length && NAME_CHAR.test(source[at]!)) at++;
    return source.slice(start, at);
  };
  /** Character data up to `stop`, with the five predefined entities and character references decoded. */
  const chars = (stop: RegExp, inAttribute: boolean): string => {
    let out = '';
    while (at < source.length && !stop.test(source[at]!)) {
      const c = source[at]!;
      if (c === '<') fail('raw "<"');
      if (c === '&') {
        const end = source.indexOf(';', at);
        if (end < 0) fail('unterminated entity');
        const entity = source.slice(at + 1, end);
        const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
        if (entity in named) out += named[entity];
        else if (/^#x[0-9A-Fa-f]+$/.test(entity)) out += String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
        else if (/^#[0-9]+$/.test(entity)) out += String.fromCodePoint(Number(entity.slice(1)));
        else fail(`unknown entity &${entity};`);
        at = end + 1;
        continue;
      }
      // Attribute-value normalisation: literal white space becomes a space (https://www.w3.org/TR/xml/#AVNormalize).
      out += inAttribute && /[\t\r\n]/.test(c) ? ' ' : c;
      at++;
    }
    return out;
  };
  const element = (): XmlElement => {
    expect('<');
    const tag = name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const before = at;
      skipSpace();
      if (source.startsWith('/>', at)) {
        at += 2;
        return { name: tag, attributes, children: [], text: '' };
      }
      if (source[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('expected white space before an attribute');
      const attribute = name();
      if (Object.hasOwn(attributes, attribute)) fail(`duplicate attribute ${attribute}`);
      skipSpace();
      expect('=');
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") fail('unquoted attribute value');
      at++;
      attributes[attribute] = chars(quote === '"' ? /"/ : /'/, true);
      expect(quote!);
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (at >= source.length) fail(`unclosed <${tag}>`);
      if (source.startsWith('</', at)) {
        at += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        skipSpace();
        expect('>');
        return { name: tag, attributes, children, text };
      }
      if (source.startsWith('<', at)) children.push(element());
      else text += chars(/</, false);
    }
  };
  if (source.startsWith('<?xml', at)) {
    const end = source.indexOf('?>', at);
    if (end < 0) fail('unterminated XML declaration');
    if (!/^<\?xml version="1\.0"( encoding="UTF-8")?\?>$/.test(source.slice(at, end + 2))) fail('XML declaration');
    at = end + 2;
  }
  skipSpace();
  const root = element();
  skipSpace();
  if (at !== source.length) fail('content after the root element');
  return root;
}

/** Child elements named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}
